"""A module-level hashing embedder for module-scoped fixtures (the ``hashing_embedder`` fixture is per test)."""

from conftest import HashingModel

from kb.embeddings import Embedder

embedder = Embedder(HashingModel(), name="hashing-test")
