"""The local store, like S3 with `If-None-Match: *`, creates an object through an upload link once:
a link used again cannot replace the finalized original."""

from __future__ import annotations

import httpx

from tests.e2e.api import ApiUser
from tests.support.images import make_jpeg


def test_a_used_upload_link_cannot_replace_the_stored_original(server):
    user = ApiUser(server.base_url)
    data = make_jpeg(model="reused link")
    granted = user.grant(data).json()
    assert httpx.put(granted["url"], headers=granted["headers"], content=data).status_code == 200
    assert user.wait_for(granted["upload_id"])["status"] == "complete"

    again = httpx.put(granted["url"], headers=granted["headers"], content=data)

    assert again.status_code == 412
    assert again.json()["error"]["code"] == "precondition_failed"
    link = user.request("GET", f"/photos/{granted['upload_id']}/download").json()
    assert httpx.get(link["url"]).content == data
    assert user.me()["storage_used"] == len(data)
