"""How the store writes times: one form whatever zone the moment comes in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from callboard.storage.timestamps import to_text


def test_a_moment_is_written_the_same_in_utc_and_in_any_other_zone() -> None:
    moment = datetime(2026, 11, 30, 22, 5, 1, 7, tzinfo=UTC)
    assert to_text(moment) == "2026-11-30T22:05:01.000007Z"
    assert to_text(moment.astimezone(timezone(timedelta(hours=-5)))) == to_text(moment)
    assert to_text(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000000Z"


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_text(datetime(2026, 11, 30, 22, 5))
