"""The 走访 / 巡查 / 工作台账 page.

Three tabs: the 民情日记 (visits to households and organisations), the patrols, and the ledger
(工作台账) of one worker for a day, week or month with the supervisor's sign-off. A visit's
follow-up (a patrol's finding) becomes a case in one step (转为事件); the case names its visit
and the visit shows its case. Reads and writes run in the background (:mod:`desktop.ops`) through
:mod:`sync.store.fieldwork` and :mod:`sync.stats.fieldwork`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from sync.model.calendar import SHANGHAI
from sync.model.clock import from_millis
from sync.model.records import Actor, Attachment, Role, Visit
from sync.stats.fieldwork import COUNTS, Ledger, ledger
from sync.stats.periods import Period
from sync.store import Store
from sync.store import attachments as photo_store
from sync.store import fieldwork as fw

from .. import labels, words
from ..cases.photos import PhotoStrip
from ..context import AppContext
from ..names import of as names_of
from .forms import ConvertDialog, SignOffDialog, VisitForm, refusal_words

KEY_ROLE = Qt.ItemDataRole.UserRole


def _item(text: str, key: Any = None) -> QTableWidgetItem:
    cell = QTableWidgetItem(text)
    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if key is not None:
        cell.setData(KEY_ROLE, key)
    return cell


def _cell(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    """The cell at (row, column), which the page always fills."""
    cell = table.item(row, column)
    if cell is None:
        cell = _item("")
        table.setItem(row, column, cell)
    return cell


def _table(name: str, headers: list[str], parent: QWidget) -> QTableWidget:
    t = QTableWidget(0, len(headers), parent)
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().hide()
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def save_visit(store: Store, actor: Actor, values: dict[str, Any]) -> Visit:
    """Record a visit or patrol with its photos: every photo is checked before anything is
    written, so a bad one refuses the whole record and nothing is half-saved."""
    photos = [photo_store.load_photo(p) for p in values.get("photos", [])]
    fields = {k: v for k, v in values.items() if k != "photos"}
    with store.write():
        v = fw.record_visit(store, actor, **fields)
        for photo in photos:
            fw.add_visit_photo(store, v.id, photo, photo.name, actor)
    return v


@dataclass
class VisitDetail:
    visit: Visit
    photos: list[Attachment]
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)


class VisitsTab(QWidget):
    """The visits (or patrols) of the township, newest first, and the chosen one's detail.

    Signals:
        loaded(): the list (or a detail) was read and shown.
    """

    loaded = Signal()

    def __init__(self, ctx: AppContext, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.kind = kind
        self.setObjectName("patrolsTab" if kind == "patrol" else "visitsTab")
        self._visits: list[Visit] = []
        self._detail: VisitDetail | None = None
        self._pending = 0
        self.form: VisitForm | None = None
        self.convert_dialog: ConvertDialog | None = None
        patrol = kind == "patrol"
        self.new_button = QPushButton(
            self.tr("New patrol…") if patrol else self.tr("New visit…"), self
        )
        self.new_button.setObjectName("newPatrol" if patrol else "newVisit")
        self.new_button.clicked.connect(self.open_form)
        self.mine_only = QComboBox(self)
        self.mine_only.setObjectName("whose")
        self.mine_only.addItem(self.tr("Everyone's"), False)
        self.mine_only.addItem(self.tr("Mine"), True)
        self.mine_only.currentIndexChanged.connect(lambda _i: self.refresh())
        self.count = QLabel(self)
        self.count.setObjectName("visitCount")
        bar = QHBoxLayout()
        bar.addWidget(self.new_button)
        bar.addWidget(self.mine_only)
        bar.addStretch(1)
        bar.addWidget(self.count)
        self.list = _table(
            "visitList",
            [
                self.tr("Time"),
                self.tr("Grid"),
                self.tr("Place") if patrol else self.tr("Visited"),
                self.tr("Recorded by"),
                self.tr("Findings") if patrol else self.tr("Follow-ups"),
                self.tr("Cases"),
            ],
            self,
        )
        self.list.itemSelectionChanged.connect(self._chosen)
        # The detail: what was recorded, the photos, the follow-ups and their cases.
        self.head = QLabel(self)
        self.head.setObjectName("visitHead")
        self.head.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.head.setWordWrap(True)
        self.body = QLabel(self)
        self.body.setObjectName("visitBody")
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.photos = PhotoStrip(ctx, self)
        self.photos.setObjectName("visitPhotos")
        self.items = _table(
            "visitItems",
            [self.tr("Finding") if patrol else self.tr("Follow-up"), self.tr("Case")],
            self,
        )
        self.items.itemSelectionChanged.connect(self._item_chosen)
        self.items.itemActivated.connect(lambda _c: self.open_item_case())
        self.convert_button = QPushButton(self.tr("Turn into a case"), self)
        self.convert_button.setObjectName("convert")
        self.convert_button.clicked.connect(self.open_convert)
        self.open_case_button = QPushButton(self.tr("Open the case"), self)
        self.open_case_button.setObjectName("openCase")
        self.open_case_button.clicked.connect(self.open_item_case)
        self.message = QLabel(self)
        self.message.setObjectName("visitMessage")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.convert_button)
        buttons.addWidget(self.open_case_button)
        buttons.addStretch(1)
        detail = QWidget(self)
        dbox = QVBoxLayout(detail)
        dbox.addWidget(self.head)
        dbox.addWidget(self.body)
        dbox.addWidget(self.photos)
        dbox.addWidget(self.items, 1)
        dbox.addLayout(buttons)
        dbox.addWidget(self.message)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.list)
        split.addWidget(detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        box = QVBoxLayout(self)
        box.addLayout(bar)
        box.addWidget(split, 1)
        self._show_detail(None)
        ctx.cases_changed.connect(lambda _ids: self.refresh())

    # -- reading ---------------------------------------------------------------------------------

    def loading(self) -> bool:
        return self._pending > 0

    def refresh(self) -> None:
        kind = self.kind
        staff = self.ctx.actor.id if self.mine_only.currentData() else None
        self._pending += 1

        def load(store: Store) -> tuple[list[Visit], dict[str, int]]:
            found = fw.visits(store, kind=kind, staff=staff)
            cases = {v.id: len(fw.cases_of_visit(store, v.id)) for v in found}
            return found, cases

        self.ctx.ops.read(load).success(self._show_list).failure(self._failed).run()

    def _failed(self, exc: BaseException) -> None:
        self._pending = max(0, self._pending - 1)
        if isValid(self):
            self.message.setText(refusal_words(exc))
            self.loaded.emit()

    def _show_list(self, result: tuple[list[Visit], dict[str, int]]) -> None:
        self._pending = max(0, self._pending - 1)
        if not isValid(self):
            return
        found, cases = result
        keep = self._detail.visit.id if self._detail else None
        names = names_of(self.ctx)
        self._visits = found
        self.list.blockSignals(True)
        self.list.setRowCount(len(found))
        for row, v in enumerate(found):
            self.list.setItem(row, 0, _item(labels.when(v.at), v.id))
            self.list.setItem(row, 1, _item(names.grid(v.grid_id)))
            self.list.setItem(row, 2, _item(v.household))
            self.list.setItem(row, 3, _item(names.account(v.staff_id)))
            self.list.setItem(row, 4, _item(str(len(v.items))))
            self.list.setItem(row, 5, _item(str(cases.get(v.id, 0)) if cases.get(v.id) else ""))
        self.list.blockSignals(False)
        if len(found) >= fw.LIST_LIMIT:
            self.count.setText(self.tr("The latest %n record(s)", "", len(found)))
        else:
            self.count.setText(self.tr("%n record(s)", "", len(found)))
        ids = [v.id for v in found]
        if keep in ids:
            self.list.selectRow(ids.index(keep))
            self.load_detail(keep)
        else:
            self.loaded.emit()

    def _chosen(self) -> None:
        rows = self.list.selectionModel().selectedRows()
        if rows:
            self.load_detail(_cell(self.list, rows[0].row(), 0).data(KEY_ROLE))

    def select(self, visit_id: str) -> None:
        """Show the visit with this id (selecting its row)."""
        for row in range(self.list.rowCount()):
            if _cell(self.list, row, 0).data(KEY_ROLE) == visit_id:
                self.list.selectRow(row)
                return

    def load_detail(self, visit_id: str) -> None:
        self._pending += 1

        def load(store: Store) -> VisitDetail | None:
            v = fw.visit(store, visit_id)
            if v is None:
                return None
            return VisitDetail(v, fw.visit_photos(store, v.id), fw.cases_of_visit(store, v.id))

        def show(detail: VisitDetail | None) -> None:
            self._pending = max(0, self._pending - 1)
            if isValid(self):
                self._show_detail(detail)
                self.loaded.emit()

        self.ctx.ops.read(load).success(show).failure(self._failed).run()

    def _show_detail(self, detail: VisitDetail | None) -> None:
        self._detail = detail
        has = detail is not None
        for w in (self.body, self.photos, self.items):
            w.setVisible(has)
        if detail is None:
            self.head.setText(
                self.tr("Choose a patrol on the left.")
                if self.kind == "patrol"
                else self.tr("Choose a visit on the left.")
            )
            self.convert_button.setEnabled(False)
            self.open_case_button.setEnabled(False)
            return
        v = detail.visit
        names = names_of(self.ctx)
        self.head.setText(v.household)
        lines = [
            self.tr("%1 · %2 · recorded by %3")
            .replace("%1", labels.when(v.at))
            .replace("%2", names.grid(v.grid_id))
            .replace("%3", names.account(v.staff_id))
        ]
        if v.subject_id:
            lines.append(self.tr("Record number: %1").replace("%1", v.subject_id))
        if v.people:
            lines.append(self.tr("People met: %1").replace("%1", "、".join(v.people)))
        if v.checked:
            lines.append(self.tr("Checked: %1").replace("%1", v.checked))
        if v.location:
            lines.append(self.tr("Location: %1").replace("%1", v.location))
        if v.content:
            lines.append("")
            lines.append(v.content)
        self.body.setText("\n".join(lines))
        self.photos.set_attachments(detail.photos)
        self.photos.setVisible(bool(detail.photos))
        self.items.setRowCount(len(v.items))
        for row, item in enumerate(v.items):
            case = detail.cases.get(item.id)
            self.items.setItem(row, 0, _item(item.text, item.id))
            if case is None:
                self.items.setItem(row, 1, _item(self.tr("not a case")))
            else:
                text = f"{case['case_no']} {labels.status(case['status'])}"
                self.items.setItem(row, 1, _item(text, case["case_id"]))
        if v.items:
            self.items.selectRow(0)
        self._item_chosen()

    def _current_item(self) -> tuple[str, str, str | None] | None:
        rows = self.items.selectionModel().selectedRows() if self._detail else []
        if not rows:
            return None
        row = rows[0].row()
        case = _cell(self.items, row, 1)
        text_cell = _cell(self.items, row, 0)
        return text_cell.data(KEY_ROLE), text_cell.text(), case.data(KEY_ROLE) if case else None

    def _item_chosen(self) -> None:
        current = self._current_item()
        self.convert_button.setEnabled(current is not None and current[2] is None)
        self.open_case_button.setEnabled(current is not None and current[2] is not None)

    # -- writing ---------------------------------------------------------------------------------

    def _grids(self) -> list[tuple[str, str]]:
        names = names_of(self.ctx)
        actor = self.ctx.actor
        codes = list(actor.grid_ids) if actor.role == Role.GRID_WORKER else sorted(names.grids)
        return [(c, names.grid(c)) for c in codes]

    def open_form(self) -> VisitForm:
        from sync.geo.exif import location_of_file

        self.form = VisitForm(
            self.kind, self._grids(), self._submit_visit, self, location_of=location_of_file
        )
        self.form.open()
        return self.form

    def _submit_visit(
        self, values: dict[str, Any], done: Callable[[BaseException | None], None]
    ) -> None:
        actor = self.ctx.actor

        def saved(v: Visit) -> None:
            done(None)
            if isValid(self):
                self._detail = VisitDetail(v, [])
                self.refresh()

        self.ctx.ops.write(lambda store: save_visit(store, actor, values)).success(saved).failure(
            done
        ).run()

    def open_convert(self) -> ConvertDialog | None:
        current = self._current_item()
        if current is None or current[2] is not None or self._detail is None:
            return None
        item_id, text, _case = current
        visit_id = self._detail.visit.id
        names = names_of(self.ctx)
        taxonomy = names.taxonomy
        categories = [
            (c.code, names.category(c.code))
            for c in sorted(taxonomy or [], key=lambda c: c.code)
            if not c.is_major
        ]
        actor = self.ctx.actor

        def submit(values: dict[str, Any], done: Callable[[BaseException | None], None]) -> None:
            def made(state: Any) -> None:
                done(None)
                if isValid(self):
                    self.message.setText(
                        self.tr("Case %1 reported from this follow-up.").replace(
                            "%1", state.case_no
                        )
                    )
                self.ctx.cases_changed.emit({state.case_id})

            self.ctx.ops.write(
                lambda store: fw.item_to_case(store, actor, visit_id, item_id, **values)
            ).success(made).failure(done).run()

        self.convert_dialog = ConvertDialog(text, categories, submit, self)
        self.convert_dialog.open()
        return self.convert_dialog

    def open_item_case(self) -> None:
        current = self._current_item()
        if current is not None and current[2]:
            self.ctx.open_case(current[2])


class LedgerTab(QWidget):
    """One worker's 工作台账 for a day, week or month, and its sign-off.

    Signals:
        loaded(): the ledger was read and shown.
    """

    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ledgerTab")
        self._ledger: Ledger | None = None
        self._pending = 0
        self.dialog: SignOffDialog | None = None
        self.worker = QComboBox(self)
        self.worker.setObjectName("worker")
        self.period_kind = QComboBox(self)
        self.period_kind.setObjectName("periodKind")
        for kind, word in (
            ("day", self.tr("Day")),
            ("week", self.tr("Week")),
            ("month", self.tr("Month")),
        ):
            self.period_kind.addItem(word, kind)
        self.period_kind.setCurrentIndex(1)
        self.day = QDateEdit(self)
        self.day.setObjectName("day")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        today = from_millis(ctx.ops.gui_store().now()).astimezone(SHANGHAI).date()
        self.day.setDate(QDate(today.year, today.month, today.day))
        self.sign_button = QPushButton(self.tr("Sign off…"), self)
        self.sign_button.setObjectName("signOffButton")
        self.sign_button.clicked.connect(self.open_sign_off)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Worker"), self))
        bar.addWidget(self.worker, 1)
        bar.addWidget(QLabel(self.tr("Period"), self))
        bar.addWidget(self.period_kind)
        bar.addWidget(self.day)
        bar.addStretch(1)
        bar.addWidget(self.sign_button)
        self.title = QLabel(self)
        self.title.setObjectName("ledgerTitle")
        self.title.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.signed = QLabel(self)
        self.signed.setObjectName("ledgerSigned")
        self.signed.setWordWrap(True)
        self.counts = _table("ledgerCounts", [self.tr("Work"), self.tr("Count")], self)
        self.counts.setMaximumWidth(320)
        self.lines = _table(
            "ledgerLines",
            [self.tr("Time"), self.tr("Kind"), self.tr("What"), self.tr("Details")],
            self,
        )
        self.lines.itemActivated.connect(self._open_line)
        self.message = QLabel(self)
        self.message.setObjectName("ledgerMessage")
        self.message.setWordWrap(True)
        body = QHBoxLayout()
        body.addWidget(self.counts)
        body.addWidget(self.lines, 1)
        box = QVBoxLayout(self)
        box.addLayout(bar)
        box.addWidget(self.title)
        box.addWidget(self.signed)
        box.addLayout(body, 1)
        box.addWidget(self.message)
        self._fill_workers()
        self.worker.currentIndexChanged.connect(lambda _i: self.refresh())
        self.period_kind.currentIndexChanged.connect(lambda _i: self.refresh())
        self.day.dateChanged.connect(lambda _d: self.refresh())
        ctx.actor_changed.connect(self._actor_changed)

    def _actor_changed(self, _actor: object) -> None:
        self._fill_workers()
        self.refresh()

    def _fill_workers(self) -> None:
        actor = self.ctx.actor
        self.worker.blockSignals(True)
        self.worker.clear()
        if actor.role == Role.GRID_WORKER:
            self.worker.addItem(actor.name, actor.id)
        else:
            accounts = self.ctx.ops.gui_store().accounts()
            order = {Role.GRID_WORKER: 0, Role.DEPARTMENT: 1, Role.OPERATOR: 2, Role.SUPERVISOR: 3}
            for a in sorted(accounts, key=lambda a: (order.get(a.role, 9), a.name)):
                if a.role == Role.COUNTY_ADMIN:
                    continue
                self.worker.addItem(f"{a.name}（{labels.role(a.role)}）", a.id)
        self.worker.blockSignals(False)
        self.sign_button.setVisible(actor.role == Role.SUPERVISOR)

    def loading(self) -> bool:
        return self._pending > 0

    def period(self) -> Period:
        d = self.day.date()
        return Period.of(self.period_kind.currentData(), dt.date(d.year(), d.month(), d.day()))

    def count_word(self, key: str) -> str:
        # Written out one by one so lupdate sees every word.
        return {
            "visits": self.tr("Visits"),
            "patrols": self.tr("Patrols"),
            "follow_ups": self.tr("Follow-ups written"),
            "findings": self.tr("Findings written"),
            "field_cases": self.tr("Cases from field work"),
            "cases_reported": self.tr("Cases reported"),
            "case_steps": self.tr("Other case steps"),
            "record_updates": self.tr("Base-record updates"),
        }.get(key, key)

    def kind_word(self, kind: str) -> str:
        return {
            "visit": self.tr("Visit"),
            "patrol": self.tr("Patrol"),
            "report": self.tr("Case reported"),
            "step": self.tr("Case step"),
        }.get(kind, kind)

    def refresh(self) -> None:
        worker = self.worker.currentData()
        if not worker:
            return
        period = self.period()
        self._pending += 1

        def done(book: Ledger) -> None:
            self._pending = max(0, self._pending - 1)
            if isValid(self):
                self._show(book)
                self.loaded.emit()

        def failed(exc: BaseException) -> None:
            self._pending = max(0, self._pending - 1)
            if isValid(self):
                self.message.setText(refusal_words(exc))
                self.loaded.emit()

        self.ctx.ops.read(lambda store: ledger(store, worker, period)).success(done).failure(
            failed
        ).run()

    def _show(self, book: Ledger) -> None:
        self._ledger = book
        names = names_of(self.ctx)
        self.title.setText(
            self.tr("Ledger of %1, %2")
            .replace("%1", names.account(book.worker_id))
            .replace("%2", book.period.label_zh)
        )
        signed = book.signed
        if signed is None:
            self.signed.setText(self.tr("Not signed off yet."))
        else:
            text = (
                self.tr("Signed off by %1 on %2.")
                .replace("%1", names.account(signed.signer_id))
                .replace("%2", labels.when(signed.at))
            )
            if signed.remarks:
                text += " " + self.tr("Remarks: %1").replace("%1", signed.remarks)
            self.signed.setText(text)
        counts = book.work.counts()
        self.counts.setRowCount(len(COUNTS))
        for row, key in enumerate(COUNTS):
            self.counts.setItem(row, 0, _item(self.count_word(key), key))
            self.counts.setItem(row, 1, _item(str(counts[key])))
        self.lines.setRowCount(len(book.lines))
        for row, line in enumerate(book.lines):
            self.lines.setItem(row, 0, _item(labels.when(line.at), (line.kind, line.ref)))
            self.lines.setItem(row, 1, _item(self.kind_word(line.kind)))
            self.lines.setItem(row, 2, _item(line.title))
            detail = line.detail
            if line.kind == "step":
                detail = words.action(line.detail)
            self.lines.setItem(row, 3, _item(detail.replace("\n", " ")))
        actor = self.ctx.actor
        self.sign_button.setEnabled(actor.role == Role.SUPERVISOR and book.worker_id != actor.id)

    def _open_line(self, cell: QTableWidgetItem) -> None:
        key = _cell(self.lines, cell.row(), 0).data(KEY_ROLE)
        if key and key[0] in ("report", "step"):
            self.ctx.open_case(key[1])

    def summary(self) -> str:
        if self._ledger is None:
            return ""
        counts = self._ledger.work.counts()
        return "，".join(f"{self.count_word(k)} {counts[k]}" for k in COUNTS)

    def open_sign_off(self) -> SignOffDialog | None:
        book = self._ledger
        if book is None:
            return None
        names = names_of(self.ctx)
        signer = self.ctx.actor
        counts = book.work.counts()
        period = book.period

        def submit(values: dict[str, Any], done: Callable[[BaseException | None], None]) -> None:
            def signed(_s: Any) -> None:
                done(None)
                if isValid(self):
                    self.refresh()

            self.ctx.ops.write(
                lambda store: fw.sign_off(
                    store,
                    signer,
                    book.worker_id,
                    period.kind,
                    period.first.isoformat(),
                    remarks=values["remarks"],
                    counts=counts,
                )
            ).success(signed).failure(done).run()

        self.dialog = SignOffDialog(
            names.account(book.worker_id), period.label_zh, self.summary(), submit, self
        )
        self.dialog.open()
        return self.dialog


class FieldWorkPage(QTabWidget):
    """走访 · 巡查 · 工作台账.

    Signals:
        loaded(): the shown tab finished reading.
    """

    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("fieldWorkPage")
        self.visits = VisitsTab(ctx, "visit", self)
        self.patrols = VisitsTab(ctx, "patrol", self)
        self.ledger = LedgerTab(ctx, self)
        self.addTab(self.visits, self.tr("Visits (民情日记)"))
        self.addTab(self.patrols, self.tr("Patrols"))
        self.addTab(self.ledger, self.tr("Work ledger"))
        for tab in (self.visits, self.patrols, self.ledger):
            tab.loaded.connect(self.loaded)
        self.currentChanged.connect(lambda _i: self.refresh())
        self._shown = False

    def loading(self) -> bool:
        return any(t.loading() for t in (self.visits, self.patrols, self.ledger))

    def refresh(self) -> None:
        page = self.currentWidget()
        if isinstance(page, VisitsTab | LedgerTab):
            page.refresh()

    def show_visit(self, visit_id: str, kind: str = "visit") -> None:
        tab = self.patrols if kind == "patrol" else self.visits
        self.setCurrentWidget(tab)
        tab.select(visit_id)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            self.refresh()
