"""`photosync rm` (to the trash, or for good with --permanent) and `photosync trash ls | restore | empty`.

Deleting is two steps on the server: a deleted photo waits in the trash (still counted in the quota)
until the retention period ends or the trash is emptied. Every step is safe to repeat: a photo
already in the trash, or already deleted for good by an attempt whose answer was lost, is success.
"""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Optional

import typer

from photosync.cli.common import fail, print_photos, session, stderr, stdout
from photosync.client.errors import NotFound, PhotoSyncError, ServerUnreachable, Unauthorized
from photosync.client.units import human_size

trash_app = typer.Typer(help="See, restore and empty the trash on the server.", no_args_is_help=True)


def rm(
    photo_ids: Annotated[list[str], typer.Argument(help="Photos to delete.")],
    permanent: Annotated[bool, typer.Option(
        "--permanent", help="Delete for good now (bytes removed, quota freed) instead of moving to the trash.",
    )] = False,
) -> None:
    """Move photos to the trash on the server (they leave the timeline and albums; restorable)."""
    failed = 0
    out, err = stdout(), stderr()
    with session() as client:
        for photo_id in photo_ids:
            try:
                client.delete_photo(photo_id)
                if permanent:
                    client.delete_from_trash(photo_id)
            except (Unauthorized, ServerUnreachable):
                raise
            except NotFound:
                failed += 1
                err.print(f"{photo_id}: no such photo in your library or trash; nothing was deleted", markup=False)
            except PhotoSyncError as error:
                failed += 1
                err.print(f"{photo_id}: {error}", markup=False)
            else:
                if permanent:
                    out.print(f"Deleted {photo_id} for good", markup=False)
                else:
                    out.print(f"Moved {photo_id} to the trash", markup=False)
    done = len(photo_ids) - failed
    if done and not permanent:
        out.print(f"{done} photo(s) in the trash: `photosync trash restore ID` brings one back, "
                  "`photosync trash empty` deletes them for good.", markup=False)
    if failed:
        raise typer.Exit(1)


@trash_app.command("ls")
def trash_ls(limit: Annotated[int, typer.Option(min=1, help="At most this many, most recently deleted first.")] = 100) -> None:
    """List the photos in the trash, with how long each has before it is deleted for good."""
    with session() as client:
        photos = list(islice(client.iter_trash(page_size=min(limit, 500)), limit))
        account = client.me()
    print_photos(photos)
    stdout().print(f"{len(photos)} photo(s) shown; the trash holds {human_size(account.storage_trash)}.", markup=False)


@trash_app.command("restore")
def trash_restore(
    photo_ids: Annotated[Optional[list[str]], typer.Argument(help="Photos to bring back.")] = None,
    restore_all: Annotated[bool, typer.Option("--all", help="Restore everything in the trash.")] = False,
) -> None:
    """Bring photos back from the trash to the timeline and to the albums they were in."""
    if bool(photo_ids) == restore_all:
        raise fail("Give photo IDs or --all")
    with session() as client:
        ids = [photo.id for photo in client.iter_trash()] if restore_all else list(photo_ids or [])
        if not ids:
            stdout().print("The trash is empty: nothing to restore.")
            return
        try:
            restored = client.restore(ids)
        except NotFound as error:
            raise fail(f"Nothing was restored: {error}. Check the IDs with `photosync trash ls`.") from None
    stdout().print(f"Restored {restored} photo(s).")


@trash_app.command("empty")
def trash_empty(yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False) -> None:
    """Delete everything in the trash for good, freeing its storage. This cannot be undone."""
    out = stdout()
    with session() as client:
        account = client.me()
        count = sum(1 for _ in client.iter_trash())
        if count == 0:
            out.print("The trash is already empty.")
            return
        if not yes and not typer.confirm(
            f"Delete {count} photo(s) in the trash ({human_size(account.storage_trash)}) for good? This cannot be undone."
        ):
            out.print("Nothing was deleted.")
            raise typer.Exit(1)
        emptied = client.empty_trash()
    out.print(f"Deleted {emptied.deleted} photo(s) for good, freed {human_size(emptied.freed_bytes)}.")


def register(app: typer.Typer) -> None:
    app.command()(rm)
    app.add_typer(trash_app, name="trash")
