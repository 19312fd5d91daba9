"""Two read-only lists of the 同步 page: the sync history (each run: when, what went up and
down, bytes, outcome, the error in plain words) and what waits to go (each record readable:
"事件 330825002-261122-K7Q2-0003 · 受理")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import labels
from . import words
from .quarantine import record_text


def _table(parent: QWidget, name: str, headers: Sequence[str], stretch: int) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]], tips: Sequence[str] = ()) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if r < len(tips) and tips[r]:
                item.setToolTip(tips[r])
            table.setItem(r, c, item)
    for c in range(table.columnCount() - 1):
        table.resizeColumnToContents(c)


class HistoryPanel(QWidget):
    """The last sync runs, newest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = _table(
            self,
            "syncHistory",
            (
                self.tr("When"),
                self.tr("Outcome"),
                self.tr("Sent"),
                self.tr("Received"),
                self.tr("Data"),
                self.tr("What happened"),
            ),
            5,
        )
        self.empty = QLabel(self.tr("No sync has run on this computer yet."), self)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 8, 0, 0)
        box.addWidget(self.empty)
        box.addWidget(self.table, 1)

    def show_runs(self, runs: Sequence[Mapping[str, Any]]) -> None:
        rows, tips = [], []
        for run in runs:
            s = run.get("summary") or {}
            sent = int(s.get("pushed") or 0) + int(s.get("uploaded_files") or 0)
            received = (
                int(s.get("pulled_entries") or 0)
                + int(s.get("pulled_attachments") or 0)
                + int(s.get("pulled_visits") or 0)
                + int(s.get("downloaded_files") or 0)
            )
            data = (
                f"↑{words.size(int(s.get('bytes_up') or 0))} "
                f"↓{words.size(int(s.get('bytes_down') or 0))}"
            )
            rows.append(
                (
                    labels.when(run.get("started_at"), seconds=True),
                    words.outcome(str(run.get("status"))),
                    str(sent),
                    str(received),
                    data,
                    self.explain(str(run.get("status")), s),
                )
            )
            tips.append(str(s.get("error") or ""))
        _fill(self.table, rows, tips)
        self.empty.setVisible(not rows)

    def explain(self, status: str, s: Mapping[str, Any]) -> str:
        """One run's outcome in plain words."""
        if status == "ok":
            return self.tr("Everything is in step with the county.")
        if status == "cancelled":
            return self.tr("Cancelled; what was done is kept and the rest goes next time.")
        if status == "partial":
            parts = []
            refused = int(s.get("quarantined_now") or 0)
            if refused:
                parts.append(
                    self.tr("%n record(s) refused by the county (see Quarantine)", "", refused)
                )
            waiting = s.get("waiting") or {}
            left = int(waiting.get("changes") or 0) + int(waiting.get("uploads") or 0)
            if left:
                parts.append(self.tr("%n change(s) still waiting to go", "", left))
            problems = len(s.get("blob_errors") or [])
            if problems:
                parts.append(self.tr("%n photo(s) could not be moved", "", problems))
            stuck = int(s.get("quarantined") or 0)
            if not parts and stuck:
                parts.append(self.tr("%n refused record(s) wait in quarantine", "", stuck))
            return "; ".join(parts) or words.error("", str(s.get("error") or ""))
        return words.error(str(s.get("error_code") or ""), str(s.get("error") or ""))


class WaitingPanel(QWidget):
    """What waits to go up, oldest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = _table(
            self,
            "syncWaiting",
            (self.tr("Record"), self.tr("Case title"), self.tr("Saved at")),
            1,
        )
        self.note = QLabel(self)
        self.note.setObjectName("waitingNote")
        self.note.setWordWrap(True)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 8, 0, 0)
        box.addWidget(self.note)
        box.addWidget(self.table, 1)

    def show_items(self, items: Sequence[Mapping[str, Any]], total: int) -> None:
        rows = []
        for it in items:
            entity = str(it.get("entity"))
            if entity == "visit":
                kind = "patrol" if it.get("visit_kind") == "patrol" else "visit"
                text = f"{words.entity(kind)} · {it.get('household') or ''}".rstrip(" ·")
                when = labels.when(it.get("visit_at"))
            else:
                text = record_text(
                    entity,
                    str(it.get("case_no") or ""),
                    str(it.get("action") or ""),
                    str(it.get("entity_id") or "")[:13],
                )
                if entity == "attachment" and it.get("name"):
                    text = f"{text} · {it['name']}"
                when = labels.when(it.get("queued_at"))
            rows.append((text, str(it.get("title") or ""), when))
        _fill(self.table, rows)
        shown = len(rows)
        if total == 0:
            self.note.setText(self.tr("Nothing waits to go: the county has everything."))
        elif shown < total:
            self.note.setText(
                self.tr("%n change(s) wait to go; the oldest %1 are listed.", "", total).replace(
                    "%1", str(shown)
                )
            )
        else:
            self.note.setText(self.tr("%n change(s) wait to go.", "", total))
