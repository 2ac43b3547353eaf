from __future__ import annotations

import pytest

from chalicelib.shared import cursor
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
