"""`photosync serve`: the whole product on one machine, with embedded defaults.

It starts (or reuses) the data directory's private PostgreSQL unless `DATABASE_URL` is set, applies
the migrations, configures the Lambda handlers through the environment exactly as the SAM template
configures them in AWS, and serves the local gateway, store, identity provider and web client with
uvicorn. Stopping the server stops its PostgreSQL.
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import uvicorn

from photosync.adapters.postgres.connection import connect
from photosync.adapters.private_files import make_private_dirs
from photosync.adapters.postgres.migrations import apply_migrations
from photosync.config import ConfigError, load_settings, settings
from photosync.adapters.objectstore.local_disk import LocalDiskStore
from photosync.handlers import environment
from photosync.adapters.queues import LocalQueue
from photosync.local.app import (
    CLEANUP_HANDLER, FINALIZE_HANDLER, POST_CONFIRMATION_HANDLER, RENDITIONS_HANDLER, create_local_app,
)
from photosync.local.gateway import ROUTES
from photosync.local.lambda_runtime import LocalLambdaRuntime
from photosync.local.postgres import PrivatePostgres
from photosync.local.queue_poller import QueuePoller
from photosync.local.scheduler import Schedule
from photosync.local.sign_in import DevSignIn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    data_dir: Path
    allow_dev_login: bool = False
    web_dir: Path | None = None
    # The phone app's exported web build, served at /app/ (off unless given).
    mobile_web_dir: Path | None = None
    # Execution environments (worker processes) running the handlers, as Lambda's concurrency.
    environments: int = 4
    # Environments of the renditions function alone, so API requests never wait behind image work.
    rendition_environments: int = max(1, (os.cpu_count() or 2) // 2)


def default_web_dir() -> Path | None:
    """The web client shipped beside the package in a source checkout, if there is one."""
    candidate = Path(__file__).resolve().parents[3] / "web"
    return candidate if (candidate / "index.html").is_file() else None


def serve(options: ServeOptions, *, on_ready: Callable[[str, DevSignIn], None] | None = None) -> None:
    # Originals, renditions, keys and secrets are the user's alone: everything this process and its
    # handler environments create is private, and so is the data directory, also one made before.
    os.umask(0o077)
    data_dir = options.data_dir.resolve()
    make_private_dirs(data_dir)
    # The kernel drops this lock with the process, so a killed server never leaves it behind.
    lock = (data_dir / ".serve.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ConfigError(
            f"another `photosync serve` is already using {data_dir}: stop it, or choose another --data-dir"
        ) from None
    url_host = "127.0.0.1" if options.host in ("0.0.0.0", "::") else options.host
    url_host = f"[{url_host}]" if ":" in url_host else url_host
    public_url = os.environ.get("PHOTOSYNC_PUBLIC_URL") or f"http://{url_host}:{options.port}"
    dev_sign_in = DevSignIn.for_server(
        bind_host=options.host, public_url=public_url, allow_dev_login=options.allow_dev_login
    )

    postgres = None
    if not os.environ.get("DATABASE_URL"):
        postgres = PrivatePostgres(data_dir / "postgres")
        os.environ["DATABASE_URL"] = postgres.start()
    try:
        os.environ.update(
            PHOTOSYNC_MODE="local",
            PHOTOSYNC_DATA_DIR=str(data_dir),
            PHOTOSYNC_PUBLIC_URL=public_url,
        )
        os.environ.setdefault("PHOTOSYNC_STORE", "local")
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "photosync")
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        load_settings()  # fail fast, with the variable's name, before anything listens
        settings.cache_clear()
        with connect() as conn:
            applied = apply_migrations(conn)
        if applied:
            log.warning("applied migrations: %s", ", ".join(applied))
        _run(options, data_dir, public_url, dev_sign_in, on_ready)
    finally:
        if postgres is not None:
            postgres.stop()


def _run(
    options: ServeOptions,
    data_dir: Path,
    public_url: str,
    dev_sign_in: DevSignIn,
    on_ready: Callable[[str, DevSignIn], None] | None,
) -> None:
    config = settings()
    # With an S3-compatible store the bucket, not this server, receives uploads.
    store = LocalDiskStore(data_dir, public_url=public_url) if config.store == "local" else None
    runtime = LocalLambdaRuntime(environments=options.environments)
    # Image work runs in processes of its own, fed by the queue finalize writes to.
    rendition_runtime = LocalLambdaRuntime(environments=options.rendition_environments, metrics=runtime.metrics)
    try:
        runtime.warm_up((*ROUTES, FINALIZE_HANDLER, CLEANUP_HANDLER, POST_CONFIRMATION_HANDLER))
        rendition_runtime.warm_up((RENDITIONS_HANDLER,))
        app = create_local_app(
            data_dir=data_dir,
            public_url=public_url,
            store=store,
            store_origin=None if store is not None else environment.object_store().browser_origin(),
            runtime=runtime,
            concurrency=options.environments * 2,
            dev_sign_in=dev_sign_in,
            web_dir=options.web_dir or default_web_dir(),
            mobile_web_dir=options.mobile_web_dir,
        )
        schedule = Schedule(runtime.function("cleanup", CLEANUP_HANDLER), every_seconds=config.cleanup_interval_seconds)
        rendition_poller = QueuePoller(
            LocalQueue(environment.local_renditions_queue_dir(data_dir)),
            rendition_runtime.function("renditions", RENDITIONS_HANDLER),
            queue_name="photosync-renditions", pollers=options.rendition_environments,
        )
        server = uvicorn.Server(
            uvicorn.Config(app, host=options.host, port=options.port, log_level="warning", access_log=False)
        )
        schedule.start()
        rendition_poller.start()
        try:
            if on_ready is not None:
                on_ready(public_url, dev_sign_in)
            server.run()
        finally:
            rendition_poller.stop()
            schedule.stop()
    finally:
        rendition_runtime.close()
        runtime.close()


__all__ = ["ConfigError", "ServeOptions", "serve"]
