"""The local stack's command line."""

from __future__ import annotations

from pathlib import Path

from devstack.__main__ import parse_args
from devstack.emulators import ROOT


def test_each_local_stack_logs_to_its_own_folder_under_the_cache():
    one, two = parse_args(["--api-port", "8100"]), parse_args(["--api-port", "8200"])
    assert one.log_dir != two.log_dir
    assert one.log_dir == ROOT / ".cache" / "logs" / "stack-8100"
    assert parse_args(["--log-dir", "/somewhere"]).log_dir == Path("/somewhere")
