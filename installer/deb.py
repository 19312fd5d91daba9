"""The Debian package: the bundle under /opt/gridroom, a launcher on PATH, the desktop entry and
icon, the site config as a conffile, and Depends computed from what the bundle really needs.

Layout::

    /opt/gridroom/                      the PyInstaller one-folder bundle
    /usr/bin/gridroom                   launcher (exec /opt/gridroom/gridroom "$@")
    /usr/sbin/gridroom-preset           writes /etc/gridroom/site.toml for IT (silent preset)
    /etc/gridroom/site.toml             conffile: kept on remove, deleted on purge
    /usr/share/applications/gridroom.desktop
    /usr/share/icons/hicolor/<n>x<n>/apps/gridroom.png
    /usr/share/doc/gridroom/            copyright, third-party notices, site.toml.example

Built with ``dpkg-deb --root-owner-group`` (no fakeroot needed) and xz compression, which every
dpkg since Debian 8 — UOS and Kylin included — reads.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import deps, elf

HERE = Path(__file__).resolve().parent
PACKAGE = "gridroom"
MAINTAINER = "Gridroom Team <gridroom@invalid>"


class DebError(RuntimeError):
    """The package cannot be built; the message says what to fix."""


@dataclass
class DebInfo:
    """What was built, for the build report."""

    path: Path
    version: str
    architecture: str
    depends: list[str]
    installed_size_kib: int
    deb_size: int
    glibc: str
    glibcxx: str


def architecture() -> str:
    """The Debian architecture of this machine (amd64, arm64 …)."""
    try:
        out = subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        machine = os.uname().machine
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def debian_version(version: str, revision: str = "1") -> str:
    """``0.1.0`` → ``0.1.0-1``; PEP 440 pre-releases sort before the release (``~``)."""
    v = re.sub(r"(\d)\.?(dev|a|b|rc)(\d)", r"\1~\2\3", version)
    return f"{v}-{revision}"


LAUNCHER = """#!/bin/sh
# Gridroom launcher: the app lives in /opt/gridroom (a self-contained bundle).
# Chinese input: the bundled Qt has no fcitx plugin (PySide6 ships ibus and compose only), but
# fcitx5 also speaks the ibus protocol, so route Qt to it that way unless a plugin is present.
case "${QT_IM_MODULE:-}" in
    fcitx|fcitx5)
        if ! ls /opt/gridroom/_internal/PySide6/Qt/plugins/platforminputcontexts/*fcitx* \
                >/dev/null 2>&1; then
            export QT_IM_MODULE=ibus
        fi
        ;;
esac
exec /opt/gridroom/gridroom "$@"
"""

DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Version=1.0
Name=Gridroom
Name[zh_CN]=网格通·指挥室
GenericName=Grid governance command room
GenericName[zh_CN]=网格化治理指挥室
Comment=Cases, grids and sync for the township command room
Comment[zh_CN]=乡镇综合信息指挥室：事件受理、派遣、核查与同步
Exec=gridroom
Icon=gridroom
Terminal=false
Categories=Office;
Keywords=grid;governance;cases;网格;事件;指挥室;
StartupWMClass=gridroom
"""

POSTRM = """#!/bin/sh
# Purge removes what IT preset (site.toml is a conffile, dpkg deletes it; the CA copy that
# gridroom-preset placed beside it goes here). Users' own data in their home folders is never
# touched by the package.
set -e
if [ "$1" = "purge" ]; then
    rm -f /etc/gridroom/ca.pem /etc/gridroom/ca.pem.new /etc/gridroom/site.toml.bak
    rmdir --ignore-fail-on-non-empty /etc/gridroom 2>/dev/null || true
fi
exit 0
"""


def _copyright(version: str) -> str:
    return f"""Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Gridroom (网格通·指挥室)
Comment: Version {version}. The bundle under /opt/gridroom carries third-party components;
 their names, versions and licences are listed in THIRD-PARTY.txt beside this file.
 Qt and PySide6 are used under the LGPL-3.0 as separate shared libraries
 (/opt/gridroom/_internal/PySide6/Qt/lib), which a user may replace.

Files: *
Copyright: Gridroom authors
License: Proprietary

Files: opt/gridroom/_internal/gridroom_resources/fonts/wqy-microhei.ttc
Copyright: WenQuanYi Project contributors
License: Apache-2.0 or GPL-3.0-with-font-exception
"""


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def _normalise_modes(root: Path) -> None:
    """Directories 0755, executables 0755, everything else 0644 (a bundle copied from a
    build machine with an odd umask must not install group-writable files)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        Path(dirpath).chmod(0o755)
        for name in filenames:
            p = Path(dirpath) / name
            if p.is_symlink():
                continue
            executable = p.stat().st_mode & stat.S_IXUSR
            p.chmod(0o755 if executable else 0o644)


def _installed_size_kib(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        if Path(dirpath).name == "DEBIAN" or "/DEBIAN" in dirpath:
            continue
        for name in files:
            p = Path(dirpath) / name
            if not p.is_symlink():
                total += p.stat().st_size
    return (total + 1023) // 1024


def _md5sums(root: Path, conffiles: set[str]) -> str:
    lines = []
    for dirpath, _dirs, files in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        if rel_dir.parts[:1] == ("DEBIAN",):
            continue
        for name in sorted(files):
            p = Path(dirpath) / name
            rel = (rel_dir / name).as_posix()
            if p.is_symlink() or f"/{rel}" in conffiles:
                continue
            lines.append(f"{hashlib.md5(p.read_bytes()).hexdigest()}  {rel}")  # dpkg wants MD5 here
    return "\n".join(sorted(lines, key=lambda line: line[34:])) + "\n"


def system_depends(bundle: Path) -> tuple[list[str], elf.Report]:
    """Depends for ``bundle``; raise :class:`DebError` naming any library nothing provides."""
    report = elf.scan(bundle)
    external = elf.external_needs(bundle)
    depends, missing = deps.depends_for(
        set(external),
        glibc=report.highest.get("GLIBC"),
        glibcxx=report.highest.get("GLIBCXX"),
    )
    if missing:
        lines = [f"  {s} (needed by {external[s][0]})" for s in missing]
        raise DebError(
            "The bundle needs libraries that neither it nor any declared Depends provides:\n"
            + "\n".join(lines)
            + "\nAdd each to SONAME_PACKAGES in installer/deps.py (or keep it in the bundle)."
        )
    return depends, report


def build_deb(
    bundle: Path,
    out_dir: Path,
    *,
    version: str,
    icons: dict[str, Path],
    notices: Path | None = None,
    arch: str | None = None,
    compression: str = "xz",
    revision: str = "1",
) -> DebInfo:
    """Build ``gridroom_<version>_<arch>.deb`` from a one-folder bundle into ``out_dir``."""
    bundle = Path(bundle)
    if not (bundle / "gridroom").is_file():
        raise DebError(f"{bundle} is not a Gridroom bundle (no gridroom executable inside).")
    if shutil.which("dpkg-deb") is None:
        raise DebError("dpkg-deb is not installed (apt-get install dpkg-dev or dpkg).")
    depends, report = system_depends(bundle)
    arch = arch or architecture()
    deb_version = debian_version(version, revision)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gridroom-deb-", dir=out_dir) as tmp:
        root = Path(tmp) / "root"
        shutil.copytree(bundle, root / "opt" / PACKAGE, symlinks=True)
        _write(root / "usr/bin/gridroom", LAUNCHER, 0o755)
        _write(
            root / "usr/sbin/gridroom-preset",
            (HERE / "gridroom-preset.sh").read_text(encoding="utf-8"),
            0o755,
        )
        site_example = (HERE / "site.toml.example").read_text(encoding="utf-8")
        _write(root / "etc/gridroom/site.toml", site_example)
        _write(root / "usr/share/applications/gridroom.desktop", DESKTOP_ENTRY)
        for key, src in icons.items():
            if key.startswith("png"):
                n = key[3:]
                dest = root / f"usr/share/icons/hicolor/{n}x{n}/apps/gridroom.png"
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
        doc = root / "usr/share/doc" / PACKAGE
        _write(doc / "copyright", _copyright(version))
        _write(doc / "site.toml.example", site_example)
        if notices is not None and notices.exists():
            shutil.copyfile(notices, doc / "THIRD-PARTY.txt")
        _normalise_modes(root)

        control_dir = root / "DEBIAN"
        conffiles = {"/etc/gridroom/site.toml"}
        description = (
            "Township grid-governance command room (网格通·指挥室)\n"
            " Offline-first desktop app for township information command rooms and grid\n"
            " workers: report, accept, dispatch, handle, verify and archive cases on a local\n"
            " store, and sync with the county platform whenever a link exists.\n"
            " .\n"
            " County IT presets the server, CA and township in /etc/gridroom/site.toml\n"
            " (gridroom-preset writes it); `gridroom doctor` checks a machine."
        )
        control = (
            f"Package: {PACKAGE}\n"
            f"Version: {deb_version}\n"
            f"Architecture: {arch}\n"
            f"Maintainer: {MAINTAINER}\n"
            f"Installed-Size: {_installed_size_kib(root)}\n"
            f"Depends: {', '.join(depends)}\n"
            "Recommends: fonts-wqy-microhei | fonts-noto-cjk\n"
            "Section: misc\n"
            "Priority: optional\n"
            f"Description: {description}\n"
        )
        _write(control_dir / "control", control)
        _write(control_dir / "conffiles", "".join(f"{c}\n" for c in sorted(conffiles)))
        _write(control_dir / "postrm", POSTRM, 0o755)
        _write(control_dir / "md5sums", _md5sums(root, conffiles))
        control_dir.chmod(0o755)

        out = out_dir / f"{PACKAGE}_{deb_version}_{arch}.deb"
        tmp_out = out.with_suffix(".deb.part")
        cmd = ["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(root)]
        proc = subprocess.run([*cmd, str(tmp_out)], capture_output=True, text=True)
        if proc.returncode != 0:
            tmp_out.unlink(missing_ok=True)
            raise DebError(f"dpkg-deb failed: {proc.stderr.strip() or proc.stdout.strip()}")
        os.replace(tmp_out, out)
        installed = _installed_size_kib(root)
    return DebInfo(
        path=out,
        version=deb_version,
        architecture=arch,
        depends=depends,
        installed_size_kib=installed,
        deb_size=out.stat().st_size,
        glibc=elf.vtext(report.highest.get("GLIBC")),
        glibcxx=elf.vtext(report.highest.get("GLIBCXX")),
    )
