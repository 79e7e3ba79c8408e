"""Fixtures: a migrated SQLite database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kb.db import dispose_engines, init_db


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'samenweten.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    yield init_db(db_url)
    dispose_engines()
