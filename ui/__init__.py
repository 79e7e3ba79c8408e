"""The Streamlit pages of SamenWeten. Pages stay thin: the logic lives in ``kb/``."""
