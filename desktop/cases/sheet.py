"""The printed 事件处置单 (case sheet): the facts, the dispatch, the history and the result of one
case, with signature lines, on one A4 page where it fits.

The sheet is a rich-text :class:`QTextDocument` built from the same projection and timeline the
detail shows, so what is printed is what is on screen (the reporter's phone masked, as resident
data is by default). It goes through Qt's print dialog to a printer or to a PDF file.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QMarginsF, QSizeF
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrinter

from sync.model.clock import Millis
from sync.model.records import Action, Entry, Status, TaskState
from sync.model.workflow import CaseState, Task

from .. import words
from .actions import task_label
from .timeline import TimelineInfo, describe

# A bare name lupdate recognises: every call below names its context literally.
translate = QCoreApplication.translate

#: Body text size on paper: small enough for a day's history on one page, large enough to read.
POINT_SIZE = 9.5


def task_row(task: Task, state: CaseState, info: TimelineInfo) -> list[str]:
    """One unit of the dispatch as the detail and the sheet show it: unit, state, feedback or
    reason, time. A sub-task taken back on escalation reads 已收回 (the unit never returned
    it); an open one of a parked case reads 挂账 (its clock is stopped), not 处置中."""
    detail = task.result or task.reason
    shown = words.task_state(task.state)
    if task.state == TaskState.WITHDRAWN and task.reason == "handed down":
        detail = translate("CaseDetail", "the county handed the case down")
    elif task.state == TaskState.WITHDRAWN:
        detail = translate("CaseDetail", "the case was escalated")
    elif state.status == Status.PARKED and task.state == TaskState.ASSIGNED:
        shown = words.status(Status.PARKED)
    scored = ((state.evaluation or {}).get("units") or {}).get(task.assignee)
    if scored:
        shown += translate("CaseDetail", " · scored %1 of 5").replace("%1", str(scored["quality"]))
    if task.urges:
        urged = task.urges  # a plain name: lupdate skips plural counts that are attributes
        shown += translate("CaseDetail", " (urged %n time(s))", "", urged)
    return [task_label(task, info), shown, detail, words.when(task.fed_back_at)]


def _e(text: object) -> str:
    return html.escape(str(text or ""))


def sheet_html(state: CaseState, entries: Sequence[Entry], info: TimelineInfo, now: Millis) -> str:
    """The case sheet as HTML (Qt's rich-text subset)."""
    f = state.fields
    names = info.names
    heads = {
        "Case handling sheet": translate("CaseSheet", "Case handling sheet"),
        "Dispatch and handling": translate("CaseSheet", "Dispatch and handling"),
        "History": translate("CaseSheet", "History"),
        "Result": translate("CaseSheet", "Result"),
    }
    village = names.village(f.get("village_code"))
    grid = names.grid(f.get("grid_id")) if f.get("grid_id") else ""
    place = " / ".join(p for p in (village, grid, str(f.get("address") or "")) if p)
    ordered = sorted(entries, key=lambda e: e.sort_key)
    reported = words.when(state.reported_at)
    if ordered:
        reported = f"{reported} {info.who(ordered[0])}"
    reporter = " ".join(
        p
        for p in (str(f.get("reporter_name") or ""), words.mask_phone(f.get("reporter_phone")))
        if p
    )
    due = state.handle_due
    deadline = words.when(due) if due is not None else ""
    if state.overdue_at is not None:
        deadline += translate("CaseSheet", " (ran past its deadline of %1)").replace(
            "%1", words.when(state.overdue_at)
        )
    if state.extensions:
        extensions = state.extensions
        deadline += translate("CaseSheet", " (extended %n time(s))", "", extensions)

    def row(label: str, value: str, label2: str = "", value2: str = "") -> str:
        if label2:
            return (
                f"<tr><th width='14%'>{_e(label)}</th><td width='36%'>{_e(value)}</td>"
                f"<th width='14%'>{_e(label2)}</th><td width='36%'>{_e(value2)}</td></tr>"
            )
        return f"<tr><th width='14%'>{_e(label)}</th><td colspan='3'>{_e(value)}</td></tr>"

    parts = [
        "<html><body>",
        f"<h2 align='center'>{_e(heads['Case handling sheet'])}</h2>",
        "<p align='right'>"
        + _e(translate("CaseSheet", "No. %1").replace("%1", state.case_no or "—"))
        + "&nbsp;&nbsp;"
        + _e(translate("CaseSheet", "Printed %1").replace("%1", words.when(now)))
        + "</p>",
        "<table width='100%' border='1' cellspacing='0' cellpadding='4'>",
        row(translate("CaseSheet", "Title"), str(f.get("title") or "")),
        row(
            translate("CaseSheet", "Category"),
            names.category(f.get("category")),
            translate("CaseSheet", "Urgency"),
            words.urgency(f.get("urgency") or "normal"),
        ),
        row(translate("CaseSheet", "Place"), place),
        row(
            translate("CaseSheet", "Source"),
            words.source(f.get("source")),
            translate("CaseSheet", "Reported"),
            reported,
        ),
        row(translate("CaseSheet", "Reporter"), reporter),
        row(translate("CaseSheet", "Description"), str(f.get("description") or "")),
        row(
            translate("CaseSheet", "Status"),
            f"{words.status(state.status)} · {words.level(state.level)}",
            translate("CaseSheet", "Handling due"),
            deadline,
        ),
        "</table>",
    ]
    if state.tasks:
        parts.append(f"<h3>{_e(heads['Dispatch and handling'])}</h3>")
        parts.append("<table width='100%' border='1' cellspacing='0' cellpadding='4'>")
        header = (
            translate("CaseSheet", "Handling unit"),
            translate("CaseSheet", "State"),
            translate("CaseSheet", "Result / reason"),
            translate("CaseSheet", "Time"),
        )
        parts.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
        for task in state.tasks:
            cells = task_row(task, state, info)
            parts.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    parts.append(f"<h3>{_e(heads['History'])}</h3><ol>")
    for entry in ordered:
        parts.append(f"<li>{_e(describe(entry, info, state))}</li>")
    parts.append("</ol>")
    result = []
    if state.closed_at is not None and state.verified:
        result.append(
            translate("CaseSheet", "Verified and closed %1").replace(
                "%1", words.when(state.closed_at)
            )
        )
    if state.on_time is not None:
        result.append(
            translate("CaseSheet", "Closed on time")
            if state.on_time
            else translate("CaseSheet", "Not closed on time")
        )
    if state.evaluation:
        ev = state.evaluation
        result.append(
            translate("CaseSheet", "Evaluation: quality %1 of 5, %2")
            .replace("%1", str(ev.get("quality")))
            .replace("%2", words.satisfaction(ev.get("satisfaction")))
        )
    if result:
        parts.append(f"<h3>{_e(heads['Result'])}</h3><p>{_e('；'.join(result))}</p>")
    signatures = (
        translate("CaseSheet", "Handled by (signature)"),
        translate("CaseSheet", "Verified by (signature)"),
        translate("CaseSheet", "Supervisor (signature)"),
    )
    day = translate("CaseSheet", "Date")
    parts.append("<br/><table width='100%' cellspacing='0' cellpadding='8'>")
    for label in signatures:
        parts.append(
            f"<tr><td width='60%'>{_e(label)}：______________________</td>"
            f"<td>{_e(day)}：______________</td></tr>"
        )
    parts.append("</table></body></html>")
    return "\n".join(parts)


def dispatch_order_html(
    state: CaseState, entries: Sequence[Entry], info: TimelineInfo, now: Millis
) -> str | None:
    """The 交办单: one page per unit of the current dispatch (lead and assisting), with the
    case, the instructions, the deadline and lines for the unit to sign for it and report
    back. None when the case is not dispatched."""
    tasks = [t for t in state.active_tasks() if t.state == TaskState.ASSIGNED]
    if not tasks:
        return None
    f = state.fields
    names = info.names
    dispatch = next(
        (
            e
            for e in sorted(entries, key=lambda e: e.sort_key, reverse=True)
            if e.action == Action.DISPATCH
            and e.id not in state.voided
            and not any(c.entry_id == e.id for c in state.conflicts)
        ),
        None,
    )
    note = str(dispatch.payload.get("note") or "") if dispatch is not None else ""
    dispatched = f"{words.when(dispatch.at)} {info.who(dispatch)}" if dispatch is not None else ""
    village = names.village(f.get("village_code"))
    grid = names.grid(f.get("grid_id")) if f.get("grid_id") else ""
    place = " / ".join(p for p in (village, grid, str(f.get("address") or "")) if p)
    title = translate("CaseSheet", "Dispatch order")
    others = {t.assignee: task_label(t, info) for t in tasks}
    pages: list[str] = []
    for task in tasks:
        with_units = "、".join(v for k, v in others.items() if k != task.assignee)
        rows = [
            (translate("CaseSheet", "To"), task_label(task, info)),
            (translate("CaseSheet", "Together with"), with_units),
            (translate("CaseSheet", "Title"), str(f.get("title") or "")),
            (translate("CaseSheet", "Category"), names.category(f.get("category"))),
            (translate("CaseSheet", "Place"), place),
            (translate("CaseSheet", "Description"), str(f.get("description") or "")),
            (translate("CaseSheet", "Instructions"), note),
            (translate("CaseSheet", "Dispatched"), dispatched),
            (translate("CaseSheet", "Handling due"), words.when(state.handle_due)),
        ]
        body = "".join(
            f"<tr><th width='18%'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows if v
        )
        signed = translate("CaseSheet", "Received by (signature)")
        result = translate("CaseSheet", "Result of the handling")
        day = translate("CaseSheet", "Date")
        style = " style='page-break-before: always'" if pages else ""
        pages.append(
            f"<div{style}><h2 align='center'>{_e(title)}</h2>"
            "<p align='right'>"
            + _e(translate("CaseSheet", "No. %1").replace("%1", state.case_no or "—"))
            + "&nbsp;&nbsp;"
            + _e(translate("CaseSheet", "Printed %1").replace("%1", words.when(now)))
            + "</p>"
            "<table width='100%' border='1' cellspacing='0' cellpadding='6'>"
            + body
            + f"<tr><th>{_e(result)}</th><td><br/><br/><br/><br/><br/></td></tr></table>"
            "<br/><table width='100%' cellpadding='8'>"
            f"<tr><td width='60%'>{_e(signed)}：______________________</td>"
            f"<td>{_e(day)}：______________</td></tr></table></div>"
        )
    return "<html><body>" + "".join(pages) + "</body></html>"


def a4_printer(printer: QPrinter | None = None) -> QPrinter:
    """A printer set to A4 portrait with 15 mm margins (a PDF printer when none is given)."""
    if printer is None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 15),
            QPageLayout.Unit.Millimeter,
        )
    )
    return printer


def sheet_document(html_text: str, printer: QPrinter) -> QTextDocument:
    """The sheet laid out for ``printer``'s page (so its page count is what prints)."""
    doc = QTextDocument()
    font = QFont()
    font.setPointSizeF(POINT_SIZE)
    doc.setDefaultFont(font)
    doc.setDefaultStyleSheet(
        "th { background-color: #f0f0f0; text-align: left; } h2 { margin-bottom: 2px; }"
    )
    doc.setHtml(html_text)
    # Laid out at the printer's resolution, page by page, as it will print.
    doc.documentLayout().setPaintDevice(printer)
    rect = printer.pageLayout().paintRectPixels(printer.resolution())
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    return doc


def print_sheet(html_text: str, printer: QPrinter) -> int:
    """Print the sheet on ``printer``; returns the number of pages printed."""
    doc = sheet_document(html_text, printer)
    doc.print_(printer)
    return doc.pageCount()
