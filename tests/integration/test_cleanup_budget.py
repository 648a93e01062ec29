"""The sweep's time budget: it stops at its deadline, the phases take turns so a backlog in one
does not starve the others, and a reservation whose check keeps failing is counted and goes last.
Time is a fake clock that each storage call moves on, as slow HEAD requests would."""

from __future__ import annotations

from photosync.adapters.objectstore import ObjectStoreError
from photosync.handlers import cleanup as cleanup_handler
from photosync.local.lambda_runtime import LocalLambdaContext
from photosync.services import cleanup, finalize, trash
from tests.conftest import new_user
from tests.integration.test_cleanup import SCHEDULED_EVENT, age_everything
from tests.integration.test_uploads import distinct_jpeg, grant, object_key


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SlowStore:
    """The real store, with every call taking `seconds` of the fake clock; `failing` keys fail."""

    def __init__(self, store, clock: FakeClock, seconds: float, failing: set[str] = frozenset()) -> None:
        self._store, self._clock, self._seconds, self._failing = store, clock, seconds, failing
        self.calls: list[tuple[str, str]] = []

    def __getattr__(self, name):
        real = getattr(self._store, name)

        def slow(key, *args, **kwargs):
            self._clock.now += self._seconds
            self.calls.append((name, key))
            if key in self._failing:
                raise ObjectStoreError(f"injected failure of {name}")
            return real(key, *args, **kwargs)

        return slow


def expired_reservations(uow, store, owner, count: int, first: int = 0) -> list:
    return [grant(uow, store, owner, distinct_jpeg(first + n)) for n in range(count)]


def a_deleted_photo(uow, store, owner, n: int) -> str:
    data = distinct_jpeg(n)
    granted = grant(uow, store, owner, data)
    key = object_key(owner, granted.upload_id)
    store.put(key, data, content_type="image/jpeg")
    finalize.finalize_object(uow, store, key)
    trash.move_to_trash(uow, owner_id=owner, photo_id=granted.upload_id)
    with uow.transaction():
        # Queue its removal without removing it: the outbox is what the sweep must get to.
        [photo] = uow.photos.delete_trashed([granted.upload_id], owner_id=owner)
        uow.users.refund(owner, photo.size)
        uow.deletions.add([photo.object_key])
    return key


def test_the_sweep_stops_at_its_deadline_and_the_next_run_goes_on(uow, store):
    owner = new_user(uow)
    expired_reservations(uow, store, owner, 12)
    age_everything(uow, seconds=7200)
    clock = FakeClock()
    slow = SlowStore(store, clock, seconds=1.0)

    report = cleanup.run_cleanup(
        uow, slow, pending_ttl_seconds=3600, deadline=cleanup.Deadline.after(5, clock), turn_size=4
    )

    assert report.stopped_at_deadline
    assert report.released == 5 and clock.now == 5.0  # one HEAD per second, none after the deadline
    assert uow.users.get(owner).storage_pending > 0

    rest = cleanup.run_cleanup(uow, slow, pending_ttl_seconds=3600, deadline=cleanup.Deadline.after(60, clock))

    assert (rest.released, rest.stopped_at_deadline) == (7, False)
    assert uow.users.get(owner).storage_pending == 0


def test_a_backlog_of_expired_reservations_does_not_starve_the_outbox(uow, store):
    owner = new_user(uow)
    expired_reservations(uow, store, owner, 20, first=100)
    queued_key = a_deleted_photo(uow, store, owner, 200)
    age_everything(uow, seconds=7200)
    clock = FakeClock()
    slow = SlowStore(store, clock, seconds=1.0)

    report = cleanup.run_cleanup(
        uow, slow, pending_ttl_seconds=3600, deadline=cleanup.Deadline.after(6, clock), turn_size=4
    )

    assert report.stopped_at_deadline and report.released < 20
    assert report.deleted_objects == 1 and store.head(queued_key) is None
    # The outbox got its turn after the first batch of reservations, not after all of them.
    assert slow.calls.index(("delete", queued_key)) == 4


def test_a_reservation_whose_check_keeps_failing_is_counted_and_goes_after_the_others(uow, store):
    owner = new_user(uow)
    poisoned, healthy = expired_reservations(uow, store, owner, 2, first=300)
    age_everything(uow, seconds=7200)
    uow.conn.execute(  # the poisoned one is the oldest: first in line
        "UPDATE pending_uploads SET created_at = created_at - interval '1 hour' WHERE id = %s", (poisoned.upload_id,)
    )
    poisoned_key = object_key(owner, poisoned.upload_id)
    clock = FakeClock()
    slow = SlowStore(store, clock, seconds=1.0, failing={poisoned_key})

    first = cleanup.run_cleanup(uow, slow, pending_ttl_seconds=3600, deadline=cleanup.Deadline.after(1, clock))

    assert first.released == 0 and "attempt 1" in first.errors[0]
    attempts = uow.conn.execute(
        "SELECT sweep_attempts FROM pending_uploads WHERE id = %s", (poisoned.upload_id,)
    ).fetchone()["sweep_attempts"]
    assert attempts == 1

    second = cleanup.run_cleanup(uow, slow, pending_ttl_seconds=3600, deadline=cleanup.Deadline.after(1, clock))

    assert second.released == 1  # the healthy one, though it is younger
    assert uow.uploads.get(healthy.upload_id, owner_id=owner).status == "failed"


def test_one_run_takes_up_a_failing_reservation_once(uow, store):
    owner = new_user(uow)
    (poisoned,) = expired_reservations(uow, store, owner, 1, first=400)
    age_everything(uow, seconds=7200)
    slow = SlowStore(store, FakeClock(), seconds=0, failing={object_key(owner, poisoned.upload_id)})

    report = cleanup.run_cleanup(uow, slow, pending_ttl_seconds=3600, turn_size=1)

    assert len(report.errors) == 1 and slow.calls == [("head", object_key(owner, poisoned.upload_id))]


def test_the_handler_gives_the_sweep_the_function_s_remaining_time_less_a_margin(lambda_env, monkeypatch):
    given = []
    monkeypatch.setattr(cleanup, "run_cleanup", lambda *args, deadline, **kwargs: given.append(deadline) or cleanup.CleanupReport())
    context = LocalLambdaContext("cleanup", timeout_seconds=300)

    cleanup_handler.handler(SCHEDULED_EVENT, context)

    seconds_left = given[0].at - given[0].clock()
    assert 200 < seconds_left < 300 * (1 - cleanup_handler.SAFETY_SHARE) + 0.01
