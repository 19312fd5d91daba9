"""The words the sync parts of the app share: outcomes, errors in plain words, why the county
refused a record, sizes and times — in Qt's translation context ``SyncWords``.

The sync client reports in stable codes (``offline``, ``tls``, ``bad_credentials``,
``role_not_allowed`` …) with an English sentence for logs; a person reads the sentence here,
keyed by the code, and the English one sits in a tooltip for IT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from sync.model.calendar import SHANGHAI
from sync.model.clock import Millis, from_millis

_CTX = "SyncWords"

OUTCOME = {
    "ok": QT_TRANSLATE_NOOP("SyncWords", "Synced"),
    "partial": QT_TRANSLATE_NOOP("SyncWords", "Partly synced"),
    "failed": QT_TRANSLATE_NOOP("SyncWords", "Failed"),
    "cancelled": QT_TRANSLATE_NOOP("SyncWords", "Cancelled"),
}

#: What went wrong with the county, by the client's error code.
ERROR = {
    "offline": QT_TRANSLATE_NOOP(
        "SyncWords", "Cannot reach the county platform: check the network and the server address."
    ),
    "timeout": QT_TRANSLATE_NOOP(
        "SyncWords", "The county platform did not answer in time: the link is too slow or down."
    ),
    "tls": QT_TRANSLATE_NOOP(
        "SyncWords",
        "The server's certificate was not accepted: check the server address, or ask IT to set "
        "the county's CA certificate.",
    ),
    "bad_response": QT_TRANSLATE_NOOP(
        "SyncWords",
        "The answer did not come from the county platform: the network may want you to sign in "
        "to it in a browser first (a hotel or office login page), or the server address is "
        "wrong.",
    ),
    "captive_portal": QT_TRANSLATE_NOOP(
        "SyncWords",
        "The network wants a sign-in first: open any web page in a browser and sign in (an "
        "office or hotel login page), then try again.",
    ),
    "damaged": QT_TRANSLATE_NOOP(
        "SyncWords",
        "The county's answers arrive damaged: something on the way changes them. Try again "
        "later, or tell IT.",
    ),
    "not_signed_in": QT_TRANSLATE_NOOP(
        "SyncWords", "Not signed in to the county platform: sign in to sync."
    ),
    "unauthorized": QT_TRANSLATE_NOOP(
        "SyncWords", "The county no longer accepts this computer's sign-in: sign in again."
    ),
    "bad_credentials": QT_TRANSLATE_NOOP("SyncWords", "Wrong account name or password."),
    "account_disabled": QT_TRANSLATE_NOOP(
        "SyncWords", "This account has been disabled: ask the county's IT department."
    ),
    "device_revoked": QT_TRANSLATE_NOOP(
        "SyncWords", "This computer was revoked by county IT: ask IT to re-enrol it."
    ),
    "wrong_device": QT_TRANSLATE_NOOP(
        "SyncWords",
        "This computer is enrolled to another township, so this account cannot sign in here.",
    ),
    "throttled": QT_TRANSLATE_NOOP(
        "SyncWords", "Too many failed sign-ins: wait a few minutes, then try again."
    ),
    "protocol_version": QT_TRANSLATE_NOOP(
        "SyncWords", "This version of Gridroom is too old for the county platform: update it."
    ),
    "server_error": QT_TRANSLATE_NOOP(
        "SyncWords", "The county platform has a fault; the next sync tries again."
    ),
    "unavailable": QT_TRANSLATE_NOOP(
        "SyncWords", "The county platform is busy or starting; the next sync tries again."
    ),
    "forbidden": QT_TRANSLATE_NOOP(
        "SyncWords", "The county platform does not allow this account to do that."
    ),
    "too_large": QT_TRANSLATE_NOOP(
        "SyncWords", "The county platform refused a batch as too large; it goes again in parts."
    ),
    "bad_request": QT_TRANSLATE_NOOP(
        "SyncWords", "The county platform refused the request as malformed."
    ),
}

#: Why the county refused one record (it waits in quarantine), by the push result's code.
REJECT = {
    "malformed": QT_TRANSLATE_NOOP("SyncWords", "The record is damaged or incomplete."),
    "unknown_actor": QT_TRANSLATE_NOOP(
        "SyncWords", "The county does not know the account that took this step."
    ),
    "actor_disabled": QT_TRANSLATE_NOOP(
        "SyncWords", "The account that took this step has been disabled at the county."
    ),
    "role_mismatch": QT_TRANSLATE_NOOP(
        "SyncWords", "The step claims a role its account does not have at the county."
    ),
    "role_not_allowed": QT_TRANSLATE_NOOP(
        "SyncWords", "The account's role may not take this step."
    ),
    "actor_not_on_device": QT_TRANSLATE_NOOP(
        "SyncWords",
        "The account that took this step never signed in on this computer: sign in as it once.",
    ),
    "out_of_scope": QT_TRANSLATE_NOOP(
        "SyncWords", "The case or place lies outside this computer's township."
    ),
    "unknown_case": QT_TRANSLATE_NOOP(
        "SyncWords", "The county has no such case: its report was not accepted."
    ),
    "unknown_place": QT_TRANSLATE_NOOP(
        "SyncWords", "The grid, village or township is unknown to the county."
    ),
    "invalid": QT_TRANSLATE_NOOP(
        "SyncWords", "The report cannot open a case (no title, or an unknown category)."
    ),
    "id_clash": QT_TRANSLATE_NOOP("SyncWords", "Another record already has this record's id."),
}

ENTITY = {
    "case_event": QT_TRANSLATE_NOOP("SyncWords", "Case"),
    "attachment": QT_TRANSLATE_NOOP("SyncWords", "Photo"),
    "visit": QT_TRANSLATE_NOOP("SyncWords", "Visit diary"),
    "patrol": QT_TRANSLATE_NOOP("SyncWords", "Patrol log"),
}


def _word(table: Mapping[str, object], key: str | None) -> str | None:
    text = table.get(key or "")
    return None if text is None else QCoreApplication.translate(_CTX, str(text))


def outcome(status: str) -> str:
    """同步成功 / 部分同步 / 失败 / 已取消."""
    return _word(OUTCOME, status) or status


def error(code: str | None, message: str = "") -> str:
    """A sync or sign-in failure in plain words; the client's own sentence when the code is
    not one a person needs explained differently."""
    return _word(ERROR, code) or message or (code or "")


def reject(code: str | None, reason: str = "") -> str:
    """Why the county refused a record."""
    return _word(REJECT, code) or reason or (code or "")


def entity(kind: str | None) -> str:
    """事件 / 照片 / 走访记录 …"""
    return _word(ENTITY, kind) or (kind or "")


def size(nbytes: int) -> str:
    """``812 B``, ``3.4 KB``, ``1.2 MB`` (units as county IT writes them)."""
    if nbytes < 1024:
        return f"{nbytes} B"
    if nbytes < 1024 * 1024:
        return f"{nbytes / 1024:.1f} KB"
    return f"{nbytes / 1024 / 1024:.1f} MB"


def clock_time(ms: Millis | None, now: Millis) -> str:
    """``10:42`` today, ``11-20 10:42`` this year, ``2025-11-20 10:42`` before (Shanghai)."""
    if ms is None:
        return ""
    at = from_millis(ms).astimezone(SHANGHAI)
    today: dt.datetime = from_millis(now).astimezone(SHANGHAI)
    if at.date() == today.date():
        return at.strftime("%H:%M")
    if at.year == today.year:
        return at.strftime("%m-%d %H:%M")
    return at.strftime("%Y-%m-%d %H:%M")


def host(url: str) -> str:
    """The server's host name from its URL (what the status bar shows)."""
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0]


def quarantine_link(n: int) -> str:
    """The status bar's refused-records figure, a link to the 同步 page."""
    text = QCoreApplication.translate("SyncWords", "%n record(s) refused by the county", "", n)
    return f'<a href="#sync">{text}</a>'
