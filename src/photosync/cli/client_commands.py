"""The client side of the `photosync` command: sign in, back up, browse, download, albums, free up space.
The trash (`rm`, `trash ...`) and the local index (`sync`) have modules of their own.

Expected failures (server down, not signed in, quota, not found...) print one line saying what to do
next and exit non-zero; only a bug shows a stack trace.
"""

from __future__ import annotations

import webbrowser
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from photosync.cli.common import (
    ProgressObserver,
    ago,
    print_photos,
    explained_errors,
    fail,
    library_index,
    session,
    stderr,
    stdout,
    transfer_progress,
)
from photosync.cli import sharing_commands, sync_commands, trash_commands
from photosync.client.api import PhotoSyncClient, hash_file, safe_filename
from photosync.client.auth import (
    Credentials,
    OAuthEndpoints,
    SignInError,
    TokenStore,
    browser_login,
    config_dir,
    discover_endpoints,
)
from photosync.client.backup import backup as run_backup
from photosync.client.errors import PhotoSyncError, ServerUnreachable, Unauthorized
from photosync.client.freeup import free_up, plan_free_up
from photosync.client.library import HASH_CACHE_FILE, HashCache
from photosync.client.multipart import MULTIPART_STATE_FILE, MultipartState
from photosync.client.models import Photo
from photosync.client.units import human_size

LOCAL_CLIENT_ID = "photosync-local"


def _hash_cache() -> HashCache:
    return HashCache(config_dir() / HASH_CACHE_FILE)


# --- sign-in -------------------------------------------------------------------------------------


def login(
    server: Annotated[str, typer.Option("--server", envvar="PHOTOSYNC_SERVER", help="Base URL of the PhotoSync API.")],
    email: Annotated[Optional[str], typer.Option(help="Local dev sign-in with this email (local servers only).")] = None,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Only print the sign-in URL.")] = False,
    authorize_url: Annotated[Optional[str], typer.Option(help="Authorization endpoint (Cognito: https://DOMAIN/oauth2/authorize).")] = None,
    token_url: Annotated[Optional[str], typer.Option(help="Token endpoint (Cognito: https://DOMAIN/oauth2/token).")] = None,
    client_id: Annotated[str, typer.Option(help="OAuth client id (Cognito: the app client id).")] = LOCAL_CLIENT_ID,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the browser sign-in.")] = 300.0,
    callback_port: Annotated[
        int,
        typer.Option(min=0, max=65535, help="Port of the sign-in callback; Cognito needs the registered one "
                     "(http://localhost:PORT/callback). 0 picks a free port (local servers)."),
    ] = 0,
) -> None:
    """Sign in to a PhotoSync server.

    With --email: the local server's dev sign-in. Without: the browser sign-in (OAuth 2 authorization
    code + PKCE) with endpoints discovered from SERVER/auth/.well-known/openid-configuration, or, for
    a Cognito deployment, given by --authorize-url, --token-url and --client-id.
    """
    server = server.rstrip("/")
    store = TokenStore()
    endpoints = None  # the dev sign-in has no token endpoint (and no refresh token)
    with PhotoSyncClient(server) as client, explained_errors(server):
        if email is not None:
            token = client.dev_login(email)
        else:
            if (authorize_url is None) != (token_url is None):
                raise fail("Give both --authorize-url and --token-url, or neither (to discover them from the server)")
            if authorize_url and token_url:
                endpoints = OAuthEndpoints(authorize_url=authorize_url, token_url=token_url, client_id=client_id)
            else:
                endpoints = discover_endpoints(server, client_id)
            err = stderr()

            def show_url(url: str) -> None:
                err.print("Open this URL in a browser to sign in:", markup=False)
                err.print(url, markup=False, soft_wrap=True)
                err.file.flush()

            try:
                token = browser_login(
                    endpoints, show_url=show_url, open_browser=None if no_browser else webbrowser.open,
                    timeout=timeout, callback_port=callback_port,
                )
            except SignInError as error:
                raise fail(f"Sign-in failed: {error}") from None
        client.access_token = token.access_token
        me = client.me()
    store.save(Credentials.from_token(server, token, email=me.email, endpoints=endpoints))
    stdout().print(f"Signed in to {server} as {me.email}.", markup=False)


def logout() -> None:
    """Forget the stored sign-in."""
    if TokenStore().clear():
        stdout().print("Signed out.")
    else:
        stdout().print("You were not signed in.")


def me() -> None:
    """Show the signed-in account, its quota and usage."""
    with session() as client:
        account = client.me()
    percent = 100 * account.storage_used / account.storage_quota if account.storage_quota else 100.0
    out = stdout()
    out.print(f"Email:    {account.email}", markup=False)
    out.print(f"User id:  {account.id}", markup=False)
    out.print(f"Used:     {human_size(account.storage_used)} of {human_size(account.storage_quota)} ({percent:.1f}%)", markup=False)
    if account.storage_trash:
        out.print(f"Trash:    {human_size(account.storage_trash)} of that is in the trash (`photosync trash empty` frees it)", markup=False)
    if account.storage_pending:
        out.print(f"Pending:  {human_size(account.storage_pending)} being uploaded", markup=False)
    out.print(f"Free:     {human_size(account.storage_free)}", markup=False)


# --- backup --------------------------------------------------------------------------------------


def backup(
    folders: Annotated[list[Path], typer.Argument(exists=True, file_okay=True, dir_okay=True, readable=True, help="Folders to back up, recursively.")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=32, help="Uploads in parallel.")] = 4,
    include_deleted: Annotated[bool, typer.Option(
        "--include-deleted",
        help="Also back up photos you deleted on the server: restore those in its trash, upload again those deleted for good.",
    )] = False,
) -> None:
    """Back up the photos and videos in FOLDERS; what the server already has is not sent again.

    Photos you moved to the trash or deleted on the server are skipped unless --include-deleted.
    With a local index (`photosync sync`) the server is only asked about photos it does not know.
    """
    err = stderr()
    with session() as client, _hash_cache() as cache, library_index(client) as index, \
            MultipartState(config_dir() / MULTIPART_STATE_FILE) as multipart_state:
        if index.exists:
            index.ensure_current(client)
        client.multipart_state = multipart_state  # big files resume where an interrupted run stopped
        with transfer_progress(err) as progress:
            report = run_backup(client, folders, cache, jobs=jobs, observer=ProgressObserver(progress),
                                include_deleted=include_deleted, index=index if index.exists else None)
    out = stdout()
    out.print(f"Uploaded:            {len(report.uploaded)} ({human_size(report.uploaded_bytes)})")
    out.print(f"Already backed up:   {len(report.already_backed_up)}")
    if report.same_as_another_file:
        out.print(f"Same as another file: {len(report.same_as_another_file)} (uploaded once)")
    if report.restored:
        out.print(f"Restored from trash: {len(report.restored)}")
    if report.in_trash:
        out.print(f"In the trash (skipped): {len(report.in_trash)}; `photosync trash restore` or --include-deleted brings them back")
    if report.deleted_on_server:
        out.print(f"Deleted on the server (skipped): {len(report.deleted_on_server)}; --include-deleted uploads them again")
    out.print(f"Skipped (not media): {len(report.skipped)}")
    out.print(f"Failed:              {len(report.failed)}")
    if report.failed:
        for path, reason in report.failed:
            err.print(f"failed: {path}: {reason}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


# --- browsing and downloading --------------------------------------------------------------------


def ls(
    album: Annotated[Optional[str], typer.Option(help="Only the photos of this album id.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many photos, newest first.")] = 100,
) -> None:
    """List photos, newest first.

    After `photosync sync`, from the local index (brought current first when it is older than
    PHOTOSYNC_INDEX_MAX_AGE_SECONDS, default 600); otherwise from the server.
    """
    with session() as client, library_index(client) as index:
        source = None
        if index.exists and (album is None or _own_album(index, album)):
            try:
                index.ensure_current(client)
            except ServerUnreachable as error:
                stderr().print(f"{error}; showing the local index as it was.", markup=False, soft_wrap=True)
            photos = index.photos(limit=limit, album_id=album)
            source = f"from the local index, synced {ago(index.age() or 0)}"
        else:
            photos = list(islice(client.iter_photos(album_id=album, page_size=min(limit, 500)), limit))
    print_photos(photos)
    stdout().print(f"{len(photos)} photo(s)" + (f" ({source})" if source else ""))


def _own_album(index, album_id: str) -> bool:
    """The index holds the memberships of the caller's own albums; a shared one's photos are the owner's."""
    known = index.album(album_id)
    return known is not None and known.role == "owner"


def _place(directory: Path, photo: Photo, reserved: set[Path]) -> tuple[Path, bool]:
    """Where to write `photo` in `directory`: (path, already_there).

    Keeps the photo's name when free; a file of that name with the same bytes means it is already
    downloaded; a different file keeps its name and the photo gets "name (1).ext", "name (2).ext"...
    """
    name = safe_filename(photo.filename, fallback=photo.id)
    stem, suffix = Path(name).stem, Path(name).suffix
    for number in range(10_000):
        candidate = directory / (name if number == 0 else f"{stem} ({number}){suffix}")
        if candidate in reserved:
            continue
        if not candidate.exists():
            reserved.add(candidate)
            return candidate, False
        if candidate.is_file() and candidate.stat().st_size == photo.size and hash_file(candidate) == photo.sha256:
            reserved.add(candidate)
            return candidate, True
    raise PhotoSyncError(f"Too many files named like {name} in {directory}")


def download(
    photo_id: Annotated[Optional[str], typer.Argument(help="The photo to download.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File or folder to write the photo to.")] = None,
    all_to: Annotated[Optional[Path], typer.Option("--all", help="Download every photo into this folder.", file_okay=False)] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=32, help="Downloads in parallel (with --all).")] = 4,
) -> None:
    """Download a photo's original bytes (checked against its SHA-256), or all photos with --all DIR."""
    if (photo_id is None) == (all_to is None):
        raise fail("Give either a photo ID or --all DIR")
    out = stdout()
    with session() as client:
        if all_to is not None:
            all_to.mkdir(parents=True, exist_ok=True)
            _download_all(client, all_to, jobs)
            return
        assert photo_id is not None  # checked above: exactly one of the two is given
        photo = client.get_photo(photo_id)
        if output is None or output.is_dir():
            target, already_there = _place(output or Path.cwd(), photo, set())
        else:
            target, already_there = output, False
        if already_there:
            out.print(f"{target} already holds this photo", markup=False)
        else:
            client.download(photo, target)
            out.print(f"Downloaded {target} ({human_size(photo.size)})", markup=False)


def _download_all(client: PhotoSyncClient, directory: Path, jobs: int) -> None:
    photos = list(client.iter_photos())
    reserved: set[Path] = set()
    planned = [(photo, *_place(directory, photo, reserved)) for photo in photos]
    to_fetch = [(photo, target) for photo, target, already_there in planned if not already_there]
    failures: list[tuple[Photo, str]] = []
    err = stderr()
    with transfer_progress(err) as progress:
        observer = ProgressObserver(progress)
        observer.start_phase("Downloading", len(to_fetch), sum(photo.size for photo, _ in to_fetch))

        def fetch(photo: Photo, target: Path) -> None:
            try:
                client.download(photo, target, on_progress=lambda n: observer.advance(size=n))
            except (Unauthorized, ServerUnreachable):
                raise
            except PhotoSyncError as error:
                failures.append((photo, str(error)))
            finally:
                observer.advance(files=1)

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for future in [pool.submit(fetch, photo, target) for photo, target in to_fetch]:
                future.result()
    out = stdout()
    out.print(f"Downloaded:      {len(to_fetch) - len(failures)}")
    out.print(f"Already present: {len(planned) - len(to_fetch)}")
    if failures:
        for photo, reason in failures:
            err.print(f"failed: {photo.id} ({photo.filename}): {reason}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


# --- albums --------------------------------------------------------------------------------------

albums_app = typer.Typer(
    help="Create, rename, delete albums, put photos in them, and share them with people or by link.",
    no_args_is_help=True,
)


@albums_app.command("list")
def albums_list() -> None:
    """List your albums and the albums shared with you (with their owner and your role)."""
    with session() as client:
        albums = client.list_albums()
    # Own albums first, then those shared with the caller, each group in the server's order.
    albums = sorted(albums, key=lambda album: album.role != "owner")
    table = Table(box=None, pad_edge=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("Photos", justify="right")
    table.add_column("Created", no_wrap=True)
    table.add_column("Owner", overflow="fold")
    table.add_column("Role", no_wrap=True)
    table.add_column("Name", overflow="fold", min_width=20)
    for album in albums:
        owner = "you" if album.role == "owner" else (album.owner.email if album.owner else "?")
        table.add_row(album.id, str(album.photo_count), album.created_at.strftime("%Y-%m-%d"), owner, album.role, album.name)
    out = stdout()
    out.print(table)
    shared = sum(1 for album in albums if album.role != "owner")
    out.print(f"{len(albums)} album(s)" + (f", {shared} shared with you" if shared else ""))


@albums_app.command("create")
def albums_create(name: str) -> None:
    """Create an album; prints its id."""
    with session() as client:
        album = client.create_album(name)
    stdout().print(f"Created album {album.id} {album.name!r}", markup=False)


@albums_app.command("rename")
def albums_rename(album_id: str, name: str) -> None:
    """Rename an album."""
    with session() as client:
        album = client.rename_album(album_id, name)
    stdout().print(f"Renamed album {album.id} to {album.name!r}", markup=False)


@albums_app.command("delete")
def albums_delete(album_id: str) -> None:
    """Delete an album (its photos stay)."""
    with session() as client:
        client.delete_album(album_id)
    stdout().print(f"Deleted album {album_id}", markup=False)


@albums_app.command("add")
def albums_add(album_id: str, photo_ids: list[str]) -> None:
    """Add photos to an album (adding one twice does nothing)."""
    with session() as client:
        added = client.add_to_album(album_id, photo_ids)
    stdout().print(f"Added {added} photo(s) to album {album_id}", markup=False)


@albums_app.command("remove")
def albums_remove(album_id: str, photo_id: str) -> None:
    """Take a photo out of an album (the photo stays)."""
    with session() as client:
        client.remove_from_album(album_id, photo_id)
    stdout().print(f"Removed {photo_id} from album {album_id}", markup=False)


# --- free up space -------------------------------------------------------------------------------


def free_up_space(
    folders: Annotated[list[Path], typer.Argument(exists=True, file_okay=False, dir_okay=True, help="Folders to free up.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be removed.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    older_than: Annotated[Optional[float], typer.Option("--older-than", min=0, help="Only files last modified more than DAYS ago.", metavar="DAYS")] = None,
    no_trash: Annotated[bool, typer.Option("--no-trash", help="Delete files instead of moving them to the trash.")] = False,
) -> None:
    """Remove local photos and videos whose exact bytes are backed up on the server.

    Each file is hashed again and confirmed with the server right before it is removed; anything
    that cannot be confirmed is kept. A photo in the server's trash is not a backup: its copy stays.
    """
    out = stdout()
    with session() as client, _hash_cache() as cache:
        plan = plan_free_up(client, folders, cache, older_than_days=older_than)
        count, size = len(plan.candidates), plan.total_size
        if plan.in_trash:
            out.print(f"{len(plan.in_trash)} file(s) are only in the server's trash: they are kept "
                      "(restore them with `photosync trash restore` to count as backed up).")
        if dry_run:
            for candidate in plan.candidates:
                out.print(f"would remove {candidate.path} ({human_size(candidate.size)})", markup=False, soft_wrap=True)
            out.print(f"{count} file(s) backed up, {human_size(size)} would be freed. Nothing was removed (dry run).")
            return
        if count == 0:
            out.print("Nothing to free: no file here is backed up on the server.")
            return
        if not yes and not typer.confirm(f"Remove {count} backed-up file(s), freeing {human_size(size)}?"):
            out.print("Nothing was removed.")
            raise typer.Exit(1)
        report = free_up(client, plan.candidates, use_trash=not no_trash)
    for removal in report.removed:
        out.print(f"{removal.how}: {removal.path}", markup=False, soft_wrap=True)
    for path, reason in report.kept:
        out.print(f"kept {path}: {reason}", markup=False, soft_wrap=True)
    out.print(f"Removed {len(report.removed)} file(s), freed {human_size(report.freed_size)}; kept {len(report.kept)}.")


def register(app: typer.Typer) -> None:
    """Add the client commands to the `photosync` application."""
    app.command()(login)
    app.command()(logout)
    app.command()(me)
    app.command()(backup)
    app.command()(ls)
    app.command()(download)
    sharing_commands.register(albums_app)
    app.add_typer(albums_app, name="albums")
    app.command("free-up-space")(free_up_space)
    trash_commands.register(app)
    sync_commands.register(app)
