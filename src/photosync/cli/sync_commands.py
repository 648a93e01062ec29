"""`photosync sync`: bring the local library index up to date through the server's change feed."""

from __future__ import annotations

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from photosync.cli.common import library_index, session, stderr, stdout
from photosync.client.index import SyncSummary
from photosync.client.units import human_size


def sync() -> None:
    """Update the local index of your library (used by `ls` and `backup`) with what changed on the server.

    The first run copies the whole library's listing; later runs fetch only the changes since.
    """
    with session() as client, library_index(client) as index:
        first = not index.exists
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=stderr(), transient=True) as progress:
            task = progress.add_task("Syncing the library index…")

            def on_page(summary: SyncSummary) -> None:
                progress.update(task, description=f"Syncing the library index… {summary.changes} change(s)")

            summary = index.sync(client, on_page=on_page)
        counts = index.counts()
    out = stdout()
    if summary.reset:
        out.print("The server could no longer serve the index's position: it was rebuilt from the start.")
    verb = "Built" if first or summary.reset else "Updated"
    out.print(
        f"{verb} the local index: {summary.photos_changed} photo(s) added or changed, "
        f"{summary.photos_deleted} deleted, {summary.albums_changed} album change(s), "
        f"{summary.memberships_changed} album membership change(s).",
        markup=False,
    )
    out.print(
        f"Index: {counts.photos} photo(s) ({human_size(counts.size)}), {counts.trashed} in the trash, "
        f"{counts.albums} album(s).",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(sync)
