"""The words a command room reads for the closed loop's stored values.

``sync.model`` stores stable ASCII values (``reported``, ``verify_fail``, ``fed_back`` …); the
screen says 待受理, 核查不通过, 已反馈. Every word here is English source text marked for
Qt's translation system (context ``Words``); the Chinese lives in
``resources/i18n/cases_zh_CN.ts``. Any page may use these helpers; an unknown value is shown as
it is rather than hidden.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from sync.model.calendar import SHANGHAI
from sync.model.clock import Millis, from_millis

_CTX = "Words"

STATUS = {
    "reported": QT_TRANSLATE_NOOP("Words", "Awaiting acceptance"),
    "rejected": QT_TRANSLATE_NOOP("Words", "Rejected"),
    "merged": QT_TRANSLATE_NOOP("Words", "Merged"),
    "accepted": QT_TRANSLATE_NOOP("Words", "Awaiting dispatch"),
    "handling": QT_TRANSLATE_NOOP("Words", "Being handled"),
    "verifying": QT_TRANSLATE_NOOP("Words", "Awaiting verification"),
    "parked": QT_TRANSLATE_NOOP("Words", "Parked"),
    "closed": QT_TRANSLATE_NOOP("Words", "Closed"),
    "archived": QT_TRANSLATE_NOOP("Words", "Archived"),
    "evaluated": QT_TRANSLATE_NOOP("Words", "Evaluated"),
}

# What each loop action is called, on buttons, form titles and in the timeline.
ACTION = {
    "report": QT_TRANSLATE_NOOP("Words", "Report"),
    "self_handle": QT_TRANSLATE_NOOP("Words", "Handled on the spot"),
    "accept": QT_TRANSLATE_NOOP("Words", "Accept"),
    "reject": QT_TRANSLATE_NOOP("Words", "Reject"),
    "merge": QT_TRANSLATE_NOOP("Words", "Merge as duplicate"),
    "dispatch": QT_TRANSLATE_NOOP("Words", "Dispatch"),
    "return": QT_TRANSLATE_NOOP("Words", "Return dispatch"),
    "request_extension": QT_TRANSLATE_NOOP("Words", "Request extension"),
    "approve_extension": QT_TRANSLATE_NOOP("Words", "Approve extension"),
    "deny_extension": QT_TRANSLATE_NOOP("Words", "Deny extension"),
    "feedback": QT_TRANSLATE_NOOP("Words", "Feed back"),
    "verify_pass": QT_TRANSLATE_NOOP("Words", "Verification passed"),
    "verify_fail": QT_TRANSLATE_NOOP("Words", "Verification failed"),
    "escalate": QT_TRANSLATE_NOOP("Words", "Escalate"),
    "hand_down": QT_TRANSLATE_NOOP("Words", "Hand down to the township"),
    "urge": QT_TRANSLATE_NOOP("Words", "Urge"),
    "request_park": QT_TRANSLATE_NOOP("Words", "Request parking"),
    "approve_park": QT_TRANSLATE_NOOP("Words", "Approve parking"),
    "deny_park": QT_TRANSLATE_NOOP("Words", "Deny parking"),
    "resume": QT_TRANSLATE_NOOP("Words", "Resume handling"),
    "archive": QT_TRANSLATE_NOOP("Words", "Archive"),
    "evaluate": QT_TRANSLATE_NOOP("Words", "Evaluate"),
    "comment": QT_TRANSLATE_NOOP("Words", "Comment"),
    "edit": QT_TRANSLATE_NOOP("Words", "Edit case"),
    "settle": QT_TRANSLATE_NOOP("Words", "Settle conflicts"),
}

LEVEL = {
    1: QT_TRANSLATE_NOOP("Words", "Grid"),
    2: QT_TRANSLATE_NOOP("Words", "Village"),
    3: QT_TRANSLATE_NOOP("Words", "Township"),
    4: QT_TRANSLATE_NOOP("Words", "County"),
}

SOURCE = {
    "patrol": QT_TRANSLATE_NOOP("Words", "Grid patrol"),
    "resident_app": QT_TRANSLATE_NOOP("Words", "Resident app"),
    "hotline": QT_TRANSLATE_NOOP("Words", "12345 hotline"),
    "walk_in": QT_TRANSLATE_NOOP("Words", "Walk-in"),
    "department": QT_TRANSLATE_NOOP("Words", "Department referral"),
    "video": QT_TRANSLATE_NOOP("Words", "Video surveillance"),
}

URGENCY = {
    "normal": QT_TRANSLATE_NOOP("Words", "Normal"),
    "urgent": QT_TRANSLATE_NOOP("Words", "Urgent"),
}

# Short role words, as the timeline names who acted ("值班员 张三 受理").
ROLE = {
    "grid_worker": QT_TRANSLATE_NOOP("Words", "Grid worker"),
    "operator": QT_TRANSLATE_NOOP("Words", "Operator"),
    "department": QT_TRANSLATE_NOOP("Words", "Department"),
    "supervisor": QT_TRANSLATE_NOOP("Words", "Supervisor"),
    "county_admin": QT_TRANSLATE_NOOP("Words", "County administrator"),
}

TASK_STATE = {
    "assigned": QT_TRANSLATE_NOOP("Words", "Handling"),
    "returned": QT_TRANSLATE_NOOP("Words", "Returned"),
    "fed_back": QT_TRANSLATE_NOOP("Words", "Fed back"),
    "withdrawn": QT_TRANSLATE_NOOP("Words", "Withdrawn"),
}

SATISFACTION = {
    "satisfied": QT_TRANSLATE_NOOP("Words", "Satisfied"),
    "basic": QT_TRANSLATE_NOOP("Words", "Basically satisfied"),
    "dissatisfied": QT_TRANSLATE_NOOP("Words", "Dissatisfied"),
}

LIGHT = {
    "none": QT_TRANSLATE_NOOP("Words", "No deadline running"),
    "green": QT_TRANSLATE_NOOP("Words", "On time"),
    "yellow": QT_TRANSLATE_NOOP("Words", "Due soon"),
    "red": QT_TRANSLATE_NOOP("Words", "Overdue"),
}

# How a case was verified.
VERIFY_METHOD = {
    "call": QT_TRANSLATE_NOOP("Words", "By phone"),
    "site": QT_TRANSLATE_NOOP("Words", "On site"),
}

# A sub-task's place in a joint dispatch.
TASK_ROLE = {
    True: QT_TRANSLATE_NOOP("Words", "Lead"),
    False: QT_TRANSLATE_NOOP("Words", "Assisting"),
}

# Names of the descriptive case fields (edits, field conflicts).
FIELD = {
    "title": QT_TRANSLATE_NOOP("Words", "Title"),
    "description": QT_TRANSLATE_NOOP("Words", "Description"),
    "category": QT_TRANSLATE_NOOP("Words", "Category"),
    "grid_id": QT_TRANSLATE_NOOP("Words", "Grid"),
    "village_code": QT_TRANSLATE_NOOP("Words", "Village/community"),
    "township_code": QT_TRANSLATE_NOOP("Words", "Township"),
    "address": QT_TRANSLATE_NOOP("Words", "Address"),
    "source": QT_TRANSLATE_NOOP("Words", "Source"),
    "urgency": QT_TRANSLATE_NOOP("Words", "Urgency"),
    "reporter_name": QT_TRANSLATE_NOOP("Words", "Reporter"),
    "reporter_phone": QT_TRANSLATE_NOOP("Words", "Reporter's phone"),
    "location": QT_TRANSLATE_NOOP("Words", "Location"),
}


def _word(table: Mapping[Any, Any], value: object) -> str:
    # QT_TRANSLATE_NOOP is typed as returning object; the tables hold str.
    key = getattr(value, "value", value)  # enums and their stored values alike
    text = table.get(key)
    if text is None:
        return "" if value is None else str(key)
    return QCoreApplication.translate(_CTX, str(text))


def status(value: object) -> str:
    """待受理 for ``reported`` …"""
    return _word(STATUS, value)


def action(value: object) -> str:
    """受理 for ``accept``, 核查不通过 for ``verify_fail`` …"""
    return _word(ACTION, value)


def level(value: object) -> str:
    """网格 / 村（社区） / 乡镇（街道） / 县（区） for levels 1–4."""
    try:
        key: object = int(getattr(value, "value", value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        key = value
    return _word(LEVEL, key)


def source(value: object) -> str:
    return _word(SOURCE, value)


def urgency(value: object) -> str:
    return _word(URGENCY, value)


def role(value: object) -> str:
    return _word(ROLE, value)


def task_state(value: object) -> str:
    return _word(TASK_STATE, value)


def satisfaction(value: object) -> str:
    return _word(SATISFACTION, value)


def light(value: object) -> str:
    return _word(LIGHT, value)


def verify_method(value: object) -> str:
    return _word(VERIFY_METHOD, value)


def task_role(lead: bool) -> str:
    """牵头 or 协办."""
    return _word(TASK_ROLE, bool(lead))


def field_name(name: str) -> str:
    return _word(FIELD, name)


def when(ms: Millis | None) -> str:
    """``2026-11-20 09:14`` in Asia/Shanghai, the only time the UI shows; empty for none."""
    if ms is None:
        return ""
    return from_millis(ms).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def day(ms: Millis | None) -> str:
    """``2026-11-20`` in Asia/Shanghai."""
    if ms is None:
        return ""
    return from_millis(ms).astimezone(SHANGHAI).strftime("%Y-%m-%d")


def local_date(ms: Millis) -> dt.date:
    return from_millis(ms).astimezone(SHANGHAI).date()


def mask_phone(phone: str | None) -> str:
    """138****5678: the middle digits hidden, as resident data is shown by default."""
    if not phone:
        return ""
    text = phone.strip()
    if len(text) >= 11:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    if len(text) > 4:
        return "*" * (len(text) - 4) + text[-4:]
    return "*" * len(text)
