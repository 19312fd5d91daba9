"""The Windows installer script: compiled by makensis against a stand-in payload (syntax, every
option path, warnings as errors); and, where Wine is installed, really run silently with the
options county IT uses — paths with spaces, both quoting styles — and uninstalled.

``./dev test`` installs Debian's wine64 (about 100 MB to download, 30 s for the Wine part of
this module), and in CI (``GRIDROOM_WINE_TEST=1``) a missing Wine fails instead of skipping: the
silent install is run, not just compiled. What Wine cannot show is in docs/deploy.md."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sync.settings import Settings

REPO = Path(__file__).resolve().parents[2]
NSI = REPO / "installer" / "nsis" / "gridroom.nsi"
MAKENSIS = shutil.which("makensis")
WINE = shutil.which("wine64") or (
    "/usr/lib/wine/wine64" if Path("/usr/lib/wine/wine64").exists() else None
)
#: CI sets this: there the installer must really run, so a missing Wine is a failure.
WINE_REQUIRED = os.environ.get("GRIDROOM_WINE_TEST") == "1"
pytestmark = pytest.mark.skipif(
    MAKENSIS is None and not WINE_REQUIRED, reason="needs makensis (apt-get install nsis)"
)


def payload(folder: Path) -> Path:
    """Stands in for the PyInstaller bundle: the file names the script expects."""
    folder.mkdir(parents=True)
    (folder / "_internal").mkdir()
    for name in ("gridroom.exe", "gridroom-cli.exe"):
        (folder / name).write_bytes(b"MZ stand-in")
    (folder / "_internal" / "base_library.zip").write_bytes(b"PK")
    (folder / "THIRD-PARTY.txt").write_text("notices")
    return folder


def compile_installer(tmp_path: Path, *defines: str) -> subprocess.CompletedProcess[str]:
    assert MAKENSIS is not None
    return subprocess.run(
        [MAKENSIS, "-V2", "-WX", *defines, str(NSI)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compiles_cleanly_with_a_stand_in_payload(tmp_path: Path) -> None:
    out = tmp_path / "gridroom-0.1.0-windows-x64.exe"
    proc = compile_installer(
        tmp_path,
        f"-DPAYLOAD={payload(tmp_path / 'bundle')}",
        "-DVERSION=0.1.0",
        f"-DOUTFILE={out}",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.read_bytes()[:2] == b"MZ"


def test_without_a_payload_it_says_so(tmp_path: Path) -> None:
    proc = compile_installer(tmp_path, f"-DOUTFILE={tmp_path / 'x.exe'}")
    assert proc.returncode != 0
    assert "Define PAYLOAD" in proc.stdout + proc.stderr


# -- under Wine ---------------------------------------------------------------------------------


class Wine:
    """A throwaway Wine prefix reporting Windows 10, where .bat files run as IT would type them."""

    def __init__(self, prefix: Path) -> None:
        assert WINE is not None
        self.prefix = prefix
        # Headless: no debug chatter, and no offer to download Mono or Gecko (not needed by an
        # NSIS installer, and it would wait for a display).
        self.env = {
            **os.environ,
            "WINEPREFIX": str(prefix),
            "WINEDEBUG": "-all",
            "WINEDLLOVERRIDES": "mscoree,mshtml=",
        }
        self.env.pop("DISPLAY", None)
        self.run_raw(["winecfg", "-v", "win10"])

    def run_raw(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        assert WINE is not None
        return subprocess.run(
            [WINE, *args], env=self.env, capture_output=True, text=True, timeout=300
        )

    def bat(self, folder: Path, line: str) -> int:
        """Run one command line exactly as typed in cmd.exe; its exit code."""
        script = folder / "run.bat"
        script.write_bytes(f"@echo off\r\n{line}\r\nexit /b %ERRORLEVEL%\r\n".encode())
        proc = self.run_raw(["cmd", "/c", "Z:" + str(script).replace("/", "\\")])
        # The uninstaller re-launches itself from %TEMP%: wait for every Wine process to end.
        assert WINE is not None
        wineserver = Path(WINE).with_name("wineserver")
        if wineserver.exists():
            subprocess.run([str(wineserver), "-w"], env=self.env, timeout=120)
        return proc.returncode

    def c(self, windows_path: str) -> Path:
        return self.prefix / "drive_c" / windows_path.replace("\\", "/")


@pytest.fixture(scope="module")
def wine_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Wine, Path, Path, Path]:
    if MAKENSIS is None:
        pytest.fail("GRIDROOM_WINE_TEST=1 but makensis is missing (apt-get install nsis)")
    if WINE is None:
        if WINE_REQUIRED:
            pytest.fail("GRIDROOM_WINE_TEST=1 but Wine is missing (apt-get install wine64)")
        pytest.skip("needs Wine (apt-get install wine64) to run the installer")
    work = tmp_path_factory.mktemp("wine")
    exe = work / "gridroom-test.exe"
    proc = compile_installer(
        work,
        "-DTARGET=amd64-unicode",  # wine64 alone runs 64-bit installers
        f"-DPAYLOAD={payload(work / 'bundle')}",
        "-DVERSION=0.1.0",
        f"-DOUTFILE={exe}",
    )
    assert proc.returncode == 0, proc.stdout
    certs = work / "my certs"
    certs.mkdir()
    from tests.install.tls import make_ca

    ca, _key, _cert = make_ca(certs, "County CA")
    return Wine(work / "prefix"), work, exe, ca


def win(path: Path) -> str:
    return "Z:" + str(path).replace("/", "\\")


@pytest.mark.slow
def test_silent_install_with_presets_then_uninstall(
    wine_setup: tuple[Wine, Path, Path, Path],
) -> None:
    wine, work, exe, ca = wine_setup
    site = wine.c("ProgramData\\Gridroom\\site.toml")

    # A bad option installs nothing and says why in %TEMP%\gridroom-install.log.
    assert wine.bat(work, f"{win(exe)} /S /SERVER=https://grid.example.gov.cn /TOWNSHIP=3308") == 2
    assert not wine.c("Program Files\\Gridroom").exists()
    logs = list(wine.prefix.glob("drive_c/users/*/Temp/gridroom-install.log"))
    assert logs and "9 digits" in logs[0].read_text(encoding="utf-8", errors="replace")

    line = (
        f'{win(exe)} /S /SERVER=https://grid.example.gov.cn/sync /CA="{win(ca)}" '
        "/TOWNSHIP=330825002 /ENCRYPT=1"
    )
    assert wine.bat(work, line) == 0
    assert wine.c("Program Files\\Gridroom\\gridroom.exe").exists()
    assert wine.c("Program Files\\Gridroom\\uninstall.exe").exists()
    s = Settings(site_path=site, user_dir=work / "user")
    assert s.problems == []
    assert s.effective("server_url") == ("https://grid.example.gov.cn/sync", "site (locked)")
    assert s.effective("ca_file") == ("C:\\ProgramData\\Gridroom\\ca.pem", "site (locked)")
    assert wine.c("ProgramData\\Gridroom\\ca.pem").read_bytes() == ca.read_bytes()
    assert s.effective("township") == ("330825002", "site (locked)")
    assert s.effective("require_encryption") == (True, "site (locked)")
    menu = wine.c("ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\网格通·指挥室")
    assert (menu / "网格通·指挥室.lnk").exists()

    # The other quoting style, a data folder with a space, no locks, an install folder with one.
    line = (
        f'{win(exe)} /S "/CA={win(ca)}" /DATADIR=D:\\Grid Data /LOCK=0 /DESKTOP=0 '
        "/D=C:\\Program Files\\Grid Room"
    )
    assert wine.bat(work, line) == 0
    assert wine.c("Program Files\\Grid Room\\gridroom.exe").exists()
    s = Settings(site_path=site, user_dir=work / "user")
    assert s.effective("data_dir") == ("D:\\Grid Data", "site")
    assert s.effective("ca_file")[1] == "site" and not s.locked
    assert wine.c("ProgramData\\Gridroom\\site.toml.bak").exists()

    # Quiet uninstall keeps IT's site config; /PURGE removes it. User data is never touched.
    user_data = wine.c("users\\Public\\gridroom-user-data.txt")
    user_data.write_text("keep")
    assert wine.bat(work, '"C:\\Program Files\\Grid Room\\uninstall.exe" /S') == 0
    assert not wine.c("Program Files\\Grid Room").exists()
    assert site.exists()
    assert wine.bat(work, '"C:\\Program Files\\Gridroom\\uninstall.exe" /S /PURGE') == 0
    assert not wine.c("Program Files\\Gridroom").exists()
    assert not wine.c("ProgramData\\Gridroom").exists()
    assert not menu.exists()
    assert user_data.read_text() == "keep"
