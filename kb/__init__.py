"""SamenWeten core: configuration, models, store, retrieval, answering and the command line."""

__version__ = "0.1.0"
