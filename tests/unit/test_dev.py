"""The ``./dev`` script, as a new developer meets it: a mistyped command fails with the usage, the
demo without a display says so in plain words, a half-made ``.venv`` is rebuilt rather than
trusted, apt waits for another package manager instead of failing, and ``./dev check`` runs the
tree check. Functions are run from the real script (sourced by bash) in a temporary copy of the
repository, with their own virtualenv: the worktree's ``.venv`` is never touched, and nothing is
installed from a registry (the one step that would, ``pip install -e .[dev]``, is the only thing
these tests replace)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "dev"


def no_display_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    return env


def run_dev(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None):
    return subprocess.run(
        [str(cwd / "dev"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def copy_of_repo(tmp_path: Path) -> Path:
    """The files the setup functions read: the script and pyproject.toml."""
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy2(DEV, repo / "dev")
    shutil.copy2(ROOT / "pyproject.toml", repo / "pyproject.toml")
    return repo


def bash(repo: Path, script: str, env: dict[str, str] | None = None):
    """Run ``script`` with the dev script's functions defined (sourced, main not run), in
    ``env`` (default: this process's environment)."""
    return subprocess.run(
        ["bash", "-c", f"source ./dev\n{script}"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=180,
        env={**(os.environ if env is None else env), "PYTHON": sys.base_prefix + "/bin/python3"},
        stdin=subprocess.DEVNULL,
    )


# -- the command line ---------------------------------------------------------------------------


def test_an_unknown_command_fails_with_the_usage_on_stderr() -> None:
    proc = run_dev("tset")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "unknown command 'tset'" in proc.stderr
    assert "./dev test" in proc.stderr and "./dev demo" in proc.stderr


@pytest.mark.parametrize("args", [(), ("help",), ("--help",)])
def test_no_command_or_help_prints_the_usage(args: tuple[str, ...]) -> None:
    proc = run_dev(*args)
    assert proc.returncode == 0, proc.stderr
    assert "./dev test" in proc.stdout and "./dev check" in proc.stdout
    assert proc.stderr == ""


def test_demo_without_a_display_says_so_in_both_languages() -> None:
    started = time.monotonic()
    proc = run_dev("demo", env=no_display_env())
    assert proc.returncode == 3
    assert "没有可用的显示器" in proc.stderr
    assert "there is no display" in proc.stderr
    assert "xvfb-run ./dev demo" in proc.stderr
    assert "installing" not in proc.stderr  # said before any setup, not after minutes of it
    assert time.monotonic() - started < 30


def test_demo_with_an_offscreen_platform_is_not_refused(tmp_path: Path) -> None:
    """QT_QPA_PLATFORM set counts as a display: the display check lets it through to setup."""
    repo = copy_of_repo(tmp_path)
    env = {**no_display_env(), "QT_QPA_PLATFORM": "offscreen"}
    proc = bash(repo, "has_display && echo yes", env=env)
    assert proc.stdout.strip() == "yes", proc.stderr
    proc = bash(repo, "has_display || echo no", env=no_display_env())
    assert proc.stdout.strip() == "no", proc.stderr


# -- the virtualenv -----------------------------------------------------------------------------

def run_venv(repo: Path) -> subprocess.CompletedProcess[str]:
    """dev's venv(), with install_deps (pip install -e .[dev]: minutes, from PyPI) recording
    that it ran instead; everything else (the checks, the rebuild, python -m venv, the stamp)
    runs as written."""
    return bash(repo, 'install_deps() { echo installed >> "$VENV/installs"; }\nvenv')


def test_a_venv_without_pip_is_rebuilt(tmp_path: Path) -> None:
    """The clean-Debian failure: venv creation stopped before pip, and the rerun trusted the
    folder ("No module named pip"). Now the half-made .venv is removed and made again."""
    repo = copy_of_repo(tmp_path)
    subprocess.run(
        [sys.base_prefix + "/bin/python3", "-m", "venv", "--without-pip", str(repo / ".venv")],
        check=True,
        timeout=120,
    )
    (repo / ".venv" / "left-over").write_text("from the broken attempt")
    assert bash(repo, "venv_ok").returncode == 1

    proc = run_venv(repo)
    assert proc.returncode == 0, proc.stderr
    assert "incomplete" in proc.stderr and "rebuilding" in proc.stderr
    assert not (repo / ".venv" / "left-over").exists()
    pip = subprocess.run(
        [str(repo / ".venv" / "bin" / "python"), "-m", "pip", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert pip.returncode == 0 and str(repo / ".venv") in pip.stdout
    assert (repo / ".venv" / "installs").read_text() == "installed\n"
    assert (repo / ".venv" / ".stamp").is_file()
    assert bash(repo, "venv_ok").returncode == 0

    # Set up and stamped: the next run installs nothing.
    assert run_venv(repo).returncode == 0
    assert (repo / ".venv" / "installs").read_text() == "installed\n"

    # An install interrupted after the stamp was cleared is redone, in the same venv.
    (repo / ".venv" / ".stamp").unlink()
    (repo / ".venv" / "kept").write_text("")
    proc = run_venv(repo)
    assert proc.returncode == 0, proc.stderr
    assert (repo / ".venv" / "installs").read_text() == "installed\ninstalled\n"
    assert (repo / ".venv" / "kept").exists()  # not rebuilt: its pip works


def test_a_venv_whose_python_is_gone_is_rebuilt(tmp_path: Path) -> None:
    repo = copy_of_repo(tmp_path)
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").symlink_to(tmp_path / "no-such-python")
    assert bash(repo, "venv_ok").returncode == 1
    proc = run_venv(repo)
    assert proc.returncode == 0, proc.stderr
    assert "rebuilding" in proc.stderr
    assert bash(repo, "venv_ok").returncode == 0


def test_an_interpreter_without_ensurepip_is_detected(tmp_path: Path) -> None:
    """Debian's python3 without python3-venv: the venv module is there, ensurepip is not."""
    repo = copy_of_repo(tmp_path)
    assert bash(repo, "can_make_venv").returncode == 0
    shadow = tmp_path / "shadow" / "ensurepip"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('ensurepip is not installed')\n")
    proc = bash(repo, "can_make_venv", env={**os.environ, "PYTHONPATH": str(shadow.parent)})
    assert proc.returncode == 1


# -- apt ----------------------------------------------------------------------------------------

needs_root_apt = pytest.mark.skipif(
    shutil.which("apt-get") is None or os.geteuid() != 0, reason="needs apt-get, as root"
)


def private_apt(tmp_path: Path) -> tuple[Path, str]:
    """An apt-get update against empty sources, with its own lists and cache folders (so the
    lock it takes is ours, not the machine's)."""
    base = tmp_path / "apt"
    (base / "lists" / "partial").mkdir(parents=True)
    (base / "cache" / "archives" / "partial").mkdir(parents=True)
    (base / "sources.list").write_text("")
    (base / "parts").mkdir()
    opts = (
        f"-o Dir::State::Lists={base}/lists -o Dir::Cache={base}/cache "
        f"-o Dir::Etc::SourceList={base}/sources.list -o Dir::Etc::SourceParts={base}/parts"
    )
    return base / "lists" / "lock", opts


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o640)
fcntl.lockf(fd, fcntl.LOCK_EX)  # the kind of lock apt takes
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextlib.contextmanager
def lock_held(lock: Path, seconds: float) -> Iterator[None]:
    """Another process holding apt's lock for ``seconds``, as a concurrent apt-get would."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        try:
            yield
        finally:
            holder.kill()


@needs_root_apt
def test_apt_waits_for_another_package_manager(tmp_path: Path) -> None:
    """A concurrent apt-get made ./dev exit 100. apt's lists lock is held here for 4 s by another
    process; ./dev's apt_get waits for it and then succeeds."""
    lock, opts = private_apt(tmp_path)
    repo = copy_of_repo(tmp_path)
    with lock_held(lock, 4):
        started = time.monotonic()
        proc = bash(repo, f"apt_get update -qq {opts}", env={**os.environ, "DEV_APT_WAIT": "60"})
        waited = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert "waiting for it to finish" in proc.stderr
    assert waited >= 2


@needs_root_apt
def test_apt_gives_up_after_the_wait_in_apts_own_words(tmp_path: Path) -> None:
    lock, opts = private_apt(tmp_path)
    repo = copy_of_repo(tmp_path)
    with lock_held(lock, 30):
        proc = bash(repo, f"apt_get update -qq {opts}", env={**os.environ, "DEV_APT_WAIT": "2"})
    assert proc.returncode == 100
    assert "Could not get lock" in proc.stderr


# -- ./dev check ----------------------------------------------------------------------------------


def test_dev_check_runs_the_tree_check(tmp_path: Path) -> None:
    """dev's check() fails on a planted file (ruff and mypy, not under test here, stand aside)."""
    repo = copy_of_repo(tmp_path)
    shutil.copytree(ROOT / "tools", repo / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    bin_ = repo / ".venv" / "bin"
    bin_.mkdir(parents=True)
    for tool in ("ruff", "mypy", "lint-imports"):
        (bin_ / tool).write_text("#!/bin/sh\nexit 0\n")
        (bin_ / tool).chmod(0o755)
    (bin_ / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_ / "python").chmod(0o755)
    assert bash(repo, "check").returncode == 0
    (repo / "tools" / "leftover.py").write_text("import dbg\n")
    proc = bash(repo, "check")
    assert proc.returncode == 1
    assert "tools/leftover.py:1: imports 'dbg'" in proc.stderr


# -- .ci/run --------------------------------------------------------------------------------------

REPORT_ENV = """#!/usr/bin/env bash
# Stands in for ./dev: reports what the suite would see, and leaves something behind.
echo "args=$*"
echo "HOME=$HOME"
echo "TMPDIR=$TMPDIR"
echo "PG_STATE=$GRIDROOM_PG_STATE"
echo "SITE=${GRIDROOM_SITE_CONFIG:-unset}"
echo "PYTHONPATH=${PYTHONPATH:-unset}"
echo "XDG_CONFIG_HOME=$XDG_CONFIG_HOME"
echo "PIP_CONFIG_FILE=${PIP_CONFIG_FILE:-unset}"
python3 -c 'import tempfile; print("tempfile=" + tempfile.gettempdir())'
touch "$HOME/leftover" "$TMPDIR/leftover"
exit "${EXIT_WITH:-0}"
"""


def run_ci(tmp_path: Path, **env: str) -> tuple[int, dict[str, str]]:
    repo = tmp_path / "clone"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy2(ROOT / ".ci" / "run", repo / ".ci" / "run")
    (repo / "dev").write_text(REPORT_ENV)
    (repo / "dev").chmod(0o755)
    outer_tmp = tmp_path / "outer-tmp"
    outer_tmp.mkdir()
    pip_conf = tmp_path / "developer-home" / ".config" / "pip" / "pip.conf"
    pip_conf.parent.mkdir(parents=True)
    pip_conf.write_text("[global]\nindex-url = https://mirror.example/simple\n")
    proc = subprocess.run(
        ["bash", str(repo / ".ci" / "run")],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **{k: v for k, v in os.environ.items() if k != "PIP_CONFIG_FILE"},
            "HOME": str(tmp_path / "developer-home"),
            "TMPDIR": str(outer_tmp),
            "GRIDROOM_SITE_CONFIG": "/etc/gridroom/site.toml",
            "PYTHONPATH": str(tmp_path / "somewhere"),
            "XDG_CONFIG_HOME": "",
            **env,
        },
        stdin=subprocess.DEVNULL,
    )
    seen = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return proc.returncode, seen


def test_ci_runs_the_suite_with_a_fresh_home_and_tmpdir_then_removes_them(
    tmp_path: Path,
) -> None:
    rc, seen = run_ci(tmp_path)
    assert rc == 0
    assert seen["args"] == "test"
    home, tmp = Path(seen["HOME"]), Path(seen["TMPDIR"])
    assert home != tmp_path / "developer-home" and home.parent == tmp.parent
    assert home.parent.parent == tmp_path / "outer-tmp"  # made by mktemp in the caller's TMPDIR
    assert seen["tempfile"] == str(tmp)  # Python's temporary files follow it
    assert seen["XDG_CONFIG_HOME"] == f"{home}/.config"
    assert seen["PG_STATE"] == f"{tmp}/gridroom-ci-pg.state"  # not the shared default in /tmp
    assert seen["SITE"] == "unset" and seen["PYTHONPATH"] == "unset"
    # How this machine reaches PyPI is configuration, not a leftover: it is kept.
    assert seen["PIP_CONFIG_FILE"] == str(tmp_path / "developer-home/.config/pip/pip.conf")
    assert not home.parent.exists()  # removed at exit, leftovers and all
    assert list((tmp_path / "outer-tmp").iterdir()) == []


def test_ci_keeps_the_suites_exit_status_and_still_cleans_up(tmp_path: Path) -> None:
    rc, seen = run_ci(tmp_path, EXIT_WITH="1")
    assert rc == 1
    assert not Path(seen["HOME"]).exists()
