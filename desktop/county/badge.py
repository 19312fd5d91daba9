"""The 待审批 badge on the navigation's 事件 entry, for the accounts that decide requests.

The count is re-read in the background after every change and every minute; the entry then
reads ``事件 ③`` with a tooltip that says what the number is and where the queue is.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QListWidgetItem

from sync.model.records import Actor, Role
from sync.store.queues import approvals

from ..context import AppContext

#: Roles that approve or deny 延期 and 挂账 requests (the workflow's ROLES).
APPROVERS = frozenset({Role.SUPERVISOR, Role.COUNTY_ADMIN})
REFRESH_MS = 60_000
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def badge_text(title: str, count: int) -> str:
    if count <= 0:
        return title
    mark = _CIRCLED[count - 1] if count <= len(_CIRCLED) else f"({count:,})"
    return f"{title} {mark}"


class ApprovalBadge(QObject):
    """Keeps ``item``'s text at its title plus the number of requests waiting for approval.

    Signals:
        updated(int): the badge shows this count now (0: no badge).
    """

    updated = Signal(int)

    def __init__(self, ctx: AppContext, item: QListWidgetItem, parent: QObject | None = None):
        super().__init__(parent)
        self._ctx = ctx
        self._item = item
        self._title = item.text()
        self._tooltip = item.toolTip()
        self._loading = False
        self.count = 0
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(1000)
        self._debounce.timeout.connect(self.refresh)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        ctx.cases_changed.connect(lambda _ids: self._debounce.start())
        ctx.actor_changed.connect(self._actor_changed)
        self.refresh()

    def _actor_changed(self, _actor: Actor) -> None:
        self.refresh()

    def refresh(self) -> None:
        if self._ctx.actor.role not in APPROVERS:
            self._show(0)
            return
        if self._loading:
            self._debounce.start()
            return
        self._loading = True
        self._ctx.ops.read(lambda store: approvals(store)["cases"]).success(self._loaded).failure(
            self._failed
        ).run()

    def _loaded(self, count: int) -> None:
        self._loading = False
        self._show(int(count))

    def _failed(self, _exc: BaseException) -> None:
        self._loading = False  # the dashboard says what went wrong; the badge just waits

    def _show(self, count: int) -> None:
        self.count = count
        self._item.setText(badge_text(self._title, count))
        if count:
            self._item.setToolTip(
                self.tr("%1 — %2 case(s) with a request awaiting approval (queue 待审批)")
                .replace("%2", str(count))
                .replace("%1", self._tooltip)
            )
        else:
            self._item.setToolTip(self._tooltip)
        self.updated.emit(count)
