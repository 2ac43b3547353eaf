from __future__ import annotations

from chalicelib.events.domain import Event, EventStatus, apply_changes, date_sort_key


def test_available_seats_never_negative_after_a_capacity_cut():
    event = Event("e", "t", "2026-01-01", capacity=2, confirmed_count=5)
    assert event.available_seats == 0


def test_apply_changes_sets_fields_bumps_version_and_keeps_counts():
    event = Event("e", "t", "2026-01-01", capacity=2, confirmed_count=1, version=3)
    changed = apply_changes(event, {"title": "new", "status": "closed", "waitlistEnabled": True}, "now")
    assert (changed.title, changed.status, changed.waitlist_enabled) == ("new", EventStatus.CLOSED, True)
    assert (changed.version, changed.updated_at, changed.confirmed_count) == (4, "now", 1)


def test_date_sort_key_orders_dates_and_offsets_chronologically():
    values = ["2026-06-01T23:30:00-02:00", "2026-06-01", "2026-06-02T00:00:00+00:00", "2026-05-31T12:00:00"]
    ordered = sorted(values, key=date_sort_key)
    assert ordered == [
        "2026-05-31T12:00:00",
        "2026-06-01",
        "2026-06-02T00:00:00+00:00",
        "2026-06-01T23:30:00-02:00",
    ]
