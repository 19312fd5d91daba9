"""The closed loop as a pure state machine.

A case is its timeline: an append-only set of :class:`Entry` values. Status, level, assignees,
deadlines and the deadline light are a projection of that set, computed by :func:`project` — one
pure function used by the desktop, the store and the county alike. Entries from several devices
merge as a set ordered by their hybrid-clock stamps, so every device computes the same state.

An entry that is not legal at its place in the merged order (a device closed a case that another
re-dispatched meanwhile) is kept, skipped, and reported as a :class:`WorkflowConflict` until a
person settles it with a ``settle`` entry that voids the step that does not stand. Descriptive
fields merge per field: an ``edit`` names the entry whose value it replaced (its *base*); two
edits from the same base are concurrent, the later stamp wins provisionally, and a
:class:`FieldConflict` holds both values until an edit made with the conflict in view settles it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .calendar import DEFAULT_CALENDAR, WorkCalendar
from .clock import Millis
from .records import (
    CASE_FIELDS,
    INACTIVE_TASK_STATES,
    OPEN_STATUSES,
    Action,
    Actor,
    AssigneeKind,
    Entry,
    Level,
    Light,
    Role,
    Satisfaction,
    Status,
    TaskState,
    Urgency,
)
from .taxonomy import Category, Taxonomy, default_taxonomy

HOUR_MS = 3_600_000

_ALL = frozenset(Role)
_COMMAND = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.COUNTY_ADMIN})
_HANDLERS = frozenset({Role.DEPARTMENT, Role.GRID_WORKER, Role.OPERATOR})

#: Which roles may take each action. The county enforces the same table on every push.
ROLES: dict[Action, frozenset[Role]] = {
    Action.REPORT: frozenset({Role.GRID_WORKER, Role.OPERATOR, Role.DEPARTMENT, Role.SUPERVISOR}),
    Action.SELF_HANDLE: frozenset({Role.GRID_WORKER}),
    Action.ACCEPT: _COMMAND,
    Action.REJECT: _COMMAND,
    Action.MERGE: _COMMAND,
    Action.DISPATCH: _COMMAND,
    Action.RETURN: frozenset({Role.DEPARTMENT, Role.GRID_WORKER}),
    Action.REQUEST_EXTENSION: frozenset({Role.DEPARTMENT, Role.GRID_WORKER}),
    Action.APPROVE_EXTENSION: frozenset({Role.SUPERVISOR, Role.COUNTY_ADMIN}),
    Action.DENY_EXTENSION: frozenset({Role.SUPERVISOR, Role.COUNTY_ADMIN}),
    Action.FEEDBACK: _HANDLERS,
    Action.VERIFY_PASS: _COMMAND,
    Action.VERIFY_FAIL: _COMMAND,
    Action.ESCALATE: frozenset({Role.GRID_WORKER, Role.OPERATOR, Role.SUPERVISOR}),
    Action.URGE: frozenset({Role.SUPERVISOR, Role.OPERATOR, Role.COUNTY_ADMIN}),
    Action.REQUEST_PARK: frozenset({Role.OPERATOR, Role.DEPARTMENT}),
    Action.APPROVE_PARK: frozenset({Role.SUPERVISOR, Role.COUNTY_ADMIN}),
    Action.DENY_PARK: frozenset({Role.SUPERVISOR, Role.COUNTY_ADMIN}),
    Action.RESUME: _COMMAND,
    Action.ARCHIVE: _COMMAND,
    Action.EVALUATE: frozenset({Role.OPERATOR, Role.SUPERVISOR}),
    Action.COMMENT: _ALL,
    Action.EDIT: frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.GRID_WORKER, Role.COUNTY_ADMIN}),
    Action.SETTLE: _COMMAND,
}

#: Actions that are about a sub-task assigned to the actor's unit.
TASK_ACTIONS = frozenset({Action.RETURN, Action.FEEDBACK, Action.REQUEST_EXTENSION})

#: Actions that open a case (the first entry of every timeline is one of these).
OPENING = frozenset({Action.REPORT, Action.SELF_HANDLE})

#: The command's steps on a case. Once a case is escalated to the county, only a county-level
#: account (one of no township) takes them: the township sees the case and its progress, and
#: its units still handle what the county hands down to them.
COUNTY_COMMAND = frozenset(
    {
        Action.ACCEPT,
        Action.REJECT,
        Action.MERGE,
        Action.DISPATCH,
        Action.VERIFY_PASS,
        Action.VERIFY_FAIL,
        Action.APPROVE_EXTENSION,
        Action.DENY_EXTENSION,
        Action.APPROVE_PARK,
        Action.DENY_PARK,
        Action.RESUME,
        Action.ARCHIVE,
        Action.EVALUATE,
    }
)


@dataclass(slots=True)
class Task:
    """One assignee's share of a dispatch: the lead, or an assisting unit (联合处置)."""

    kind: AssigneeKind
    assignee: str  # department code or grid id
    lead: bool
    state: TaskState = TaskState.ASSIGNED
    result: str = ""
    fed_back_at: Millis | None = None
    reason: str = ""  # why it was returned
    urges: int = 0  # 督办 aimed at this unit (assessments rank departments by them)


@dataclass(frozen=True, slots=True)
class WorkflowConflict:
    entry_id: str
    action: Action
    reason: str


@dataclass(slots=True)
class FieldConflict:
    """Two concurrent edits of one field: the provisional winner and the value it beat."""

    field: str
    winner_entry: str
    winner_value: Any
    loser_entry: str
    loser_value: Any


@dataclass(slots=True)
class CaseState:
    """Everything a case *is* at a point of its timeline. Produced by :func:`project`."""

    case_id: str
    case_no: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    status: Status = Status.REPORTED
    level: Level = Level.TOWNSHIP
    tasks: list[Task] = field(default_factory=list)
    reported_at: Millis = 0
    reporter_id: str = ""
    accepted_at: Millis | None = None
    dispatched_at: Millis | None = None
    fed_back_at: Millis | None = None
    closed_at: Millis | None = None
    archived_at: Millis | None = None
    evaluated_at: Millis | None = None
    accept_due: Millis | None = None
    handle_due: Millis | None = None
    handle_start: Millis | None = None  # when the running handling deadline was set
    extension_pending: dict[str, Any] | None = None
    extensions: int = 0
    #: The overdue record: the first handling deadline the case was still open past (seen at
    #: the time of a later step), or None. A later extension or parking never clears it; a
    #: case with one is not 按期办结 however its deadline moved afterwards.
    overdue_at: Millis | None = None
    overdue_entry: str | None = None  # the step that found it overdue (the timeline marks it)
    park_pending: dict[str, Any] | None = None
    park_review: Millis | None = None
    status_before_park: Status | None = None
    #: What was left of the handling clock when the case was parked: ("days", working days),
    #: ("ms", milliseconds) for a deadline in hours, or ("late", ms already overdue).
    clock_left: tuple[str, int] | None = None
    #: The request entries (延期/挂账) a later step made moot before anyone decided them.
    lapsed: list[str] = field(default_factory=list)
    urges: int = 0
    merged_into: str | None = None
    reject_reason: str = ""
    self_handled: bool = False
    verified: bool = False
    verify_failures: int = 0
    feedbacks: int = 0
    on_time: bool | None = None
    evaluation: dict[str, Any] | None = None
    conflicts: list[WorkflowConflict] = field(default_factory=list)
    field_conflicts: list[FieldConflict] = field(default_factory=list)
    voided: set[str] = field(default_factory=set)
    field_source: dict[str, str] = field(default_factory=dict)
    entries: int = 0
    last_hlc: str = ""
    last_at: Millis = 0

    # -- the deadline light -------------------------------------------------------------------

    def deadline(self) -> tuple[Millis, Millis] | None:
        """(start, due) of the deadline the case is running against now, or None."""
        if self.status == Status.REPORTED and self.accept_due is not None:
            return (self.reported_at, self.accept_due)
        if self.status in OPEN_STATUSES and self.handle_due is not None:
            return (self.handle_start or self.accepted_at or self.reported_at, self.handle_due)
        return None

    @property
    def due_at(self) -> Millis | None:
        d = self.deadline()
        return d[1] if d else None

    @property
    def warn_at(self) -> Millis | None:
        """When the light turns yellow: a third of the allowed time left."""
        d = self.deadline()
        if d is None:
            return None
        start, due = d
        return due - max(due - start, 0) // 3

    def light(self, now: Millis) -> Light:
        d = self.deadline()
        if d is None:
            return Light.NONE
        if now > d[1]:
            return Light.RED
        warn = self.warn_at
        if warn is not None and now >= warn:
            return Light.YELLOW
        return Light.GREEN

    @property
    def lapsed_requests(self) -> int:
        return len(self.lapsed)

    def was_overdue(self, now: Millis | None = None) -> bool:
        """Whether the case ever ran past its handling deadline: the overdue record, or (for
        a case still open) red at ``now``. What 按期办结率 and overdue counts should use."""
        if self.overdue_at is not None:
            return True
        return now is not None and self.light(now) == Light.RED and self.status != Status.REPORTED

    def active_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.state not in INACTIVE_TASK_STATES]

    def lead_task(self) -> Task | None:
        return next(
            (t for t in self.tasks if t.lead and t.state not in INACTIVE_TASK_STATES), None
        )

    def task_for(self, assignee: str) -> Task | None:
        return next(
            (
                t
                for t in self.tasks
                if t.assignee == assignee and t.state not in INACTIVE_TASK_STATES
            ),
            None,
        )


@dataclass(frozen=True, slots=True)
class Rules:
    """What the projection needs besides the timeline: the taxonomy and the calendar."""

    taxonomy: Taxonomy
    calendar: WorkCalendar = DEFAULT_CALENDAR
    #: The taxonomies in force before this one, oldest first, each with the time it was
    #: replaced (UTC ms): a case's deadlines come from the taxonomy in force when it was
    #: reported, so a county's new limits apply to new cases and never move an open one's.
    earlier: tuple[tuple[int, Taxonomy], ...] = ()

    def category_at(self, code: str, reported_at: int | None) -> Category | None:
        """Category ``code`` as it stood when a case was reported (the current one when that
        version did not have it: a category added later, chosen by an edit)."""
        if reported_at is not None:
            for until, taxonomy in self.earlier:
                if reported_at < until:
                    found = taxonomy.get(code)
                    if found is not None:
                        return found
                    break
        return self.taxonomy.get(code)


_DEFAULT_RULES: Rules | None = None


def default_rules() -> Rules:
    global _DEFAULT_RULES
    if _DEFAULT_RULES is None:
        _DEFAULT_RULES = Rules(default_taxonomy())
    return _DEFAULT_RULES


class Refused(ValueError):
    """An action that the case's state, the actor's role or the payload does not allow."""

    def __init__(self, action: Action, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason


# -- projection --------------------------------------------------------------------------------


def project(entries: Iterable[Entry], rules: Rules | None = None) -> CaseState:
    """The state of a case from its timeline, whatever order the entries arrive in."""
    rules = rules or default_rules()
    ordered = sorted(entries, key=lambda e: (e.hlc, e.id))
    if not ordered:
        raise ValueError("a case needs at least one timeline entry")
    state = CaseState(case_id=ordered[0].case_id)
    # Settlements apply to the whole timeline: a voided step never happened.
    for e in ordered:
        if e.action == Action.SETTLE:
            state.voided.update(str(v) for v in e.payload.get("void", ()))
    opened = False
    for e in ordered:
        state.entries += 1
        if e.hlc > state.last_hlc:
            state.last_hlc = e.hlc
        state.last_at = max(state.last_at, e.at)
        if e.id in state.voided:
            continue
        if not opened:
            if e.action not in OPENING:
                state.conflicts.append(
                    WorkflowConflict(e.id, e.action, "this step came before the case was reported")
                )
                continue
            opened = True
        elif e.action in OPENING:
            state.conflicts.append(
                WorkflowConflict(e.id, e.action, "the case was already reported")
            )
            continue
        _note_overdue(state, e)
        reason = _apply(state, e, rules)
        if reason is not None:
            state.conflicts.append(WorkflowConflict(e.id, e.action, reason))
        else:
            _settle_requests(state)
    if not opened:
        raise ValueError("the timeline holds no report entry")
    return state


def check(
    state: CaseState | None,
    action: Action,
    actor: Actor,
    payload: dict[str, Any],
    *,
    at: Millis,
    rules: Rules | None = None,
) -> str | None:
    """Why ``actor`` may not take ``action`` now, in plain words; None when it may."""
    rules = rules or default_rules()
    if actor.role not in ROLES[action]:
        return f"a {actor.role.value} may not {action.value.replace('_', ' ')} a case"
    level = authority(state, action, actor)
    if level is not None:
        return level
    if state is None:
        if action not in OPENING:
            return "there is no such case yet"
        state = CaseState(case_id="")
    elif action in OPENING:
        return "the case was already reported"
    if action in TASK_ACTIONS and actor.role != Role.OPERATOR:
        task = payload.get("task")
        mine = {actor.department_code, *actor.grid_ids} - {None}
        if task not in mine:
            return "this sub-task is not assigned to your unit"
    trial = copy.deepcopy(state)
    probe = Entry("?", state.case_id, action, actor.id, actor.role, at, "~", payload)
    return _apply(trial, probe, rules)


def allowed_actions(state: CaseState, actor: Actor) -> list[Action]:
    """The actions the case's state and the actor's role allow (payload not yet known)."""
    result = []
    for action in Action:
        if action in OPENING or actor.role not in ROLES[action]:
            continue
        if authority(state, action, actor) is not None:
            continue
        if _precondition(state, action) is not None:
            continue
        if action in TASK_ACTIONS and actor.role != Role.OPERATOR:
            mine = {actor.department_code, *actor.grid_ids} - {None}
            if not any(t.assignee in mine and t.state == TaskState.ASSIGNED for t in state.tasks):
                continue
        if action == Action.SETTLE and not state.conflicts and not state.field_conflicts:
            continue
        result.append(action)
    return result


def authority(state: CaseState | None, action: Action, actor: Actor) -> str | None:
    """Why the level that owns the case keeps ``actor`` from this step, or None.

    After 上报升级 to the county, the county command centre accepts, dispatches (to county
    departments, or down to township units: 交办), verifies and decides requests; a township
    account sees the case and its progress, and its units handle what is handed to them."""
    if (
        state is not None
        and state.level >= Level.COUNTY
        and actor.township is not None
        and action in COUNTY_COMMAND
    ):
        return "the case was escalated to the county: the county command centre takes this step"
    return None


def _precondition(s: CaseState, action: Action) -> str | None:
    """State-only reasons an action cannot be taken, before looking at its payload."""
    st = s.status
    if action == Action.ACCEPT or action == Action.REJECT or action == Action.MERGE:
        if st != Status.REPORTED:
            return "only a case awaiting acceptance can be accepted, rejected or merged"
    elif action == Action.DISPATCH:
        if st not in (Status.ACCEPTED, Status.HANDLING, Status.VERIFYING):
            return "only an accepted, open case can be dispatched"
    elif action in (Action.RETURN, Action.FEEDBACK, Action.REQUEST_EXTENSION):
        if st != Status.HANDLING:
            return "the case is not being handled"
        if action == Action.REQUEST_EXTENSION and s.extension_pending is not None:
            return "an extension request is already waiting for approval"
    elif action in (Action.APPROVE_EXTENSION, Action.DENY_EXTENSION):
        if s.extension_pending is None:
            return "no extension request is waiting"
        if st != Status.HANDLING:
            return "the case is not being handled"
    elif action in (Action.VERIFY_PASS, Action.VERIFY_FAIL):
        if st != Status.VERIFYING:
            return "the case is not waiting for verification"
    elif action == Action.ESCALATE:
        if st not in (Status.REPORTED, Status.ACCEPTED, Status.HANDLING):
            return "only an open case that is not yet handled can be escalated"
        if s.level >= Level.COUNTY:
            return "the case is already at county level"
    elif action == Action.URGE:
        if st not in OPEN_STATUSES:
            return "only an open case can be urged"
    elif action == Action.REQUEST_PARK:
        if st not in (Status.ACCEPTED, Status.HANDLING):
            return "only an accepted case in hand can be parked"
        if s.park_pending is not None:
            return "a park request is already waiting for approval"
    elif action in (Action.APPROVE_PARK, Action.DENY_PARK):
        if s.park_pending is None:
            return "no park request is waiting"
        if st not in (Status.ACCEPTED, Status.HANDLING):
            return "the case is no longer in hand"
    elif action == Action.RESUME:
        if st != Status.PARKED:
            return "the case is not parked"
    elif action == Action.ARCHIVE:
        if st != Status.CLOSED:
            return "only a closed case can be archived"
    elif action == Action.EVALUATE:
        if st != Status.ARCHIVED:
            return "only an archived case can be evaluated"
    elif action == Action.EDIT and st in (Status.ARCHIVED, Status.EVALUATED):
        return "an archived case can no longer be edited"
    return None


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    return value.strip() if isinstance(value, str) else ""


def _apply(s: CaseState, e: Entry, rules: Rules) -> str | None:
    """Apply one entry to ``s`` in place; return why it is not legal (and change nothing)."""
    if e.role not in ROLES[e.action]:
        return f"a {e.role.value} may not {e.action.value.replace('_', ' ')} a case"
    if e.action not in OPENING:
        pre = _precondition(s, e.action)
        if pre is not None:
            return pre
    p = e.payload
    a = e.action

    if a in OPENING:
        fields = {k: p.get(k) for k in CASE_FIELDS if p.get(k) is not None}
        if not _text(p, "title"):
            return "a report needs a title"
        category = p.get("category")
        if category not in rules.taxonomy:
            return f"unknown category {category!r}"
        if not p.get("grid_id") and not p.get("village_code"):
            return "a report needs a grid or a village"
        fields.setdefault("urgency", Urgency.NORMAL.value)
        try:
            urgency = Urgency(str(fields["urgency"]))
        except ValueError:
            return f"unknown urgency {fields['urgency']!r}"
        if a == Action.SELF_HANDLE and not _text(p, "result"):
            return "a self-handled report needs the result of the handling"
        s.case_no = str(p.get("case_no") or "")
        s.fields = fields
        s.field_source = {k: e.id for k in fields}
        s.reported_at = e.at
        s.reporter_id = e.actor_id
        level = p.get("level")
        if level is None:
            level = Level.GRID if e.role == Role.GRID_WORKER else Level.TOWNSHIP
        s.level = Level(int(level))
        found = rules.category_at(str(category), e.at)
        assert found is not None  # checked above: the category is in the current taxonomy
        deadline = found.deadline(urgency)
        s.accept_due = e.at + deadline.accept_hours * HOUR_MS
        if a == Action.SELF_HANDLE:
            s.self_handled = True
            s.accepted_at = s.dispatched_at = s.fed_back_at = e.at
            # Handled on the spot: no handling deadline runs while it waits for verification
            # (a due time equal to the report made every such case overdue and late).
            s.handle_due = s.handle_start = None
            grid = str(p.get("grid_id") or "")
            s.tasks = [
                Task(AssigneeKind.GRID, grid, True, TaskState.FED_BACK, _text(p, "result"), e.at)
            ]
            s.feedbacks = 1
            s.status = Status.VERIFYING
        else:
            s.status = Status.REPORTED
        return None

    if a == Action.ACCEPT:
        category = rules.category_at(s.fields.get("category", ""), s.reported_at)
        if category is None:
            return "the case's category is unknown; edit it before accepting"
        deadline = category.deadline(Urgency(s.fields.get("urgency", "normal")))
        s.accepted_at = e.at
        s.handle_start = e.at
        if deadline.handle_days is not None:
            s.handle_due = rules.calendar.working_days_due(e.at, deadline.handle_days)
        else:
            s.handle_due = e.at + (deadline.handle_hours or 0) * HOUR_MS
        s.status = Status.ACCEPTED
    elif a == Action.REJECT:
        reason = _text(p, "reason")
        if not reason:
            return "rejecting a case needs a reason"
        s.reject_reason = reason
        s.status = Status.REJECTED
        s.closed_at = e.at
    elif a == Action.MERGE:
        into = p.get("into")
        if not into or into == s.case_id:
            return "merging needs the case it duplicates"
        s.merged_into = str(into)
        s.status = Status.MERGED
        s.closed_at = e.at
    elif a == Action.DISPATCH:
        raw = p.get("tasks")
        if not isinstance(raw, list) or not raw:
            return "a dispatch needs at least one assignee"
        tasks = []
        for t in raw:
            try:
                kind = AssigneeKind(t.get("kind"))
            except (ValueError, AttributeError):
                return "each assignee must be a department or a grid"
            assignee = str(t.get("assignee") or "")
            if not assignee:
                return "each assignee must be named"
            tasks.append(Task(kind, assignee, bool(t.get("lead"))))
        if sum(t.lead for t in tasks) != 1:
            return "a dispatch needs exactly one lead unit"
        if len({t.assignee for t in tasks}) != len(tasks):
            return "a unit is named twice in the dispatch"
        s.tasks = tasks
        if s.dispatched_at is None:
            s.dispatched_at = e.at
        s.fed_back_at = None
        s.status = Status.HANDLING
    elif a == Action.RETURN:
        task = s.task_for(str(p.get("task") or ""))
        if task is None or task.state != TaskState.ASSIGNED:
            return "this sub-task is not assigned and open"
        reason = _text(p, "reason")
        if not reason:
            return "returning a dispatch needs a reason"
        task.state = TaskState.RETURNED
        task.reason = reason
        if task.lead:
            # The lead unit says the dispatch was wrong: the whole case goes back for dispatch.
            for t in s.tasks:
                if t.state == TaskState.ASSIGNED:
                    t.state = TaskState.RETURNED
                    t.reason = reason
            s.status = Status.ACCEPTED
        else:
            _maybe_all_fed_back(s, e.at)
    elif a == Action.REQUEST_EXTENSION:
        task = s.task_for(str(p.get("task") or ""))
        if task is None or task.state != TaskState.ASSIGNED:
            return "this sub-task is not assigned and open"
        until = p.get("until")
        reason = _text(p, "reason")
        if not isinstance(until, int):
            return "an extension needs a new deadline"
        if not reason:
            return "an extension needs a reason"
        if s.handle_due is not None and until <= s.handle_due:
            return "the new deadline must be later than the current one"
        s.extension_pending = {
            "until": until,
            "reason": reason,
            "by": e.actor_id,
            "task": task.assignee,
            "entry": e.id,
        }
    elif a == Action.APPROVE_EXTENSION:
        assert s.extension_pending is not None
        s.handle_due = int(s.extension_pending["until"])
        s.handle_start = e.at
        s.extensions += 1
        s.extension_pending = None
    elif a == Action.DENY_EXTENSION:
        s.extension_pending = None
    elif a == Action.FEEDBACK:
        task = s.task_for(str(p.get("task") or ""))
        if task is None or task.state != TaskState.ASSIGNED:
            return "this sub-task is not assigned and open"
        result = _text(p, "result")
        if not result:
            return "feedback needs the result of the handling"
        task.state = TaskState.FED_BACK
        task.result = result
        task.fed_back_at = e.at
        s.feedbacks += 1
        _maybe_all_fed_back(s, e.at)
    elif a == Action.VERIFY_PASS:
        s.verified = True
        s.status = Status.CLOSED
        s.closed_at = e.at
        # An extension granted after the deadline does not wash out the overdue.
        s.on_time = s.overdue_at is None and (s.handle_due is None or e.at <= s.handle_due)
    elif a == Action.VERIFY_FAIL:
        if not _text(p, "reason"):
            return "a failed verification needs a reason"
        s.verify_failures += 1
        for t in s.active_tasks():
            t.state = TaskState.ASSIGNED
        s.fed_back_at = None
        s.status = Status.HANDLING
    elif a == Action.ESCALATE:
        if not _text(p, "reason"):
            return "escalating needs a reason"
        target = int(p.get("to") or s.level + 1)
        if target <= s.level or target > Level.COUNTY:
            return "a case can only be escalated to a higher level"
        s.level = Level(target)
        for t in s.tasks:
            if t.state == TaskState.ASSIGNED:
                # Taken back by the command (已收回), not returned by the unit (已退单).
                t.state = TaskState.WITHDRAWN
                t.reason = "escalated"
        if s.status == Status.HANDLING:
            s.status = Status.ACCEPTED
    elif a == Action.URGE:
        unit = p.get("unit")
        if unit is not None:
            task = s.task_for(str(unit)) if isinstance(unit, str) and unit else None
            if task is None:
                return "the unit urged is not handling this case"
            task.urges += 1
        s.urges += 1
    elif a == Action.REQUEST_PARK:
        review = p.get("review_on")
        reason = _text(p, "reason")
        if not reason:
            return "parking a case needs a reason"
        if not isinstance(review, int) or review <= e.at:
            return "parking a case needs a review date in the future"
        s.park_pending = {"review_on": review, "reason": reason, "by": e.actor_id, "entry": e.id}
    elif a == Action.APPROVE_PARK:
        assert s.park_pending is not None
        s.park_review = int(s.park_pending["review_on"])
        s.clock_left = _clock_left(s, e.at, rules)
        s.status_before_park = s.status
        s.park_pending = None
        s.status = Status.PARKED
    elif a == Action.DENY_PARK:
        s.park_pending = None
    elif a == Action.RESUME:
        s.status = s.status_before_park or Status.ACCEPTED
        s.status_before_park = None
        s.park_review = None
        # Parking stopped the clock; resuming restarts it with what was left.
        if s.clock_left is not None:
            s.handle_due = restarted_due(s.clock_left, e.at, rules.calendar)
            s.handle_start = min(e.at, s.handle_due)
            s.clock_left = None
    elif a == Action.ARCHIVE:
        if not s.verified or s.feedbacks == 0:
            return "only a verified case with feedback can be archived"
        s.archived_at = e.at
        s.status = Status.ARCHIVED
    elif a == Action.EVALUATE:
        quality = p.get("quality")
        if not isinstance(quality, int) or not 1 <= quality <= 5:
            return "quality is scored 1 to 5"
        try:
            satisfaction = Satisfaction(str(p.get("satisfaction")))
        except ValueError:
            return "satisfaction must be satisfied, basic or dissatisfied"
        units = _unit_scores(s, p.get("units"))
        if isinstance(units, str):
            return units
        s.evaluation = {
            "timely": bool(s.on_time),
            "quality": quality,
            "satisfaction": satisfaction.value,
            "note": _text(p, "note"),
        }
        if units:
            s.evaluation["units"] = units
        s.evaluated_at = e.at
        s.status = Status.EVALUATED
    elif a == Action.COMMENT:
        if not _text(p, "text"):
            return "a comment needs text"
    elif a == Action.EDIT:
        changes = p.get("fields")
        if not isinstance(changes, dict) or not changes:
            return "an edit needs at least one field"
        for name, change in changes.items():
            if name not in CASE_FIELDS or not isinstance(change, dict):
                return f"{name!r} is not an editable case field"
            if name == "title" and not str(change.get("value") or "").strip():
                return "a case needs a title"
            if name == "category" and change.get("value") not in rules.taxonomy:
                return f"unknown category {change.get('value')!r}"
        for name, change in changes.items():
            _merge_field(s, e.id, name, change.get("value"), change.get("base"))
    elif a == Action.SETTLE:
        if not p.get("void") and not p.get("fields"):
            return "a settlement names the steps that do not stand"
        # Voided entries were removed before replay; field settlements clear the conflict.
        for name in p.get("fields") or ():
            s.field_conflicts = [c for c in s.field_conflicts if c.field != name]
    return None


def _note_overdue(s: CaseState, e: Entry) -> None:
    """Keep the overdue record: a step taken while the case is open past its handling
    deadline proves it ran late, whatever happens to the deadline afterwards."""
    if s.overdue_at is not None or s.handle_due is None:
        return
    if s.status in (Status.ACCEPTED, Status.HANDLING, Status.VERIFYING) and e.at > s.handle_due:
        s.overdue_at = s.handle_due
        s.overdue_entry = e.id


def _settle_requests(s: CaseState) -> None:
    """A later decision or closing settles pending requests: a 延期 request lapses once the
    case is no longer being handled or its unit no longer holds an open sub-task, a 挂账
    request once the case is no longer in hand (so neither stays "waiting for approval")."""
    pending = s.extension_pending
    if pending is not None:
        task = s.task_for(str(pending.get("task"))) if pending.get("task") else None
        if s.status != Status.HANDLING or (
            pending.get("task") and (task is None or task.state != TaskState.ASSIGNED)
        ):
            s.lapsed.append(str(pending.get("entry", "")))
            s.extension_pending = None
    if s.park_pending is not None and s.status not in (Status.ACCEPTED, Status.HANDLING):
        s.lapsed.append(str(s.park_pending.get("entry", "")))
        s.park_pending = None


def _clock_left(s: CaseState, at: Millis, rules: Rules) -> tuple[str, int] | None:
    """What is left of the handling deadline at ``at``, to restart it with on resume."""
    if s.handle_due is None:
        return None
    category = rules.taxonomy.get(s.fields.get("category", ""))
    hours = False
    if category is not None:
        try:
            urgency = Urgency(s.fields.get("urgency", "normal"))
        except ValueError:
            urgency = Urgency.NORMAL
        hours = category.deadline(urgency).handle_days is None
    return clock_left(s.handle_due, at, hours=hours, calendar=rules.calendar)


def clock_left(
    due: Millis, parked_at: Millis, *, hours: bool, calendar: WorkCalendar
) -> tuple[str, int]:
    """What is left of a handling deadline ``due`` when a case is parked at ``parked_at``:
    ("days", working days) — or ("ms", ms) for a deadline counted in hours — or ("late", ms)
    for a case already past it."""
    if parked_at > due:
        return ("late", parked_at - due)
    if hours:
        return ("ms", due - parked_at)
    return ("days", calendar.working_days_between(parked_at, due))


def restarted_due(left: tuple[str, int], resumed_at: Millis, calendar: WorkCalendar) -> Millis:
    """The handling deadline of a case resumed at ``resumed_at`` with ``left`` of its clock
    (:func:`clock_left`): the parked time does not count against it."""
    kind, n = left
    if kind == "days":
        return calendar.working_days_due(resumed_at, n)
    if kind == "ms":
        return resumed_at + n
    return resumed_at - n  # "late": overdue by what it was, not by the parked time


def fed_back_on_time(s: CaseState, task: Task) -> bool:
    """Whether a unit fed back by the deadline in force then — and not after a deadline the
    case had already missed (a later extension does not make a late unit timely). What a
    department's 按期反馈 should count."""
    fed = task.fed_back_at
    return (
        fed is not None
        and (s.overdue_at is None or fed <= s.overdue_at)
        and (s.handle_due is None or fed <= s.handle_due)
    )


def _unit_scores(s: CaseState, raw: Any) -> dict[str, dict[str, Any]] | str | None:
    """Each unit's own evaluation in a joint dispatch (lead and assisting units are ranked
    apart): its quality score, and whether its feedback came by the deadline — the one in
    force then, and never after a deadline the case had already missed. None without
    ``units``; a reason when they do not fit the dispatch."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        return "unit scores name each unit of the dispatch with a score of 1 to 5"
    active = {t.assignee: t for t in s.active_tasks()}
    out: dict[str, dict[str, Any]] = {}
    for unit, score in raw.items():
        task = active.get(unit)
        if task is None:
            return f"{unit!r} is not a unit of the dispatch"
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            return "quality is scored 1 to 5"
        out[unit] = {"quality": score, "lead": task.lead, "timely": fed_back_on_time(s, task)}
    return out


def _maybe_all_fed_back(s: CaseState, at: Millis) -> None:
    """A joint dispatch waits for every active sub-task's feedback before verification."""
    active = s.active_tasks()
    if active and all(t.state == TaskState.FED_BACK for t in active):
        s.fed_back_at = at
        s.status = Status.VERIFYING
    elif not active:
        s.status = Status.ACCEPTED


def _merge_field(s: CaseState, entry_id: str, name: str, value: Any, base: str | None) -> None:
    current = s.field_source.get(name)
    # ``base`` is the entry whose value the editor saw (None: the field was empty to them). An
    # edit that did not see the current value is concurrent with it — also when it saw none.
    if current is not None and base != current:
        # Concurrent with the edit that set the current value: later stamp wins provisionally.
        s.field_conflicts = [c for c in s.field_conflicts if c.field != name]
        s.field_conflicts.append(FieldConflict(name, entry_id, value, current, s.fields.get(name)))
    else:
        # Made with the current value in view: it settles any conflict on this field.
        s.field_conflicts = [c for c in s.field_conflicts if c.field != name]
    if value is None:
        s.fields.pop(name, None)
    else:
        s.fields[name] = value
    s.field_source[name] = entry_id
