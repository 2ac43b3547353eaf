"""Delivery over HTTP: DNS resolution and a POST pinned to the address the URL policy approved."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from typing import Any

from chalicelib.webhooks.domain import HttpResult

TIMEOUT_SECONDS = 5.0  # one attempt, all of it: connect, send, and read the answer
MAX_RESPONSE_BYTES = 1024  # a receiver's answer is read at most this far, then dropped


class SocketResolver:
    def resolve(self, host: str, port: int) -> list[str]:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the URL policy approved, not to a fresh DNS answer (no rebinding)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class HttpSender:
    """POST with one deadline for the whole attempt (connect, send, read: a receiver that
    accepts and never answers, or trickles bytes, is cut off when it passes), no redirects
    (http.client never follows them), and at most MAX_RESPONSE_BYTES of the answer read."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self.timeout = timeout

    def post(self, target: Any, address: str, headers: dict[str, str], body: str) -> HttpResult:
        kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        connection = kind(target.host, target.port, address, self.timeout)
        started = time.monotonic()
        watchdog = threading.Timer(self.timeout, _cut, (connection,))
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request("POST", target.path, body=body.encode(), headers=headers)
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            error: str | None = None if 200 <= response.status < 300 else f"HTTP {response.status}"
            status: int | None = response.status
        except (OSError, http.client.HTTPException, ValueError) as failure:
            status, error = None, f"{type(failure).__name__}: {failure}"[:300]
        finally:
            watchdog.cancel()
            connection.close()
        if time.monotonic() - started >= self.timeout:  # cut off, or answered only past the deadline
            status, error = None, f"timed out: no complete answer in {self.timeout:g} s"
        return HttpResult(status, _ms_since(started), error)


def _cut(connection: http.client.HTTPConnection) -> None:
    """The attempt's deadline passed: shut its socket, so the blocked call returns at once."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
