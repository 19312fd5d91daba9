"""Shared fixtures: a small real store on a temporary file, a settable clock, a store digest.

Everything here is real: stores are SQLite files under pytest's ``tmp_path``, opened through
:class:`sync.store.Store`. Keep fixtures small and generic; a test that needs more data adds it
through the store's own API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sync.model.calendar import SHANGHAI
from sync.model.clock import Millis, to_millis
from sync.model.records import (
    Actor,
    Department,
    Grid,
    GridKind,
    Role,
    Staff,
    StaffRole,
)
from sync.store import Store

#: 东华街道, 龙游县: 6 communities and 22 villages in the bundled divisions (DOMAIN.md's example).
TOWNSHIP = "330825002"
ZHANGWANG = "330825002222"  # 张王村村民委员会 → 张王村 (rural)
HUAIWANG = "330825002223"  # 槐王村村民委员会 → 槐王村 (rural)
DONGHUAJIE = "330825002001"  # 东华街社区 (urban)

GRIDS = (
    Grid(
        f"{ZHANGWANG}001", f"{ZHANGWANG}001", "张王村第一网格", ZHANGWANG, GridKind.RURAL, 180, 460
    ),
    Grid(
        f"{ZHANGWANG}002", f"{ZHANGWANG}002", "张王村第二网格", ZHANGWANG, GridKind.RURAL, 210, 520
    ),
    Grid(f"{HUAIWANG}001", f"{HUAIWANG}001", "槐王村第一网格", HUAIWANG, GridKind.RURAL, 150, 400),
    Grid(
        f"{DONGHUAJIE}001",
        f"{DONGHUAJIE}001",
        "东华街社区第一网格",
        DONGHUAJIE,
        GridKind.URBAN,
        320,
        980,
    ),
    Grid(
        f"{DONGHUAJIE}002",
        f"{DONGHUAJIE}002",
        "东华街社区学校专属网格",
        DONGHUAJIE,
        GridKind.DEDICATED,
        0,
        1200,
        "东华街小学",
    ),
)
DEPARTMENTS = (
    Department("pcs", "东华派出所"),
    Department("sfs", "东华司法所"),
    Department("zhzf", "综合行政执法中队"),
)
ACCOUNTS = {
    "operator": Actor("op-wang", "王丽", Role.OPERATOR),
    "operator2": Actor("op-zhou", "周敏", Role.OPERATOR),
    "supervisor": Actor("sup-li", "李建国", Role.SUPERVISOR),
    "grid_worker": Actor("gw-zhang", "张伟", Role.GRID_WORKER, None, (f"{ZHANGWANG}001",)),
    "department": Actor("dep-zhzf", "陈刚", Role.DEPARTMENT, "zhzf"),
    "county_admin": Actor("admin-county", "县管理员", Role.COUNTY_ADMIN),
}
STAFF = (
    Staff("st-1", "张伟", StaffRole.FULLTIME, "13800000001", f"{ZHANGWANG}001"),
    Staff("st-2", "张建华", StaffRole.LEADER, "13800000002", f"{ZHANGWANG}001"),
)

#: The fixed start of the test clock: Monday 2 June 2025, 09:00 in Shanghai (a working day).
START = dt.datetime(2025, 6, 2, 9, 0, tzinfo=SHANGHAI)


class Clock:
    """A settable wall clock for stores: ``clock()`` is now in UTC milliseconds."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now: Millis = to_millis(start)

    def __call__(self) -> Millis:
        return self.now

    def advance(self, *, hours: float = 0, minutes: float = 0, days: float = 0) -> Millis:
        """Move the clock forward and return the new now."""
        self.now += int((days * 24 * 60 + hours * 60 + minutes) * 60_000)
        return self.now

    def set(self, when: dt.datetime) -> None:
        """Jump to an aware datetime."""
        self.now = to_millis(when)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/gui as ``gui`` (needs a Qt application)."""
    gui_dir = Path(__file__).resolve().parent / "gui"
    for item in items:
        if gui_dir in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture
def clock() -> Clock:
    """A settable clock starting Monday 2025-06-02 09:00 Shanghai; pass it to stores."""
    return Clock()


@pytest.fixture
def actors() -> dict[str, Actor]:
    """The fixture store's accounts by role name: operator, operator2, supervisor, grid_worker
    (holds 张王村第一网格), department (综合执法, ``zhzf``), county_admin."""
    return dict(ACCOUNTS)


@pytest.fixture
def store_path(tmp_path: Path, clock: Clock) -> Path:
    """A freshly created, closed store file for 东华街道 with 5 grids (张王村 ×2, 槐王村, 东华街社区
    ×2 incl. a dedicated one), 3 departments, 6 accounts and 2 staff; no cases."""
    path = tmp_path / "store.db"
    with Store.create(path, scope=TOWNSHIP, device_code="TEST", clock=clock) as store:
        store.put_grids(GRIDS, synthetic=True)
        store.put_departments(DEPARTMENTS)
        store.put_accounts(ACCOUNTS.values())
        store.put_staff(STAFF, synthetic=True)
    return path


@pytest.fixture
def store(store_path: Path, clock: Clock) -> Iterator[Store]:
    """The ``store_path`` store, open with the test ``clock``; closed after the test."""
    with Store.open(store_path, clock=clock) as opened:
        yield opened


def digest(path: Path) -> str:
    """A digest of every row of every table of a store file: equal digests, equal contents.

    Opens its own connection (closed again), so call it while no other connection is writing.
    """
    import sqlcipher3

    conn = sqlcipher3.connect(str(path))
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
            )
        ]
        h = hashlib.sha256()
        for table in tables:
            h.update(table.encode())
            rows = sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{table}"'))
            for row in rows:
                h.update(row.encode())
        return h.hexdigest()
    finally:
        conn.close()


@pytest.fixture
def store_digest() -> Callable[[Path], str]:
    """A function: store file → digest of all its rows (see :func:`digest`)."""
    return digest


# Session-wide, so a Qt test anywhere (tests/unit too) gets the same screen whatever runs first.
@pytest.fixture(scope="session")
def qapp_args(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Offscreen, on a 1920×1080 screen like a command room's (the plugin's default screen is
    800×800, smaller than any real desk, which would squeeze every window onto it)."""
    config = tmp_path_factory.mktemp("qpa") / "screen.json"
    config.write_text(
        json.dumps(
            {
                "synchronousWindowSystemEvents": False,
                "windowFrameMargins": False,
                "screens": [
                    {
                        "name": "desk",
                        "x": 0,
                        "y": 0,
                        "width": 1920,
                        "height": 1080,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    return ["gridroom-tests", "-platform", f"offscreen:configfile={config}"]
