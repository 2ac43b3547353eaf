"""`make dev` stops everything it started within 10 s of SIGTERM, also mid-work; and a port held
by an emulator of a stack that was killed is reported with that emulator's pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.emulators import port_holder
from tests.e2e.conftest import ROOT, start_stack
from tests.fakes import session

pytestmark = pytest.mark.stack

STOP_LIMIT_SECONDS = 10


class HangingReceiver:
    """A webhook receiver that never answers in time: every delivery is in flight until the
    dispatcher's timeout."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.arrived.set()
                time.sleep(30)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def refuses(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent has not asked how


def children(pid: int) -> list[int]:
    """The processes `pid` started (their parent pid, from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def keep_registering(api: str, event: str, stop: threading.Event) -> None:
    def one(i: int) -> None:
        user = f"{event}-u{i:05d}"
        with session(user) as http:
            while not stop.is_set():
                try:
                    http.post(f"{api}/users", json={"name": user})
                    http.post(f"{api}/events/{event}/registrations", json={})
                    http.delete(f"{api}/events/{event}/registrations/{user}")
                except requests.RequestException:
                    return  # the stack has stopped (refused, or cut off mid-answer)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(8)))


def test_sigterm_mid_work_stops_every_process_within_10_seconds():
    hanging = HangingReceiver()
    running = start_stack()
    stop_load = threading.Event()
    try:
        api, event = running.api, f"stop-{uuid.uuid4().hex[:8]}"
        started_processes = children(running.process.pid)
        emulators = [port_holder(port) for port in running.ports[1:]]
        assert all(emulators), "both emulators listen on their ports"
        assert {held[0] for held in emulators if held} < set(started_processes), "and the functions process"
        with session("olga", "organizers") as olga:
            every_move = ["registration.confirmed", "registration.waitlisted", "registration.cancelled"]
            olga.post(f"{api}/webhooks", json={"url": hanging.url, "events": every_move}).raise_for_status()
            event_body = {"eventId": event, "title": "Busy", "date": "2026-09-01", "capacity": 3}
            olga.post(f"{api}/events", json={**event_body, "waitlistEnabled": True}).raise_for_status()
        load = threading.Thread(target=keep_registering, args=(api, event, stop_load), daemon=True)
        load.start()
        assert hanging.arrived.wait(60), "a webhook delivery is in flight"

        started = time.monotonic()
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(timeout=30)
        took = time.monotonic() - started

        assert took < STOP_LIMIT_SECONDS, f"stopped in {took:.1f}s:\n{''.join(running.output[-20:])}"
        assert all(refuses(port) for port in running.ports), "no port is still held"
        assert not [pid for pid in started_processes if alive(pid)], "nothing it started outlives it"
    finally:
        stop_load.set()
        running.stop()
        hanging.stop()


def test_a_port_held_by_a_left_over_emulator_is_reported_with_its_pid():
    with socket.socket() as left_over:  # stands in for an emulator that a killed stack left behind
        left_over.bind(("127.0.0.1", 0))
        left_over.listen()
        port = left_over.getsockname()[1]
        command = [sys.executable, "-m", "devstack", "--api-port", "0", "--dynamodb-port", str(port)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"port {port} (for dynamodb-local) is already in use by pid {os.getpid()} (" in result.stderr
