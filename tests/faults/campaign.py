"""The fault campaign: hundreds of syncs broken on purpose, each followed by a clean sync and a
check that client and county hold identical data — nothing lost, nothing doubled, nothing
damaged.

    python -m tests.faults.campaign --runs 300 --out bench-out/faults.json

One county server process (SQLite) on a fixed port; in front of it a flipping proxy
(:mod:`tests.faults.proxy`) and, in front of that, the bad link
(:mod:`tests.support.badlink`). Devices:

* **A** — the township command room (operator), enrolled through the link;
* **B** — a grid worker's field laptop, enrolled through the link (sees only its grids);
* **C** — the county side (supervisor), talking to the server directly, never faulted: its
  changes are the "server-side" changes the others must pull;
* **D** — a second operator PC whose store lives on a small tmpfs (when this machine lets us
  mount one), for the disk-full runs.

Every run: random work on the victim (A or B), sometimes on the other device too, random work on
C (synced at once); then ``gridroom sync`` runs as a real subprocess on the victim while one fault
is injected; then the link is healed, the server is up, every device syncs cleanly twice (the
second time with the checksum comparison), and the checks of :mod:`tests.faults.harness` run.

Faults (``--kinds``): ``client_kill`` (SIGKILL after a random delay into the sync),
``client_point`` (SIGKILL at a named point: before a request, after its answer, inside a local
transaction …), ``server_kill`` (SIGKILL the county at a random moment, restart it on its port
after a random pause), ``server_point`` (the county kills itself inside a push transaction, after
a push committed, after a chunk, while building a pull page), ``cut`` (every connection reset),
``truncate`` (the next answer cut after N bytes), ``flip`` (one byte of the next answers' bodies
flipped), ``outage`` (the link gone for seconds), ``disk_full`` (the device's disk filled to
within a few kilobytes).

Relay runs (``--kinds relay_uplink,relay_kill,relay_point,relay_move``; not in the default set)
add **R**, a second command-room PC of the township running ``gridroom relay``
(docs/sync-protocol.md, section 19), and make B sync through it: ``relay_uplink`` (the county
out of reach while B syncs with the relay), ``relay_kill`` (the relay kill -9'd at a random
moment of B's ``gridroom sync --relay``), ``relay_point`` (the relay killed after the county
answered a batch it forwarded, before storing the answer), ``relay_move`` (the county dies
inside B's second push: the sync goes on with the relay). After each, the relay forwards what
it holds, then is stopped, and the checks include R's store.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from sync import protocol
from sync.store.errors import StoreError
from tests.support.badlink import PROFILES, BadLink, Profile

from .harness import (
    TOWNSHIP,
    CountyProcess,
    Device,
    FieldWork,
    RelayProcess,
    SyncProcess,
    SyncRun,
    check_device,
    check_server,
    gridroom_env,
    made_here,
)
from .proxy import TcpProxy

KINDS = (
    "client_kill",
    "client_point",
    "server_kill",
    "server_point",
    "cut",
    "truncate",
    "flip",
    "outage",
    "disk_full",
)
#: The township relay's runs (see the module doc).
RELAY_KINDS = ("relay_uplink", "relay_kill", "relay_point", "relay_move")
CLIENT_POINTS = (
    "send:sync:1",
    "send:sync:2",
    "reply:sync:1",
    "reply:sync:2",
    "reply:sync:3",
    "reply:reference:1",
    "send:put:1",
    "reply:put:1",
    "reply:put:2",
    "reply:status:1",
    "reply:get:1",
    "reply:get:2",
    "commit:{n}",
    "committed:{n}",
    "commit:{n}",
    "committed:{n}",
)
SERVER_POINTS = (
    "push:commit:1",
    "push:answer:1",
    "push:answer:2",
    "chunk:answer:1",
    "chunk:answer:3",
    "pull:1",
    "pull:2",
)
#: The link most runs use: fast enough for hundreds of runs, slow enough that a random kill
#: lands inside the sync rather than before or after it.
CAMPAIGN_LINK = Profile("campaign", up_bps=512_000, down_bps=1_000_000, latency_ms=20.0)
DISK_BYTES = 64 * 1024 * 1024


@dataclass
class RunRecord:
    """One run of the campaign."""

    run: int
    kind: str
    detail: str
    victim: str
    link: str
    exit_code: int | None = None
    killed: bool = False
    retries: int = 0
    status: str = ""
    error_code: str = ""
    traceback: bool = False
    fault_seconds: float = 0.0
    work: dict[str, int] = field(default_factory=dict)
    clean: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    findings: str = "ok"
    ok: bool = True
    #: seconds spent in each phase of the run (work, fault, clean, check)
    seconds: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def small_disk(folder: Path, size: int = DISK_BYTES) -> Iterator[tuple[Path | None, str]]:
    """A small filesystem mounted at ``folder`` (tmpfs, else a loop-mounted ext4 image), or
    ``(None, reason)`` when this machine does not allow it."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        yield None, "mounting a small filesystem needs root; disk-full runs skipped"
        return
    mounted = False
    reasons = []
    attempt = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if attempt.returncode == 0:
        mounted = True
    else:
        reasons.append(f"tmpfs: {attempt.stderr.strip()}")
        image = folder.with_suffix(".img")
        steps = [
            ["truncate", "-s", str(size), str(image)],
            ["mkfs.ext4", "-q", "-F", str(image)],
            ["mount", "-o", "loop", str(image), str(folder)],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True)
            if done.returncode != 0:
                reasons.append(f"{step[0]}: {done.stderr.strip()}")
                break
        else:
            mounted = True
    if not mounted:
        yield None, "cannot mount a small filesystem (" + "; ".join(reasons) + ")"
        return
    try:
        yield folder, ""
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


class Campaign:
    """Set up once with :meth:`setup`, then :meth:`run` as many times as wanted."""

    def __init__(
        self,
        workdir: Path,
        *,
        seed: int = 1,
        kinds: tuple[str, ...] = KINDS,
        village_share: float = 0.0,
        max_photo: int = 60_000,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.workdir = workdir
        self.seed = seed
        self.rng = random.Random(f"campaign:{seed}")
        self.kinds = kinds
        self.village_share = village_share
        self.work = FieldWork(random.Random(f"work:{seed}"), max_photo=max_photo)
        self.log = log or (lambda _: None)
        self.records: list[RunRecord] = []
        self.created: dict[str, set[str]] = {"entries": set(), "attachments": set()}
        self.durations: list[float] = []
        self._first_at: float | None = None
        self._point: str | None = None
        self._armed_truncations = 0
        self.disk_skip = ""
        self._stack = contextlib.ExitStack()
        self.county: CountyProcess
        self.flipper: TcpProxy
        self.link: BadLink
        self.devices: dict[str, Device] = {}
        self.disk: Path | None = None
        self.relay: RelayProcess | None = None

    # -- setup ---------------------------------------------------------------------------------

    def setup(self) -> None:
        started = time.monotonic()
        self.county = CountyProcess(self.workdir)
        self.county.init()
        self.county.start()
        self._stack.callback(self.county.stop)
        self.flipper = TcpProxy(self.county.address, seed=self.seed).start()
        self._stack.callback(self.flipper.stop)
        self.link = BadLink(self.flipper.address, profile=CAMPAIGN_LINK, seed=self.seed)
        self.link.start()
        self._stack.callback(self.link.stop)
        keyring = self.workdir / "keyring.json"
        self.env = gridroom_env(self.workdir, keyring)
        op, gw, sup = f"{TOWNSHIP}-op", f"{TOWNSHIP}-gw", f"{TOWNSHIP}-sup"
        plan = [("A", op, self.link.url), ("B", gw, self.link.url), ("C", sup, self.county.url)]
        relaying = any(k in RELAY_KINDS for k in self.kinds)
        if relaying:
            # The relay's uplink is the county itself: "out of reach" is the county stopped.
            plan.append(("R", op, self.county.url))
        if "disk_full" in self.kinds:
            disk, reason = self._stack.enter_context(small_disk(self.workdir / "disk"))
            self.disk, self.disk_skip = disk, reason
            if disk is not None:
                plan.append(("D", op, self.link.url))
        for name, login_name, url in plan:
            folder = self.disk if name == "D" and self.disk is not None else self.workdir
            device = Device(name, login_name, folder / f"{name}.sqlite", url, keyring)
            device.enrol(self.county)
            self.devices[name] = device
        for device in self.devices.values():
            report = device.sync()
            if report.status != "ok":
                raise RuntimeError(f"{device.name} cannot sync at the start: {report.to_json()}")
        if relaying:
            from sync.client.route import Router
            from sync.client.service import SyncService

            laptop = self.devices["B"]
            with laptop.store() as store:  # B's relay certificate, as an online sync renews it
                Router(SyncService(tokens=laptop.tokens()), relay_url="-")._renew(store)
            (self.workdir / "relay").mkdir(exist_ok=True)
            self.relay = RelayProcess(self.devices["R"], self.workdir / "relay")
            self._stack.callback(self.relay.stop)
        self.log(f"setup {time.monotonic() - started:.1f}s; disk: {self.disk or self.disk_skip}")

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Campaign:
        self.setup()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one run -------------------------------------------------------------------------------

    def run(self, index: int, kind: str | None = None, point: str | None = None) -> RunRecord:
        """One run: work, one fault (``kind``; for the point kinds, ``point`` picks the point
        instead of chance), the clean syncs, the checks."""
        rng = self.rng
        kind = kind or self.kinds[index % len(self.kinds)]
        self._point = point
        if kind == "disk_full" and "D" not in self.devices:
            kind = "cut"  # no small disk on this machine: see disk_skip
        if kind == "disk_full":
            victim = self.devices["D"]
        elif kind in RELAY_KINDS:
            victim = self.devices["B"]  # the field laptop on the township LAN
        else:
            victim = self.devices[rng.choice("AB")]
        village = rng.random() < self.village_share and kind not in ("disk_full",)
        record = RunRecord(index, kind, "", victim.name, "village-2g" if village else "campaign")
        clock = time.monotonic()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.monotonic()
            record.seconds[name] = round(now - clock, 2)
            clock = now

        # 1. work on the victim, perhaps on the other field device, and at the county (C).
        totals: Counter[str] = Counter()
        for device, steps in self._plan_work(victim, kind):
            with device.store() as store:
                done = self.work.do(device, store, steps, photos=0.25)
            totals.update(reports=done.reports, actions=done.actions, photos=done.photos)
        self._sync_county_side()
        self._remember_made()
        if kind == "server_point" and rng.random() < 0.5:
            # A chunk point needs an upload in this sync.
            with self.devices[victim.name].store() as store:
                self.work.do(victim, store, 1, photos=1.0)
        record.work = dict(totals)
        lap("work")
        # 2. the fault.
        if village:
            self.link.set_profile(PROFILES["village-2g"])
        started = time.monotonic()
        try:
            run = getattr(self, f"_fault_{kind}")(victim, record)
        finally:
            record.fault_seconds = round(time.monotonic() - started, 2)
            self._heal(village)
        self._note(record, run)
        lap("fault")
        # 3. clean syncs, twice round, the second with the checksum comparison.
        self._remember_made()
        for verify in (False, True):
            for device in self._sync_order():
                report = device.sync(verify=verify)
                if report.status != "ok":
                    record.clean.append(f"{device.name}: {report.status} {report.error}")
                if report.drifted_villages:
                    record.drift.append(f"{device.name}: {report.drifted_villages}")
        lap("clean")
        # 4. the checks.
        findings = check_server(self.county, self.created)
        for device in self.devices.values():
            findings.extend(check_device(device, self.county))
        record.findings = findings.describe()
        record.ok = findings.ok() and not record.clean and not record.drift and not record.traceback
        lap("check")
        self.records.append(record)
        self.log(
            f"run {index:>4} {kind:<13} {record.detail:<24} victim {victim.name} "
            f"exit {record.exit_code} killed {record.killed!s:<5} retries {record.retries} "
            f"{record.seconds} {'ok' if record.ok else 'FAILED ' + record.findings}"
        )
        return record

    def _plan_work(self, victim: Device, kind: str) -> list[tuple[Device, int]]:
        rng = self.rng
        plan = [(victim, rng.randrange(1, 7))]
        if victim.name in "AB" and rng.random() < 0.5:
            other = self.devices["B" if victim.name == "A" else "A"]
            plan.append((other, rng.randrange(1, 4)))
        plan.append((self.devices["C"], rng.randrange(0, 5)))
        return plan

    def _sync_county_side(self) -> None:
        report = self.devices["C"].sync()
        if report.status != "ok":
            raise RuntimeError(f"the county-side device cannot sync: {report.to_json()}")

    def _sync_order(self) -> list[Device]:
        return [self.devices[n] for n in ("A", "B", "D", "R", "C") if n in self.devices]

    def _remember_made(self) -> None:
        for device in self.devices.values():
            with device.store() as store:
                mine = made_here(store)
            self.created["entries"] |= mine["entries"]
            self.created["attachments"] |= mine["attachments"]

    def _note(self, record: RunRecord, run: SyncRun | None) -> None:
        if run is None:
            return
        record.exit_code = run.exit_code
        record.killed = run.killed
        record.traceback = run.traceback
        if run.summary:
            record.retries = int(run.summary.get("retries") or 0)
            record.status = str(run.summary.get("status") or "")
            record.error_code = str(run.summary.get("error_code") or "")
        if run.summary and run.exit_code == 0 and not record.retries:
            # The sync itself (from the store's clock), without the process starting up.
            took = int(run.summary.get("finished_at", 0)) - int(run.summary.get("started_at", 0))
            if 0 < took < 60_000:
                self.durations.append(took / 1000)
        if run.traceback:
            record.findings = run.stderr[-2000:]

    def _heal(self, village: bool) -> None:
        """Link restored and empty, the server up without a kill point, the disk freed."""
        self.link.restore()
        if village:
            self.link.set_profile(CAMPAIGN_LINK)
        self.flipper.cancel_flips()
        self._drain_truncations()
        self.county.ensure_up()
        if self.relay is not None and self.relay.alive:
            # What the relay holds goes to the county before it stops (R's clean sync is then
            # in this process, and nothing else has its store open).
            deadline = time.monotonic() + 90
            while self.relay.waiting() and time.monotonic() < deadline and self.relay.alive:
                time.sleep(0.2)
            self.relay.stop()
        if self.disk is not None:
            (self.disk / "filler").unlink(missing_ok=True)

    def _drain_truncations(self) -> None:
        """Truncations armed but not used by the faulted sync would hit the clean one: every
        answer takes one (a cut longer than the answer is spent without effect), so as many
        throwaway requests as were armed spend whatever is left."""
        armed, self._armed_truncations = getattr(self, "_armed_truncations", 0), 0
        for _ in range(armed):
            with (
                contextlib.suppress(requests.RequestException),
                requests.get(self.link.url + protocol.HEALTH, timeout=10) as r,
            ):
                r.content  # noqa: B018  (read it all: the truncation acts on the body)

    # -- timing -----------------------------------------------------------------------------------

    def _window(self) -> float:
        """How long a sync takes from its first connection (recent runs), to aim kills into."""
        recent = self.durations[-30:]
        if len(recent) < 3:
            return 0.4
        return max(0.1, statistics.quantiles(recent, n=5)[-1])

    def _first_connection(self, proc: SyncProcess, before: int, timeout: float = 60) -> bool:
        """Wait until the sync opens its first connection (the process has started up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.link.stats["connections"] > before:
                self._first_at = time.monotonic()
                return True
            if not proc.running():
                return False
            time.sleep(0.005)
        return False

    def _start(self, victim: Device, kill_at: str | None = None) -> tuple[SyncProcess, int]:
        self._first_at = None
        before = self.link.stats["connections"]
        return SyncProcess(victim, self.env, kill_at=kill_at), before

    # -- the faults -------------------------------------------------------------------------------

    def _fault_client_kill(self, victim: Device, record: RecordLike) -> SyncRun:
        proc, before = self._start(victim)
        delay = self.rng.uniform(0, self._window())
        record.detail = f"SIGKILL +{delay:.2f}s"
        if self._first_connection(proc, before):
            time.sleep(delay)
            proc.kill()
        return proc.wait()

    def _fault_client_point(self, victim: Device, record: RecordLike) -> SyncRun:
        point = self._point or self.rng.choice(CLIENT_POINTS).format(n=self.rng.randrange(1, 6))
        record.detail = point
        proc, before = self._start(victim, kill_at=point)
        self._first_connection(proc, before)
        return proc.wait()

    def _fault_server_kill(self, victim: Device, record: RecordLike) -> SyncRun:
        proc, before = self._start(victim)
        delay = self.rng.uniform(0, self._window())
        pause = self.rng.uniform(0, 3) if self.rng.random() < 0.8 else self.rng.uniform(6, 15)
        record.detail = f"county SIGKILL +{delay:.2f}s, back {pause:.1f}s"
        if self._first_connection(proc, before):
            time.sleep(delay)
            self.county.kill()
            time.sleep(pause)
            self.county.start()
        return proc.wait()

    def _fault_server_point(self, victim: Device, record: RecordLike) -> SyncRun:
        point = self._point or self.rng.choice(SERVER_POINTS)
        pause = self.rng.uniform(0, 2)
        record.detail = f"county {point}"
        self.county.kill()
        self.county.start(kill_at=point)
        proc, _ = self._start(victim)
        while proc.running():
            if not self.county.alive:
                record.detail += f" fired, back {pause:.1f}s"
                time.sleep(pause)
                self.county.start()
            time.sleep(0.01)
        return proc.wait()

    def _fault_cut(self, victim: Device, record: RecordLike) -> SyncRun:
        proc, before = self._start(victim)
        cuts = sorted(self.rng.uniform(0, self._window()) for _ in range(self.rng.randrange(1, 4)))
        record.detail = "cuts at " + ",".join(f"{c:.2f}" for c in cuts)
        if self._first_connection(proc, before):
            t0 = time.monotonic()
            for at in cuts:
                time.sleep(max(0.0, at - (time.monotonic() - t0)))
                if not proc.running():
                    break
                self.link.cut_all()
        return proc.wait()

    def _fault_truncate(self, victim: Device, record: RecordLike) -> SyncRun:
        # Answers are small (gzip'd JSON: headers ~200 bytes, bodies from ~150 bytes to a
        # page's ~60 kB); a cut longer than its answer does nothing, so aim inside them.
        sizes = [
            self.rng.choice([self.rng.randrange(0, 200), self.rng.randrange(200, 700)])
            if self.rng.random() < 0.8
            else self.rng.randrange(700, 8000)
            for _ in range(self.rng.randrange(1, 4))
        ]
        record.detail = "truncate " + ",".join(map(str, sizes))
        self._armed_truncations = len(sizes)
        for n in sizes:
            self.link.truncate_next_response(n)
        proc, before = self._start(victim)
        self._first_connection(proc, before)
        return proc.wait()

    def _fault_flip(self, victim: Device, record: RecordLike) -> SyncRun:
        count = self.rng.randrange(1, 4)
        record.detail = f"flip {count} answer(s)"
        self.flipper.flip_next_responses(count)
        seen = len(self.flipper.flipped)
        proc, before = self._start(victim)
        self._first_connection(proc, before)
        run = proc.wait()
        for line in self.flipper.flipped[seen:]:
            self.log(f"      flipped {line}")
        return run

    def _fault_outage(self, victim: Device, record: RecordLike) -> SyncRun:
        proc, before = self._start(victim)
        delay = self.rng.uniform(0, self._window())
        # Mostly shorter than the client's retries last (~8 s): the sync gets through; now and
        # then longer: it gives up, says so, and the next sync carries on.
        length = self.rng.uniform(0.5, 6) if self.rng.random() < 0.75 else self.rng.uniform(8, 20)
        record.detail = f"outage +{delay:.2f}s for {length:.1f}s"
        if self._first_connection(proc, before):
            time.sleep(delay)
            self.link.outage(length)
        return proc.wait()

    def _fault_disk_full(self, victim: Device, record: RecordLike) -> SyncRun:
        assert self.disk is not None
        stat = os.statvfs(self.disk)
        free = stat.f_bavail * stat.f_frsize
        # From nothing left, through room for the records but not the photos, to enough.
        leave = self.rng.choice([0, 4096, 16_384, 65_536, 131_072, 196_608, 262_144, 524_288])
        record.detail = f"disk full, {leave // 1024} KiB left"
        filler = self.disk / "filler"
        with filler.open("wb") as fh:
            remaining = max(0, free - leave)
            block = b"\0" * (1 << 20)
            while remaining > 0:
                try:
                    remaining -= fh.write(block[: min(remaining, len(block))])
                except OSError:
                    break
        # Work while the disk is full: refused in plain words, or done whole.
        try:
            with victim.store() as store:
                done = self.work.do(victim, store, 2, photos=0.5)
            record.detail += f"; {done.disk_full} refusal(s)"
        except StoreError as exc:
            record.detail += f"; store: {exc}"
        proc, _ = self._start(victim)
        return proc.wait()

    # -- the relay's runs -----------------------------------------------------------------------

    def _relay_sync(self, victim: Device, **options: Any) -> SyncRun:
        """One sync of the laptop in this process, the way the app does it (county or relay)."""
        from sync.client.route import Router
        from sync.client.service import SyncService

        assert self.relay is not None
        started = time.monotonic()
        service = SyncService(tokens=victim.tokens(), deadline_s=20, **options)
        with victim.store() as store:
            report = Router(service, relay_url=self.relay.url, probe_timeout=2.0).sync_once(store)
        return SyncRun(
            exit_code=report.exit_code,
            killed=False,
            summary=report.to_dict(),
            stdout=report.to_json(),
            stderr="",
            seconds=time.monotonic() - started,
            ended=time.monotonic(),
        )

    def _fault_relay_uplink(self, victim: Device, record: RecordLike) -> SyncRun:
        assert self.relay is not None
        self.relay.start()
        self.county.stop()
        run = self._relay_sync(victim)
        record.detail = f"uplink cut, via {(run.summary or {}).get('route')}"
        return run

    def _fault_relay_kill(self, victim: Device, record: RecordLike) -> SyncRun:
        assert self.relay is not None
        self.relay.start()
        self.county.stop()
        proc = SyncProcess(victim, self.env, extra=("--relay", self.relay.url))
        delay = self.rng.uniform(0, 3.0)
        record.detail = f"relay SIGKILL +{delay:.2f}s"
        time.sleep(delay)
        self.relay.kill()
        run = proc.wait()
        self.relay.stop()
        self.relay.start()  # back after the power cut; the county comes back in _heal
        return run

    def _fault_relay_point(self, victim: Device, record: RecordLike) -> SyncRun:
        assert self.relay is not None
        self.relay.start(kill_at="relay:answered:1")
        self.county.stop()
        run = self._relay_sync(victim)
        self.county.start()
        deadline = time.monotonic() + 60
        while self.relay.alive and time.monotonic() < deadline:
            time.sleep(0.1)
        record.detail = "relay:answered:1 " + ("fired" if not self.relay.alive else "not reached")
        self.relay.stop()
        self.relay.start()
        return run

    def _fault_relay_move(self, victim: Device, record: RecordLike) -> SyncRun:
        assert self.relay is not None
        self.relay.start()
        self.county.kill()
        self.county.start(kill_at="push:commit:2")
        run = self._relay_sync(victim, batch_bytes=2_000)
        record.detail = f"county died mid-push, via {(run.summary or {}).get('route')}"
        return run

    # -- the summary ------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        records = self.records
        failed = [r for r in records if not r.ok]
        injected = Counter(r.kind for r in records)
        return {
            "runs": len(records),
            "failed_runs": len(failed),
            "faults_injected": dict(sorted(injected.items())),
            "kill_points": dict(
                sorted(Counter(r.detail for r in records if r.kind == "client_point").items())
            ),
            "server_points": dict(
                sorted(
                    Counter(
                        r.detail.split(" ")[1] for r in records if r.kind == "server_point"
                    ).items()
                )
            ),
            "clients_killed": sum(r.killed for r in records),
            "faulted_sync_exit_codes": dict(
                sorted(Counter(str(r.exit_code) for r in records).items())
            ),
            "faulted_syncs_retried": sum(r.retries > 0 for r in records),
            "faulted_sync_retries": sum(r.retries for r in records),
            "faulted_syncs_completed_ok": sum(r.exit_code == 0 for r in records),
            "county_restarts": self.county.starts - 1,
            "link": self.link.stats,
            "flips": self.flipper.stats["flips"],
            "tracebacks": sum(r.traceback for r in records),
            "losses": sum(r.findings.count("lost:") for r in records),
            "duplicates": sum(r.findings.count("duplicated:") for r in records),
            "differences": sum(r.findings.count("differ:") for r in records),
            "stuck": sum(r.findings.count("stuck:") for r in records),
            "damaged": sum(r.findings.count("damaged:") for r in records),
            "clean_sync_failures": sum(bool(r.clean) for r in records),
            "drift_repairs": sum(bool(r.drift) for r in records),
            "entries_made": len(self.created["entries"]),
            "photos_made": len(self.created["attachments"]),
            "disk_full": "ran" if self.disk is not None else self.disk_skip,
            "relay_routes": dict(
                sorted(Counter(r.detail for r in records if r.kind in RELAY_KINDS).items())
            ),
            "first_failures": [asdict(r) for r in failed[:10]],
        }


RecordLike = RunRecord


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.faults.campaign", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the JSON result here")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated fault kinds")
    parser.add_argument(
        "--village-share",
        type=float,
        default=0.05,
        help="share of runs over the village-2g profile (slow: seconds per sync)",
    )
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    kinds = tuple(k for k in args.kinds.split(",") if k)
    unknown = set(kinds) - set(KINDS) - set(RELAY_KINDS)
    if unknown:
        parser.error(f"unknown fault kinds: {', '.join(sorted(unknown))}")

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            workdir = args.workdir
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="faults-")))
        campaign = Campaign(
            workdir, seed=args.seed, kinds=kinds, village_share=args.village_share, log=log
        )
        stack.enter_context(campaign)
        for i in range(args.runs):
            campaign.run(i)
        result = campaign.summary()
    result.update(
        command="python -m tests.faults.campaign " + " ".join(argv or sys.argv[1:]),
        seconds=round(time.monotonic() - started, 1),
        machine={"python": platform.python_version(), "cpus": os.cpu_count()},
    )
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if result["failed_runs"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
