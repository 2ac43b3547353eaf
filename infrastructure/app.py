"""CDK entry point: `npx aws-cdk@2 synth -c stage=dev` (run from infrastructure/, see README)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the repository root: chalicelib/, infrastructure/

import aws_cdk as cdk  # noqa: E402

from infrastructure import nag  # noqa: E402
from infrastructure.stack import TurnstileStack  # noqa: E402
from infrastructure.stages import stage_options  # noqa: E402


def build(app: cdk.App) -> TurnstileStack:
    options = stage_options(app.node.try_get_context("stage"))
    return TurnstileStack(
        app,
        options.prefix,
        options=options,
        description=f"Turnstile event registration ({options.name})",
    )


def main() -> None:
    # chalice.cdk packages the API into ./chalice.out/<uuid>/ on every synth: keep only the latest.
    shutil.rmtree(Path.cwd() / "chalice.out", ignore_errors=True)
    app = cdk.App()
    nag.check(build(app))  # an unsuppressed cdk-nag finding fails the synth
    app.synth()


if __name__ == "__main__":
    main()
