"""The county's storage layer: one code path for SQLite and PostgreSQL, migrations that refuse a
newer schema, and change sequence numbers that commit in order under concurrent writers."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.county.db import MIGRATIONS, Database, DatabaseError
from tests.e2e.conftest import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        if not os.environ.get("GRIDROOM_TEST_PG"):
            pytest.skip("PostgreSQL tests need GRIDROOM_TEST_PG (see .ci/postgres.sh)")
        with postgres_database() as pg:
            yield pg
    else:
        yield str(tmp_path / "county.sqlite")


def test_migrations_run_once_and_refuse_a_newer_schema(url: str) -> None:
    with Database(url) as db:
        assert db.migrate() == [m.name for m in MIGRATIONS]
        assert db.migrate() == []
        assert db.schema_version() == len(MIGRATIONS)
        with db.write() as tx:
            tx.set_meta("schema", str(len(MIGRATIONS) + 1))
        with pytest.raises(DatabaseError, match="Update gridroom-county; nothing was changed"):
            db.migrate()


def test_one_sql_for_both_engines(url: str) -> None:
    with Database(url) as db:
        db.migrate()
        with db.write() as tx:
            tx.execute("INSERT INTO departments (code, name) VALUES (?, ?)", ["X1", "百分之%测试"])
            tx.executemany(
                "INSERT INTO departments (code, name) VALUES (?, ?)", [("X2", "甲"), ("X3", "乙")]
            )
            tx.execute(
                "INSERT INTO departments (code, name) VALUES (?, ?) ON CONFLICT (code) "
                "DO UPDATE SET name = excluded.name",
                ["X2", "丙"],
            )
            tx.execute(
                "INSERT INTO blob_chunks (sha256, pos, data) VALUES (?, ?, ?)",
                ["s", 0, b"\x00\xffbytes"],
            )
        with db.read() as tx:
            names = tx.rows(
                f"SELECT name FROM departments WHERE code IN ({tx.marks(3)}) ORDER BY code",
                ["X1", "X2", "X3"],
            )
            assert names == [("百分之%测试",), ("丙",), ("乙",)]
            assert bytes(tx.scalar("SELECT data FROM blob_chunks WHERE sha256 = ?", ["s"])) == (
                b"\x00\xffbytes"
            )
            assert tx.scalar("SELECT name FROM departments WHERE code = ?", ["none"], 7) == 7


def test_a_failed_write_leaves_nothing(url: str) -> None:
    with Database(url) as db:
        db.migrate()
        with pytest.raises(RuntimeError), db.write() as tx:
            tx.execute("INSERT INTO departments (code, name) VALUES ('Y', 'y')")
            raise RuntimeError("boom")
        with db.read() as tx:
            assert tx.scalar("SELECT count(*) FROM departments WHERE code = 'Y'") == 0


def test_sequence_numbers_commit_in_order(url: str) -> None:
    """A reader never sees change n+1 committed while n is still in flight: otherwise a pull
    could move its cursor past a change that commits a moment later and never deliver it."""
    with Database(url, pool_size=6) as db:
        db.migrate()
        problems: list[str] = []
        stop = threading.Event()

        def writer(n: int) -> None:
            try:
                for i in range(40):
                    with db.write() as tx:
                        seq = tx.next_seq()
                        tx.execute(
                            "INSERT INTO changes (seq, kind, ref, origin) VALUES (?, ?, ?, ?)",
                            [seq, "entry", f"{n}-{i}", "w"],
                        )
            except Exception as exc:  # reported through the list, asserted below
                problems.append(repr(exc))

        def reader() -> None:
            while not stop.is_set():
                with db.read() as tx:
                    head = int(tx.scalar("SELECT value FROM counters WHERE name = 'seq'"))
                    seqs = [int(r[0]) for r in tx.rows("SELECT seq FROM changes ORDER BY seq")]
                if seqs != list(range(1, head + 1)):
                    problems.append(f"gap: head {head}, have {len(seqs)}")
                    return

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        watcher = threading.Thread(target=reader)
        watcher.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        watcher.join()
        assert problems == []
        with db.read() as tx:
            assert tx.scalar("SELECT count(*) FROM changes") == 160
