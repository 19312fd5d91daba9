"""The synthetic world on the real divisions: grids, their teams, the 1+N departments, accounts.

Each village's grids and each grid's team come from an RNG seeded by (seed, village or grid
code), so a township built alone and the same township inside its county build hold the same
grids and people for one seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..model.divisions import is_urban, short_name
from ..model.records import (
    Actor,
    Department,
    Division,
    DivisionLevel,
    Grid,
    GridKind,
    Role,
    Staff,
    StaffRole,
)
from . import names

#: The "1+N" departments sunk into the grids, with stable ASCII codes.
DEPARTMENTS: tuple[Department, ...] = (
    Department("police", "派出所"),
    Department("traffic", "交警中队"),
    Department("justice", "司法所"),
    Department("enforcement", "综合执法"),
    Department("market", "市场监管所"),
    Department("fire", "消防"),
    Department("emergency", "应急管理"),
    Department("land", "自然资源所"),
    Department("ecology", "生态环境"),
    Department("tax", "税务"),
    Department("health", "卫健"),
    Department("civil", "民政"),
)

#: Well-known demo accounts: the desktop's demo mode logs in as the operator.
DEMO_OPERATOR = "demo-operator"
DEMO_SUPERVISOR = "demo-supervisor"

# Standard basic-grid sizes (households) and people per household, urban and rural.
_HOUSEHOLDS = {GridKind.URBAN: 300, GridKind.RURAL: 200}
_PER_HOUSEHOLD = {GridKind.URBAN: (3.0, 3.6), GridKind.RURAL: (2.3, 2.8)}
#: Share of basic grids drawn far above the standard: planning problems the grid view flags.
OVERSIZE_SHARE = 0.05


@dataclass(slots=True)
class Village:
    """A real village/community with its synthetic grids."""

    division: Division
    short: str
    township: Division
    county_short: str
    urban: bool
    grids: list[Grid] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.division.code


@dataclass(slots=True)
class World:
    """Everything cases stand on: places, teams, units and the accounts that act."""

    scope: Division
    townships: list[Division]
    villages: list[Village]
    grids: list[Grid]
    staff: list[Staff]
    accounts: list[Actor]
    departments: tuple[Department, ...] = DEPARTMENTS
    #: Per township: its operators (值班员), its supervisor (分管领导).
    operators: dict[str, list[Actor]] = field(default_factory=dict)
    supervisors: dict[str, Actor] = field(default_factory=dict)
    county_admin: Actor | None = None
    grid_workers: dict[str, Actor] = field(default_factory=dict)
    department_accounts: dict[str, Actor] = field(default_factory=dict)

    def account(self, account_id: str) -> Actor:
        for a in self.accounts:
            if a.id == account_id:
                return a
        raise KeyError(account_id)


def township_short(name: str) -> str:
    """东华街道 → 东华, 湖镇镇 → 湖镇, 大街乡 → 大街 (what a school or market is named after)."""
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def county_short(name: str) -> str:
    """龙游县 → 龙游, 江山市 → 江山; 柯城区 and 衢江区 companies carry the city's name."""
    if name in ("柯城区", "衢江区"):
        return "衢州"
    return name[:-1] if name.endswith(("县", "市", "区")) else name


def _rng(seed: int, *parts: str) -> random.Random:
    # String seeds hash with SHA-512 (random.seed version 2): stable across runs and platforms.
    return random.Random(":".join(("gridroom-demo", str(seed), *parts)))


def build_world(seed: int, scope: Division, divisions: list[Division]) -> World:
    """Grids, staff, departments and accounts for ``scope`` (a township or a county)."""
    by_code = {d.code: d for d in divisions}
    townships = [d for d in divisions if d.level == DivisionLevel.TOWNSHIP]
    villages: list[Village] = []
    for d in divisions:
        if d.level != DivisionLevel.VILLAGE or d.parent_code not in by_code:
            continue
        township = by_code[d.parent_code]
        county = by_code.get(township.parent_code or "")
        villages.append(
            Village(
                d,
                short_name(d.name),
                township,
                county_short(county.name) if county else "衢州",
                is_urban(d),
            )
        )
    for v in villages:
        v.grids.extend(_basic_grids(seed, v))
    _add_dedicated(seed, townships, villages)
    grids = [g for v in villages for g in v.grids]
    staff = [s for v in villages for s in _team(seed, v)]
    world = World(scope, townships, villages, grids, staff, [])
    _accounts(seed, world)
    return world


def _basic_grids(seed: int, v: Village) -> list[Grid]:
    rng = _rng(seed, "grids", v.code)
    kind = GridKind.URBAN if v.urban else GridKind.RURAL
    count = 3 if rng.random() < 0.6 else 2
    out = []
    # Numbered west→east, north→south: the synthetic layout is that numbering order.
    for n in range(1, count + 1):
        households = round(_HOUSEHOLDS[kind] * rng.uniform(0.85, 1.15))
        if rng.random() < OVERSIZE_SHARE:
            households = round(_HOUSEHOLDS[kind] * rng.uniform(1.6, 2.3))
        low, high = _PER_HOUSEHOLD[kind]
        population = round(households * rng.uniform(low, high))
        code = f"{v.code}{n:03d}"
        out.append(Grid(code, code, f"{v.short}第{n}网格", v.code, kind, households, population))
    return out


# Dedicated grids (专属网格) of a township: what they cover, and their (units, people) ranges.
_DEDICATED = (
    ("中心小学", (1, 1), (600, 1500)),
    ("农贸市场", (80, 200), (150, 400)),
    ("卫生院", (1, 1), (200, 500)),
    ("工业园区", (20, 60), (1000, 4000)),
)


def _add_dedicated(seed: int, townships: list[Division], villages: list[Village]) -> None:
    for township in townships:
        mine = [v for v in villages if v.township.code == township.code]
        if not mine:
            continue
        rng = _rng(seed, "dedicated", township.code)
        # The seat is the first community (urban), or the first village: where the school,
        # market and clinic are; the industrial park sits in another village when there is one.
        seat = next((v for v in mine if v.urban), mine[0])
        others = [v for v in mine if v is not seat] or [seat]
        short = township_short(township.name)
        for what, units, people in _DEDICATED:
            host = rng.choice(others) if what == "工业园区" else seat
            covers = short + what
            if what == "卫生院" and township.name.endswith("街道"):
                covers = short + "社区卫生服务中心"
            n = len(host.grids) + 1
            code = f"{host.code}{n:03d}"
            host.grids.append(
                Grid(
                    code,
                    code,
                    f"{covers}专属网格",
                    host.code,
                    GridKind.DEDICATED,
                    rng.randint(*units),
                    rng.randint(*people),
                    covers,
                )
            )


def _team(seed: int, v: Village) -> list[Staff]:
    """一长三员 per grid, plus a police liaison (1+N); the village's instructor (a township cadre,
    组团联村) and its liaison serve every grid of the village, so they repeat by name."""
    rng = _rng(seed, "team", v.code)
    instructor = (names.person(rng), names.phone(rng))
    liaison = (names.person(rng), names.phone(rng))
    out = []
    for g in v.grids:
        for role in (StaffRole.LEADER, StaffRole.FULLTIME, StaffRole.PARTTIME):
            out.append(
                Staff(
                    f"stf-{g.code}-{role.value}", names.person(rng), role, names.phone(rng), g.code
                )
            )
        out.append(
            Staff(
                f"stf-{g.code}-instructor",
                instructor[0],
                StaffRole.INSTRUCTOR,
                instructor[1],
                g.code,
            )
        )
        out.append(
            Staff(
                f"stf-{g.code}-liaison", liaison[0], StaffRole.LIAISON, liaison[1], g.code, "police"
            )
        )
    return out


def _accounts(seed: int, world: World) -> None:
    rng = _rng(seed, "accounts", world.scope.code)
    accounts: list[Actor] = []
    for i, township in enumerate(world.townships):
        operators = []
        for n in (1, 2):
            account_id = DEMO_OPERATOR if (i, n) == (0, 1) else f"op-{township.code}-{n}"
            operators.append(
                Actor(account_id, f"{township.name}值班员{names.person(rng)}", Role.OPERATOR)
            )
        supervisor_id = DEMO_SUPERVISOR if i == 0 else f"sup-{township.code}"
        supervisor = Actor(
            supervisor_id, f"{township.name}分管领导{names.person(rng)}", Role.SUPERVISOR
        )
        world.operators[township.code] = operators
        world.supervisors[township.code] = supervisor
        accounts.extend([*operators, supervisor])
    county_code = world.scope.code[:6]
    world.county_admin = Actor(
        f"county-admin-{county_code}", f"县级管理员{names.person(rng)}", Role.COUNTY_ADMIN
    )
    accounts.append(world.county_admin)
    for d in world.departments:
        actor = Actor(f"dept-{d.code}", f"{d.name}·{names.person(rng)}", Role.DEPARTMENT, d.code)
        world.department_accounts[d.code] = actor
        accounts.append(actor)
    fulltime = {s.grid_id: s.name for s in world.staff if s.role == StaffRole.FULLTIME}
    for g in world.grids:
        actor = Actor(f"gw-{g.code}", fulltime[g.code], Role.GRID_WORKER, None, (g.code,))
        world.grid_workers[g.code] = actor
        accounts.append(actor)
    world.accounts = accounts
