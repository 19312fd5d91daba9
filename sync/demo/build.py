"""Building a demo store: a real township or county, synthetic grids, people and cases.

:func:`build_demo` is what ``gridroom demo`` runs and what the desktop's demo mode calls. It
writes into ``<out>.partial`` and renames the file into place only when it is complete, so a
failed or cancelled build leaves nothing half-made at ``out`` (and an existing ``out`` is only
replaced when asked to).

Progress is observed, not pushed: the builder updates a :class:`Progress` object that a UI may
poll from another thread (and cancel through); the CLI passes a subclass that prints.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..geo.geostore import put_shapes
from ..model import divisions as division_data
from ..model.calendar import SHANGHAI
from ..model.clock import Millis, from_millis, now_millis
from ..model.records import OPEN_STATUSES, Division, DivisionLevel, GridKind
from ..store import Store
from ..store.bulk import BulkLoader
from .cases import CaseMaker
from .fieldwork import add_field_work
from .geometry import COUNTY_SOURCE, PointPool, build_geometry
from .geometry import SOURCE as GEOMETRY_SOURCE
from .ids import device_code, uuid7_at
from .places import DEMO_OPERATOR, build_world

#: Bumped when the generator changes what a given seed produces.
GENERATOR_VERSION = "4"
DIVISIONS_HINT = "resources/divisions/quzhou_3308.csv"


class DemoError(ValueError):
    """Bad input for a demo build, in plain words (an unknown code, an existing file …)."""


class Cancelled(Exception):
    """The build was cancelled through its :class:`Progress`; nothing was left behind."""


class Progress:
    """Where a build is: phase, items done of total, and a way to cancel it.

    Thread-safe to read and to :meth:`cancel` from another thread; the builder calls
    :meth:`update`, which raises :class:`Cancelled` once cancellation was asked for.
    """

    def __init__(self) -> None:
        self.phase = ""
        self.done = 0
        self.total = 0
        self.phase_started = time.perf_counter()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def update(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.phase = phase
            self.phase_started = time.perf_counter()
        self.done = done
        self.total = total
        self.changed()
        if self._cancel.is_set():
            raise Cancelled(f"demo build cancelled during {phase}")

    def rate(self) -> float:
        """Items per second in the current phase."""
        elapsed = time.perf_counter() - self.phase_started
        return self.done / elapsed if elapsed > 0 else 0.0

    def changed(self) -> None:
        """Called after every update; subclasses report (the CLI prints to stderr)."""


@dataclass(frozen=True, slots=True)
class DemoSpec:
    """What to build: a township (9-digit code) or county (6-digit), how many cases, the seed,
    how many months of history end at ``now`` (None: the real current time)."""

    scope: str
    cases: int = 20_000
    seed: int = 1
    months: int = 12
    now: Millis | None = None


@dataclass(slots=True)
class DemoSummary:
    """What a build produced (``gridroom demo`` prints :meth:`text`)."""

    path: Path
    scope: str
    scope_name: str
    level: str
    seed: int
    now: Millis
    months: int
    villages: int = 0
    grids: int = 0
    dedicated_grids: int = 0
    oversize_grids: int = 0
    staff: int = 0
    accounts: int = 0
    departments: int = 0
    cases: int = 0
    entries: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    open: int = 0
    overdue: int = 0
    self_handled: int = 0
    file_bytes: int = 0
    seconds: float = 0.0
    case_seconds: float = 0.0
    index_seconds: float = 0.0
    operator: str = DEMO_OPERATOR
    operator_name: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "synthetic": True,
            "scope": self.scope,
            "scope_name": self.scope_name,
            "level": self.level,
            "seed": self.seed,
            "now": self.now,
            "months": self.months,
            "villages": self.villages,
            "grids": self.grids,
            "dedicated_grids": self.dedicated_grids,
            "oversize_grids": self.oversize_grids,
            "staff": self.staff,
            "accounts": self.accounts,
            "departments": self.departments,
            "cases": self.cases,
            "entries": self.entries,
            "by_status": self.by_status,
            "open": self.open,
            "overdue": self.overdue,
            "self_handled": self.self_handled,
            "file_bytes": self.file_bytes,
            "seconds": round(self.seconds, 3),
            "case_seconds": round(self.case_seconds, 3),
            "index_seconds": round(self.index_seconds, 3),
            "operator": self.operator,
        }

    def text(self) -> str:
        def day(ms: Millis) -> str:
            return from_millis(ms).astimezone(SHANGHAI).strftime("%Y-%m-%d")

        start = from_millis(self.now) - dt.timedelta(days=round(self.months * 30.4375))
        rate = self.cases / self.case_seconds if self.case_seconds > 0 else 0.0
        share = (self.overdue / self.open) if self.open else 0.0
        statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_status.items()))
        return "\n".join(
            [
                f"合成数据 synthetic demo store: {self.path}",
                f"  {self.level} {self.scope} {self.scope_name} · seed {self.seed} · "
                f"{start.astimezone(SHANGHAI):%Y-%m-%d} → {day(self.now)}",
                f"  villages {self.villages:,} · grids {self.grids:,} "
                f"({self.dedicated_grids} dedicated, {self.oversize_grids} oversize) · "
                f"staff {self.staff:,} · accounts {self.accounts:,} · "
                f"departments {self.departments}",
                f"  cases {self.cases:,} · timeline entries {self.entries:,} · "
                f"{self.file_bytes / max(self.cases, 1):,.0f} bytes/case · "
                f"built in {self.seconds:.1f} s ({rate:,.0f} cases/s)",
                f"  by status: {statuses}",
                f"  open {self.open:,}, overdue {self.overdue:,} ({share:.1%} of open), "
                f"self-handled {self.self_handled / max(self.cases, 1):.1%}",
                f"  log in as: {self.operator} ({self.operator_name})",
            ]
        )


def resolve_scope(code: str, level: str) -> Division:
    """The real township or county for ``code``; :class:`DemoError` says how to find one."""
    code = code.strip()
    table = division_data.by_code()
    found = table.get(code)
    example = (
        "e.g. 330825002 东华街道" if level == "township" else "e.g. 330825 龙游县, 330881 江山市"
    )
    width = "9-digit" if level == "township" else "6-digit"
    if found is None:
        raise DemoError(
            f"unknown {level} code {code}; codes are the {width} statistical codes in "
            f"{DIVISIONS_HINT}, {example} (gridroom demo --list prints them all)"
        )
    if found.level.value != level:
        right = "--township" if found.level == DivisionLevel.TOWNSHIP else "--county"
        hint = f"; use {right} {code}" if found.level.value in ("township", "county") else ""
        raise DemoError(
            f"{code} is a {found.level.value} ({found.name}), not a {level}{hint} "
            f"— {level} codes are {width}, {example}"
        )
    return found


def _scope_of(code: str) -> Division:
    """A township or county code's division, whichever level it names."""
    code = code.strip()
    found = division_data.by_code().get(code)
    if found is not None and found.level in (DivisionLevel.TOWNSHIP, DivisionLevel.COUNTY):
        return found
    return resolve_scope(code, "township" if len(code) == 9 else "county")


def listing() -> str:
    """Every county and township code a demo can be built for."""
    lines = []
    for county in division_data.children("3308"):
        lines.append(f"{county.code}  {county.name}")
        lines.extend(f"  {t.code}  {t.name}" for t in division_data.children(county.code))
    return "\n".join(lines)


def build_demo(
    out: Path | str,
    spec: DemoSpec,
    *,
    force: bool = False,
    progress: Progress | None = None,
    batch: int = 10_000,
) -> DemoSummary:
    """Build a synthetic demo store at ``out`` for ``spec``; see the module docstring."""
    started = time.perf_counter()
    out = Path(out)
    scope = _scope_of(spec.scope)
    if spec.cases < 0:
        raise DemoError("the number of cases cannot be negative")
    if not 1 <= spec.months <= 600:
        raise DemoError("months of history must be between 1 and 600")
    if spec.seed < 0:
        raise DemoError("the seed must be a non-negative integer")
    if out.is_dir():
        raise DemoError(f"{out} is a directory; give the path of the store file to create")
    if out.exists() and not force:
        raise DemoError(
            f"{out} already exists; choose another --out, or pass --force to replace it"
        )
    progress = progress or Progress()
    now = now_millis() if spec.now is None else spec.now
    partial = out.with_name(out.name + ".partial")
    _remove_store_files(partial)
    try:
        summary = _build(partial, scope, spec, now, progress, batch)
        if force:
            _remove_store_files(out)
        os.replace(partial, out)
    except BaseException:
        _remove_store_files(partial)
        raise
    summary.path = out
    summary.seconds = time.perf_counter() - started
    return summary


class _CallbackProgress(Progress):
    """Feeds ``callback(done, total)``; a False return asks the build to stop."""

    def __init__(self, callback: Callable[[int, int], bool | None]) -> None:
        super().__init__()
        self._callback = callback

    def changed(self) -> None:
        if self.phase == "cases" and self._callback(self.done, self.total) is False:
            self.cancel()


def build(
    path: Path | str,
    *,
    township: str | None = None,
    county: str | None = None,
    cases: int = 20_000,
    seed: int = 1,
    months: int = 12,
    now: Millis | None = None,
    force: bool = False,
    progress: Callable[[int, int], bool | None] | None = None,
) -> DemoSummary | None:
    """Keyword form of :func:`build_demo` for callers with a ``(done, total) -> bool`` progress
    callback (the desktop's): returns None, leaving nothing behind, when the callback returned
    False to cancel."""
    if (township is None) == (county is None):
        raise DemoError("name exactly one of township and county")
    code = str(township or county)
    resolve_scope(code, "township" if township is not None else "county")
    spec = DemoSpec(code, cases=cases, seed=seed, months=months, now=now)
    watcher = _CallbackProgress(progress) if progress is not None else None
    try:
        return build_demo(path, spec, force=force, progress=watcher)
    except Cancelled:
        return None


def _build(
    path: Path, scope: Division, spec: DemoSpec, now: Millis, progress: Progress, batch: int
) -> DemoSummary:
    seed = spec.seed
    divisions = division_data.scope_divisions(scope.code)
    progress.update("places", 0, 1)
    world = build_world(seed, scope, divisions)
    used = {device_code(seed, a.id) for a in world.accounts}
    this_pc = next(
        code
        for n in range(1000)
        if (code := device_code(seed, f"this-pc-{n}")) not in used  # never number like a demo case
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    store = Store.create(
        path, scope=scope.code, synthetic=True, device_code=this_pc, clock=lambda: now
    )
    try:
        rng = random.Random(f"gridroom-demo:{seed}:device:{scope.code}")
        store.set_meta(
            {
                "device_id": uuid7_at(rng, now),
                "demo_seed": str(seed),
                "demo_now": str(now),
                "demo_months": str(spec.months),
                "demo_cases": str(spec.cases),
                "demo_generator": GENERATOR_VERSION,
                "demo_operator": DEMO_OPERATOR,
            }
        )
        store.put_grids(world.grids, synthetic=True)
        geometry = build_geometry(seed, scope, [v.division for v in world.villages], world.grids)
        put_shapes(store, [geometry.county] if geometry.county else [], source=COUNTY_SOURCE)
        put_shapes(
            store,
            [o for o in geometry.outlines if o is not geometry.county],
            synthetic=True,
            source=GEOMETRY_SOURCE,
        )
        store.put_departments(world.departments)
        store.put_staff(world.staff, synthetic=True)
        store.put_accounts(world.accounts)
        progress.update("places", 1, 1)

        maker = CaseMaker(
            world,
            store.rules,
            seed=seed,
            now=now,
            months=spec.months,
            count=spec.cases,
            points=PointPool(seed, geometry.outlines),
        )
        case_started = time.perf_counter()
        progress.update("cases", 0, spec.cases)
        # A fresh file that is thrown away on failure: the indexes can be rebuilt at the end.
        with BulkLoader(
            store, batch=batch, defer_indexes=spec.cases >= 50_000, cache_mib=256
        ) as loader:
            step = max(1, min(batch, spec.cases // 100 or 1))
            for n, timeline in enumerate(maker.timelines(), start=1):
                loader.add(timeline)
                if n % step == 0:
                    progress.update("cases", n, spec.cases)
            progress.update("indexes", 0, 1)
        stats = loader.stats
        if stats.conflicts:
            # The generator plans legal timelines only; a conflict is a bug in it.
            raise RuntimeError(f"{stats.conflicts} generated timelines have workflow conflicts")
        case_seconds = time.perf_counter() - case_started
        add_field_work(store, world, seed=seed, now=now)
        progress.update("checkpoint", 0, 1)
        store.read("PRAGMA optimize")
        store.read("PRAGMA wal_checkpoint(TRUNCATE)")
        summary = _summarise(store, world, scope, spec, now)
        summary.entries = stats.entries
        summary.case_seconds = case_seconds
        summary.index_seconds = stats.index_seconds
        operator = store.account(DEMO_OPERATOR)
        summary.operator_name = operator.name if operator else ""
    finally:
        store.close()
    summary.file_bytes = path.stat().st_size
    progress.update("done", 1, 1)
    return summary


def _summarise(
    store: Store, world: Any, scope: Division, spec: DemoSpec, now: Millis
) -> DemoSummary:
    by_status = {
        str(k): int(v)
        for k, v in store.read("SELECT status, count(*) FROM cases GROUP BY status ORDER BY status")
    }
    marks = ",".join("?" * len(OPEN_STATUSES))
    open_, overdue = store.read(
        f"SELECT count(*), coalesce(sum(due_at < ?), 0) FROM cases WHERE status IN ({marks})",
        [now, *(s.value for s in OPEN_STATUSES)],
    )[0]
    self_handled = store.read("SELECT count(*) FROM cases WHERE self_handled = 1")[0][0]
    return DemoSummary(
        path=store.path,
        scope=scope.code,
        scope_name=_full_name(scope),
        level=scope.level.value,
        seed=spec.seed,
        now=now,
        months=spec.months,
        villages=len(world.villages),
        grids=len(world.grids),
        dedicated_grids=sum(g.kind == GridKind.DEDICATED for g in world.grids),
        oversize_grids=sum(g.oversize for g in world.grids),
        staff=len(world.staff),
        accounts=len(world.accounts),
        departments=len(world.departments),
        cases=sum(by_status.values()),
        by_status=by_status,
        open=int(open_),
        overdue=int(overdue),
        self_handled=int(self_handled),
    )


def _full_name(d: Division) -> str:
    lineage = division_data.lineage(d.code)
    return "".join(x.name for x in reversed(lineage) if x.level != DivisionLevel.CITY)


def _remove_store_files(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


__all__ = [
    "Cancelled",
    "DemoError",
    "DemoSpec",
    "DemoSummary",
    "Progress",
    "build",
    "build_demo",
    "listing",
    "resolve_scope",
]
