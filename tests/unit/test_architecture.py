"""The dependency rule of docs/architecture.md, checked on every test run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ("events", "users", "registrations", "webhooks", "imports")
# Pure modules: every feature's domain, the stored shapes of registrations, and the webhooks'
# signing, URL policy, retry schedule and notification rules.
PURE = [ROOT / "chalicelib" / feature / "domain.py" for feature in FEATURES] + [
    ROOT / "chalicelib" / "registrations" / "items.py",
    *(
        ROOT / "chalicelib" / "webhooks" / f"{name}.py"
        for name in ("signing", "policy", "schedule", "notifications")
    ),
]
# Besides their own feature and the standard library, a pure module may read another feature's
# stored shapes (its `items` module), and an items module the table's keys.
SHARED_PURE = ("chalicelib.shared.table",)


# I/O, clocks, ids and randomness: never in a pure module (urllib.parse, say, is fine).
IMPURE = {"socket", "urllib.request", "http.client", "http.server", "random", "secrets", "uuid", "time", "os"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_only_the_standard_library_and_itself():
    assert all(path.is_file() for path in PURE), [str(p) for p in PURE if not p.is_file()]
    for path in PURE:
        feature = path.parent.name
        for module in imported_modules(path):
            top = module.split(".")[0]
            allowed = (
                module.startswith(f"chalicelib.{feature}.")
                or top in sys.stdlib_module_names
                or (top == "chalicelib" and module.endswith(".items"))
                or (path.stem == "items" and module in SHARED_PURE)
            )
            assert allowed, f"{path.relative_to(ROOT)} imports {module}"
            assert top not in IMPURE and module not in IMPURE, (
                f"{path.relative_to(ROOT)} imports {module}: the domain does no I/O, clocks or ids"
            )


def test_import_linter_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
