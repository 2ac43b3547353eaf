"""The README's walkthrough, run as a new user runs it: every bash block of its Walkthrough
section, in order, in one shell, against a fresh stack started as `make dev` starts it."""

from __future__ import annotations

import os
import re
import signal
import subprocess

import pytest

from devstack.emulators import free_port
from tests.e2e.conftest import ROOT, start_stack

pytestmark = pytest.mark.stack


def walkthrough_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Walkthrough\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)


def test_the_walkthrough_has_blocks_to_run():
    assert len(walkthrough_blocks()) >= 4


def test_the_readme_walkthrough_runs_as_written():
    stack = start_stack()
    script = "set -euo pipefail\n" + "\n".join(walkthrough_blocks())
    environment = {**os.environ, "API": stack.api, "HOOK_PORT": str(free_port())}
    shell = subprocess.Popen(
        ["bash", "-c", script],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so the receiver it starts in the background is stopped with it
    )
    try:
        output, _ = shell.communicate(timeout=240)
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
        stack.stop()
    assert shell.returncode == 0, output
    compact = re.sub(r"\s+", "", output)
    assert '"outcome":{"type":"waitlisted","position":1}' in compact, output
    assert '"outcome":{"type":"cancelled","promotedUserId":"alan"}' in compact, output
    assert re.search(r"registration\.promoted \{.*\"userId\": \"alan\"", output), output  # the receiver
    assert '"outcome":{"type":"capacity_changed","capacity":1}' in compact, output
    assert '"capacity":1' in compact and '"confirmedCount":2' in compact and '"availableSeats":0' in compact
    assert '"errors":[' in compact, "the validation error names its fields"
    assert compact.count('"title":"Forbidden"') == 1, "ada may not edit olga's event"
    assert '"email":"ada@example.org"' in compact, "olga sees her attendees' emails"
    # waitlist offers: offered, declined (offered on), lapsed, a late accept refused, accepted
    assert '"outcome":{"type":"cancelled","offeredUserId":"grace"}' in compact, output
    assert '"status":"offered"' in compact and '"offerExpiresAt":' in compact, output
    assert '"outcome":{"type":"declined"}' in compact, "grace is not told who is offered her seat"
    accepted = (
        r'"type":"accept_offer","eventId":"sprints","status":"completed","createdAt":"[^"]+","userId":"%s"'
    )
    assert re.search(
        accepted % "alan" + r',"outcome":\{"type":"rejected","reason":"offer_expired"\}', compact
    )
    assert re.search(accepted % "ada" + r',"outcome":\{"type":"confirmed"\}', compact), output
    assert '"confirmedCount":1,"waitlistCount":1,"offeredCount":0' in compact, output
