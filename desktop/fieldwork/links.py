"""The case side of 转为事件: the note a case made from a visit (or patrol) shows."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from sync.store import Store
from sync.store import fieldwork as fw

from .. import labels


def source_note(store: Store, case_id: str) -> str | None:
    """``来源：走访 · 3组15号 李家（时间）：“门前路灯不亮”`` for a case made from a visit's
    follow-up (or a patrol's finding), when this computer holds the visit; else None."""
    found = fw.source_visit(store, case_id)
    if found is None:
        return None
    visit, item = found
    if visit.kind == "patrol":
        text = QCoreApplication.translate("FieldWork", "From the patrol of %1 (%2): %3")
    else:
        text = QCoreApplication.translate("FieldWork", "From the visit to %1 (%2): %3")
    return (
        text.replace("%1", visit.household)
        .replace("%2", labels.when(visit.at))
        .replace("%3", item.text if item is not None else "")
    )
