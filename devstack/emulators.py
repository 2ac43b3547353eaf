"""Start and stop the local AWS emulators: DynamoDB Local (Java) and LocalStack (SQS, S3).

LocalStack runs on the host, without Docker, from its own virtual environment (`make localstack`
builds it from requirements-localstack.txt with Python 3.13+). Why LocalStack and not moto for
SQS: see the README, "The local queue".
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DYNAMODB_LOCAL_DIR = Path(os.environ.get("DYNAMODB_LOCAL_DIR", ROOT / ".cache" / "dynamodb-local"))
LOCALSTACK_VENV = Path(os.environ.get("LOCALSTACK_VENV", ROOT / ".cache" / "localstack-venv"))
LOOPBACK = "127.0.0.1"
LOCALSTACK_SERVICES = ("sqs", "s3")
STOP_SECONDS = 4.0  # SIGTERM, then SIGKILL (LocalStack takes 3-5 s): with the stack's 4 s, inside 10 s


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
            holder = port_holder(port)
            held = f" by pid {holder[0]} ({holder[1]})" if holder else ""
            raise StackError(
                f"port {port} (for {what}) is already in use{held}; stop what holds it or pick another"
            ) from None


def port_holder(port: int) -> tuple[int, str] | None:
    """The pid and command line of the process listening on a loopback TCP port (Linux's /proc),
    so a stack left running by a killed `make dev` is named rather than reported as a bare port."""
    inodes = _listening_inodes(port)
    for pid_dir in Path("/proc").glob("[0-9]*"):
        try:
            links = {os.readlink(fd) for fd in (pid_dir / "fd").iterdir()}
            command = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone, or not ours to read
        if any(f"socket:[{inode}]" in links for inode in inodes):
            return int(pid_dir.name), command.strip()[:120]
    return None


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(fields[9])
    return inodes


def die_with_parent() -> None:
    """In the child before exec: Linux sends it SIGTERM when the stack's process dies, however it
    dies (kill -9 included), so an emulator never outlives the stack that started it."""
    with contextlib.suppress(OSError):  # not Linux: stop() still stops it
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


Readiness = Callable[["Emulator"], bool]


def answers(emulator: Emulator) -> bool:
    """Up once it answers HTTP at all (an error status included); no answer raises OSError."""
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(emulator.url, timeout=1).close()
    return True


@dataclass
class Emulator:
    name: str
    port: int
    command: list[str]
    cwd: Path | None = None
    env: dict[str, str] | None = None
    ready: Readiness = answers
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, log_dir: Path) -> None:
        ensure_port_free(self.port, self.name)
        log = open(log_dir / f"{self.name}.log", "wb")  # noqa: SIM115 (kept open for the child)
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=None if self.env is None else {**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the stack, which stops its emulators itself
            preexec_fn=die_with_parent,  # nothing but a prctl in the child
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise StackError(f"{self.name} exited at start (code {self.process.returncode})")
            try:
                if self.ready(self):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise StackError(f"{self.name} did not answer on {self.url} within {timeout:.0f}s")

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def reap(self, deadline: float) -> None:
        """Wait for it to exit until `deadline` (monotonic), then kill it."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
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
        # Measured (bench/README "The local stack at volume"): C2's compile threads and the
        # parallel collector cost more CPU than they save in a short-lived emulator on 2 cores;
        # the client compiler alone halves the CPU per call.
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        f"-Djava.library.path={DYNAMODB_LOCAL_DIR / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        "-disableTelemetry",  # it would phone home (and this machine may have no way out)
        "-port",
        str(port),
    ]
    return Emulator("dynamodb-local", port, command, cwd=DYNAMODB_LOCAL_DIR)


def localstack_ready(emulator: Emulator) -> bool:
    """LocalStack answers its health check before its services are loaded: wait for both."""
    with urllib.request.urlopen(f"{emulator.url}/_localstack/health", timeout=1) as response:
        services = json.load(response).get("services", {})
    return all(services.get(name) in ("available", "running") for name in LOCALSTACK_SERVICES)


def localstack(port: int, state_dir: Path) -> Emulator:
    """LocalStack's SQS and S3 on the host. Its configuration is the documented environment;
    every folder it writes is under `state_dir`, and it opens no port but `port` (DNS off)."""
    python = LOCALSTACK_VENV / "bin" / "python"
    if not python.exists():
        raise StackError(f"LocalStack is missing at {LOCALSTACK_VENV}; run `make localstack`")
    folders = {name: state_dir / name.lower() for name in ("FILESYSTEM_ROOT", "CONFIG_DIR", "TMPDIR", "HOME")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    env = {
        "OVERRIDE_IN_DOCKER": "0",  # machines built from a container image carry /.dockerenv
        "SERVICES": ",".join(LOCALSTACK_SERVICES),
        "EAGER_SERVICE_LOADING": "1",
        "GATEWAY_LISTEN": f"{LOOPBACK}:{port}",
        "LOCALSTACK_HOST": f"{LOOPBACK}:{port}",  # queue URLs and S3 presigned forms point here
        "DNS_ADDRESS": "0",  # else it serves DNS on port 53
        "DISABLE_EVENTS": "1",  # no analytics calls
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "SQS_DISABLE_CLOUDWATCH_METRICS": "1",  # no CloudWatch here: no work per message for it
        "LS_LOG": "warn",
        "XDG_CACHE_HOME": str(folders["HOME"] / ".cache"),
        **{name: str(folder) for name, folder in folders.items()},
    }
    command = [str(python), "-m", "localstack.runtime.main"]
    return Emulator("localstack", port, command, env=env, ready=localstack_ready)


@dataclass
class Emulators:
    """Both emulators, started together and stopped together."""

    dynamodb: Emulator
    localstack: Emulator

    @classmethod
    def on_ports(cls, dynamodb_port: int, localstack_port: int, state_dir: Path) -> Emulators:
        return cls(dynamodb_local(dynamodb_port), localstack(localstack_port, state_dir))

    @property
    def all(self) -> tuple[Emulator, ...]:
        return (self.dynamodb, self.localstack)

    def start(self, log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for emulator in self.all:
                emulator.start(log_dir)
            for emulator in self.all:
                emulator.wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self, seconds: float = STOP_SECONDS) -> None:
        """Both at once: SIGTERM, then SIGKILL whatever still runs after `seconds`."""
        for emulator in self.all:
            emulator.terminate()
        deadline = time.monotonic() + seconds
        for emulator in self.all:
            emulator.reap(deadline)

    def environment(self) -> dict[str, str]:
        """What boto3 needs to talk to these emulators instead of AWS."""
        return {
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb.url,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.dynamodb.url,
            "AWS_ENDPOINT_URL_SQS": self.localstack.url,
            "AWS_ENDPOINT_URL_S3": self.localstack.url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
