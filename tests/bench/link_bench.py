"""The village link with real packet loss: ``gridroom sync`` beside the link's floor.

``./dev bench link --repeat 3 --out bench-out/link.json`` (root: network namespaces)

Everything runs through :class:`tests.support.lossylink.LossyLink` — kernel TCP end to end, a
user-space forwarder in between losing 2% of the packets each way at 64 kbit/s up, 128 kbit/s
down, 600 ms round trip. The county server (``gridroom-county serve``, SQLite) and the floor
server run in the link's network namespace; ``gridroom sync`` runs as the real console script,
timed from its start to its exit (Python start-up, store opening, connection, requests).

Each repeat uses its own township (so every first pull is of exactly 1,000 cases) and measures:

* **push** — 1,000 cases reported offline (one report entry each), then ``gridroom sync``;
* **pull** — a new device of the same township, first ``gridroom sync`` (reference data and
  the 1,000 cases);
* **noop** — ``gridroom sync`` with nothing to do;
* **ten_changed** — 10 cases changed here, 10 others at the county, then ``gridroom sync``;
* **outage** — another 1,000 cases pushed on the link with a 20 s outage every 60 s, the first
  one starting a few seconds into the push: the bytes the client sent again (``bytes_resent``,
  request bodies of retried attempts) against the payload, and whether every entry arrived
  exactly once.

The **floor** is the same bytes in one gzip'd request on a kept-alive connection (opened and
warmed up on the same link before the clock starts): a POST of the 1,000 report entries, a GET
of them with the township's reference data, and a GET of a tiny JSON document for the no-op.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.server
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from sync import protocol
from tests.bench.sync_bench import outbox_entries, report_cases
from tests.faults.harness import (
    CountyProcess,
    Device,
    SyncProcess,
    gridroom_env,
)
from tests.support.lossylink import PROFILES, LossyLink, unavailable

HELP = "Sync over a real lossy 2G link (netns + TUN): push, first pull, no-op, outages; vs floor."

TOWNSHIPS = ("330825102", "330825101", "330825106", "330825109", "330825110")
GOALS = {
    "push_floor_ratio": 1.25,
    "pull_floor_ratio": 1.25,
    "noop_floor_ratio": 1.5,
    "ten_changed_seconds": 2.5,
    "outage_resent_share": 0.10,
}
FLOOR_PORT = 8780
COUNTY_PORT = 8765


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cases", type=int, default=1000, help="cases pushed and pulled (1000)")
    p.add_argument("--repeat", type=int, default=3, help="runs of each scenario (medians)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--only", default="push,pull,noop,ten_changed,outage", help="scenarios to run")
    p.add_argument("--index", type=int, default=None, help="the link's number (10.77.N.0)")
    p.add_argument("--out", type=Path, help="write the JSON result here")
    p.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")


# -- the floor server (runs in the link's namespace) -------------------------------------------


class _Floor(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pull_file: Path

    def do_POST(self) -> None:
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                return
            remaining -= len(chunk)
        self._answer(gzip.compress(b'{"ok":true}', mtime=0))

    def do_GET(self) -> None:
        if self.path.startswith("/pull"):
            self._answer(self.pull_file.read_bytes())
        else:
            self._answer(gzip.compress(b'{"ok":true}', mtime=0))

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_floor(host: str, port: int, pull_file: Path) -> None:
    _Floor.pull_file = pull_file
    server = http.server.ThreadingHTTPServer((host, port), _Floor)
    server.daemon_threads = True
    server.serve_forever()


# -- measuring ----------------------------------------------------------------------------------


class LinkBench:
    def __init__(self, workdir: Path, link: LossyLink, log: Any) -> None:
        self.workdir = workdir
        self.link = link
        self.log = log
        self.keyring = workdir / "keyring.json"
        self.env = gridroom_env(workdir, self.keyring)
        self.pull_file = workdir / "floor-pull.json.gz"
        self.pull_file.write_bytes(gzip.compress(b"{}"))
        self.county = CountyProcess(
            workdir, port=COUNTY_PORT, host=link.server_ip, wrap=link.netns_command
        )
        self.floor_proc: Any = None
        self.floor_url = f"http://{link.server_ip}:{FLOOR_PORT}"

    def start(self, townships: list[str]) -> None:
        self.county.init(townships)
        self.county.start()
        import subprocess

        code = (
            "import sys; from pathlib import Path; from tests.bench.link_bench import "
            "serve_floor; serve_floor(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))"
        )
        self.floor_proc = subprocess.Popen(
            self.link.netns_command(
                [
                    sys.executable,
                    "-c",
                    code,
                    self.link.server_ip,
                    str(FLOOR_PORT),
                    str(self.pull_file),
                ]
            ),
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.floor_url + "/ping", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("the floor server did not start")

    def stop(self) -> None:
        if self.floor_proc is not None:
            self.floor_proc.terminate()
            self.floor_proc.wait(15)
        self.county.stop()

    def device(self, name: str, login: str) -> Device:
        self.link.set("perfect")
        device = Device(name, login, self.workdir / f"{name}.sqlite", self.county.url, self.keyring)
        device.enrol(self.county)
        return device

    def settle(self, device: Device) -> None:
        self.link.set("perfect")
        report = device.sync()
        if report.status != "ok":
            raise RuntimeError(f"{device.name} cannot sync: {report.to_json()}")

    def timed_sync(
        self, device: Device, profile: str, phase_s: float | None = None
    ) -> dict[str, Any]:
        """``gridroom sync`` of ``device`` on the link set to ``profile``."""
        self.link.set(PROFILES[profile], phase_s=phase_s or 0.0)
        before = self.link.stats()
        run = SyncProcess(device, self.env).wait(timeout=600)
        after = self.link.stats()
        summary = run.summary or {}
        if run.exit_code != 0:
            self.log(f"sync of {device.name} exited {run.exit_code}: {run.stderr[-2000:]}")
        return {
            "seconds": round(run.seconds, 2),
            "exit_code": run.exit_code,
            "status": summary.get("status"),
            "requests": summary.get("round_trips"),
            "retries": summary.get("retries"),
            "bytes_up": summary.get("bytes_up"),
            "bytes_down": summary.get("bytes_down"),
            "bytes_resent": summary.get("bytes_resent"),
            "pushed": summary.get("pushed"),
            "pulled_entries": summary.get("pulled_entries"),
            **_link_delta(before, after),
        }

    def timed_floor(self, method: str, path: str, body: bytes | None) -> dict[str, Any]:
        """One request on a connection opened and warmed on the same link first."""
        self.link.set("village-2g-loss")
        headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
        if body is not None:
            headers["Content-Encoding"] = "gzip"
        with requests.Session() as session:
            session.get(self.floor_url + "/warm", timeout=(60, 120)).raise_for_status()
            before = self.link.stats()
            started = time.monotonic()
            r = session.request(
                method, self.floor_url + path, data=body, headers=headers, timeout=(60, 300)
            )
            r.raise_for_status()
            _ = r.content
            seconds = time.monotonic() - started
            after = self.link.stats()
        return {
            "seconds": round(seconds, 2),
            "body_bytes": len(body) if body is not None else len(self.pull_file.read_bytes()),
            **_link_delta(before, after),
        }


def _link_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for way in ("up", "down"):
        for key in ("bytes", "tcp_payload", "lost", "outage_lost", "queue_lost"):
            out[f"link_{way}_{key}"] = after[way][key] - before[way][key]
    return out


def _median(runs: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs if isinstance(r.get(key), int | float)]
    return round(statistics.median(values), 2) if values else 0.0


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = (
        "seconds",
        "requests",
        "retries",
        "bytes_up",
        "bytes_down",
        "bytes_resent",
        "link_up_tcp_payload",
        "link_down_tcp_payload",
        "link_up_lost",
        "link_down_lost",
    )
    return {k: _median(runs, k) for k in keys if any(k in r for r in runs)}


def _compare(sync: list[dict[str, Any]], floor: list[dict[str, Any]]) -> dict[str, Any]:
    s, f = _summary(sync), _summary(floor)
    return {
        "median": s,
        "floor": f,
        "ratio_seconds": round(s["seconds"] / f["seconds"], 2) if f.get("seconds") else None,
        "runs": sync,
        "floors": floor,
    }


def _entries_at_county(county: CountyProcess, case_ids: list[str]) -> tuple[int, int]:
    """(entries, distinct entry ids) the county holds for these cases."""
    with county.read() as conn:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS want (id TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM want")
        conn.executemany("INSERT OR IGNORE INTO want VALUES (?)", [(c,) for c in case_ids])
        row = conn.execute(
            "SELECT count(*), count(DISTINCT e.id) FROM entries e JOIN want w ON w.id = e.case_id"
        ).fetchone()
    return int(row[0]), int(row[1])


def run(args: argparse.Namespace) -> int:
    reason = unavailable()
    if reason:
        print(f"link bench: {reason}", file=sys.stderr)
        return 2
    wanted = {s for s in args.only.split(",") if s}
    rng = random.Random(f"link-bench:{args.seed}")
    townships = list(TOWNSHIPS[: args.repeat])

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.monotonic()
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            workdir = args.workdir
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="link-bench-")))
        link = stack.enter_context(
            LossyLink("perfect", seed=args.seed, index=args.index, workdir=workdir / "link")
        )
        bench = LinkBench(workdir, link, log)
        bench.start(townships)
        stack.callback(bench.stop)
        push, push_f, pull, pull_f, noop, noop_f, ten, outage = ([] for _ in range(8))
        for i, township in enumerate(townships):
            field = bench.device(f"field{i}", f"{township}-op")
            bench.settle(field)
            other = bench.device(f"other{i}", f"{township}-sup")
            bench.settle(other)
            made = report_cases(field, args.cases, rng)
            body = gzip.compress(
                protocol.dumps({"entries": outbox_entries(field)}), compresslevel=6, mtime=0
            )
            if "push" in wanted or "pull" in wanted:
                push.append(bench.timed_sync(field, "village-2g-loss"))
                log(f"push {township}: {push[-1]}")
                push_f.append(bench.timed_floor("POST", "/push", body))
                log(f"  floor: {push_f[-1]}")
            else:
                bench.settle(field)
            if "pull" in wanted:
                fresh = bench.device(f"fresh{i}", f"{township}-op")
                records = _township_records(bench.county, township, fresh)
                bench.pull_file.write_bytes(
                    gzip.compress(protocol.dumps(records), compresslevel=6, mtime=0)
                )
                pull.append(bench.timed_sync(fresh, "village-2g-loss"))
                log(f"pull {township}: {pull[-1]}")
                pull_f.append(bench.timed_floor("GET", "/pull", None))
                log(f"  floor: {pull_f[-1]}")
            if "noop" in wanted:
                bench.settle(field)
                noop.append(bench.timed_sync(field, "village-2g-loss"))
                log(f"noop {township}: {noop[-1]}")
                noop_f.append(bench.timed_floor("GET", "/noop", None))
                log(f"  floor: {noop_f[-1]}")
            if "ten_changed" in wanted:
                bench.settle(field)
                bench.settle(other)
                _change_ten(field, other, rng)
                bench.settle(other)
                ten.append(bench.timed_sync(field, "village-2g-loss"))
                log(f"ten changed {township}: {ten[-1]}")
            if "outage" in wanted:
                bench.settle(field)
                made = report_cases(field, args.cases, rng)
                payload = len(
                    gzip.compress(protocol.dumps({"entries": outbox_entries(field)}), mtime=0)
                )
                # The first outage starts 3, 6, 9 … s into the push.
                out = bench.timed_sync(field, "village-2g-outages", phase_s=40.0 - 3.0 * (i + 1))
                total, distinct = _entries_at_county(bench.county, made)
                with field.store() as store:
                    waiting = int(store.read("SELECT count(*) FROM outbox")[0][0])
                out.update(
                    payload_bytes=payload,
                    resent_share=round((out.get("bytes_resent") or 0) / payload, 3),
                    entries_at_county=total,
                    duplicated=total - distinct,
                    lost=args.cases - distinct,
                    outbox_left=waiting,
                )
                outage.append(out)
                log(f"outage {township}: {out}")
        if push:
            results["push"] = _compare(push, push_f)
        if pull:
            results["pull"] = _compare(pull, pull_f)
        if noop:
            results["noop"] = _compare(noop, noop_f)
        if ten:
            results["ten_changed"] = {"median": _summary(ten), "runs": ten}
        if outage:
            results["outage"] = {
                "median": {
                    **_summary(outage),
                    "resent_share": _median(outage, "resent_share"),
                    "payload_bytes": _median(outage, "payload_bytes"),
                },
                "max_resent_share": max(r["resent_share"] for r in outage),
                "lost": sum(r["lost"] for r in outage),
                "duplicated": sum(r["duplicated"] for r in outage),
                "all_finished": all(r["exit_code"] == 0 for r in outage),
                "runs": outage,
            }
    summary = {
        "benchmark": "link",
        "command": "./dev bench link " + " ".join(sys.argv[2:]),
        "link": {k: v for k, v in PROFILES["village-2g-loss"].__dict__.items()},
        "repeat": args.repeat,
        "cases": args.cases,
        "goals": GOALS,
        "verdict": _verdict(results),
        "results": results,
        "seconds": round(time.monotonic() - started, 1),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load": os.getloadavg(),
        },
    }
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def _township_records(county: CountyProcess, township: str, device: Device) -> dict[str, Any]:
    """The township's entries and reference data: what the first pull brings, as one doc."""
    with county.read() as conn:
        rows = conn.execute(
            "SELECT e.id, e.case_id, e.action, e.actor_id, e.role, e.at, e.hlc, e.payload "
            "FROM entries e JOIN cases c ON c.id = e.case_id WHERE c.township_code = ? "
            "ORDER BY e.seq",
            [township],
        ).fetchall()
    keys = ("id", "case_id", "action", "actor_id", "role", "at", "hlc")
    entries = [{**dict(zip(keys, r[:7], strict=True)), "payload": json.loads(r[7])} for r in rows]
    with device.store() as store:
        token = device.tokens().get(device.server_url, store.device_id)
    reference = requests.get(
        county.url + protocol.REFERENCE, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ).json()
    return {"entries": entries, "reference": reference}


def _change_ten(field: Device, county_side: Device, rng: random.Random) -> None:
    """10 cases changed here, 10 others changed at the county."""
    with field.store() as store:
        ids = [r[0] for r in store.read("SELECT id FROM cases ORDER BY random() LIMIT 20")]
        actor = field.actor(store)
        for case_id in ids[:10]:
            store.comment(case_id, actor, f"补充说明{rng.randrange(1000)}")
    with county_side.store() as store:
        actor = county_side.actor(store)
        for case_id in ids[10:]:
            store.comment(case_id, actor, f"镇里回复{rng.randrange(1000)}")


def _verdict(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("push", "pull", "noop"):
        if name in results and results[name]["ratio_seconds"] is not None:
            goal = GOALS[f"{name}_floor_ratio"]
            out[f"{name}_within_{goal}x_floor"] = results[name]["ratio_seconds"] <= goal
    if "ten_changed" in results:
        out["ten_changed_under_2.5s"] = (
            results["ten_changed"]["median"]["seconds"] < GOALS["ten_changed_seconds"]
        )
    if "outage" in results:
        o = results["outage"]
        out["outage_resent_under_10pct"] = o["max_resent_share"] < GOALS["outage_resent_share"]
        out["outage_nothing_lost_or_duplicated"] = o["lost"] == 0 and o["duplicated"] == 0
        out["outage_every_sync_finished"] = o["all_finished"]
    return out
