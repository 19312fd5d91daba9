"""The layer contracts of ``[tool.importlinter]`` (pyproject.toml): the real tree keeps them,
and each breaks on the import it exists to stop (tried on a small tree of the same names)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def test_the_tree_keeps_every_layer_contract() -> None:
    done = lint(REPO)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


SKELETON = (
    "sync/__init__.py",
    "sync/model/__init__.py",
    "sync/store/__init__.py",
    "sync/client/__init__.py",
    "sync/county/__init__.py",
    "sync/cli/__init__.py",
    "sync/cli/doctor.py",
    "sync/stats/__init__.py",
    "sync/geo/__init__.py",
    "sync/demo/__init__.py",
    "desktop/__init__.py",
    "desktop/cli.py",
    "desktop/selftest.py",
    "tools/__init__.py",
    "tests/__init__.py",
)


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("sync/store/qtbits.py", "import PySide6", "never imports Qt"),
        ("sync/model/up.py", "import sync.store", "the model is the bottom layer"),
        ("sync/store/up.py", "from sync.client import x", "the store stands on the model"),
        ("desktop/county.py", "import sync.county", "the county platform is apart"),
        ("sync/store/front.py", "import sync.cli.doctor", "a CLI module is a front-end"),
        ("desktop/front.py", "import sync.cli", "a CLI module is a front-end"),
        ("sync/helpers.py", "import tests", "nothing in the app or the core imports the tests"),
    ],
)
def test_each_contract_breaks_on_the_import_it_forbids(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    for name in SKELETON:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    fake_qt = tmp_path / "PySide6"
    fake_qt.mkdir()
    (fake_qt / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "desktop/cli.py").write_text("import sync.cli\n", encoding="utf-8")
    (tmp_path / "desktop/selftest.py").write_text("import sync.cli.doctor\n", encoding="utf-8")
    assert lint(tmp_path).returncode == 0  # the skeleton with the two allowed imports keeps

    (tmp_path / module).write_text(line + "\n", encoding="utf-8")
    done = lint(tmp_path)
    assert done.returncode != 0
    assert f"{broken}" in done.stdout and "BROKEN" in done.stdout, done.stdout[-2000:]
