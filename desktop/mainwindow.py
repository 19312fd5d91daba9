"""The main window: left navigation, one page at a time, menus with every shortcut, status bar.

Pages talk to each other only through the :class:`AppContext` signals: the dashboard asks to
show a case list (``show_cases``), a list asks to open a case (``open_case``); the window does
the navigating. The case detail and the quick report form are built by another module
(``desktop.cases.detail``, ``desktop.report.form``); they are imported lazily, so the window
still starts — with a plain placeholder — in a build that lacks them.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from sync.store.queries import CaseQuery

from .cases.list_view import CaseListView, ledger_exporter
from .context import AppContext
from .dashboard import DashboardPage
from .errors import show_error
from .fieldwork import FieldWorkPage
from .grids import GridsPage
from .map import MapPage
from .names import of as names_of
from .settings_page import SettingsPage
from .stats import StatsPage
from .statusbar import StatusBar
from .sync_page import SyncPage
from .syncer import Syncer


def optional_class(module: str, name: str) -> Any | None:
    """``module.name`` if this build has that module, else None (a missing *dependency* of
    an existing module is a real error and is raised)."""
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise
    return getattr(found, name, None)


class Placeholder(QWidget):
    """What a page of a missing module shows: a plain sentence, nothing pretending to work."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("placeholder")
        self.label = QLabel(text, self)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box = QVBoxLayout(self)
        box.addWidget(self.label)


class CasesPage(QSplitter):
    """The case list beside the case detail."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setObjectName("casesPage")
        self.list = CaseListView(ctx, self)
        self.addWidget(self.list)
        detail_class = optional_class("desktop.cases.detail", "CaseDetail")
        if detail_class is not None:
            self.detail: QWidget = detail_class(ctx, self)
            self.has_detail = True
            changed = getattr(self.detail, "case_changed", None)
            if changed is not None:
                changed.connect(lambda case_id: ctx.cases_changed.emit({case_id}))
        else:
            self.detail = Placeholder(self.tr("The case detail is not part of this build."), self)
            self.has_detail = False
        self.detail.setObjectName("caseDetail")
        self.addWidget(self.detail)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        self.setChildrenCollapsible(True)
        self.shown_case: str | None = None
        self.setSizes([1, 0])  # the detail opens when a case is opened

    def show_case(self, case_id: str) -> None:
        self.shown_case = case_id
        total = max(sum(self.sizes()), 1000)
        # As wide as the detail's content needs, between half and 60% of the page.
        detail = max(total // 2, min(self._detail_needs(), total * 3 // 5))
        if self.sizes()[1] < detail:
            self.setSizes([total - detail, detail])
        if self.has_detail:
            self.detail.show_case(case_id)  # type: ignore[attr-defined]
        else:
            assert isinstance(self.detail, Placeholder)
            self.detail.label.setText(
                self.tr("The case detail is not part of this build (case %1).").replace(
                    "%1", case_id
                )
            )

    def _detail_needs(self) -> int:
        """The width the detail's content needs (inside its scroll area, if it has one)."""
        scroll = self.detail.findChild(QScrollArea)
        inner = scroll.widget() if scroll is not None else None
        if scroll is not None and inner is not None:
            return (
                inner.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 8
            )
        return self.detail.minimumSizeHint().width()

    def close_detail(self) -> None:
        self.setSizes([sum(self.sizes()), 0])
        self.list.table.setFocus()

    def primary_action(self) -> bool:
        """Take the shown case's primary action (the detail view decides what that is)."""
        action = getattr(self.detail, "primary_action", None)
        if self.shown_case is None or action is None or self.sizes()[1] == 0:
            return False
        action()
        return True


class MainWindow(QMainWindow):
    """The app's one window.

    Signals:
        page_changed(str): the page with this key is now shown.
    """

    page_changed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.ctx = ctx
        self.names = names_of(ctx)
        self._next_overdue_after: tuple[Any, int] | None = None

        self.nav = QListWidget(self)
        self.nav.setObjectName("nav")
        self.nav.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.stack = QStackedWidget(self)
        self.pages: dict[str, QWidget] = {}
        self._nav_titles: list[str] = []
        self.dashboard = DashboardPage(ctx, self)
        self.cases = CasesPage(ctx, self)
        report_class = optional_class("desktop.report.form", "ReportForm")
        if report_class is not None:
            self.report: QWidget = report_class(ctx, self)
            self.report.reported.connect(self._reported)
        else:
            self.report = Placeholder(self.tr("The quick report form is not part of this build."))
        self.report.setObjectName("reportPage")
        self.grids = GridsPage(ctx, self)
        self.map = MapPage(ctx, self)
        self.stats = StatsPage(ctx, self)
        # Background sync with the county (does nothing on a demo or unenrolled store).
        self.syncer = Syncer(ctx, parent=self)
        self.sync = SyncPage(ctx, self, syncer=self.syncer)
        self.settings_page = SettingsPage(ctx, self)
        self._add_page("dashboard", self.tr("Dashboard"), self.dashboard)
        self._add_page("cases", self.tr("Cases"), self.cases)
        self._add_page("new_case", self.tr("New case"), self.report)
        self._add_page("grids", self.tr("Grids"), self.grids)
        self._add_page("map", self.tr("Map"), self.map)
        self._add_page("stats", self.tr("Statistics"), self.stats)
        self.fieldwork = FieldWorkPage(ctx, self)
        self._add_page("fieldwork", self.tr("Field work"), self.fieldwork)
        self._add_page("sync", self.tr("Sync"), self.sync)
        self._add_page("settings", self.tr("Settings"), self.settings_page)
        self.nav.currentRowChanged.connect(self._nav_changed)
        # 待审批 on the 事件 entry for the accounts that decide requests (desktop.county).
        from .county.badge import ApprovalBadge

        cases_item = self.nav.item(list(self.pages).index("cases"))
        self.approval_badge = ApprovalBadge(ctx, cases_item, self)
        widest = max(self.nav.fontMetrics().horizontalAdvance(t) for t in self._nav_titles)
        # Text at the nav's larger font (style sheet: 11pt) plus its padding and marker.
        self.nav.setFixedWidth(int(widest * 1.25) + 64)

        body = QWidget(self)
        layout = QHBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(body)

        self.status = StatusBar(ctx, self)
        self.setStatusBar(self.status)
        self.status.conflicts_clicked.connect(
            lambda: ctx.show_cases(CaseQuery(conflicts_only=True))
        )
        self.status.attach_syncer(self.syncer)
        self.status.sync_clicked.connect(lambda: self.go("sync"))

        self._build_menus()
        ctx.open_case_requested.connect(self.open_case)
        ctx.show_cases_requested.connect(self.show_cases)
        ctx.show_on_map_requested.connect(self.show_on_map)
        # The map's case layers follow the case list's filters.
        self.cases.list.model.query_changed.connect(self.map.set_list_query)
        ctx.new_case_requested.connect(lambda: self.go("new_case"))
        ctx.ops.error.connect(lambda exc: show_error(self, exc))

        title = self.tr("Gridroom")
        place = self.names.scope_name
        if self.names.synthetic:
            place = self.tr("%1 (demo data)").replace("%1", place)
        self.setWindowTitle(f"{title} — {place}" if place else title)
        self.resize(1440, 900)
        self._restore_geometry()
        self.go("dashboard")
        self.status.refresh()
        self.syncer.start()

    # -- pages ----------------------------------------------------------------------------------

    def _add_page(self, key: str, title: str, widget: QWidget) -> None:
        index = len(self.pages)
        self.pages[key] = widget
        self.stack.addWidget(widget)
        item = QListWidgetItem(title, self.nav)
        item.setData(Qt.ItemDataRole.UserRole, key)
        shortcut = QKeySequence(f"Ctrl+{index + 1}").toString(
            QKeySequence.SequenceFormat.NativeText
        )
        item.setToolTip(f"{title} ({shortcut})")
        self._nav_titles.append(title)

    def page_keys(self) -> list[str]:
        return list(self.pages)

    def current_page(self) -> str:
        return list(self.pages)[self.stack.currentIndex()]

    def go(self, key: str) -> None:
        """Show the page with ``key`` (``dashboard``, ``cases``, ``new_case`` …)."""
        row = list(self.pages).index(key)
        if self.nav.currentRow() != row:
            self.nav.setCurrentRow(row)
        else:
            self._nav_changed(row)

    def _nav_changed(self, row: int) -> None:
        if row < 0:
            return
        self.stack.setCurrentIndex(row)
        key = list(self.pages)[row]
        if key == "cases":
            self.cases.list.start()
        self.page_changed.emit(key)

    # -- navigation requests --------------------------------------------------------------------

    def open_case(self, case_id: str) -> None:
        self.go("cases")
        self.cases.show_case(case_id)

    def show_cases(self, query: CaseQuery) -> None:
        self.cases.list.show_query(query)
        self.go("cases")
        self.cases.list.table.setFocus()

    def show_on_map(self, kind: str, ref: str) -> None:
        self.go("map")
        self.map.show_target(kind, ref)

    def _reported(self, case_id: str) -> None:
        self.ctx.cases_changed.emit({case_id})
        self.open_case(case_id)

    def find_cases(self) -> None:
        self.go("cases")
        self.cases.list.focus_search()

    def next_overdue(self) -> None:
        """Open the next red case: most overdue first, wrapping round after the last one."""
        query = CaseQuery(light="red", sort="due_at", descending=False)
        after = self._next_overdue_after

        def pick(store: Any) -> dict[str, Any] | None:
            rows = store.cases(query, limit=1, after=after)
            if not rows and after is not None:
                rows = store.cases(query, limit=1)
            return rows[0] if rows else None

        def show(row: dict[str, Any] | None) -> None:
            if row is None:
                self._next_overdue_after = None
                self.statusBar().showMessage(self.tr("No overdue cases."), 5000)
                return
            self._next_overdue_after = (row["due_at"], row["rowid"])
            self.ctx.open_case(row["id"])

        self.ctx.ops.read(pick).success(show).failure(lambda exc: show_error(self, exc)).run()

    def primary_action(self) -> None:
        if self.current_page() == "cases" and self.cases.primary_action():
            return
        self.statusBar().showMessage(self.tr("Open a case first."), 4000)

    def refresh_page(self) -> None:
        page = self.stack.currentWidget()
        if page is self.cases:
            self.cases.list.model.refresh()
        else:
            refresh: Callable[[], None] | None = getattr(page, "refresh", None)
            if refresh is not None:
                refresh()
        self.status.refresh()

    # -- menus and shortcuts --------------------------------------------------------------------

    def _action(
        self,
        text: str,
        slot: Callable[[], Any],
        *keys: QKeySequence | QKeySequence.StandardKey | str,
        name: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if name:
            action.setObjectName(name)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
            native = QKeySequence(keys[0]).toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{text} ({native})")
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        self.export_action = self._action(
            self.tr("Export case list to Excel…"),
            self._export,
            "Ctrl+E",
            name="actionExport",
        )
        self.export_action.setEnabled(ledger_exporter() is not None)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self._action(self.tr("Quit"), self.close, "Ctrl+Q", name="actionQuit"))

        go_menu = bar.addMenu(self.tr("&Go"))
        self.nav_actions: dict[str, QAction] = {}
        for i, key in enumerate(self.pages):
            title = self.nav.item(i).text()
            action = self._action(
                title, functools.partial(self.go, key), f"Ctrl+{i + 1}", name=f"actionGo_{key}"
            )
            go_menu.addAction(action)
            self.nav_actions[key] = action

        case_menu = bar.addMenu(self.tr("&Cases"))
        self.new_case_action = self._action(
            self.tr("New case"),
            lambda: self.ctx.new_case_requested.emit(),
            "Ctrl+N",
            name="actionNewCase",
        )
        self.find_action = self._action(
            self.tr("Find cases"),
            self.find_cases,
            "Ctrl+F",
            name="actionFind",
        )
        self.next_overdue_action = self._action(
            self.tr("Open the next overdue case"),
            self.next_overdue,
            "F8",
            name="actionNextOverdue",
        )
        self.primary_action_action = self._action(
            self.tr("Take the case's main step"),
            self.primary_action,
            "Ctrl+Return",
            "Ctrl+Enter",
            name="actionPrimary",
        )
        self.refresh_action = self._action(
            self.tr("Refresh"),
            self.refresh_page,
            "F5",
            name="actionRefresh",
        )
        self.close_detail_action = QAction(self.tr("Close the case detail"), self)
        self.close_detail_action.triggered.connect(self.cases.close_detail)
        for action in (
            self.new_case_action,
            self.find_action,
            self.next_overdue_action,
            self.primary_action_action,
            self.refresh_action,
            self.close_detail_action,
        ):
            case_menu.addAction(action)

        help_menu = bar.addMenu(self.tr("&Help"))
        help_menu.addAction(
            self._action(
                self.tr("Keyboard shortcuts"), self.show_shortcuts, "F1", name="actionShortcuts"
            )
        )
        help_menu.addAction(self._action(self.tr("About Gridroom"), self._about))

    def shortcut_lines(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every action with a shortcut."""
        lines = []
        for action in self.actions():
            keys = action.shortcut()
            if not keys.isEmpty():
                lines.append(
                    (
                        keys.toString(QKeySequence.SequenceFormat.NativeText),
                        action.text().replace("&", ""),
                    )
                )
        return lines

    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td><b>{keys}</b></td><td>&nbsp;&nbsp;{text}</td></tr>"
            for keys, text in self.shortcut_lines()
        )
        box = QMessageBox(self)
        box.setObjectName("shortcutsDialog")
        box.setWindowTitle(self.tr("Keyboard shortcuts"))
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<table>{rows}</table>")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("About Gridroom"))
        box.setText(
            self.tr(
                "Gridroom (网格通·指挥室): the township command room's offline-first case desk."
            )
        )
        box.setInformativeText(str(self.ctx.store_path))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _export(self) -> None:
        self.go("cases")
        self.cases.list._ask_export()

    # -- geometry -------------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        saved = self.ctx.settings.get("window_geometry")
        if saved:
            # A damaged value keeps the default size.
            with contextlib.suppress(ValueError):
                self.restoreGeometry(QByteArray(base64.b64decode(saved)))

    def closeEvent(self, event: QCloseEvent) -> None:
        # Cancel a running sync and close its connection before the store's workers go.
        self.syncer.shutdown()
        if not self.ctx.settings.is_locked("window_geometry"):
            data = base64.b64encode(bytes(self.saveGeometry().data())).decode("ascii")
            # An unwritable config folder must not stop the app from closing.
            with contextlib.suppress(OSError):
                self.ctx.settings.set("window_geometry", data)
        super().closeEvent(event)
