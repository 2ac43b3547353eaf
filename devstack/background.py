"""Threads that run until asked to stop, and stop together against one deadline.

Every part of the local stack that loops in the background (queue pollers, the stream relay,
the schedules) is one of these, so `make dev` can ask them all to stop at once and then wait
for all of them until a single deadline, instead of waiting for each in turn.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class Background:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def pause(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once on stop; True when stopping."""
        return self._stop.wait(seconds)

    def spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)  # never keeps the process
        thread.start()
        self._threads.append(thread)

    def request_stop(self) -> None:
        self._stop.set()

    def join(self, deadline: float) -> list[str]:
        """Wait until `deadline` (time.monotonic()) at most; the names of threads still running.
        Those are daemon threads: an unfinished handler call dies with the process."""
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        return [thread.name for thread in self._threads if thread.is_alive()]

    def stop(self, seconds: float = 10.0) -> list[str]:
        self.request_stop()
        return self.join(time.monotonic() + seconds)
