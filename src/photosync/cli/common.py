"""What every client command shares: consoles, the signed-in session, errors turned into one line
saying what to do next, progress bars, and the local library index."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from threading import Lock

import typer
from rich.console import Console
from rich.table import Table
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from photosync.client.api import PhotoSyncClient
from photosync.client.auth import RefreshingSession, TokenStore, config_dir, token_subject
from photosync.client.errors import PhotoSyncError, QuotaExceeded, ServerUnreachable, Unauthorized
from photosync.client.index import INDEX_FILE, LibraryIndex, max_age_from_environment
from photosync.client.models import Photo, TrashedPhoto
from photosync.client.units import human_size

# Piped output is read by scripts: lay out tables wide rather than folding ids and names.
PIPED_WIDTH = 200


def stdout() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = PIPED_WIDTH
    return console


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


def fail(message: str) -> typer.Exit:
    stderr().print(message, markup=False, soft_wrap=True)
    return typer.Exit(1)


def login_hint(server: str | None) -> str:
    return f"photosync login --server {server}" if server else "photosync login --server URL"


@contextlib.contextmanager
def explained_errors(server: str | None) -> Iterator[None]:
    """Turn the SDK's expected failures into one line on stderr and exit code 1."""
    try:
        yield
    except Unauthorized:
        raise fail(f"Your sign-in has expired: run `{login_hint(server)}`") from None
    except ServerUnreachable as error:
        raise fail(str(error)) from None
    except QuotaExceeded as error:
        raise fail(f"{error}. Free space with `photosync rm` and `photosync trash empty`, or ask for a larger quota.") from None
    except PhotoSyncError as error:
        raise fail(f"Error: {error}") from None


@contextlib.contextmanager
def session() -> Iterator[PhotoSyncClient]:
    """A client for the stored sign-in; fails with what to do if there is none or it has expired."""
    store = TokenStore()
    with explained_errors(None):
        credentials = store.load()
    if credentials is None:
        raise fail(f"You are not signed in: run `{login_hint(None)}`")
    if credentials.is_expired() and not credentials.can_refresh:
        raise fail(f"Your sign-in has expired: run `{login_hint(credentials.server)}`")
    # Renews the access token with the stored refresh token as it runs out (a long backup outlasts it).
    refreshing = RefreshingSession(credentials, store=store)
    with PhotoSyncClient(credentials.server, session=refreshing) as client, explained_errors(credentials.server):
        yield client


def library_index(client: PhotoSyncClient) -> LibraryIndex:
    """The local index of the signed-in account (`photosync sync`); empty until the first sync."""
    try:
        max_age = max_age_from_environment()
    except ValueError as error:
        raise fail(str(error)) from None
    account = token_subject(client.current_access_token() or "") or "unknown"
    return LibraryIndex(config_dir() / INDEX_FILE, server=client.base_url, account=account, max_age=max_age)


def transfer_progress(console: Console) -> Progress:
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


class ProgressObserver:
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


def ago(seconds: float) -> str:
    """A short age for people: "just now", "3 min ago", "2 h ago", "5 days ago"."""
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def when(photo: Photo) -> str:
    return photo.sort_time.strftime("%Y-%m-%d %H:%M")


def days_left(photo: TrashedPhoto, now: datetime | None = None) -> str:
    """How long a photo in the trash has before the sweep deletes it for good."""
    if photo.purge_at is None:
        return "unknown"
    remaining = (photo.purge_at - (now or datetime.now(timezone.utc))).total_seconds() / 86400
    if remaining <= 0:
        return "at the next sweep"
    days = math.ceil(remaining)
    return f"{days} day{'s' if days != 1 else ''} left"


def print_photos(photos: Sequence[Photo]) -> None:
    """Photos as a table: id, when taken, size, name (and, for photos of the trash, the time left)."""
    trash = any(isinstance(photo, TrashedPhoto) for photo in photos)
    table = Table(box=None, pad_edge=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("Taken", no_wrap=True)
    if trash:
        table.add_column("Deleted for good in", no_wrap=True)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Filename", overflow="fold", min_width=20)
    for photo in photos:
        extra = [days_left(photo)] if isinstance(photo, TrashedPhoto) else []
        table.add_row(photo.id, when(photo), *extra, human_size(photo.size), photo.filename)
    stdout().print(table)
