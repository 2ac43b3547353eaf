"""The command messages on registrations.fifo: what the worker accepts from older senders."""

from __future__ import annotations

import json

import pytest

from chalicelib.registrations.messages import MalformedMessage, parse_message

REGISTER = {"type": "register", "requestId": "r1", "eventId": "e1", "userId": "ada", "createdAt": "2026"}


def test_a_command_queued_with_a_ticket_is_still_decided_and_the_ticket_is_dropped():
    message = parse_message(json.dumps({**REGISTER, "ticket": 17}))
    assert message.to_command().request_id == "r1"
    assert "ticket" not in json.loads(message.body()), "never sent on"


def test_an_unknown_field_is_still_refused():
    with pytest.raises(MalformedMessage):
        parse_message(json.dumps({**REGISTER, "seat": 3}))
