"""The ELF reader behind the glibc measurement and the .deb's Depends, checked against binutils
on real system libraries."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from installer import deps, elf

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF is Linux's")


def _libpython() -> Path:
    import sysconfig

    libdir = Path(sysconfig.get_config_var("LIBDIR") or "")
    found = sorted(libdir.glob("libpython3*.so*")) if libdir.is_dir() else []
    return found[0] if found else Path(sys.executable).resolve()


SAMPLES = [Path("/bin/ls"), _libpython()]


@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs objdump (binutils)")
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_versions_and_needed_match_objdump(path: Path) -> None:
    path = path.resolve()
    dump = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True, check=True)
    needed = re.findall(r"^\s+NEEDED\s+(\S+)$", dump.stdout, re.M)
    assert elf.read_needed(path) == needed
    symbols = subprocess.run(
        ["objdump", "-T", str(path)], capture_output=True, text=True, check=True
    ).stdout
    glibc = {tuple(map(int, v.split("."))) for v in re.findall(r"\(GLIBC_([\d.]+)\)", symbols)}
    assert elf.read_needs(path).highest("GLIBC") == max(glibc)


def test_scan_and_external_needs(tmp_path: Path) -> None:
    shutil.copy(Path(sys.executable).resolve(), tmp_path / "python")
    (tmp_path / "README").write_text("not an ELF file")
    report = elf.scan(tmp_path)
    assert report.files == 1 and report.highest["GLIBC"] is not None
    assert report.runs_on((99, 0)) and not report.runs_on((2, 0))
    external = elf.external_needs(tmp_path)
    assert "libc.so.6" in external
    # A library the tree itself provides is not external.
    lib = elf.read_needed(tmp_path / "python")[0]
    (tmp_path / lib).write_bytes(b"")
    assert lib not in elf.external_needs(tmp_path)


def test_not_elf_and_truncated_files_are_refused_cleanly(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("hello")
    with pytest.raises(elf.NotElf):
        elf.read_needs(text)
    truncated = tmp_path / "short.so"
    truncated.write_bytes(Path("/bin/ls").read_bytes()[:80])
    with pytest.raises((elf.NotElf, ValueError)):
        elf.read_needs(truncated)
    assert elf.scan(tmp_path).unreadable  # reported, not raised


def test_cli_max_glibc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy("/bin/ls", tmp_path / "ls")
    assert elf.main([str(tmp_path), "--max", "99.0"]) == 0
    assert elf.main([str(tmp_path), "--max", "2.0"]) == 1
    assert "newer than the allowed 2.0" in capsys.readouterr().err
    assert elf.main([str(tmp_path / "missing")]) == 2


def test_depends_cover_sonames_with_versions() -> None:
    depends, missing = deps.depends_for(
        {"libc.so.6", "libstdc++.so.6", "libxcb-cursor.so.0", "libGL.so.1", "libmystery.so.9"},
        glibc=(2, 28),
        glibcxx=(3, 4, 22),
    )
    assert missing == ["libmystery.so.9"]
    assert "libc6 (>= 2.28)" in depends and "libstdc++6 (>= 6)" in depends
    assert "libgl1" in depends and "libdbus-1-3" in depends  # dlopen()ed, always declared
    assert depends == sorted(depends)
