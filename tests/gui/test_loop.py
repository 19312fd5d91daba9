"""The closed loop driven through the real widgets on a real store.

A case is reported with the quick report form, then taken through every step by clicking the
case detail's buttons and filling its forms, switching the signed-in account as the work moves
from the command room to the departments and back. After each step the test checks the store's
projection, the timeline as the user reads it (in Chinese), and that the detail offers exactly
the steps the rules allow that account — no more, no fewer.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from desktop.cases.actions import ActionForm
from desktop.cases.detail import CaseDetail
from desktop.report.form import ReportForm
from sync.model.records import Action, Level, Status, TaskState
from sync.model.workflow import allowed_actions
from sync.store.attachments import attachments
from tests.gui.casework_fixtures import (  # noqa: F401 (_casework provides the casework fixture)
    GRID,
    OPERATOR_ON_REPORTED,
    Casework,
    _casework,
    photo_file,
    show_active,
    type_text,
)

A = Action


def open_form(qtbot, detail: CaseDetail, action: Action) -> ActionForm:
    """Click the action's button; return the form it opened."""
    button = detail.action_button(action)
    assert button is not None, f"{action} is not offered; offered: {detail.shown_actions()}"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    form = detail.current_form
    assert form is not None and form.isVisible()
    return form


def submit(qtbot, detail: CaseDetail, form: ActionForm) -> None:
    """Click the form's submit button and wait for the step to be recorded."""
    with qtbot.waitSignal(detail.case_changed, timeout=10_000, raising=False) as done:
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert done.signal_triggered, f"not recorded: {form.error_text()!r}"
    assert not form.isVisible()


def check_offer(work: Casework, detail: CaseDetail, case_id: str, expected: set[Action]) -> None:
    """The buttons are exactly what the rules allow this account, and what we expect."""
    state = work.state(case_id)
    actor = work.ctx.actor
    assert set(detail.shown_actions()) == set(allowed_actions(state, actor)) == expected


def report_with_the_form(qtbot, work: Casework) -> str:
    form = work.keep(ReportForm(work.ctx))
    assert isinstance(form, ReportForm)
    show_active(qtbot, form)
    type_text(form.title, "邻里纠纷：楼上漏水渗到楼下")
    type_text(form.category.search, "邻里")
    qtbot.keyClick(form.category.search, Qt.Key.Key_Return)
    type_text(form.place.search, "张王村第一")
    qtbot.keyClick(form.place.search, Qt.Key.Key_Return)
    type_text(form.address, "张王村58号")
    type_text(form.description, "楼上住户卫生间漏水，楼下天花板受损，双方协商未果。")
    type_text(form.reporter_name, "李大妈")
    qtbot.keyClicks(form.reporter_phone, "13812345678")
    assert form.category.value() == "0101"
    assert form.place.value() == ("330825002222", GRID)
    with qtbot.waitSignal(form.reported, timeout=10_000) as reported:
        qtbot.keyClick(form.title, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    case_id = str(reported.args[0])
    assert form.error_text() == ""
    assert "已上报" in form.message.text()
    return case_id


def test_the_whole_loop_through_the_widgets(qtbot, casework: Casework, tmp_path: Path) -> None:
    work = casework
    clock = work.clock

    # 发现上报 through the quick report form (operator on the 12345 line).
    case_id = report_with_the_form(qtbot, work)
    state = work.state(case_id)
    assert state.status == Status.REPORTED
    assert state.level == Level.TOWNSHIP
    assert state.fields["category"] == "0101"
    assert state.fields["grid_id"] == GRID

    detail = work.keep(CaseDetail(work.ctx))
    assert isinstance(detail, CaseDetail)
    detail.resize(900, 1200)
    detail.show()
    detail.show_case(case_id)
    assert detail.title.text() == "邻里纠纷：楼上漏水渗到楼下"
    assert detail.status.text() == "待受理"
    assert detail.fields["category"].text() == "矛盾纠纷/邻里纠纷"
    assert detail.fields["place"].text() == "张王村 / 张王村第一网格"
    assert detail.fields["source"].text() == "12345热线"
    assert detail.phone.text() == "138****5678"
    assert detail.timeline.lines() == [
        "2025-06-02 09:00 值班员 王丽 发现上报：邻里纠纷：楼上漏水渗到楼下"
    ]
    check_offer(work, detail, case_id, OPERATOR_ON_REPORTED)
    work.act_as("supervisor")
    check_offer(work, detail, case_id, OPERATOR_ON_REPORTED)
    work.act_as("department")
    check_offer(work, detail, case_id, {A.COMMENT})
    work.act_as("operator")

    # 受理 — the primary action of a reported case (what Ctrl+Enter does in the main window).
    clock.advance(minutes=14)
    assert detail.primary_action() == A.ACCEPT
    form = detail.current_form
    assert form is not None and form.action == A.ACCEPT
    submit(qtbot, detail, form)
    assert work.state(case_id).status == Status.ACCEPTED
    assert detail.timeline.lines()[-1] == "2025-06-02 09:14 值班员 王丽 受理"
    check_offer(
        work,
        detail,
        case_id,
        {A.DISPATCH, A.ESCALATE, A.URGE, A.REQUEST_PARK, A.COMMENT, A.EDIT},
    )

    # 联合处置: 司法所 leads, 派出所 assists.
    clock.advance(minutes=20)
    form = open_form(qtbot, detail, A.DISPATCH)
    form.set_lead("department", "sfs")  # type: ignore[attr-defined]
    form.set_assisting(["pcs"])  # type: ignore[attr-defined]
    assert form.windowTitle() == "联合处置"
    submit(qtbot, detail, form)
    state = work.state(case_id)
    assert state.status == Status.HANDLING
    assert [(t.assignee, t.lead, t.state) for t in state.tasks] == [
        ("sfs", True, TaskState.ASSIGNED),
        ("pcs", False, TaskState.ASSIGNED),
    ]
    assert detail.timeline.lines()[-1] == (
        "2025-06-02 09:34 值班员 王丽 派遣 → 牵头：东华司法所；协办：东华派出所"
    )
    # An operator may record a unit's feedback on its behalf (taken by phone).
    operator_handling = {
        A.DISPATCH,
        A.ESCALATE,
        A.URGE,
        A.REQUEST_PARK,
        A.FEEDBACK,
        A.COMMENT,
        A.EDIT,
    }
    check_offer(work, detail, case_id, operator_handling)
    work.act_as("justice")
    department_open = {A.RETURN, A.REQUEST_EXTENSION, A.FEEDBACK, A.REQUEST_PARK, A.COMMENT}
    check_offer(work, detail, case_id, department_open)
    assert detail.phone.text() == "138****5678"
    assert not detail.phone_button.isEnabled()  # departments never see the full number
    work.act_as("department")  # 综合执法: not on this dispatch
    check_offer(work, detail, case_id, {A.REQUEST_PARK, A.COMMENT})

    # 反馈 from the lead unit, with a photo; then from the assisting unit.
    clock.advance(hours=3)
    work.act_as("justice")
    form = open_form(qtbot, detail, A.FEEDBACK)
    type_text(form.result_box, "已组织双方调解，楼上住户同意维修并赔偿")  # type: ignore[attr-defined]
    form.photos.add_paths([str(photo_file(tmp_path, "调解现场.jpg"))])  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not form.photos.checking())  # type: ignore[attr-defined]
    submit(qtbot, detail, form)
    state = work.state(case_id)
    assert state.status == Status.HANDLING  # the assisting unit has not fed back yet
    assert state.tasks[0].state == TaskState.FED_BACK
    assert detail.timeline.lines()[-1] == (
        "2025-06-02 12:34 东华司法所 孙调解 反馈（东华司法所）："
        "已组织双方调解，楼上住户同意维修并赔偿（照片 1 张）"
    )
    photos = attachments(work.store, case_id)
    assert [p.name for p in photos] == ["调解现场.jpg"]
    assert photos[0].entry_id == work.store.timeline(case_id)[-1].id
    assert detail.photos.count() == 1
    check_offer(work, detail, case_id, {A.REQUEST_PARK, A.COMMENT})

    clock.advance(hours=1)
    work.act_as("police")
    check_offer(work, detail, case_id, department_open)
    form = open_form(qtbot, detail, A.FEEDBACK)
    type_text(form.result_box, "民警到场维持秩序，双方情绪平稳")  # type: ignore[attr-defined]
    submit(qtbot, detail, form)
    assert work.state(case_id).status == Status.VERIFYING

    # 核查不通过 → 退回重办 (the reason is required).
    clock.advance(hours=2)
    work.act_as("operator")
    verifying = {A.DISPATCH, A.VERIFY_PASS, A.VERIFY_FAIL, A.URGE, A.COMMENT, A.EDIT}
    check_offer(work, detail, case_id, verifying)
    form = open_form(qtbot, detail, A.VERIFY_FAIL)
    outbox = work.outbox()
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert form.error_text() == "请说明核查不通过的原因。"
    assert form.isVisible() and work.outbox() == outbox
    type_text(form.note, "居民不认可")  # type: ignore[attr-defined]
    submit(qtbot, detail, form)
    state = work.state(case_id)
    assert state.status == Status.HANDLING
    assert state.verify_failures == 1
    assert all(t.state == TaskState.ASSIGNED for t in state.tasks)
    assert detail.timeline.lines()[-1] == (
        "2025-06-02 15:34 值班员 王丽 核查不通过：居民不认可，退回重办"
    )

    # 重办: both units feed back again.
    for name, text in (("justice", "维修完成，居民签字确认"), ("police", "回访无纠纷")):
        clock.advance(hours=1)
        work.act_as(name)
        check_offer(work, detail, case_id, department_open)
        form = open_form(qtbot, detail, A.FEEDBACK)
        type_text(form.result_box, text)  # type: ignore[attr-defined]
        submit(qtbot, detail, form)
    assert work.state(case_id).status == Status.VERIFYING

    # 核查通过 (the primary action of a verifying case) → 结案.
    clock.advance(hours=1)
    work.act_as("operator")
    assert detail.primary_action() == A.VERIFY_PASS
    form = detail.current_form
    assert form is not None
    type_text(form.note, "电话回访，群众满意")  # type: ignore[attr-defined]
    submit(qtbot, detail, form)
    state = work.state(case_id)
    assert state.status == Status.CLOSED and state.verified and state.on_time
    assert detail.timeline.lines()[-1] == (
        "2025-06-02 18:34 值班员 王丽 核查通过（电话回访）：电话回访，群众满意"
    )
    check_offer(work, detail, case_id, {A.ARCHIVE, A.COMMENT, A.EDIT})

    # 归档, then 考核评价.
    clock.advance(minutes=10)
    assert detail.primary_action() == A.ARCHIVE
    form = detail.current_form
    assert form is not None
    submit(qtbot, detail, form)
    assert work.state(case_id).status == Status.ARCHIVED
    assert detail.timeline.lines()[-1] == "2025-06-02 18:44 值班员 王丽 归档"
    check_offer(work, detail, case_id, {A.EVALUATE, A.COMMENT})

    clock.advance(minutes=5)
    form = open_form(qtbot, detail, A.EVALUATE)
    outbox = work.outbox()
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert form.error_text() == "请为办理质量打分（1–5 分）。" and work.outbox() == outbox
    form.quality.setCurrentIndex(form.quality.findData(5))  # type: ignore[attr-defined]
    form.satisfaction.setCurrentIndex(form.satisfaction.findData("satisfied"))  # type: ignore[attr-defined]
    # A joint dispatch: the lead and the assisting unit are each scored on their own part.
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert form.error_text() == "请为联合处置的每个承办单位评分（1 至 5 分）。"
    for unit, score in (("sfs", 5), ("pcs", 4)):
        box = form.unit_scores[unit]  # type: ignore[attr-defined]
        box.setCurrentIndex(box.findData(score))
    submit(qtbot, detail, form)
    state = work.state(case_id)
    assert state.status == Status.EVALUATED
    assert state.evaluation == {
        "timely": True,
        "quality": 5,
        "satisfaction": "satisfied",
        "note": "",
        "units": {
            "sfs": {"quality": 5, "lead": True, "timely": True},
            "pcs": {"quality": 4, "lead": False, "timely": True},
        },
    }
    assert detail.timeline.lines()[-1] == "2025-06-02 18:49 值班员 王丽 考核评价：质量 5 分，满意"
    check_offer(work, detail, case_id, {A.COMMENT})
    assert detail.status.text() == "已评价"
    assert len(detail.timeline.lines()) == 11
    assert "考核评价：质量 5 分（满分 5 分），满意，按期办结：是" in detail.notes.text()


def test_a_self_handled_report_is_verified_and_archived(qtbot, casework: Casework) -> None:
    work = casework
    work.act_as("grid_worker")
    form = work.keep(ReportForm(work.ctx))
    assert isinstance(form, ReportForm)
    form.show()
    assert form.self_handled.isEnabled()
    assert form.place.value() == ("330825002222", GRID)  # the worker's own grid by default
    assert form.source.currentData() == "patrol"
    type_text(form.title, "村口垃圾堆放")
    type_text(form.category.search, "垃圾")
    qtbot.keyClick(form.category.search, Qt.Key.Key_Return)
    qtbot.keyClick(form.self_handled, Qt.Key.Key_Space)
    assert form.result.isVisible() and form.submit_button.text() == "自行处置"
    type_text(form.result, "已联系保洁员清运完毕")
    with qtbot.waitSignal(form.reported, timeout=10_000) as reported:
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    case_id = str(reported.args[0])
    state = work.state(case_id)
    assert state.status == Status.VERIFYING
    assert state.self_handled and state.level == Level.GRID
    assert [(t.assignee, t.state, t.result) for t in state.tasks] == [
        (GRID, TaskState.FED_BACK, "已联系保洁员清运完毕")
    ]

    detail = work.keep(CaseDetail(work.ctx))
    assert isinstance(detail, CaseDetail)
    detail.show()
    detail.show_case(case_id)
    assert detail.timeline.lines() == [
        "2025-06-02 09:00 网格员 张伟 自行处置：已联系保洁员清运完毕"
    ]
    assert "网格员已自行处置。" in detail.notes.text()
    check_offer(work, detail, case_id, {A.COMMENT, A.EDIT})

    work.act_as("operator")
    work.clock.advance(hours=1)
    form_ = open_form(qtbot, detail, A.VERIFY_PASS)
    submit(qtbot, detail, form_)
    assert work.state(case_id).status == Status.CLOSED
    work.clock.advance(minutes=5)
    form_ = open_form(qtbot, detail, A.ARCHIVE)
    submit(qtbot, detail, form_)
    state = work.state(case_id)
    assert state.status == Status.ARCHIVED and state.on_time
    assert detail.timeline.lines()[1:] == [
        "2025-06-02 10:00 值班员 王丽 核查通过（电话回访）",
        "2025-06-02 10:05 值班员 王丽 归档",
    ]


def test_an_escalation_from_grid_to_village_to_township_shows_in_the_level(
    qtbot, casework: Casework
) -> None:
    work = casework
    worker = work.act_as("grid_worker")
    case_id = work.store.report(
        worker,
        {"title": "两户宅基地界址纠纷", "category": "0103", "grid_id": GRID},
    ).case_id
    detail = work.keep(CaseDetail(work.ctx))
    assert isinstance(detail, CaseDetail)
    detail.show()
    detail.show_case(case_id)
    assert detail.level.text() == "层级：网格"
    check_offer(work, detail, case_id, {A.ESCALATE, A.COMMENT, A.EDIT})

    # The grid cannot solve it: up to the village (大事不出村).
    form = open_form(qtbot, detail, A.ESCALATE)
    assert form.target.currentText() == "村（社区）"  # type: ignore[attr-defined]
    outbox = work.outbox()
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert form.error_text() == "请填写上报升级的理由。" and work.outbox() == outbox
    type_text(form.reason, "涉及两个村民小组，网格无法调处")  # type: ignore[attr-defined]
    submit(qtbot, detail, form)
    assert work.state(case_id).level == Level.VILLAGE
    assert detail.level.text() == "层级：村（社区）"
    assert detail.timeline.lines()[-1].endswith(
        "网格员 张伟 上报升级至村（社区）：涉及两个村民小组，网格无法调处"
    )

    # The village council cannot either: the township command room takes it (难事不出镇).
    work.act_as("operator")
    work.clock.advance(hours=2)
    form = open_form(qtbot, detail, A.ESCALATE)
    assert [form.target.itemText(i) for i in range(form.target.count())] == [  # type: ignore[attr-defined]
        "乡镇（街道）",
        "县（区）",
    ]
    type_text(form.reason, "村级调解两次未果")  # type: ignore[attr-defined]
    submit(qtbot, detail, form)
    assert work.state(case_id).level == Level.TOWNSHIP
    assert detail.level.text() == "层级：乡镇（街道）"
    assert detail.timeline.lines()[-1] == (
        "2025-06-02 11:00 值班员 王丽 上报升级至乡镇（街道）：村级调解两次未果"
    )
    # The township accepts it now, like any case reported to it.
    assert detail.preferred_action() == A.ACCEPT
