"""Synthesizes the CDK app once per session (no AWS account): templates for `dev` and `prod`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

import aws_cdk  # after the JSII settings above
from aws_cdk.assertions import Template

from infrastructure.app import build
from infrastructure.stack import TurnstileStack


@dataclass
class Synthesized:
    stack: TurnstileStack
    template: Template
    json: dict[str, Any]
    out_dir: Path

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.json["Resources"].items() if r["Type"] == kind}

    def logical_id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)


def _synth(stage: str, work: Path) -> Synthesized:
    cwd = Path.cwd()
    os.chdir(work)  # chalice.cdk packages the API into ./chalice.out
    try:
        app = aws_cdk.App(context={"stage": stage}, outdir=str(work / "cdk.out"))
        stack = build(app)
        template = Template.from_stack(stack)
        return Synthesized(stack, template, template.to_json(), work / "cdk.out")
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="session")
def synth_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="turnstile-synth-") as folder:
        yield Path(folder)


@pytest.fixture(scope="session")
def dev(synth_dir: Path) -> Synthesized:
    (synth_dir / "dev").mkdir()
    return _synth("dev", synth_dir / "dev")


@pytest.fixture(scope="session")
def prod(synth_dir: Path) -> Synthesized:
    (synth_dir / "prod").mkdir()
    return _synth("prod", synth_dir / "prod")
