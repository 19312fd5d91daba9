"""Statistics (统计) on a real store with hand-built cases.

Every expected figure below is worked out by hand from the story of each case (written next to
it), never by calling the code under test. The period is June 2025; "now" is 20 June 2025.
Working days in June 2025: the Dragon Boat holiday ends Monday 2 June; 3–6 and 9–13 June are
working days, 7–8 June a weekend.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from sync.model.calendar import SHANGHAI
from sync.model.clock import to_millis
from sync.model.records import Actor, Role
from sync.stats.core import Statistics
from sync.stats.periods import BadPeriod, Period
from sync.stats.scoring import BadWeights, parse_weights, ranking
from sync.store import Store
from tests.conftest import ACCOUNTS, DONGHUAJIE, HUAIWANG, ZHANGWANG, Clock

OP = ACCOUNTS["operator"]
SUP = ACCOUNTS["supervisor"]
GW = ACCOUNTS["grid_worker"]  # holds 张王村第一网格
ZHZF = ACCOUNTS["department"]  # 综合执法 (zhzf)
PCS = Actor("dep-pcs", "派出所民警", Role.DEPARTMENT, "pcs")
SFS = Actor("dep-sfs", "司法所干部", Role.DEPARTMENT, "sfs")
ZW1, ZW2, HW1, DH1 = f"{ZHANGWANG}001", f"{ZHANGWANG}002", f"{HUAIWANG}001", f"{DONGHUAJIE}001"
JUNE = Period.parse("2025-06")


def _t(day: int, hour: int = 10, month: int = 6) -> int:
    return to_millis(dt.datetime(2025, month, day, hour, tzinfo=SHANGHAI))


class Story:
    """Acts on the store at given Shanghai times (June 2025 unless told)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock

    def at(self, day: int, hour: int = 10, month: int = 6) -> Store:
        self.clock.now = _t(day, hour, month)
        return self.store

    def report(self, day: int, who: Actor, category: str, grid: str, source: str, **kw) -> str:
        fields = {"title": f"事件{category}", "category": category, "grid_id": grid}
        fields["source"] = source
        return self.at(day, 9, kw.pop("month", 6)).report(who, fields, **kw).case_id


@pytest.fixture
def june(store: Store, clock: Clock) -> dict[str, str]:
    """Eight cases reported in June 2025 and one in May; returns their ids by letter."""
    store.put_accounts([PCS, SFS])
    s = Story(store, clock)
    ids: dict[str, str] = {}

    # A: neighbour dispute (5 working days), patrol, 张王村一格. Joint dispatch: zhzf leads, pcs
    # assists. First verification fails, both feed back again, closed 6 June (due 10 June):
    # on time, 3 working days (4, 5, 6 June). Satisfied.
    a = ids["A"] = s.report(3, GW, "0101", ZW1, "patrol")
    s.at(3, 10).accept(a, OP)
    s.at(3, 11).dispatch(a, OP, ("department", "zhzf"), [("department", "pcs")])
    s.at(4).feedback(a, PCS, "pcs", "已协助")
    s.at(5).feedback(a, ZHZF, "zhzf", "已调解")
    s.at(5, 15).verify(a, OP, False, "当事人不认可")
    s.at(6).feedback(a, ZHZF, "zhzf", "再次调解")
    s.at(6, 11).feedback(a, PCS, "pcs", "再次协助")
    s.at(6, 15).verify(a, OP, True)
    s.at(6, 16).archive(a, OP)
    s.at(6, 17).evaluate(a, OP, 5, "satisfied")

    # B: garbage (3 working days: due 6 June), hotline, 槐王村. zhzf gets an extension to
    # 12 June, closes 10 June: on time thanks to the extension; 5 working days (4–6, 9, 10).
    # Dissatisfied.
    b = ids["B"] = s.report(3, OP, "0301", HW1, "hotline")
    s.at(3, 10).accept(b, OP)
    s.at(3, 11).dispatch(b, OP, ("department", "zhzf"))
    s.at(5).request_extension(b, ZHZF, "zhzf", _t(12, 20), "需协调清运车辆")
    s.at(5, 11).decide_extension(b, SUP, True)
    s.at(10).feedback(b, ZHZF, "zhzf", "已清运")
    s.at(10, 15).verify(b, OP, True)
    s.at(10, 16).archive(b, OP)
    s.at(10, 17).evaluate(b, OP, 2, "dissatisfied")

    # C: garbage, hotline, 张王村二格, accepted 4 June (due 9 June). Dispatched to sfs, which
    # returns it; re-dispatched to zhzf; urged 10 June; closed 11 June: late, 5 working days
    # (5, 6, 9, 10, 11).
    c = ids["C"] = s.report(4, OP, "0301", ZW2, "hotline")
    s.at(4, 10).accept(c, OP)
    s.at(4, 11).dispatch(c, OP, ("department", "sfs"))
    s.at(4, 15).return_task(c, SFS, "sfs", "不属于司法所职责")
    s.at(4, 16).dispatch(c, OP, ("department", "zhzf"))
    s.at(10).urge(c, SUP, "尽快处理")
    s.at(11).feedback(c, ZHZF, "zhzf", "已清理")
    s.at(11, 15).verify(c, OP, True)

    # D: self-handled by the grid worker 5 June, verified the same day: on time, 0 days.
    # Basically satisfied.
    d = ids["D"] = s.report(5, GW, "0301", ZW1, "patrol", self_handled_result="现场已清理")
    s.at(5, 12).verify(d, OP, True)
    s.at(5, 13).archive(d, OP)
    s.at(5, 14).evaluate(d, OP, 4, "basic")

    # E: rejected.
    e = ids["E"] = s.report(5, OP, "0301", HW1, "resident_app")
    s.at(5, 10).reject(e, OP, "重复上报的无效信息")

    # F: family dispute, walk-in, 东华街社区一格; escalated to the county, handled by pcs,
    # closed 9 June (due 12 June): on time, 2 working days (6, 9) — closed above the township,
    # so not 化解.
    f = ids["F"] = s.report(5, OP, "0102", DH1, "walk_in")
    s.at(5, 10).accept(f, OP)
    s.at(5, 11).escalate(f, OP, "涉及跨镇土地权属")
    s.at(5, 12).dispatch(f, OP, ("department", "pcs"))
    s.at(9).feedback(f, PCS, "pcs", "已调处")
    s.at(9, 15).verify(f, OP, True)

    # G: garbage, parked with approval 6 June (review in July).
    g = ids["G"] = s.report(6, OP, "0301", DH1, "hotline")
    s.at(6, 10).accept(g, OP)
    s.at(6, 11).request_park(g, OP, "需等待拆迁安置", _t(15, 10, month=7))
    s.at(6, 12).decide_park(g, SUP, True)

    # H: fire hazard (3 days: due 6 June), video, 槐王村, dispatched to pcs and left open:
    # overdue on 20 June.
    h = ids["H"] = s.report(3, OP, "0201", HW1, "video")
    s.at(3, 10).accept(h, OP)
    s.at(3, 11).dispatch(h, OP, ("department", "pcs"))

    # May: one case, rejected (the previous period).
    m = ids["M"] = s.report(28, OP, "0301", HW1, "hotline", month=5)
    s.at(28, 10, month=5).reject(m, OP, "无效")

    clock.now = _t(20, 12)
    return ids


def test_township_figures_for_the_month(store: Store, june: dict[str, str]) -> None:
    f = Statistics(store).figures(JUNE)
    assert f.total == 8  # A–H
    assert f.dropped == 1 and f.valid == 7  # E rejected
    assert f.parked == 1  # G
    assert f.closed == 5  # A B C D F
    assert f.closure_rate == pytest.approx(5 / 6)  # parked G is not due for closure
    assert f.on_time == 4 and f.on_time_rate == pytest.approx(4 / 5)  # C was late
    assert (f.rated, f.satisfied) == (3, 2)  # A satisfied, D basic; B dissatisfied
    assert f.satisfaction_rate == pytest.approx(2 / 3)
    assert f.self_rate == pytest.approx(1 / 7)  # D
    assert (f.disputes, f.resolved) == (2, 1)  # A at township; F closed at county
    assert f.resolution_rate == pytest.approx(0.5)
    assert f.avg_days == pytest.approx((3 + 5 + 5 + 0 + 2) / 5)
    assert f.overdue == 2  # C closed late, H open past its deadline; parked G is not watched
    assert (f.urged, f.urges) == (1, 1)
    assert (f.dispatched, f.returned) == (5, 1)  # A B C F H dispatched; C returned
    assert f.return_rate == pytest.approx(1 / 5)
    assert (f.verifications, f.verify_failures) == (6, 1)  # A twice, B C D F once
    assert f.verify_fail_rate == pytest.approx(1 / 6)
    assert f.extended == 1  # B


def test_previous_period_and_year_ago_side_by_side(store: Store, june: dict[str, str]) -> None:
    both = Statistics(store).compare(JUNE)
    assert both["current"].total == 8
    may = both["previous"]
    assert (may.total, may.dropped, may.valid, may.closure_rate) == (1, 1, 0, None)
    last_year = both["year_ago"]
    assert last_year.total == 0 and last_year.on_time_rate is None and last_year.avg_days is None


def test_breakdowns_by_place_category_source_and_level(store: Store, june: dict[str, str]) -> None:
    stats = Statistics(store)
    village = {r.key: r for r in stats.breakdown(JUNE, "village")}
    assert village[ZHANGWANG].total == 3  # A C D
    assert village[ZHANGWANG].name == "张王村"
    assert (village[ZHANGWANG].closed, village[ZHANGWANG].on_time) == (3, 2)  # C late
    assert (village[HUAIWANG].total, village[HUAIWANG].dropped) == (3, 1)  # B E H
    assert village[HUAIWANG].overdue == 1  # H
    assert village[DONGHUAJIE].parked == 1  # G (and F)
    grid = {r.key: (r.total, r.self_handled) for r in stats.breakdown(JUNE, "grid")}
    assert grid == {ZW1: (2, 1), ZW2: (1, 0), HW1: (3, 0), DH1: (2, 0)}
    category = {r.key: r.total for r in stats.breakdown(JUNE, "category")}
    assert category == {"01": 2, "02": 1, "03": 5}
    assert {r.key: r.name for r in stats.breakdown(JUNE, "category")}["01"] == "矛盾纠纷"
    source = {r.key: r.total for r in stats.breakdown(JUNE, "source")}
    assert source == {"patrol": 2, "hotline": 3, "resident_app": 1, "walk_in": 1, "video": 1}
    level = {r.key: r.total for r in stats.breakdown(JUNE, "level")}
    assert level == {"1": 2, "3": 5, "4": 1}  # A D reported by the grid worker; F escalated
    worker = {r.key: (r.total, r.self_handled) for r in stats.breakdown(JUNE, "worker")}
    assert worker == {GW.id: (2, 1), OP.id: (6, 0)}


def test_joint_dispatch_counts_each_unit_for_its_own_part(
    store: Store, june: dict[str, str]
) -> None:
    units = {u.key: u for u in Statistics(store).breakdown(JUNE, "department")}
    assert set(units) == {"zhzf", "pcs", "sfs"}
    z, p, s = units["zhzf"], units["pcs"], units["sfs"]
    # zhzf: lead of A, B, C. Feedback on time for A (6 ≤ 10 June) and B (10 ≤ 12, extended),
    # late for C (11 > 9 June). Outcome as lead: 3 closed, A satisfied and B not; A's failed
    # verification is the lead's.
    assert (z.assigned, z.led, z.assisted) == (3, 3, 0)
    assert (z.fed_back, z.fed_back_on_time, z.returned) == (3, 2, 0)
    assert (z.lead_valid, z.lead_closed, z.lead_rated, z.lead_satisfied) == (3, 3, 2, 1)
    assert (z.lead_verifications, z.lead_verify_failures) == (4, 1)
    # pcs: assists A, leads F and H. Its feedback on A and F was on time; H is still open.
    assert (p.assigned, p.led, p.assisted) == (3, 2, 1)
    assert (p.fed_back, p.fed_back_on_time) == (2, 2)
    assert (p.lead_valid, p.lead_closed, p.lead_rated) == (2, 1, 0)
    assert (p.lead_verifications, p.lead_verify_failures) == (1, 0)
    # sfs: was sent C and returned it; it no longer leads anything.
    assert (s.assigned, s.led, s.returned, s.return_rate) == (1, 1, 1, 1.0)
    assert (s.fed_back, s.lead_valid) == (0, 0)


def test_department_ranking_scores_explain_themselves(store: Store, june: dict[str, str]) -> None:
    scores = ranking(Statistics(store), JUNE, "department")
    assert [s.key for s in scores] == ["pcs", "zhzf", "sfs"]
    pcs, zhzf, sfs = scores
    # pcs: timeliness 2/2, verification 1 − 0/1, no rating (left out), volume 3/3.
    assert pcs.score == pytest.approx(100 * (40 + 20 + 10) / 70)
    # zhzf: 2/3 on time, 1 − 1/4 verified, 1/2 satisfied, volume 3/3.
    assert zhzf.score == pytest.approx(40 * 2 / 3 + 20 * 0.75 + 30 * 0.5 + 10)
    # sfs: only volume 1/3 has data.
    assert sfs.score == pytest.approx(100 / 3)
    assert [s.rank for s in scores] == [1, 2, 3]
    assert "满意度：无数据，不计" in pcs.explain()
    assert "时效 66.7%（按期反馈 2 / 反馈 3）× 权重40" in zhzf.explain()
    assert zhzf.explain().endswith("合计 66.7 分")


def test_village_ranking_with_county_weights_from_the_store(
    store: Store, june: dict[str, str]
) -> None:
    store.set_meta(
        {
            "assessment_weights": json.dumps(
                {"timeliness": 1, "verification": 0, "satisfaction": 0, "volume": 0}
            )
        }
    )
    scores = {s.key: s.score for s in ranking(Statistics(store), JUNE, "village")}
    # Timeliness only: 张王村 A D on time of A C D; 槐王村 B of B; 东华街社区 F of F.
    assert scores == {
        ZHANGWANG: pytest.approx(100 * 2 / 3),
        HUAIWANG: pytest.approx(100.0),
        DONGHUAJIE: pytest.approx(100.0),
    }


def test_worker_ranking_ranks_grid_workers_only(store: Store, june: dict[str, str]) -> None:
    scores = ranking(Statistics(store), JUNE, "worker")
    assert [s.key for s in scores] == [GW.id]  # the operator is not a grid worker
    # 张伟: A and D, both on time; verifications A ×2 (1 failed) + D; satisfied + basic; busiest.
    assert scores[0].score == pytest.approx(40 + 20 * (1 - 1 / 3) + 30 + 10)


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{", "not valid JSON"),
        ("[1]", "JSON object"),
        ('{"speed": 3}', "unknown weight 'speed'"),
        ('{"volume": -1}', "0 or more"),
        ('{"timeliness": 0, "verification": 0, "satisfaction": 0, "volume": 0}', "above 0"),
    ],
)
def test_bad_weights_are_refused_in_plain_words(raw: str, message: str) -> None:
    with pytest.raises(BadWeights, match=message):
        parse_weights(raw)


@pytest.mark.parametrize(
    "text, first, last, previous, year_ago",
    [
        ("2026-11", "2026-11-01", "2026-11-30", "2026-10", "2025-11"),
        ("2026-Q1", "2026-01-01", "2026-03-31", "2025-Q4", "2025-Q1"),
        ("2026", "2026-01-01", "2026-12-31", "2025", "2025"),
        ("2026-W01", "2025-12-29", "2026-01-04", "2025-W52", "2025-W01"),
        ("2026-03-01", "2026-03-01", "2026-03-01", "2026-02-28", "2025-03-01"),
        (
            "2026-11-01..2026-11-10",
            "2026-11-01",
            "2026-11-10",
            "2026-10-22..2026-10-31",
            "2025-11-01..2025-11-10",
        ),
        ("2028-02", "2028-02-01", "2028-02-29", "2028-01", "2027-02"),
    ],
)
def test_periods(text: str, first: str, last: str, previous: str, year_ago: str) -> None:
    p = Period.parse(text)
    assert (p.first.isoformat(), p.last.isoformat()) == (first, last)
    assert Period.parse(p.text) == p
    assert p.previous().text == previous
    assert p.year_ago().text == year_ago
    # The half-open millisecond range covers the Shanghai days exactly.
    assert p.end - p.start == p.days * 86_400_000


@pytest.mark.parametrize("text", ["2026-13", "November", "2026-11-31", "2026-11-10..2026-11-01"])
def test_bad_periods_are_refused_in_plain_words(text: str) -> None:
    with pytest.raises(BadPeriod):
        Period.parse(text)


def test_an_empty_store_has_no_figures_but_no_errors(store_path: Path) -> None:
    with Store.open(store_path) as store:
        f = Statistics(store).figures(JUNE)
        assert f.total == 0 and f.closure_rate is None
        assert ranking(Statistics(store), JUNE, "grid") == []


def test_the_user_guide_states_every_definition_as_the_code_does() -> None:
    """统计口径 is written once in sync.stats.definitions; the guide must say the same."""
    from sync.stats.definitions import DEFINITIONS, SCOPE_EN, SCOPE_ZH

    guide = (Path(__file__).resolve().parents[2] / "docs" / "user-guide.md").read_text("utf-8")
    assert SCOPE_ZH in guide and SCOPE_EN in guide
    for d in DEFINITIONS:
        assert f"| {d.zh} | {d.zh_rule} |" in guide, d.key
        assert f"| {d.en} ({d.zh}) | {d.en_rule} |" in guide, d.key


def test_a_county_store_breaks_down_and_ranks_townships(tmp_path: Path, clock: Clock) -> None:
    """At a county linkage centre the same figures rank townships (龙洲街道 vs 东华街道)."""
    from sync.model.records import Grid, GridKind
    from sync.stats.core import breakdowns_for
    from sync.stats.scoring import rankings_for

    longzhou = "330825001001"  # 清廉社区, 龙洲街道
    grids = [
        Grid(
            f"{longzhou}001",
            f"{longzhou}001",
            "清廉社区第一网格",
            longzhou,
            GridKind.URBAN,
            300,
            900,
        ),
        Grid(ZW1, ZW1, "张王村第一网格", ZHANGWANG, GridKind.RURAL, 180, 460),
    ]
    with Store.create(tmp_path / "county.db", scope="330825", clock=clock) as store:
        store.put_grids(grids)
        store.put_departments([])
        s = Story(store, clock)
        # 龙洲街道: two cases, one closed on time (accepted 3 June, due 6 June, closed 4 June).
        a = s.report(3, OP, "0301", f"{longzhou}001", "hotline")
        s.at(3, 10).accept(a, OP)
        s.at(3, 11).dispatch(a, OP, ("grid", f"{longzhou}001"))
        s.at(4).feedback(a, OP, f"{longzhou}001", "已清理")
        s.at(4, 15).verify(a, OP, True)
        s.report(5, OP, "0301", f"{longzhou}001", "hotline")
        # 东华街道: one case, still waiting.
        s.report(5, OP, "0301", ZW1, "patrol")
        clock.now = _t(20, 12)
        assert breakdowns_for(store)[0] == "township" and rankings_for(store)[0] == "township"
        stats = Statistics(store)
        towns = {r.key: (r.name, r.total, r.closed) for r in stats.breakdown(JUNE, "township")}
        assert towns == {"330825001": ("龙洲街道", 2, 1), "330825002": ("东华街道", 1, 0)}
        scores = ranking(stats, JUNE, "township")
        # 龙洲: on time 1/1, verified 1/1, no rating, volume 2/2 → 100. 东华: only volume 1/2.
        assert [(x.key, round(x.score or 0, 6)) for x in scores] == [
            ("330825001", 100.0),
            ("330825002", 50.0),
        ]


def test_a_step_voided_by_a_settlement_does_not_count(store: Store, clock: Clock) -> None:
    """Device B closed the case while this device re-dispatched it; the supervisor voids the
    close. The voided verification is not counted (it never happened, as in the projection)."""
    from sync.model.clock import HlcStamp, new_id
    from sync.model.records import Action, Entry

    s = Story(store, clock)
    case = s.report(3, OP, "0301", HW1, "hotline")
    s.at(3, 10).accept(case, OP)
    s.at(3, 11).dispatch(case, OP, ("department", "zhzf"))
    s.at(4).feedback(case, ZHZF, "zhzf", "已清理")
    s.at(5, 10).dispatch(case, OP, ("department", "pcs"))  # this device: re-dispatch
    remote = Entry(  # device B, earlier in merge order: verified and closed
        new_id(), case, Action.VERIFY_PASS, "op-b", Role.OPERATOR, _t(5, 9),
        HlcStamp(_t(5, 9), 0, "DEVB").encode(), {"note": "", "method": "call"},
    )  # fmt: skip
    store.apply_entries([remote])
    assert store.case(case).status == "closed" and store.case(case).conflicts
    s.at(5, 12).settle(case, SUP, void=[remote.id])
    assert store.case(case).status == "handling"
    clock.now = _t(20, 12)
    f = Statistics(store).figures(JUNE)
    assert (f.total, f.closed, f.verifications, f.dispatched) == (1, 0, 0, 1)
    units = {u.key: u for u in Statistics(store).breakdown(JUNE, "department")}
    assert set(units) == {"zhzf", "pcs"} and units["pcs"].lead_verifications == 0


def test_figures_after_breakdowns_are_those_of_a_fresh_read(
    store: Store, june: dict[str, str]
) -> None:
    """breakdowns() reads the whole area's figures in the same pass; figures() reuses them."""
    clock_now = _t(20, 12)
    stats = Statistics(store, now=clock_now)
    stats.breakdowns(JUNE, ["village", "department"])
    reused = stats.figures(JUNE)
    assert reused == Statistics(store, now=clock_now).figures(JUNE)
    assert reused.total == 8
    reused.total = -1  # a caller's change does not leak into the next answer
    assert stats.figures(JUNE).total == 8


def _late_then_extended(s: Story) -> str:
    """Garbage (3 working days) dispatched to zhzf 3 June, due 6 June; urged 9 June, past the
    deadline; extended to 20 June; fed back 12 June."""
    case = s.report(3, OP, "0301", HW1, "hotline")
    s.at(3, 10).accept(case, OP)
    s.at(3, 11).dispatch(case, OP, ("department", "zhzf"))
    s.at(9).urge(case, SUP, "已超期，尽快处理")
    s.at(9, 11).request_extension(case, ZHZF, "zhzf", _t(20, 20), "需协调清运车辆")
    s.at(9, 12).decide_extension(case, SUP, True)
    s.at(12).feedback(case, ZHZF, "zhzf", "已清运")
    return case


def test_an_extension_granted_after_the_deadline_does_not_make_a_late_unit_timely(
    store: Store, clock: Clock
) -> None:
    """Garbage (3 working days): dispatched 3 June, due 6 June. Urged 9 June, past the deadline
    (the case is on record as overdue); extended to 20 June; zhzf feeds back 12 June — before
    the new deadline, after the one it missed. Its 按期反馈 is 0 of 1, as the model says."""
    from sync.model.workflow import fed_back_on_time

    case = _late_then_extended(Story(store, clock))
    state = store.case(case)
    assert state is not None and state.overdue_at is not None and state.overdue_at < _t(9)
    assert state.handle_due is not None and state.handle_due > _t(12)
    (task,) = [t for t in state.tasks if t.assignee == "zhzf"]
    assert not fed_back_on_time(state, task)
    clock.now = _t(20, 12)
    (z,) = [u for u in Statistics(store).breakdown(JUNE, "department") if u.key == "zhzf"]
    assert (z.fed_back, z.fed_back_on_time) == (1, 0)


def test_opening_an_older_store_fills_in_when_cases_ran_overdue(
    store_path: Path, store: Store, clock: Clock
) -> None:
    """A store from before ``0015_overdue_at``: the cases whose deadline moved are re-projected
    when it is next opened, so the figure is right without any command."""
    from sync.store import schema

    s = Story(store, clock)
    late = _late_then_extended(s)
    plain = s.report(4, OP, "0301", HW1, "hotline")
    s.at(4, 10).accept(plain, OP)
    # Back to the schema before the migration, as an older Gridroom left it.
    index = [m.name for m in schema.MIGRATIONS].index("0015_overdue_at")
    with store.write() as conn:
        conn.execute("DROP TABLE reproject_queue")
        conn.execute("UPDATE cases SET overdue_at = NULL")
    store.conn.execute("ALTER TABLE cases DROP COLUMN overdue_at")
    store.conn.execute(f"PRAGMA user_version = {index}")
    store.close()

    with Store.open(store_path, clock=clock) as reopened:
        assert reopened.read("SELECT count(*) FROM reproject_queue")[0][0] == 0
        rows = dict(reopened.read("SELECT id, overdue_at FROM cases"))
        assert rows[late] is not None and rows[plain] is None
        clock.now = _t(20, 12)
        units = Statistics(reopened).breakdown(JUNE, "department")
        (z,) = [u for u in units if u.key == "zhzf"]
        assert (z.fed_back, z.fed_back_on_time) == (1, 0)
