"""Pre-signed S3 GET URLs for the list responses that carry two per photo, signed by botocore's own
SigV4 query signer (`S3SigV4QueryAuth`) without the client's per-request pipeline:
generate_presigned_url sends each URL through parameter validation, the endpoint rules engine,
serialisers and event hooks, which made signing most of the cost of a 500-photo page
(bench/bench_albums.py).

What the pipeline would decide is taken from botocore once: the URL prefix (addressing style,
endpoint) and the signing region come from one URL the client pre-signed, and the credentials are
the client's session credentials, refreshed as botocore refreshes them.
tests/unit/test_s3_signing.py checks the URLs are the ones the client would sign.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest

_PROBE_KEY = "probe"


class DownloadSigner:
    def __init__(self, *, probe_url: str, credentials: Any) -> None:
        """`probe_url`: a GET URL botocore pre-signed for the key `probe` of the bucket;
        `credentials`: botocore Credentials (or RefreshableCredentials)."""
        parts = urlsplit(probe_url)
        if not parts.path.endswith("/" + _PROBE_KEY):
            raise ValueError(f"unexpected pre-signed URL shape: {parts.path!r}")
        self._prefix = f"{parts.scheme}://{parts.netloc}{parts.path[: -len(_PROBE_KEY)]}"
        credential = parse_qs(parts.query)["X-Amz-Credential"][0]  # key id/day/region/service/aws4_request
        self._region, self._service = credential.split("/")[-3:-1]
        self._credentials = credentials

    def url(self, key: str, *, params: dict[str, str], expires_in: int) -> str:
        """The URL for GET `key` with `params` (response-content-type, ...), valid `expires_in`
        seconds from now."""
        # The key is quoted as botocore's serialiser quotes an S3 key in a path.
        request = AWSRequest(method="GET", url=self._prefix + quote(key, safe="/~"), params=params)
        signer = S3SigV4QueryAuth(self._credentials.get_frozen_credentials(), self._service, self._region, expires=expires_in)
        signer.add_auth(request)
        return request.url
