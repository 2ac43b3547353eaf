"""`bootstrap.reset`: a process whose environment changed gets settings, clients and services
built again from it (the benchmarks restart their emulators between runs)."""

from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.shared.aws import client


def test_reset_rebuilds_clients_from_the_environment_as_it_is_now(monkeypatch):
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1001")
        bootstrap.reset()
        first = client("dynamodb")
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1002")
        assert client("dynamodb") is first  # cached until reset
        bootstrap.reset()
        assert client("dynamodb").meta.endpoint_url == "http://127.0.0.1:1002"
    finally:
        monkeypatch.undo()
        bootstrap.reset()
