"""The .deb built from a stand-in bundle: layout, conffile, Depends, maintainer scripts.

The full install/remove/purge cycle on a clean Debian root is .ci/install-test.sh
(test_install.py runs it when asked).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from installer import deb
from installer.icon import write_icons

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")


def stand_in_bundle(folder: Path, program: str = "/bin/true") -> Path:
    bundle = folder / "gridroom"
    (bundle / "_internal").mkdir(parents=True)
    shutil.copy(program, bundle / "gridroom")
    (bundle / "_internal" / "data.txt").write_text("payload")
    return bundle


def dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


def test_package_layout_conffile_and_depends(tmp_path: Path) -> None:
    bundle = stand_in_bundle(tmp_path)
    icons = write_icons(tmp_path / "icons")
    info = deb.build_deb(bundle, tmp_path / "out", version="1.2.3", icons=icons, compression="gzip")
    assert info.path.name == f"gridroom_1.2.3-1_{info.architecture}.deb"
    fields = dpkg_deb("-f", str(info.path))
    assert "Package: gridroom" in fields and "Version: 1.2.3-1" in fields
    assert f"libc6 (>= {info.glibc})" in fields  # measured from the stand-in program
    for must in ("libdbus-1-3", "libxcb-cursor0"):
        assert must in fields
    files = dpkg_deb("-c", str(info.path))
    for path in (
        "./opt/gridroom/gridroom",
        "./opt/gridroom/_internal/data.txt",
        "./usr/bin/gridroom",
        "./usr/sbin/gridroom-preset",
        "./etc/gridroom/site.toml",
        "./usr/share/applications/gridroom.desktop",
        "./usr/share/icons/hicolor/256x256/apps/gridroom.png",
        "./usr/share/doc/gridroom/copyright",
    ):
        assert path in files, path
    assert "root/root" in files and "-rwxr-xr-x root/root" in files
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", str(info.path), str(control)], check=True)
    assert (control / "conffiles").read_text() == "/etc/gridroom/site.toml\n"
    for script in ("postrm",):
        subprocess.run(["sh", "-n", str(control / script)], check=True)
    assert "rm -f /etc/gridroom/ca.pem" in (control / "postrm").read_text()
    md5 = (control / "md5sums").read_text()
    assert "opt/gridroom/gridroom" in md5 and "etc/gridroom/site.toml" not in md5
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(info.path), str(root)], check=True)
    launcher = (root / "usr/bin/gridroom").read_text()
    subprocess.run(["sh", "-n", str(root / "usr/bin/gridroom")], check=True)
    assert 'exec /opt/gridroom/gridroom "$@"' in launcher
    desktop = (root / "usr/share/applications/gridroom.desktop").read_text()
    assert "Name[zh_CN]=网格通·指挥室" in desktop and "Exec=gridroom" in desktop
    # The shipped site config has every key commented out: installing changes no behaviour.
    site = (root / "etc/gridroom/site.toml").read_text()
    assert all(
        line.startswith("#") or line.startswith("[") or not line.strip()
        for line in site.splitlines()
    )


def test_a_library_nothing_provides_fails_the_build(tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs a program linked to a library outside the Depends table")
    bundle = stand_in_bundle(tmp_path, openssl)  # needs libssl.so.3, which the bundle must carry
    with pytest.raises(deb.DebError, match=r"libssl\.so\.3 \(needed by gridroom\)"):
        deb.build_deb(bundle, tmp_path / "out", version="1.0", icons={}, compression="gzip")
    assert not list((tmp_path / "out").glob("*.deb"))


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(deb.DebError, match="not a Gridroom bundle"):
        deb.build_deb(tmp_path, tmp_path / "out", version="1.0", icons={})


def test_debian_versions_sort_prereleases_first() -> None:
    assert deb.debian_version("0.1.0") == "0.1.0-1"
    assert deb.debian_version("1.0.0rc1") == "1.0.0~rc1-1"
    assert deb.debian_version("1.0.dev3", "2") == "1.0~dev3-2"
