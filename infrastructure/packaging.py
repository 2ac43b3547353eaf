"""Builds the worker Lambdas' code: `chalicelib/` and `workers/` plus only `requirements.txt`.

The dependencies are pip-installed for the Lambda platform (manylinux x86_64, CPython 3.12) into a
folder under `.cache/lambda/`, keyed by the requirements and the target, so later synths reuse it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
SOURCES = ("chalicelib", "workers")
CACHE = ROOT / ".cache" / "lambda"

LAMBDA_PYTHON = "3.12"
LAMBDA_PLATFORM = "manylinux2014_x86_64"

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def install_requirements(target: Path, python_version: str = LAMBDA_PYTHON) -> None:
    """pip-install requirements.txt (binary wheels for the Lambda platform only) into `target`."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(target), "--platform", LAMBDA_PLATFORM, "--implementation", "cp",
        "--python-version", python_version, "--only-binary=:all:", "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    subprocess.run(command, check=True)


def dependencies(python_version: str = LAMBDA_PYTHON) -> Path:
    """The installed requirements for `python_version`, built once per content of requirements.txt."""
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + f"{LAMBDA_PLATFORM} {python_version}".encode())
    folder = CACHE / f"deps-py{python_version}-{key.hexdigest()[:16]}"
    if not folder.is_dir():
        partial = folder.with_name(folder.name + f".partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        install_requirements(partial, python_version)
        partial.rename(folder)
    return folder


def build_worker_package(
    target: Path, python_version: str = LAMBDA_PYTHON, installed: Path | None = None
) -> Path:
    """Assemble the package in `target` (replaced): installed requirements plus the project's sources."""
    deps = installed or dependencies(python_version)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(deps, target, ignore=_IGNORE)
    for name in SOURCES:
        shutil.copytree(ROOT / name, target / name, ignore=_IGNORE)
    return target
