"""Versioned SQL migrations, applied in order, each once; a run applies all or nothing."""

from __future__ import annotations

from importlib import resources

import psycopg
from psycopg.rows import tuple_row

# Any constant works; it only has to be the same for every process migrating this database.
MIGRATION_LOCK_ID = 0x5048_4F54_4F53


def available_migrations() -> list[tuple[str, str]]:
    folder = resources.files("photosync") / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


def apply_migrations(conn: psycopg.Connection) -> list[str]:
    """Apply what is missing; returns the names applied now. Safe to run concurrently."""
    applied_now: list[str] = []
    with conn.transaction():
        # Serialises concurrent migrators (a deploy step racing a starting server).
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_ID,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        names = conn.cursor(row_factory=tuple_row).execute("SELECT name FROM schema_migrations")
        done = {name for (name,) in names}
        for name, sql in available_migrations():
            if name in done:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
            applied_now.append(name)
    return applied_now
