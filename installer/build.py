"""Build the Gridroom desktop bundle and its installers in one command.

    python -m installer.build            # Linux: bundle + .deb into dist/
    python -m installer.build --nsis     # Windows (or Linux with makensis): bundle + setup.exe
    installer/build.sh                   # the same, with the repo's .venv interpreter

Steps: a separate build venv with the pinned Qt (``installer/constraints.txt``; PySide6 6.9.x
wheels run on glibc 2.28), the app's runtime dependencies and PyInstaller; the one-folder bundle
from ``installer/gridroom.spec``; the bundle's own ``--self-test``; the glibc measurement; the
.deb (or the NSIS installer); ``dist/build-report.json`` with sizes and timings.

Only the standard library is imported here, so any Python 3.11 can drive the build; the app's
dependencies live in the build venv alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from . import deb, elf

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "installer"
WINDOWS = sys.platform == "win32"


class BuildError(RuntimeError):
    """A build step failed; the message says which and why."""


def log(msg: str) -> None:
    print(f"build: {msg}", flush=True)


def project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if WINDOWS else "bin/python")


def run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    """Run a build step, streaming its output; raise :class:`BuildError` when it fails."""
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=cwd)
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(map(str, cmd[:4]))} … failed with exit code {proc.returncode}")
    log(
        f"{Path(cmd[0]).name} {cmd[1] if len(cmd) > 1 else ''} took "
        f"{time.monotonic() - started:.1f} s"
    )


def ensure_venv(venv: Path, python: str) -> Path:
    """Create or refresh the build venv; reinstall only when the pins or dependencies changed."""
    requirements = [*project()["dependencies"], "pyinstaller", "pyinstaller-hooks-contrib"]
    constraints = (HERE / "constraints.txt").read_text(encoding="utf-8")
    want = hashlib.sha256(json.dumps([requirements, constraints, python]).encode()).hexdigest()[:16]
    stamp = venv / ".gridroom-stamp"
    py = venv_python(venv)
    if py.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return py
    if not py.exists():
        log(f"creating the build venv {venv} with {python}")
        run([python, "-m", "venv", str(venv)])
    req = venv / "requirements.txt"
    req.write_text("\n".join(requirements) + "\n", encoding="utf-8")
    run(
        [
            str(py),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(req),
            "-c",
            str(HERE / "constraints.txt"),
        ]
    )
    stamp.write_text(want)
    return py


def prepare_shim(work: Path, version: str) -> Path:
    """A folder holding ``gridroom_resources`` (resources/ under its installed name), plus the
    VERSION file the frozen app reports (it has no package metadata to ask)."""
    shim = work / "shim"
    target = shim / "gridroom_resources"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        ROOT / "resources", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.ts")
    )
    (target / "VERSION").write_text(version + "\n", encoding="utf-8")
    return shim


def windows_version_file(work: Path, version: str) -> Path:
    """The version resource of gridroom.exe (Explorer's Properties → Details; inventory tools)."""
    numbers = [int(n) for n in re.findall(r"\d+", version)[:3]]
    numbers += [0] * (4 - len(numbers))
    four = tuple(numbers[:4])
    strings = {
        "CompanyName": "Gridroom",
        "FileDescription": "网格通·指挥室 Gridroom",
        "FileVersion": version,
        "InternalName": "gridroom",
        "OriginalFilename": "gridroom.exe",
        "ProductName": "Gridroom 网格通·指挥室",
        "ProductVersion": version,
    }
    table = ", ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings.items())
    text = (
        "VSVersionInfo(\n"
        f"  ffi=FixedFileInfo(filevers={four}, prodvers={four}, mask=0x3f, flags=0x0,\n"
        "    OS=0x40004, fileType=0x1, subtype=0x0, date=(0, 0)),\n"
        f"  kids=[StringFileInfo([StringTable('080404b0', [{table}])]),\n"
        "        VarFileInfo([VarStruct('Translation', [2052, 1200])])]\n"
        ")\n"
    )
    path = work / "version_info.txt"
    path.write_text(text, encoding="utf-8")
    return path


def du(path: Path) -> int:
    """Bytes used by the files under ``path`` (symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            p = Path(dirpath) / name
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def bundle_selftest(bundle: Path) -> dict[str, Any]:
    """Run the built app's ``--self-test`` offscreen in throwaway config/data folders."""
    exe = bundle / ("gridroom-cli.exe" if WINDOWS else "gridroom")
    with tempfile.TemporaryDirectory(prefix="gridroom-selftest-") as tmp:
        env = dict(os.environ)
        env.update(
            QT_QPA_PLATFORM="offscreen",
            GRIDROOM_CONFIG_DIR=str(Path(tmp) / "config"),
            XDG_DATA_HOME=str(Path(tmp) / "data"),
            GRIDROOM_SITE_CONFIG=str(Path(tmp) / "site.toml"),
        )
        started = time.monotonic()
        proc = subprocess.run(
            [str(exe), "--self-test"], env=env, capture_output=True, text=True, timeout=300
        )
        seconds = time.monotonic() - started
    print(proc.stdout, end="")
    print(proc.stderr, end="", file=sys.stderr)
    return {"exit_code": proc.returncode, "seconds": round(seconds, 2)}


def makensis(
    bundle: Path, out_dir: Path, version: str, icon: Path | None, target: str | None = None
) -> Path:
    """Compile the NSIS installer around ``bundle`` (warnings are errors)."""
    tool = shutil.which("makensis")
    if tool is None:
        raise BuildError("makensis is not installed (Debian: apt-get install nsis).")
    # Not "setup" in the name: Windows applies installer-detection shims to such files.
    out = out_dir / f"gridroom-{version}-windows-x64.exe"
    cmd = [
        tool,
        "-V2",
        "-WX",
        f"-DPAYLOAD={bundle}",
        f"-DVERSION={version}",
        f"-DOUTFILE={out}",
    ]
    if icon is not None:
        cmd.append(f"-DICON={icon}")
    if target:
        cmd.append(f"-DTARGET={target}")
    run([*cmd, str(HERE / "nsis" / "gridroom.nsi")])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m installer.build", description=__doc__)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the build venv")
    parser.add_argument("--venv", type=Path, default=ROOT / "build" / "venv-bundle")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "installer")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--no-deb", action="store_true", help="skip the .deb (Windows: always)")
    parser.add_argument("--nsis", action="store_true", help="compile the NSIS installer too")
    parser.add_argument("--no-selftest", action="store_true", help="skip the bundle's self-test")
    parser.add_argument(
        "--compression",
        default="xz",
        choices=["xz", "gzip", "zstd"],
        help="of the .deb (xz: what every UOS/Kylin dpkg reads)",
    )
    parser.add_argument(
        "--max-glibc", metavar="X.Y", help="fail when the bundle needs a newer glibc than X.Y"
    )
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    t0 = time.monotonic()
    try:
        version = project()["version"]
        args.work.mkdir(parents=True, exist_ok=True)
        args.out.mkdir(parents=True, exist_ok=True)
        py = ensure_venv(args.venv, args.python)
        report["venv_seconds"] = round(time.monotonic() - t0, 1)

        icons_dir = args.work / "icons"
        run([str(py), "-m", "installer.icon", str(icons_dir)], cwd=ROOT)
        icons = {f"png{n}": icons_dir / f"gridroom-{n}.png" for n in (16, 32, 48, 64, 128, 256)}
        shim = prepare_shim(args.work, version)
        notices = args.work / "THIRD-PARTY.txt"
        run([str(py), "-m", "installer.notices", str(notices)], cwd=ROOT)

        t1 = time.monotonic()
        env = dict(os.environ)
        env.update(
            GRIDROOM_ROOT=str(ROOT),
            GRIDROOM_SHIM=str(shim),
            GRIDROOM_ICON=str(icons_dir / ("gridroom.ico" if WINDOWS else "gridroom-256.png")),
            PYTHONDONTWRITEBYTECODE="1",
            # collect_submodules() imports the app in a child interpreter: let it find both.
            PYTHONPATH=os.pathsep.join([str(ROOT), str(shim)]),
            GRIDROOM_VERSION_FILE=str(windows_version_file(args.work, version)) if WINDOWS else "",
        )
        distpath = args.work / "dist"
        run(
            [
                str(py),
                "-m",
                "PyInstaller",
                "--noconfirm",
                "--log-level",
                "WARN",
                "--distpath",
                str(distpath),
                "--workpath",
                str(args.work / "pyinstaller"),
                str(HERE / "gridroom.spec"),
            ],
            env=env,
            cwd=ROOT,
        )
        bundle = distpath / "gridroom"
        shutil.copyfile(notices, bundle / "THIRD-PARTY.txt")
        shutil.copyfile(HERE / "site.toml.example", bundle / "site.toml.example")
        report["pyinstaller_seconds"] = round(time.monotonic() - t1, 1)
        report["bundle_bytes"] = du(bundle)
        report["bundle_files"] = sum(len(f) for _d, _s, f in os.walk(bundle))
        log(
            f"bundle {bundle}: {report['bundle_bytes'] / 1e6:.1f} MB, "
            f"{report['bundle_files']} files"
        )

        if not WINDOWS:
            scan = elf.scan(bundle)
            report["elf"] = scan.as_dict()
            report["system_libraries"] = sorted(elf.external_needs(bundle))
            log("needs " + ", ".join(f"{k} {elf.vtext(v)}" for k, v in scan.highest.items()))
            if args.max_glibc and not scan.runs_on(tuple(map(int, args.max_glibc.split(".")))):
                raise BuildError(
                    f"the bundle needs glibc {elf.vtext(scan.highest['GLIBC'])}, newer than "
                    f"--max-glibc {args.max_glibc}; files: {scan.worst_files['GLIBC'][:5]}"
                )

        if not args.no_selftest:
            result = bundle_selftest(bundle)
            report["selftest"] = result
            if result["exit_code"] != 0:
                raise BuildError(
                    f"the bundle's --self-test failed (exit {result['exit_code']}); see above"
                )

        if not WINDOWS and not args.no_deb:
            t2 = time.monotonic()
            info = deb.build_deb(
                bundle,
                args.out,
                version=version,
                icons=icons,
                notices=notices,
                compression=args.compression,
            )
            report["deb"] = {
                "path": str(info.path),
                "version": info.version,
                "architecture": info.architecture,
                "bytes": info.deb_size,
                "installed_kib": info.installed_size_kib,
                "depends": info.depends,
                "glibc": info.glibc,
                "glibcxx": info.glibcxx,
                "seconds": round(time.monotonic() - t2, 1),
            }
            log(
                f"{info.path.name}: {info.deb_size / 1e6:.1f} MB, installed "
                f"{info.installed_size_kib / 1024:.0f} MiB, glibc >= {info.glibc}"
            )

        if args.nsis:
            setup = makensis(bundle, args.out, version, icons_dir / "gridroom.ico")
            report["nsis"] = {"path": str(setup), "bytes": setup.stat().st_size}
            log(f"{setup.name}: {setup.stat().st_size / 1e6:.1f} MB")
    except (BuildError, deb.DebError) as exc:
        print(f"build: FAILED: {exc}", file=sys.stderr)
        return 1
    report["total_seconds"] = round(time.monotonic() - t0, 1)
    (args.out / "build-report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    log(f"done in {report['total_seconds']} s; report in {args.out / 'build-report.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
