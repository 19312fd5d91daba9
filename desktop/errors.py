"""Errors in plain words: what happened, what to do, and — behind a toggle — details for IT.

Known, environmental failures (``sync.store.errors.StoreError`` and its family: a locked,
corrupt, full or foreign database) are explained by their stable ``code`` in the user's language.
A step the closed loop refuses is explained with its reason. Anything else is a bug: the user is
told their data is safe and the details (with the traceback, for IT) sit behind "Show Details".
The main message never shows a traceback.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from sync import logs
from sync.model.workflow import Refused
from sync.settings import SettingsError
from sync.store.errors import StoreError

from .ops import Cancelled

log = logging.getLogger("gridroom.errors")


@dataclass(frozen=True)
class Explained:
    """An error in words: a headline, what to do about it, and technical details for IT."""

    headline: str
    advice: str
    details: str
    known: bool  # an environmental problem a person can fix (vs. a bug)


def _store_words(code: str) -> tuple[str, str] | None:
    # Written out one by one so lupdate sees every sentence.
    if code == "locked":
        return (
            QCoreApplication.translate("Errors", "The database is in use by another program."),
            QCoreApplication.translate(
                "Errors",
                "Close the other program (or the other Gridroom window) that has this database "
                "open, then try again. Nothing was changed.",
            ),
        )
    if code == "corrupt":
        return (
            QCoreApplication.translate("Errors", "The database is damaged."),
            QCoreApplication.translate(
                "Errors",
                "Gridroom will not write to this file any more. Restore it from a backup, or "
                "sign in again to make a new database: the county platform has every case this "
                "computer synced. Your IT department can help.",
            ),
        )
    if code == "not_a_database":
        return (
            QCoreApplication.translate("Errors", "This file is not a Gridroom database."),
            QCoreApplication.translate(
                "Errors",
                "Choose the right file. If it is an encrypted database, it needs its key, which "
                "is kept in this computer's keyring.",
            ),
        )
    if code == "wrong_key":
        return (
            QCoreApplication.translate("Errors", "The database key is wrong."),
            QCoreApplication.translate(
                "Errors", "This computer's keyring holds a different key. Ask your IT department."
            ),
        )
    if code == "key_needed":
        return (
            QCoreApplication.translate("Errors", "This database is locked by your password."),
            QCoreApplication.translate(
                "Errors",
                "This computer has no keyring, so the database key is protected by the password "
                "of the account that enrolled it. Sign in to open it.",
            ),
        )
    if code == "wrong_password":
        return (
            QCoreApplication.translate("Errors", "The password does not open this database."),
            QCoreApplication.translate(
                "Errors",
                "Type the password of the account that enrolled this computer. Nothing was "
                "changed.",
            ),
        )
    if code == "wrong_pin":
        return (
            QCoreApplication.translate("Errors", "Wrong PIN."),
            QCoreApplication.translate(
                "Errors", "After too many wrong PINs only the password opens the database."
            ),
        )
    if code == "key_lost":
        return (
            QCoreApplication.translate("Errors", "The key of this database is lost."),
            QCoreApplication.translate(
                "Errors",
                "This computer's keyring no longer holds it, so nobody can read the file. Sign "
                "in again to enrol this computer afresh: the county has the data; only changes "
                "that were never synced are lost.",
            ),
        )
    if code == "not_encrypted":
        return (
            QCoreApplication.translate("Errors", "This database is not encrypted."),
            QCoreApplication.translate(
                "Errors",
                "Your IT department requires encrypted databases on this computer. Sign in to "
                "encrypt it; nothing was changed.",
            ),
        )
    if code == "disk_full":
        return (
            QCoreApplication.translate("Errors", "The disk is full."),
            QCoreApplication.translate(
                "Errors", "Free some space on the disk and try again. Nothing was saved."
            ),
        )
    if code == "newer_schema":
        return (
            QCoreApplication.translate(
                "Errors", "This database was written by a newer version of Gridroom."
            ),
            QCoreApplication.translate(
                "Errors", "Install the newer version. This version leaves the file untouched."
            ),
        )
    if code == "read_only":
        return (
            QCoreApplication.translate("Errors", "The database cannot be written."),
            QCoreApplication.translate(
                "Errors", "Check that the file and its folder may be written by your account."
            ),
        )
    return None


def _reason(reason: str) -> str:
    """The loop's English reason in the UI language (the case pages' refusal words)."""
    try:
        from .refusals import translate
    except ImportError:  # a build without the case pages: the reason as the core wrote it
        return reason
    return str(translate(reason))


def _ledger_error() -> type[BaseException] | None:
    try:
        from sync.store.ledger import LedgerError
    except ImportError:  # a build without the ledger
        return None
    return LedgerError


def _chain(exc: BaseException) -> str:
    """Each exception in the cause chain on one line: type, message — no traceback."""
    lines = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines.append(f"{type(current).__module__}.{type(current).__qualname__}: {current}")
        current = current.__cause__ or current.__context__
    return "\n".join(lines)


def explain(exc: BaseException) -> Explained:
    """The words for ``exc``, in the UI language."""
    if isinstance(exc, StoreError):
        words = _store_words(exc.code)
        details = f"code: {exc.code}\n"
        if exc.path:
            details += f"file: {exc.path}\n"
        details += _chain(exc)
        if words is None:
            return Explained(
                QCoreApplication.translate("Errors", "The database could not be used."),
                str(exc),
                details,
                True,
            )
        return Explained(words[0], words[1], details, True)
    if isinstance(exc, Refused):
        return Explained(
            QCoreApplication.translate("Errors", "This step is not allowed now."),
            _reason(exc.reason),
            f"action: {exc.action.value}\n{_chain(exc)}",
            True,
        )
    ledger_error = _ledger_error()
    if ledger_error is not None and isinstance(exc, ledger_error):
        # The ledger's messages name the file and the problem row by row, in plain words.
        return Explained(
            QCoreApplication.translate("Errors", "The spreadsheet could not be used."),
            str(exc),
            _chain(exc),
            True,
        )
    if isinstance(exc, SettingsError):
        return Explained(
            QCoreApplication.translate("Errors", "A setting could not be used."),
            str(exc),
            _chain(exc),
            True,
        )
    if isinstance(exc, PermissionError):
        return Explained(
            QCoreApplication.translate("Errors", "Permission denied."),
            QCoreApplication.translate("Errors", "Gridroom may not write there: %1").replace(
                "%1", str(exc.filename or "")
            ),
            _chain(exc),
            True,
        )
    if isinstance(exc, OSError):
        return Explained(
            QCoreApplication.translate("Errors", "A file could not be read or written."),
            f"{exc.filename or ''} {exc.strerror or exc}".strip(),
            _chain(exc),
            True,
        )
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log_file = logs.current_log_file()
    if log_file is not None:
        tb += f"\nlog: {log_file}\n"
    return Explained(
        QCoreApplication.translate("Errors", "Something went wrong inside Gridroom."),
        QCoreApplication.translate(
            "Errors",
            "Your data is safe: the step you were taking was not saved. Please tell your IT "
            "department what you were doing; the details below help them.",
        ),
        f"{_chain(exc)}\n\n{tb}",
        False,
    )


class ErrorDialog(QMessageBox):
    """A non-blocking message box for one error; details for IT behind "Show Details…"."""

    def __init__(self, exc: BaseException, parent: QWidget | None = None, doing: str = "") -> None:
        super().__init__(parent)
        words = explain(exc)
        self.explained = words
        # The trail for IT: a bug with its traceback, a known problem in one line.
        if words.known:
            log.warning("%s: %s %s", doing or "error", words.headline, _chain(exc))
        else:
            log.error("%s: unexpected error", doing or "error", exc_info=exc)
        self.setObjectName("errorDialog")
        self.setIcon(QMessageBox.Icon.Warning if words.known else QMessageBox.Icon.Critical)
        self.setWindowTitle(doing or self.tr("Gridroom"))
        self.setText(words.headline)
        self.setInformativeText(words.advice)
        self.setDetailedText(words.details)
        self.setStandardButtons(QMessageBox.StandardButton.Ok)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)


def show_error(parent: QWidget | None, exc: BaseException, doing: str = "") -> ErrorDialog | None:
    """Show ``exc`` in plain words without blocking; a cancelled operation shows nothing."""
    if isinstance(exc, Cancelled):
        return None
    dialog = ErrorDialog(exc, parent, doing)
    dialog.open()
    return dialog
