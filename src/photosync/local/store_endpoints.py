"""The HTTP side of the local object store: what S3 does with pre-signed URLs.

An upload is streamed to a temporary file while it is hashed; a wrong length, hash, type,
signature or an expired link is refused before anything is stored. Only a complete, verified file is
moved into place (durably), and then the store notifies the finalize function with an S3-shaped
`ObjectCreated` event, retrying as S3's asynchronous invocation does.

Downloads honour one byte range (`Range: bytes=first-last`, `first-` or the suffix `-length`), as
S3 does, which is how a browser's `<video>` seeks: `206` with `Content-Range`. A range that starts
past the end, a list of ranges or a header that is not a byte range is `416` (with `Content-Range:
bytes */size`): a client that asked for part of a file is never sent the whole of it instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time

import anyio
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from photosync.adapters.objectstore.base import NoSuchMultipartUpload, PartsRefused
from photosync.adapters.objectstore.local_disk import (
    COMPLETE_PATH,
    PARTS_PATH,
    STORE_PATH,
    LocalDiskStore,
    ObjectExists,
    SignatureError,
)
from photosync.local.events import s3_object_created_event
from photosync.local.lambda_runtime import LocalFunction
from photosync.local.metrics import LocalMetrics
from photosync.local.responses import error_response

log = logging.getLogger(__name__)

LOCAL_BUCKET = "photosync-local"
_BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.IGNORECASE)
# S3 retries a failed asynchronous invocation twice; so does this.
EVENT_DELIVERY_ATTEMPTS = 3


class StoreEndpoints:
    def __init__(self, store: LocalDiskStore, finalize: LocalFunction, metrics: LocalMetrics | None = None) -> None:
        self._store = store
        self._finalize = finalize
        self._metrics = metrics

    def routes(self) -> list[Route]:
        return [
            Route(STORE_PATH + "{key:path}", self.upload, methods=["PUT"]),
            Route(STORE_PATH + "{key:path}", self.download, methods=["GET", "HEAD"]),
            Route(PARTS_PATH + "{key:path}", self.upload_part, methods=["PUT"]),
            Route(COMPLETE_PATH + "{key:path}", self.complete, methods=["POST"]),
        ]

    def _received(self, count: int) -> None:
        # What S3 reports as BytesUploaded: every body byte that reached the store, kept or not.
        if self._metrics is not None:
            self._metrics.increment("StoreBytesReceived", count)

    async def upload_part(self, request: Request) -> Response:
        """S3's UploadPart through a signed URL: exactly the signed size and SHA-256, or nothing."""
        key = request.path_params["key"]
        try:
            ticket = self._store.verify_part(key, dict(request.query_params))
        except (SignatureError, ValueError) as refusal:
            return error_response(403, "forbidden", str(refusal))
        declared = request.headers.get("content-length")
        if declared is None or not declared.isdigit() or int(declared) != ticket.size:
            return error_response(400, "invalid_request", f"the part must be exactly {ticket.size} bytes (Content-Length)")
        temp = self._store.incoming_file()
        digest, received = hashlib.sha256(), 0
        try:
            with temp.open("wb") as f:
                async for chunk in request.stream():
                    received += len(chunk)
                    self._received(len(chunk))
                    if received > ticket.size:
                        return error_response(400, "invalid_request", f"the part is longer than {ticket.size} bytes")
                    digest.update(chunk)
                    f.write(chunk)
                if received != ticket.size:
                    return error_response(400, "invalid_request", f"the part is {received} bytes, not {ticket.size}")
                if digest.hexdigest() != ticket.sha256:
                    return error_response(400, "invalid_request", "the part's SHA-256 does not match the one signed")
                f.flush()
                await anyio.to_thread.run_sync(os.fsync, f.fileno())
            etag = await anyio.to_thread.run_sync(self._store.store_part, temp, ticket)
        except NoSuchMultipartUpload:
            return error_response(404, "not_found", "no such upload: it was completed or cancelled")
        except ClientDisconnect:
            return error_response(400, "invalid_request", "the upload was interrupted")
        finally:
            temp.unlink(missing_ok=True)
        return Response(status_code=200, headers={"ETag": etag})

    async def complete(self, request: Request) -> Response:
        """S3's CompleteMultipartUpload, called by the API's function (never by a client directly:
        its URL is signed for a minute by the server itself). The event follows, as from S3."""
        key = request.path_params["key"]
        try:
            multipart_id = self._store.verify_complete(key, dict(request.query_params))
            body = json.loads(await request.body())
            parts = [(int(part["number"]), str(part["etag"])) for part in body["parts"]]
        except (SignatureError, ValueError, KeyError, TypeError) as refusal:
            return error_response(403, "forbidden", str(refusal))
        try:
            await anyio.to_thread.run_sync(self._store.assemble, key, multipart_id, parts)
        except NoSuchMultipartUpload:
            return error_response(404, "not_found", "no such upload")
        except PartsRefused as refusal:
            return error_response(400, "invalid_request", str(refusal))
        info = self._store.head(key)
        assert info is not None, "assemble() leaves the object in place"
        etag = f"{hashlib.md5(multipart_id.encode(), usedforsecurity=False).hexdigest()}-{len(parts)}"
        return Response(
            status_code=200,
            background=BackgroundTask(self._notify, key, info.size, etag, "ObjectCreated:CompleteMultipartUpload"),
        )

    async def upload(self, request: Request) -> Response:
        key = request.path_params["key"]
        try:
            ticket = self._store.verify_upload(key, dict(request.query_params))
        except (SignatureError, ValueError) as refusal:
            return error_response(403, "forbidden", str(refusal))
        declared = request.headers.get("content-length")
        if declared is None or not declared.isdigit() or int(declared) != ticket.size:
            return error_response(400, "invalid_request", f"the body must be exactly {ticket.size} bytes (Content-Length)")
        content_type = request.headers.get("content-type", "")
        if content_type != ticket.content_type:
            return error_response(403, "forbidden", f"Content-Type must be {ticket.content_type!r}, as signed")

        temp = self._store.incoming_file()
        digest, received = hashlib.sha256(), 0
        try:
            with temp.open("wb") as f:
                async for chunk in request.stream():
                    received += len(chunk)
                    self._received(len(chunk))
                    if received > ticket.size:
                        return error_response(400, "invalid_request", f"the body is longer than {ticket.size} bytes")
                    digest.update(chunk)
                    f.write(chunk)
                if received != ticket.size:
                    return error_response(400, "invalid_request", f"the body is {received} bytes, not {ticket.size}")
                if digest.hexdigest() != ticket.sha256:
                    return error_response(400, "invalid_request", "the body's SHA-256 does not match the one declared")
                f.flush()
                await anyio.to_thread.run_sync(os.fsync, f.fileno())
            await anyio.to_thread.run_sync(
                lambda: self._store.commit(
                    temp, key, sha256=ticket.sha256, content_type=ticket.content_type, create_only=True
                )
            )
        except ObjectExists:
            # As S3 answers a PUT with If-None-Match: * on an existing key.
            return error_response(412, "precondition_failed", "this upload link was used already: the file is stored")
        except ClientDisconnect:
            return error_response(400, "invalid_request", "the upload was interrupted")
        finally:
            temp.unlink(missing_ok=True)
        etag = hashlib.md5(usedforsecurity=False)
        etag.update(ticket.sha256.encode())
        return Response(
            status_code=200,
            headers={"ETag": f'"{etag.hexdigest()}"'},
            background=BackgroundTask(self._notify, key, ticket.size, etag.hexdigest()),
        )

    async def download(self, request: Request) -> Response:
        key = request.path_params["key"]
        try:
            ticket = self._store.verify_download(key, dict(request.query_params))
        except (SignatureError, ValueError) as refusal:
            return error_response(403, "forbidden", str(refusal))
        path = self._store.object_path(key)
        info = self._store.head(key)
        if info is None:
            return error_response(404, "not_found", "no such object")
        requested = request.headers.get("range")
        if requested is not None and not _satisfiable(requested, info.size):
            return error_response(
                416, "range_not_satisfiable",
                f"the range must be one byte range (bytes=first-last, first- or -length) within the {info.size} bytes",
                headers={"Content-Range": f"bytes */{info.size}"},
            )
        headers = {
            # Cacheable for as long as the link itself is valid.
            "Cache-Control": f"private, max-age={max(0, ticket.expires - int(time.time()))}",
            "X-Content-Type-Options": "nosniff",
            # Served bytes are user content: never let a browser run anything in them.
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
        }
        # Starlette's FileResponse serves a range it is given as 206 with Content-Range (and answers
        # If-Range); what reaches it here is one range that is satisfiable.
        return FileResponse(
            path,
            media_type=ticket.content_type or info.content_type or "application/octet-stream",
            filename=ticket.filename,
            headers=headers,
            content_disposition_type="attachment",
        )

    async def _notify(self, key: str, size: int, etag: str, event_name: str = "ObjectCreated:Put") -> None:
        await anyio.to_thread.run_sync(self.deliver_object_created, key, size, etag, event_name)

    def deliver_object_created(self, key: str, size: int, etag: str, event_name: str = "ObjectCreated:Put") -> None:
        event = s3_object_created_event(bucket=LOCAL_BUCKET, key=key, size=size, etag=etag, event_name=event_name)
        for attempt in range(1, EVENT_DELIVERY_ATTEMPTS + 1):
            try:
                self._finalize.invoke(event)
                return
            except Exception:  # noqa: BLE001 - retried; the sweep finalizes what is never delivered
                log.exception("finalize failed", extra={"key": key, "attempt": attempt})
                time.sleep(attempt)


def _satisfiable(header: str, size: int) -> bool:
    """Whether `header` is a single byte range with at least one byte inside a `size`-byte file."""
    match = _BYTE_RANGE.fullmatch(header.strip())
    if match is None:
        return False
    first, last = match.groups()
    if first:
        return int(first) < size and (not last or int(last) >= int(first))
    return bool(last) and int(last) > 0 and size > 0
