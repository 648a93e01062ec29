"""Free up space (F1.8): remove local files whose exact bytes are safely backed up.

A file is removed only when, right before its removal, (1) it is hashed again from disk and is still
the file that was hashed (same size and mtime), and (2) the server confirms, in a lookup made for that
very batch, that the signed-in user has a finalized photo with that SHA-256 outside the trash
(`found`: a photo in the trash is going to be deleted, so it is no backup). Names never matter:
only content does. Anything that cannot be confirmed is left alone and reported. The local library
index is never used here: only the server's answer at that moment counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from photosync.client.api import PhotoSyncClient, hash_file
from photosync.client.library import HashCache, LocalFile, scan
from photosync.client.models import Lookup

CONFIRM_BATCH = 200
IN_TRASH_REASON = "in the trash on the server, so not a backup (restore it with `photosync trash restore`)"


@dataclass(frozen=True)
class Candidate:
    file: LocalFile
    sha256: str

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def size(self) -> int:
        return self.file.size


@dataclass
class FreeUpPlan:
    candidates: list[Candidate] = field(default_factory=list)
    not_backed_up: list[Path] = field(default_factory=list)
    in_trash: list[Path] = field(default_factory=list)  # on the server, but only in its trash
    too_recent: list[Path] = field(default_factory=list)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def total_size(self) -> int:
        return sum(candidate.size for candidate in self.candidates)


@dataclass(frozen=True)
class Removal:
    path: Path
    size: int
    how: str  # "moved to trash" | "deleted"


@dataclass
class FreeUpReport:
    removed: list[Removal] = field(default_factory=list)
    kept: list[tuple[Path, str]] = field(default_factory=list)  # with the reason it was not removed

    @property
    def freed_size(self) -> int:
        return sum(removal.size for removal in self.removed)


def plan_free_up(
    client: PhotoSyncClient,
    roots: list[Path],
    cache: HashCache,
    *,
    older_than_days: float | None = None,
    now: float | None = None,
) -> FreeUpPlan:
    """The media files under `roots` that the server has (as of now), and why the others are not."""
    plan = FreeUpPlan()
    cutoff_ns = None
    if older_than_days is not None:
        cutoff_ns = int(((time.time() if now is None else now) - older_than_days * 86400) * 1e9)
    hashed: list[Candidate] = []
    for file in scan(roots).media:
        if cutoff_ns is not None and file.mtime_ns > cutoff_ns:
            plan.too_recent.append(file.path)
            continue
        try:
            hashed.append(Candidate(file, cache.sha256(file)))
        except OSError as error:
            plan.unreadable.append((file.path, error.strerror or str(error)))
    on_server = client.lookup([candidate.sha256 for candidate in hashed])
    for candidate in hashed:
        if candidate.sha256 in on_server.found:
            plan.candidates.append(candidate)
        elif candidate.sha256 in on_server.trashed:
            plan.in_trash.append(candidate.path)
        else:
            plan.not_backed_up.append(candidate.path)
    return plan


def _remove_with_trash(path: Path) -> str:
    from send2trash import send2trash
    from send2trash.exceptions import TrashPermissionError

    try:
        send2trash(path)
    except (TrashPermissionError, OSError):
        # No usable trash for this file system (e.g. a mount without .Trash): delete instead.
        path.unlink()
        return "deleted"
    return "moved to trash"


def _remove_directly(path: Path) -> str:
    path.unlink()
    return "deleted"


def free_up(
    client: PhotoSyncClient,
    candidates: list[Candidate],
    *,
    use_trash: bool = True,
    on_done: Callable[[Path], None] | None = None,
) -> FreeUpReport:
    """Remove the candidates that are still backed up and unchanged, confirming batch by batch."""
    remove = _remove_with_trash if use_trash else _remove_directly
    report = FreeUpReport()
    for start in range(0, len(candidates), CONFIRM_BATCH):
        batch = candidates[start : start + CONFIRM_BATCH]
        fresh: list[Candidate] = []
        for candidate in batch:
            reason = _still_same_file(candidate)
            if reason:
                report.kept.append((candidate.path, reason))
                if on_done:
                    on_done(candidate.path)
            else:
                fresh.append(candidate)
        confirmed = client.lookup([candidate.sha256 for candidate in fresh]) if fresh else Lookup()
        for candidate in fresh:
            if candidate.sha256 in confirmed.trashed:
                report.kept.append((candidate.path, IN_TRASH_REASON))
            elif candidate.sha256 not in confirmed.found:
                report.kept.append((candidate.path, "no longer on the server"))
            elif not _unchanged_since_hashing(candidate):
                report.kept.append((candidate.path, "changed while being checked"))
            else:
                try:
                    report.removed.append(Removal(candidate.path, candidate.size, remove(candidate.path)))
                except OSError as error:
                    report.kept.append((candidate.path, f"could not remove: {error.strerror or error}"))
            if on_done:
                on_done(candidate.path)
    return report


def _unchanged_since_hashing(candidate: Candidate) -> bool:
    try:
        stat = candidate.path.stat()
    except OSError:
        return False
    return stat.st_size == candidate.file.size and stat.st_mtime_ns == candidate.file.mtime_ns


def _still_same_file(candidate: Candidate) -> str | None:
    """Why the file on disk is no longer the candidate that was planned, or None if it still is."""
    if not _unchanged_since_hashing(candidate):
        return "changed since it was checked"
    try:
        digest = hash_file(candidate.path)
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    if digest != candidate.sha256:
        return "changed since it was checked"
    return None
