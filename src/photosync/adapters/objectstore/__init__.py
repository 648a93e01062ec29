"""Object store: one interface (`ObjectStore`), two implementations (local disk, S3)."""

from photosync.adapters.objectstore.base import (
    ObjectInfo,
    ObjectStore,
    ObjectStoreError,
    PresignedDownload,
    PresignedUpload,
)

__all__ = ["ObjectInfo", "ObjectStore", "ObjectStoreError", "PresignedDownload", "PresignedUpload"]
