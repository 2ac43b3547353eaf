"""Start the whole local stack as `make dev` does (`python -m devstack`), on free ports."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from devstack.emulators import free_port
from tests.fakes import session

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    api: str
    ports: tuple[int, int, int]
    output: list[str]
    log_dir: Path

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        code = self.process.wait()
        shutil.rmtree(self.log_dir, ignore_errors=True)  # a test leaves nothing behind
        return code


def start_stack(extra_env: dict[str, str] | None = None) -> RunningStack:
    ports = (free_port(), free_port(), free_port())
    log_dir = Path(tempfile.mkdtemp(prefix="turnstile-e2e-"))
    command = [
        sys.executable,
        "-m",
        "devstack",
        "--api-port",
        str(ports[0]),
        "--dynamodb-port",
        str(ports[1]),
        "--localstack-port",
        str(ports[2]),
        "--log-dir",
        str(log_dir),
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(extra_env or {})},
    )
    output: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            shutil.rmtree(log_dir, ignore_errors=True)
            raise AssertionError("the stack exited before it was ready:\n" + "".join(output))
        output.append(line)
        if line.startswith("ready"):
            _drain(process, output)  # keep reading, or the stack blocks once the pipe fills
            return RunningStack(process, f"http://127.0.0.1:{ports[0]}", ports, output, log_dir)
    process.kill()
    shutil.rmtree(log_dir, ignore_errors=True)
    raise AssertionError("the stack was not ready in time:\n" + "".join(output))


def _drain(process: subprocess.Popen[str], output: list[str]) -> None:
    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)

    threading.Thread(target=read, name="stack-output", daemon=True).start()


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    running = start_stack()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with session() as http:  # an admin's: tests/api/test_access.py proves each role's rights
        yield http
