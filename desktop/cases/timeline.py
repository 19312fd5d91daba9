"""The case timeline (流转记录) as a readable history in the user's language.

One line per step, oldest first, e.g. ``2026-11-20 09:14 值班员 张三 受理`` or
``2026-11-20 10:02 值班员 张三 派遣 → 牵头：司法所；协办：派出所``. A step voided by a settlement
is greyed and says so; a step the merged timeline could not apply (a workflow conflict) is shown
in red with the reason, so nobody mistakes it for something that happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from sync.model.records import CASE_FIELDS, Action, Actor, AssigneeKind, Entry, Role
from sync.model.workflow import HOUR_MS, CaseState

from .. import refusals, words
from ..names import Names

# A bare name lupdate recognises: every call below names its context literally.
translate = QCoreApplication.translate


def _fill(template: str, *values: object) -> str:
    """Qt-style ``%1 %2`` substitution, highest number first (``%1`` never eats ``%10``)."""
    for index in range(len(values), 0, -1):
        template = template.replace(f"%{index}", str(values[index - 1]))
    return template


@dataclass
class TimelineInfo:
    """What turns codes in a timeline into words: names, accounts, case numbers, photo counts."""

    names: Names
    accounts: Mapping[str, Actor] = field(default_factory=dict)
    case_numbers: Mapping[str, str] = field(default_factory=dict)  # case id → 事件编号
    photos: Mapping[str, int] = field(default_factory=dict)  # entry id → photos attached

    def unit(self, code: str, kind: str | None = None) -> str:
        """A department or a grid, by name."""
        if kind == AssigneeKind.GRID.value or (kind is None and code in self.names.grids):
            village = self.names.village(self.names.village_of_grid(code))
            grid = self.names.grid(code)
            return f"{village} {grid}".strip() if village else grid
        return self.names.departments.get(code) or self.names.assignee(code)

    def who(self, entry: Entry) -> str:
        """``值班员 张三``, or for a department account ``司法所 李四``."""
        account = self.accounts.get(entry.actor_id)
        name = account.name if account is not None else self.names.account(entry.actor_id)
        place = words.role(entry.role)
        if account is not None and entry.role == Role.DEPARTMENT and account.department_code:
            place = self.names.departments.get(account.department_code, place)
        return f"{place} {name}".strip()


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    return value.strip() if isinstance(value, str) else ""


def _with(main: str, detail: str) -> str:
    """``派遣`` + ``note`` → ``派遣：note``; nothing to add → just the action."""
    return _fill(translate("Timeline", "%1: %2"), main, detail) if detail else main


def describe_step(entry: Entry, info: TimelineInfo) -> str:
    """What happened in one step, without the time and the actor (``派遣 → 牵头：司法所``)."""
    p = entry.payload
    a = entry.action
    if a == Action.REPORT:
        return _with(words.action(a), _text(p, "title"))
    if a == Action.SELF_HANDLE:
        return _fill(
            translate("Timeline", "Reported and handled on the spot: %1"), _text(p, "result")
        )
    if a == Action.REJECT:
        return _with(words.action(a), _text(p, "reason"))
    if a == Action.MERGE:
        into = str(p.get("into") or "")
        return _fill(
            translate("Timeline", "Merged as a duplicate of %1"),
            info.case_numbers.get(into) or into,
        )
    if a == Action.DISPATCH:
        tasks = [t for t in p.get("tasks") or () if isinstance(t, dict)]
        lead = [info.unit(str(t.get("assignee")), t.get("kind")) for t in tasks if t.get("lead")]
        helpers = [
            info.unit(str(t.get("assignee")), t.get("kind")) for t in tasks if not t.get("lead")
        ]
        sep = translate("Timeline", ", ")
        if helpers:
            text = _fill(
                translate("Timeline", "Dispatched → lead: %1; assisting: %2"),
                sep.join(lead),
                sep.join(helpers),
            )
        else:
            text = _fill(translate("Timeline", "Dispatched → %1"), sep.join(lead))
        return _with(text, _text(p, "note"))
    if a == Action.RETURN:
        unit = info.unit(str(p.get("task") or ""))
        return _fill(
            translate("Timeline", "Returned the dispatch (%1): %2"), unit, _text(p, "reason")
        )
    if a == Action.REQUEST_EXTENSION:
        until = p.get("until")
        return _fill(
            translate("Timeline", "Requested an extension to %1 (%2): %3"),
            words.day(until) if isinstance(until, int) else "?",
            info.unit(str(p.get("task") or "")),
            _text(p, "reason"),
        )
    if a == Action.FEEDBACK:
        text = _fill(
            translate("Timeline", "Fed back (%1): %2"),
            info.unit(str(p.get("task") or "")),
            _text(p, "result"),
        )
        count = info.photos.get(entry.id, 0)
        if count:
            text += translate("Timeline", " (%n photo(s))", "", count)
        return text
    if a == Action.VERIFY_PASS:
        method = words.verify_method(p.get("method")) if p.get("method") else ""
        text = (
            _fill(translate("Timeline", "Verification passed (%1)"), method)
            if method
            else words.action(a)
        )
        return _with(text, _text(p, "note"))
    if a == Action.VERIFY_FAIL:
        return _fill(
            translate("Timeline", "Verification failed: %1; sent back for re-handling"),
            _text(p, "reason"),
        )
    if a == Action.ESCALATE:
        target = p.get("to")
        level = words.level(target) if target else ""
        text = _fill(translate("Timeline", "Escalated to %1"), level) if level else words.action(a)
        return _with(text, _text(p, "reason"))
    if a == Action.HAND_DOWN:
        return _with(
            translate("Timeline", "Handed down to the township"),
            _text(p, "instructions"),
        )
    if a == Action.REQUEST_PARK:
        review = p.get("review_on")
        return _fill(
            translate("Timeline", "Requested parking, review on %1: %2"),
            words.day(review) if isinstance(review, int) else "?",
            _text(p, "reason"),
        )
    if a == Action.EVALUATE:
        return _with(
            _fill(
                translate("Timeline", "Evaluated: quality %1 of 5, %2"),
                p.get("quality", "?"),
                words.satisfaction(p.get("satisfaction")),
            ),
            _text(p, "note"),
        )
    if a == Action.COMMENT:
        return _with(words.action(a), _text(p, "text"))
    if a == Action.EDIT:
        raw = p.get("fields")
        changed: dict[str, Any] = raw if isinstance(raw, dict) else {}
        ordered = sorted(changed, key=lambda n: CASE_FIELDS.index(n) if n in CASE_FIELDS else 99)
        names = translate("Timeline", ", ").join(words.field_name(n) for n in ordered)
        return _with(words.action(a), names)
    if a == Action.SETTLE:
        parts = []
        void = list(p.get("void") or ())
        if void:
            voided = len(void)  # a plain name: lupdate skips plural counts that are calls
            parts.append(translate("Timeline", "%n step(s) voided", "", voided))
        kept = [words.field_name(n) for n in p.get("fields") or ()]
        if kept:
            parts.append(
                _fill(translate("Timeline", "kept %1"), translate("Timeline", ", ").join(kept))
            )
        note = _text(p, "note")
        if note:
            parts.append(note)
        return _with(words.action(a), translate("Timeline", "; ").join(parts))
    if a == Action.URGE and p.get("unit"):
        urged = _fill(translate("Timeline", "Urged %1"), info.unit(str(p.get("unit"))))
        return _with(urged, _text(p, "note"))
    # accept, approve/deny extension or parking, urge, resume, archive …
    return _with(words.action(a), _text(p, "reason") or _text(p, "note") or _text(p, "text"))


def describe(entry: Entry, info: TimelineInfo, state: CaseState | None = None) -> str:
    """One full timeline line: time, who, what, and whether it stands."""
    line = f"{words.when(entry.at)} {info.who(entry)} {describe_step(entry, info)}"
    if state is not None and entry.id == state.overdue_entry and state.overdue_at is not None:
        # The overdue record stays in the history, whatever an extension did afterwards.
        hours = (entry.at - state.overdue_at) // HOUR_MS
        if hours < 48:
            late = max(int(hours), 1)
            line += translate("Timeline", " [%n hour(s) past the deadline]", "", late)
        else:
            late = int(hours // 24)
            line += translate("Timeline", " [%n day(s) past the deadline]", "", late)
    if state is not None and entry.id in state.lapsed:
        line += translate("Timeline", " [not decided; lapsed when the case moved on]")
    if state is not None:
        if entry.id in state.voided:
            line += translate("Timeline", " [voided]")
        else:
            conflict = next((c for c in state.conflicts if c.entry_id == entry.id), None)
            if conflict is not None:
                line += _fill(
                    translate("Timeline", " [conflict: %1]"), refusals.translate(conflict.reason)
                )
    return line


class TimelineView(QListWidget):
    """The 流转记录 of one case, one readable line per step, oldest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("caseTimeline")
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setAccessibleName(self.tr("Case history"))

    def set_timeline(
        self, entries: Sequence[Entry], info: TimelineInfo, state: CaseState | None
    ) -> None:
        self.clear()
        conflicting = {c.entry_id for c in state.conflicts} if state is not None else set()
        voided = state.voided if state is not None else set()
        for entry in sorted(entries, key=lambda e: e.sort_key):
            item = QListWidgetItem(describe(entry, info, state))
            item.setData(Qt.ItemDataRole.UserRole, entry.id)
            if entry.id in voided:
                font = QFont(item.font())
                font.setStrikeOut(True)
                item.setFont(font)
                item.setForeground(QBrush(QColor("#888888")))
            elif entry.id in conflicting:
                item.setForeground(QBrush(QColor("#c0392b")))
            self.addItem(item)

    def lines(self) -> list[str]:
        """The timeline as the user reads it (tests, copy to clipboard)."""
        return [self.item(i).text() for i in range(self.count())]
