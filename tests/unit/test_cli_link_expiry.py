"""`photosync albums link --expires WHEN`: durations, dates and times become one UTC moment in the future."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import typer

from photosync.cli.sharing_commands import parse_expiry

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "after"), [
    ("30m", timedelta(minutes=30)), ("12h", timedelta(hours=12)), ("7d", timedelta(days=7)),
    ("2w", timedelta(weeks=2)), (" 3 D ", timedelta(days=3)),
])
def test_a_duration_counts_from_now(text: str, after: timedelta) -> None:
    assert parse_expiry(text, now=NOW) == NOW + after


def test_a_date_means_the_end_of_that_day_and_a_time_with_an_offset_is_kept() -> None:
    end_of_day = parse_expiry("2026-12-31", now=NOW)
    assert end_of_day.tzinfo == timezone.utc
    assert end_of_day == datetime(2027, 1, 1).astimezone().astimezone(timezone.utc)
    assert parse_expiry("2026-12-24T18:00+01:00", now=NOW) == datetime(2026, 12, 24, 17, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["soon", "7", "-2d", "2026-13-01", ""])
def test_what_is_not_a_time_is_refused_with_the_forms_that_work(text: str) -> None:
    with pytest.raises(typer.BadParameter, match="a duration"):
        parse_expiry(text, now=NOW)


@pytest.mark.parametrize("text", ["0m", "2026-11-30", "2026-12-01T19:00Z"])
def test_a_moment_already_past_is_refused(text: str) -> None:
    with pytest.raises(typer.BadParameter, match="in the future"):
        parse_expiry(text, now=NOW)
