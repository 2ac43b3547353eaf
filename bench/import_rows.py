"""Bulk import end to end: 10,000 rows through the local stack, in rows per second.

Starts the whole local stack as `make dev` does (`python -m devstack`, on free ports), creates an
event of 5,000 seats with a waitlist, uploads a CSV of 10,000 rows, and times from the
POST to the import's `completed`: validation, the import worker feeding
registrations.fifo (LocalStack) with back-pressure, and the registration worker deciding every row
(DynamoDB Local). Run: `.venv/bin/python -m bench bench.import_rows`.
"""

from __future__ import annotations

import os
import sys
import time
import uuid

from tqdm import tqdm

from bench.common import Summary, admin_session

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", 10_000))
CAPACITY = ROWS // 2


def main() -> Summary:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tests.e2e.conftest import start_stack

    stack = start_stack()  # keeps draining the stack's output itself
    try:
        return _run(stack.api)
    finally:
        stack.stop()


def _run(api: str) -> Summary:
    http = admin_session()
    event_id = f"bench-import-{uuid.uuid4().hex[:6]}"
    created = http.post(
        f"{api}/events",
        json={
            "eventId": event_id,
            "title": "Bench",
            "date": "2026-09-01",
            "capacity": CAPACITY,
            "waitlistEnabled": True,
        },
    )
    created.raise_for_status()
    prefix = uuid.uuid4().hex[:6]
    body = "userId,name,email\n" + "".join(
        f"{prefix}-{n},User {n},user{n}@example.org\n" for n in range(1, ROWS + 1)
    )
    started = time.perf_counter()
    response = http.post(
        f"{api}/events/{event_id}/imports", data=body.encode(), headers={"Content-Type": "text/csv"}
    )
    response.raise_for_status()
    import_id = response.json()["importId"]
    accepted = time.perf_counter() - started
    running_at = None
    with tqdm(total=ROWS, unit="row", desc="import decided", file=sys.stderr) as bar:
        while True:
            status = http.get(f"{api}/imports/{import_id}").json()
            bar.set_postfix_str(status["status"], refresh=False)
            bar.update(status["decided"] - bar.n)
            if running_at is None and status["status"] in ("running", "completed"):
                running_at = time.perf_counter() - started
            if status["status"] in ("completed", "failed"):
                break
            time.sleep(0.25)
    elapsed = time.perf_counter() - started
    assert status["status"] == "completed", status
    assert status["confirmed"] == CAPACITY and status["waitlisted"] == ROWS - CAPACITY, status
    feeding = elapsed - (running_at or 0)
    print(f"rows                 {ROWS} ({status['confirmed']} confirmed, {status['waitlisted']} waitlisted)")
    print(f"accepted (202)       {accepted:.2f} s")
    print(f"validated            {running_at or 0:.1f} s")
    print(f"queued and decided   {feeding:.1f} s ({ROWS / feeding:.0f} rows/s)")
    print(f"end to end           {elapsed:.1f} s: {ROWS / elapsed:.0f} rows/s", flush=True)
    return [(f"import: {ROWS:,} rows end to end (local stack)", f"{ROWS / elapsed:.0f} rows/s", "")]


if __name__ == "__main__":
    main()
