"""The tested install: .ci/install-test.sh builds the .deb, installs it with apt into a clean
Debian root, runs the self-test there, upgrades, removes and purges it.

It needs root, debootstrap and a Debian mirror, and takes minutes, so it only runs when asked
(``GRIDROOM_INSTALL_TEST=1``); CI runs the script directly (see .ci/run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_install_remove_purge_on_a_clean_debian_root() -> None:
    if os.environ.get("GRIDROOM_INSTALL_TEST") != "1":
        pytest.skip("set GRIDROOM_INSTALL_TEST=1 to run the debootstrap install test")
    if os.geteuid() != 0:
        pytest.skip("the install test needs root (debootstrap, chroot, mount)")
    if shutil.which("debootstrap") is None:
        pytest.skip("the install test needs debootstrap (apt-get install debootstrap)")
    proc = subprocess.run(
        [str(REPO / ".ci" / "install-test.sh")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "PASSED" in proc.stdout
