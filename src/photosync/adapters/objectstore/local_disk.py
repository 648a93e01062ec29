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
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

from photosync.adapters.objectstore.base import (
    NoSuchMultipartUpload,
    ObjectInfo,
    ObjectStoreError,
    PartsRefused,
    PresignedDownload,
    PresignedUpload,
    StoredPart,
)
from photosync.adapters.private_files import PRIVATE_FILE_MODE, create_private_file, make_private_dirs

STORE_PATH = "/_store/objects/"
PARTS_PATH = "/_store/parts/"
COMPLETE_PATH = "/_store/complete/"
DOWNLOAD_EXPIRY_WINDOW = 300
# The API's call to assemble an upload is the server talking to its own store: short-lived.
COMPLETE_REQUEST_TTL_SECONDS = 60
# Assembling copies the whole file (up to the largest upload) and fsyncs it.
COMPLETE_TIMEOUT_SECONDS = 900
_MULTIPART_ID = re.compile(r"[0-9a-f]{32}")
_PART_FILE = re.compile(r"(\d{5})\.([0-9a-f]{64})")
_ASSEMBLING = ".assembling"
# One assembly at a time: a complete retried while the first still copies (its answer late) must
# wait for it, then find the object made, rather than race it for the parts.
_ASSEMBLY_LOCK = threading.Lock()
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
class PartTicket:
    key: str
    multipart_id: str
    number: int
    size: int
    sha256: str
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
        # One folder per multipart upload: `upload.json` (its key and type) and one file per part,
        # named `<number>.<sha256>`, so a part and its checksum appear in one atomic rename.
        self._parts = data_dir / "parts"
        self._public_url = public_url.rstrip("/")
        self._secret = _load_or_create_secret(data_dir / "secrets" / "store-signing.key")
        make_private_dirs(self._root)
        make_private_dirs(self._incoming)
        make_private_dirs(self._parts)

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

    # --- multipart uploads ----------------------------------------------------------------------

    def create_multipart(self, key: str, *, content_type: str) -> str:
        self._path(key)  # the same key rules as a single upload
        multipart_id = secrets.token_hex(16)
        folder = self._parts / multipart_id
        make_private_dirs(folder)
        temp = self.incoming_file()
        try:
            with temp.open("w") as f:
                json.dump({"key": key, "content_type": content_type}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, folder / "upload.json")
            _fsync_dir(folder)
            _fsync_dir(self._parts)
        except OSError as error:
            raise ObjectStoreError(f"cannot start a multipart upload of {key}: {error}") from error
        finally:
            temp.unlink(missing_ok=True)
        return multipart_id

    def presign_part(
        self, key: str, multipart_id: str, *, number: int, size: int, sha256: str, expires_in: int
    ) -> PresignedUpload:
        expires = int(time.time()) + expires_in
        params = {
            "upload": multipart_id, "part": str(number), "size": str(size), "sha256": sha256, "expires": str(expires),
        }
        signature = self._sign("PUT", key, params)
        return PresignedUpload(
            method="PUT",
            url=f"{self._public_url}{PARTS_PATH}{quote(key)}?{urlencode({**params, 'signature': signature})}",
            headers={"Content-Length": str(size)},
            expires_at=datetime.fromtimestamp(expires, timezone.utc),
        )

    def list_parts(self, key: str, multipart_id: str) -> list[StoredPart]:
        folder = self._upload_folder(key, multipart_id)
        latest: dict[int, tuple[int, StoredPart]] = {}
        try:
            for entry in os.scandir(folder):
                match = _PART_FILE.fullmatch(entry.name)
                if match is None:
                    continue
                stat = entry.stat()
                part = StoredPart(number=int(match[1]), size=stat.st_size, etag=_part_etag(match[2]))
                # A part sent again replaces the earlier one; a crash can leave both for a moment,
                # and the one renamed in last (its change time) is the part.
                if part.number not in latest or stat.st_ctime_ns > latest[part.number][0]:
                    latest[part.number] = (stat.st_ctime_ns, part)
        except FileNotFoundError:
            raise NoSuchMultipartUpload(multipart_id) from None
        except OSError as error:
            raise ObjectStoreError(f"cannot list the parts of {key}: {error}") from error
        return [latest[number][1] for number in sorted(latest)]

    def complete_multipart(self, key: str, multipart_id: str, parts: list[StoredPart]) -> None:
        """Asks the store's HTTP side to assemble the parts, as S3's API is asked: the ObjectCreated
        event comes from the store, whichever process calls this."""
        self._upload_folder(key, multipart_id)  # NoSuchMultipartUpload before any request
        expires = int(time.time()) + COMPLETE_REQUEST_TTL_SECONDS
        params = {"upload": multipart_id, "expires": str(expires)}
        url = f"{self._public_url}{COMPLETE_PATH}{quote(key)}?{urlencode({**params, 'signature': self._sign('POST', key, params)})}"
        body = {"parts": [{"number": part.number, "etag": part.etag} for part in parts]}
        try:
            response = httpx.post(url, json=body, timeout=COMPLETE_TIMEOUT_SECONDS)
        except httpx.HTTPError as error:
            raise ObjectStoreError(f"the store did not assemble {key}: {error}") from error
        if response.status_code == 404:
            raise NoSuchMultipartUpload(multipart_id)
        if response.status_code == 400:
            raise PartsRefused(response.text)
        if response.status_code != 200:
            raise ObjectStoreError(f"the store did not assemble {key}: HTTP {response.status_code} {response.text[:200]}")

    def abort_multipart(self, key: str, multipart_id: str) -> None:
        if not _MULTIPART_ID.fullmatch(multipart_id):
            return
        for folder in (self._parts / multipart_id, self._parts / (multipart_id + _ASSEMBLING)):
            try:
                # Renamed away first, so no part can be added while the folder is removed.
                doomed = self._incoming / f"aborted-{secrets.token_hex(8)}"
                os.rename(folder, doomed)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise ObjectStoreError(f"cannot abort the multipart upload of {key}: {error}") from error
            shutil.rmtree(doomed, ignore_errors=True)

    # --- used by the store's HTTP endpoints ----------------------------------------------------

    def verify_part(self, key: str, query: dict[str, str]) -> PartTicket:
        params = {name: query.get(name, "") for name in ("upload", "part", "size", "sha256", "expires")}
        self._verify("PUT", key, params, query.get("signature", ""))
        return PartTicket(
            key, params["upload"], int(params["part"]), int(params["size"]), params["sha256"], int(params["expires"])
        )

    def verify_complete(self, key: str, query: dict[str, str]) -> str:
        params = {name: query.get(name, "") for name in ("upload", "expires")}
        self._verify("POST", key, params, query.get("signature", ""))
        return params["upload"]

    def store_part(self, temp: Path, ticket: PartTicket) -> str:
        """Put a fully written, verified and fsynced part in place; its ETag. Raises
        NoSuchMultipartUpload when the upload was completed or aborted meanwhile."""
        folder = self._upload_folder(ticket.key, ticket.multipart_id, assembling=False)
        name = f"{ticket.number:05d}.{ticket.sha256}"
        try:
            os.rename(temp, folder / name)
        except FileNotFoundError:
            raise NoSuchMultipartUpload(ticket.multipart_id) from None
        for entry in os.scandir(folder):
            if entry.name.startswith(f"{ticket.number:05d}.") and entry.name != name:
                os.unlink(entry.path)
        _fsync_dir(folder)
        return _part_etag(ticket.sha256)

    def assemble(self, key: str, multipart_id: str, parts: list[tuple[int, str]]) -> None:
        """Concatenate the parts named (number, etag) into the object at `key`, durably, then drop
        them. Raises PartsRefused when they are not every stored part in order, NoSuchMultipartUpload."""
        with _ASSEMBLY_LOCK:
            self._assemble(key, multipart_id, parts)

    def _assemble(self, key: str, multipart_id: str, parts: list[tuple[int, str]]) -> None:
        stored = {part.number: part for part in self.list_parts(key, multipart_id)}
        expected = list(range(1, len(stored) + 1))
        if [number for number, _ in parts] != expected or sorted(stored) != expected:
            raise PartsRefused("every stored part must be listed once, in order")
        for number, etag in parts:
            if stored[number].etag != etag:
                raise PartsRefused(f"part {number} is not the part stored (its ETag differs)")
        folder = self._parts / multipart_id
        assembling = self._parts / (multipart_id + _ASSEMBLING)
        try:
            os.rename(folder, assembling)  # no part can arrive from here on
        except FileNotFoundError:
            pass  # a previous attempt got this far
        try:
            meta = json.loads((assembling / "upload.json").read_text())
            files = {int(m[1]): assembling / entry for entry in os.listdir(assembling) if (m := _PART_FILE.fullmatch(entry))}
        except FileNotFoundError:
            raise NoSuchMultipartUpload(multipart_id) from None
        temp = self.incoming_file()
        try:
            with temp.open("wb") as out:
                for number, _ in parts:
                    with files[number].open("rb") as part:
                        _copy_file(part, out)
                out.flush()
                os.fsync(out.fileno())
            try:
                # S3 keeps no whole-object SHA-256 for a multipart upload either: finalize hashes it.
                self.commit(temp, key, sha256=None, content_type=meta["content_type"], create_only=True)
            except ObjectExists:
                pass  # assembled before, by an attempt whose answer was lost
        except OSError as error:
            raise ObjectStoreError(f"cannot assemble {key}: {error}") from error
        finally:
            temp.unlink(missing_ok=True)
        shutil.rmtree(assembling, ignore_errors=True)

    def _upload_folder(self, key: str, multipart_id: str, *, assembling: bool = True) -> Path:
        """The folder of a multipart upload to `key` (also while it is being assembled, unless
        `assembling` is False), or NoSuchMultipartUpload."""
        if not _MULTIPART_ID.fullmatch(multipart_id):
            raise NoSuchMultipartUpload(multipart_id)
        candidates = [self._parts / multipart_id]
        if assembling:
            candidates.append(self._parts / (multipart_id + _ASSEMBLING))
        for folder in candidates:
            try:
                meta = json.loads((folder / "upload.json").read_text())
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as error:
                raise ObjectStoreError(f"cannot read the multipart upload of {key}: {error}") from error
            if meta.get("key") != key:
                raise NoSuchMultipartUpload(multipart_id)
            return folder
        raise NoSuchMultipartUpload(multipart_id)

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

    def commit(self, temp: Path, key: str, *, sha256: str | None, content_type: str, create_only: bool = False) -> None:
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


def _part_etag(sha256: str) -> str:
    # Quoted, as S3 sends ETags; derived from the part's checksum, which the file name keeps.
    return f'"{sha256[:32]}"'


def _copy_file(source, target) -> None:  # noqa: ANN001 - binary files
    """Append all of `source` to `target`, in the kernel where it can (no copy through Python)."""
    size = os.fstat(source.fileno()).st_size
    copied = 0
    try:
        while copied < size:
            sent = os.copy_file_range(source.fileno(), target.fileno(), size - copied)
            if sent == 0:
                break
            copied += sent
    except OSError:
        source.seek(copied)
        target.seek(0, os.SEEK_END)
        shutil.copyfileobj(source, target, 8 * 1024 * 1024)
        return
    if copied != size:
        raise OSError(f"copied {copied} of {size} bytes")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
