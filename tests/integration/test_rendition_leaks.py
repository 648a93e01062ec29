"""A thumbnail stored when its preview could not be is recorded with the photo, so deleting the
photo removes it too (it used to stay in storage, referenced by nothing)."""

from __future__ import annotations

import pytest

from photosync.adapters.objectstore import ObjectStoreError
from photosync.services import cleanup, finalize, renditions, trash
from tests.conftest import new_user
from tests.integration.test_cleanup import age_everything
from tests.integration.test_uploads import distinct_jpeg, grant, object_key
from tests.support.renditions import MemoryQueue, handle_queued


class PreviewsFail:
    """The real store, except that every preview write fails."""

    def __init__(self, store) -> None:
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def put(self, key, data, *, content_type):
        if key.startswith("previews/"):
            raise ObjectStoreError("injected failure of the preview write")
        return self._store.put(key, data, content_type=content_type)


def a_photo_whose_preview_failed(uow, store, n: int):
    owner = new_user(uow)
    data = distinct_jpeg(n, width=1600, height=1200)
    granted = grant(uow, store, owner, data)
    store.put(object_key(owner, granted.upload_id), data, content_type="image/jpeg")
    queue = MemoryQueue()
    assert finalize.finalize_object(uow, store, object_key(owner, granted.upload_id), queue=queue).outcome == "finalized"
    # The renditions function stores the thumbnail, then fails on the preview: the message is retried.
    with pytest.raises(renditions.RenditionsNotStored):
        handle_queued(uow, PreviewsFail(store), queue)
    return owner, uow.photos.get(granted.upload_id, owner_id=owner)


def test_the_thumbnail_of_a_photo_whose_preview_failed_goes_with_the_photo(uow, store):
    owner, photo = a_photo_whose_preview_failed(uow, store, 600)
    assert photo.renditions == "pending" and photo.thumbnail_key is not None and photo.preview_key is None
    assert store.head(photo.thumbnail_key) is not None

    trash.move_to_trash(uow, owner_id=owner, photo_id=photo.id)
    trash.delete_forever(uow, store, owner_id=owner, photo_id=photo.id)

    assert store.head(photo.thumbnail_key) is None


def test_a_retry_that_again_stores_only_the_thumbnail_records_it(uow, store):
    owner, photo = a_photo_whose_preview_failed(uow, store, 601)
    uow.conn.execute("UPDATE photos SET thumbnail_key = NULL WHERE id = %s", (photo.id,))  # as finalize did before
    age_everything(uow, seconds=3600)

    cleanup.run_cleanup(uow, PreviewsFail(store), pending_ttl_seconds=3600)

    retried = uow.photos.get(photo.id, owner_id=owner)
    assert retried.thumbnail_key == photo.thumbnail_key and retried.renditions == "pending"
