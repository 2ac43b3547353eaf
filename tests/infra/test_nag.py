"""cdk-nag's AwsSolutions checks: no finding left unsuppressed, and every suppression says why."""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk
from aws_cdk.assertions import Annotations, Match

from infrastructure import nag
from infrastructure.app import build


def test_aws_solutions_checks_leave_no_unsuppressed_finding(tmp_path: Path) -> None:
    cwd = Path.cwd()
    os.chdir(tmp_path)  # chalice.cdk packages the API into ./chalice.out
    try:
        app = aws_cdk.App(context={"stage": "prod"}, outdir=str(tmp_path / "cdk.out"))
        stack = build(app)
        nag.check(stack)
        app.synth()
    finally:
        os.chdir(cwd)
    findings = Match.string_like_regexp("AwsSolutions-.*")
    annotations = Annotations.from_stack(stack)
    unsuppressed = annotations.find_error("*", findings) + annotations.find_warning("*", findings)
    assert [f"{a.id}: {a.entry.data}"[:200] for a in unsuppressed] == []


def test_every_suppression_names_a_rule_and_a_reason() -> None:
    rules = [nag.RUNTIME, nag.BASIC_EXECUTION, nag.XRAY, nag.TABLE_INDEXES, nag.IMPORT_OBJECTS]
    for rule in rules:
        assert rule[0].startswith("AwsSolutions-") and len(rule[1]) > 40
