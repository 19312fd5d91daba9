"""The case detail and its action forms: what is shown, what each form refuses before writing,
how refusals and store failures are worded, photos, merging, extensions, parking, conflicts.

Cases are set up through the store's command API (the loop itself is driven through the
widgets in ``test_loop.py``); the step under test is always taken through the real form.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3
from PySide6.QtCore import QDate, Qt

from desktop.cases.actions import ActionForm
from desktop.cases.detail import CaseDetail
from desktop.errors import explain
from sync.model.clock import HlcStamp, new_id
from sync.model.records import Action, Entry, Status
from sync.store import Store
from sync.store.attachments import attachments
from sync.store.errors import StoreLocked
from tests.gui.casework_fixtures import (  # noqa: F401 (_casework provides the casework fixture)
    GRID,
    Casework,
    _casework,
    activate,
    fake_photo,
    photo_file,
    short_lock_wait,
    show_active,
    type_text,
)

A = Action
FIELDS = {
    "title": "沿街店铺消防通道堵塞",
    "category": "0201",  # 消防隐患: 3 working days, urgent 4 hours
    "grid_id": GRID,
    "address": "张王村商业街12号",
    "reporter_name": "赵先生",
    "reporter_phone": "13812345678",
    "source": "hotline",
}


def make_case(work: Casework, stage: str = "reported", **changes: Any) -> str:
    """A case taken to ``stage`` through the store's commands, as other users would."""
    store = work.store
    a = work.accounts
    case_id = store.report(a["operator"], {**FIELDS, **changes}).case_id
    steps: list[Callable[[], object]] = [
        lambda: store.accept(case_id, a["operator"]),
        lambda: store.dispatch(case_id, a["operator"], lead=("department", "zhzf")),
        lambda: store.feedback(case_id, a["department"], task="zhzf", result="已清理"),
        lambda: store.verify(case_id, a["operator"], passed=True),
    ]
    order = ["reported", "accepted", "handling", "verifying", "closed"]
    for step in steps[: order.index(stage)]:
        work.clock.advance(minutes=10)
        step()
    return case_id


def shown(work: Casework, qtbot, case_id: str) -> CaseDetail:
    detail = work.keep(CaseDetail(work.ctx))
    assert isinstance(detail, CaseDetail)
    detail.resize(900, 1200)
    show_active(qtbot, detail)
    detail.show_case(case_id)
    return detail


def open_form(qtbot, detail: CaseDetail, action: Action) -> ActionForm:
    button = detail.action_button(action)
    assert button is not None, f"{action} not offered: {detail.shown_actions()}"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert detail.current_form is not None
    return detail.current_form


def submit_ok(qtbot, detail: CaseDetail, form: ActionForm) -> None:
    with qtbot.waitSignal(detail.case_changed, timeout=10_000, raising=False) as done:
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert done.signal_triggered, form.error_text()


def refused(qtbot, work: Casework, form: ActionForm, message: str) -> None:
    """Submitting is refused with ``message``; nothing is written, the form stays open."""
    outbox = work.outbox()
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert form.error_text() == message
    assert form.isVisible() and not form.busy
    assert work.outbox() == outbox


# -- what the detail shows ---------------------------------------------------------------------


def test_the_phone_is_masked_and_shown_in_full_only_to_operators_and_supervisors(
    qtbot, casework: Casework
) -> None:
    work = casework
    detail = shown(work, qtbot, make_case(work))
    assert detail.phone.text() == "138****5678"
    assert detail.phone_button.isEnabled()
    qtbot.mouseClick(detail.phone_button, Qt.MouseButton.LeftButton)
    assert detail.phone.text() == "13812345678"
    qtbot.mouseClick(detail.phone_button, Qt.MouseButton.LeftButton)
    assert detail.phone.text() == "138****5678"

    work.act_as("supervisor")
    qtbot.mouseClick(detail.phone_button, Qt.MouseButton.LeftButton)
    assert detail.phone.text() == "13812345678"
    for name in ("grid_worker", "department"):
        work.act_as(name)  # a new account starts masked again
        assert detail.phone.text() == "138****5678"
        assert not detail.phone_button.isEnabled()
        detail.toggle_phone()  # even when asked directly
        assert detail.phone.text() == "138****5678"
        assert detail.phone_button.toolTip() == "只有值班员和分管领导可以查看完整号码。"


def test_the_deadline_reads_in_working_days_or_hours_overdue(qtbot, casework: Casework) -> None:
    work = casework
    case_id = make_case(work)
    detail = shown(work, qtbot, case_id)
    # Reported 09:00; acceptance within 2 hours.
    assert detail.deadline.text() == "受理时限 2025-06-02 11:00（剩余 2 小时）"
    assert "正常" in detail.light.text()
    work.clock.advance(hours=1, minutes=30)  # a third of the time left: yellow
    detail.reload()
    detail.update_deadline()
    assert "即将到期" in detail.light.text()
    work.clock.advance(hours=5, minutes=30)
    detail.update_deadline()
    assert detail.deadline.text() == "受理时限 2025-06-02 11:00（已超期 5 小时）"
    assert "已超期" in detail.light.text()

    work.store.accept(case_id, work.accounts["operator"])
    detail.reload()
    # 消防隐患: within 3 working days of acceptance (Mon 2 June 2025, 端午 holiday, counts from
    # Tuesday): due Thursday 5 June 23:59.
    assert detail.deadline.text() == "办理时限 2025-06-05 23:59（剩余 3 个工作日）"
    work.clock.advance(days=2)  # Wednesday 16:00
    detail.update_deadline()
    assert detail.deadline.text() == "办理时限 2025-06-05 23:59（剩余 1 个工作日）"
    work.clock.advance(days=1)  # Thursday 16:00: the last day counts in hours
    detail.update_deadline()
    assert detail.deadline.text() == "办理时限 2025-06-05 23:59（剩余 7 小时）"
    work.clock.advance(days=1)  # Friday 16:00
    detail.update_deadline()
    assert detail.deadline.text() == "办理时限 2025-06-05 23:59（已超期 16 小时）"
    work.clock.advance(days=3)  # Monday 16:00
    detail.update_deadline()
    assert detail.deadline.text() == "办理时限 2025-06-05 23:59（已超期 3 天）"


def test_the_dispatch_shows_each_unit_with_its_state_and_feedback(
    qtbot, casework: Casework
) -> None:
    work = casework
    case_id = make_case(work, "accepted")
    work.store.dispatch(
        case_id,
        work.accounts["operator"],
        lead=("department", "zhzf"),
        assisting=[("department", "pcs")],
    )
    work.store.feedback(case_id, work.accounts["department"], task="zhzf", result="已清理通道")
    detail = shown(work, qtbot, case_id)
    rows = [
        [detail.tasks.topLevelItem(i).text(c) for c in range(3)]  # type: ignore[union-attr]
        for i in range(detail.tasks.topLevelItemCount())
    ]
    assert rows == [
        ["综合行政执法中队（牵头）", "已反馈", "已清理通道"],
        ["东华派出所（协办）", "处置中", ""],
    ]
    assert detail.dispatch_box.isVisible()
    assert not detail.conflicts_box.isVisible()


def test_a_case_that_does_not_exist_says_so(qtbot, casework: Casework) -> None:
    detail = shown(casework, qtbot, "no-such-case")
    assert detail.placeholder.text() == "本机（尚）无此事件。"
    assert detail.shown_actions() == [] and detail.primary_action() is None


# -- each form refuses what is missing ---------------------------------------------------------


def test_reject_needs_a_reason(qtbot, casework: Casework) -> None:
    detail = shown(casework, qtbot, make_case(casework))
    form = open_form(qtbot, detail, A.REJECT)
    refused(qtbot, casework, form, "请填写理由。")
    type_text(form.note, "不属于本乡镇管辖范围")  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)
    assert casework.state(detail.case_id() or "").status == Status.REJECTED
    assert detail.notes.text() == "不予受理：不属于本乡镇管辖范围"


def test_dispatch_needs_exactly_one_lead_not_also_assisting(qtbot, casework: Casework) -> None:
    detail = shown(casework, qtbot, make_case(casework, "accepted"))
    form = open_form(qtbot, detail, A.DISPATCH)
    refused(qtbot, casework, form, "请选择牵头单位。")
    form.set_lead("department", "pcs")  # type: ignore[attr-defined]
    form.set_assisting(["pcs", "sfs"])  # type: ignore[attr-defined]
    refused(qtbot, casework, form, "牵头单位不能同时作为协办单位：东华派出所")
    form.set_lead("grid", GRID)  # type: ignore[attr-defined]
    assert form.lead.currentText() == "网格：张王村 张王村第一网格"  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)
    state = casework.state(detail.case_id() or "")
    assert [(t.kind.value, t.assignee, t.lead) for t in state.tasks] == [
        ("grid", GRID, True),
        ("department", "pcs", False),
        ("department", "sfs", False),
    ]


def test_a_unit_returns_a_wrong_dispatch_with_a_reason(qtbot, casework: Casework) -> None:
    work = casework
    case_id = make_case(work, "handling")
    work.act_as("department")
    detail = shown(work, qtbot, case_id)
    form = open_form(qtbot, detail, A.RETURN)
    assert form.task.currentText() == "综合行政执法中队（牵头）"  # type: ignore[attr-defined]
    refused(qtbot, work, form, "请填写退单理由。")
    type_text(form.reason, "属消防部门职责")  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)
    assert work.state(case_id).status == Status.ACCEPTED  # back to the command room
    assert detail.timeline.lines()[-1].endswith("退单（综合行政执法中队）：属消防部门职责")
    assert detail.shown_actions() == [A.REQUEST_PARK, A.COMMENT]


def test_an_extension_needs_a_later_date_and_a_reason_then_a_supervisor_decides(
    qtbot, casework: Casework
) -> None:
    work = casework
    case_id = make_case(work, "handling")
    due = work.state(case_id).handle_due
    work.act_as("department")
    detail = shown(work, qtbot, case_id)
    form = open_form(qtbot, detail, A.REQUEST_EXTENSION)
    assert form.intro.text() == "当前办理时限：2025-06-05 23:59"
    form.until.setDate(QDate(2025, 6, 5))  # type: ignore[attr-defined]
    refused(qtbot, work, form, "新的时限必须晚于当前时限（2025-06-05 23:59）。")
    form.until.setDate(QDate(2025, 6, 13))  # type: ignore[attr-defined]
    refused(qtbot, work, form, "请填写延期理由。")
    type_text(form.reason, "需协调业主委员会，端午后才能开会")  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)
    assert work.state(case_id).extension_pending is not None
    assert (
        "已申请延期至 2025-06-13，待审批：需协调业主委员会，端午后才能开会" in detail.notes.text()
    )
    assert A.REQUEST_EXTENSION not in detail.shown_actions()

    work.act_as("supervisor")
    assert {A.APPROVE_EXTENSION, A.DENY_EXTENSION} <= set(detail.shown_actions())
    deny = open_form(qtbot, detail, A.DENY_EXTENSION)
    refused(qtbot, work, deny, "请填写理由。")
    deny.reject()
    assert detail.primary_action() == A.APPROVE_EXTENSION
    approve = detail.current_form
    assert approve is not None
    assert approve.intro.text() == "申请延期至 2025-06-13。理由：需协调业主委员会，端午后才能开会"
    submit_ok(qtbot, detail, approve)
    state = work.state(case_id)
    assert state.extensions == 1 and state.handle_due is not None and due is not None
    assert state.handle_due > due
    assert detail.deadline.text().startswith("办理时限 2025-06-13 23:59")
    assert "已延期 1 次" in detail.notes.text()


def test_parking_needs_a_reason_and_a_future_review_date(qtbot, casework: Casework) -> None:
    work = casework
    case_id = make_case(work, "accepted")
    detail = shown(work, qtbot, case_id)
    form = open_form(qtbot, detail, A.REQUEST_PARK)
    assert form.review.minimumDate() == QDate(2025, 6, 3)  # type: ignore[attr-defined]
    refused(qtbot, work, form, "请填写挂账理由。")
    type_text(form.reason, "涉及历史遗留土地问题，待县里政策")  # type: ignore[attr-defined]
    form.review.setDate(QDate(2025, 9, 1))  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)
    work.act_as("supervisor")
    approve = open_form(qtbot, detail, A.APPROVE_PARK)
    submit_ok(qtbot, detail, approve)
    assert work.state(case_id).status == Status.PARKED
    assert detail.status.text() == "挂账"
    assert "挂账中，复查日期 2025-09-01" in detail.notes.text()
    assert detail.preferred_action() == A.RESUME


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (A.COMMENT, "请填写备注内容。"),
        (A.ESCALATE, "请填写上报升级的理由。"),
        (A.MERGE, "请查找并选择与之重复的事件。"),
        (A.EDIT, "没有修改任何内容。"),
    ],
)
def test_forms_refuse_empty_input(qtbot, casework: Casework, action: Action, message: str) -> None:
    detail = shown(casework, qtbot, make_case(casework))
    form = open_form(qtbot, detail, action)
    refused(qtbot, casework, form, message)


def test_an_edit_sends_only_what_changed_and_never_an_empty_title(
    qtbot, casework: Casework
) -> None:
    work = casework
    case_id = make_case(work)
    detail = shown(work, qtbot, case_id)
    form = open_form(qtbot, detail, A.EDIT)
    form.title.clear()  # type: ignore[attr-defined]
    refused(qtbot, work, form, "事件必须有标题。")
    type_text(form.title, "沿街店铺消防通道被杂物堵塞")  # type: ignore[attr-defined]
    form.address.clear()  # type: ignore[attr-defined]
    type_text(form.address, "张王村商业街14号")  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)
    edit = work.store.timeline(case_id)[-1]
    assert edit.action == A.EDIT and set(edit.payload["fields"]) == {"title", "address"}
    assert detail.title.text() == "沿街店铺消防通道被杂物堵塞"
    assert detail.timeline.lines()[-1].endswith("值班员 王丽 修改事件信息：标题、地址")


def test_merge_finds_the_duplicate_by_its_number(qtbot, casework: Casework) -> None:
    work = casework
    first = make_case(work)
    number = work.state(first).case_no
    work.clock.advance(minutes=5)
    second = make_case(work, title="商业街消防通道又被堵")
    detail = shown(work, qtbot, second)
    form = open_form(qtbot, detail, A.MERGE)
    type_text(form.query, number)  # type: ignore[attr-defined]
    qtbot.keyClick(form.query, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: form.searches == 1)  # type: ignore[attr-defined]
    assert form.isVisible()  # Enter in the search box searched, it did not submit
    assert form.results.count() == 1  # type: ignore[attr-defined]
    assert form.results.item(0).text().startswith(number)  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)
    assert work.state(second).status == Status.MERGED
    assert detail.notes.text() == f"已作为重复事件合并至 {number}"
    assert detail.timeline.lines()[-1] == f"2025-06-02 09:05 值班员 王丽 合并至 {number}"


# -- refusals and failures are worded, and the form keeps its input ----------------------------


def test_a_refusal_is_shown_in_chinese_and_the_input_kept(qtbot, casework: Casework) -> None:
    work = casework
    case_id = make_case(work)
    detail = shown(work, qtbot, case_id)
    form = open_form(qtbot, detail, A.REJECT)
    type_text(form.note, "重复来电")  # type: ignore[attr-defined]
    # Meanwhile a colleague on another computer of the command room accepts the case.
    with Store.open(work.path, clock=work.clock) as other:
        other.accept(case_id, work.accounts["operator2"])
    outbox = work.outbox()
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not form.busy and form.error_text() != "")
    assert form.error_text() == "未保存：只有待受理的事件才能受理、不予受理或合并。"
    assert form.isVisible() and form.note.toPlainText() == "重复来电"  # type: ignore[attr-defined]
    assert work.outbox() == outbox
    # The detail follows what happened (it re-reads on the next change signal or reload).
    detail.reload()
    assert detail.status.text() == "待派遣"


def test_a_locked_store_is_explained_and_the_input_kept(qtbot, casework: Casework) -> None:
    work = casework
    detail = shown(work, qtbot, make_case(work))
    form = open_form(qtbot, detail, A.COMMENT)
    type_text(form.note, "已电话告知反映人")  # type: ignore[attr-defined]
    short_lock_wait(qtbot, work)
    other = sqlcipher3.connect(str(work.path), isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
        assert form.busy and not form.submit_button.isEnabled()  # no double submit meanwhile
        qtbot.waitUntil(lambda: not form.busy, timeout=10_000)
    finally:
        other.execute("ROLLBACK")
        other.close()
    words = explain(StoreLocked("locked"))
    assert form.error_text() == f"{words.headline} {words.advice}"
    assert form.note.toPlainText() == "已电话告知反映人"  # type: ignore[attr-defined]
    submit_ok(qtbot, detail, form)  # the same input, once the lock is gone


def test_escape_cancels_and_ctrl_enter_submits(qtbot, casework: Casework) -> None:
    work = casework
    detail = shown(work, qtbot, make_case(work))
    form = open_form(qtbot, detail, A.COMMENT)
    activate(qtbot, form)
    outbox = work.outbox()
    qtbot.keyClick(form.note, Qt.Key.Key_Escape)  # type: ignore[attr-defined]
    assert not form.isVisible() and work.outbox() == outbox
    form = open_form(qtbot, detail, A.COMMENT)
    activate(qtbot, form)
    type_text(form.note, "已通知网格员复核")  # type: ignore[attr-defined]
    with qtbot.waitSignal(detail.case_changed, timeout=10_000):
        qtbot.keyClick(form.note, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # type: ignore[attr-defined]
    assert detail.timeline.lines()[-1].endswith("值班员 王丽 备注：已通知网格员复核")


# -- photos ------------------------------------------------------------------------------------


def test_photos_are_added_shown_and_viewed(qtbot, casework: Casework, tmp_path: Path) -> None:
    work = casework
    case_id = make_case(work)
    detail = shown(work, qtbot, case_id)
    good = [photo_file(tmp_path, "通道1.jpg", (10, 10, 200)), photo_file(tmp_path, "通道2.jpg")]
    with qtbot.waitSignal(detail.case_changed, timeout=10_000):
        detail.add_photos([str(good[0]), str(fake_photo(tmp_path)), str(good[1])])
    assert [a.name for a in attachments(work.store, case_id)] == ["通道1.jpg", "通道2.jpg"]
    assert detail.notice.text() == "“不是照片.jpg”不是可读取的照片：文件已损坏，或者根本不是图片。"
    assert detail.photos.count() == 2
    qtbot.waitUntil(lambda: not detail.photos.item(0).icon().isNull())

    viewer = detail.photos.open_viewer(0)
    assert viewer is not None
    qtbot.waitUntil(lambda: viewer.image() is not None)
    image = viewer.image()
    assert image is not None and (image.width(), image.height()) == (320, 240)
    assert viewer.caption.text() == "第 1 张，共 2 张：通道1.jpg"
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: viewer.image() is not None)
    assert viewer.caption.text() == "第 2 张，共 2 张：通道2.jpg"
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible()


# -- conflicts from two offline devices --------------------------------------------------------


def remote_entry(
    work: Casework, case_id: str, action: Action, account: str, payload: dict[str, Any]
) -> Entry:
    """A step taken on another device, stamped a moment after everything seen here."""
    actor = work.accounts[account]
    work.clock.advance(minutes=1)
    stamp = HlcStamp(work.clock.now, 0, "FIELD").encode()
    return Entry(new_id(), case_id, action, actor.id, actor.role, work.clock.now, stamp, payload)


def test_workflow_and_field_conflicts_are_flagged_and_settled(qtbot, casework: Casework) -> None:
    work = casework
    op = work.accounts["operator"]
    case_id = make_case(work, "verifying")
    report = work.store.timeline(case_id)[0]
    # A village laptop, offline, verified the case as passed and retitled it; meanwhile the
    # command room failed the verification and retitled it too. Both sync here.
    local_fail = work.store.verify(case_id, op, passed=False, note="通道仍有杂物")
    assert local_fail.status == Status.HANDLING
    work.store.edit(case_id, op, {"title": {"value": "消防通道堵塞（复查）", "base": report.id}})
    work.store.apply_entries(
        [
            remote_entry(work, case_id, A.VERIFY_PASS, "operator2", {"note": "现场已清理"}),
            remote_entry(
                work,
                case_id,
                A.EDIT,
                "operator2",
                {"fields": {"title": {"value": "消防通道已清理", "base": report.id}}},
            ),
        ]
    )
    state = work.state(case_id)
    assert len(state.conflicts) == 1 and len(state.field_conflicts) == 1

    detail = shown(work, qtbot, case_id)
    assert detail.conflicts_box.isVisible()
    lines = detail.conflicts.text().splitlines()
    assert lines[0].startswith("流程冲突：") and lines[0].endswith("——该事件不在待核查状态")
    assert lines[1] == "字段冲突：标题 暂为“消防通道已清理”，另一台设备改为“消防通道堵塞（复查）”"
    assert detail.timeline.lines()[4:] == [
        "2025-06-02 09:30 值班员 王丽 核查不通过：通道仍有杂物，退回重办",
        "2025-06-02 09:30 值班员 王丽 修改事件信息：标题",
        "2025-06-02 09:31 值班员 周敏 核查通过：现场已清理【冲突：该事件不在待核查状态】",
        "2025-06-02 09:32 值班员 周敏 修改事件信息：标题",
    ]
    assert detail.preferred_action() == A.SETTLE

    form = detail.primary_action()
    assert form == A.SETTLE
    settle = detail.current_form
    assert settle is not None
    step_choice = settle.step_choices[0][1]  # type: ignore[attr-defined]
    # Let the field laptop's "passed" stand: void the command room's failed verification.
    fail_entry = next(e for e in work.store.timeline(case_id) if e.action == A.VERIFY_FAIL)
    step_choice.setCurrentIndex(step_choice.findData(fail_entry.id))
    field_choice = settle.field_choices[0][1]  # type: ignore[attr-defined]
    field_choice.setCurrentIndex(field_choice.findData("loser"))  # keep the command room's title
    submit_ok(qtbot, detail, settle)

    state = work.state(case_id)
    assert state.conflicts == [] and state.field_conflicts == []
    assert state.status == Status.CLOSED
    assert fail_entry.id in state.voided
    assert state.fields["title"] == "消防通道堵塞（复查）"
    assert not detail.conflicts_box.isVisible()
    lines = detail.timeline.lines()
    assert lines[4] == "2025-06-02 09:30 值班员 王丽 核查不通过：通道仍有杂物，退回重办【已作废】"
    assert lines[6] == "2025-06-02 09:31 值班员 周敏 核查通过：现场已清理"
    assert lines[-1].endswith("值班员 王丽 裁定冲突：作废 1 项操作")
    assert A.SETTLE not in detail.shown_actions()


def test_primary_action_follows_the_state_and_the_role(qtbot, casework: Casework) -> None:
    work = casework
    expected = {
        "reported": A.ACCEPT,
        "accepted": A.DISPATCH,
        "verifying": A.VERIFY_PASS,
        "closed": A.ARCHIVE,
    }
    for stage, action in expected.items():
        detail = shown(work, qtbot, make_case(work, stage))
        assert detail.primary_action() == action
        form = detail.current_form
        assert form is not None and form.isVisible()
        form.reject()
    handling = make_case(work, "handling")
    work.act_as("department")
    detail = shown(work, qtbot, handling)
    assert detail.primary_action() == A.FEEDBACK
    detail.current_form.reject()  # type: ignore[union-attr]
    work.act_as("grid_worker")
    detail.show_case(make_case(work))
    assert detail.primary_action() is None  # nothing a grid worker usually does next here


def test_a_photo_whose_file_has_not_arrived_is_listed_and_explained(
    qtbot, casework: Casework, tmp_path: Path
) -> None:
    """Sync brings a photo's metadata before its bytes: the name shows, the picture waits."""
    from sync.store.attachments import add_attachment, blob_path, thumbnail_path

    work = casework
    case_id = make_case(work)
    att = add_attachment(
        work.store,
        case_id,
        photo_file(tmp_path, "远程.jpg").read_bytes(),
        "远程.jpg",
        work.accounts["operator"],
    )
    blob_path(work.store, att.sha256).unlink()
    thumbnail_path(work.store, att.sha256).unlink()
    detail = shown(work, qtbot, case_id)
    qtbot.waitUntil(lambda: detail.photos.item(0).text() == "远程.jpg（尚未下载到本机）")
    viewer = detail.photos.open_viewer(0)
    assert viewer is not None
    qtbot.waitUntil(lambda: viewer.picture.text() == "这张照片尚未下载到本机，或文件已损坏。")
    assert viewer.image() is None
