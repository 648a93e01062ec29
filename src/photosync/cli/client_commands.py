"""The client side of the `photosync` command: sign in, back up, browse, download, albums, free up space.

Expected failures (server down, not signed in, quota, not found...) print one line saying what to do
next and exit non-zero; only a bug shows a stack trace.
"""

from __future__ import annotations

import contextlib
import webbrowser
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from threading import Lock
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from photosync.client.api import PhotoSyncClient, hash_file, safe_filename
from photosync.client.auth import (
    Credentials,
    OAuthEndpoints,
    RefreshingSession,
    SignInError,
    TokenStore,
    browser_login,
    config_dir,
    discover_endpoints,
)
from photosync.client.backup import backup as run_backup
from photosync.client.errors import PhotoSyncError, QuotaExceeded, ServerUnreachable, Unauthorized
from photosync.client.freeup import free_up, plan_free_up
from photosync.client.library import HASH_CACHE_FILE, HashCache
from photosync.client.models import Photo
from photosync.client.units import human_size

LOCAL_CLIENT_ID = "photosync-local"


# Piped output is read by scripts: lay out tables wide rather than folding ids and names.
PIPED_WIDTH = 200


def _stdout() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = PIPED_WIDTH
    return console


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _fail(message: str) -> typer.Exit:
    _stderr().print(message, markup=False, soft_wrap=True)
    return typer.Exit(1)


def _login_hint(server: str | None) -> str:
    return f"photosync login --server {server}" if server else "photosync login --server URL"


@contextlib.contextmanager
def _explained_errors(server: str | None) -> Iterator[None]:
    """Turn the SDK's expected failures into one line on stderr and exit code 1."""
    try:
        yield
    except Unauthorized:
        raise _fail(f"Your sign-in has expired: run `{_login_hint(server)}`") from None
    except ServerUnreachable as error:
        raise _fail(str(error)) from None
    except QuotaExceeded as error:
        raise _fail(f"{error}. Free space with `photosync rm` or ask for a larger quota.") from None
    except PhotoSyncError as error:
        raise _fail(f"Error: {error}") from None


@contextlib.contextmanager
def _session() -> Iterator[PhotoSyncClient]:
    """A client for the stored sign-in; fails with what to do if there is none or it has expired."""
    store = TokenStore()
    with _explained_errors(None):
        credentials = store.load()
    if credentials is None:
        raise _fail(f"You are not signed in: run `{_login_hint(None)}`")
    if credentials.is_expired() and not credentials.can_refresh:
        raise _fail(f"Your sign-in has expired: run `{_login_hint(credentials.server)}`")
    # Renews the access token with the stored refresh token as it runs out (a long backup outlasts it).
    session = RefreshingSession(credentials, store=store)
    with PhotoSyncClient(credentials.server, session=session) as client, _explained_errors(credentials.server):
        yield client


def _hash_cache() -> HashCache:
    return HashCache(config_dir() / HASH_CACHE_FILE)


def _transfer_progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files_done]}/{task.fields[files_total]} files"),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


class _ProgressObserver:
    """Draws the backup engine's phases as Rich tasks (files, bytes, speed, ETA); thread-safe."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._files_done = 0
        self._lock = Lock()

    def start_phase(self, name: str, files: int, size: int) -> None:
        with self._lock:
            if self._task is not None:
                self._progress.remove_task(self._task)
            self._files_done = 0
            self._task = self._progress.add_task(name, total=size, files_done=0, files_total=files)

    def advance(self, *, files: int = 0, size: int = 0) -> None:
        with self._lock:
            if self._task is None:
                return
            self._files_done += files
            self._progress.update(self._task, advance=size, files_done=self._files_done)


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
    with PhotoSyncClient(server) as client, _explained_errors(server):
        if email is not None:
            token = client.dev_login(email)
        else:
            if (authorize_url is None) != (token_url is None):
                raise _fail("Give both --authorize-url and --token-url, or neither (to discover them from the server)")
            if authorize_url and token_url:
                endpoints = OAuthEndpoints(authorize_url=authorize_url, token_url=token_url, client_id=client_id)
            else:
                endpoints = discover_endpoints(server, client_id)
            err = _stderr()

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
                raise _fail(f"Sign-in failed: {error}") from None
        client.access_token = token.access_token
        me = client.me()
    store.save(Credentials.from_token(server, token, email=me.email, endpoints=endpoints))
    _stdout().print(f"Signed in to {server} as {me.email}.", markup=False)


def logout() -> None:
    """Forget the stored sign-in."""
    if TokenStore().clear():
        _stdout().print("Signed out.")
    else:
        _stdout().print("You were not signed in.")


def me() -> None:
    """Show the signed-in account, its quota and usage."""
    with _session() as client:
        account = client.me()
    percent = 100 * account.storage_used / account.storage_quota if account.storage_quota else 100.0
    out = _stdout()
    out.print(f"Email:    {account.email}", markup=False)
    out.print(f"User id:  {account.id}", markup=False)
    out.print(f"Used:     {human_size(account.storage_used)} of {human_size(account.storage_quota)} ({percent:.1f}%)", markup=False)
    if account.storage_pending:
        out.print(f"Pending:  {human_size(account.storage_pending)} being uploaded", markup=False)
    out.print(f"Free:     {human_size(account.storage_free)}", markup=False)


# --- backup --------------------------------------------------------------------------------------


def backup(
    folders: Annotated[list[Path], typer.Argument(exists=True, file_okay=True, dir_okay=True, readable=True, help="Folders to back up, recursively.")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=32, help="Uploads in parallel.")] = 4,
) -> None:
    """Back up the photos and videos in FOLDERS; what the server already has is not sent again."""
    err = _stderr()
    with _session() as client, _hash_cache() as cache, _transfer_progress(err) as progress:
        report = run_backup(client, folders, cache, jobs=jobs, observer=_ProgressObserver(progress))
    out = _stdout()
    out.print(f"Uploaded:            {len(report.uploaded)} ({human_size(report.uploaded_bytes)})")
    out.print(f"Already backed up:   {len(report.already_backed_up)}")
    if report.same_as_another_file:
        out.print(f"Same as another file: {len(report.same_as_another_file)} (uploaded once)")
    out.print(f"Skipped (not media): {len(report.skipped)}")
    out.print(f"Failed:              {len(report.failed)}")
    if report.failed:
        for path, reason in report.failed:
            err.print(f"failed: {path}: {reason}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


# --- browsing and downloading --------------------------------------------------------------------


def _when(photo: Photo) -> str:
    moment = photo.taken_at or photo.uploaded_at
    return moment.strftime("%Y-%m-%d %H:%M")


def ls(
    album: Annotated[Optional[str], typer.Option(help="Only the photos of this album id.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many photos, newest first.")] = 100,
) -> None:
    """List photos, newest first."""
    with _session() as client:
        photos = list(islice(client.iter_photos(album_id=album, page_size=min(limit, 500)), limit))
    table = Table(box=None, pad_edge=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("Taken", no_wrap=True)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Filename", overflow="fold", min_width=20)
    for photo in photos:
        table.add_row(photo.id, _when(photo), human_size(photo.size), photo.filename)
    out = _stdout()
    out.print(table)
    out.print(f"{len(photos)} photo(s)")


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
        raise _fail("Give either a photo ID or --all DIR")
    out = _stdout()
    with _session() as client:
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
    err = _stderr()
    with _transfer_progress(err) as progress:
        observer = _ProgressObserver(progress)
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
    out = _stdout()
    out.print(f"Downloaded:      {len(to_fetch) - len(failures)}")
    out.print(f"Already present: {len(planned) - len(to_fetch)}")
    if failures:
        for photo, reason in failures:
            err.print(f"failed: {photo.id} ({photo.filename}): {reason}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


def rm(photo_ids: Annotated[list[str], typer.Argument(help="Photos to delete from the server.")]) -> None:
    """Delete photos from the server (and from every album)."""
    failed = 0
    with _session() as client:
        for photo_id in photo_ids:
            try:
                client.delete_photo(photo_id)
            except PhotoSyncError as error:
                if isinstance(error, (Unauthorized, ServerUnreachable)):
                    raise
                failed += 1
                _stderr().print(f"{photo_id}: {error}", markup=False)
            else:
                _stdout().print(f"Deleted {photo_id}", markup=False)
    if failed:
        raise typer.Exit(1)


# --- albums --------------------------------------------------------------------------------------

albums_app = typer.Typer(help="Create, rename, delete albums and put photos in them.", no_args_is_help=True)


@albums_app.command("list")
def albums_list() -> None:
    """List albums."""
    with _session() as client:
        albums = client.list_albums()
    table = Table(box=None, pad_edge=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("Photos", justify="right")
    table.add_column("Created", no_wrap=True)
    table.add_column("Name", overflow="fold", min_width=20)
    for album in albums:
        table.add_row(album.id, str(album.photo_count), album.created_at.strftime("%Y-%m-%d"), album.name)
    out = _stdout()
    out.print(table)
    out.print(f"{len(albums)} album(s)")


@albums_app.command("create")
def albums_create(name: str) -> None:
    """Create an album; prints its id."""
    with _session() as client:
        album = client.create_album(name)
    _stdout().print(f"Created album {album.id} {album.name!r}", markup=False)


@albums_app.command("rename")
def albums_rename(album_id: str, name: str) -> None:
    """Rename an album."""
    with _session() as client:
        album = client.rename_album(album_id, name)
    _stdout().print(f"Renamed album {album.id} to {album.name!r}", markup=False)


@albums_app.command("delete")
def albums_delete(album_id: str) -> None:
    """Delete an album (its photos stay)."""
    with _session() as client:
        client.delete_album(album_id)
    _stdout().print(f"Deleted album {album_id}", markup=False)


@albums_app.command("add")
def albums_add(album_id: str, photo_ids: list[str]) -> None:
    """Add photos to an album (adding one twice does nothing)."""
    with _session() as client:
        added = client.add_to_album(album_id, photo_ids)
    _stdout().print(f"Added {added} photo(s) to album {album_id}", markup=False)


@albums_app.command("remove")
def albums_remove(album_id: str, photo_id: str) -> None:
    """Take a photo out of an album (the photo stays)."""
    with _session() as client:
        client.remove_from_album(album_id, photo_id)
    _stdout().print(f"Removed {photo_id} from album {album_id}", markup=False)


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
    that cannot be confirmed is kept.
    """
    out = _stdout()
    with _session() as client, _hash_cache() as cache:
        plan = plan_free_up(client, folders, cache, older_than_days=older_than)
        count, size = len(plan.candidates), plan.total_size
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
    app.command()(rm)
    app.add_typer(albums_app, name="albums")
    app.command("free-up-space")(free_up_space)
