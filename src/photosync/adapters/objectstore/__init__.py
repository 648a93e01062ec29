"""Object store: one interface (`ObjectStore`), two implementations (local disk, S3)."""

from photosync.adapters.objectstore.base import (
    ObjectInfo,
    ObjectStore,
    NoSuchMultipartUpload,
    ObjectStoreError,
    PartsRefused,
    PresignedDownload,
    PresignedUpload,
    StoredPart,
)

__all__ = [
    "NoSuchMultipartUpload", "ObjectInfo", "ObjectStore", "ObjectStoreError", "PartsRefused", "PresignedDownload",
    "PresignedUpload", "StoredPart",
]
