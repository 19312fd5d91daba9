"""The 走访 / 巡查 / 工作台账 page on a real store: forms, the list and detail, 转为事件, the
ledger and its sign-off, a location read from a real JPEG's EXIF GPS, refusals in Chinese."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from PySide6.QtWidgets import QDialog

from desktop.fieldwork import FieldWorkPage
from sync.store import Store
from sync.store import fieldwork as fw
from tests.conftest import ACCOUNTS, ZHANGWANG

from .conftest import wait_idle

GRID = f"{ZHANGWANG}001"


def gps_jpeg(path: Path, lat: tuple[float, float, float], lon: tuple[float, float, float]) -> Path:
    """A real JPEG with EXIF GPS (written by Pillow, as a phone writes it)."""
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: lat,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: lon,
    }
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 140, 60)).save(buf, format="JPEG", exif=exif)
    path.write_bytes(buf.getvalue())
    return path


def _page(ctx, qtbot) -> FieldWorkPage:
    page = FieldWorkPage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 800)
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        page.show()
    return page


@pytest.fixture
def seeded(case_store_path, clock):
    with Store.open(case_store_path, clock=clock) as store:
        v = fw.record_visit(
            store,
            ACCOUNTS["grid_worker"],
            kind="visit",
            grid=GRID,
            household="张王村5组 陈家",
            content="低保户，家中两位老人，儿子在外务工",
            subject_kind="household",
            people=["陈大伯"],
            items=["院墙开裂有倒塌风险", "申请临时救助"],
        )
    return v


@pytest.fixture
def gw_ctx(make_ctx, case_store_path, seeded):
    return make_ctx(case_store_path, ACCOUNTS["grid_worker"])


def test_the_diary_lists_visits_and_shows_one(gw_ctx, qtbot, seeded):
    page = _page(gw_ctx, qtbot)
    tab = page.visits
    assert tab.list.rowCount() == 1
    assert tab.list.item(0, 2).text() == "张王村5组 陈家"
    assert tab.list.item(0, 4).text() == "2"
    with qtbot.waitSignal(tab.loaded, timeout=10_000):
        tab.list.selectRow(0)
    assert tab.head.text() == "张王村5组 陈家"
    assert "陈大伯" in tab.body.text() and "低保户" in tab.body.text()
    assert [tab.items.item(r, 0).text() for r in range(tab.items.rowCount())] == [
        "院墙开裂有倒塌风险",
        "申请临时救助",
    ]
    assert tab.items.item(0, 1).text() == "未转事件"
    assert tab.convert_button.isEnabled() and not tab.open_case_button.isEnabled()
    # Patrols are their own list.
    page.setCurrentWidget(page.patrols)
    wait_idle(qtbot, gw_ctx)
    assert page.patrols.list.rowCount() == 0


def test_a_new_visit_with_a_gps_photo_is_saved(gw_ctx, qtbot, tmp_path, case_store_path, clock):
    page = _page(gw_ctx, qtbot)
    tab = page.visits
    form = tab.open_form()
    assert form.windowTitle() == "新建走访"
    form.household.setText("张王村3组 李奶奶家")
    form.people.setText("李奶奶，李奶奶的孙女")
    form.notes.setPlainText("独居老人，行动不便")
    form.items.setPlainText("门前路灯不亮\n\n代办高龄补贴\n")
    shot = gps_jpeg(tmp_path / "门前.jpg", (29.0, 2.0, 35.16), (119.0, 10.0, 21.0))
    form.add_photo_paths([str(shot)])
    assert form.location.text() == "119.172500,29.043100"
    with qtbot.waitSignal(form.finished, timeout=20_000):
        form.save_button.click()
    assert form.result() == QDialog.DialogCode.Accepted
    qtbot.waitUntil(lambda: tab.list.rowCount() == 2, timeout=20_000)
    with Store.open(case_store_path, clock=clock) as store:
        [v] = [x for x in fw.visits(store) if x.household == "张王村3组 李奶奶家"]
        assert v.people == ("李奶奶", "李奶奶的孙女")
        assert [i.text for i in v.items] == ["门前路灯不亮", "代办高龄补贴"]
        assert v.location == "119.172500,29.043100"
        assert v.staff_id == ACCOUNTS["grid_worker"].id
        [photo] = fw.visit_photos(store, v.id)
        assert photo.name == "门前.jpg"


def test_a_refused_visit_keeps_the_form_and_says_why(
    gw_ctx, qtbot, tmp_path, case_store_path, clock
):
    page = _page(gw_ctx, qtbot)
    form = page.visits.open_form()
    form.notes.setPlainText("忘了写走访对象")
    form.save_button.click()
    qtbot.waitUntil(lambda: form.error.isVisible(), timeout=20_000)
    assert form.error.text() == "请填写走访对象（或巡查地点）。"
    assert form.isVisible() and form.notes.toPlainText() == "忘了写走访对象"
    # A photo that is not an image refuses the whole record: nothing half-saved.
    bad = tmp_path / "不是照片.jpg"
    bad.write_text("not a picture")
    form.household.setText("张王村8组")
    form.add_photo_paths([str(bad)])
    form.save_button.click()
    qtbot.waitUntil(lambda: "不是照片.jpg" in form.error.text(), timeout=20_000)
    assert form.isVisible()
    with Store.open(case_store_path, clock=clock) as store:
        assert [v.household for v in fw.visits(store)] == ["张王村5组 陈家"]


def test_a_follow_up_becomes_a_case_in_one_step(gw_ctx, qtbot, seeded, case_store_path, clock):
    page = _page(gw_ctx, qtbot)
    tab = page.visits
    with qtbot.waitSignal(tab.loaded, timeout=10_000):
        tab.list.selectRow(0)
    tab.items.selectRow(0)
    dialog = tab.open_convert()
    assert dialog is not None
    assert dialog.title.text() == "院墙开裂有倒塌风险"
    dialog.category.setCurrentIndex(dialog.category.findData("0401"))
    with qtbot.waitSignal(dialog.finished, timeout=20_000):
        dialog.ok.click()
    qtbot.waitUntil(lambda: tab.items.item(0, 1).text() != "未转事件", timeout=20_000)
    with Store.open(case_store_path, clock=clock) as store:
        case_id = fw.cases_of_visit(store, seeded.id)[seeded.items[0].id]["case_id"]
        state = store.case(case_id)
        assert state is not None and state.fields["category"] == "0401"
        source = fw.source_visit(store, case_id)
        assert source is not None and source[0].id == seeded.id
    assert tab.items.item(0, 1).text().startswith(state.case_no)
    assert "待受理" in tab.items.item(0, 1).text()
    assert state.case_no in tab.message.text()
    tab.items.selectRow(0)
    assert not tab.convert_button.isEnabled()
    with qtbot.waitSignal(gw_ctx.open_case_requested, timeout=5_000) as opened:
        tab.open_case_button.click()
    assert opened.args == [case_id]


def test_a_supervisor_signs_off_a_week(make_ctx, case_store_path, seeded, qtbot, clock):
    ctx = make_ctx(case_store_path, ACCOUNTS["supervisor"])
    page = _page(ctx, qtbot)
    page.setCurrentWidget(page.ledger)
    tab = page.ledger
    wait_idle(qtbot, ctx)
    tab.worker.setCurrentIndex(tab.worker.findData(ACCOUNTS["grid_worker"].id))
    with qtbot.waitSignal(tab.loaded, timeout=10_000):
        tab.refresh()
    assert tab.title.text() == "张伟的工作台账 · 2025年第23周（6月2日—6月8日）"
    counts = {
        tab.counts.item(r, 0).data(0x0100): tab.counts.item(r, 1).text()
        for r in range(tab.counts.rowCount())
    }
    assert counts["visits"] == "1" and counts["follow_ups"] == "2"
    assert tab.signed.text() == "尚未审核签字。"
    assert tab.sign_button.isVisible() and tab.sign_button.isEnabled()
    dialog = tab.open_sign_off()
    assert dialog is not None
    dialog.remarks.setPlainText("走访记录完整，请跟进院墙隐患")
    with qtbot.waitSignal(tab.loaded, timeout=20_000):
        dialog.ok.click()
    assert "李建国" in tab.signed.text() and "请跟进院墙隐患" in tab.signed.text()
    with Store.open(case_store_path, clock=clock) as store:
        [s] = fw.signoffs(store)
        assert (s.worker_id, s.period, s.first_day) == ("gw-zhang", "week", "2025-06-02")
        assert s.counts["visits"] == 1


def test_a_grid_worker_sees_only_their_ledger_and_cannot_sign(gw_ctx, qtbot):
    page = _page(gw_ctx, qtbot)
    page.setCurrentWidget(page.ledger)
    wait_idle(qtbot, gw_ctx)
    assert page.ledger.worker.count() == 1
    assert not page.ledger.sign_button.isVisible()


def test_a_sign_off_of_ones_own_ledger_is_refused_in_words(make_ctx, case_store_path, qtbot):
    ctx = make_ctx(case_store_path, ACCOUNTS["supervisor"])
    page = _page(ctx, qtbot)
    page.setCurrentWidget(page.ledger)
    tab = page.ledger
    wait_idle(qtbot, ctx)
    tab.worker.setCurrentIndex(tab.worker.findData(ACCOUNTS["supervisor"].id))
    with qtbot.waitSignal(tab.loaded, timeout=10_000):
        tab.refresh()
    assert not tab.sign_button.isEnabled()


def test_the_main_window_has_the_field_work_page(window):
    assert "fieldwork" in window.page_keys()
    window.go("fieldwork")
    assert window.current_page() == "fieldwork"


def test_the_case_detail_names_the_visit_it_came_from(
    make_ctx, case_store_path, seeded, qtbot, clock
):
    from desktop.cases.detail import CaseDetail

    with Store.open(case_store_path, clock=clock) as store:
        state = fw.item_to_case(
            store, ACCOUNTS["grid_worker"], seeded.id, seeded.items[1].id, category="0601"
        )
        plain = store.report(
            ACCOUNTS["grid_worker"], {"title": "路灯坏", "category": "0604", "grid_id": GRID}
        )
    ctx = make_ctx(case_store_path)
    detail = CaseDetail(ctx)
    qtbot.addWidget(detail)
    detail.show_case(state.case_id)
    qtbot.waitUntil(lambda: detail.notes.text() != "", timeout=10_000)
    assert detail.notes.text().startswith(
        "来源走访：张王村5组 陈家（2025-06-02 09:00）：申请临时救助"
    )
    detail.show_case(plain.case_id)
    qtbot.waitUntil(lambda: detail.case_id() == plain.case_id, timeout=10_000)
    assert "来源" not in detail.notes.text()
