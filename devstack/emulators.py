"""Start and stop the local AWS emulators: DynamoDB Local (Java) and moto server (SQS, S3)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DYNAMODB_LOCAL_DIR = Path(os.environ.get("DYNAMODB_LOCAL_DIR", ROOT / ".cache" / "dynamodb-local"))
LOOPBACK = "127.0.0.1"


class StackError(RuntimeError):
    """A problem the person running the stack can fix; printed as one line."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def ensure_port_free(port: int, what: str) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            raise StackError(
                f"port {port} (for {what}) is already in use; stop what holds it or pick another"
            ) from None


@dataclass
class Emulator:
    name: str
    port: int
    command: list[str]
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, log_dir: Path) -> None:
        ensure_port_free(self.port, self.name)
        log = open(log_dir / f"{self.name}.log", "wb")  # noqa: SIM115 (kept open for the child)
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise StackError(f"{self.name} exited at start (code {self.process.returncode})")
            try:
                urllib.request.urlopen(self.url, timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # it answered: it is up
            except OSError:
                time.sleep(0.2)
        raise StackError(f"{self.name} did not answer on {self.url} within {timeout:.0f}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def dynamodb_local(port: int) -> Emulator:
    if shutil.which("java") is None:
        raise StackError("Java 17+ is needed for DynamoDB Local, and `java` is not on PATH")
    jar = DYNAMODB_LOCAL_DIR / "DynamoDBLocal.jar"
    if not jar.exists():
        raise StackError(f"DynamoDB Local is missing at {jar}; run `make dynamodb-local`")
    command = [
        "java",
        "-Xmx1g",
        f"-Djava.library.path={DYNAMODB_LOCAL_DIR / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        "-port",
        str(port),
    ]
    return Emulator("dynamodb-local", port, command, cwd=DYNAMODB_LOCAL_DIR)


def moto_server(port: int) -> Emulator:
    command = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    return Emulator("moto-server", port, command)


@dataclass
class Emulators:
    """Both emulators, started together and stopped together."""

    dynamodb: Emulator
    moto: Emulator

    @classmethod
    def on_ports(cls, dynamodb_port: int, moto_port: int) -> Emulators:
        return cls(dynamodb_local(dynamodb_port), moto_server(moto_port))

    def start(self, log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for emulator in (self.dynamodb, self.moto):
                emulator.start(log_dir)
            for emulator in (self.dynamodb, self.moto):
                emulator.wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for emulator in (self.dynamodb, self.moto):
            emulator.stop()

    def environment(self) -> dict[str, str]:
        """What boto3 needs to talk to these emulators instead of AWS."""
        return {
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb.url,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.dynamodb.url,
            "AWS_ENDPOINT_URL_SQS": self.moto.url,
            "AWS_ENDPOINT_URL_S3": self.moto.url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
