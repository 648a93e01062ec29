"""The object store on local disk, for `photosync serve`.

Objects live under `<data_dir>/objects/<key>` with a sidecar `<key>.meta.json` holding the type and
SHA-256 (what S3 keeps as object metadata and checksum). URLs are signed with an HMAC secret kept in
the data directory: an upload URL binds method, key, size, SHA-256, content type and expiry; a
download URL binds method, key, expiry and the response headers it asks for. The HTTP side of the
store (receiving uploads, serving downloads) is in `photosync.local.store_endpoints`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

from photosync.adapters.objectstore.base import (
    ObjectInfo,
    ObjectStoreError,
    PresignedDownload,
    PresignedUpload,
)
from photosync.adapters.private_files import PRIVATE_FILE_MODE, create_private_file, make_private_dirs

STORE_PATH = "/_store/objects/"
DOWNLOAD_EXPIRY_WINDOW = 300
COPY_CHUNK_BYTES = 1024 * 1024


class ObjectExists(Exception):
    """A create-only upload found an object at its key already."""


class SignatureError(Exception):
    """A URL that is not one this store signed, was changed, or has expired."""


@dataclass(frozen=True)
class UploadTicket:
    key: str
    size: int
    sha256: str
    content_type: str
    expires: int


@dataclass(frozen=True)
class DownloadTicket:
    key: str
    expires: int
    filename: str | None
    content_type: str | None


class LocalDiskStore:
    def __init__(self, data_dir: Path, *, public_url: str) -> None:
        self._root = data_dir / "objects"
        self._incoming = data_dir / "incoming"
        self._public_url = public_url.rstrip("/")
        self._secret = _load_or_create_secret(data_dir / "secrets" / "store-signing.key")
        make_private_dirs(self._root)
        make_private_dirs(self._incoming)

    # --- the ObjectStore interface -------------------------------------------------------------

    def presign_upload(
        self, key: str, *, size: int, sha256: str, content_type: str, expires_in: int
    ) -> PresignedUpload:
        expires = int(time.time()) + expires_in
        params = {"size": str(size), "sha256": sha256, "type": content_type, "expires": str(expires)}
        signature = self._sign("PUT", key, params)
        return PresignedUpload(
            method="PUT",
            url=f"{self._public_url}{STORE_PATH}{quote(key)}?{urlencode({**params, 'signature': signature})}",
            headers={"Content-Type": content_type},
            expires_at=datetime.fromtimestamp(expires, timezone.utc),
        )

    def presign_download(
        self, key: str, *, expires_in: int, filename: str | None = None, content_type: str | None = None
    ) -> PresignedDownload:
        # Rounded up to a window, so the same object gets the same URL for a while and browsers can
        # cache thumbnails across gallery loads; a link lives between `expires_in` and a window more.
        expires = -(-(int(time.time()) + expires_in) // DOWNLOAD_EXPIRY_WINDOW) * DOWNLOAD_EXPIRY_WINDOW
        params = {"expires": str(expires)}
        if filename is not None:
            params["filename"] = filename
        if content_type is not None:
            params["type"] = content_type
        signature = self._sign("GET", key, params)
        return PresignedDownload(
            url=f"{self._public_url}{STORE_PATH}{quote(key)}?{urlencode({**params, 'signature': signature})}",
            expires_at=datetime.fromtimestamp(expires, timezone.utc),
        )

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            meta = json.loads(self._meta_path(path).read_text())
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise ObjectStoreError(f"cannot read {key}: {error}") from error
        return ObjectInfo(size=size, sha256=meta.get("sha256"), content_type=meta.get("content_type"))

    def read_range(self, key: str, start: int, length: int) -> bytes:
        try:
            with self._path(key).open("rb") as f:
                f.seek(start)
                return f.read(length)
        except OSError as error:
            raise ObjectStoreError(f"cannot read {key}: {error}") from error

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as error:
            raise ObjectStoreError(f"cannot read {key}: {error}") from error

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        temp = self.incoming_file()
        try:
            with temp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            self.commit(temp, key, sha256=hashlib.sha256(data).hexdigest(), content_type=content_type)
        except OSError as error:
            raise ObjectStoreError(f"cannot write {key}: {error}") from error
        finally:
            temp.unlink(missing_ok=True)

    def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        temp = self.incoming_file()
        digest = hashlib.sha256()
        try:
            with path.open("rb") as source, temp.open("wb") as f:
                while chunk := source.read(COPY_CHUNK_BYTES):
                    digest.update(chunk)
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            self.commit(temp, key, sha256=digest.hexdigest(), content_type=content_type)
        except OSError as error:
            raise ObjectStoreError(f"cannot write {key}: {error}") from error
        finally:
            temp.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
            self._meta_path(path).unlink(missing_ok=True)
        except OSError as error:
            raise ObjectStoreError(f"cannot delete {key}: {error}") from error

    # --- used by the store's HTTP endpoints ----------------------------------------------------

    def verify_upload(self, key: str, query: dict[str, str]) -> UploadTicket:
        params = {name: query.get(name, "") for name in ("size", "sha256", "type", "expires")}
        self._verify("PUT", key, params, query.get("signature", ""))
        return UploadTicket(key, int(params["size"]), params["sha256"], params["type"], int(params["expires"]))

    def verify_download(self, key: str, query: dict[str, str]) -> DownloadTicket:
        params = {name: query[name] for name in ("expires", "filename", "type") if name in query}
        self._verify("GET", key, params, query.get("signature", ""))
        return DownloadTicket(key, int(params["expires"]), params.get("filename"), params.get("type"))

    def incoming_file(self) -> Path:
        """A fresh, empty, private temporary file on the same file system as the objects (so the
        final move is atomic)."""
        temp = self._incoming / secrets.token_hex(16)
        create_private_file(temp)
        return temp

    def commit(self, temp: Path, key: str, *, sha256: str, content_type: str, create_only: bool = False) -> None:
        """Move a fully written and fsynced file into place durably, with its metadata.

        `create_only` (uploads through a signed URL, like S3's `If-None-Match: *`) refuses with
        ObjectExists when the key holds an object, so a reused URL cannot replace an original."""
        path = self._path(key)
        make_private_dirs(path.parent)
        meta_temp = temp.with_suffix(".meta")
        try:
            create_private_file(meta_temp)
            with meta_temp.open("w") as f:
                json.dump({"sha256": sha256, "content_type": content_type}, f)
                f.flush()
                os.fsync(f.fileno())
            # Metadata first: an object file is never visible without its metadata. Linking it in
            # is the atomic create-if-absent that claims the key.
            if create_only:
                try:
                    os.link(meta_temp, self._meta_path(path))
                except FileExistsError:
                    raise ObjectExists(key) from None
            else:
                os.replace(meta_temp, self._meta_path(path))
            os.replace(temp, path)
            _fsync_dir(path.parent)
        finally:
            meta_temp.unlink(missing_ok=True)

    def object_path(self, key: str) -> Path:
        return self._path(key)

    # --- internals -----------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        # Keys are server-made, but a URL path is client input: nothing may escape the store's root.
        if not key or key.startswith("/") or any(part in ("", ".", "..") for part in key.split("/")):
            raise SignatureError("not a valid object key")
        return self._root / key

    @staticmethod
    def _meta_path(path: Path) -> Path:
        return path.with_name(path.name + ".meta.json")

    def _sign(self, method: str, key: str, params: dict[str, str]) -> str:
        message = "\n".join([method, key, *(f"{k}={params[k]}" for k in sorted(params))])
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def _verify(self, method: str, key: str, params: dict[str, str], signature: str) -> None:
        if not hmac.compare_digest(self._sign(method, key, params), signature):
            raise SignatureError("the link is not valid: it was changed or not issued by this server")
        try:
            expires = int(params["expires"])
        except (KeyError, ValueError):
            raise SignatureError("the link is not valid") from None
        if expires < time.time():
            raise SignatureError("the link has expired: ask for a new one")


def _load_or_create_secret(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    make_private_dirs(path.parent)
    secret = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())  # another process won the race
    with os.fdopen(fd, "w") as f:
        f.write(secret.hex())
        f.flush()
        os.fsync(f.fileno())
    return secret


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
