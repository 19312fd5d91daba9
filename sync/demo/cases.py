"""Synthetic case timelines: every state of the closed loop, with times that make sense.

Each case gets a *plan* — its whole life as the loop would run it (report, accept within hours,
dispatch, feedback mostly within the deadline, verification, archive, evaluation, and the
detours: rejection, merge, joint dispatch, return, extension, park, escalation, urge, failed
verification, self-handling) — built as timeline entries, then cut at ``now``. A prefix of a
legal timeline is legal, so recent cases come out open and old ones finished in the proportions
a real township shows. A handful of *showcase* cases are cut right after a chosen step instead,
so that even a small demo shows every state.

Randomness: one RNG per case, seeded by (seed, case number), so a case's content depends on the
seed and its number only; ids are UUIDv7 strings stamped with the synthetic instant.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..model.clock import Millis
from ..model.records import Action, Actor, AssigneeKind, Entry, Grid, GridKind, Role, Urgency
from ..model.workflow import Rules, clock_left, restarted_due
from . import names, texts
from .ids import device_code, uuid7_at
from .places import Village, World

if TYPE_CHECKING:
    from .geometry import PointPool

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
#: Asia/Shanghai has kept UTC+8 without daylight saving since 1991.
SHANGHAI_OFFSET = 8 * HOUR

# Where reports come from (weights): patrols dominate, then the resident app and the hotline.
_SOURCES = (
    ("patrol", 45),
    ("resident_app", 22),
    ("hotline", 15),
    ("walk_in", 6),
    ("department", 6),
    ("video", 6),
)
# Reports by local hour of day: office hours busiest, a trickle at night.
_HOUR_WEIGHTS = (
    1,
    1,
    1,
    1,
    1,
    2,
    4,
    8,
    14,
    16,
    15,
    12,
    8,
    10,
    14,
    15,
    13,
    10,
    7,
    6,
    5,
    4,
    2,
    1,
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """The path one case takes through the loop (before it is cut at ``now``)."""

    self_handle: bool = False
    drop: str | None = None  # "reject" | "merge"
    #: "grid" (before acceptance) | "county" (after dispatch) | "handdown" (escalated after
    #: dispatch, taken in by the county and handed back down to the township: 交办)
    escalate: str | None = None
    joint: bool = False
    ret: bool = False  # the lead unit returns the dispatch (退单)
    extension: str | None = None  # "approve" | "deny"
    park: str | None = None  # "resume" | "stay" | "deny"
    verify_fail: bool = False
    lateness: float = 0.4  # feedback at this fraction of the allowed handling time
    urge: bool = False
    comments: int = 0
    edit: bool = False
    evaluate: bool = True
    late_accept: bool = False


@dataclass(frozen=True, slots=True)
class Showcase:
    """A case cut right after the ``occurrence``-th ``stop`` step (None: run to the end)."""

    label: str
    scenario: Scenario
    stop: Action | None
    occurrence: int = 1
    source: str = "hotline"


#: One case per loop state, so that even a small demo shows all of them.
SHOWCASES: tuple[Showcase, ...] = (
    Showcase("reported", Scenario(), Action.REPORT),
    Showcase("escalated by the grid", Scenario(escalate="grid"), Action.ESCALATE, 1, "patrol"),
    Showcase("accepted", Scenario(), Action.ACCEPT),
    Showcase("handling", Scenario(), Action.DISPATCH),
    Showcase("joint, one fed back", Scenario(joint=True), Action.FEEDBACK),
    Showcase("extension pending", Scenario(extension="approve"), Action.REQUEST_EXTENSION),
    Showcase("extension approved", Scenario(extension="approve"), Action.APPROVE_EXTENSION),
    Showcase("overdue and urged", Scenario(lateness=1.6, urge=True), Action.URGE),
    Showcase("verification failed", Scenario(verify_fail=True), Action.VERIFY_FAIL),
    Showcase("returned", Scenario(ret=True), Action.RETURN),
    Showcase("escalated to the county", Scenario(escalate="county"), Action.DISPATCH, 2),
    Showcase("park pending", Scenario(park="resume"), Action.REQUEST_PARK),
    Showcase("parked", Scenario(park="stay"), Action.APPROVE_PARK),
    Showcase("resumed", Scenario(park="resume"), Action.RESUME),
    Showcase("verifying", Scenario(), Action.FEEDBACK),
    Showcase("self-handled", Scenario(self_handle=True), Action.SELF_HANDLE, 1, "patrol"),
    Showcase("closed", Scenario(), Action.VERIFY_PASS),
    Showcase("archived", Scenario(), Action.ARCHIVE),
    Showcase("evaluated", Scenario(comments=1), None),
    Showcase("rejected", Scenario(drop="reject"), Action.REJECT),
    Showcase("merged", Scenario(drop="merge"), Action.MERGE),
    # Last, so that the first 21 (a small demo) stay as they were.
    Showcase("escalated, waiting for the county", Scenario(escalate="county"), Action.ESCALATE),
    Showcase("handed down by the county", Scenario(escalate="handdown"), Action.HAND_DOWN),
)


#: Steps that happen at any hour: people report when they see something.
_ANY_HOUR = frozenset({Action.REPORT, Action.SELF_HANDLE, Action.ESCALATE})
#: Paperwork that waits for office hours even on urgent cases.
_OFFICE_ONLY = frozenset({Action.ARCHIVE, Action.EVALUATE, Action.COMMENT})
#: Local office hours (Asia/Shanghai) for routine steps; the night shift takes a few.
_OPEN, _CLOSE, _NIGHT_SHIFT = 8 * HOUR, 20 * HOUR, 0.12


def _office_hours(rng: random.Random, at: Millis) -> Millis:
    """``at``, or the next morning when it falls at night and the night shift leaves it."""
    local = (at + SHANGHAI_OFFSET) % DAY
    if _OPEN <= local < _CLOSE or rng.random() < _NIGHT_SHIFT:
        return at
    next_open = at - local + _OPEN + (DAY if local >= _CLOSE else 0)
    return next_open + rng.randint(0, 100) * MINUTE


@dataclass(frozen=True, slots=True)
class _Planned:
    case_id: str
    village_code: str
    case_no_key: tuple[str, str, str]
    entries: list[Entry]
    complete: bool  # a showcase case reached its stop step


class _Timeline:
    """Entries of one case being planned, each strictly later than the one before."""

    def __init__(self, case_id: str, rng: random.Random, devices: dict[str, str]) -> None:
        self.case_id = case_id
        self.rng = rng
        self.devices = devices
        self.entries: list[Entry] = []
        self.t: Millis = 0
        self.cut: int | None = None
        self.urgent = False  # urgent cases are worked round the clock (值班)
        self._stop: tuple[Action, int] | None = None
        self._seen = 0

    def stop_after(self, action: Action | None, occurrence: int) -> None:
        self._stop = None if action is None else (action, occurrence)

    def add(self, at: Millis, action: Action, actor: Actor, payload: dict[str, Any]) -> Millis:
        if action not in _ANY_HOUR and not (self.urgent and action not in _OFFICE_ONLY):
            at = _office_hours(self.rng, at)
        # At least a second apart: the merge order (hlc, id) then equals the planned order.
        at = max(at, self.t + 1000)
        self.entries.append(self.entry(at, action, actor, payload))
        self.t = at
        if self._stop is not None and self.cut is None and action == self._stop[0]:
            self._seen += 1
            if self._seen == self._stop[1]:
                self.cut = len(self.entries)
        return at

    def entry(self, at: Millis, action: Action, actor: Actor, payload: dict[str, Any]) -> Entry:
        hlc = f"{at:013d}.0000.{self.devices[actor.id]}"
        return Entry(
            uuid7_at(self.rng, at), self.case_id, action, actor.id, actor.role, at, hlc, payload
        )


class CaseMaker:
    """Generates the timelines of ``count`` cases over the ``months`` before ``now``."""

    def __init__(
        self,
        world: World,
        rules: Rules,
        *,
        seed: int,
        now: Millis,
        months: int,
        count: int,
        showcase: bool = True,
        points: PointPool | None = None,
    ) -> None:
        self.world = world
        self.points = points
        self.rules = rules
        self.seed = seed
        self.now = now
        self.count = count
        self.start = now - round(months * 30.4375 * DAY)
        self.showcases = SHOWCASES[: min(count, len(SHOWCASES))] if showcase else ()
        self.villages = [v for v in world.villages if v.grids]
        if not self.villages:
            raise ValueError(f"{world.scope.name} has no villages to put cases in")
        self._village_cum = list(
            itertools.accumulate(sum(g.population for g in v.grids) for v in self.villages)
        )
        self._kinds = texts.KINDS
        self._kind_cum = list(itertools.accumulate(k.weight for k in self._kinds))
        self._source_cum = list(itertools.accumulate(w for _, w in _SOURCES))
        self.devices = {a.id: device_code(seed, a.id) for a in world.accounts}
        self._case_no: dict[tuple[str, str, str], int] = {}
        self._last_in_village: dict[str, str] = {}
        self._county = {v.code: v.county_short for v in self.villages}

    # -- the whole run ----------------------------------------------------------------------

    def timelines(self) -> Iterator[list[Entry]]:
        """Every case's timeline, oldest report first (showcase cases last)."""
        ordinary = self.count - len(self.showcases)
        for i, at in enumerate(self._report_times(ordinary)):
            planned = self._case(random.Random((self.seed << 32) + i), at, None)
            yield self._commit(planned)
        for j, show in enumerate(self.showcases):
            yield self._commit(self._showcase((self.seed << 32) + ordinary + j, show))

    def _report_times(self, n: int) -> list[Millis]:
        """``n`` report instants: uniform over the days, fewer on weekends, by hour of day."""
        rng = random.Random(f"gridroom-demo:{self.seed}:times:{self.world.scope.code}")
        first_day = (self.start + SHANGHAI_OFFSET) // DAY
        last_day = (self.now + SHANGHAI_OFFSET) // DAY
        hours = list(range(24))
        out: list[Millis] = []
        while len(out) < n:
            day = rng.randint(first_day, last_day)
            if (day + 3) % 7 >= 5 and rng.random() < 0.35:  # 1970-01-01 was a Thursday
                continue
            hour = rng.choices(hours, _HOUR_WEIGHTS)[0]
            at = day * DAY - SHANGHAI_OFFSET + hour * HOUR + rng.randrange(HOUR)
            if self.start <= at < self.now:
                out.append(at)
        out.sort()
        return out

    # -- one case ---------------------------------------------------------------------------

    def _commit(self, planned: _Planned) -> list[Entry]:
        """Record what later cases see of this one: its number, and that it may be merged into."""
        self._case_no[planned.case_no_key] = self._case_no.get(planned.case_no_key, 0) + 1
        self._last_in_village[planned.village_code] = planned.case_id
        return planned.entries

    def _showcase(self, case_seed: int, show: Showcase) -> _Planned:
        """Plan the case, then move its report so that the stop step lies just before now."""
        for attempt in range(20):
            key = f"{case_seed}:{attempt}"
            reported = self.now - 60 * DAY
            planned = self._case(random.Random(key), reported, show)
            if not planned.complete:
                continue  # this draw never reaches the stop step (e.g. no urge): draw again
            margin = random.Random(key + ":margin").randint(5, 60) * MINUTE
            reported = self.now - (planned.entries[-1].at - reported) - margin
            for _ in range(6):
                planned = self._case(random.Random(key), reported, show)
                if not planned.complete:
                    break
                if planned.entries[-1].at <= self.now:
                    return planned
                # Working days moved the stop step past now: report that much earlier.
                reported -= planned.entries[-1].at - self.now + HOUR
        raise RuntimeError(f"could not place the showcase case {show.label!r}")

    def _case(self, rng: random.Random, reported: Millis, show: Showcase | None) -> _Planned:
        pick = rng.random() * self._village_cum[-1]
        village = self.villages[bisect.bisect(self._village_cum, pick)]
        grid = self._grid(rng, village)
        kind = self._kind(rng, reported)
        if show is not None:
            source = show.source
        else:
            pick = rng.random() * self._source_cum[-1]
            source = _SOURCES[bisect.bisect(self._source_cum, pick)][0]
        urgent = rng.random() < (0.3 if kind.code in texts.OFTEN_URGENT else 0.03)
        if show is not None:
            scenario = show.scenario
            if scenario.drop == "merge" and village.code not in self._last_in_village:
                scenario = replace(scenario, drop="reject")
        else:
            scenario = self._scenario(rng, source, kind, village)
        case_id = uuid7_at(rng, reported)
        plan = _Timeline(case_id, rng, self.devices)
        plan.urgent = urgent
        if show is not None:
            plan.stop_after(show.stop, show.occurrence)
        key = self._plan(plan, rng, reported, village, grid, kind, source, urgent, scenario)
        if show is not None:
            complete = show.stop is None or plan.cut is not None
            entries = plan.entries[: plan.cut] if plan.cut is not None else plan.entries
        else:
            complete = True
            self._sprinkle(plan, rng, scenario)
            entries = [e for e in plan.entries if e.at <= self.now]
        return _Planned(case_id, village.code, key, entries, complete)

    def _grid(self, rng: random.Random, village: Village) -> Grid:
        dedicated = [g for g in village.grids if g.kind == GridKind.DEDICATED]
        if dedicated and rng.random() < 0.12:
            return rng.choice(dedicated)
        basic = [g for g in village.grids if g.kind != GridKind.DEDICATED]
        return rng.choices(basic, [g.population for g in basic])[0]

    def _kind(self, rng: random.Random, reported: Millis) -> texts.Kind:
        kind = self._kinds[bisect.bisect(self._kind_cum, rng.random() * self._kind_cum[-1])]
        if kind.code in texts.FLOOD_SEASON:
            month = dt.datetime.fromtimestamp((reported + SHANGHAI_OFFSET) / 1000, dt.UTC).month
            if not 5 <= month <= 9:
                # Out of the flood season most flood reports would not happen: draw again.
                kind = self._kinds[bisect.bisect(self._kind_cum, rng.random() * self._kind_cum[-1])]
        return kind

    def _scenario(
        self, rng: random.Random, source: str, kind: texts.Kind, village: Village
    ) -> Scenario:
        r = rng.random()
        if source == "patrol" and r < 0.11:
            return Scenario(self_handle=True, evaluate=rng.random() < 0.85)
        r = rng.random()
        if r < 0.022:
            return Scenario(drop="reject")
        if r < 0.037 and village.code in self._last_in_village:
            return Scenario(drop="merge")
        escalate = None
        if source == "patrol" and rng.random() < 0.03:
            escalate = "grid"
        elif rng.random() < 0.015:
            escalate = "county"
        extension = park = None
        p = rng.random()
        if p < 0.012:
            park = rng.choices(("resume", "stay", "deny"), (55, 25, 20))[0]
        elif p < 0.052:
            extension = "approve" if rng.random() < 0.8 else "deny"
        q = rng.random()
        # Most feedback comes well within the limit; ~3% late and a few very late keep the share
        # of overdue open cases in the 3–8% a command room usually sees.
        if q < 0.03:
            lateness = rng.uniform(1.05, 1.8)
        elif q < 0.033:
            lateness = rng.uniform(2.0, 5.0)
        else:
            lateness = 0.04 + 0.8 * rng.betavariate(1.3, 3.0)
        c = rng.random()
        return Scenario(
            escalate=escalate,
            joint=rng.random() < 0.12,
            ret=rng.random() < 0.03,
            extension=extension,
            park=park,
            verify_fail=rng.random() < 0.03,
            lateness=lateness,
            urge=(lateness > 1 and rng.random() < 0.6) or rng.random() < 0.01,
            comments=2 if c < 0.03 else 1 if c < 0.18 else 0,
            edit=rng.random() < 0.01,
            evaluate=rng.random() < 0.85,
            late_accept=rng.random() < 0.05,
        )

    # -- planning -----------------------------------------------------------------------------

    def _plan(
        self,
        plan: _Timeline,
        rng: random.Random,
        reported: Millis,
        village: Village,
        grid: Grid,
        kind: texts.Kind,
        source: str,
        urgent: bool,
        sc: Scenario,
    ) -> tuple[str, str, str]:
        """Build the case's whole planned timeline into ``plan``; return its case-number key."""
        w = self.world
        township = village.township.code
        operator = rng.choice(w.operators[township])
        supervisor = w.supervisors[township]
        worker = w.grid_workers[grid.code]
        place = grid.dedicated_to if grid.kind == GridKind.DEDICATED else None
        slots = texts.Slots(
            rng,
            village=village.short,
            township=village.township.name,
            county=self._county[village.code],
            urban=village.urban,
            place=place,
        )
        text = texts.case_text(rng, kind, slots, urban=village.urban, source=source)
        major = kind.code[:2]
        urgency = Urgency.URGENT if urgent else Urgency.NORMAL

        # Who files it: the grid worker on patrol, a department, or the command room.
        lead_unit = self._unit(rng, kind.lead, grid)
        if source == "patrol" or sc.self_handle:
            reporter = worker
        elif source == "department":
            dept = lead_unit[1] if lead_unit[0] == AssigneeKind.DEPARTMENT else "police"
            reporter = w.department_accounts[dept]
        else:
            reporter = operator
        payload: dict[str, Any] = {
            "title": text.title,
            "description": text.description,
            "category": kind.code,
            "grid_id": grid.code,
            "village_code": village.code,
            "township_code": township,
            "address": text.address,
            "source": source,
        }
        location = self.points.point(grid.code) if self.points is not None else None
        if location is not None:
            payload["location"] = location
        if urgent:
            payload["urgency"] = urgency.value
        if source in ("resident_app", "hotline", "walk_in"):
            payload["reporter_name"] = names.person(rng)
            payload["reporter_phone"] = names.phone(rng)
        elif reporter.role != Role.OPERATOR:
            payload["reporter_name"] = reporter.name
        key, payload["case_no"] = self._case_no_for(township, reported, self.devices[reporter.id])

        if sc.self_handle:
            payload["result"] = texts.result_text(rng, major, slots, "网格员")
            t = plan.add(reported, Action.SELF_HANDLE, worker, payload)
            t = plan.add(
                t + self._delay(rng, 0.5, 8),
                Action.VERIFY_PASS,
                operator,
                {"note": rng.choice(texts.VERIFY_NOTES), "method": "call"},
            )
            self._finish(plan, rng, t, sc, operator, supervisor, late=False)
            return key

        t = plan.add(reported, Action.REPORT, reporter, payload)
        level = 1 if reporter.role == Role.GRID_WORKER else 3
        if sc.escalate == "grid" and reporter.role == Role.GRID_WORKER:
            t = plan.add(
                t + rng.randint(5, 60) * MINUTE,
                Action.ESCALATE,
                worker,
                {"reason": texts.ESCALATE_REASONS[0]},
            )
            level = 2

        # Acceptance (受理): minutes, sometimes after an hour or two, rarely the next morning.
        if urgent:
            delay = rng.randint(2, 40) * MINUTE
        elif sc.late_accept:
            delay = rng.randint(150, 840) * MINUTE
        else:
            delay = (
                rng.randint(5, 60) * MINUTE
                if rng.random() < 0.75
                else rng.randint(60, 115) * MINUTE
            )
        if sc.drop == "reject":
            reason = rng.choice(texts.REJECT_REASONS)
            plan.add(t + delay, Action.REJECT, operator, {"reason": reason})
            return key
        if sc.drop == "merge":
            into = self._last_in_village[village.code]
            plan.add(t + delay, Action.MERGE, operator, {"into": into})
            return key
        t = plan.add(t + delay, Action.ACCEPT, operator, {})
        start = t
        due = self._handle_due(kind.code, urgency, t)

        # Dispatch (派遣), single or joint (联合处置).
        tasks = [lead_unit]
        if sc.joint:
            for unit in rng.sample(kind.assist, k=min(len(kind.assist), rng.randint(1, 2))):
                candidate = self._resolve(unit, grid)
                if candidate not in tasks:
                    tasks.append(candidate)
            if len(tasks) == 1:
                # The only assisting unit was the lead itself: the police assist (or civil
                # affairs, when the police lead).
                helper = "civil" if lead_unit == (AssigneeKind.DEPARTMENT, "police") else "police"
                tasks.append((AssigneeKind.DEPARTMENT, helper))
        quick = 30 if urgent else 90
        t = plan.add(
            t + rng.randint(3, quick) * MINUTE, Action.DISPATCH, operator, _dispatch(tasks)
        )

        if sc.ret:
            lead = tasks[0]
            t = plan.add(
                t + self._delay(rng, 1, 20),
                Action.RETURN,
                self._actor(lead),
                {"task": lead[1], "reason": rng.choice(texts.RETURN_REASONS)},
            )
            others = [u for u, _ in kind.lead if self._resolve(u, grid) != lead]
            new_lead = (
                self._resolve(rng.choice(others), grid)
                if others
                else (
                    (AssigneeKind.GRID, grid.code)
                    if lead[0] != AssigneeKind.GRID
                    else (AssigneeKind.DEPARTMENT, "civil")
                )
            )
            tasks = [new_lead]
            t = plan.add(t + self._delay(rng, 0.5, 4), Action.DISPATCH, operator, _dispatch(tasks))

        if sc.escalate == "county" and level < 4:
            t = plan.add(
                t + self._delay(rng, 2, 40),
                Action.ESCALATE,
                operator,
                {"reason": texts.ESCALATE_REASONS[2], "to": 4},
            )
            depts = [u for u, _ in kind.lead if u != "grid"] or ["emergency"]
            tasks = [self._resolve(rng.choice(depts), grid)]
            admin = w.county_admin
            assert admin is not None
            t = plan.add(t + self._delay(rng, 2, 24), Action.DISPATCH, admin, _dispatch(tasks))
        elif sc.escalate == "handdown" and level < 4:
            t = plan.add(
                t + self._delay(rng, 2, 40),
                Action.ESCALATE,
                operator,
                {"reason": texts.ESCALATE_REASONS[2], "to": 4},
            )
            admin = w.county_admin
            assert admin is not None
            t = plan.add(t + self._delay(rng, 1, 8), Action.ACCEPT, admin, {})
            t = plan.add(
                t + self._delay(rng, 1, 8),
                Action.HAND_DOWN,
                admin,
                {"instructions": rng.choice(texts.HAND_DOWN_INSTRUCTIONS)},
            )
            t = plan.add(t + self._delay(rng, 1, 6), Action.DISPATCH, operator, _dispatch(tasks))

        if sc.park is not None:
            review = t + rng.randint(30, 120) * DAY
            t = plan.add(
                t + self._delay(rng, 20, 100),
                Action.REQUEST_PARK,
                operator,
                {"reason": rng.choice(texts.PARK_REASONS), "review_on": review},
            )
            decision = Action.DENY_PARK if sc.park == "deny" else Action.APPROVE_PARK
            t = plan.add(t + self._delay(rng, 2, 30), decision, supervisor, {})
            if sc.park == "stay":
                return key
            if sc.park == "resume":
                hours = self.rules.taxonomy[kind.code].deadline(urgency).handle_days is None
                left = clock_left(due, t, hours=hours, calendar=self.rules.calendar)
                t = plan.add(review + self._delay(rng, 0, 72), Action.RESUME, operator, {})
                # Parking stopped the clock; it restarts with what was left, and the lead unit
                # asks for more time on top of it.
                due = restarted_due(left, t, self.rules.calendar)
                until = max(due, t) + rng.randint(7, 15) * DAY
                lead = tasks[0]
                t = plan.add(
                    t + self._delay(rng, 1, 24),
                    Action.REQUEST_EXTENSION,
                    self._actor(lead),
                    {
                        "task": lead[1],
                        "until": until,
                        "reason": rng.choice(texts.EXTENSION_REASONS),
                    },
                )
                t = plan.add(t + self._delay(rng, 2, 24), Action.APPROVE_EXTENSION, supervisor, {})
                start, due = t, until

        if sc.extension is not None:
            lead = tasks[0]
            at = max(t + HOUR, start + round((due - start) * rng.uniform(0.3, 0.7)))
            until = due + rng.randint(3, 10) * DAY
            t = plan.add(
                at,
                Action.REQUEST_EXTENSION,
                self._actor(lead),
                {"task": lead[1], "until": until, "reason": rng.choice(texts.EXTENSION_REASONS)},
            )
            if sc.extension == "approve":
                t = plan.add(t + self._delay(rng, 2, 24), Action.APPROVE_EXTENSION, supervisor, {})
                start, due = t, until
            else:
                t = plan.add(t + self._delay(rng, 2, 24), Action.DENY_EXTENSION, supervisor, {})

        # Feedback (反馈): assisting units first, the lead last, at the planned share of the time.
        feedback_at = max(t + 30 * MINUTE, start + round((due - start) * sc.lateness))
        if sc.urge:
            urge_at = max(t + MINUTE, due + self._delay(rng, 2, 24))
            if urge_at < feedback_at - 10 * MINUTE:
                t = plan.add(
                    urge_at,
                    Action.URGE,
                    rng.choice((supervisor, operator)),
                    {"note": rng.choice(texts.URGE_NOTES)},
                )
        t = self._feedback(plan, rng, tasks, t, feedback_at, major, slots)
        late = t > due
        if sc.verify_fail:
            t = plan.add(
                t + self._delay(rng, 1, 20),
                Action.VERIFY_FAIL,
                operator,
                {"reason": rng.choice(texts.VERIFY_FAIL_REASONS), "method": "site"},
            )
            t = self._feedback(plan, rng, tasks, t, t + self._delay(rng, 24, 72), major, slots)
            late = t > due
        t = plan.add(
            self._verify_at(rng, t, due, urgent),
            Action.VERIFY_PASS,
            operator,
            {"note": rng.choice(texts.VERIFY_NOTES), "method": rng.choice(("call", "site"))},
        )
        self._finish(plan, rng, t, sc, operator, supervisor, late=late)
        return key

    def _verify_at(self, rng: random.Random, fed_back: Millis, due: Millis, urgent: bool) -> Millis:
        """Verification (核查) by phone or on site: within the hour for urgent matters, within
        hours otherwise — and, as command rooms do, mostly before the deadline runs out."""
        at = fed_back + (rng.randint(5, 45) * MINUTE if urgent else self._delay(rng, 0.3, 6))
        if fed_back < due < at and rng.random() < 0.85:
            at = fed_back + max(MINUTE, round((due - fed_back) * rng.uniform(0.1, 0.9)))
        return at

    def _feedback(
        self,
        plan: _Timeline,
        rng: random.Random,
        tasks: list[tuple[AssigneeKind, str]],
        t: Millis,
        lead_at: Millis,
        major: str,
        slots: texts.Slots,
    ) -> Millis:
        for unit in tasks[1:]:
            at = t + round((lead_at - t) * rng.uniform(0.3, 0.9))
            t = plan.add(
                at,
                Action.FEEDBACK,
                self._actor(unit),
                {
                    "task": unit[1],
                    "result": texts.result_text(rng, major, slots, self._unit_name(unit)),
                },
            )
        lead = tasks[0]
        return plan.add(
            lead_at,
            Action.FEEDBACK,
            self._actor(lead),
            {
                "task": lead[1],
                "result": texts.result_text(rng, major, slots, self._unit_name(lead)),
            },
        )

    def _finish(
        self,
        plan: _Timeline,
        rng: random.Random,
        t: Millis,
        sc: Scenario,
        operator: Actor,
        supervisor: Actor,
        *,
        late: bool,
    ) -> None:
        t = plan.add(t + self._delay(rng, 2, 120), Action.ARCHIVE, operator, {})
        if not sc.evaluate:
            return
        if late:
            quality = rng.choices((4, 3, 2), (40, 40, 20))[0]
            satisfaction = rng.choices(("satisfied", "basic", "dissatisfied"), (60, 28, 12))[0]
        else:
            quality = rng.choices((5, 4, 3), (60, 32, 8))[0]
            satisfaction = rng.choices(("satisfied", "basic", "dissatisfied"), (88, 10, 2))[0]
        plan.add(
            t + self._delay(rng, 24, 288),
            Action.EVALUATE,
            rng.choice((supervisor, operator)),
            {
                "quality": quality,
                "satisfaction": satisfaction,
                "note": rng.choice(texts.EVALUATION_NOTES),
            },
        )

    def _sprinkle(self, plan: _Timeline, rng: random.Random, sc: Scenario) -> None:
        """Comments (备注) and the odd address correction, between planned steps."""
        entries = plan.entries
        extra: list[Entry] = []
        w = self.world
        first = entries[0]
        township = str(first.payload.get("township_code"))
        for _ in range(sc.comments):
            k = rng.randrange(len(entries))
            low = entries[k].at
            high = entries[k + 1].at if k + 1 < len(entries) else low + DAY
            if high - low < 4000:
                continue
            at = rng.randint(low + 1000, high - 1000)
            actor = rng.choice(w.operators[township])
            extra.append(
                plan.entry(at, Action.COMMENT, actor, {"text": rng.choice(texts.COMMENTS)})
            )
        if sc.edit and len(entries) > 1 and first.action == Action.REPORT:
            low, high = first.at, entries[1].at
            if high - low >= 4000:
                at = rng.randint(low + 1000, high - 1000)
                address = str(first.payload.get("address", "")) + "附近"
                extra.append(
                    plan.entry(
                        at,
                        Action.EDIT,
                        rng.choice(w.operators[township]),
                        {"fields": {"address": {"value": address, "base": first.id}}},
                    )
                )
        if extra:
            plan.entries = sorted([*entries, *extra], key=lambda e: (e.hlc, e.id))

    # -- helpers --------------------------------------------------------------------------------

    def _unit(
        self, rng: random.Random, options: tuple[tuple[str, int], ...], grid: Grid
    ) -> tuple[AssigneeKind, str]:
        unit = rng.choices([u for u, _ in options], [w for _, w in options])[0]
        return self._resolve(unit, grid)

    @staticmethod
    def _resolve(unit: str, grid: Grid) -> tuple[AssigneeKind, str]:
        if unit == "grid":
            return (AssigneeKind.GRID, grid.code)
        return (AssigneeKind.DEPARTMENT, unit)

    def _actor(self, unit: tuple[AssigneeKind, str]) -> Actor:
        if unit[0] == AssigneeKind.GRID:
            return self.world.grid_workers[unit[1]]
        return self.world.department_accounts[unit[1]]

    def _unit_name(self, unit: tuple[AssigneeKind, str]) -> str:
        if unit[0] == AssigneeKind.GRID:
            return "网格员"
        return next(d.name for d in self.world.departments if d.code == unit[1])

    @staticmethod
    def _delay(rng: random.Random, low_hours: float, high_hours: float) -> Millis:
        return round(rng.uniform(low_hours, high_hours) * HOUR)

    def _handle_due(self, category: str, urgency: Urgency, accepted: Millis) -> Millis:
        """The handling deadline set at acceptance, exactly as the workflow computes it."""
        deadline = self.rules.taxonomy[category].deadline(urgency)
        if deadline.handle_days is not None:
            return self.rules.calendar.working_days_due(accepted, deadline.handle_days)
        return accepted + (deadline.handle_hours or 0) * HOUR

    def _case_no_for(
        self, township: str, at: Millis, device: str
    ) -> tuple[tuple[str, str, str], str]:
        """事件编号 as the reporting device numbered it (township-date-device-seq), and the key
        of its daily counter, which :meth:`_commit` advances once the case is final."""
        day = dt.datetime.fromtimestamp((at + SHANGHAI_OFFSET) / 1000, dt.UTC).strftime("%y%m%d")
        key = (township, day, device)
        seq = self._case_no.get(key, 0) + 1
        return key, f"{township}-{day}-{device}-{seq:04d}"


def _dispatch(tasks: list[tuple[AssigneeKind, str]]) -> dict[str, Any]:
    return {
        "tasks": [
            {"kind": kind.value, "assignee": code, "lead": i == 0}
            for i, (kind, code) in enumerate(tasks)
        ]
    }
