from __future__ import annotations

import pytest

from chalicelib.shared import cursor
from chalicelib.shared.encoding import from_b64url
from chalicelib.shared.problems import InvalidCursor


def test_round_trip():
    position = {"PK": "EVENT#a", "SK": "META"}
    assert cursor.decode(cursor.encode(position, "k"), "k") == position


@pytest.mark.parametrize("mutate", [lambda c: c[:-2] + "AA", lambda c: "x" + c, lambda c: c[:5]])
def test_any_edit_is_rejected(mutate):
    token = cursor.encode({"PK": "EVENT#a"}, "k")
    with pytest.raises(InvalidCursor):
        cursor.decode(mutate(token), "k")


def test_a_cursor_from_another_secret_is_rejected():
    with pytest.raises(InvalidCursor):
        cursor.decode(cursor.encode({"a": "b"}, "one"), "two")


def test_a_cursor_reveals_nothing_of_the_position_it_holds():
    position = {"PK": "EVENT#draft-launch", "SK": "META", "GSI1SK": "2027-01-01#draft-launch"}
    token = cursor.encode(position, "k")
    raw = from_b64url(token)
    assert b"draft-launch" not in raw and b"EVENT" not in raw and b"2027" not in raw
    assert cursor.encode(position, "k") != token, "each cursor is sealed with a fresh nonce"


def test_a_cursor_that_is_not_base64_or_too_short_is_rejected():
    for token in ("%%%", "", "AAAA"):
        with pytest.raises(InvalidCursor):
            cursor.decode(token, "k")
