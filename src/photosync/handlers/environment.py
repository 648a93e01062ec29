"""What a Lambda environment keeps between events: settings, its database connection, its object
store client. Created lazily on first use, so importing a handler connects to nothing."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.queues import LocalQueue, RenditionQueue, SqsQueue
from photosync.adapters.postgres.connection import environment_connection, reconnect_environment
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.config import Settings, settings


def config() -> Settings:
    return settings()


def unit_of_work() -> UnitOfWork:
    return UnitOfWork(environment_connection(), reconnect=reconnect_environment)


@lru_cache(maxsize=1)
def object_store() -> ObjectStore:
    config = settings()
    if config.store == "s3":
        from photosync.adapters.objectstore.s3 import S3ObjectStore

        return S3ObjectStore(config.s3_bucket, region=config.aws_region, endpoint_url=config.s3_endpoint_url)
    from photosync.adapters.objectstore.local_disk import LocalDiskStore

    assert config.data_dir is not None and config.public_url is not None
    return LocalDiskStore(config.data_dir, public_url=config.public_url)


@lru_cache(maxsize=1)
def renditions_queue() -> RenditionQueue | None:
    """Where finalize sends rendition work: the SQS queue the template names, or in the local
    runtime the data directory's queue, which `photosync serve` consumes. None: not configured
    (the sweep makes the renditions)."""
    config = settings()
    if config.renditions_queue_url:
        return SqsQueue(config.renditions_queue_url)
    if config.is_local and config.data_dir is not None:
        return LocalQueue(local_renditions_queue_dir(config.data_dir))
    return None


def local_renditions_queue_dir(data_dir: Path) -> Path:
    return data_dir / "queues" / "renditions"
