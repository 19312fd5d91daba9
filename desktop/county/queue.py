"""The case list's work-queue picker: 待审批, 上报待受理, 县级办理中, 上级交办.

One combo in the filter bar; each queue is a condition of :class:`CaseQuery` kept with the
projection (``cases.pending``, ``cases.escalation``). Also the words for the queue conditions a
list can be landed on without a picker (only the 挂账 requests, the urged cases).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QComboBox, QWidget

from sync.store.queries import CaseQuery

translate = QCoreApplication.translate

#: Queue value → the CaseQuery fields it sets.
QUEUES: dict[str, dict[str, Any]] = {
    "approval": {"pending_approval": True},
    "awaiting": {"escalation": 1},
    "at_county": {"escalation": 2},
    "handed_down": {"escalation": 3},
}
#: The CaseQuery fields the picker owns.
FIELDS = ("pending_approval", "escalation")


class QueueCombo(QComboBox):
    """Pick a work queue (or none)."""

    def __init__(self, parent: QWidget | None = None, *, county: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("queueFilter")
        tip = self.tr("Work queue")
        self.setToolTip(tip)
        self.setAccessibleName(tip)
        self.addItem(self.tr("All work queues"), "")
        self.addItem(self.tr("Awaiting approval (extension, parking)"), "approval")
        if county:
            self.addItem(self.tr("Escalated, awaiting acceptance"), "awaiting")
        else:
            self.addItem(self.tr("Escalated, awaiting the county"), "awaiting")
        self.addItem(self.tr("Held by the county"), "at_county")
        self.addItem(self.tr("Handed down by the county"), "handed_down")

    def fields(self) -> dict[str, Any]:
        """The query fields of the chosen queue."""
        return dict(QUEUES.get(str(self.currentData() or ""), {}))

    def select_for(self, q: CaseQuery) -> dict[str, Any]:
        """Show the queue ``q`` asks for; returns the picker's fields it could not show (kept
        as "also filtered")."""
        wanted = {f: getattr(q, f) for f in FIELDS if getattr(q, f) not in (None, False)}
        for value, fields in QUEUES.items():
            if fields.items() <= wanted.items():
                self.setCurrentIndex(max(self.findData(value), 0))
                return {k: v for k, v in wanted.items() if k not in fields}
        self.setCurrentIndex(0)
        return wanted


def hidden_parts(hidden: dict[str, Any]) -> list[str]:
    """Words for the queue conditions a list shows without a picker."""
    parts = []
    kind = hidden.get("pending_kind")
    if kind == 1:
        parts.append(translate("Queues", "an extension request waits for approval"))
    elif kind == 2:
        parts.append(translate("Queues", "a parking request waits for approval"))
    if hidden.get("pending_approval"):
        parts.append(translate("Queues", "a request waits for approval"))
    escalation = hidden.get("escalation")
    if escalation in (1, 2, 3):
        parts.append(
            (
                translate("Queues", "escalated, awaiting the county"),
                translate("Queues", "held by the county"),
                translate("Queues", "handed down by the county"),
            )[int(escalation) - 1]
        )
    if hidden.get("escalated"):
        parts.append(translate("Queues", "escalated to the county"))
    if hidden.get("urged"):
        parts.append(translate("Queues", "urged"))
    return parts


def status_marks(row: dict[str, Any]) -> str:
    """What a case-list row's status adds from the queues: ``上报待受理``, ``上级交办``,
    ``待审批`` ("" for none), so the list reads as the queue it is."""
    marks = []
    escalation = row.get("escalation")
    if escalation == 1:
        marks.append(translate("Queues", "escalated, awaiting acceptance"))
    elif escalation == 3 and row.get("status") not in ("closed", "archived", "evaluated"):
        marks.append(translate("Queues", "handed down by the county"))
    if row.get("pending"):
        marks.append(translate("Queues", "awaiting approval"))
    return " · ".join(marks)
