"""``payhub new-adapter``: the generated distribution installs (pip, offline, through its
own build backend) and passes the conformance suite and its emulator test unedited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from payhub_core.cli import main
from payhub_core.testing.conformance import CHECKS

ROOT = Path(__file__).resolve().parents[3]


def pip(*arguments: str) -> None:
    subprocess.run(  # noqa: S603 - this interpreter's pip
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *arguments],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )


def install(project: Path, site: Path) -> None:
    """pip-install ``project`` into ``site`` without the network: no dependencies (this
    environment has payhub-core) and the build backend from this environment."""
    pip(
        "install",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--target",
        str(site),
        str(project),
    )


@pytest.mark.parametrize(
    ("kind", "entry_point"), [("redirect", "acme.checkout"), ("otp", "acme.wallet")]
)
def test_the_generated_adapter_installs_and_passes_the_conformance_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, entry_point: str
) -> None:
    assert main(["new-adapter", "acme", "--kind", kind, "--dir", str(tmp_path), "--json"]) == 0
    project = Path(json.loads(capsys.readouterr().out)["path"])
    assert project == tmp_path / "payhub-acme"
    site = tmp_path / "site"
    install(project, site)

    env = {**os.environ, "PYTHONPATH": str(site), "PAYHUB_CONFORMANCE_EXAMPLES": "20"}
    env.pop("PYTEST_ADDOPTS", None)
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlib.metadata import entry_points as e;"
            "print(sorted(p.name for p in e(group='payhub.adapters')));"
            "print(sorted(p.name for p in e(group='payhub.sandboxes')))",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    adapters, sandboxes = found.stdout.splitlines()
    assert f"'{entry_point}'" in adapters
    assert "'acme'" in sandboxes

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    for check in CHECKS:
        assert f"PASSED tests/test_conformance.py::TestAcmeConformance::test_{check}" in run.stdout
    assert "PASSED tests/test_emulator.py::test_a_payment_through_the_emulator" in run.stdout


def test_the_generator_never_overwrites_and_refuses_bad_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-adapter", "zeta", "--dir", str(tmp_path)]) == 0
    readme = tmp_path / "payhub-zeta" / "README.md"
    readme.write_text("mine", encoding="utf-8")
    capsys.readouterr()
    assert main(["new-adapter", "zeta", "--dir", str(tmp_path)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert readme.read_text(encoding="utf-8") == "mine"
    for bad in ("Acme", "a", "acme-pay", "1acme", "acme.pay"):
        assert main(["new-adapter", bad, "--dir", str(tmp_path)]) == 2
        assert "NAME must be" in capsys.readouterr().err
    assert main(["new-adapter", "zeta2", "--kind", "card", "--dir", str(tmp_path)]) == 2
    capsys.readouterr()
    assert main(["new-adapter", "zeta3", "--dir", str(readme)]) == 2  # a file, not a folder
    assert "cannot write payhub-zeta3" in capsys.readouterr().err
    assert main(["new-adapter", "zeta4", "--dir", f"{tmp_path}/a\x00b"]) == 2
    assert "cannot write payhub-zeta4" in capsys.readouterr().err


def test_the_templates_ship_in_the_payhub_core_wheel(tmp_path: Path) -> None:
    pip(
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        str(tmp_path),
        str(ROOT / "payhub_core"),
    )
    [wheel] = tmp_path.glob("payhub_core-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    templates = [name for name in names if "/templates/adapter/" in name]
    assert "payhub_core/templates/adapter/package/_redirect.py.jinja" in templates
    assert "payhub_core/templates/adapter/package/_otp.py.jinja" in templates
    assert len(templates) >= 12
