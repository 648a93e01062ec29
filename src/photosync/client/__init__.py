"""PhotoSync Python SDK: `from photosync.client import PhotoSyncClient`.

Needs httpx (and PyJWT for reading token expiry); the command line's typer and rich are not used here.
"""

from photosync.client.api import PhotoSyncClient, RetryPolicy, Timeouts
from photosync.client.errors import (
    ApiError,
    Conflict,
    FileTooLarge,
    IntegrityError,
    InvalidRequest,
    NotFound,
    PhotoSyncError,
    QuotaExceeded,
    ServerError,
    ServerUnreachable,
    Unauthorized,
    UnsupportedMediaType,
    UploadFailed,
)
from photosync.client.models import (
    Album,
    Change,
    DownloadLink,
    DuplicateUpload,
    EmptiedTrash,
    Lookup,
    Me,
    Photo,
    PhotoPage,
    SyncPage,
    UploadGrant,
    UploadResult,
    UploadStatus,
)

__all__ = [
    "Album",
    "ApiError",
    "Change",
    "Conflict",
    "DownloadLink",
    "DuplicateUpload",
    "EmptiedTrash",
    "FileTooLarge",
    "IntegrityError",
    "InvalidRequest",
    "Lookup",
    "Me",
    "NotFound",
    "Photo",
    "PhotoPage",
    "PhotoSyncClient",
    "PhotoSyncError",
    "QuotaExceeded",
    "RetryPolicy",
    "ServerError",
    "ServerUnreachable",
    "SyncPage",
    "Timeouts",
    "Unauthorized",
    "UnsupportedMediaType",
    "UploadFailed",
    "UploadGrant",
    "UploadResult",
    "UploadStatus",
]
