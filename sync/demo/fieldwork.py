"""Synthetic field work for the demo: 民情日记 visits and 巡查 patrols by each grid's worker.

Over the last weeks before the demo's "now", every grid worker visits a few households (names
from :mod:`.names`, all synthetic) and patrols their grid, with follow-ups and findings that a
user can turn into cases. Written as history (``local = 0``: nothing waits to be pushed), with
ids and times from the seeded generator, so one seed always builds the same visits.
"""

from __future__ import annotations

import random

from ..model.clock import Millis
from ..model.records import Visit, VisitItem
from ..store import Store
from ..store import fieldwork as fw
from . import names
from .ids import uuid7_at
from .places import World

DAY = 86_400_000
SHANGHAI_OFFSET = 8 * 3_600_000

_NOTES = (
    "独居老人，身体状况尚可，按时服药，子女每周来电。",
    "低保户，家中两位老人，儿子在外务工，生活基本有保障。",
    "新迁入住户，已登记人口信息，讲解了垃圾分类和防诈骗知识。",
    "残疾人家庭，轮椅老旧，已了解辅具申请需要的材料。",
    "家中有在读学生，反映上学路段早晚车多，希望加强引导。",
    "租户三人，在附近厂里务工，已提醒出租房消防安全。",
    "老党员家庭，对村里环境整治很满意，提出河边加装护栏的建议。",
)
_FOLLOW_UPS = (
    "屋顶漏雨需维修",
    "代办高龄补贴",
    "门前路灯不亮",
    "申请临时救助",
    "轮椅需更换，协助申请辅具",
    "出租房灭火器过期",
    "邻里因排水沟堵塞有矛盾",
)
_ORGANISATIONS = ("村来料加工点", "村幼儿园", "村卫生室", "村农家乐", "村老年食堂")
_PLACES = (
    "村口至小学路段",
    "沿河步道",
    "农贸市场",
    "垃圾集中收集点",
    "村文化礼堂周边",
    "老旧民房片区",
)
_CHECKED = (
    "消防通道、电动车充电、垃圾收集点",
    "河道护栏、水面漂浮物、钓鱼警示牌",
    "占道经营、流动摊贩、井盖",
    "危旧房屋、电线乱拉、堆放杂物",
)
_FINDINGS = (
    "护栏松动一处",
    "井盖缺失，已临时围挡",
    "电动车楼道充电",
    "垃圾桶满溢未清运",
    "流动摊贩占道",
    "河面有漂浮垃圾",
)


def _when(rng: random.Random, now: Millis, weeks: int, first_hour: int, last_hour: int) -> Millis:
    """A working-hours minute (Shanghai) on one of the days before ``now``'s day."""
    midnight = now - (now + SHANGHAI_OFFSET) % DAY
    day = midnight - rng.randrange(1, weeks * 7) * DAY
    return day + rng.randrange(first_hour * 60, last_hour * 60) * 60_000


def add_field_work(
    store: Store, world: World, *, seed: int, now: Millis, weeks: int = 6
) -> tuple[int, int]:
    """Visits and patrols of every grid worker over ``weeks`` before ``now``; returns how
    many visits and patrols were written."""
    made: list[Visit] = []
    for grid in world.grids:
        worker = world.grid_workers.get(grid.code)
        if worker is None:
            continue
        rng = random.Random(f"gridroom-demo:{seed}:fieldwork:{grid.code}")
        for _ in range(rng.randint(weeks, weeks * 2)):
            at = _when(rng, now, weeks, 8, 17)
            if rng.random() < 0.8:
                family = names.surname(rng)
                household = f"{rng.randint(1, 9)}组{rng.randint(1, 60)}号 {family}家"
                kind, subject_kind = "household", "household"
                people: tuple[str, ...] = (names.person(rng),)
                if rng.random() < 0.3:
                    people += (names.person(rng),)
            else:
                household = names.shop(rng) if rng.random() < 0.6 else rng.choice(_ORGANISATIONS)
                kind, subject_kind = "organisation", "organisation"
                people = (names.person(rng),)
            items = tuple(
                VisitItem(uuid7_at(rng, at), text)
                for text in rng.sample(_FOLLOW_UPS, rng.choice((0, 0, 1, 1, 2)))
            )
            made.append(
                Visit(
                    id=uuid7_at(rng, at),
                    grid_id=grid.code,
                    staff_id=worker.id,
                    kind="visit",
                    at=at,
                    household=household,
                    content=rng.choice(_NOTES),
                    subject_kind=subject_kind,
                    subject_id=f"{'H' if kind == 'household' else 'O'}-{rng.randint(1, 999):03d}",
                    people=people,
                    items=items,
                )
            )
        for _ in range(rng.randint(weeks // 2, weeks)):
            at = _when(rng, now, weeks, 7, 18)
            findings = tuple(
                VisitItem(uuid7_at(rng, at), text)
                for text in rng.sample(_FINDINGS, rng.choice((0, 1, 1, 2)))
            )
            made.append(
                Visit(
                    id=uuid7_at(rng, at),
                    grid_id=grid.code,
                    staff_id=worker.id,
                    kind="patrol",
                    at=at,
                    household=rng.choice(_PLACES),
                    content="巡查正常" if not findings else "发现问题已记录，待处理",
                    subject_kind="place",
                    checked=rng.choice(_CHECKED),
                    items=findings,
                )
            )
    columns = fw.VISIT_COLUMNS
    marks = ", ".join("?" * len(columns.split(", ")))
    with store.write() as conn:
        conn.executemany(
            f"INSERT INTO visits ({columns}, local) VALUES ({marks}, 0)",
            [fw.visit_values(v) for v in made],
        )
    visits = sum(1 for v in made if v.kind == "visit")
    return visits, len(made) - visits
