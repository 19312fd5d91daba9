"""Two pushes judged at the same moment on PostgreSQL (in process, real database).

A push judges its entries before it takes the writers' lock (sync/county/push.py). Here the test
holds that lock itself, lets two pushes judge the same thing and queue for it, then lets go: the
one that writes second must see what the first wrote (it is judged again under the lock), so an
entry is stored once and a case opened once — never a unique-key error, never a second report.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sync.county.db import Database
from sync.county.service import County
from sync.model.clock import new_id
from tests.e2e.conftest import postgres_database
from tests.unit.test_county_service import NOW, Clock, entry, report, sign_in

pytestmark = pytest.mark.postgres

A = "330825102"


@pytest.fixture(scope="module")
def pg() -> Iterator[tuple[str, dict[str, dict[str, Any]]]]:
    if not os.environ.get("GRIDROOM_TEST_PG"):
        pytest.skip("PostgreSQL tests need GRIDROOM_TEST_PG (see .ci/postgres.sh)")
    from sync.county import accounts as acc

    acc.set_kdf_profile("light")
    try:
        with postgres_database() as url:
            with Database(url) as db:
                made = County.initialise(db, "330825", demo_townships=[A], clock=Clock())
            yield url, {a["login"]: a for a in made}
    finally:
        acc.set_kdf_profile("standard")


def _race(url: str, county: County, pushes: list[tuple[Any, dict[str, Any]]]) -> list[Any]:
    """Run ``pushes`` at once while the writers' lock is held; release it once all of them
    wait for it. Returns each push's answer (or the exception it raised)."""
    import psycopg

    out: list[Any] = [None] * len(pushes)

    def run(i: int, session: Any, batch: dict[str, Any]) -> None:
        try:
            out[i] = county.push(session, batch, server_now=NOW)
        except Exception as exc:  # reported by the test
            out[i] = exc

    with psycopg.connect(url) as hold:
        hold.execute("UPDATE counters SET value = value WHERE name = 'seq'")  # the lock, held
        threads = [threading.Thread(target=run, args=(i, s, b)) for i, (s, b) in enumerate(pushes)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        with psycopg.connect(url, autocommit=True) as look:
            while True:
                row = look.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                ).fetchone()
                if row is not None and row[0] >= len(pushes):
                    break
                assert time.monotonic() < deadline, "the pushes never queued for the lock"
                time.sleep(0.02)
        hold.commit()
    for t in threads:
        t.join(60)
    return out


def test_one_entry_pushed_twice_at_once_is_stored_once(
    pg: tuple[str, dict[str, dict[str, Any]]],
) -> None:
    url, accounts = pg
    with Database(url) as db:
        county = County(db, clock=Clock())
        session, _ = sign_in(county, accounts, f"{A}-op")
        e = report(accounts[f"{A}-op"], accounts[f"{A}-gw"]["grids"][0])
        answers = _race(
            url,
            county,
            [(session, {"batch_id": new_id(), "entries": [e]}) for _ in range(2)],
        )
        errors = [a for a in answers if isinstance(a, Exception)]
        assert not errors, errors
        statuses = sorted(a["results"][0]["status"] for a in answers)
        assert statuses == ["applied", "duplicate"]
        with db.read() as tx:
            assert tx.scalar("SELECT count(*) FROM entries WHERE id = ?", [e["id"]]) == 1
            assert tx.scalar("SELECT count(*) FROM cases WHERE id = ?", [e["case_id"]]) == 1


def test_one_case_opened_twice_at_once_gets_one_report(
    pg: tuple[str, dict[str, dict[str, Any]]],
) -> None:
    url, accounts = pg
    with Database(url) as db:
        county = County(db, clock=Clock())
        op = accounts[f"{A}-op"]
        grid = accounts[f"{A}-gw"]["grids"][0]
        first = report(op, grid, "楼道漏水")
        # Another device's report with the same case id (a forged or buggy client).
        second = entry(op, first["case_id"], "report", {**first["payload"], "title": "另一事件"})
        s1, _ = sign_in(county, accounts, f"{A}-op")
        s2, _ = sign_in(county, accounts, f"{A}-op")
        answers = _race(
            url,
            county,
            [
                (s1, {"batch_id": new_id(), "entries": [first]}),
                (s2, {"batch_id": new_id(), "entries": [second]}),
            ],
        )
        errors = [a for a in answers if isinstance(a, Exception)]
        assert not errors, errors
        results = [a["results"][0] for a in answers]
        assert sorted(r["status"] for r in results) == ["applied", "rejected"]
        with db.read() as tx:
            assert tx.scalar("SELECT count(*) FROM cases WHERE id = ?", [first["case_id"]]) == 1
            stored = tx.scalar("SELECT count(*) FROM entries WHERE case_id = ?", [first["case_id"]])
            assert stored == 1
