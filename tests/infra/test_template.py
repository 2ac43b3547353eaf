"""cfn-lint on the synthesized template (with the SAM part chalice generates): clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "infrastructure" / ".cfnlintrc.yaml"  # documents the one rule ignored


def test_cfn_lint_is_clean(dev, prod, tmp_path: Path) -> None:
    paths = []
    for syn in (dev, prod):
        path = tmp_path / f"{syn.stack.stack_name}.template.json"
        path.write_text(json.dumps(syn.json))
        paths.append(str(path))
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--config-file", str(CONFIG), *paths], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
