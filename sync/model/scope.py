"""Scope and authority: who may act on which case, and what an entry may name.

One module that the county (on every pushed entry) and the device (in the store's command API)
both call, so a device refuses exactly what the county refuses. The workflow's
:func:`~sync.model.workflow.check` says whether an action is legal at a case's state; this module
says whether the *names* in it are: the case and place are within the acting account's scope, a
dispatch names units that exist and may take the case, a sub-task belongs to the actor's unit, an
edit does not carry the case out of the actor's reach, and an opening entry never lands on a case
that already exists (whatever its stamp: a case's township and level change only through explicit
actions, never through the order of a projection).

Scope is a set of *keys* — ``c:<county>``, ``t:<township>``, ``g:<grid>``. An account has the
keys it may see on a device; a case carries the keys of its place and of the grids it is
dispatched to; they meet or the case is out of reach. Everything here is pure: the reference data
(grids, villages, townships, departments) is passed in as a :class:`Reference` that each side
builds once from its own tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .records import LEDGER_PERIODS, SUBJECT_KINDS, Action, Actor, AssigneeKind, Level, Role
from .workflow import OPENING, TASK_ACTIONS, CaseState, level_authority

__all__ = [
    "OPENING",
    "TASK_ACTIONS",
    "CaseView",
    "Place",
    "Reference",
    "Refusal",
    "ScopeError",
    "actor_keys",
    "case_keys",
    "check_assignees",
    "check_entry",
    "check_signoff",
    "check_visit",
    "one_report",
    "place_keys",
    "view_of",
]
_LEVELS = frozenset(int(v) for v in Level)
_KINDS = frozenset(k.value for k in AssigneeKind)
#: Case fields that name its place.
PLACE_FIELDS = ("grid_id", "village_code", "township_code")


class ScopeError(Exception):
    """An account that may not act on a device (enrolled to another township)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an entry is refused: a push rejection code and a plain sentence."""

    code: str
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True, slots=True)
class Place:
    township: str
    village: str | None
    grid: str | None


@dataclass(frozen=True)
class Reference:
    """The reference data the names in an entry are checked against.

    ``grids`` maps a grid code to its village; ``villages`` a village code to its township.
    ``county_departments`` are the departments that take only county-level cases (县级部门);
    every other department is a unit sunk into the townships (1+N) and may take any case.
    """

    grids: Mapping[str, str]
    villages: Mapping[str, str]
    townships: frozenset[str]
    departments: frozenset[str]
    county_departments: frozenset[str] = field(default_factory=frozenset)
    #: False on a device that has not received the county's grids (or departments) yet: a grid
    #: is then placed by its code (village code + 3 digits) and any department name passes;
    #: the county, which always knows them, decides.
    grids_known: bool = True
    departments_known: bool = True

    def village_of(self, grid: str) -> str | None:
        village = self.grids.get(grid)
        if village is None and not self.grids_known and len(grid) == 15:
            village = grid[:12] if grid[:12] in self.villages else None
        return village

    def grid_township(self, grid: str) -> str | None:
        village = self.village_of(grid)
        return None if village is None else self.villages.get(village)

    def place(self, fields: Mapping[str, Any]) -> Place | Refusal:
        """(township, village, grid) of a case's place fields, or why they do not nest."""
        grid, village, township = (fields.get(k) for k in PLACE_FIELDS)
        for name, value in zip(PLACE_FIELDS, (grid, village, township), strict=True):
            if value is not None and not isinstance(value, str):
                return Refusal("malformed", f"{name} must be text")
        if grid:
            known = self.village_of(grid)
            if known is None:
                return Refusal("unknown_place", f"grid {grid} is not a grid known here")
            if village and village != known:
                return Refusal("unknown_place", f"grid {grid} is not in village {village}")
            village = known
        if village:
            parent = self.villages.get(village)
            if parent is None:
                return Refusal("unknown_place", f"village {village} is not a village known here")
            if township and township != parent:
                return Refusal("unknown_place", f"village {village} is not in township {township}")
            township = parent
        if not township:
            return Refusal("unknown_place", "a case needs a township, village or grid")
        if township not in self.townships:
            return Refusal("unknown_place", f"{township} is not a township known here")
        return Place(township, village or None, grid or None)


def one_report(entries: Iterable[Any], refused: list[str] | None = None) -> list[Any]:
    """The entries of a timeline, in the order they were applied, without any opening entry
    after the first: the first report applied is the case's report, and a later one — however
    early its stamp — never becomes it (so it can never move the case to another place).
    The reason for each one left out is added to ``refused`` when given."""
    kept = []
    opened = False
    for e in entries:
        if e.action in OPENING:
            if opened:
                if refused is not None:
                    refused.append(
                        f"ignored entry {e.id}: a second report of case {e.case_id}, which "
                        "already has one"
                    )
                continue
            opened = True
        kept.append(e)
    return kept


# -- keys ----------------------------------------------------------------------------------------


def actor_keys(actor: Actor, device_scope: str, *, who: str | None = None) -> frozenset[str]:
    """What ``actor`` may see and touch on a device enrolled to ``device_scope`` (a township's
    9-digit code, or a county's 6-digit code). Raises :class:`ScopeError` for an account of
    another township, or a township account on a device that holds the whole county."""
    name = who or actor.name or actor.id
    county = device_scope[:6]
    if len(device_scope) == 6:
        if actor.township is not None:
            raise ScopeError(
                f"this device holds the whole county; {name} works in township {actor.township}"
            )
        return frozenset({f"c:{county}"})
    if actor.township is None:
        return frozenset({f"t:{device_scope}"})
    if actor.township != device_scope:
        raise ScopeError(
            f"this device is enrolled to township {device_scope}; {name} works in "
            f"township {actor.township}"
        )
    if actor.role == Role.GRID_WORKER:
        return frozenset(f"g:{g}" for g in actor.grid_ids)
    return frozenset({f"t:{device_scope}"})


def place_keys(township: str, grids: Iterable[str]) -> set[str]:
    return {f"c:{township[:6]}", f"t:{township}", *(f"g:{g}" for g in grids if g)}


def township_of_keys(keys: Iterable[str]) -> str | None:
    for k in keys:
        if k.startswith("t:"):
            return k[2:]
    return None


def case_keys(fields: Mapping[str, Any], task_grids: Iterable[str], ref: Reference) -> set[str]:
    """The keys of a case from its place fields and the grids it is dispatched to."""
    place = ref.place(fields)
    if isinstance(place, Refusal):
        # A place left inconsistent by merged edits: the township its codes name (the county
        # keeps the case's old keys then, which name the same township).
        codes = [fields.get(k) for k in ("township_code", "village_code", "grid_id")]
        township = next((c[:9] for c in codes if isinstance(c, str) and len(c) >= 9), None)
        if township is None:
            return set()
        return place_keys(township, set(task_grids))
    return place_keys(place.township, {place.grid or "", *task_grids})


# -- the check ---------------------------------------------------------------------------------


class CaseView:
    """What the check needs to know about an existing case: its scope keys and, only when a
    rule needs them, its projected state (level, place fields).

    The county reads the keys from its index and projects only when it must (``state`` is
    called at most once); the device builds it from the projection it has (:func:`view_of`)."""

    def __init__(
        self,
        keys: Iterable[str],
        state: Callable[[], CaseState | None],
        entries: Callable[[], Iterable[str]] = tuple,
        level: int | None = None,
    ) -> None:
        self.keys = frozenset(keys)
        #: The case's level as an index holds it (the county's ``cases.level``), when it is
        #: current: the authority rule then needs no projection.
        self._level = level
        self._load = state
        self._state: CaseState | None = None
        self._load_entries = entries
        self._entry_ids: frozenset[str] | None = None

    @property
    def entry_ids(self) -> frozenset[str]:
        """The ids of the case's timeline entries (read on first use: a settlement asks)."""
        if self._entry_ids is None:
            self._entry_ids = frozenset(self._load_entries())
        return self._entry_ids

    @property
    def township(self) -> str | None:
        return township_of_keys(self.keys)

    @property
    def level(self) -> int | None:
        """The level that owns the case now (from the index, else from the projection)."""
        if self._level is not None and self._state is None:
            return self._level
        state = self.state
        return None if state is None else int(state.level)

    @property
    def state(self) -> CaseState | None:
        """The case's projected state (projected on first use)."""
        if self._state is None:
            self._state = self._load()
        return self._state


def view_of(
    state: CaseState, ref: Reference, entry_ids: Callable[[], Iterable[str]] = tuple
) -> CaseView:
    """A :class:`CaseView` of a projected case (``entry_ids``: its timeline's ids)."""
    grids = {t.assignee for t in state.tasks if t.kind == AssigneeKind.GRID}
    return CaseView(case_keys(state.fields, grids, ref), lambda: state, entry_ids)


def _meets(keys: Iterable[str], device_keys: frozenset[str] | None, mine: frozenset[str]) -> str:
    keys = set(keys)
    if device_keys is not None and not keys & device_keys:
        return "device"
    if not keys & mine:
        return "account"
    return ""


def _out(what: str, whose: str) -> Refusal:
    scope = "this device's" if whose == "device" else "the acting account's"
    return Refusal("out_of_scope", f"{what} is outside {scope} scope")


def check_entry(
    case: CaseView | None,
    action: Action,
    actor: Actor,
    payload: Mapping[str, Any],
    *,
    ref: Reference,
    mine: frozenset[str],
    device_keys: frozenset[str] | None = None,
    visible: Callable[[str], bool] | None = None,
) -> Refusal | None:
    """Why the names in an entry are not allowed, or None when they are.

    ``case`` is None when the county (or store) has no such case. ``mine`` are the acting
    account's keys on this device (:func:`actor_keys`), ``device_keys`` the device's own keys
    (the county passes the session's; a store omits them: its actor keys are the tighter set).
    ``visible(case_id)`` says whether another case named in the payload is within reach.
    """
    if case is None:
        if action not in OPENING:
            return Refusal(
                "unknown_case",
                "there is no such case (was its report refused? see quarantine)",
            )
        place = ref.place(payload)
        if isinstance(place, Refusal):
            return place
        whose = _meets(place_keys(place.township, {place.grid or ""}), device_keys, mine)
        if whose:
            return _out("the case's place", whose)
        for name in ("from_visit", "from_item"):
            link = payload.get(name)
            if link is not None and (not isinstance(link, str) or not 0 < len(link) <= 64):
                return Refusal("malformed", f"a report's {name} names a visit (its id)")
        wanted = payload.get("level")
        if wanted is not None:
            if isinstance(wanted, bool) or wanted not in _LEVELS:
                return Refusal("malformed", "a report's level must be 1 (grid) to 4 (county)")
            if wanted > Level.TOWNSHIP and actor.township is not None:
                return Refusal(
                    "not_allowed",
                    "a township account cannot file a case at county level; escalate it instead",
                )
        return None

    if action in OPENING:
        return Refusal(
            "case_exists",
            "the case was already reported: a second report cannot replace its first one",
        )
    whose = _meets(case.keys, device_keys, mine)
    if whose:
        return _out("the case", whose)
    if actor.township is not None and level_authority(Level.COUNTY, action, actor) is not None:
        # After escalation to the county only county-level accounts take the command's steps,
        # edit, park, urge or settle it; the township's units handle what is handed to them.
        owned = level_authority(case.level, action, actor)
        if owned is not None:
            return Refusal("not_allowed", owned)

    if action in TASK_ACTIONS and actor.role != Role.OPERATOR:
        units = {actor.department_code, *actor.grid_ids} - {None}
        if payload.get("task") not in units:
            return Refusal("not_your_task", "this sub-task is not assigned to your unit")
    elif action == Action.DISPATCH:
        return check_assignees(case, payload.get("tasks"), ref)
    elif action == Action.MERGE:
        into = payload.get("into")
        if isinstance(into, str) and into and visible is not None and not visible(into):
            return Refusal("unknown_case", "the case it duplicates is not a case within your scope")
    elif action == Action.EDIT:
        return _check_move(case, payload.get("fields"), ref, mine, device_keys)
    elif action == Action.SETTLE:
        void = payload.get("void")
        if void is not None:
            if not isinstance(void, list) or not all(isinstance(v, str) for v in void):
                return Refusal("malformed", "a settlement's void names entries by their ids")
            strangers = set(void) - case.entry_ids
            if strangers:
                return Refusal(
                    "unknown_case",
                    "a settlement voids only steps of its own case; not of it: "
                    + ", ".join(sorted(strangers)),
                )
    return None


def check_assignees(
    case: CaseView,
    tasks: Any,
    ref: Reference,
) -> Refusal | None:
    """A dispatch names departments the county has and grids of the case's own township;
    a county department only for a county-level case."""
    if not isinstance(tasks, list):
        return None  # the workflow refuses a dispatch without assignees
    township = case.township
    for t in tasks:
        kind = t.get("kind") if isinstance(t, Mapping) else None
        assignee = t.get("assignee") if isinstance(t, Mapping) else None
        if kind not in _KINDS or not isinstance(assignee, str) or not assignee:
            # Checked here, not left to the projection: it would read a number as a code.
            return Refusal(
                "malformed", "each assignee must be a department or a grid, named by its code"
            )
        if kind == AssigneeKind.DEPARTMENT.value:
            if ref.departments_known and assignee not in ref.departments:
                return Refusal(
                    "unknown_assignee", f"there is no department {assignee!r} in this county"
                )
            if assignee in ref.county_departments:
                state = case.state
                if state is None or state.level < Level.COUNTY:
                    return Refusal(
                        "unknown_assignee",
                        f"{assignee!r} is a county department: it takes only county-level "
                        "cases (escalate the case first)",
                    )
        elif kind == AssigneeKind.GRID.value and (
            township is None or ref.grid_township(assignee) != township
        ):
            return Refusal(
                "unknown_assignee",
                f"{assignee!r} is not a grid of this case's township",
            )
    return None


def _check_move(
    case: CaseView,
    changes: Any,
    ref: Reference,
    mine: frozenset[str],
    device_keys: frozenset[str] | None,
) -> Refusal | None:
    """An edit of the place must name a real place and keep the case within reach."""
    if not isinstance(changes, Mapping):
        return None
    moved = set(PLACE_FIELDS) & set(changes)
    if not moved:
        return None
    state = case.state
    fields = dict(state.fields) if state is not None else {}
    for name in moved:
        change = changes[name]
        value = change.get("value") if isinstance(change, Mapping) else None
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    # A grid moved to another village drags the village (and township) along.
    if "grid_id" in moved and "village_code" not in moved:
        fields.pop("village_code", None)
        fields.pop("township_code", None)
    if "village_code" in moved and "township_code" not in moved:
        fields.pop("township_code", None)
    place = ref.place(fields)
    if isinstance(place, Refusal):
        return place
    whose = _meets(place_keys(place.township, {place.grid or ""}), device_keys, mine)
    if whose:
        out = _out("the new place", whose)
        return Refusal(out.code, f"this edit moves the case out of scope: {out.reason}")
    return None


# -- field work: visits, patrols, ledger sign-offs -------------------------------------------------

#: Who records visits and patrols: everyone who works in a township (not a county admin).
VISIT_ROLES = frozenset({Role.GRID_WORKER, Role.OPERATOR, Role.DEPARTMENT, Role.SUPERVISOR})
#: Who reviews and signs off a worker's 工作台账.
SIGNOFF_ROLES = frozenset({Role.SUPERVISOR})


def visit_keys(township: str, grid: str) -> set[str]:
    """The keys of a visit or patrol: those of its grid (a grid worker of it, the township, the
    county see it)."""
    return place_keys(township, {grid})


def check_visit(
    grid: str,
    kind: str,
    subject_kind: str,
    actor: Actor | None,
    *,
    ref: Reference,
    mine: frozenset[str],
    device_keys: frozenset[str] | None = None,
) -> Refusal | None:
    """Why a visit (or patrol) in ``grid`` recorded by ``actor`` may not be kept or sent, or
    None. ``actor`` is None when the recorder is not an account known here (the county then
    judges by the device's keys alone)."""
    if kind not in ("visit", "patrol"):
        return Refusal("malformed", f"a visit's kind is 'visit' or 'patrol', not {kind!r}")
    if subject_kind not in SUBJECT_KINDS:
        return Refusal(
            "malformed",
            f"a visit is of a household, an organisation or a place, not {subject_kind!r}",
        )
    if actor is not None and actor.role not in VISIT_ROLES:
        return Refusal("not_allowed", f"a {actor.role.value} does not record visits or patrols")
    township = ref.grid_township(grid)
    if township is None:
        return Refusal("unknown_place", f"grid {grid} is not a grid known here")
    if actor is not None and actor.township is not None and actor.township != township:
        return Refusal("out_of_scope", "the recorder works in another township")
    whose = _meets(visit_keys(township, grid), device_keys, mine)
    if whose:
        return _out("the visit's grid", whose)
    return None


def period_first_day(period: str, first_day: str) -> dt.date | Refusal:
    """The first day of a ledger period, checked: a week starts on a Monday, a month on the 1st."""
    if period not in LEDGER_PERIODS:
        return Refusal("malformed", f"a ledger period is a day, a week or a month, not {period!r}")
    try:
        day = dt.date.fromisoformat(first_day)
    except (TypeError, ValueError):
        return Refusal("malformed", f"{first_day!r} is not a date (YYYY-MM-DD)")
    if period == "week" and day.weekday() != 0:
        return Refusal("malformed", f"a ledger week starts on a Monday; {first_day} is not one")
    if period == "month" and day.day != 1:
        return Refusal("malformed", f"a ledger month starts on the 1st; {first_day} does not")
    return day


def signoff_keys(township: str, worker_grids: Iterable[str]) -> set[str]:
    """The keys of a ledger sign-off: the township's, and the worker's grids (so the worker's
    own device receives the supervisor's remarks)."""
    return place_keys(township, worker_grids)


def check_signoff(
    worker: Actor | None,
    signer: Actor,
    township: str,
    period: str,
    first_day: str,
    *,
    ref: Reference,
    mine: frozenset[str],
    device_keys: frozenset[str] | None = None,
) -> Refusal | None:
    """Why ``signer`` may not sign off ``worker``'s ledger of the period, or None."""
    if signer.role not in SIGNOFF_ROLES:
        return Refusal("not_allowed", "only a supervisor signs off a worker's ledger")
    day = period_first_day(period, first_day)
    if isinstance(day, Refusal):
        return day
    if worker is None:
        return Refusal("unknown_actor", "there is no such worker")
    if worker.id == signer.id:
        return Refusal("not_allowed", "nobody signs off their own ledger")
    if township not in ref.townships:
        return Refusal("unknown_place", f"{township} is not a township known here")
    if worker.township is not None and worker.township != township:
        return Refusal("out_of_scope", "the worker does not work in this township")
    if signer.township is not None and signer.township != township:
        return Refusal("out_of_scope", "the supervisor works in another township")
    whose = _meets(place_keys(township, ()), device_keys, mine)
    if whose:
        return _out("the worker's township", whose)
    return None
