"""The county load benchmark: N devices push M new cases each, all at once, on SQLite and on
PostgreSQL.

``python -m tests.bench county --devices 12 --cases 100 --repeat 3``
(``./dev bench county …``)

Everything is real: ``gridroom-county serve`` on loopback (a SQLite file, or a throwaway
PostgreSQL started with ``.ci/postgres.sh`` under a private ``GRIDROOM_PG_STATE``, unless
``--pg-dsn`` names one), devices enrolled through the API, ``--cases`` cases reported offline
on each, then one real ``gridroom sync`` process per device, all started together. Devices are
spread over the county's townships (their operators' accounts), as a city's are.

Per run: total wall time (first process started to last one ended), entries/s, device p50/p95,
server CPU per entry, server RSS (the process and its workers) before, after and 10 s later,
the SQL statements and calls per push (from the server's ``gridroom.county.push`` log lines,
counted by ``Tx``), and exactly-once afterwards: the county holds N × M cases and entries, each
once, each change number once, and every device's outbox is empty. Medians over ``--repeat``
runs (each on a fresh database).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from sync import protocol
from tests.faults.harness import (
    COUNTY,
    REPO,
    SERVER_ENV,
    START_TIMEOUT_S,
    Device,
    SyncProcess,
    county_command,
    free_port,
    gridroom_env,
)

from .sync_bench import report_cases

HELP = "County load: N devices push M new cases each at once (SQLite, PostgreSQL); JSON out."
#: How long the server idles after the load before its memory is read again.
IDLE_S = 10.0
PUSH_LINE = re.compile(
    r"county push: items=(\d+) statements=(\d+) calls=(\d+) ms=(\d+) rejudged=(\d)"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--devices", type=int, default=12, help="devices pushing at once (12)")
    p.add_argument("--cases", type=int, default=100, help="new cases on each device (100)")
    p.add_argument("--repeat", type=int, default=1, help="runs per backend (medians)")
    p.add_argument("--backends", default="sqlite,postgres", help="comma-separated")
    p.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
    p.add_argument("--pg-dsn", help="an empty PostgreSQL database to use (default: start one)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, help="write the JSON result here")


# -- servers --------------------------------------------------------------------------------------


@contextlib.contextmanager
def private_postgres(workdir: Path) -> Iterator[str]:
    """A throwaway PostgreSQL of our own (the shared test server is busy with everyone's tests)."""
    env = {**os.environ, "GRIDROOM_PG_STATE": str(workdir / "pg.state")}
    script = REPO / ".ci" / "postgres.sh"
    dsn = subprocess.run(
        [str(script), "start"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        yield dsn
    finally:
        subprocess.run([str(script), "stop"], env=env, capture_output=True, check=False)


def fresh_pg_database(dsn: str, name: str) -> str:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return dsn.rsplit("/", 1)[0] + "/" + name


class Server:
    """``gridroom-county serve --db URL`` on a free loopback port."""

    def __init__(self, workdir: Path, db: str, workers: int) -> None:
        self.workdir = workdir
        self.db = db
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "server.log"
        self.accounts: dict[str, dict[str, Any]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def init(self) -> None:
        out = subprocess.run(
            [*county_command(), "init", "--db", self.db, "--county", COUNTY, "--json"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
            env=SERVER_ENV,
        )
        self.accounts = {a["login"]: a for a in json.loads(out.stdout)["accounts"]}

    def password(self, login_name: str) -> str:
        return str(self.accounts[login_name]["password"])

    def start(self) -> None:
        args = ["serve", "--db", self.db, "--port", str(self.port), "--log-level", "info"]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*county_command(), *args], cwd=REPO, stdout=log, stderr=log, env=SERVER_ENV
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + protocol.HEALTH, timeout=5).status_code == 200:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the county did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def pids(self) -> list[int]:
        assert self.proc is not None
        pids = [self.proc.pid]
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
            pids += [int(p) for p in children.split()]
        return pids

    def cpu_s(self) -> float:
        """CPU time (user + system) the server and its workers have used, in seconds."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def rss_mb(self) -> float:
        """Resident memory of the server and its worker processes, in MB."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return round(total / 1024, 1)

    def push_stats(self) -> list[tuple[int, int, int, int, int]]:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [tuple(int(g) for g in m.groups()) for m in PUSH_LINE.finditer(text)]  # type: ignore[misc]

    def counts(self) -> dict[str, int]:
        sql = {
            "entries": "SELECT count(*) FROM entries",
            "distinct_entries": "SELECT count(DISTINCT id) FROM entries",
            "cases": "SELECT count(*) FROM cases",
            "entry_changes": "SELECT count(*) FROM changes WHERE kind = 'entry'",
            "distinct_seqs": "SELECT count(DISTINCT seq) FROM entries",
        }
        if self.db.startswith("postgresql://"):
            import psycopg

            with psycopg.connect(self.db) as conn:
                return {k: int(conn.execute(q).fetchone()[0]) for k, q in sql.items()}  # type: ignore[index]
        import sqlite3

        lite = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return {k: int(lite.execute(q).fetchone()[0]) for k, q in sql.items()}
        finally:
            lite.close()


# -- one run --------------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def one_run(workdir: Path, db: str, args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    server = Server(workdir, db, args.workers)
    server.init()
    server.start()
    try:
        operators = sorted(login for login in server.accounts if login.endswith("-op"))
        keyring = workdir / "keyring.json"
        env = gridroom_env(workdir, keyring)
        devices = []
        for i in range(args.devices):
            login = operators[i % len(operators)]
            device = Device(f"d{i}", login, workdir / f"d{i}.sqlite", server.url, keyring)
            device.enrol(server)  # type: ignore[arg-type]
            report = device.sync()
            if report.status != "ok":
                raise RuntimeError(f"{device.name} cannot sync: {report.to_json()}")
            report_cases(device, args.cases, rng)
            devices.append(device)
        log(f"  {len(devices)} devices ready over {min(len(operators), args.devices)} townships")
        time.sleep(1.0)
        rss_before = server.rss_mb()
        cpu_before = server.cpu_s()
        pushes_before = len(server.push_stats())
        started = time.monotonic()
        procs = [SyncProcess(d, env) for d in devices]
        runs = [p.wait(timeout=900) for p in procs]
        total = max(r.ended for r in runs) - started
        rss_after = server.rss_mb()
        cpu = server.cpu_s() - cpu_before
        stats = server.push_stats()[pushes_before:]
        counts = server.counts()
        time.sleep(IDLE_S)
        rss_idle = server.rss_mb()
        outbox = 0
        for d in devices:
            with d.store() as store:
                outbox += int(store.read("SELECT count(*) FROM outbox")[0][0])
    finally:
        server.stop()
    entries = args.devices * args.cases
    seconds = [r.seconds for r in runs]
    failed = [r for r in runs if r.exit_code != 0]
    retries = sum(int((r.summary or {}).get("retries") or 0) for r in runs)
    big = [s for s in stats if s[0] > 1]
    return {
        "seconds": round(total, 2),
        "entries_per_s": round(entries / total, 1),
        "device_p50_s": round(statistics.median(seconds), 2),
        "device_p95_s": round(_pct(seconds, 0.95), 2),
        "server_cpu_ms_per_entry": round(cpu * 1000 / entries, 3),
        "failed_syncs": len(failed),
        "client_retries": retries,
        "pushes": len(stats),
        "statements_per_push": round(statistics.median([s[1] for s in big]), 1) if big else 0,
        "calls_per_push": round(statistics.median([s[2] for s in big]), 1) if big else 0,
        "push_ms_p50": round(statistics.median([s[3] for s in big]), 1) if big else 0,
        "push_ms_max": max((s[3] for s in big), default=0),
        "pushes_rejudged": sum(s[4] for s in stats),
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "rss_idle_mb": rss_idle,
        "exactly_once": counts["entries"] == entries
        and counts["distinct_entries"] == entries
        and counts["cases"] == entries
        and counts["entry_changes"] == entries
        and counts["distinct_seqs"] == entries
        and outbox == 0,
        "counts": {**counts, "outbox_left": outbox},
        "errors": [r.stderr[-500:] for r in failed[:3]],
    }


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, bool):
            out[key] = all(r[key] for r in runs)
        elif isinstance(value, int | float):
            out[key] = statistics.median(r[key] for r in runs)
    return out


def run(args: argparse.Namespace) -> int:
    rng = random.Random(f"county-bench:{args.seed}")
    backends = [b for b in args.backends.split(",") if b]
    result: dict[str, Any] = {
        "devices": args.devices,
        "cases_per_device": args.cases,
        "workers": args.workers,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "backends": {},
    }
    with tempfile.TemporaryDirectory(prefix="county-bench-") as tmp:
        root = Path(tmp)
        with contextlib.ExitStack() as stack:
            dsn = args.pg_dsn
            if "postgres" in backends and not dsn:
                dsn = stack.enter_context(private_postgres(root))
            for backend in backends:
                runs = []
                for i in range(args.repeat):
                    workdir = root / f"{backend}-{i}"
                    workdir.mkdir()
                    if backend == "sqlite":
                        db = str(workdir / "county.sqlite")
                    else:
                        assert dsn is not None
                        db = fresh_pg_database(dsn, f"bench_{i}")
                    print(f"{backend} run {i + 1}/{args.repeat}", file=sys.stderr, flush=True)
                    runs.append(one_run(workdir, db, args, rng))
                    print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
                result["backends"][backend] = {"median": _medians(runs), "runs": runs}
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    ok = all(b["median"].get("exactly_once") for b in result["backends"].values())
    return 0 if ok else 1
