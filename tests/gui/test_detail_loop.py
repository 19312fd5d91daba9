"""The loop's rules as the case detail shows them (issue 10): a pending request settles when the
case moves on, an extension granted late keeps the overdue on record, a parked case's clock
stops and its units read 挂账, and a case escalated to the county is the county's to dispatch.

Cases are set up through the store's command API; the step under test goes through the real
form where there is one, and what is checked is what the operator reads, in Chinese.
"""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QDate, Qt

from sync.model.calendar import SHANGHAI
from sync.model.clock import to_millis
from sync.model.records import Action, Actor, Level, Role, Status
from sync.model.workflow import Refused
from tests.conftest import TOWNSHIP
from tests.gui.casework_fixtures import (  # noqa: F401 (_casework provides the casework fixture)
    GRID,
    Casework,
    _casework,
    type_text,
)
from tests.gui.test_detail import make_case, open_form, shown, submit_ok

A = Action
#: An operator of the township's own command room (the fixture accounts are of no township).
TOWN_OPERATOR = Actor("op-town", "赵敏", Role.OPERATOR, township=TOWNSHIP)


def day_end(y: int, m: int, d: int) -> int:
    return to_millis(dt.datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI))


def rows(detail) -> list[list[str]]:
    return [
        [detail.tasks.topLevelItem(i).text(c) for c in range(3)]
        for i in range(detail.tasks.topLevelItemCount())
    ]


def test_a_pending_extension_is_settled_by_the_feedback_and_never_shown_again(
    qtbot, casework: Casework
) -> None:
    work = casework
    a = work.accounts
    case_id = make_case(work, "handling")
    work.store.request_extension(
        case_id, a["department"], "zhzf", day_end(2025, 6, 13), "需协调业主委员会"
    )
    detail = shown(work, qtbot, case_id)
    assert "已申请延期至 2025-06-13，待审批" in detail.notes.text()
    work.clock.advance(hours=2)
    work.store.feedback(case_id, a["department"], task="zhzf", result="已清理")
    steps = [
        lambda: work.store.verify(case_id, a["operator"], passed=True),
        lambda: work.store.archive(case_id, a["operator"]),
        lambda: work.store.evaluate(case_id, a["supervisor"], quality=5, satisfaction="satisfied"),
    ]
    for step in [lambda: None, *steps]:
        step()
        detail.reload()
        assert "待审批" not in detail.notes.text(), work.state(case_id).status
        work.act_as("supervisor")
        assert A.APPROVE_EXTENSION not in detail.shown_actions()
        work.act_as("operator")
        work.clock.advance(hours=1)
    assert work.state(case_id).status == Status.EVALUATED
    request = next(line for line in detail.timeline.lines() if "申请延期" in line)
    assert request.endswith("【未审批，事件已进入下一环节，申请失效】")


def test_an_extension_for_an_overdue_case_defaults_a_week_ahead_and_keeps_the_overdue(
    qtbot, casework: Casework
) -> None:
    work = casework
    case_id = make_case(work, "handling")  # due 2025-06-05 23:59
    work.clock.set(dt.datetime(2025, 6, 13, 9, 0, tzinfo=SHANGHAI))  # 7 days overdue
    work.act_as("department")
    detail = shown(work, qtbot, case_id)
    assert "已超期 7 天" in detail.deadline.text()
    form = open_form(qtbot, detail, A.REQUEST_EXTENSION)
    # Not today (what the date box fell back to): a week from today.
    assert form.until.date() == QDate(2025, 6, 20)  # type: ignore[attr-defined]
    assert form.intro.text().startswith("当前期限：2025-06-05 23:59，已超期。")
    type_text(form.reason, "需协调业主委员会")  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)

    work.act_as("supervisor")
    work.clock.advance(hours=1)
    approve = open_form(qtbot, detail, A.APPROVE_EXTENSION)
    # The supervisor decides knowing the miss stays on record.
    assert approve.intro.text().endswith(
        "原期限 2025-06-05 23:59 已过：批准延期后本件仍计为未按期办结。"
    )
    submit_ok(qtbot, detail, approve)
    state = work.state(case_id)
    assert state.handle_due == day_end(2025, 6, 20)
    assert state.overdue_at == day_end(2025, 6, 5)
    # The deadline runs again, but the overdue stays on record, in the notes and the history.
    assert detail.deadline.text().startswith("办理时限 2025-06-20 23:59")
    assert "已超过办理期限（2025-06-05 23:59）：计为未按期办结。" in detail.notes.text()
    request = next(line for line in detail.timeline.lines() if "申请延期" in line)
    assert request.endswith("【超期 7 天】")
    assert sum("【超期" in line for line in detail.timeline.lines()) == 1

    # Closed within the extension, it is still not 按期办结 in the store the statistics read.
    work.clock.advance(days=2)
    work.store.feedback(case_id, work.accounts["department"], task="zhzf", result="已清理")
    work.store.verify(case_id, work.accounts["operator"], passed=True)
    row = work.store.case_row(case_id)
    assert row is not None and row["on_time"] == 0


def test_a_parked_case_reads_parked_and_resumes_with_the_working_days_it_had_left(
    qtbot, casework: Casework
) -> None:
    work = casework
    a = work.accounts
    case_id = make_case(work, "handling")  # Monday 06-02, due Thursday 06-05: 3 working days
    work.store.request_park(case_id, a["operator"], "涉及历史遗留问题", day_end(2025, 6, 30))
    work.store.decide_park(case_id, a["supervisor"], approve=True)
    detail = shown(work, qtbot, case_id)
    assert detail.status.text() == "挂账"
    assert rows(detail) == [["综合行政执法中队（牵头）", "挂账", ""]]

    work.clock.set(dt.datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI))  # 26 days after the deadline
    detail.update_deadline()
    assert "超期" not in detail.deadline.text()
    form = open_form(qtbot, detail, A.RESUME)
    submit_ok(qtbot, detail, form)
    state = work.state(case_id)
    assert state.status == Status.HANDLING
    assert state.handle_due == day_end(2025, 7, 4)  # Wed, Thu, Fri: the 3 days it had left
    assert detail.deadline.text() == "办理时限 2025-07-04 23:59（剩余 3 个工作日）"
    assert rows(detail) == [["综合行政执法中队（牵头）", "处置中", ""]]
    row = work.store.case_row(case_id)
    assert row is not None and row["due_at"] == day_end(2025, 7, 4)


def test_escalated_to_the_county_the_units_read_withdrawn_and_only_the_county_dispatches(
    qtbot, casework: Casework
) -> None:
    work = casework
    a = work.accounts
    work.store.put_accounts([TOWN_OPERATOR])
    case_id = make_case(work, "accepted")
    work.store.dispatch(
        case_id, TOWN_OPERATOR, lead=("grid", GRID), assisting=[("department", "zhzf")]
    )
    work.clock.advance(hours=1)
    state = work.store.escalate(case_id, TOWN_OPERATOR, "涉及跨乡镇边界，本级无法解决")
    assert state.level == Level.COUNTY and state.status == Status.ACCEPTED

    work.ctx.set_actor(TOWN_OPERATOR)
    detail = shown(work, qtbot, case_id)
    assert detail.level.text() == "层级：县（区）"
    # The grid never returned it: the command took it back.
    assert [r[1:] for r in rows(detail)] == [
        ["已收回", "事件已上报升级"],
        ["已收回", "事件已上报升级"],
    ]
    assert A.DISPATCH not in detail.shown_actions()
    assert A.COMMENT in detail.shown_actions()
    with pytest.raises(Refused) as refused:
        work.store.dispatch(case_id, TOWN_OPERATOR, lead=("department", "zhzf"))
    assert "county command centre" in str(refused.value)

    # The county operator dispatches it — here handing it down to the township's unit (交办).
    work.act_as("operator")
    assert A.DISPATCH in detail.shown_actions()
    work.store.dispatch(case_id, a["operator"], lead=("department", "zhzf"))
    detail.reload()
    assert rows(detail)[-1] == ["综合行政执法中队（牵头）", "处置中", ""]


def test_the_dispatch_form_does_not_offer_the_lead_as_assisting_unit(
    qtbot, casework: Casework
) -> None:
    detail = shown(casework, qtbot, make_case(casework, "accepted"))
    form = open_form(qtbot, detail, A.DISPATCH)
    assisting = form.assisting  # type: ignore[attr-defined]

    def offered() -> list[str]:
        return [
            assisting.item(i).text()
            for i in range(assisting.count())
            if not assisting.item(i).isHidden()
        ]

    everyone = offered()
    assert "东华派出所" in everyone
    form.set_assisting(["pcs"])  # type: ignore[attr-defined]
    form.set_lead("department", "pcs")  # type: ignore[attr-defined]
    assert "东华派出所" not in offered() and len(offered()) == len(everyone) - 1
    assert form.assisting_codes() == []  # type: ignore[attr-defined]  # unchecked as it left
    form.set_lead("grid", GRID)  # type: ignore[attr-defined]
    assert offered() == everyone


def test_the_feedback_form_names_the_handling_unit(qtbot, casework: Casework) -> None:
    work = casework
    case_id = make_case(work, "handling")
    work.act_as("department")
    detail = shown(work, qtbot, case_id)
    form = open_form(qtbot, detail, A.FEEDBACK)
    label = form.form.labelForField(form.task)  # type: ignore[attr-defined]
    assert label is not None and label.text() == "承办单位"


def test_the_next_case_opens_at_its_header_not_the_previous_scroll_position(
    qtbot, casework: Casework
) -> None:
    work = casework
    first = make_case(work, "handling")
    second = make_case(work, "handling")
    detail = shown(work, qtbot, first)
    detail.resize(600, 300)  # short: the detail scrolls
    qtbot.waitUntil(lambda: detail.scroll_area.verticalScrollBar().maximum() > 0)
    bar = detail.scroll_area.verticalScrollBar()
    bar.setValue(bar.maximum())
    assert bar.value() > 0
    detail.show_case(second)
    assert bar.value() == 0
    bar.setValue(bar.maximum())
    detail.show_case(second)  # the same case again (a reload) keeps the place
    assert bar.value() == bar.maximum()


def test_the_supervisor_urges_one_unit_of_a_joint_dispatch(qtbot, casework: Casework) -> None:
    work = casework
    case_id = make_case(work, "accepted")
    work.store.dispatch(
        case_id,
        work.accounts["operator"],
        lead=("department", "zhzf"),
        assisting=[("department", "pcs")],
    )
    work.act_as("supervisor")
    work.clock.advance(hours=5)
    detail = shown(work, qtbot, case_id)
    form = open_form(qtbot, detail, A.URGE)
    unit = form.unit  # type: ignore[attr-defined]
    assert [unit.itemText(i) for i in range(unit.count())] == [
        "全部承办单位",
        "综合行政执法中队（牵头）",
        "东华派出所（协办）",
    ]
    unit.setCurrentIndex(2)
    type_text(form.note, "请今日内到场配合")  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)
    assert detail.timeline.lines()[-1].endswith("分管领导 李建国 督办 东华派出所：请今日内到场配合")
    assert rows(detail) == [
        ["综合行政执法中队（牵头）", "处置中", ""],
        ["东华派出所（协办）", "处置中（被督办 1 次）", ""],
    ]
    assert work.state(case_id).urges == 1


def test_a_joint_dispatch_is_scored_unit_by_unit(qtbot, casework: Casework) -> None:
    work = casework
    a = work.accounts
    case_id = make_case(work, "accepted")
    work.store.dispatch(
        case_id, a["operator"], lead=("department", "zhzf"), assisting=[("department", "pcs")]
    )
    work.store.feedback(case_id, a["police"], task="pcs", result="已协助")
    work.store.feedback(case_id, a["department"], task="zhzf", result="已清理")
    work.store.verify(case_id, a["operator"], passed=True)
    work.store.archive(case_id, a["operator"])
    work.act_as("supervisor")
    detail = shown(work, qtbot, case_id)
    form = open_form(qtbot, detail, A.EVALUATE)
    form.quality.setCurrentIndex(1)  # type: ignore[attr-defined]  # 5 points
    form.satisfaction.setCurrentIndex(1)  # type: ignore[attr-defined]
    outbox = work.outbox()
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert form.error_text() == "请为联合处置的每个承办单位评分（1 至 5 分）。"
    assert work.outbox() == outbox
    label = form.form.labelForField(form.unit_scores["pcs"])  # type: ignore[attr-defined]
    assert label is not None and label.text() == "质量评分：东华派出所（协办）"
    form.unit_scores["zhzf"].setCurrentIndex(2)  # type: ignore[attr-defined]  # 4 points
    form.unit_scores["pcs"].setCurrentIndex(1)  # type: ignore[attr-defined]  # 5 points
    submit_ok(qtbot, detail, form)
    evaluation = work.state(case_id).evaluation
    assert evaluation is not None
    assert {u: v["quality"] for u, v in evaluation["units"].items()} == {"zhzf": 4, "pcs": 5}
    assert [r[:2] for r in rows(detail)] == [
        ["综合行政执法中队（牵头）", "已反馈 · 评分 4 分"],
        ["东华派出所（协办）", "已反馈 · 评分 5 分"],
    ]
