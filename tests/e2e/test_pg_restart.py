"""PostgreSQL restarts under a running county server: the next request works again.

The county's connection pool used to keep the connections PostgreSQL had closed when it
restarted, so every request failed until the county server itself was restarted. Here a
throwaway PostgreSQL cluster of this test's own (``.ci/postgres.sh`` with a state file in the
test's folder; never the shared one of ``GRIDROOM_TEST_PG``) is restarted with
``pg_ctl restart -m fast`` under a real ``gridroom-county serve``, and a real device syncs on.
"""

from __future__ import annotations

import glob
import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO, TOWNSHIP_A, CountyServer, Device, MemoryKeyring, api, report_case

pytestmark = pytest.mark.postgres

OP = f"{TOWNSHIP_A}-op"


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class OwnPostgres:
    """A PostgreSQL cluster for this test alone, started by ``.ci/postgres.sh``."""

    def __init__(self, workdir: Path) -> None:
        self.state = workdir / "pg.state"
        self.env = {**os.environ, "GRIDROOM_PG_STATE": str(self.state)}
        self.dsn = ""
        self.pgdir = ""

    def _script(self, command: str) -> str:
        done = subprocess.run(
            ["bash", str(REPO / ".ci" / "postgres.sh"), command],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def start(self) -> None:
        self.dsn = self._script("start")
        for line in self.state.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key == "PGDIR":
                self.pgdir = shlex.split(value)[0]
        assert self.pgdir, self.state.read_text(encoding="utf-8")

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every open connection to it is closed by the server."""
        bin_dir = _pg_bin()
        assert bin_dir is not None
        command = [
            str(bin_dir / "pg_ctl"),
            "-D",
            f"{self.pgdir}/data",
            "-l",
            f"{self.pgdir}/server.log",
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "restart",
        ]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)

    def stop(self) -> None:
        self._script("stop")


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[OwnPostgres]:
    if _pg_bin() is None:
        pytest.skip("no PostgreSQL binaries here (/usr/lib/postgresql/*/bin); CI installs them")
    no_user = subprocess.run(["id", "postgres"], capture_output=True).returncode != 0
    if os.getuid() == 0 and no_user:
        pytest.skip("no 'postgres' user to run a PostgreSQL cluster as")
    pg = OwnPostgres(tmp_path)
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()


def test_the_county_keeps_working_after_postgresql_restarts(
    own_postgres: OwnPostgres, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    server = CountyServer(own_postgres.dsn, tmp_path, backend="postgres")
    server.init()
    server.start()
    try:
        assert server.proc is not None
        pid = server.proc.pid
        device = Device(server, OP, tmp_path / "op.sqlite")
        report_case(device, "重启前的上报")
        first = device.sync()
        assert first.status == "ok" and first.pushed == 1, first.to_json()

        own_postgres.restart()

        # The very next request: answered (at worst one retryable 503 while the pool replaces
        # its connections), and the one after it works.
        answers = []
        for _ in range(2):
            r = api(server, "GET", "/v1/session", device.token)
            answers.append(r.status_code)
            if r.status_code == 503:
                assert r.json()["error"]["code"] == "unavailable"
                assert answers.count(503) == 1, answers
        assert answers[-1] == 200, answers
        # A real sync (push and pull) goes through; the county server was never restarted.
        report_case(device, "重启后的上报")
        after = device.sync()
        assert after.status == "ok" and after.pushed == 1, after.to_json()
        assert server.proc is not None and server.proc.pid == pid and server.proc.poll() is None
        # And after a second restart, a new device enrols (sign-in writes) and pulls both.
        own_postgres.restart()
        other = Device(server, f"{TOWNSHIP_A}-sup", tmp_path / "sup.sqlite")
        assert other.store.read("SELECT count(*) FROM cases")[0][0] == 2
        assert device.sync().status == "ok"
        assert server.proc is not None and server.proc.pid == pid and server.proc.poll() is None
        other.close()
        device.close()
    finally:
        server.stop()
