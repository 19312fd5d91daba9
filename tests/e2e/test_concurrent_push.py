"""Pushes from several townships at once, with pulls running beside them, on both backends.

Pushes judge their entries before they take the writers' lock (sync/county/push.py), so they
overlap; the change numbers they reserve must still commit in order, or a pull that reads the
head while a lower number is uncommitted would move its cursor past that change for good. A
puller here pulls page after page (raw /v1/sync, no drift repair to hide a gap) while devices of
two townships push small batches, then the changes it collected are compared with a full pull
from cursor 0: nothing may be missing, nothing doubled on the county.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from sync import protocol
from sync.county.db import Database
from tests.e2e.conftest import (
    COUNTY,
    REPO,
    SERVER_ENV,
    TOWNSHIP_A,
    TOWNSHIP_B,
    CountyServer,
    Device,
    MemoryKeyring,
    api,
    county_command,
    report_case,
    running_county,
)

ROUNDS = 8
CASES_PER_ROUND = 3


def _pull_all(county: CountyServer, token: str, cursor: int, seen: dict[str, int]) -> int:
    """Pull pages from ``cursor`` until the county says there is no more; returns the cursor."""
    while True:
        r = api(county, "POST", protocol.SYNC, token, json={"cursor": cursor})
        assert r.status_code == 200, r.text
        page = r.json()["pull"]
        for item in page["items"]:
            if item["kind"] == "entry":
                seen[item["entry"]["id"]] = seen.get(item["entry"]["id"], 0) + 1
            elif item["kind"] == "case":
                for e in item["entries"]:
                    seen[e["id"]] = seen.get(e["id"], 0) + 1
        assert not page["reset"]
        cursor = int(page["cursor"])
        if not page["more"]:
            return cursor


def test_pull_never_skips_a_change_committed_late(
    county: CountyServer, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    push_while_pulling(county, tmp_path)


@pytest.mark.postgres
def test_workers_share_the_port_on_postgres(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    """``serve --workers 2``: two worker processes answer on one port, and pushes through both
    keep the same order and exactly-once guarantees."""
    with running_county("postgres", tmp_path, serve_args=["--workers", "2"]) as county:
        assert county.proc is not None
        children = Path(f"/proc/{county.proc.pid}/task/{county.proc.pid}/children").read_text()
        workers = [
            pid
            for pid in children.split()
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        # multiprocessing's resource tracker is a child too; the workers run spawn_main.
        assert len(workers) == 2, children
        push_while_pulling(county, tmp_path)


def test_workers_refused_on_sqlite(tmp_path: Path) -> None:
    """SQLite has one writer at a time: more than one worker is refused, in plain words."""
    db = tmp_path / "county.sqlite"
    subprocess.run(
        [*county_command(), "init", "--db", str(db), "--county", COUNTY, "--townships", TOWNSHIP_A],
        cwd=REPO,
        env=SERVER_ENV,
        capture_output=True,
        check=True,
        timeout=120,
    )
    out = subprocess.run(
        [*county_command(), "serve", "--db", str(db), "--port", "0", "--workers", "2"],
        cwd=REPO,
        env=SERVER_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "--workers above 1 needs PostgreSQL" in out.stderr
    assert "one writer at a time" in out.stderr
    # Several workers cannot share one rotating log file either (said before any database work).
    out = subprocess.run(
        [
            *county_command(),
            *("serve", "--db", "postgresql://nobody@127.0.0.1:1/none", "--port", "0"),
            *("--workers", "2", "--log-file", str(tmp_path / "county.log")),
        ],
        cwd=REPO,
        env=SERVER_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "--log-file cannot be shared" in out.stderr


def push_while_pulling(county: CountyServer, tmp_path: Path) -> None:
    puller = Device(county, f"{TOWNSHIP_A}-sup", tmp_path / "puller.sqlite")
    token = puller.token
    errors: list[BaseException] = []
    made: dict[str, list[str]] = {}

    def push_loop(name: str, login_name: str) -> None:
        try:
            device = Device(county, login_name, tmp_path / f"{name}.sqlite")
            try:
                cases = made.setdefault(name, [])
                for i in range(ROUNDS):
                    for j in range(CASES_PER_ROUND):
                        cases.append(report_case(device, f"并发推送{name}-{i}-{j}"))
                    report = device.sync()
                    assert report.status == "ok", report.to_json()
            finally:
                device.close()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    pushers = [
        threading.Thread(target=push_loop, args=(f"a{i}", f"{TOWNSHIP_A}-op")) for i in range(3)
    ] + [threading.Thread(target=push_loop, args=(f"b{i}", f"{TOWNSHIP_B}-op")) for i in range(3)]
    seen: dict[str, int] = {}
    cursor = _pull_all(county, token, 0, seen)
    for t in pushers:
        t.start()
    pulls = 0
    while any(t.is_alive() for t in pushers):
        cursor = _pull_all(county, token, cursor, seen)
        pulls += 1
        time.sleep(0.01)
    for t in pushers:
        t.join()
    assert not errors, errors
    cursor = _pull_all(county, token, cursor, seen)
    assert pulls > 3, "the pulls did not overlap the pushes"

    full: dict[str, int] = {}
    _pull_all(county, token, 0, full)
    missing = set(full) - set(seen)
    assert not missing, f"{len(missing)} changes were skipped by the incremental pulls"
    # Every entry of township A's cases reached the puller, none of B's; each case once.
    with Database(county.db_url) as db, db.read() as tx:
        rows = tx.rows(
            "SELECT e.id, c.township_code FROM entries e JOIN cases c ON c.id = e.case_id"
        )
        cases = int(tx.scalar("SELECT count(*) FROM cases"))
        changes, numbers = tx.one("SELECT count(*), count(DISTINCT seq) FROM changes") or (0, 0)
    township_of = {str(r[0]): str(r[1]) for r in rows}
    assert {e for e, t in township_of.items() if t == TOWNSHIP_A} <= set(seen)
    assert not {e for e in seen if township_of.get(e) == TOWNSHIP_B}
    assert all(n == 1 for n in seen.values()), "an entry was pulled twice"
    reported = [c for v in made.values() for c in v]
    assert len(reported) == 6 * ROUNDS * CASES_PER_ROUND
    assert cases == len(reported) == len(township_of)
    assert changes == numbers, "two changes share a number"
    puller.close()
