"""考核 ranking: a score per grid, village, department or worker, that explains itself.

A score is a weighted mean of components, each a share between 0 and 1, times 100:

- ``timeliness`` 时效: 按期办结率 (for a department: its feedback on time, 按期反馈率);
- ``verification`` 核查: 1 − 核查不通过率;
- ``satisfaction`` 满意度: 满意率;
- ``volume`` 工作量: the unit's cases ÷ the busiest unit's cases in the same ranking.

A component a unit has no data for (no case rated, none verified) is left out and the others'
weights share its place; the explanation says so. Weights: :data:`DEFAULT_WEIGHTS`, overridden
by the store's ``assessment_weights`` meta value (JSON, as the county delivers it) or by the
caller (``gridroom report --weights``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..store import Store
from .core import Figures, Statistics, UnitFigures, is_county
from .periods import Period
from .weights import DEFAULT_WEIGHTS as DEFAULT_WEIGHTS
from .weights import META_KEY, BadWeights, parse_weights

COMPONENT_NAMES = {
    "timeliness": ("时效", "Timeliness"),
    "verification": ("核查通过", "Verification"),
    "satisfaction": ("满意度", "Satisfaction"),
    "volume": ("工作量", "Volume"),
}
RANKINGS = ("grid", "village", "department", "worker")


def rankings_for(store: Store) -> tuple[str, ...]:
    """The rankings worth showing: a county linkage centre ranks its townships first."""
    return ("township", *RANKINGS) if is_county(store) else RANKINGS


def store_weights(store: Store) -> dict[str, float]:
    """The scheme in force on this store: the county's if delivered, else the defaults.

    Raises :class:`BadWeights` naming the setting when the delivered value is unusable.
    """
    # Read from the file, not the store's meta cache: a sync on another connection (the
    # background syncer's) may have brought a new scheme since this store was opened.
    rows = store.read("SELECT value FROM meta WHERE key = ?", [META_KEY])
    try:
        return parse_weights(rows[0][0] if rows else None)
    except BadWeights as exc:
        raise exc.from_county() from exc


@dataclass(frozen=True)
class Component:
    name: str
    value: float | None  # the share, 0..1; None: no data
    weight: float
    basis: str  # where the value comes from, e.g. "按期 46 / 办结 48"

    @property
    def points(self) -> float | None:
        """This component's contribution to the score (filled in by :class:`Score`)."""
        return None if self.value is None else self.value * self.weight


@dataclass(frozen=True)
class Score:
    key: str
    name: str
    volume: int
    score: float | None
    components: tuple[Component, ...]
    rank: int = 0

    def explain(self) -> str:
        """The score in words, component by component (Chinese, as printed)."""
        used = sum(c.weight for c in self.components if c.value is not None)
        parts = []
        for c in self.components:
            zh = COMPONENT_NAMES[c.name][0]
            if c.value is None:
                parts.append(f"{zh}：无数据，不计（权重{c.weight:g}）")
            else:
                points = 100 * c.value * c.weight / used if used else 0.0
                parts.append(f"{zh} {c.value:.1%}（{c.basis}）× 权重{c.weight:g} → {points:.1f}分")
        total = "—" if self.score is None else f"{self.score:.1f}"
        return "；".join(parts) + f"；合计 {total} 分"


def _score(key: str, name: str, volume: int, comps: list[Component]) -> Score:
    used = sum(c.weight for c in comps if c.value is not None)
    total = None
    if used > 0:
        total = 100 * sum(c.value * c.weight for c in comps if c.value is not None) / used
    return Score(key, name, volume, total, tuple(comps))


def _ratio(n: int, d: int) -> float | None:
    return n / d if d else None


def score_figures(rows: list[Figures], weights: dict[str, float]) -> list[Score]:
    """Scores of breakdown rows (grids, villages, workers), best first."""
    busiest = max((r.valid for r in rows), default=0)
    out = []
    for r in rows:
        if r.valid <= 0:
            continue
        comps = [
            Component(
                "timeliness",
                r.on_time_rate,
                weights["timeliness"],
                f"按期 {r.on_time} / 办结 {r.closed}",
            ),
            Component(
                "verification",
                None if r.verify_fail_rate is None else 1 - r.verify_fail_rate,
                weights["verification"],
                f"不通过 {r.verify_failures} / 核查 {r.verifications}",
            ),
            Component(
                "satisfaction",
                r.satisfaction_rate,
                weights["satisfaction"],
                f"满意 {r.satisfied} / 评价 {r.rated}",
            ),
            Component(
                "volume",
                _ratio(r.valid, busiest),
                weights["volume"],
                f"有效件 {r.valid} / 最多 {busiest}",
            ),
        ]
        out.append(_score(r.key, r.name, r.valid, comps))
    return _ranked(out)


def score_units(rows: list[UnitFigures], weights: dict[str, float]) -> list[Score]:
    """Scores of handling units, each on its own part of its dispatches, best first."""
    busiest = max((r.assigned for r in rows), default=0)
    out = []
    for r in rows:
        if r.assigned <= 0:
            continue
        comps = [
            Component(
                "timeliness",
                r.feedback_on_time_rate,
                weights["timeliness"],
                f"按期反馈 {r.fed_back_on_time} / 反馈 {r.fed_back}",
            ),
            Component(
                "verification",
                None if r.verify_fail_rate is None else 1 - r.verify_fail_rate,
                weights["verification"],
                f"主办不通过 {r.lead_verify_failures} / 核查 {r.lead_verifications}",
            ),
            Component(
                "satisfaction",
                r.satisfaction_rate,
                weights["satisfaction"],
                f"主办满意 {r.lead_satisfied} / 评价 {r.lead_rated}",
            ),
            Component(
                "volume",
                _ratio(r.assigned, busiest),
                weights["volume"],
                f"承办 {r.assigned} / 最多 {busiest}",
            ),
        ]
        out.append(_score(r.key, r.name, r.assigned, comps))
    return _ranked(out)


def _ranked(scores: list[Score]) -> list[Score]:
    ordered = sorted(scores, key=lambda s: (s.score is None, -(s.score or 0.0), -s.volume, s.key))
    out, rank, last = [], 0, None
    for i, s in enumerate(ordered, start=1):
        value = None if s.score is None else round(s.score, 6)
        if value != last:
            rank, last = i, value
        out.append(Score(s.key, s.name, s.volume, s.score, s.components, rank))
    return out


def ranking(
    stats: Statistics,
    period: Period,
    by: str,
    weights: dict[str, float] | None = None,
    *,
    breakdown: list[Any] | None = None,
) -> list[Score]:
    """The 考核 ranking of ``by`` (grid, village, department, worker; township at county scope)
    for ``period``.

    Workers are the grid workers who reported cases (other accounts are not ranked).
    """
    if by not in (*RANKINGS, "township"):
        raise ValueError(f"cannot rank by {by!r}")
    weights = weights or store_weights(stats.store)
    rows: list[Any] = list(breakdown if breakdown is not None else stats.breakdown(period, by))
    if by == "department":
        return score_units(rows, weights)
    if by == "worker":
        workers = {a.id for a in stats.store.accounts() if a.role.value == "grid_worker"}
        rows = [r for r in rows if r.key in workers]
    return score_figures(rows, weights)
