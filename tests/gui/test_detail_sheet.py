"""The printed 事件处置单 (case sheet): what it says, that it fits one A4 page, and that the
detail's print button goes through Qt's print dialog (to a printer or a PDF file)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtPrintSupport import QPrinter

from desktop.cases import sheet
from tests.gui.casework_fixtures import (  # noqa: F401 (_casework provides the casework fixture)
    Casework,
    _casework,
)
from tests.gui.test_detail import make_case, shown


def closed_case(work: Casework) -> str:
    """A joint dispatch through feedback, verification, archive and evaluation."""
    a = work.accounts
    case_id = make_case(work, "accepted")
    work.clock.advance(minutes=20)
    work.store.dispatch(
        case_id, a["operator"], lead=("department", "zhzf"), assisting=[("department", "pcs")]
    )
    work.clock.advance(hours=3)
    work.store.comment(case_id, a["operator"], "已电话联系店主，约定下午清理")
    work.clock.advance(hours=2)
    work.store.feedback(case_id, a["police"], task="pcs", result="已协助维持秩序")
    work.store.feedback(case_id, a["department"], task="zhzf", result="已清理通道杂物")
    work.clock.advance(hours=1)
    work.store.verify(case_id, a["operator"], passed=True, note="电话回访，群众认可")
    work.store.archive(case_id, a["operator"])
    work.store.evaluate(case_id, a["supervisor"], quality=5, satisfaction="satisfied")
    return case_id


def test_the_case_sheet_holds_facts_dispatch_history_result_and_signatures_on_one_page(
    qtbot, casework: Casework, tmp_path: Path
) -> None:
    work = casework
    detail = shown(work, qtbot, closed_case(work))
    html_text = detail.sheet_html()
    assert html_text is not None
    printer = sheet.a4_printer()
    pdf = tmp_path / "事件处置单.pdf"
    printer.setOutputFileName(str(pdf))
    assert sheet.print_sheet(html_text, printer) == 1
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5_000

    text = sheet.sheet_document(html_text, printer).toPlainText()
    for expected in (
        "事件处置单",
        "沿街店铺消防通道堵塞",
        "张王村商业街12号",
        "赵先生 138****5678",
        "综合行政执法中队（牵头）",
        "东华派出所（协办）",
        "已清理通道杂物",
        "按期办结",
        "考核评价：质量 5 分（满分 5 分），满意",
        "承办人（签字）",
        "核查人（签字）",
        "分管领导（签字）",
    ):
        assert expected in text, expected
    assert "13812345678" not in text  # resident data stays masked on paper
    for line in detail.timeline.lines():  # the whole history, as the detail reads it
        assert line in text


def test_a_parked_and_overdue_case_prints_what_the_detail_shows(qtbot, casework: Casework) -> None:
    work = casework
    a = work.accounts
    case_id = make_case(work, "handling")
    work.clock.advance(days=6)  # past the deadline of 06-05
    review = work.clock() + 86_400_000 * 20
    work.store.request_park(case_id, a["operator"], "涉及历史遗留问题", review)
    work.store.decide_park(case_id, a["supervisor"], approve=True)
    detail = shown(work, qtbot, case_id)
    html_text = detail.sheet_html()
    assert html_text is not None
    text = sheet.sheet_document(html_text, sheet.a4_printer()).toPlainText()
    assert "挂账" in text and "（曾超过期限 2025-06-05 23:59）" in text
    assert "<td>综合行政执法中队（牵头）</td><td>挂账</td>" in html_text


def test_the_print_button_opens_the_print_dialog_and_prints_to_the_chosen_file(
    qtbot, casework: Casework, tmp_path: Path
) -> None:
    work = casework
    detail = shown(work, qtbot, closed_case(work))
    target = tmp_path / "printed.pdf"
    seen: list[str] = []

    def choose_pdf_and_print() -> None:
        dialog = detail.print_dialog
        assert dialog is not None and dialog.isVisible()
        seen.append(dialog.windowTitle())
        printer = dialog.printer()
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        dialog.done(dialog.DialogCode.Accepted)

    QTimer.singleShot(300, choose_pdf_and_print)
    qtbot.mouseClick(detail.print_button, Qt.MouseButton.LeftButton)
    assert seen == ["打印事件处置单"]
    assert detail.print_dialog is None
    assert target.exists() and target.read_bytes().startswith(b"%PDF")


def test_cancelling_the_print_dialog_prints_nothing(
    qtbot, casework: Casework, tmp_path: Path
) -> None:
    work = casework
    detail = shown(work, qtbot, make_case(work, "handling"))
    target = tmp_path / "never.pdf"

    def cancel() -> None:
        dialog = detail.print_dialog
        assert dialog is not None
        dialog.printer().setOutputFileName(str(target))
        dialog.reject()

    QTimer.singleShot(300, cancel)
    qtbot.mouseClick(detail.print_button, Qt.MouseButton.LeftButton)
    assert not target.exists()


def test_a_dispatch_order_per_unit_each_on_its_own_page(
    qtbot, casework: Casework, tmp_path: Path
) -> None:
    work = casework
    a = work.accounts
    case_id = make_case(work, "accepted")
    detail = shown(work, qtbot, case_id)
    assert detail.dispatch_orders_html() is None and detail.print_order_button.isHidden()
    work.clock.advance(minutes=20)
    work.store.dispatch(
        case_id,
        a["operator"],
        lead=("department", "zhzf"),
        assisting=[("department", "pcs")],
        note="请于今日下班前清理完毕并拍照反馈",
    )
    detail.reload()
    assert not detail.print_order_button.isHidden()
    html_text = detail.dispatch_orders_html()
    assert html_text is not None
    printer = sheet.a4_printer()
    printer.setOutputFileName(str(tmp_path / "交办单.pdf"))
    assert sheet.print_sheet(html_text, printer) == 2  # one page for each unit
    text = sheet.sheet_document(html_text, printer).toPlainText()
    assert text.count("事件交办单") == 2 and text.count("签收人（签字）") == 2
    assert text.count("请于今日下班前清理完毕并拍照反馈") == 2
    assert "综合行政执法中队（牵头）" in text and "东华派出所（协办）" in text
    assert "2025-06-05 23:59" in text  # the handling deadline
    # A unit that has fed back needs no order any more.
    work.store.feedback(case_id, a["police"], task="pcs", result="已协助")
    detail.reload()
    html_text = detail.dispatch_orders_html()
    assert html_text is not None and html_text.count("事件交办单") == 1
