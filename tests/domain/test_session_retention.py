"""Session rows are kept while the session is active and deleted once it has been quiet for the retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.session_retention import last_activity, quiet_sessions

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_the_last_activity_is_the_newest_time_a_row_records() -> None:
    transcript = {"updated_at": "2026-11-20T10:00:00Z", "ended_at": "2026-11-21T09:00:00Z"}
    index = {"tasks": [{"at": "2026-11-01T00:00:00Z"}, {"at": "2026-11-27T08:30:00+00:00"}]}
    assert last_activity(transcript) == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert last_activity(index) == datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    assert last_activity({"tasks": []}) is None


def test_a_row_is_kept_as_it_is_until_the_session_has_been_quiet_for_the_retention() -> None:
    prune = quiet_sessions(timedelta(days=30))
    active = {"updated_at": (NOW - timedelta(days=29, hours=23)).isoformat()}
    quiet = {"updated_at": (NOW - timedelta(days=30)).isoformat()}
    timeless = {"turns": 3}
    assert prune(active, NOW) is active
    assert prune(quiet, NOW) is None
    assert prune(timeless, NOW) is timeless
