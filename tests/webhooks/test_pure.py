"""The pure parts: signing and verification, backoff schedule, URL policy, change -> notification."""

from __future__ import annotations

import pytest

from chalicelib.webhooks import notifications as n
from chalicelib.webhooks import policy, schedule, signing

# The reference vector of the Standard Webhooks libraries (and Svix's).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = '{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_standard_webhooks_vector():
    assert signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY) == EXPECTED
    assert signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY.encode()) == EXPECTED


def test_verify_accepts_within_tolerance_and_rejects_tampering_and_replays():
    headers = signing.headers([SECRET], MSG_ID, TIMESTAMP, BODY)
    signing.verify(SECRET, headers, BODY, now=TIMESTAMP + 299)
    signing.verify(SECRET, {k.upper(): v for k, v in headers.items()}, BODY, now=TIMESTAMP - 299)
    for now in (TIMESTAMP + 301, TIMESTAMP - 301):
        with pytest.raises(signing.InvalidSignature, match="tolerance"):
            signing.verify(SECRET, headers, BODY, now=now)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(SECRET, headers, BODY + " ", now=TIMESTAMP)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(SECRET, {**headers, "webhook-id": "msg_other"}, BODY, now=TIMESTAMP)
    with pytest.raises(signing.InvalidSignature, match="missing"):
        signing.verify(SECRET, {}, BODY, now=TIMESTAMP)
    other = signing.secret_from_bytes(b"x" * 32)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(other, headers, BODY, now=TIMESTAMP)


def test_rotation_header_carries_one_signature_per_secret_and_both_verify():
    new = signing.secret_from_bytes(b"\x01" * 32)
    header = signing.signature_header([new, SECRET], MSG_ID, TIMESTAMP, BODY)
    assert header.split(" ")[1] == EXPECTED and header.startswith("v1,")
    headers = {"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP), "webhook-signature": header}
    signing.verify(new, headers, BODY, now=TIMESTAMP)
    signing.verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_secret_format_is_whsec_and_base64():
    secret = signing.secret_from_bytes(bytes(range(32)))
    assert secret.startswith("whsec_") and signing.secret_key(secret) == bytes(range(32))
    with pytest.raises(ValueError):
        signing.secret_key("whsec_not base64!")


def test_schedule_parses_units_and_the_default_is_about_a_day():
    assert schedule.parse_schedule("5s, 1m,2h,1d") == (5, 60, 7200, 86400)
    default = schedule.parse_schedule(schedule.DEFAULT_SCHEDULE)
    assert 20 * 3600 <= sum(default) <= 30 * 3600
    assert list(default) == sorted(default)  # exponential-ish: never shorter than the one before
    for bad in ("", "5", "5x", "-1s", "1s,,2s"):
        with pytest.raises(ValueError):
            schedule.parse_schedule(bad)


def test_next_delay_applies_bounded_jitter_and_stops_after_the_last_attempt():
    waits = (10, 100)
    assert schedule.next_delay(waits, 1, 0.5) == 10
    assert schedule.next_delay(waits, 1, 0.0) == 8
    assert schedule.next_delay(waits, 1, 0.999999) == 12
    assert schedule.next_delay(waits, 2, 0.5) == 100
    assert schedule.next_delay(waits, 3, 0.5) is None
    assert schedule.max_attempts(waits) == 3


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.com/x", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("https://", "host"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("http://hooks.example.com:99999/", "valid URL"),
    ],
)
def test_url_syntax_policy(url, reason):
    with pytest.raises(policy.UrlRefused, match=reason):
        policy.parse_target(url)


def test_target_parts():
    target = policy.parse_target("https://hooks.example.com/in?x=1")
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "hooks.example.com",
        443,
        "/in?x=1",
    )
    assert policy.parse_target("http://h.example").path == "/"


@pytest.mark.parametrize(
    ("addresses", "allow_loopback", "reason"),
    [
        (["127.0.0.1"], False, "loopback"),
        (["::1"], False, "loopback"),
        (["::ffff:127.0.0.1"], False, "loopback"),
        (["10.1.2.3"], True, "private"),
        (["192.168.0.1"], True, "private"),
        (["172.16.5.4"], True, "private"),
        (["169.254.169.254"], True, "link-local"),
        (["fe80::1"], True, "link-local"),
        (["93.184.216.34", "10.0.0.1"], True, "private"),
        (["0.0.0.0"], True, "non-routable|private"),
        ([], True, "resolve"),
        (["100.64.0.1"], True, "not public"),  # shared address space (carrier-grade NAT)
        (["100.127.255.254"], True, "not public"),
        (["2002:a00:1::"], True, "private"),  # 6to4 of 10.0.0.1
        (["2002:7f00:1::"], False, "loopback"),  # 6to4 of 127.0.0.1
        (["64:ff9b::a9fe:a9fe"], True, "link-local"),  # NAT64 of 169.254.169.254
        (["64:ff9b::c0a8:1"], True, "private"),  # NAT64 of 192.168.0.1
        (["::ffff:10.0.0.1"], True, "private"),  # IPv4-mapped
        (["2001:0:4136:e378:8000:63bf:f5ff:fffe"], True, "private"),  # Teredo, client 10.0.0.1
    ],
)
def test_address_policy_refuses(addresses, allow_loopback, reason):
    with pytest.raises(policy.UrlRefused, match=reason):
        policy.check_addresses(addresses, allow_loopback)


def test_address_policy_allows_public_and_configured_loopback():
    policy.check_addresses(["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"], False)
    policy.check_addresses(["64:ff9b::5db8:d822", "2002:5db8:d822::"], False)  # 93.184.216.34 inside
    policy.check_addresses(["127.0.0.1", "::1"], True)


@pytest.mark.parametrize(("allow_http", "refused"), [(False, True), (True, False)])
def test_deployed_stages_take_https_only(allow_http, refused):
    from chalicelib.webhooks.memory import StaticResolver
    from chalicelib.webhooks.service import UrlGuard

    guard = UrlGuard(StaticResolver({"hooks.example.com": ["93.184.216.34"]}), False, allow_http)
    guard.check("https://hooks.example.com/in")
    if refused:
        with pytest.raises(policy.UrlRefused, match="https"):
            guard.check("http://hooks.example.com/in")
    else:
        guard.check("http://hooks.example.com/in")


def test_event_types_and_matching():
    assert set(n.EVENT_TYPES) >= {n.PROMOTED, n.IMPORT_COMPLETED}
    assert n.wants(["registration.promoted"], n.PROMOTED)
    assert not n.wants(["registration.confirmed"], n.PROMOTED)


def _request(status: str, outcome: str | None = None, **extra) -> dict:
    item = {
        "entity": "request",
        "requestId": "r1",
        "type": "register",
        "eventId": "e1",
        "userId": "u1",
        "status": status,
        "createdAt": "2025-12-31T23:59:59Z",
    }
    if outcome:
        item.update(outcome={"type": outcome}, countsAfter={"confirmedCount": 2, "waitlistCount": 1})
        item["completedAt"] = "2026-01-01T00:00:00Z"
    return {**item, **extra}


@pytest.mark.parametrize(
    ("outcome", "event_type"),
    [
        ("confirmed", n.CONFIRMED),
        ("waitlisted", n.WAITLISTED),
        ("rejected", n.REJECTED),
        ("cancelled", n.CANCELLED),
    ],
)
def test_completed_requests_notify_their_outcome(outcome, event_type):
    notification = n.from_change(_request("pending"), _request("completed", outcome))
    assert notification is not None and notification.type == event_type
    assert notification.data["requestId"] == "r1" and notification.data["confirmedCount"] == 2
    # an import row is created completed (no old image): same notification
    assert n.from_change(None, _request("completed", outcome, importId="i1")).data["importId"] == "i1"


def test_changes_that_notify_nothing():
    assert n.from_change(None, _request("pending")) is None
    assert n.from_change(_request("pending"), _request("completed", "capacity_changed")) is None
    assert n.from_change(_request("completed", "confirmed"), _request("completed", "confirmed")) is None
    assert n.from_change(_request("completed", "confirmed"), None) is None  # TTL deletion
    assert n.from_change(None, {"entity": "webhook", "status": "completed"}) is None


def test_promotion_notification_is_deterministic_and_carries_the_freeing_request_and_counts():
    old = {"entity": "registration", "eventId": "e1", "userId": "u9", "status": "waitlisted", "waitSeq": 3}
    new = {
        "entity": "registration",
        "eventId": "e1",
        "userId": "u9",
        "status": "confirmed",
        "promotedBy": "cancel-1",
        "confirmedAt": "2026-01-01T00:00:01Z",
        "countsAfter": {"confirmedCount": 5, "waitlistCount": 0},
    }
    first, again = n.from_change(old, new), n.from_change(dict(old), dict(new))
    assert first == again and first.body() == again.body()
    assert first.type == n.PROMOTED and first.id.startswith("msg_")
    assert first.data == {
        "eventId": "e1",
        "userId": "u9",
        "requestId": "cancel-1",
        "confirmedCount": 5,
        "waitlistCount": 0,
    }
    assert n.from_change(None, new) is None  # a direct confirmation is not a promotion


def test_import_completion():
    old = {"entity": "import", "importId": "i1", "eventId": "e1", "status": "running", "createdAt": "2026"}
    new = {**old, "status": "completed", "total": 3, "confirmed": 2}
    notification = n.from_change(old, new)
    assert notification.type == n.IMPORT_COMPLETED
    assert notification.data["total"] == 3 and notification.data["alreadyRegistered"] == 0
    assert n.from_change(new, {**new, "decided": 3}) is None


def _registration(status: str, **extra) -> dict:
    item = {"entity": "registration", "eventId": "e1", "userId": "u9", "status": status}
    return {**item, "countsAfter": {"confirmedCount": 1, "waitlistCount": 2, "offeredCount": 1}, **extra}


OFFER = {
    "offeredBy": "cancel-1",
    "offeredAt": "2026-01-01T00:00:00Z",
    "offerExpiresAt": "2026-01-01T00:01:00Z",
}


def test_an_offer_made_is_announced_with_its_expiry_and_the_request_that_freed_the_seat():
    made = n.from_change(_registration("waitlisted", waitSeq=3), _registration("offered", **OFFER))
    assert made.type == n.OFFERED and made.timestamp == "2026-01-01T00:00:00Z"
    assert made.data == {
        "eventId": "e1",
        "userId": "u9",
        "requestId": "cancel-1",
        "expiresAt": "2026-01-01T00:01:00Z",
        "confirmedCount": 1,
        "waitlistCount": 2,
        "offeredCount": 1,
    }
    assert made == n.from_change(_registration("waitlisted"), _registration("offered", **OFFER))  # stable id


@pytest.mark.parametrize(
    ("ended", "event_type"), [("declined", n.OFFER_DECLINED), ("offer_expired", n.OFFER_EXPIRED)]
)
def test_an_offer_that_ends_unanswered_is_announced_once_per_offer(ended, event_type):
    end = {"offerEndedBy": "d-1", "offerEndedAt": "2026-01-01T00:00:30Z"}
    notification = n.from_change(_registration("offered", **OFFER), _registration(ended, **OFFER, **end))
    assert notification.type == event_type and notification.timestamp == end["offerEndedAt"]
    assert (
        notification.data["requestId"] == "d-1" and notification.data["expiresAt"] == OFFER["offerExpiresAt"]
    )
    later = {**OFFER, "offerExpiresAt": "2026-01-02T00:00:00Z"}  # a later offer to the same user
    again = n.from_change(_registration("offered", **later), _registration(ended, **later, **end))
    assert again.id != notification.id


def test_an_accepted_offer_is_a_promotion_and_its_request_announces_nothing_more():
    accepted = n.from_change(
        _registration("offered", **OFFER),
        _registration("confirmed", promotedBy="cancel-1", confirmedAt="2026-01-01T00:00:10Z"),
    )
    assert accepted.type == n.PROMOTED and accepted.data["acceptedOffer"] is True
    assert accepted.data["requestId"] == "cancel-1"
    accept = _request("completed", "confirmed", type="accept_offer")
    assert n.from_change(_request("pending", type="accept_offer"), accept) is None


def test_a_refused_answer_is_a_rejection_and_an_expiry_request_is_silent():
    refused = _request("completed", "rejected", type="decline_offer")
    assert n.from_change(_request("pending", type="decline_offer"), refused).type == n.REJECTED
    for outcome in ("offer_expired", "rejected"):
        assert n.from_change(None, _request("completed", outcome, type="expire_offer")) is None


KEPT = {
    "outcome": {"type": "confirmed"},
    "createdAt": "2026-01-01T00:00:00Z",
    "completedAt": "2026-01-01T00:00:02Z",
}


def test_a_decision_kept_on_the_registration_it_made_is_announced_as_its_request_once():
    made = _registration("confirmed", requestId="r1", decision=KEPT)
    told = n.from_change(None, made)
    assert told is not None and told.type == n.CONFIRMED and told.timestamp == KEPT["completedAt"]
    assert told.data == {
        "eventId": "e1",
        "userId": "u9",
        "requestId": "r1",
        "outcome": {"type": "confirmed"},
        "confirmedCount": 1,
        "waitlistCount": 2,
        "offeredCount": 1,
    }
    assert told.id == n.notification_id(f"{n.CONFIRMED}:r1"), "the id a request item's completion has"
    waiting = _registration("waitlisted", requestId="r1", waitSeq=3, decision=KEPT)
    promoted = _registration("confirmed", requestId="r1", promotedBy="c-1", confirmedAt="t", decision=KEPT)
    assert n.from_change(waiting, promoted).type == n.PROMOTED, "a promotion carries the decision on"
    again = _registration("confirmed", requestId="r2", decision=KEPT)
    assert n.from_change(made, again).data["requestId"] == "r2", "a registration anew decides its request"
    moved = _request("completed", "confirmed", movedFromRegistration=True)
    assert n.from_change(None, moved) is None, "a decision moved off its registration was told already"
    assert n.from_change(None, _registration("confirmed", requestId="r1")) is None, "no decision kept"
