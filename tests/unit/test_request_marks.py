"""A request kept as its person's mark for an event names the two in its id, so the mark (in the
person's partition) is found from the id alone; ids of the earlier shape (a hash of the two) still
lead to the marks they were written under."""

from __future__ import annotations

import hashlib

import pytest

from chalicelib.registrations.items import mark_key, mark_of, marked_request_id
from chalicelib.shared import table


def test_a_marked_id_names_its_event_and_person_and_leads_to_their_mark():
    request_id = marked_request_id("launch-2027", "ada_lovelace", "01JTQ3Z6Y8")
    assert request_id == "launch-2027.ada_lovelace.01JTQ3Z6Y8"
    assert mark_of(request_id) == mark_key("launch-2027", "ada_lovelace")
    assert mark_key("launch-2027", "ada_lovelace") == table.key("USER#ada_lovelace", "REG#launch-2027")


def test_an_id_of_the_earlier_shape_leads_to_the_mark_it_was_written_under():
    legacy = hashlib.sha256(b"launch-2027\nada").hexdigest()[:24]
    assert mark_of(f"{legacy}_01JTQ3Z6Y8") == table.key(f"PENDING#{legacy}", "META")


@pytest.mark.parametrize(
    "request_id",
    [
        "01JTQ3Z6Y8ABCDEF",  # an unmarked request (an import's row, an offer's answer)
        "launch.ada",  # two parts
        "launch.ada.r1.extra",  # four
        "launch..r1",  # an empty user id
        "laun ch.ada.r1",  # a character no id may hold
        f"{'e' * 65}.ada.r1",  # an event id longer than any
        "0123456789abcdef0123456_r1",  # a hash one digit short
    ],
)
def test_anything_else_is_unmarked(request_id):
    assert mark_of(request_id) is None


@pytest.mark.parametrize("parts", [("e", "u", "r"), ("e" * 64, "u" * 64, "r" * 64), ("a-b_c", "D9", "0f3c")])
def test_the_api_accepts_in_a_path_every_marked_id_and_leads_it_to_its_mark(parts):
    """`items` keeps its own copy of the marked shape (the webhook relay reads it and may import no
    `shared.wire`): the two must agree."""
    import re

    from chalicelib.shared.wire import REQUEST_ID_PATTERN

    request_id = marked_request_id(*parts)
    assert re.fullmatch(REQUEST_ID_PATTERN, request_id)
    assert mark_of(request_id) == mark_key(parts[0], parts[1])
