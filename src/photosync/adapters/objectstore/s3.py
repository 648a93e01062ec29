"""The object store on Amazon S3 (or any S3-compatible endpoint), through boto3.

Upload integrity rests on SigV4 query signing: the pre-signed PUT signs `Content-Length`,
`Content-Type` and `x-amz-checksum-sha256`, so S3 refuses a body of another length or hash, and a
client cannot change the declared type. Finalize still re-checks size and checksum with `head()`,
which is the defence that holds even against an S3-compatible store that checks less than S3 does.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import boto3
from botocore.config import Config
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from photosync.adapters.objectstore.base import (
    NoSuchMultipartUpload,
    ObjectInfo,
    ObjectStore,
    ObjectStoreError,
    PartsRefused,
    PresignedDownload,
    PresignedUpload,
    StoredPart,
)
from photosync.adapters.objectstore.sigv4 import DownloadSigner

_MISSING_OBJECT_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_NO_SUCH_UPLOAD_CODES = frozenset({"NoSuchUpload"})
# What CompleteMultipartUpload answers when the parts named are not the ones stored.
_PARTS_REFUSED_CODES = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "BadDigest", "InvalidRequest"})
_RANGE_NOT_SATISFIABLE_CODES = frozenset({"416", "InvalidRange"})
# RFC 5987 attr-char minus ALPHA / DIGIT, which `quote` never escapes.
_RFC5987_SAFE = "!#$&+-.^_`|~"
_FALLBACK_FILENAME = "download"
# GetObject parameters that become query parameters of a pre-signed GET.
_RESPONSE_OVERRIDES = {
    "ResponseContentDisposition": "response-content-disposition",
    "ResponseContentType": "response-content-type",
}


class S3ObjectStore(ObjectStore):
    def __init__(
        self,
        bucket: str,
        *,
        region: str | None,
        endpoint_url: str | None = None,
        client: Any = None,
    ) -> None:
        self._bucket = bucket
        if client is not None:
            # A client made elsewhere signs everything itself: its credentials are its own.
            self._client, self._credentials = client, None
        else:
            self._client, self._credentials = _make_client(region, endpoint_url)
        self._download_signer: DownloadSigner | None = None

    def presign_upload(
        self, key: str, *, size: int, sha256: str, content_type: str, expires_in: int
    ) -> PresignedUpload:
        if size <= 0:
            raise ValueError("an upload must declare a positive size")
        expires_at = _expiry(expires_in)
        checksum = hex_to_base64(sha256)
        headers = {
            "Content-Length": str(size),
            "Content-Type": content_type,
            "x-amz-checksum-sha256": checksum,
            # The shape the AWS SDKs send with a precomputed checksum; S3-compatible stores that
            # record a checksum only when the algorithm is named (moto among them) need it too.
            "x-amz-sdk-checksum-algorithm": "SHA256",
            # Create only: a URL used again (before it expires) cannot replace the stored original.
            "If-None-Match": "*",
        }
        url = self._presign(
            "put_object",
            {
                "Bucket": self._bucket,
                "Key": key,
                "ContentLength": size,
                "ContentType": content_type,
                "ChecksumSHA256": checksum,
                "ChecksumAlgorithm": "SHA256",
                "IfNoneMatch": "*",
            },
            expires_in,
        )
        unsigned = {name.lower() for name in headers} - signed_headers(url)
        if unsigned:
            # Without these in the signature the URL would accept any body: never hand it out.
            raise ObjectStoreError(f"the pre-signed upload URL does not sign {sorted(unsigned)}")
        return PresignedUpload(method="PUT", url=url, headers=headers, expires_at=expires_at)

    # --- multipart ---------------------------------------------------------------------------

    def create_multipart(self, key: str, *, content_type: str) -> str:
        try:
            response = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=key, ContentType=content_type, ChecksumAlgorithm="SHA256"
            )
        except (ClientError, BotoCoreError) as error:
            raise _store_error("create_multipart_upload", key, error) from error
        return str(response["UploadId"])

    def presign_part(
        self, key: str, multipart_id: str, *, number: int, size: int, sha256: str, expires_in: int
    ) -> PresignedUpload:
        if size <= 0:
            raise ValueError("a part must have a positive size")
        expires_at = _expiry(expires_in)
        checksum = hex_to_base64(sha256)
        headers = {
            "Content-Length": str(size),
            "x-amz-checksum-sha256": checksum,
            "x-amz-sdk-checksum-algorithm": "SHA256",
        }
        url = self._presign(
            "upload_part",
            {
                "Bucket": self._bucket, "Key": key, "UploadId": multipart_id, "PartNumber": number,
                "ContentLength": size, "ChecksumSHA256": checksum, "ChecksumAlgorithm": "SHA256",
            },
            expires_in,
        )
        unsigned = {name.lower() for name in headers} - signed_headers(url)
        if unsigned:
            raise ObjectStoreError(f"the pre-signed part URL does not sign {sorted(unsigned)}")
        return PresignedUpload(method="PUT", url=url, headers=headers, expires_at=expires_at)

    def list_parts(self, key: str, multipart_id: str) -> list[StoredPart]:
        parts: list[StoredPart] = []
        marker = 0
        while True:
            try:
                page = self._client.list_parts(
                    Bucket=self._bucket, Key=key, UploadId=multipart_id, PartNumberMarker=marker, MaxParts=1000
                )
            except ClientError as error:
                if _error_code(error) in _NO_SUCH_UPLOAD_CODES:
                    raise NoSuchMultipartUpload(multipart_id) from error
                raise _store_error("list_parts", key, error) from error
            except BotoCoreError as error:
                raise _store_error("list_parts", key, error) from error
            parts.extend(
                StoredPart(
                    number=int(part["PartNumber"]), size=int(part["Size"]), etag=str(part["ETag"]),
                    checksum_sha256=part.get("ChecksumSHA256"),
                )
                for part in page.get("Parts", [])
            )
            if not page.get("IsTruncated"):
                return parts
            marker = int(page["NextPartNumberMarker"])

    def complete_multipart(self, key: str, multipart_id: str, parts: list[StoredPart]) -> None:
        listed = []
        for part in parts:
            entry: dict[str, Any] = {"PartNumber": part.number, "ETag": part.etag}
            if part.checksum_sha256:
                entry["ChecksumSHA256"] = part.checksum_sha256
            listed.append(entry)
        try:
            self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=multipart_id, MultipartUpload={"Parts": listed}
            )
        except ClientError as error:
            code = _error_code(error)
            if code in _NO_SUCH_UPLOAD_CODES:
                raise NoSuchMultipartUpload(multipart_id) from error
            if code in _PARTS_REFUSED_CODES:
                raise PartsRefused(str(error)) from error
            raise _store_error("complete_multipart_upload", key, error) from error
        except BotoCoreError as error:
            raise _store_error("complete_multipart_upload", key, error) from error

    def abort_multipart(self, key: str, multipart_id: str) -> None:
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=multipart_id)
        except ClientError as error:
            if _error_code(error) not in _NO_SUCH_UPLOAD_CODES:
                raise _store_error("abort_multipart_upload", key, error) from error
        except BotoCoreError as error:
            raise _store_error("abort_multipart_upload", key, error) from error

    def browser_origin(self) -> str:
        """The origin (scheme://host[:port]) browsers reach this bucket at, for a web client's
        Content-Security-Policy. Read from a pre-signed URL, so it is exactly what clients get."""
        parts = urlsplit(self._presign("head_object", {"Bucket": self._bucket, "Key": "origin"}, 60))
        return f"{parts.scheme}://{parts.netloc}"

    def presign_download(
        self,
        key: str,
        *,
        expires_in: int,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> PresignedDownload:
        params: dict[str, Any] = {"Bucket": self._bucket, "Key": key}
        if filename is not None:
            params["ResponseContentDisposition"] = content_disposition_attachment(filename)
        if content_type is not None:
            params["ResponseContentType"] = content_type
        signed_at = _now()
        expires_at = signed_at + timedelta(seconds=expires_in)
        signer = self._signer()
        if signer is None:
            url = self._presign("get_object", params, expires_in)
        else:
            overrides = {_RESPONSE_OVERRIDES[name]: value for name, value in params.items() if name in _RESPONSE_OVERRIDES}
            url = signer.url(key, params=overrides, expires_in=expires_in)
        return PresignedDownload(url=url, expires_at=expires_at)

    def _signer(self) -> DownloadSigner | None:
        """The direct signer of download URLs, set up from one URL botocore signs (so it shares
        botocore's addressing and signing region); None for a client made elsewhere."""
        if self._credentials is None:
            return None
        if self._download_signer is None:
            probe = self._presign("get_object", {"Bucket": self._bucket, "Key": "probe"}, 60)
            self._download_signer = DownloadSigner(probe_url=probe, credentials=self._credentials)
        return self._download_signer

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self._client.head_object(Bucket=self._bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as error:
            if _error_code(error) in _MISSING_OBJECT_CODES:
                return None
            raise _store_error("head", key, error) from error
        except BotoCoreError as error:
            raise _store_error("head", key, error) from error
        return ObjectInfo(
            size=int(response["ContentLength"]),
            sha256=full_object_sha256_hex(response.get("ChecksumSHA256"), response.get("ChecksumType")),
            content_type=response.get("ContentType"),
        )

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if start < 0 or length < 0:
            raise ValueError("start and length must not be negative")
        if length == 0:
            return b""
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
            )
            return response["Body"].read()
        except ClientError as error:
            if _error_code(error) in _RANGE_NOT_SATISFIABLE_CODES:
                return b""  # `start` is at or past the end: there is nothing left to read.
            raise _store_error("read_range", key, error) from error
        except BotoCoreError as error:
            raise _store_error("read_range", key, error) from error

    def read(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise _store_error("read", key, error) from error

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
            )
        except (ClientError, BotoCoreError) as error:
            raise _store_error("put", key, error) from error

    def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        # boto3's transfer manager: multipart above its threshold, parts read from the file as sent.
        try:
            self._client.upload_file(
                str(path), self._bucket, key, ExtraArgs={"ContentType": content_type, "ChecksumAlgorithm": "SHA256"}
            )
        except (ClientError, BotoCoreError, S3UploadFailedError) as error:
            raise _store_error("put", key, error) from error

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            # S3 answers 204 for a missing key; some compatible stores answer NoSuchKey instead.
            if _error_code(error) not in _MISSING_OBJECT_CODES:
                raise _store_error("delete", key, error) from error
        except BotoCoreError as error:
            raise _store_error("delete", key, error) from error

    def _presign(self, operation: str, params: dict[str, Any], expires_in: int) -> str:
        try:
            return self._client.generate_presigned_url(operation, Params=params, ExpiresIn=expires_in)
        except (ClientError, BotoCoreError) as error:
            raise _store_error(f"presign {operation}", params["Key"], error) from error


def _make_client(region: str | None, endpoint_url: str | None) -> tuple[Any, Any]:
    """The S3 client, and the credentials of its session (None when none are configured)."""
    config = Config(
        signature_version="s3v4",
        s3={
            # Virtual-hosted URLs on AWS; a custom endpoint (MinIO, moto, ...) is usually one host.
            "addressing_style": "path" if endpoint_url else "virtual",
            # `bucket.s3.us-east-1.amazonaws.com`, not the global endpoint that may redirect.
            "us_east_1_regional_endpoint": "regional",
        },
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=30,
    )
    session = boto3.session.Session()
    client = session.client("s3", region_name=region, endpoint_url=endpoint_url, config=config)
    return client, session.get_credentials()


def hex_to_base64(sha256_hex: str) -> str:
    """The API's lowercase hex SHA-256 as the base64 of the raw digest, as S3 headers carry it."""
    try:
        digest = bytes.fromhex(sha256_hex)
    except ValueError:
        raise ValueError("sha256 must be 64 hex characters") from None
    if len(digest) != 32:
        raise ValueError("sha256 must be 64 hex characters")
    return base64.b64encode(digest).decode("ascii")


def full_object_sha256_hex(checksum: str | None, checksum_type: str | None = None) -> str | None:
    """Hex SHA-256 of the whole object from S3's base64 checksum.

    A multipart upload's composite checksum ("<base64>-<parts>", ChecksumType COMPOSITE) is a hash
    of the parts' hashes, not of the object, so it says nothing comparable: None.
    """
    if not checksum or checksum_type == "COMPOSITE" or "-" in checksum:
        return None
    try:
        digest = base64.b64decode(checksum, validate=True)
    except binascii.Error:
        return None
    return digest.hex() if len(digest) == 32 else None


def content_disposition_attachment(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266, RFC 5987).

    Control characters and path separators are replaced first: they have no business in a saved
    file name, and nothing a user names a file can end the header or inject another parameter.
    """
    cleaned = "".join(
        "_" if unicodedata.category(ch).startswith("C") or ch in "/\\" else ch for ch in filename
    ).strip()
    if not cleaned:
        cleaned = _FALLBACK_FILENAME
    ascii_only = unicodedata.normalize("NFKD", cleaned).encode("ascii", "ignore").decode("ascii")
    fallback = "".join("_" if ch in '"%;' else ch for ch in ascii_only).strip() or _FALLBACK_FILENAME
    encoded = quote(cleaned, safe=_RFC5987_SAFE, encoding="utf-8")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def signed_headers(presigned_url: str) -> set[str]:
    """The header names a SigV4 pre-signed URL binds (`X-Amz-SignedHeaders`), lowercase."""
    values = parse_qs(urlsplit(presigned_url).query).get("X-Amz-SignedHeaders", [])
    return {name for value in values for name in value.lower().split(";") if name}


def _now() -> datetime:
    # Truncated like X-Amz-Date, so an expiry computed from it is never later than the real one.
    return datetime.now(timezone.utc).replace(microsecond=0)


def _expiry(expires_in: int) -> datetime:
    # Taken before signing, so it is never later than the real expiry.
    return _now() + timedelta(seconds=expires_in)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _store_error(action: str, key: str, error: Exception) -> ObjectStoreError:
    return ObjectStoreError(f"S3 {action} of {key!r} failed: {error}")
