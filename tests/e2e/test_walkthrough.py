"""The README's walkthrough, over HTTP against the stack `make dev` starts."""

from __future__ import annotations

import socket
import uuid

import pytest

from tests.e2e.conftest import start_stack


def test_events_and_users_over_http(stack, http):
    event_id = f"pycon-{uuid.uuid4().hex[:6]}"
    created = http.post(
        f"{stack.api}/events",
        json={
            "eventId": event_id,
            "title": "PyCon",
            "date": "2026-06-01",
            "capacity": 2,
            "waitlistEnabled": True,
        },
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/events/{event_id}"

    listed = http.get(f"{stack.api}/events", params={"status": "active"}).json()
    assert event_id in [e["eventId"] for e in listed["items"]]

    updated = http.put(
        f"{stack.api}/events/{event_id}",
        json={"title": "PyCon US"},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert updated.status_code == 200 and updated.json()["title"] == "PyCon US"

    user = http.post(f"{stack.api}/users", json={"name": "Ada", "email": "ada@example.org"})
    assert user.status_code == 201
    assert http.get(f"{stack.api}/users/{user.json()['userId']}").json()["name"] == "Ada"

    bad = http.post(f"{stack.api}/events", data="{oops", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/problem+json"

    assert http.delete(f"{stack.api}/events/{event_id}").status_code == 204
    assert http.get(f"{stack.api}/events/{event_id}").status_code == 404


def test_ctrl_c_stops_every_process_it_started():
    running = start_stack()
    assert running.stop() == 0
    for port in running.ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_taken_port_is_a_one_line_error():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        import subprocess
        import sys

        result = subprocess.run(
            [sys.executable, "-m", "devstack", "--api-port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and result.stderr.count("\n") == 1


def test_missing_java_is_a_one_line_error(tmp_path):
    import os
    import subprocess
    import sys

    python_only = tmp_path / "bin"
    python_only.mkdir()
    (python_only / "python").symlink_to(sys.executable)
    result = subprocess.run(
        [str(python_only / "python"), "-m", "devstack", "--api-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": str(python_only)},
    )
    assert result.returncode == 1
    assert "Java 17+ is needed" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer whatever"}])
def test_an_unknown_route_is_a_404_problem_not_api_gateways_403(stack, headers):
    import requests

    response = requests.get(f"{stack.api}/no/such/route", headers=headers, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Not Found"
