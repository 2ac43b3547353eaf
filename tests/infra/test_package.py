"""The worker package: only requirements.txt installed, every handler of the stack importable."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infrastructure import packaging
from infrastructure.stack import WORKERS, handlers_in

LOCAL_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built the way the stack builds it, from a fresh install of requirements.txt only (for this
    Python, so it can be imported here; the stack's is the same for python3.12)."""
    installed = tmp_path_factory.mktemp("requirements")
    packaging.install_requirements(installed, LOCAL_PYTHON)
    return packaging.build_worker_package(tmp_path_factory.mktemp("worker") / "package", installed=installed)


def test_the_template_runs_every_worker_of_the_stack(dev) -> None:
    assert handlers_in(dev.json) == {worker.handler for worker in WORKERS}


@pytest.mark.parametrize("handler", [w.handler for w in WORKERS])
def test_handler_imports_from_the_package_alone(package: Path, handler: str) -> None:
    module = handler.rpartition(".")[0]
    source = packaging.ROOT / (module.replace(".", "/") + ".py")
    assert source.is_file(), f"the stack runs {handler}, but {source.relative_to(packaging.ROOT)} is missing"
    script = (
        "import importlib, importlib.util, sys\n"
        f"sys.path.insert(0, {str(package)!r})\n"
        "assert importlib.util.find_spec('chalice') is None, 'dev packages leaked in'\n"
        f"module = importlib.import_module({module!r})\n"
        f"assert callable(getattr(module, {handler.rpartition('.')[2]!r}))\n"
        "assert module.__file__.startswith(sys.path[0]), module.__file__\n"
    )
    environment = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"}
    # -I -S: no site-packages, no PYTHONPATH, no current directory: the package and the stdlib only.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        capture_output=True, text=True, timeout=120, env=environment, cwd=package,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_package_holds_only_requirements_and_sources(package: Path) -> None:
    top = {p.name for p in package.iterdir() if not p.name.endswith((".dist-info", ".data"))}
    assert {"chalicelib", "workers", "aws_lambda_powertools", "pydantic", "boto3"} <= top
    assert not {"chalice", "moto", "pytest", "aws_cdk", "tests", "devstack", "app.py"} & top


def test_lambda_packages_carry_python312_linux_wheels(dev) -> None:
    """The deployed code (workers' asset and the chalice zip) has pydantic-core for cp312 Linux."""
    worker_assets = [
        dev.out_dir / f"asset.{r['Properties']['Code']['S3Key'].removesuffix('.zip')}"
        for r in dev.resources("AWS::Lambda::Function").values()
        if r["Properties"].get("Handler", "").startswith("workers.")
    ]
    for asset in worker_assets:
        assert list(asset.glob("pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so")), asset
        assert (asset / "workers").is_dir() and (asset / "chalicelib").is_dir()
    [api_zip] = dev.out_dir.parent.glob("chalice.out/*/deployment.zip")
    names = zipfile.ZipFile(api_zip).namelist()
    assert "pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so" in names
    assert (
        "app.py" in names
        and "chalicelib/bootstrap.py" in names
        and "chalicelib/shared/observability.py" in names
    )
