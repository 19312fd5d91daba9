"""Why the closed loop refused a step, in the user's language.

``sync.model.workflow`` explains every refusal (and every workflow conflict) with a plain English
sentence; this module lists each of those sentences for Qt's translation system (context
``Refusals``) so that a command room reads them in Chinese. A handful of reasons carry a value
(``unknown category '0199'``); they are matched by pattern and their value is kept.

:func:`message` turns any failure a case form can meet (a refusal, an unreadable photo, a locked
database …) into one plain sentence — never a traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from sync.model.workflow import Refused
from sync.store.attachments import AttachmentError
from sync.store.errors import StoreError

from . import words

log = logging.getLogger(__name__)

_CTX = "Refusals"

# Every fixed reason sentence in sync/model/workflow.py and sync/store/store.py.
REASONS: dict[str, str] = {
    str(s): str(s)
    for s in (
        QT_TRANSLATE_NOOP("Refusals", "this step came before the case was reported"),
        QT_TRANSLATE_NOOP("Refusals", "the case was already reported"),
        QT_TRANSLATE_NOOP("Refusals", "there is no such case yet"),
        QT_TRANSLATE_NOOP("Refusals", "there is no such case"),
        QT_TRANSLATE_NOOP("Refusals", "this sub-task is not assigned to your unit"),
        QT_TRANSLATE_NOOP(
            "Refusals", "only a case awaiting acceptance can be accepted, rejected or merged"
        ),
        QT_TRANSLATE_NOOP("Refusals", "only an accepted, open case can be dispatched"),
        QT_TRANSLATE_NOOP("Refusals", "the case is not being handled"),
        QT_TRANSLATE_NOOP("Refusals", "an extension request is already waiting for approval"),
        QT_TRANSLATE_NOOP("Refusals", "no extension request is waiting"),
        QT_TRANSLATE_NOOP("Refusals", "the case is not waiting for verification"),
        QT_TRANSLATE_NOOP("Refusals", "only an open case that is not yet handled can be escalated"),
        QT_TRANSLATE_NOOP("Refusals", "the case is already at county level"),
        QT_TRANSLATE_NOOP("Refusals", "the unit urged is not handling this case"),
        QT_TRANSLATE_NOOP(
            "Refusals", "unit scores name each unit of the dispatch with a score of 1 to 5"
        ),
        QT_TRANSLATE_NOOP(
            "Refusals",
            "the case was escalated to the county: the county command centre takes this step",
        ),
        QT_TRANSLATE_NOOP("Refusals", "only an open case can be urged"),
        QT_TRANSLATE_NOOP("Refusals", "only an accepted case in hand can be parked"),
        QT_TRANSLATE_NOOP("Refusals", "a park request is already waiting for approval"),
        QT_TRANSLATE_NOOP("Refusals", "no park request is waiting"),
        QT_TRANSLATE_NOOP("Refusals", "the case is no longer in hand"),
        QT_TRANSLATE_NOOP("Refusals", "the case is not parked"),
        QT_TRANSLATE_NOOP("Refusals", "only a closed case can be archived"),
        QT_TRANSLATE_NOOP("Refusals", "only an archived case can be evaluated"),
        QT_TRANSLATE_NOOP("Refusals", "an archived case can no longer be edited"),
        QT_TRANSLATE_NOOP("Refusals", "a report needs a title"),
        QT_TRANSLATE_NOOP("Refusals", "a report needs a grid or a village"),
        QT_TRANSLATE_NOOP("Refusals", "a self-handled report needs the result of the handling"),
        QT_TRANSLATE_NOOP("Refusals", "the case's category is unknown; edit it before accepting"),
        QT_TRANSLATE_NOOP("Refusals", "rejecting a case needs a reason"),
        QT_TRANSLATE_NOOP("Refusals", "merging needs the case it duplicates"),
        QT_TRANSLATE_NOOP("Refusals", "a dispatch needs at least one assignee"),
        QT_TRANSLATE_NOOP("Refusals", "each assignee must be a department or a grid"),
        QT_TRANSLATE_NOOP("Refusals", "each assignee must be named"),
        QT_TRANSLATE_NOOP("Refusals", "a dispatch needs exactly one lead unit"),
        QT_TRANSLATE_NOOP("Refusals", "a unit is named twice in the dispatch"),
        QT_TRANSLATE_NOOP("Refusals", "this sub-task is not assigned and open"),
        QT_TRANSLATE_NOOP("Refusals", "returning a dispatch needs a reason"),
        QT_TRANSLATE_NOOP("Refusals", "an extension needs a new deadline"),
        QT_TRANSLATE_NOOP("Refusals", "an extension needs a reason"),
        QT_TRANSLATE_NOOP("Refusals", "the new deadline must be later than the current one"),
        QT_TRANSLATE_NOOP("Refusals", "feedback needs the result of the handling"),
        QT_TRANSLATE_NOOP("Refusals", "a failed verification needs a reason"),
        QT_TRANSLATE_NOOP("Refusals", "escalating needs a reason"),
        QT_TRANSLATE_NOOP("Refusals", "a case can only be escalated to a higher level"),
        QT_TRANSLATE_NOOP("Refusals", "parking a case needs a reason"),
        QT_TRANSLATE_NOOP("Refusals", "parking a case needs a review date in the future"),
        QT_TRANSLATE_NOOP("Refusals", "only a verified case with feedback can be archived"),
        QT_TRANSLATE_NOOP("Refusals", "quality is scored 1 to 5"),
        QT_TRANSLATE_NOOP("Refusals", "satisfaction must be satisfied, basic or dissatisfied"),
        QT_TRANSLATE_NOOP("Refusals", "a comment needs text"),
        QT_TRANSLATE_NOOP("Refusals", "an edit needs at least one field"),
        QT_TRANSLATE_NOOP("Refusals", "a case needs a title"),
        QT_TRANSLATE_NOOP("Refusals", "a settlement names the steps that do not stand"),
        QT_TRANSLATE_NOOP("Refusals", "only a case at county level can be handed down"),
        QT_TRANSLATE_NOOP(
            "Refusals",
            "only a case the county has accepted and not yet closed can be handed down",
        ),
        QT_TRANSLATE_NOOP("Refusals", "handing a case down needs instructions for the township"),
    )
}

# Reasons that carry a value: (pattern, template with %1/%2, how to word each group).
_Wording = Callable[[str], str]


def _role_word(value: str) -> str:
    return words.role(value) or value


def _action_word(value: str) -> str:
    return words.action(value.replace(" ", "_")) or value


def _as_is(value: str) -> str:
    return value


def _field_word(value: str) -> str:
    name = value.strip("'\"")
    return words.field_name(name) or name


PATTERNS: list[tuple[re.Pattern[str], Any, tuple[_Wording, ...]]] = [
    (
        re.compile(r"^a (\w+) may not (.+) a case$"),
        QT_TRANSLATE_NOOP("Refusals", "a %1 may not %2 a case"),
        (_role_word, _action_word),
    ),
    (
        re.compile(r"^unknown category (.+)$"),
        QT_TRANSLATE_NOOP("Refusals", "unknown category %1"),
        (_as_is,),
    ),
    (
        re.compile(r"^unknown urgency (.+)$"),
        QT_TRANSLATE_NOOP("Refusals", "unknown urgency %1"),
        (_as_is,),
    ),
    (
        re.compile(r"^(.+) is not a unit of the dispatch$"),
        QT_TRANSLATE_NOOP("Refusals", "%1 is not a unit of the dispatch"),
        (_as_is,),
    ),
    (
        re.compile(r"^(.+) is not an editable case field$"),
        QT_TRANSLATE_NOOP("Refusals", "%1 is not an editable case field"),
        (_field_word,),
    ),
]


def translate(reason: str) -> str:
    """The reason in the UI language; an unknown sentence is shown as it is (never hidden)."""
    text = reason.strip()
    if text in REASONS:
        return QCoreApplication.translate(_CTX, text)
    for pattern, template, wordings in PATTERNS:
        found = pattern.match(text)
        if found is None:
            continue
        out = QCoreApplication.translate(_CTX, str(template))
        # Substitute from the highest number down so that %1 never eats the 1 of %12.
        for index in range(len(wordings), 0, -1):
            out = out.replace(f"%{index}", wordings[index - 1](found.group(index)))
        return out
    return text


# -- photo problems ----------------------------------------------------------------------------

_PHOTO: dict[str, Any] = {
    "missing": QT_TRANSLATE_NOOP(
        "Refusals", "The photo “%1” is no longer there. Was it moved or deleted?"
    ),
    "unreadable": QT_TRANSLATE_NOOP("Refusals", "The photo “%1” cannot be read."),
    "empty": QT_TRANSLATE_NOOP("Refusals", "The photo “%1” is an empty file."),
    "too_large": QT_TRANSLATE_NOOP("Refusals", "The photo “%1” is too large (at most 30 MB)."),
    "not_image": QT_TRANSLATE_NOOP(
        "Refusals", "“%1” is not a photo that can be read: it is damaged or not an image."
    ),
    "no_case": QT_TRANSLATE_NOOP("Refusals", "There is no such case to attach the photo to."),
    "not_allowed": QT_TRANSLATE_NOOP("Refusals", "Your account may not add photos."),
}


def photo_problem(exc: AttachmentError) -> str:
    template = _PHOTO.get(exc.reason)
    if template is None:
        return str(exc)
    return QCoreApplication.translate(_CTX, str(template)).replace("%1", exc.name)


def message(exc: BaseException) -> str:
    """One plain sentence for a failure a case form met; the form shows it and keeps its input."""
    if isinstance(exc, Refused):
        return QCoreApplication.translate("Refusals", "Not saved: %1.").replace(
            "%1", translate(exc.reason)
        )
    if isinstance(exc, AttachmentError):
        return photo_problem(exc)
    if isinstance(exc, StoreError | OSError):
        from .errors import explain  # the app's words for known store problems

        words_ = explain(exc)
        return f"{words_.headline} {words_.advice}"
    # A bug: the user is told plainly, IT finds the traceback in the log.
    log.error("unexpected failure in a case form", exc_info=exc)
    return QCoreApplication.translate(
        "Refusals",
        "Something went wrong inside Gridroom; nothing was saved. Your input is kept. Details: %1",
    ).replace("%1", f"{type(exc).__name__}: {exc}")
