"""The quick report form: validation, roles, photos, keyboard, and drafts that survive a crash.

Real form, real store file, real draft files in the (temporary) user config folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlcipher3
from PySide6.QtCore import Qt
from shiboken6 import isValid

from desktop.errors import explain
from desktop.report.form import ReportForm, draft_path
from sync.model.records import Status
from sync.store.attachments import attachments
from sync.store.errors import ReadOnly, StoreLocked
from tests.gui.casework_fixtures import (  # noqa: F401 (_casework provides the casework fixture)
    GRID,
    Casework,
    _casework,
    activate,
    drop_files,
    fake_photo,
    photo_file,
    short_lock_wait,
    show_active,
    type_text,
)


def new_form(qtbot, work: Casework) -> ReportForm:
    form = work.keep(ReportForm(work.ctx))
    assert isinstance(form, ReportForm)
    show_active(qtbot, form)
    return form


def fill(qtbot, form: ReportForm, *, skip: str = "") -> None:
    """Fill every field a report needs (all but ``skip``) the way a user does."""
    if skip != "title":
        type_text(form.title, "自来水管爆裂漏水")
    if skip != "category":
        type_text(form.category.search, "水电气")
        qtbot.keyClick(form.category.search, Qt.Key.Key_Return)
        assert form.category.value() == "0604"
    if skip != "place":
        type_text(form.place.search, GRID)
        qtbot.keyClick(form.place.search, Qt.Key.Key_Return)
        assert form.place.value() == ("330825002222", GRID)
    type_text(form.address, "张王村东口")
    type_text(form.description, "主管道爆裂，路面积水，十余户停水。")
    type_text(form.reporter_name, "王师傅")
    qtbot.keyClicks(form.reporter_phone, "13987654321")


def read_draft(path: Path) -> dict[str, object] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


@pytest.mark.parametrize(
    ("skip", "message"),
    [
        ("title", "请填写事件标题。"),
        ("category", "请选择事件分类（大类 → 小类）。"),
        ("place", "请选择事发的村（社区）或网格。"),
    ],
)
def test_a_missing_required_field_is_refused_and_nothing_is_written(
    qtbot, casework: Casework, skip: str, message: str
) -> None:
    form = new_form(qtbot, casework)
    fill(qtbot, form, skip=skip)
    outbox = casework.outbox()
    typed = form.description.toPlainText()

    with qtbot.assertNotEmitted(form.reported, wait=200):
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)

    assert form.error_text() == message
    assert casework.outbox() == outbox
    assert casework.store.count() == 0
    assert form.description.toPlainText() == typed  # input kept


def test_a_malformed_phone_number_and_a_missing_handling_result_are_refused(
    qtbot, casework: Casework
) -> None:
    casework.act_as("grid_worker")
    form = new_form(qtbot, casework)
    fill(qtbot, form)
    form.reporter_phone.setText("138-abc")
    qtbot.keyClick(form.self_handled, Qt.Key.Key_Space)
    outbox = casework.outbox()

    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)

    assert form.error_text().splitlines() == [
        "联系电话只能填数字（如 13812345678）。",
        "请填写现场处置结果。",
    ]
    assert casework.outbox() == outbox
    assert form.reporter_phone.hasFocus()  # the first problem gets the cursor


def test_an_operator_is_told_that_only_grid_workers_self_handle(qtbot, casework: Casework) -> None:
    form = new_form(qtbot, casework)
    assert not form.self_handled.isEnabled()
    assert not form.result.isVisible()
    assert form.self_handled_note.text() == (
        "只有网格员可以登记自行处置。在此上报的事件由指挥室受理、派遣。"
    )
    assert form.source.currentData() == "hotline"
    casework.act_as("grid_worker")
    assert form.self_handled.isEnabled()


def test_reporting_commits_the_case_with_its_photo_and_empties_the_form(
    qtbot, casework: Casework, tmp_path: Path
) -> None:
    form = new_form(qtbot, casework)
    fill(qtbot, form)
    drop_files(form, [photo_file(tmp_path, "爆管现场.jpg")])
    qtbot.waitUntil(lambda: not form.photos.checking())
    assert form.photos.paths() == [str(tmp_path / "爆管现场.jpg")]

    with qtbot.waitSignal(form.reported, timeout=10_000) as reported:
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)

    case_id = str(reported.args[0])
    state = casework.state(case_id)
    assert state.status == Status.REPORTED
    assert state.fields["reporter_phone"] == "13987654321"
    assert state.fields["address"] == "张王村东口"
    photos = attachments(casework.store, case_id)
    assert [p.name for p in photos] == ["爆管现场.jpg"]
    assert photos[0].entry_id == casework.store.timeline(case_id)[0].id
    assert form.message.text() == f"已上报，事件编号 {state.case_no}。"
    assert form.title.text() == "" and form.photos.paths() == []
    assert not draft_path(casework.ctx, casework.ctx.actor).exists()


def test_unreadable_photos_are_named_in_plain_words_and_the_rest_is_kept(
    qtbot, casework: Casework, tmp_path: Path
) -> None:
    form = new_form(qtbot, casework)
    type_text(form.title, "路面塌陷")
    good = photo_file(tmp_path, "塌陷.jpg")
    text_file = fake_photo(tmp_path)
    truncated = tmp_path / "传了一半.jpg"
    truncated.write_bytes(good.read_bytes()[:600])
    drop_files(form, [good, text_file, truncated, tmp_path / "已删除.jpg"])
    qtbot.waitUntil(lambda: not form.photos.checking())

    assert form.photos.paths() == [str(good)]
    assert sorted(form.photos.problems) == sorted(
        [
            "“不是照片.jpg”不是可读取的照片：文件已损坏，或者根本不是图片。",
            "“传了一半.jpg”不是可读取的照片：文件已损坏，或者根本不是图片。",
            "照片“已删除.jpg”已找不到，是否已被移动或删除？",
        ]
    )
    assert form.photos.message.isVisible()
    assert form.title.text() == "路面塌陷"  # nothing else lost


def test_a_draft_survives_a_crash(qtbot, casework: Casework, tmp_path: Path) -> None:
    photo = photo_file(tmp_path, "现场.jpg")
    form = new_form(qtbot, casework)
    fill(qtbot, form)
    form.photos.add_paths([str(photo)])
    path = form.draft_file
    assert path == casework.ctx.settings.user_path.parent / "drafts" / "report-op-wang.json"
    # Autosave is debounced: the draft appears about a second after the last change.
    qtbot.waitUntil(lambda: (read_draft(path) or {}).get("photos") == [str(photo)], timeout=5_000)

    # A crash: the widget goes away without any save or cleanup of ours.
    form.deleteLater()
    qtbot.waitUntil(lambda: not isValid(form))

    again = new_form(qtbot, casework)
    assert again.title.text() == "自来水管爆裂漏水"
    assert again.category.value() == "0604"
    assert again.place.value() == ("330825002222", GRID)
    assert again.description.toPlainText() == "主管道爆裂，路面积水，十余户停水。"
    assert again.reporter_phone.text() == "13987654321"
    assert again.photos.paths() == [str(photo)]
    assert again.message.text().startswith("已恢复")
    qtbot.waitUntil(lambda: not again.photos.checking())
    assert again.photos.problems == []


def test_a_photo_gone_since_the_draft_was_saved_is_named_on_restore(
    qtbot, casework: Casework, tmp_path: Path
) -> None:
    photo = photo_file(tmp_path, "会被删的照片.jpg")
    form = new_form(qtbot, casework)
    type_text(form.title, "违规搭建")
    form.photos.add_paths([str(photo)])
    qtbot.waitUntil(lambda: not form.photos.checking())
    form.save_draft()
    form.deleteLater()
    qtbot.waitUntil(lambda: not isValid(form))
    photo.unlink()

    again = new_form(qtbot, casework)
    qtbot.waitUntil(lambda: not again.photos.checking())
    assert again.title.text() == "违规搭建"
    assert again.photos.paths() == []
    assert again.photos.problems == ["照片“会被删的照片.jpg”已找不到，是否已被移动或删除？"]


def test_a_damaged_draft_is_set_aside_with_a_message(qtbot, casework: Casework) -> None:
    path = draft_path(casework.ctx, casework.ctx.actor)
    path.parent.mkdir(parents=True)
    path.write_text('{"title": "半截', encoding="utf-8")
    form = new_form(qtbot, casework)
    assert form.title.text() == ""
    assert (
        form.message.text()
        == "已保存的草稿已损坏，无法恢复（已另存为 report-op-wang.json.damaged）。"
    )
    assert path.with_name("report-op-wang.json.damaged").exists() and not path.exists()


def test_a_failed_save_keeps_the_input_and_the_draft(qtbot, casework: Casework) -> None:
    work = casework
    form = new_form(qtbot, work)
    fill(qtbot, form)
    short_lock_wait(qtbot, work)
    outbox = work.outbox()
    # Another program holds the database (a backup tool, a second Gridroom).
    other = sqlcipher3.connect(str(work.path), isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not form.busy and form.error_text() != "", timeout=10_000)
    finally:
        other.execute("ROLLBACK")
        other.close()

    expected = explain(StoreLocked("locked", path=work.path))
    assert form.error_text() == f"{expected.headline} {expected.advice}"
    assert "Traceback" not in form.error_text()
    assert form.title.text() == "自来水管爆裂漏水"
    assert form.category.value() == "0604"
    assert work.outbox() == outbox
    draft = read_draft(form.draft_file)
    assert draft is not None and draft["title"] == "自来水管爆裂漏水"

    # Once the other program lets go, the same input goes through and the draft goes away.
    with qtbot.waitSignal(form.reported, timeout=10_000):
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert not form.draft_file.exists()
    assert work.store.count() == 1


def test_keyboard_submit_and_escape(qtbot, casework: Casework) -> None:
    form = new_form(qtbot, casework)
    form.title.setFocus()
    qtbot.keyClick(form.title, Qt.Key.Key_Tab)
    assert form.category.search.hasFocus()
    qtbot.keyClick(form.category.search, Qt.Key.Key_Tab)
    assert form.category.tree.hasFocus()
    qtbot.keyClick(form.category.tree, Qt.Key.Key_Tab)
    assert form.place.search.hasFocus()

    type_text(form.title, "噪音扰民")
    with qtbot.waitSignal(form.cancelled):
        qtbot.keyClick(form.title, Qt.Key.Key_Escape)
    assert read_draft(form.draft_file) is not None  # Esc keeps the draft for next time

    # Ctrl+Enter from a text box submits (here: refused, the category is missing).
    qtbot.keyClick(form.description, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert form.error_text().splitlines()[0] == "请选择事件分类（大类 → 小类）。"
    assert form.description.toPlainText() == ""  # no newline typed by the shortcut


def test_clear_discards_the_draft(qtbot, casework: Casework) -> None:
    form = new_form(qtbot, casework)
    type_text(form.title, "占道经营")
    form.save_draft()
    assert form.draft_file.exists()
    qtbot.mouseClick(form.clear_button, Qt.MouseButton.LeftButton)
    assert form.title.text() == "" and not form.draft_file.exists()


def test_each_account_keeps_its_own_draft(qtbot, casework: Casework) -> None:
    form = new_form(qtbot, casework)
    type_text(form.title, "值班员的草稿")
    casework.act_as("grid_worker")
    assert form.title.text() == ""
    assert form.place.value() == ("330825002222", GRID)  # the worker's grid, not the draft's
    assert form.self_handled.isEnabled()
    type_text(form.title, "网格员的草稿")
    casework.act_as("operator")
    assert form.title.text() == "值班员的草稿"
    assert not form.self_handled.isEnabled()
    casework.act_as("grid_worker")
    assert form.title.text() == "网格员的草稿"


def test_ctrl_enter_reports_from_inside_the_main_window(qtbot, window) -> None:
    """The main window binds Ctrl+Enter to a case's primary step; in the report form the
    same keys report the case (no ambiguous shortcut that does nothing)."""
    window.go("new_case")
    form = window.report
    assert isinstance(form, ReportForm)
    activate(qtbot, window)
    fill(qtbot, form)
    with qtbot.waitSignal(form.reported, timeout=10_000):
        qtbot.keyClick(form.description, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "已上报" in form.message.text()


def test_leaving_the_page_saves_the_draft_at_once(qtbot, casework: Casework) -> None:
    form = new_form(qtbot, casework)
    type_text(form.title, "井盖缺失")
    assert not form.draft_file.exists()  # the debounced autosave has not fired yet
    form.hide()
    draft = read_draft(form.draft_file)
    assert draft is not None and draft["title"] == "井盖缺失"


def test_a_store_that_became_read_only_keeps_the_input(qtbot, casework: Casework) -> None:
    """The writer's connection refuses writes (as on a read-only mount): plain words, no loss."""
    work = casework
    form = new_form(qtbot, work)
    fill(qtbot, form)
    outbox = work.outbox()
    set_query_only(qtbot, work, True)
    try:
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not form.busy and form.error_text() != "", timeout=10_000)
    finally:
        set_query_only(qtbot, work, False)
    expected = explain(ReadOnly("read-only", path=work.path))
    assert form.error_text() == f"{expected.headline} {expected.advice}"
    assert form.title.text() == "自来水管爆裂漏水" and work.outbox() == outbox
    draft = read_draft(form.draft_file)
    assert draft is not None and draft["reporter_phone"] == "13987654321"


def set_query_only(qtbot, work: Casework, on: bool) -> None:
    done: list[object] = []
    work.ctx.ops.write(lambda store: store.conn.execute(f"PRAGMA query_only = {int(on)}")).success(
        done.append
    ).run()
    qtbot.waitUntil(lambda: bool(done))
