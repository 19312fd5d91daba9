"""``gridroom --self-test``: the real command, in its own process, offscreen.

It runs as a subprocess because it installs translators and fonts into its QApplication, which
must not leak into the GUI tests sharing this test run's application.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import selftest
from sync.cli.doctor import FAIL, OK, WARN

REPO = Path(__file__).resolve().parents[2]


def run_selftest(
    tmp_path: Path, *, json_out: bool = False, screenshot: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "GRIDROOM_SITE_CONFIG": str(tmp_path / "site.toml"),
        "GRIDROOM_CONFIG_DIR": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
    }
    if json_out:
        env["GRIDROOM_SELFTEST_JSON"] = "1"
    if screenshot is not None:
        env["GRIDROOM_SELFTEST_SCREENSHOT"] = str(screenshot)
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", "--self-test"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_self_test_passes_and_renders_the_main_window(tmp_path: Path) -> None:
    shot = tmp_path / "window.png"
    proc = run_selftest(tmp_path, json_out=True, screenshot=shot)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    checks = {c["name"]: c for c in result["checks"]}
    assert set(checks) == {
        "fonts", "translations", "engine", "keyring", "encryption", "report", "platform",
        "main window",
    }
    assert result["passed"] is True
    for name in ("fonts", "translations", "engine", "encryption", "report", "platform"):
        assert checks[name]["status"] == OK, checks[name]
    # Without a desktop session there may be no keyring: a warning, never a failure.
    assert checks["keyring"]["status"] in (OK, WARN)
    assert checks["main window"]["status"] in (OK, WARN)
    assert any("已超期 3 天" in line for line in checks["translations"]["details"])
    assert shot.stat().st_size > 10_000  # a real picture of the window
    # Nothing escaped the temporary folders: no user settings were written.
    assert not (tmp_path / "config" / "settings.json").exists()
    assert not (tmp_path / "data" / "gridroom").exists()


def test_human_report_and_exit_code(tmp_path: Path) -> None:
    proc = run_selftest(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Self-test PASSED" in proc.stdout
    assert "[ OK ] engine" in proc.stdout


def test_a_window_that_cannot_be_built_fails_loudly(tmp_path: Path) -> None:
    """The store for the window cannot be made (its folder is a file): FAIL, with the trace."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    check = selftest._timed(
        "main window", lambda: selftest.check_main_window(None, blocker / "work", None)
    )
    assert check.status == FAIL
    assert "Error" in check.summary
    assert any("Traceback" in line for line in check.details)


def _without(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    """Make ``package`` unimportable in this process, as in a bundle that left it out."""
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)


def test_encryption_and_report_checks_pass_here(tmp_path: Path) -> None:
    enc = selftest._timed("encryption", lambda: selftest.check_encryption(tmp_path / "e"))
    assert enc.status == OK, enc
    rep = selftest._timed("report", lambda: selftest.check_report(tmp_path / "r"))
    assert rep.status == OK, rep
    assert (tmp_path / "r" / "月报.pdf").read_bytes().startswith(b"%PDF-")


def test_a_bundle_without_cryptography_fails_the_encryption_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without(monkeypatch, "cryptography")
    check = selftest._timed("encryption", lambda: selftest.check_encryption(tmp_path))
    assert check.status == FAIL
    assert "cryptography" in check.summary


def test_a_bundle_without_reportlab_fails_the_report_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without(monkeypatch, "reportlab")
    check = selftest._timed("report", lambda: selftest.check_report(tmp_path))
    assert check.status == FAIL
    assert "reportlab" in check.summary
