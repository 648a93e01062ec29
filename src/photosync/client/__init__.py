"""PhotoSync Python SDK: `from photosync.client import PhotoSyncClient`.

Needs httpx (and PyJWT for reading token expiry); the command line's typer and rich are not used here.
"""

from photosync.client.api import PhotoSyncClient, RetryPolicy, Timeouts
from photosync.client.auth import RefreshingSession
from photosync.client.errors import (
    ApiError,
    Conflict,
    FileTooLarge,
    Forbidden,
    IntegrityError,
    InvalidRequest,
    NotFound,
    PhotoSyncError,
    QuotaExceeded,
    ServerError,
    ServerUnreachable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    UploadFailed,
)
from photosync.client.models import Album, DownloadLink, DuplicateUpload, Me, Photo, PhotoPage, UploadGrant, UploadResult, UploadStatus

__all__ = [
    "Album",
    "ApiError",
    "Conflict",
    "DownloadLink",
    "DuplicateUpload",
    "FileTooLarge",
    "Forbidden",
    "IntegrityError",
    "InvalidRequest",
    "Me",
    "NotFound",
    "Photo",
    "PhotoPage",
    "PhotoSyncClient",
    "PhotoSyncError",
    "QuotaExceeded",
    "RefreshingSession",
    "RetryPolicy",
    "ServerError",
    "ServerUnreachable",
    "Timeouts",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "UploadFailed",
    "UploadGrant",
    "UploadResult",
    "UploadStatus",
]
