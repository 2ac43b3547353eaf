"""`make synth STAGE=prod` as a user runs it: the CDK CLI pinned in the Makefile, from npm, must
read the cloud assembly that the pinned aws-cdk-lib writes (a mismatch fails here, not on deploy)."""

from __future__ import annotations

import json
import re
import subprocess

from devstack.emulators import ROOT

TEMPLATE = ROOT / "infrastructure" / "cdk.out" / "turnstile-prod.template.json"


def test_the_makefile_pins_a_cdk_cli_version():
    dry_run = subprocess.run(["make", "-n", "synth"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert re.search(r"npx --yes aws-cdk@\d+\.\d+\.\d+ synth", dry_run.stdout), dry_run.stdout


def test_make_synth_for_prod_writes_the_template_with_the_pinned_cli():
    TEMPLATE.unlink(missing_ok=True)
    run = subprocess.run(
        ["make", "synth", "STAGE=prod"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "schema version mismatch" not in (run.stdout + run.stderr).lower()
    template = json.loads(TEMPLATE.read_text())
    assert "AWS::DynamoDB::Table" in {r["Type"] for r in template["Resources"].values()}
