"""Values remembered for a moment: one thread reads a key anew while the others use the old one."""

from __future__ import annotations

import threading

import pytest

from chalicelib.shared.recent import Recent


def remembered(fresh: float = 0.5) -> tuple[list[float], Recent[str]]:
    now = [100.0]
    return now, Recent(fresh, clock=lambda: now[0])


def test_a_value_is_read_once_while_fresh_and_anew_after():
    now, recent = remembered()
    reads: list[str] = []

    def read() -> str:
        reads.append("read")
        return f"v{len(reads)}"

    assert recent.get("k", read) == "v1"
    now[0] += 0.49
    assert recent.get("k", read) == "v1"
    now[0] += 0.01
    assert recent.get("k", read) == "v2"
    assert len(reads) == 2


def test_while_one_thread_reads_a_stale_key_anew_the_others_get_the_old_value_without_reading():
    now, recent = remembered()
    recent.get("k", lambda: "old")
    now[0] += 1
    reading, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow_read() -> str:
        calls.append("slow")
        reading.set()
        release.wait(5)
        return "new"

    slow = threading.Thread(target=lambda: calls.append(str(recent.get("k", slow_read))))
    slow.start()
    assert reading.wait(5)
    answers = [recent.get("k", lambda: calls.append("another") or "another") for _ in range(3)]
    release.set()
    slow.join(5)
    assert answers == ["old", "old", "old"]
    assert calls == ["slow", "new"], "no second read while the first was under way"
    assert recent.get("k", lambda: "unused") == "new"


def test_a_key_never_read_is_read_by_every_caller_that_asks_for_it():
    _, recent = remembered()
    reads: list[int] = []
    assert recent.get("k", lambda: reads.append(1)) is None  # None is not kept
    assert recent.get("k", lambda: reads.append(1)) is None
    assert len(reads) == 2


def test_a_read_under_way_when_the_key_is_forgotten_is_not_kept():
    _, recent = remembered()

    def read_then_forgotten() -> str:
        recent.forget("k")  # a write through the cache lands while the read is under way
        return "read before the write"

    assert recent.get("k", read_then_forgotten) == "read before the write"
    assert recent.get("k", lambda: "after the write") == "after the write"


def test_a_failed_read_lets_the_next_caller_read():
    now, recent = remembered()
    recent.get("k", lambda: "old")
    now[0] += 1

    def failing() -> str:
        raise OSError("the table is unreachable")

    with pytest.raises(OSError):
        recent.get("k", failing)
    assert recent.get("k", lambda: "new") == "new"
