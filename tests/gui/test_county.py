"""五级贯通 and 待审批 in the app (issue 10): the township follows a county case read-only, the
county takes it in and hands it down (交办), the county board on a county-scope device, and the
supervisor's 待审批 card, filter and navigation badge.

Real stores built through the store's command API, real widgets offscreen, in Chinese; figures
are checked against counts computed here from the cases' projections.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.cases.list_model import COLUMNS
from sync.model.records import (
    OPEN_STATUSES,
    Action,
    Actor,
    Department,
    Grid,
    GridKind,
    Level,
    Light,
    Role,
    Status,
)
from sync.store import Store
from sync.store.queues import approval_query
from tests.conftest import TOWNSHIP, Clock
from tests.gui.casework_fixtures import (  # noqa: F401 (_casework provides the casework fixture)
    Casework,
    _casework,
    type_text,
)
from tests.gui.test_detail import make_case, open_form, shown, submit_ok

from .conftest import wait_idle

A = Action
TOWN_OPERATOR = Actor("op-town", "赵敏", Role.OPERATOR, township=TOWNSHIP)
BUREAU = Department("housing", "县住房和城乡建设局", county=True)
STATUS = [c.key for c in COLUMNS].index("status")


def test_the_township_follows_a_county_case_read_only_and_gets_it_back_handed_down(
    qtbot, casework: Casework
) -> None:
    work = casework
    work.store.put_accounts([TOWN_OPERATOR])
    work.store.put_departments([BUREAU])
    case_id = make_case(work, "accepted")
    work.store.dispatch(case_id, TOWN_OPERATOR, lead=("department", "zhzf"))
    work.clock.advance(hours=1)
    work.store.escalate(case_id, TOWN_OPERATOR, "涉及县级排水管网改造，本级无法解决")

    work.ctx.set_actor(TOWN_OPERATOR)
    detail = shown(work, qtbot, case_id)
    assert detail.county_note.isVisible()
    assert "已上报县级，等待县综合指挥中心受理" in detail.county_note.text()
    # Read-only: only a comment, and a plain reason where the steps would be.
    assert detail.shown_actions() == [A.COMMENT]
    assert detail.read_only.isVisible()
    assert detail.read_only.text().startswith("本事件已上报县级：由县综合指挥中心受理")

    # The county operator (an account of no township) takes it in, then hands it down.
    work.act_as("operator")
    assert not detail.read_only.isVisible()
    assert A.ACCEPT in detail.shown_actions() and A.HAND_DOWN in detail.shown_actions()
    form = open_form(qtbot, detail, A.ACCEPT)
    assert form.intro.text().startswith("受理乡镇上报的事件")
    submit_ok(qtbot, detail, form)
    assert not work.state(case_id).awaiting_county
    assert "县综合指挥中心已于" in detail.county_note.text()
    form = open_form(qtbot, detail, A.DISPATCH)
    offered = [form.lead.itemText(i) for i in range(form.lead.count())]  # type: ignore[attr-defined]
    assert offered[1] == "县住房和城乡建设局"  # the county's own bureau first at county level
    form.reject()

    form = open_form(qtbot, detail, A.HAND_DOWN)
    assert form.windowTitle() == "交办乡镇"
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert form.error_text() == "请填写给乡镇的交办要求。"
    instructions = "经研判属镇级职责，请东华街道牵头处置，五个工作日内反馈"
    type_text(form.instructions, instructions)  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)
    state = work.state(case_id)
    assert state.level == Level.TOWNSHIP and state.escalation == 3
    assert detail.county_note.text().endswith(f"：{instructions}")
    assert "县级于" in detail.county_note.text()
    assert any(line.endswith(f"交办乡镇：{instructions}") for line in detail.timeline.lines())

    # The township has it as its own case: it dispatches, but not to the county's bureau.
    work.ctx.set_actor(TOWN_OPERATOR)
    detail.reload()
    assert not detail.read_only.isVisible()
    assert A.DISPATCH in detail.shown_actions() and A.EDIT in detail.shown_actions()
    form = open_form(qtbot, detail, A.DISPATCH)
    offered = [form.lead.itemText(i) for i in range(form.lead.count())]  # type: ignore[attr-defined]
    assert "县住房和城乡建设局" not in offered and "综合行政执法中队" in offered
    form.reject()


# -- the county-scope device ---------------------------------------------------------------------

COUNTY = "330825"
TA, TB = "330825102", "330825101"  # 小南海镇, 湖镇镇
GA, GB = f"{TA}201001", f"{TB}200001"
OP_C = Actor("op-c", "县综合指挥中心值班员", Role.OPERATOR)
SUP_C = Actor("sup-c", "县分管领导", Role.SUPERVISOR)
POLICE = Actor("pol", "派出所", Role.DEPARTMENT, "police")
DAY = 86_400_000


@pytest.fixture
def county_path(tmp_path: Path, clock: Clock) -> tuple[Path, list[str]]:
    """A county-scope store: two townships, cases escalated, held, handed down, urged."""
    path = tmp_path / "county.sqlite"
    ids = []
    with Store.create(path, scope=COUNTY, device_code="CNTY", clock=clock) as s:
        s.put_grids(
            [Grid(g, g, f"网格{g[-3:]}", g[:12], GridKind.RURAL, 100, 300) for g in (GA, GB)]
        )
        s.put_departments([Department("police", "派出所"), BUREAU])
        s.put_accounts([OP_C, SUP_C, POLICE])
        for grid, title in (
            (GA, "排水管网破损"),
            (GA, "道路塌陷"),
            (GA, "楼道堆物"),
            (GB, "山塘渗漏"),
            (GB, "违建"),
        ):
            case = s.report(OP_C, {"title": title, "category": "9901", "grid_id": grid})
            s.accept(case.case_id, OP_C)
            s.dispatch(case.case_id, OP_C, ("department", "police"))
            ids.append(case.case_id)
        s.escalate(ids[0], OP_C, "需县住建局处置")
        s.escalate(ids[1], OP_C, "跨乡镇")
        s.accept(ids[1], OP_C)
        s.dispatch(ids[1], OP_C, ("department", "housing"))
        s.escalate(ids[3], OP_C, "需县水利局")
        s.hand_down(ids[3], OP_C, "请湖镇镇牵头处置")
        s.urge(ids[2], SUP_C, "抓紧办理")
        s.request_park(ids[4], OP_C, "涉及历史遗留问题", s.now() + 30 * DAY)
    return path, ids


def oracle(path: Path, ids: list[str], township: str, now: int) -> dict[str, int]:
    """The board's counts for ``township``, from each case's projection."""
    out = dict.fromkeys(("awaiting", "at_county", "handed_down", "overdue", "urged"), 0)
    with Store.open(path) as s:
        for case_id in ids:
            st = s.case(case_id)
            assert st is not None
            if st.fields["grid_id"][:9] != township:
                continue
            in_hand = st.status in (*OPEN_STATUSES, Status.PARKED)
            out["awaiting"] += st.awaiting_county
            out["at_county"] += st.level == Level.COUNTY and not st.awaiting_county and in_hand
            out["handed_down"] += st.handed_down is not None and in_hand
            out["overdue"] += st.light(now) == Light.RED
            out["urged"] += st.urges > 0 and st.status in OPEN_STATUSES
    return out


def test_the_county_board_shows_every_township_and_opens_its_cases(
    make_ctx, county_path, qtbot
) -> None:
    from desktop.mainwindow import MainWindow

    path, ids = county_path
    ctx = make_ctx(path, OP_C)
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    panel = win.dashboard.county
    with qtbot.waitSignal(panel.loaded, timeout=15_000):
        win.show()
    assert panel.isVisible() and panel.board.isVisible()
    now = ctx.ops.gui_store().now()
    for township in (TA, TB):
        expected = oracle(path, ids, township, now)
        shown_counts = {c: panel.board.count(township, c) for c in expected}
        assert shown_counts == expected, township
    assert panel.board.count(TA, "awaiting") == 1 and panel.board.count(TB, "handed_down") == 1
    assert panel.board.count(None, "awaiting") == 1  # the county total row
    # Its township names, in Chinese.
    names = [panel.board.item(r, 0).text() for r in range(panel.board.rowCount())]
    assert "小南海镇" in names and "湖镇镇" in names and names[0] == "全县合计"

    # A click on 上报待受理 of 小南海镇 lands on exactly that case, the queue picker saying so.
    row = names.index("小南海镇")
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=5000):
        panel.board.cellClicked.emit(row, 1)
    view = win.cases.list
    qtbot.waitUntil(lambda: view.model.total == 1 and view.model.rowCount() == 1, timeout=10_000)
    assert view.model.case_id(0) == ids[0]
    assert view.model.index(0, STATUS).data() == "待派遣 · 上报待受理"
    assert view.filters.queue.currentText() == "上报待受理"
    assert view.filters.hidden_label.text() == "另有筛选条件：小南海镇"
    win.close()


def test_the_supervisors_queue_card_filter_and_badge(make_ctx, county_path, qtbot) -> None:
    from desktop.mainwindow import MainWindow

    path, ids = county_path
    with Store.open(path) as s:
        until = (s.case(ids[2]).handle_due or 0) + 5 * DAY  # type: ignore[union-attr]
        s.request_extension(ids[2], POLICE, "police", until, "需协调产权单位")
    ctx = make_ctx(path, SUP_C)
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    panel = win.dashboard.county
    with qtbot.waitSignal(panel.loaded, timeout=15_000):
        win.show()
    card = panel.approvals
    assert card.value.text() == "2"
    assert card.note.text() == "延期 1 · 挂账 1"
    badge = win.approval_badge
    cases_item = win.nav.item(win.page_keys().index("cases"))
    qtbot.waitUntil(lambda: cases_item.text() == "事件 ②", timeout=10_000)
    assert "2 件事件有待审批的申请" in cases_item.toolTip()

    with qtbot.waitSignal(ctx.show_cases_requested, timeout=5000) as asked:
        qtbot.mouseClick(card, Qt.MouseButton.LeftButton)
    assert asked.args == [approval_query()]
    view = win.cases.list
    qtbot.waitUntil(lambda: view.model.total == 2 and view.model.rowCount() == 2, timeout=10_000)
    assert {view.model.case_id(r) for r in range(2)} == {ids[2], ids[4]}
    assert {view.model.index(r, STATUS).data() for r in range(2)} == {"处置中 · 待审批"}
    assert view.filters.queue.currentText() == "待审批（延期、挂账）"
    # The queue is a picker of its own: choosing none shows every case again.
    view.filters.queue.setCurrentIndex(0)
    qtbot.waitUntil(lambda: view.model.total == len(ids), timeout=10_000)
    view.filters.queue.setCurrentIndex(view.filters.queue.findData("approval"))
    qtbot.waitUntil(lambda: view.model.total == 2, timeout=10_000)

    # Deciding a request lowers the badge and the card.
    def decide(store: Store) -> object:
        return store.decide_park(ids[4], SUP_C, approve=True)

    ctx.ops.write(decide).run()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: badge.count == 1 and cases_item.text() == "事件 ①", timeout=15_000)
    win.go("dashboard")
    qtbot.waitUntil(lambda: card.value.text() == "1", timeout=15_000)

    # An operator decides no requests: no badge.
    ctx.set_actor(OP_C)
    qtbot.waitUntil(lambda: cases_item.text() == "事件", timeout=5000)
    win.close()


def test_a_township_device_has_no_county_board(window) -> None:
    assert not window.dashboard.county.isVisible()
    assert window.dashboard.county.approvals.isVisible()
