"""The import worker reads S3's notification of a presigned upload as a start of that import."""

from __future__ import annotations

import pytest

from workers.imports import _messages


def s3_event(*keys: str) -> dict:
    return {
        "Records": [{"eventSource": "aws:s3", "s3": {"object": {"key": key, "size": 10}}} for key in keys]
    }


def test_an_upload_of_ours_starts_its_import():
    assert _messages(s3_event("uploads/abc123.csv", "uploads/def456.json")) == [
        {"action": "start", "importId": "abc123"},
        {"action": "start", "importId": "def456"},
    ]


def test_other_objects_and_s3s_test_event_start_nothing():
    assert _messages(s3_event("imports/abc/plan.json", "uploads/no-extension", "uploads/x.exe")) == []
    assert _messages({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}) == []


def test_a_queue_message_of_the_worker_is_itself():
    assert _messages({"action": "continue", "importId": "i1"}) == [{"action": "continue", "importId": "i1"}]


@pytest.mark.parametrize("body", [[], "x", {"importId": 5}, {"Records": "nope"}])
def test_anything_else_is_malformed(body):
    with pytest.raises(ValueError):
        _messages(body)
