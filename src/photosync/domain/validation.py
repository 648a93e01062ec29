"""Validation of what clients send. Pure functions: a bad value becomes an `InvalidRequest` that
names the field, before anything touches the database or the object store."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from photosync.domain.errors import DomainError, FileTooLarge, InvalidRequest, UnsupportedMediaType
from photosync.domain.media_types import ACCEPTED_FORMATS_TEXT, ACCEPTED_TYPES

SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
MAX_FILENAME_CHARS = 255
MAX_ALBUM_NAME_CHARS = 200
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
MAX_LOOKUP_HASHES = 1000
MAX_BATCH_FILES = 100
# Aliases some clients send; what counts is the canonical name.
_CONTENT_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}


# S3's limits, which the contract adopts: a single PUT takes at most 5 GiB; a multipart upload's
# parts are at least 5 MiB (but the last) and number at most 10,000.
MAX_SINGLE_UPLOAD_BYTES = 5 * 1024**3
MIN_MULTIPART_BYTES = 5 * 1024**2
MAX_PARTS = 10_000
MAX_PARTS_PER_REQUEST = 100


@dataclass(frozen=True)
class UploadRequest:
    filename: str
    content_type: str
    size: int
    sha256: str
    multipart: bool = False


@dataclass(frozen=True)
class PartRequest:
    number: int
    sha256: str


@dataclass(frozen=True)
class CompletedPart:
    number: int
    etag: str


def parse_json_object(body: str | bytes | None) -> dict[str, Any]:
    """The request body as a JSON object whose every string PostgreSQL can store.

    The contract's body is UTF-8 JSON: bytes that are not UTF-8 and strings JSON escapes can spell
    but no database text can hold (a lone surrogate such as "\\ud800", or NUL) are the client's
    mistake, so they are refused here for every route rather than failing later as a server fault.
    """
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("request body is not valid UTF-8") from None
    if body is None or body.strip() == "":
        raise InvalidRequest("request body must be a JSON object")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidRequest("request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidRequest("request body must be a JSON object")
    _require_storable_strings(value)
    return value


def _require_storable_strings(document: Any) -> None:
    """Every key and string value of `document` is text PostgreSQL can store: no NUL, no lone
    surrogate. Iterative: json.loads already bounds the depth, this walk must add no limit of its own."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise InvalidRequest("request body must not contain NUL characters (\\u0000)")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidRequest("request body holds a lone surrogate, which is not valid Unicode text") from None


def _required(data: dict[str, Any], field: str, kind: type, kind_name: str) -> Any:
    if field not in data:
        raise InvalidRequest(f"'{field}' is required", field=field)
    value = data[field]
    # bool is an int in Python, never a size or a count here.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidRequest(f"'{field}' must be {kind_name}", field=field)
    return value


def parse_upload_request(data: dict[str, Any], *, max_upload_bytes: int) -> UploadRequest:
    filename = _required(data, "filename", str, "a string")
    content_type = _required(data, "content_type", str, "a string")
    size = _required(data, "size", int, "an integer number of bytes")
    sha256 = _required(data, "sha256", str, "a string")
    filename = validate_filename(filename)
    if size <= 0:
        raise InvalidRequest("'size' must be greater than 0", field="size")
    if not SHA256_PATTERN.fullmatch(sha256):
        raise InvalidRequest("'sha256' must be 64 lowercase hexadecimal characters", field="sha256")
    canonical_type = content_type.strip().lower().split(";")[0].strip()
    canonical_type = _CONTENT_TYPE_ALIASES.get(canonical_type, canonical_type)
    if canonical_type not in ACCEPTED_TYPES:
        raise UnsupportedMediaType(f"{content_type!r} is not supported: upload {ACCEPTED_FORMATS_TEXT}")
    multipart = data.get("multipart", False)
    if not isinstance(multipart, bool):
        raise InvalidRequest("'multipart' must be true or false", field="multipart")
    if size > max_upload_bytes:
        raise FileTooLarge(
            f"the file is {size} bytes; the largest accepted upload is {max_upload_bytes} bytes",
            max_upload_bytes=max_upload_bytes,
        )
    if multipart and size < MIN_MULTIPART_BYTES:
        raise InvalidRequest(
            f"a multipart upload is for files of at least {MIN_MULTIPART_BYTES} bytes: send this one in one PUT",
            field="multipart",
        )
    if not multipart and size > MAX_SINGLE_UPLOAD_BYTES:
        raise FileTooLarge(
            f"the file is {size} bytes; one PUT takes at most {MAX_SINGLE_UPLOAD_BYTES} bytes: "
            'ask for a multipart upload ("multipart": true)',
            max_upload_bytes=MAX_SINGLE_UPLOAD_BYTES,  # the largest this request, without parts, takes
        )
    return UploadRequest(filename=filename, content_type=canonical_type, size=size, sha256=sha256, multipart=multipart)


def _part_number(item: dict[str, Any], field: str) -> int:
    number = item.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= MAX_PARTS:
        raise InvalidRequest(f"every part's 'number' must be a whole number from 1 to {MAX_PARTS}", field=field)
    return number


def _part_items(data: dict[str, Any], *, max_items: int) -> list[dict[str, Any]]:
    items = _required(data, "parts", list, "a list")
    if not 1 <= len(items) <= max_items:
        raise InvalidRequest(f"'parts' must hold 1 to {max_items} parts", field="parts")
    if not all(isinstance(item, dict) for item in items):
        raise InvalidRequest("every part must be an object", field="parts")
    return items


def parse_part_requests(data: dict[str, Any]) -> list[PartRequest]:
    """`POST /uploads/{id}/parts`: 1-100 distinct part numbers, each with its SHA-256."""
    parts = []
    for item in _part_items(data, max_items=MAX_PARTS_PER_REQUEST):
        number = _part_number(item, "parts")
        sha256 = item.get("sha256")
        if not isinstance(sha256, str) or not SHA256_PATTERN.fullmatch(sha256):
            raise InvalidRequest("every part's 'sha256' must be 64 lowercase hexadecimal characters", field="parts")
        parts.append(PartRequest(number, sha256))
    if len({part.number for part in parts}) != len(parts):
        raise InvalidRequest("a part number appears twice in 'parts'", field="parts")
    return parts


def parse_completed_parts(data: dict[str, Any]) -> list[CompletedPart]:
    """`POST /uploads/{id}/complete`: every part, as (number, etag); their order is checked later,
    against the upload's part count."""
    parts = []
    for item in _part_items(data, max_items=MAX_PARTS):
        number = _part_number(item, "parts")
        etag = item.get("etag")
        if not isinstance(etag, str) or not 1 <= len(etag) <= 200:
            raise InvalidRequest("every part's 'etag' must be the ETag its upload answered", field="parts")
        parts.append(CompletedPart(number, etag))
    return parts


def parse_upload_batch(data: dict[str, Any], *, max_upload_bytes: int) -> list[UploadRequest | DomainError]:
    """`POST /uploads/batch`: each entry of `files` parsed as the body of `POST /uploads`.

    A body that is not a list of 1 to 100 files is refused whole; an entry that would be refused on
    its own becomes that file's error, so the other files still get their answers."""
    files = _required(data, "files", list, "a list of files")
    if not 1 <= len(files) <= MAX_BATCH_FILES:
        raise InvalidRequest(f"'files' must hold 1 to {MAX_BATCH_FILES} files", field="files")
    parsed: list[UploadRequest | DomainError] = []
    for entry in files:
        if not isinstance(entry, dict):
            parsed.append(InvalidRequest("each file must be an object: the body of POST /uploads"))
            continue
        try:
            parsed.append(parse_upload_request(entry, max_upload_bytes=max_upload_bytes))
        except DomainError as refusal:
            parsed.append(refusal)
    return parsed


def validate_filename(filename: str) -> str:
    if filename.strip() == "":
        raise InvalidRequest("'filename' must not be empty", field="filename")
    if len(filename) > MAX_FILENAME_CHARS:
        raise InvalidRequest(f"'filename' must be at most {MAX_FILENAME_CHARS} characters", field="filename")
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in filename) or "\x00" in filename:
        raise InvalidRequest("'filename' must not contain control characters", field="filename")
    return filename


def parse_album_name(data: dict[str, Any]) -> str:
    name = _required(data, "name", str, "a string").strip()
    if not 1 <= len(name) <= MAX_ALBUM_NAME_CHARS:
        raise InvalidRequest(
            f"'name' must be 1 to {MAX_ALBUM_NAME_CHARS} characters after trimming", field="name"
        )
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in name):
        raise InvalidRequest("'name' must not contain control characters", field="name")
    return name


def parse_uuid(value: str | None, what: str) -> uuid.UUID:
    try:
        parsed = uuid.UUID(value or "")
    except ValueError:
        raise InvalidRequest(f"{what} must be a UUID") from None
    # uuid.UUID also accepts braces, URNs and no hyphens; ids in this API have one spelling.
    if str(parsed) != (value or "").lower():
        raise InvalidRequest(f"{what} must be a UUID")
    return parsed


def parse_uuid_list(data: dict[str, Any], field: str, *, max_items: int) -> list[uuid.UUID]:
    values = _required(data, field, list, "a list")
    if not 1 <= len(values) <= max_items:
        raise InvalidRequest(f"'{field}' must hold 1 to {max_items} ids", field=field)
    if not all(isinstance(v, str) for v in values):
        raise InvalidRequest(f"'{field}' must hold UUID strings", field=field)
    return list(dict.fromkeys(parse_uuid(v, f"every value of '{field}'") for v in values))


def parse_sha256_list(data: dict[str, Any]) -> list[str]:
    values = _required(data, "sha256", list, "a list of SHA-256 strings")
    if not 1 <= len(values) <= MAX_LOOKUP_HASHES:
        raise InvalidRequest(f"'sha256' must hold 1 to {MAX_LOOKUP_HASHES} values", field="sha256")
    for value in values:
        if not isinstance(value, str) or not SHA256_PATTERN.fullmatch(value):
            raise InvalidRequest(
                "every 'sha256' value must be 64 lowercase hexadecimal characters", field="sha256"
            )
    return list(dict.fromkeys(values))


def parse_limit(raw: str | None, *, maximum: int = MAX_PAGE_SIZE, default: int = DEFAULT_PAGE_SIZE) -> int:
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= maximum:
        raise InvalidRequest(f"'limit' must be a whole number from 1 to {maximum}", field="limit")
    return int(raw)


MEMBER_ROLES = ("viewer", "contributor")
MAX_EMAIL_CHARS = 254
# One "@" between a non-empty local part and a domain with a dot; no spaces or control characters.
# Deliverability is not checked: an invitation only waits for someone to sign in with that address.
_EMAIL_PATTERN = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")
MAX_LINK_PASSWORD_CHARS = 1024


@dataclass(frozen=True)
class LinkRequest:
    expires_at: datetime | None
    password: str | None
    allow_download: bool


def parse_email(data: dict[str, Any]) -> str:
    email = _required(data, "email", str, "a string").strip().lower()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL_PATTERN.fullmatch(email):
        raise InvalidRequest("'email' must be an email address", field="email")
    return email


def parse_role(data: dict[str, Any]) -> str:
    role = _required(data, "role", str, "a string")
    if role not in MEMBER_ROLES:
        raise InvalidRequest("'role' must be 'viewer' or 'contributor'", field="role")
    return role


def parse_link_request(data: dict[str, Any], *, now: datetime) -> LinkRequest:
    expires_at = None
    if data.get("expires_at") is not None:
        raw = data["expires_at"]
        if not isinstance(raw, str):
            raise InvalidRequest("'expires_at' must be an RFC 3339 time", field="expires_at")
        expires_at = parse_rfc3339(raw, "expires_at")
        if expires_at <= now:
            raise InvalidRequest("'expires_at' must be in the future", field="expires_at")
    password = data.get("password")
    if password is not None:
        if not isinstance(password, str) or not 1 <= len(password) <= MAX_LINK_PASSWORD_CHARS:
            raise InvalidRequest(
                f"'password' must be a string of 1 to {MAX_LINK_PASSWORD_CHARS} characters", field="password"
            )
    allow_download = data.get("allow_download", True)
    if not isinstance(allow_download, bool):
        raise InvalidRequest("'allow_download' must be true or false", field="allow_download")
    return LinkRequest(expires_at=expires_at, password=password, allow_download=allow_download)


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def parse_rfc3339(raw: str, field: str) -> datetime:
    """A time with its offset (RFC 3339); one without an offset would mean different moments to
    different clients, so it is refused."""
    if not _RFC3339.fullmatch(raw):
        raise InvalidRequest(f"'{field}' must be an RFC 3339 time with an offset, e.g. 2030-01-31T12:00:00Z", field=field)
    text = raw.upper().replace(" ", "T").replace("Z", "+00:00")
    if "." in text:  # Python reads at most microseconds
        head, tail = text.split(".", 1)
        digits = re.match(r"\d+", tail).group(0)  # type: ignore[union-attr]
        text = f"{head}.{digits[:6].ljust(6, '0')}{tail[len(digits):]}"
    try:
        # In UTC, as it is stored and answered; a moment past year 9999 there is refused here.
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidRequest(f"'{field}' is not a valid time", field=field) from None
