"""The records Gridroom keeps: places, people, the taxonomy, cases and their timelines.

Plain frozen dataclasses; storage and transport convert them. Enumerations carry the value that is
stored and sent (ASCII, stable); the words users see live in the desktop's translations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from .clock import Millis


class DivisionLevel(StrEnum):
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


class Level(IntEnum):
    """The level that currently owns a case (大事不出村，难事不出镇)."""

    GRID = 1
    VILLAGE = 2
    TOWNSHIP = 3
    COUNTY = 4


class GridKind(StrEnum):
    URBAN = "urban"  # 基础网格（城镇）≈ 300 households / 1,000 people
    RURAL = "rural"  # 基础网格（农村）≈ 200 households / 500 people
    DEDICATED = "dedicated"  # 专属网格: school, hospital, market, park, large company


#: Standard size of a basic grid, and the factor above which a grid is a planning problem.
GRID_STANDARD = {GridKind.URBAN: (300, 1000), GridKind.RURAL: (200, 500)}
OVERSIZE_FACTOR = 1.5


class StaffRole(StrEnum):
    """一长三员 + 1+N: a person's place in a grid's team."""

    LEADER = "leader"  # 网格长
    FULLTIME = "fulltime"  # 专职网格员
    PARTTIME = "parttime"  # 兼职网格员
    INSTRUCTOR = "instructor"  # 网格指导员
    LIAISON = "liaison"  # 1+N 部门下沉联络员


class Role(StrEnum):
    """What an account may do in the closed loop."""

    GRID_WORKER = "grid_worker"  # 网格员 (field)
    OPERATOR = "operator"  # 指挥室值班员
    DEPARTMENT = "department"  # 部门处置人员
    SUPERVISOR = "supervisor"  # 分管领导 / 督办
    COUNTY_ADMIN = "county_admin"  # 县级管理员


class Urgency(StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急


class Source(StrEnum):
    PATROL = "patrol"  # 网格员巡查
    RESIDENT_APP = "resident_app"  # 村情通/随手拍
    HOTLINE = "hotline"  # 12345 热线
    WALK_IN = "walk_in"  # 来访
    DEPARTMENT = "department"  # 部门移交
    VIDEO = "video"  # 视频监控


class Status(StrEnum):
    REPORTED = "reported"  # 待受理
    REJECTED = "rejected"  # 不予受理
    MERGED = "merged"  # 已合并
    ACCEPTED = "accepted"  # 待派遣
    HANDLING = "handling"  # 处置中
    VERIFYING = "verifying"  # 待核查
    PARKED = "parked"  # 挂账
    CLOSED = "closed"  # 已办结
    ARCHIVED = "archived"  # 已归档
    EVALUATED = "evaluated"  # 已评价


#: Statuses in which a case is still in the loop and watched against a deadline.
OPEN_STATUSES = (
    Status.REPORTED,
    Status.ACCEPTED,
    Status.HANDLING,
    Status.VERIFYING,
)
#: Statuses that count as 办结 (closed) for KPIs.
DONE_STATUSES = (Status.CLOSED, Status.ARCHIVED, Status.EVALUATED)
#: Statuses that leave the loop without being handled.
DROPPED_STATUSES = (Status.REJECTED, Status.MERGED)


class Light(StrEnum):
    """The deadline light a command room watches all day."""

    NONE = "none"  # not running against a deadline (closed, parked, dropped)
    GREEN = "green"
    YELLOW = "yellow"  # less than a third of the allowed time left
    RED = "red"  # overdue


class Action(StrEnum):
    REPORT = "report"  # 发现上报
    SELF_HANDLE = "self_handle"  # 自行处置 (report already handled)
    ACCEPT = "accept"  # 受理
    REJECT = "reject"  # 不予受理
    MERGE = "merge"  # 合并 (duplicate of another case)
    DISPATCH = "dispatch"  # 派遣 / 联合派遣
    RETURN = "return"  # 退单 (wrong dispatch)
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    APPROVE_EXTENSION = "approve_extension"  # 批准延期
    DENY_EXTENSION = "deny_extension"  # 驳回延期
    FEEDBACK = "feedback"  # 反馈
    VERIFY_PASS = "verify_pass"  # 核查通过 → 结案
    VERIFY_FAIL = "verify_fail"  # 核查不通过 → 退回重办
    ESCALATE = "escalate"  # 上报升级
    HAND_DOWN = "hand_down"  # 交办: the county hands an escalated case back down to the township
    URGE = "urge"  # 督办
    REQUEST_PARK = "request_park"  # 申请挂账
    APPROVE_PARK = "approve_park"  # 批准挂账
    DENY_PARK = "deny_park"  # 驳回挂账
    RESUME = "resume"  # 恢复办理 (from 挂账)
    ARCHIVE = "archive"  # 归档
    EVALUATE = "evaluate"  # 考核评价
    COMMENT = "comment"  # 备注
    EDIT = "edit"  # 修改事件信息 (descriptive fields)
    SETTLE = "settle"  # 裁定冲突: choose which of conflicting steps stands


class AssigneeKind(StrEnum):
    DEPARTMENT = "department"
    GRID = "grid"


class TaskState(StrEnum):
    ASSIGNED = "assigned"  # 处置中
    RETURNED = "returned"  # 已退单 (the unit said the dispatch was wrong)
    FED_BACK = "fed_back"  # 已反馈
    WITHDRAWN = "withdrawn"  # 已收回 (taken back by the command: the case was escalated)


#: Sub-task states that no longer count: the unit gave the task back, or it was taken back.
INACTIVE_TASK_STATES = frozenset({TaskState.RETURNED, TaskState.WITHDRAWN})


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


#: Descriptive case fields: merged per field across devices, edited by the EDIT action.
CASE_FIELDS = (
    "title",
    "description",
    "category",
    "grid_id",
    "village_code",
    "township_code",
    "address",
    "source",
    "urgency",
    "reporter_name",
    "reporter_phone",
    "location",  # "lon,lat" in degrees (sync.geo.parse_point), where the case is on the map
)


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    parent_code: str | None
    level: DivisionLevel


@dataclass(frozen=True, slots=True)
class Grid:
    id: str
    code: str  # village code + 3 digits
    name: str
    village_code: str
    kind: GridKind
    households: int
    population: int
    dedicated_to: str | None = None  # what a dedicated grid covers (a school, a market …)

    @property
    def oversize(self) -> bool:
        """A basic grid far above its standard size is a planning problem worth flagging."""
        standard = GRID_STANDARD.get(self.kind)
        if standard is None:
            return False
        households, people = standard
        return (
            self.households > households * OVERSIZE_FACTOR
            or self.population > people * OVERSIZE_FACTOR
        )


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    #: A county department (县级部门, e.g. 县住建局): it takes only county-level cases. The
    #: "1+N" departments sunk into the townships (False) take any case of the county.
    county: bool = False


@dataclass(frozen=True, slots=True)
class Staff:
    id: str
    name: str
    role: StaffRole
    phone: str
    grid_id: str | None = None
    department_code: str | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who takes an action: an account with a role and, where it matters, a unit."""

    id: str
    name: str
    role: Role
    department_code: str | None = None
    grid_ids: tuple[str, ...] = ()
    #: The township the account works in; None for a county-level account.
    township: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One immutable step of a case's timeline (流转记录)."""

    id: str
    case_id: str
    action: Action
    actor_id: str
    role: Role
    at: Millis  # wall time on the acting device (UTC ms)
    hlc: str  # hybrid logical clock stamp: the merge order
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.hlc, self.id)


@dataclass(frozen=True, slots=True)
class Attachment:
    """Photo metadata; the bytes are a content-addressed file beside the database."""

    id: str
    case_id: str
    sha256: str
    name: str
    mime: str
    size: int
    created_at: Millis
    entry_id: str | None = None


#: What a visit or patrol is about: a household (入户走访), an organisation (单位), a place (巡查).
SUBJECT_KINDS = ("household", "organisation", "place", "")


@dataclass(frozen=True, slots=True)
class VisitItem:
    """A follow-up of a visit (待办) or a finding of a patrol (发现问题): each can become a case
    (转为事件); the case's report names the visit and this item (``from_visit``/``from_item``)."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Visit:
    """A 民情日记 entry (household visit) or a patrol log (巡查).

    ``staff_id`` is the account that recorded it (the worker whose 工作台账 it counts in).
    ``household`` is the name of what was visited (a household, an organisation, a place);
    ``subject_kind``/``subject_id`` say which base record it is, free text until the base
    records (实有人口·房屋·单位) exist, so that a visit can later point at one. ``content`` holds
    the notes, ``checked`` what a patrol checked, ``location`` "lon,lat" (from a photo's EXIF
    or typed), ``people`` the people met.
    """

    id: str
    grid_id: str
    staff_id: str
    kind: str  # "visit" | "patrol"
    at: Millis
    household: str
    content: str
    subject_kind: str = ""
    subject_id: str = ""
    people: tuple[str, ...] = ()
    items: tuple[VisitItem, ...] = ()
    checked: str = ""
    location: str = ""


#: Periods a 工作台账 is kept and signed off for.
LEDGER_PERIODS = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class SignOff:
    """A supervisor's review of one worker's 工作台账 for one period (审核签字), with remarks and
    the counts the supervisor saw when signing."""

    id: str
    worker_id: str
    township_code: str
    period: str  # "day" | "week" | "month"
    first_day: str  # ISO date of the period's first day (Shanghai calendar)
    signer_id: str
    at: Millis
    remarks: str = ""
    counts: dict[str, int] = field(default_factory=dict)
