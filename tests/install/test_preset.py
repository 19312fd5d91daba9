"""gridroom-preset (the .deb's /usr/sbin tool): writes a site config the app reads back exactly,
refuses bad values without touching anything."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sync.settings import Settings
from tests.install.tls import make_ca

SCRIPT = Path(__file__).resolve().parents[2] / "installer" / "gridroom-preset.sh"
pytestmark = pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")


def preset(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(SCRIPT), "--site", str(site), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def read(site: Path) -> Settings:
    return Settings(site_path=site, user_dir=site.parent / "user")


def test_written_values_read_back_exactly_and_locked(tmp_path: Path) -> None:
    ca, _key, _cert = make_ca(tmp_path, "County CA")
    spaced = tmp_path / "my certs" / "county ca.pem"
    spaced.parent.mkdir()
    shutil.copy(ca, spaced)
    site = tmp_path / "etc" / "site.toml"
    data_dir = 'D:\\网格 "data"'
    proc = preset(
        site,
        "--server=https://grid.example.gov.cn/",
        "--ca",
        str(spaced),
        "--township",
        "330825002",
        "--require-encryption",
        "yes",
        "--data-dir",
        data_dir,
    )
    assert proc.returncode == 0, proc.stderr
    s = read(site)
    assert s.problems == []
    assert s.effective("server_url") == ("https://grid.example.gov.cn", "site (locked)")
    assert s.effective("ca_file") == (str(site.parent / "ca.pem"), "site (locked)")
    assert (site.parent / "ca.pem").read_bytes() == ca.read_bytes()
    assert s.effective("township") == ("330825002", "site (locked)")
    assert s.effective("require_encryption") == (True, "site (locked)")
    assert s.effective("data_dir") == (data_dir, "site")  # quotes and backslashes survive

    # Rewriting keeps the previous file as .bak; --no-lock leaves values changeable.
    first = site.read_text()
    assert preset(site, "--township", "330825001", "--no-lock").returncode == 0
    assert (site.parent / "site.toml.bak").read_text() == first
    s = read(site)
    assert s.effective("township") == ("330825001", "site") and not s.locked


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--server", "ftp://grid.example"), "must be an https:// URL"),
        (("--server", "https://a b"), "space or a quote"),
        (("--township", "33082500"), "9-digit township code"),
        (("--township", "33082500x"), "must be digits"),
        (("--require-encryption", "maybe"), "yes or no"),
        (("--ca", "/nonexistent/ca.pem"), "does not exist"),
        (("--server", "https://a\nb"), "control character"),
        (("--bogus",), "unknown option"),
        ((), "nothing to preset"),
    ],
)
def test_bad_values_change_nothing(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    site = tmp_path / "site.toml"
    site.write_text("# IT's file\n")
    proc = preset(site, *args)
    assert proc.returncode == 2
    assert words in proc.stderr
    assert site.read_text() == "# IT's file\n"
    assert not (tmp_path / "site.toml.bak").exists()


def test_not_a_pem_file(tmp_path: Path) -> None:
    der = tmp_path / "ca.cer"
    der.write_bytes(b"\x30\x82binary")
    proc = preset(tmp_path / "site.toml", "--ca", str(der))
    assert proc.returncode == 2 and "not a PEM certificate" in proc.stderr


def test_dry_run_prints_and_writes_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    proc = preset(site, "--server", "https://grid.example.gov.cn", "--dry-run")
    assert proc.returncode == 0
    assert 'server_url = "https://grid.example.gov.cn"' in proc.stdout
    assert not site.exists()
