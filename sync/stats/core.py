"""Statistics of a store for a period: the rates, breakdowns and side-by-side comparisons.

Everything is computed with set-based SQL over the ``cases`` projection and the step counts kept
with it (``cases`` columns and ``case_units``, see :mod:`sync.store.steps`) — never case by case
in Python and never reading the timeline — as defined in :mod:`sync.stats.definitions`. The only
Python-side table is the working-day calendar: a cumulative count of working days per Shanghai
day, handed to SQLite as one JSON array so that handling time in working days is a join.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from ..model.calendar import DEFAULT_CALENDAR, WorkCalendar
from ..model.clock import Millis
from ..model.divisions import short_name
from ..model.records import DONE_STATUSES, DROPPED_STATUSES, OPEN_STATUSES, Status
from ..store import Store
from .definitions import LEVEL_NAMES, SOURCE_NAMES
from .periods import Period

DAY_MS = 86_400_000
#: Asia/Shanghai is UTC+8 with no daylight saving since 1991: local day = (ms + 8 h) // 1 day.
SHANGHAI_MS = 8 * 3_600_000
#: The major category of disputes (矛盾纠纷), the base of 化解率.
DISPUTES = "01"
#: The highest level at which a closed dispute counts as resolved (township: "难事不出镇").
RESOLVED_AT_OR_BELOW = 3


def _in(values: Any) -> str:
    return "(" + ",".join(f"'{getattr(v, 'value', v)}'" for v in values) + ")"


_DONE = _in(DONE_STATUSES)
_DROPPED = _in(DROPPED_STATUSES)
_OPEN = _in(OPEN_STATUSES)


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class Figures:
    """The counts behind every figure of one group (the whole area, or one breakdown row)."""

    key: str = ""
    name: str = ""
    total: int = 0
    dropped: int = 0
    parked: int = 0
    closed: int = 0
    on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    self_handled: int = 0
    disputes: int = 0
    resolved: int = 0
    days_sum: int = 0
    days_n: int = 0
    overdue: int = 0
    urged: int = 0
    urges: int = 0
    dispatched: int = 0
    returned: int = 0
    verifications: int = 0
    verify_failures: int = 0
    extended: int = 0

    @property
    def valid(self) -> int:
        return self.total - self.dropped

    @property
    def closure_rate(self) -> float | None:
        return _rate(self.closed, self.valid - self.parked)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.closed)

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.satisfied, self.rated)

    @property
    def self_rate(self) -> float | None:
        return _rate(self.self_handled, self.valid)

    @property
    def resolution_rate(self) -> float | None:
        return _rate(self.resolved, self.disputes)

    @property
    def avg_days(self) -> float | None:
        return self.days_sum / self.days_n if self.days_n else None

    @property
    def return_rate(self) -> float | None:
        return _rate(self.returned, self.dispatched)

    @property
    def verify_fail_rate(self) -> float | None:
        return _rate(self.verify_failures, self.verifications)

    def value(self, key: str) -> Any:
        """A figure by its key in :data:`~sync.stats.definitions.DEFINITIONS`."""
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for prop in [
            "valid",
            "closure_rate",
            "on_time_rate",
            "satisfaction_rate",
            "self_rate",
            "resolution_rate",
            "avg_days",
            "return_rate",
            "verify_fail_rate",
        ]:
            out[prop] = getattr(self, prop)
        return out


@dataclass
class UnitFigures:
    """A handling unit's own part of its dispatches (部门分组: joint dispatch counts per unit)."""

    key: str = ""
    name: str = ""
    kind: str = ""  # department | grid
    assigned: int = 0  # cases dispatched to the unit (lead or assisting)
    led: int = 0  # ... as lead unit (主办)
    fed_back: int = 0  # cases the unit fed back
    fed_back_on_time: int = 0  # ... by the case's handling deadline
    returned: int = 0  # cases the unit returned (退单)
    lead_valid: int = 0  # as current lead: valid cases
    lead_closed: int = 0  # ... closed
    lead_rated: int = 0
    lead_satisfied: int = 0
    lead_verifications: int = 0
    lead_verify_failures: int = 0

    @property
    def assisted(self) -> int:
        return self.assigned - self.led

    @property
    def feedback_on_time_rate(self) -> float | None:
        return _rate(self.fed_back_on_time, self.fed_back)

    @property
    def return_rate(self) -> float | None:
        return _rate(self.returned, self.assigned)

    @property
    def closure_rate(self) -> float | None:
        return _rate(self.lead_closed, self.lead_valid)

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.lead_satisfied, self.lead_rated)

    @property
    def verify_fail_rate(self) -> float | None:
        return _rate(self.lead_verify_failures, self.lead_verifications)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for prop in [
            "assisted",
            "feedback_on_time_rate",
            "return_rate",
            "closure_rate",
            "satisfaction_rate",
            "verify_fail_rate",
        ]:
            out[prop] = getattr(self, prop)
        return out


#: Breakdown key → SQL expression over ``cases``.
_KEYS = {
    "all": "''",
    "category": "major",
    "minor": "category",
    "village": "village_code",
    "grid": "grid_code",
    "worker": "reporter_id",
    "source": "source",
    "level": "level",
    "township": "substr(village_code, 1, 9)",
}
BREAKDOWNS = ("category", "village", "grid", "department", "worker", "source", "level")


def is_county(store: Store) -> bool:
    """A county linkage centre's store (scope: a 6-digit county code) spans townships."""
    return len(store.scope) == 6


def breakdowns_for(store: Store) -> tuple[str, ...]:
    """The breakdowns worth showing: by township first at county scope."""
    return ("township", *BREAKDOWNS) if is_county(store) else BREAKDOWNS


def _day_number(column: str) -> str:
    """The index into the :workdays array of the Shanghai day of ``column``."""
    return f"({column} + {SHANGHAI_MS}) / {DAY_MS} - :base"


#: Each case's contribution to each figure (0/1 flags, or a number), in :class:`Figures` field
#: order after ``total`` — computed once per case, then summed by every breakdown.
_FLAGS = f"""
        status IN {_DROPPED} AS dropped,
        status = '{Status.PARKED.value}' AS parked,
        status IN {_DONE} AS closed,
        status IN {_DONE} AND on_time = 1 AS on_time,
        satisfaction IS NOT NULL AS rated,
        satisfaction IN ('satisfied', 'basic') AS satisfied,
        self_handled = 1 AND status NOT IN {_DROPPED} AS self_handled,
        major = '{DISPUTES}' AND status NOT IN {_DROPPED} AS disputes,
        major = '{DISPUTES}' AND status IN {_DONE} AND level <= {RESOLVED_AT_OR_BELOW}
            AS resolved,
        CASE WHEN status IN {_DONE} THEN b.cum - a.cum END AS days,
        status IN {_DONE} AND b.cum IS NOT NULL AND a.cum IS NOT NULL AS days_n,
        (status IN {_DONE} AND on_time = 0) OR (status IN {_OPEN} AND due_at < :now) AS overdue,
        urges > 0 AS urged,
        urges,
        dispatches > 0 AS dispatched,
        returns > 0 AS returned,
        verifications AS verifs,
        verify_failures AS vfail,
        extensions > 0 AS extended"""
_SUMMED = [
    "dropped",
    "parked",
    "closed",
    "on_time",
    "rated",
    "satisfied",
    "self_handled",
    "disputes",
    "resolved",
    "days",
    "days_n",
    "overdue",
    "urged",
    "urges",
    "dispatched",
    "returned",
    "verifs",
    "vfail",
    "extended",
]
_MEASURES = "count(*), " + ", ".join(f"coalesce(sum({c}), 0)" for c in _SUMMED)


def _figures_sql(dimensions: Sequence[str]) -> str:
    """One statement for several breakdowns: the period's cases are read once (``per``: one
    narrow row of flags per case), then summed by each dimension. The step counts are kept on
    ``cases`` with the projection (:mod:`sync.store.steps`): the timeline is never read."""
    keys = ", ".join(f"{_KEYS[d]} AS k_{d}" for d in dimensions)
    key_columns = ", ".join(f"c.k_{d}" for d in dimensions)
    groups = "\n    UNION ALL\n".join(
        f"    SELECT '{d}', k_{d}, {_MEASURES}\n    FROM per GROUP BY k_{d}" for d in dimensions
    )
    return f"""WITH
    c AS MATERIALIZED (
        SELECT {keys}, status, level, major, on_time, self_handled, urges,
               satisfaction, accepted_at, closed_at, due_at,
               dispatches, returns, verifications, verify_failures, extensions
        FROM cases WHERE reported_at >= :start AND reported_at < :end
    ),
    wd AS MATERIALIZED (SELECT key AS i, value AS cum FROM json_each(:workdays)),
    per AS MATERIALIZED (
        SELECT {key_columns}, {_FLAGS}
        FROM c
        LEFT JOIN wd a ON a.i = {_day_number("c.accepted_at")}
        LEFT JOIN wd b ON b.i = {_day_number("c.closed_at")}
    )
{groups}"""


#: Each unit's own part of the period's cases, from ``case_units`` (every unit a dispatch ever
#: named, kept with the projection by :mod:`sync.store.steps`).
_UNITS_SQL = f"""
    SELECT u.unit, u.kind,
        count(*),
        sum(u.lead),
        sum(u.feedbacks > 0),
        sum(u.feedbacks > 0 AND (c.handle_due IS NULL OR u.fed_back_at <= c.handle_due)
            AND (c.overdue_at IS NULL OR u.fed_back_at <= c.overdue_at)),
        sum(u.returns > 0),
        sum(c.lead = u.unit AND c.status NOT IN {_DROPPED}),
        sum(c.lead = u.unit AND c.status IN {_DONE}),
        sum(c.lead = u.unit AND c.satisfaction IS NOT NULL),
        sum(c.lead = u.unit AND c.satisfaction IN ('satisfied', 'basic')),
        coalesce(sum(CASE WHEN c.lead = u.unit THEN c.verifications END), 0),
        coalesce(sum(CASE WHEN c.lead = u.unit THEN c.verify_failures END), 0)
    FROM cases c JOIN case_units u ON u.case_rowid = c.rowid
    WHERE c.reported_at >= :start AND c.reported_at < :end
    GROUP BY u.unit, u.kind"""


class Statistics:
    """Statistics of one store. ``now``: the instant figures are "as of" (default: the store's
    clock); ``calendar``: working days (default: the official calendar)."""

    def __init__(
        self,
        store: Store,
        *,
        now: Millis | None = None,
        calendar: WorkCalendar = DEFAULT_CALENDAR,
    ) -> None:
        self.store = store
        self.now = store.now() if now is None else now
        self.calendar = calendar
        self._names: dict[str, dict[str, str]] | None = None
        #: The whole area's figures by (start, end) of a period already read.
        self._whole: dict[tuple[int, int], Figures] = {}

    # -- the figures ----------------------------------------------------------------------------

    def figures(self, period: Period) -> Figures:
        """The whole area's figures for ``period``."""
        cached = self._whole.get((period.start, period.end))
        if cached is not None:
            return dataclasses.replace(cached)
        rows = self._grouped(period, "all")
        out = rows[0] if rows else Figures()
        out.key, out.name = "", ""
        self._whole[(period.start, period.end)] = dataclasses.replace(out)
        return out

    def compare(self, period: Period) -> dict[str, Figures]:
        """This period, the previous one (环比) and the same period last year (同比)."""
        return {
            "current": self.figures(period),
            "previous": self.figures(period.previous()),
            "year_ago": self.figures(period.year_ago()),
        }

    def breakdown(self, period: Period, by: str) -> list[Figures] | list[UnitFigures]:
        """One row per group, biggest first. ``by``: one of :data:`BREAKDOWNS` (or ``minor``,
        ``township``). ``department`` gives :class:`UnitFigures` of department units."""
        return self.breakdowns(period, [by])[by]

    def breakdowns(self, period: Period, dimensions: Sequence[str]) -> dict[str, list[Any]]:
        """Several breakdowns at once: the period's timeline is read once for all of them."""
        for by in dimensions:
            if (by not in _KEYS or by == "all") and by != "department":
                raise ValueError(f"cannot break statistics down by {by!r}")
        plain = [d for d in dimensions if d != "department"]
        out: dict[str, list[Any]] = {}
        # The whole area's figures come with the same pass (one more GROUP BY of the same
        # rows), for figures()/compare() of this period to reuse instead of a second pass.
        grouped = self._grouped_many(period, [*plain, "all"]) if plain else {}
        whole = grouped.pop("all", [])
        if plain:
            out_whole = whole[0] if whole else Figures()
            out_whole.key, out_whole.name = "", ""
            self._whole[(period.start, period.end)] = out_whole
        for by, rows in grouped.items():
            names = self.names(by)
            for r in rows:
                r.name = names.get(r.key, r.key or "（未填）")
            rows.sort(key=lambda r: (-r.total, r.key))
        for by in dimensions:
            if by == "department":
                out[by] = [u for u in self.units(period) if u.kind == "department"]
            else:
                out[by] = grouped[by]
        return out

    def units(self, period: Period) -> list[UnitFigures]:
        """Every unit a case of the period was dispatched to, with its own part."""
        args = {"start": period.start, "end": period.end}
        rows = self.store.read(_UNITS_SQL, args)  # type: ignore[arg-type]
        names = {**self.names("department"), **self.names("grid")}
        out = []
        for r in rows:
            u = UnitFigures(str(r[0] or ""), "", str(r[1] or ""), *(int(v or 0) for v in r[2:]))
            u.name = names.get(u.key, u.key)
            out.append(u)
        out.sort(key=lambda u: (-u.assigned, u.key))
        return out

    # -- names ----------------------------------------------------------------------------------

    def names(self, by: str) -> dict[str, str]:
        """Display names of the groups of a breakdown."""
        if self._names is None:
            s = self.store
            tax = s.taxonomy
            self._names = {
                "category": {c.code: c.name for c in tax.majors()},
                "minor": {c.code: tax.path(c.code) for c in tax},
                "village": {d.code: short_name(d.name) for d in s.divisions("village")},
                "township": {d.code: d.name for d in s.divisions("township")},
                "grid": {g.code: g.name for g in s.grids()},
                "department": {d.code: d.name for d in s.departments()},
                "worker": {a.id: a.name for a in s.accounts()},
                "source": dict(SOURCE_NAMES),
                "level": {str(k): v for k, v in LEVEL_NAMES.items()},
            }
        return self._names.get(by, {})

    # -- SQL ------------------------------------------------------------------------------------

    def _grouped(self, period: Period, by: str) -> list[Figures]:
        return self._grouped_many(period, [by])[by]

    def _grouped_many(self, period: Period, dimensions: Sequence[str]) -> dict[str, list[Figures]]:
        """Figures grouped by each of ``dimensions`` (keys of ``_KEYS``), in one statement."""
        base, workdays = self._workdays(period)
        args = {
            "start": period.start,
            "end": period.end,
            "now": self.now,
            "base": base,
            "workdays": workdays,
        }
        rows = self.store.read(_figures_sql(dimensions), args)  # type: ignore[arg-type]
        out: dict[str, list[Figures]] = {d: [] for d in dimensions}
        for r in rows:
            key = "" if r[1] is None else str(r[1])
            out[str(r[0])].append(Figures(key, "", *(int(v or 0) for v in r[2:])))
        return out

    def _workdays(self, period: Period) -> tuple[int, str]:
        """(first day number, JSON array of working days counted up to each day included)
        covering every acceptance and closure of the period's cases."""
        lo, hi = self.store.read(
            "SELECT min(accepted_at), max(closed_at) FROM cases "
            "WHERE reported_at >= ? AND reported_at < ?",
            [period.start, period.end],
        )[0]
        first = (int(lo if lo is not None else period.start) + SHANGHAI_MS) // DAY_MS
        last = (int(hi if hi is not None else period.end) + SHANGHAI_MS) // DAY_MS
        first = min(first, (period.start + SHANGHAI_MS) // DAY_MS)
        cum, n = [], 0
        epoch = dt.date(1970, 1, 1)
        for number in range(first, max(first, last) + 1):
            if self.calendar.is_workday(epoch + dt.timedelta(days=number)):
                n += 1
            cum.append(n)
        return first, json.dumps(cum, separators=(",", ":"))


@dataclass
class Snapshot:
    """Everything the page and the report show for a period, read in one go."""

    period: Period
    now: Millis
    compare: dict[str, Figures]
    breakdowns: dict[str, list[Any]] = field(default_factory=dict)


def snapshot(store: Store, period: Period, *, now: Millis | None = None) -> Snapshot:
    stats = Statistics(store, now=now)
    return Snapshot(
        period,
        stats.now,
        stats.compare(period),
        stats.breakdowns(period, breakdowns_for(store)),
    )
