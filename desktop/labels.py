"""Words and formats the shell's pages show: the loop's words, grid words, times and rates.

The closed loop's words (statuses, levels, sources, urgency, deadline lights, roles) come from
:mod:`desktop.words`, shared with the case detail so that one value has one translation; this
module adds what only the shell shows — grid team roles, grid kinds, "overdue 3 d 4 h",
percentages — in Qt's translation context ``Labels``. Times are Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from sync.model.calendar import SHANGHAI
from sync.model.clock import Millis, from_millis

# The loop's words, re-exported so a shell page needs one import for every word it shows.
from .words import day, level, light, role, source, status, urgency

__all__ = [
    "day",
    "due",
    "grid_kind",
    "level",
    "light",
    "local",
    "percent",
    "role",
    "source",
    "span",
    "staff_role",
    "status",
    "urgency",
    "when",
]

STAFF_ROLE = {
    "leader": QT_TRANSLATE_NOOP("Labels", "Grid leader"),
    "fulltime": QT_TRANSLATE_NOOP("Labels", "Full-time grid worker"),
    "parttime": QT_TRANSLATE_NOOP("Labels", "Part-time grid worker"),
    "instructor": QT_TRANSLATE_NOOP("Labels", "Grid instructor"),
    "liaison": QT_TRANSLATE_NOOP("Labels", "Department liaison"),
}

GRID_KIND = {
    "urban": QT_TRANSLATE_NOOP("Labels", "Basic grid (urban)"),
    "rural": QT_TRANSLATE_NOOP("Labels", "Basic grid (rural)"),
    "dedicated": QT_TRANSLATE_NOOP("Labels", "Dedicated grid"),
}


def _word(table: Mapping[str, object], value: object) -> str:
    key = getattr(value, "value", value)
    text = table.get(key) if isinstance(key, str) else None
    if text is None:
        return "" if value is None else str(key)
    return QCoreApplication.translate("Labels", str(text))


def staff_role(value: object) -> str:
    """网格长, 专职网格员 … for a :class:`StaffRole` or its stored value."""
    return _word(STAFF_ROLE, value)


def grid_kind(value: object) -> str:
    """城镇基础网格, 农村基础网格, 专属网格."""
    return _word(GRID_KIND, value)


def local(ms: Millis) -> dt.datetime:
    """A stored UTC instant as Shanghai wall time (the only time the UI shows)."""
    return from_millis(ms).astimezone(SHANGHAI)


def when(ms: Millis | None, *, seconds: bool = False) -> str:
    """``2025-11-21 14:03`` in Asia/Shanghai; empty for no time."""
    if ms is None:
        return ""
    return local(ms).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def span(ms: int) -> str:
    """A duration in the largest sensible units: ``3天4小时``, ``5小时``, ``20分钟``."""
    minutes = max(abs(ms) // 60_000, 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return (
            QCoreApplication.translate("Labels", "%1 d %2 h")
            .replace("%1", str(days))
            .replace("%2", str(hours))
        )
    if hours:
        return QCoreApplication.translate("Labels", "%1 h").replace("%1", str(hours))
    return QCoreApplication.translate("Labels", "%1 min").replace("%1", str(mins))


def due(due_at: Millis | None, now: Millis) -> str:
    """``overdue 3 d 4 h`` or ``due in 5 h`` — what a command room reads at a glance."""
    if due_at is None:
        return ""
    if due_at < now:
        return QCoreApplication.translate("Labels", "overdue %1").replace("%1", span(now - due_at))
    return QCoreApplication.translate("Labels", "due in %1").replace("%1", span(due_at - now))


def percent(rate: float | None) -> str:
    """``95.2%``; an em dash when there is nothing to measure yet."""
    return "—" if rate is None else f"{rate * 100:.1f}%"
