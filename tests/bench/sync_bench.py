"""The sync benchmark: what a sync costs over a village's 2G link, beside the link's floor.

``python -m tests.bench sync --repeat 3 --out bench-out/sync.json``

A real county server (``gridroom-county serve``, SQLite, access log on) and real devices; every
timed sync runs through a fresh :class:`tests.support.badlink.BadLink` with the ``village-2g``
profile (64 kbit/s up, 128 kbit/s down, 300 ms each way, a drop every ~30 s), started with the
same seed as the floor it is compared with, so both meet the same drops at the same moments.

Scenarios (each ``--repeat`` times, medians reported):

* **push** — ``--cases`` new cases reported offline, then one sync;
* **pull** — a new device's first sync of a township holding ``--history`` cases, each with a
  whole loop (report, accept, dispatch, feedback, verify, archive, evaluate);
* **noop** — a sync with nothing to do (goal: one request);
* **ten_changed** — 10 cases changed on this device and 10 others at the county (goal: < 2 s);
* **photo** — one ``--photo-kb`` photo uploaded; and the same with the link cut half-way
  (on the profile without scheduled drops, so the cut is the only one): the bytes sent show
  that the upload resumed rather than restarted.

The **floor** of a bulk scenario is the same records in one gzip'd request (a POST for the push,
a GET for the pull, a PUT of the raw photo) to a plain ``http.server`` through the same link:
what the link costs at best. A request a drop kills is simply sent again, as a naive client
would. Each bulk scenario is also run on the profile *without* drops (``…-nodrops``): sync and
floor there show the protocol's own overhead apart from what drops cost.

Wall time, bytes up and down (payload bytes through the link, from ``BadLink.stats``) and
requests (counted by the server's access log; the client's own count beside it) per run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gzip
import http.server
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

from sync import protocol
from sync.client import SyncReport
from sync.store.attachments import add_attachment
from tests.faults.harness import (
    TITLES,
    TOWNSHIP,
    WORDS,
    CountyProcess,
    Device,
    free_port,
    photo_bytes,
)
from tests.support.badlink import PROFILES, BadLink, Profile

HELP = "Sync over village-2g: bulk push, first pull, no-op, 10 changed, a photo; beside the floor."

#: The goals of the village-link issue.
GOALS = {
    "bulk_within_floor_ratio": 1.5,
    "noop_requests": 1,
    "ten_changed_seconds": 2.0,
    "photo_resumes": True,
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cases", type=int, default=1000, help="new cases in the push (1000)")
    p.add_argument("--history", type=int, default=1000, help="cases in the township pulled")
    p.add_argument("--repeat", type=int, default=3, help="runs of each scenario (medians)")
    p.add_argument("--photo-kb", type=int, default=300, help="size of the photo")
    p.add_argument("--profile", default="village-2g", choices=sorted(PROFILES))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--only",
        default="pull,noop,ten_changed,push,photo",
        help="comma-separated scenarios to run",
    )
    p.add_argument("--out", type=Path, help="write the JSON result here")
    p.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")


# -- the floor ------------------------------------------------------------------------------------


class _FloorHandler(http.server.BaseHTTPRequestHandler):
    server: FloorServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._take()

    def do_PUT(self) -> None:
        self._take()

    def do_GET(self) -> None:
        body = self.server.pull_body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _take(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                return
            remaining -= len(chunk)
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FloorServer(http.server.ThreadingHTTPServer):
    """Takes any POST/PUT body, answers GET with ``pull_body`` (gzip'd JSON)."""

    daemon_threads = True
    pull_body = b""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FloorHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the link resets connections on purpose; a naive client just sends again

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", int(self.server_address[1]))


@contextlib.contextmanager
def floor_server() -> Iterator[FloorServer]:
    server = FloorServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def gz(value: Any) -> bytes:
    """The same gzip the client uses (level 6)."""
    return gzip.compress(protocol.dumps(value), compresslevel=6, mtime=0)


# -- measuring ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Bench:
    workdir: Path
    profile: Profile
    seed: int
    county: CountyProcess
    port: int
    keyring: Path
    floor: FloorServer
    log: Callable[[str], None]
    runs: int = 0

    @contextlib.contextmanager
    def link(self, profile: Profile | None = None, seed: int | None = None) -> Iterator[BadLink]:
        """The devices' link (their enrolled address), fresh: its drop schedule starts now."""
        with BadLink(
            self.county.address,
            profile or PROFILES["perfect"],
            seed=self.seed if seed is None else seed,
            listen=("127.0.0.1", self.port),
        ) as link:
            yield link

    def device(self, name: str, login: str, *, via_link: bool = True) -> Device:
        url = f"http://127.0.0.1:{self.port}" if via_link else self.county.url
        device = Device(name, login, self.workdir / f"{name}.sqlite", url, self.keyring)
        with self.link() if via_link else contextlib.nullcontext():
            device.enrol(self.county)
        return device

    def settle(self, device: Device) -> SyncReport:
        """An untimed sync over a perfect link (or directly), to start from level ground."""
        with self.link() if device.server_url != self.county.url else contextlib.nullcontext():
            report = device.sync()
        if report.status != "ok":
            raise RuntimeError(f"{device.name} cannot sync: {report.to_json()}")
        return report

    def timed_sync(
        self,
        device: Device,
        profile: Profile,
        seed: int,
        during: Callable[[BadLink], None] | None = None,
    ) -> dict[str, Any]:
        """One sync of ``device`` through a fresh link: wall time, bytes, requests."""
        log0 = self.county.log_size()
        with self.link(profile, seed) as link:
            result: dict[str, SyncReport] = {}
            started = time.monotonic()
            worker = threading.Thread(target=lambda: result.update(r=device.sync()))
            worker.start()
            if during is not None:
                during(link)
            worker.join()
            seconds = time.monotonic() - started
            stats = link.stats
        time.sleep(0.3)  # the access log line of the last answer
        report = result["r"]
        served = self.county.requests_logged(log0)
        self.runs += 1
        return {
            "seconds": round(seconds, 2),
            "bytes_up": stats["bytes_up"],
            "bytes_down": stats["bytes_down"],
            "requests": sum(served.values()),
            "requests_by_endpoint": served,
            "client_round_trips": report.round_trips,
            "client_retries": report.retries,
            "connections": stats["connections"],
            "drops": stats["drops"],
            "status": report.status,
            "error": report.error,
            "pushed": report.pushed,
            "pulled_entries": report.pulled_entries,
            "uploaded_bytes": report.uploaded_bytes,
        }

    def timed_floor(
        self, method: str, body: bytes | None, profile: Profile, seed: int, *, gzipped: bool
    ) -> dict[str, Any]:
        """The same bytes in one request through the same link; a dropped one goes again."""
        with BadLink(self.floor.address, profile, seed=seed) as link:
            headers = {"Content-Type": "application/json"}
            if gzipped and body is not None:
                headers["Content-Encoding"] = "gzip"
            if method == "PUT":
                headers["Content-Type"] = protocol.BLOB_TYPE
            started = time.monotonic()
            attempts = 0
            while True:
                attempts += 1
                try:
                    with requests.Session() as session:
                        r = session.request(
                            method,
                            link.url + "/floor",
                            data=body,
                            headers=headers,
                            timeout=(30, 300),
                        )
                        got = r.content
                    if r.status_code == 200 and (method != "GET" or got):
                        break
                except requests.RequestException:
                    pass
                if attempts >= 30:
                    raise RuntimeError("the floor request never got through")
            seconds = time.monotonic() - started
            stats = link.stats
        return {
            "seconds": round(seconds, 2),
            "bytes_up": stats["bytes_up"],
            "bytes_down": stats["bytes_down"],
            "requests": attempts,
            "drops": stats["drops"],
            "body_bytes": len(body) if body is not None else len(self.floor.pull_body),
        }


def _median(runs: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs if isinstance(r.get(key), int | float)]
    return round(statistics.median(values), 2) if values else 0.0


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("seconds", "bytes_up", "bytes_down", "requests", "client_retries", "drops")
    return {k: _median(runs, k) for k in keys if any(k in r for r in runs)}


# -- making data --------------------------------------------------------------------------------


def _text(rng: random.Random, n: int) -> str:
    return "，".join(rng.choice(WORDS) for _ in range(n))


def report_cases(device: Device, n: int, rng: random.Random, *, loop: bool = False) -> list[str]:
    """``n`` new cases on ``device`` (offline); with ``loop``, each runs the whole loop."""
    made = []
    with device.store() as store:
        actor = device.actor(store)
        grids = [g.code for g in store.grids()]
        categories = [c.code for c in store.taxonomy if c.parent is not None]
        for i in range(n):
            grid = rng.choice(grids)
            fields = {
                "title": f"{rng.choice(TITLES)}（{i}）",
                "description": _text(rng, rng.randrange(3, 12)),
                "category": rng.choice(categories),
                "grid_id": grid,
                "address": f"{rng.randrange(1, 300)}号",
                "reporter_name": rng.choice(["张", "王", "李", "赵", "陈"]) + "先生",
                "reporter_phone": f"13{rng.randrange(100000000, 999999999)}",
            }
            case_id = store.report(actor, fields).case_id
            made.append(case_id)
            if loop:
                store.accept(case_id, actor)
                store.dispatch(case_id, actor, ("grid", grid), note=_text(rng, 2))
                store.feedback(case_id, actor, grid, _text(rng, 4))
                store.verify(case_id, actor, True, _text(rng, 2))
                store.archive(case_id, actor)
                store.evaluate(case_id, actor, rng.randrange(3, 6), "satisfied")
    return made


def outbox_entries(device: Device) -> list[dict[str, Any]]:
    """The wire form of the entries waiting in the outbox (what the push will carry)."""
    from sync.model.records import Action, Entry, Role

    with device.store() as store:
        rows = store.read(
            "SELECT e.id, c.id, e.action, e.actor, e.role, e.at, e.hlc, e.payload "
            "FROM case_events e JOIN cases c ON c.rowid = e.case_rowid WHERE e.id IN "
            "(SELECT entity_id FROM outbox WHERE entity = 'case_event') ORDER BY e.seq"
        )
    return [
        protocol.entry_to_wire(
            Entry(r[0], r[1], Action(r[2]), r[3], Role(r[4]), r[5], r[6], json.loads(r[7]))
        )
        for r in rows
    ]


def township_records(county: CountyProcess, token_device: Device) -> dict[str, Any]:
    """Every entry of the township (wire form) and its reference data: what a first pull
    brings, as one document."""
    with county.read() as conn:
        rows = conn.execute(
            "SELECT e.id, e.case_id, e.action, e.actor_id, e.role, e.at, e.hlc, e.payload "
            "FROM entries e JOIN cases c ON c.id = e.case_id WHERE c.township_code = ? "
            "ORDER BY e.seq",
            [TOWNSHIP],
        ).fetchall()
    entries = [
        {
            "id": r[0],
            "case_id": r[1],
            "action": r[2],
            "actor_id": r[3],
            "role": r[4],
            "at": r[5],
            "hlc": r[6],
            "payload": json.loads(r[7]),
        }
        for r in rows
    ]
    token = token_device.tokens().get(token_device.server_url, _device_id(token_device))
    reference = requests.get(
        county.url + protocol.REFERENCE,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    ).json()
    return {"entries": entries, "reference": reference}


def _device_id(device: Device) -> str:
    with device.store() as store:
        return store.device_id


# -- the scenarios ------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    profile = PROFILES[args.profile]
    nodrops = dataclasses.replace(profile, name=f"{profile.name}-nodrops", drop_every_s=None)
    wanted = {s for s in args.only.split(",") if s}
    rng = random.Random(f"sync-bench:{args.seed}")

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.monotonic()
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            workdir = args.workdir
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sync-bench-")))
        county = CountyProcess(workdir)
        county.init()
        county.start(access_log=True)
        stack.callback(county.stop)
        floor = stack.enter_context(floor_server())
        bench = Bench(
            workdir, profile, args.seed, county, free_port(), workdir / "keyring.json", floor, log
        )
        op, sup = f"{TOWNSHIP}-op", f"{TOWNSHIP}-sup"
        # H makes the township's history and the county-side changes (directly, no link).
        history = bench.device("history", op, via_link=False)
        bench.settle(history)
        t0 = time.monotonic()
        report_cases(history, args.history, rng, loop=True)
        bench.settle(history)
        log(f"history: {args.history} cases with whole loops in {time.monotonic() - t0:.0f}s")
        field = bench.device("field", op)
        bench.settle(field)
        seeds = [args.seed + i for i in range(args.repeat)]

        if "pull" in wanted:
            runs: list[dict[str, Any]] = []
            runs_nd: list[dict[str, Any]] = []
            floors: list[dict[str, Any]] = []
            floors_nd: list[dict[str, Any]] = []
            for i, seed in enumerate(seeds):
                for prof, out in ((profile, runs), (nodrops, runs_nd)):
                    fresh = bench.device(f"new{i}{prof.name}", sup)
                    out.append(bench.timed_sync(fresh, prof, seed))
                    log(f"pull {prof.name} #{i}: {out[-1]}")
            floor.pull_body = gz(township_records(county, history))
            for seed in seeds:
                floors.append(bench.timed_floor("GET", None, profile, seed, gzipped=True))
                floors_nd.append(bench.timed_floor("GET", None, nodrops, seed, gzipped=True))
                log(f"pull floor: {floors[-1]} / no drops {floors_nd[-1]}")
            results["pull"] = _bulk(runs, runs_nd, floors, floors_nd)

        if "noop" in wanted:
            runs = []
            bench.settle(field)
            for seed in seeds:
                runs.append(bench.timed_sync(field, profile, seed))
                log(f"noop: {runs[-1]}")
            results["noop"] = {"runs": runs, "median": _summary(runs)}

        if "ten_changed" in wanted:
            runs = []
            for seed in seeds:
                bench.settle(field)
                _change_ten(field, history, rng)
                bench.settle(history)
                runs.append(bench.timed_sync(field, profile, seed))
                log(f"ten changed: {runs[-1]}")
            results["ten_changed"] = {"runs": runs, "median": _summary(runs)}

        if "push" in wanted:
            runs, runs_nd, floors, floors_nd = [], [], [], []
            for seed in seeds:
                for prof, out, fl in ((profile, runs, floors), (nodrops, runs_nd, floors_nd)):
                    bench.settle(field)
                    report_cases(field, args.cases, rng)
                    body = gz({"entries": outbox_entries(field)})
                    out.append(bench.timed_sync(field, prof, seed))
                    fl.append(bench.timed_floor("POST", body, prof, seed, gzipped=True))
                    log(f"push {prof.name}: {out[-1]}\n  floor {fl[-1]}")
            results["push"] = _bulk(runs, runs_nd, floors, floors_nd)

        if "photo" in wanted:
            results["photo"] = _photo(bench, field, profile, nodrops, seeds, args.photo_kb, rng)

    verdict = _verdict(results)
    summary = {
        "benchmark": "sync",
        "command": "python -m tests.bench sync " + " ".join(sys.argv[2:]),
        "profile": dataclasses.asdict(profile),
        "repeat": args.repeat,
        "cases": args.cases,
        "history": args.history,
        "goals": GOALS,
        "verdict": verdict,
        "results": results,
        "seconds": round(time.monotonic() - started, 1),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load": os.getloadavg(),
        },
        "reference": "CouchDB/PouchDB replication of 1,000 such records over a similar link: "
        "60–115 s and ~40 requests",
    }
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def _bulk(
    runs: list[dict[str, Any]],
    runs_nd: list[dict[str, Any]],
    floors: list[dict[str, Any]],
    floors_nd: list[dict[str, Any]],
) -> dict[str, Any]:
    sync, floor = _summary(runs), _summary(floors)
    sync_nd, floor_nd = _summary(runs_nd), _summary(floors_nd)
    return {
        "median": sync,
        "floor": floor,
        "ratio_seconds": round(sync["seconds"] / floor["seconds"], 2),
        "ratio_bytes": round(
            (sync["bytes_up"] + sync["bytes_down"]) / (floor["bytes_up"] + floor["bytes_down"]), 2
        ),
        "no_drops": {
            "median": sync_nd,
            "floor": floor_nd,
            "ratio_seconds": round(sync_nd["seconds"] / floor_nd["seconds"], 2),
        },
        "runs": runs,
        "runs_no_drops": runs_nd,
        "floors": floors,
        "floors_no_drops": floors_nd,
    }


def _change_ten(field: Device, county_side: Device, rng: random.Random) -> None:
    """10 cases changed here, 10 others changed at the county."""
    with field.store() as store:
        ids = [r[0] for r in store.read("SELECT id FROM cases ORDER BY random() LIMIT 20")]
        actor = field.actor(store)
        for case_id in ids[:10]:
            store.comment(case_id, actor, _text(rng, 3))
    with county_side.store() as store:
        actor = county_side.actor(store)
        for case_id in ids[10:]:
            store.comment(case_id, actor, _text(rng, 3))


def _photo(
    bench: Bench,
    field: Device,
    profile: Profile,
    nodrops: Profile,
    seeds: list[int],
    kb: int,
    rng: random.Random,
) -> dict[str, Any]:
    """A photo up; the same with the link cut half-way (resumes, not restarts); the floor."""
    size = kb * 1024

    def attach() -> bytes:
        data = photo_bytes(rng, size)
        with field.store() as store:
            case_id = store.read("SELECT id FROM cases ORDER BY random() LIMIT 1")[0][0]
            add_attachment(store, case_id, data, "现场照片.png", field.actor(store))
        return data

    def cut_half_way(link: BadLink) -> None:
        deadline = time.monotonic() + 600
        while link.stats["bytes_up"] < size // 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        link.cut_all()

    runs, clean, cut, floors, floors_nd = [], [], [], [], []
    for seed in seeds:
        bench.settle(field)
        data = attach()
        runs.append(bench.timed_sync(field, profile, seed))
        floors.append(bench.timed_floor("PUT", data, profile, seed, gzipped=False))
        bench.log(f"photo {profile.name}: {runs[-1]}\n  floor {floors[-1]}")
        bench.settle(field)
        data = attach()
        clean.append(bench.timed_sync(field, nodrops, seed))
        floors_nd.append(bench.timed_floor("PUT", data, nodrops, seed, gzipped=False))
        bench.settle(field)
        attach()
        cut.append(bench.timed_sync(field, nodrops, seed, during=cut_half_way))
        bench.log(f"photo {nodrops.name}: clean {clean[-1]}\n  cut half-way {cut[-1]}")
    sync, floor = _summary(runs), _summary(floors)
    clean_up, cut_up = _median(clean, "bytes_up"), _median(cut, "bytes_up")
    sync_nd, floor_nd = _summary(clean), _summary(floors_nd)
    return {
        "size": size,
        "median": sync,
        "floor": floor,
        "ratio_seconds": round(sync["seconds"] / floor["seconds"], 2),
        "no_drops": {
            "median": sync_nd,
            "floor": floor_nd,
            "ratio_seconds": round(sync_nd["seconds"] / floor_nd["seconds"], 2),
        },
        "resume": {
            "profile": nodrops.name,
            "bytes_up_clean": clean_up,
            "bytes_up_cut_half_way": cut_up,
            "extra_bytes": round(cut_up - clean_up),
            "extra_share_of_photo": round((cut_up - clean_up) / size, 3),
            "restart_would_cost_share": 0.5,
            "seconds_clean": _median(clean, "seconds"),
            "seconds_cut": _median(cut, "seconds"),
        },
        "runs": runs,
        "floors": floors,
        "runs_clean": clean,
        "runs_cut": cut,
        "floors_no_drops": floors_nd,
    }


def _verdict(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("push", "pull"):
        if name in results:
            ratio = results[name]["ratio_seconds"]
            out[f"{name}_within_1.5x_floor"] = ratio <= GOALS["bulk_within_floor_ratio"]
    if "noop" in results:
        out["noop_one_request"] = results["noop"]["median"]["requests"] == 1
    if "ten_changed" in results:
        out["ten_changed_under_2s"] = (
            results["ten_changed"]["median"]["seconds"] < GOALS["ten_changed_seconds"]
        )
    if "photo" in results:
        resume = results["photo"]["resume"]
        out["photo_resumes"] = resume["extra_share_of_photo"] < 0.25
    return out
