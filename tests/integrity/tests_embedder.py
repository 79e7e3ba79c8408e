"""A module-level hashing embedder for module-scoped fixtures (the ``hashing_embedder`` fixture is per test).

``tests/conftest.py`` is loaded by its path: the name ``conftest`` may belong to another folder's conftest
when the whole suite runs.
"""

import importlib.util
from pathlib import Path

from kb.embeddings import Embedder

_spec = importlib.util.spec_from_file_location(
    "_samenweten_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_root_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root_conftest)

embedder = Embedder(_root_conftest.HashingModel(), name="hashing-test")
