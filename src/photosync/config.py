"""All settings, read from the environment and validated in one place.

The same variables configure a Lambda function (set by the SAM template) and the local runtime (set
by `photosync serve` before it loads the handlers). Unsafe conveniences (the dev sign-in, secrets
generated into the data directory) exist only in local mode.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

GIB = 1024**3
DEFAULT_DB_CONNECT_TIMEOUT_SECONDS = 5


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the variable and what to do."""


@dataclass(frozen=True)
class Settings:
    mode: str  # "local" or "aws"
    database_url: str | None
    # AWS: the RDS Proxy endpoint and a Secrets Manager secret holding the credentials.
    database_secret_arn: str | None
    database_host: str | None
    database_name: str
    # How long opening a database connection may take. Every function that uses the database has a
    # timeout longer than this plus its own work (tests/unit/test_template.py checks the template).
    database_connect_timeout_seconds: int
    default_quota_bytes: int
    max_upload_bytes: int
    upload_url_ttl_seconds: int
    download_url_ttl_seconds: int
    pending_ttl_seconds: int
    # A multipart upload's reservation lives this long after its last part request (api.md).
    multipart_ttl_seconds: int
    cleanup_interval_seconds: int
    trash_retention_days: int  # 0: the next sweep purges the trash
    change_log_retention_days: int  # /sync cursors older than this are reset
    # Longest video the renditions function converts into a browser-playable copy (0: none): it
    # bounds that function's run time (bench/bench_video.py measures seconds of work per second).
    max_transcode_seconds: int
    store: str  # "local" or "s3"
    data_dir: Path | None
    public_url: str | None  # base URL of the local server, for the local store's signed URLs
    # Where the web client is, for the addresses of public links (`{web_url}/s/{token}`); locally
    # the server itself serves it.
    web_url: str | None
    s3_bucket: str | None
    s3_endpoint_url: str | None
    aws_region: str | None
    # The SQS queue finalize sends rendition work to (AWS); the local runtime uses its data directory.
    renditions_queue_url: str | None = None

    @property
    def is_local(self) -> bool:
        return self.mode == "local"


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, default).strip().lower() or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    mode = _choice(env, "PHOTOSYNC_MODE", "aws", ("aws", "local"))
    store = _choice(env, "PHOTOSYNC_STORE", "local" if mode == "local" else "s3", ("local", "s3"))
    data_dir = env.get("PHOTOSYNC_DATA_DIR") or None
    settings = Settings(
        mode=mode,
        database_url=env.get("DATABASE_URL") or None,
        database_secret_arn=env.get("PHOTOSYNC_DB_SECRET_ARN") or None,
        database_host=env.get("PHOTOSYNC_DB_HOST") or None,
        database_name=env.get("PHOTOSYNC_DB_NAME") or "photosync",
        database_connect_timeout_seconds=_int(
            env, "PHOTOSYNC_DB_CONNECT_TIMEOUT_SECONDS", DEFAULT_DB_CONNECT_TIMEOUT_SECONDS
        ),
        default_quota_bytes=_int(env, "PHOTOSYNC_DEFAULT_QUOTA_BYTES", 15 * GIB, minimum=0),
        max_upload_bytes=_int(env, "PHOTOSYNC_MAX_UPLOAD_BYTES", 20 * GIB),
        upload_url_ttl_seconds=_int(env, "PHOTOSYNC_UPLOAD_URL_TTL_SECONDS", 900),
        download_url_ttl_seconds=_int(env, "PHOTOSYNC_DOWNLOAD_URL_TTL_SECONDS", 900),
        pending_ttl_seconds=_int(env, "PHOTOSYNC_PENDING_TTL_SECONDS", 3600),
        multipart_ttl_seconds=_int(env, "PHOTOSYNC_MULTIPART_TTL_SECONDS", 86400),
        cleanup_interval_seconds=_int(env, "PHOTOSYNC_CLEANUP_INTERVAL_SECONDS", 300),
        trash_retention_days=_int(env, "PHOTOSYNC_TRASH_RETENTION_DAYS", 30, minimum=0),
        change_log_retention_days=_int(env, "PHOTOSYNC_CHANGE_LOG_RETENTION_DAYS", 90),
        max_transcode_seconds=_int(env, "PHOTOSYNC_MAX_TRANSCODE_SECONDS", 300, minimum=0),
        store=store,
        data_dir=Path(data_dir) if data_dir else None,
        public_url=(env.get("PHOTOSYNC_PUBLIC_URL") or "").rstrip("/") or None,
        web_url=(env.get("PHOTOSYNC_WEB_URL") or env.get("PHOTOSYNC_PUBLIC_URL") or "").rstrip("/") or None,
        s3_bucket=env.get("PHOTOSYNC_S3_BUCKET") or None,
        s3_endpoint_url=env.get("PHOTOSYNC_S3_ENDPOINT_URL") or None,
        aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
        renditions_queue_url=env.get("PHOTOSYNC_RENDITIONS_QUEUE_URL") or None,
    )
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    if s.database_url is None and s.database_secret_arn is None:
        raise ConfigError(
            "No database configured: set DATABASE_URL (or, in AWS, PHOTOSYNC_DB_SECRET_ARN and "
            "PHOTOSYNC_DB_HOST). `photosync serve` sets it for its own PostgreSQL."
        )
    if s.database_secret_arn and not s.database_host:
        raise ConfigError("PHOTOSYNC_DB_SECRET_ARN needs PHOTOSYNC_DB_HOST (the RDS Proxy endpoint)")
    if s.upload_url_ttl_seconds >= s.pending_ttl_seconds:
        raise ConfigError(
            "PHOTOSYNC_UPLOAD_URL_TTL_SECONDS must be shorter than PHOTOSYNC_PENDING_TTL_SECONDS, "
            "or cleanup could release an upload whose URL still works"
        )
    if s.upload_url_ttl_seconds >= s.multipart_ttl_seconds:
        raise ConfigError(
            "PHOTOSYNC_UPLOAD_URL_TTL_SECONDS must be shorter than PHOTOSYNC_MULTIPART_TTL_SECONDS, "
            "or the sweep could abort a multipart upload whose part URLs still work"
        )
    if s.store == "local":
        if not s.is_local:
            raise ConfigError("PHOTOSYNC_STORE=local keeps objects on one machine: only with PHOTOSYNC_MODE=local")
        if s.data_dir is None or s.public_url is None:
            raise ConfigError("The local store needs PHOTOSYNC_DATA_DIR and PHOTOSYNC_PUBLIC_URL")
    if s.store == "s3" and not s.s3_bucket:
        raise ConfigError("PHOTOSYNC_STORE=s3 needs PHOTOSYNC_S3_BUCKET")


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings, read once (per Lambda environment, or per local server)."""
    return load_settings()
