from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from photosync.config import settings
from photosync.handlers import environment


@pytest.fixture
def lambda_env(database_url: str, store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: psycopg.Connection) -> Iterator[None]:
    """Configure the Lambda handlers for this test as the local runtime would (same data dir as `store`)."""
    monkeypatch.setenv("PHOTOSYNC_MODE", "local")
    monkeypatch.setenv("PHOTOSYNC_STORE", "local")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PHOTOSYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PHOTOSYNC_PUBLIC_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    settings.cache_clear()
    environment.object_store.cache_clear()
    environment.renditions_queue.cache_clear()
    yield
    settings.cache_clear()
    environment.object_store.cache_clear()
    environment.renditions_queue.cache_clear()
