"""Pre-signed S3 GET URLs (SigV4 query signing) made directly, for the list responses that carry two
per photo: botocore's generate_presigned_url sends each URL through its whole request pipeline
(parameter validation, the endpoint rules engine, serialisers, event hooks) and derives the signing
key again every time, which made signing most of the cost of a 500-photo page (bench/bench_albums.py).

This builds the canonical request of the one shape PhotoSync signs (GET of an object, only `host`
signed, optional response-* overrides) and keeps the day's signing key. What it must agree with is
taken from botocore itself: the URL prefix (addressing style, endpoint) and the signing region come
from one URL botocore signed, and the credentials are the client's session credentials, refreshed
as botocore refreshes them. tests/unit/test_s3_signing.py checks it produces botocore's URLs.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
_PROBE_KEY = "probe"
_DEFAULT_PORTS = {"https": ":443", "http": ":80"}


def _encode(value: str) -> str:
    # RFC 3986 unreserved characters stay, as SigV4 requires (and botocore's percent_encode does).
    return quote(value, safe="-_.~")


class DownloadSigner:
    def __init__(self, *, probe_url: str, credentials: Any) -> None:
        """`probe_url`: a GET URL botocore pre-signed for the key `probe` of the bucket;
        `credentials`: botocore Credentials (or RefreshableCredentials)."""
        parts = urlsplit(probe_url)
        if not parts.path.endswith("/" + _PROBE_KEY):
            raise ValueError(f"unexpected pre-signed URL shape: {parts.path!r}")
        self._origin = f"{parts.scheme}://{parts.netloc}"
        default_port = _DEFAULT_PORTS.get(parts.scheme, "")
        self._host = parts.netloc[: -len(default_port)] if default_port and parts.netloc.endswith(default_port) else parts.netloc
        self._path_prefix = parts.path[: -len(_PROBE_KEY)]
        credential = parse_qs(parts.query)["X-Amz-Credential"][0]  # key id/day/region/service/aws4_request
        self._region, self._service = credential.split("/")[-3:-1]
        self._credentials = credentials
        self._signing_key: tuple[str, str, bytes] | None = None  # (secret, day, key)

    def url(self, key: str, *, params: dict[str, str], expires_in: int, now: datetime) -> str:
        """The URL for GET `key` with `params` (response-content-type, ...), valid `expires_in`
        seconds from `now` (UTC)."""
        frozen = self._credentials.get_frozen_credentials()
        day, stamp = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        query = {
            **params,
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{frozen.access_key}/{scope}",
            "X-Amz-Date": stamp,
            "X-Amz-Expires": str(expires_in),
            "X-Amz-SignedHeaders": "host",
        }
        if frozen.token:
            query["X-Amz-Security-Token"] = frozen.token
        # Sorted by encoded name, then value, as SigV4 defines the canonical query string.
        canonical_query = "&".join(f"{k}={v}" for k, v in sorted((_encode(k), _encode(v)) for k, v in query.items()))
        path = self._path_prefix + quote(key, safe="/~")
        canonical_request = f"GET\n{path}\n{canonical_query}\nhost:{self._host}\n\nhost\nUNSIGNED-PAYLOAD"
        string_to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        signature = hmac.new(self._key(frozen.secret_key, day), string_to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{self._origin}{path}?{canonical_query}&X-Amz-Signature={signature}"

    def _key(self, secret: str, day: str) -> bytes:
        cached = self._signing_key
        if cached is not None and cached[0] == secret and cached[1] == day:
            return cached[2]
        key = f"AWS4{secret}".encode()
        for part in (day, self._region, self._service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self._signing_key = (secret, day, key)
        return key
