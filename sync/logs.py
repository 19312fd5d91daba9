"""Gridroom's log files: where they are, how they rotate, and what never goes into them.

One setup for every process (Qt-free, so the headless commands and the county server use it
too): :func:`setup` adds a rotating file handler (``gridroom.log`` for the desktop app,
``gridroom-cli.log`` for the ``gridroom`` commands; :data:`MAX_BYTES` × :data:`BACKUPS`) in
:func:`log_dir`, turns on :mod:`faulthandler` into ``crash.log`` beside it
(a segfault in Qt or SQLite leaves every thread's Python stack there), and sends uncaught
exceptions of the main thread and of other threads into the log (:func:`install_hooks`). The
desktop adds Qt's own messages (``desktop.app``).

Every handler carries a :class:`RedactingFilter` and a :class:`RedactingFormatter`: sign-in
tokens (``Bearer …``, ``token=…``, ``"token": "…"``), passwords and other secrets in
``key=value`` form, 18-digit resident ID numbers (身份证号) and mobile phone numbers are
replaced before a line is written — in the message, its arguments, the exception text and the
stack. The same :func:`redact` cleans what ``gridroom doctor --bundle`` collects.

Where (docs/deploy.md, section 6): ``GRIDROOM_LOG_DIR`` if set, else ``logs`` in the user's data
folder — ``~/.local/share/gridroom/logs`` (``$XDG_DATA_HOME``) on Linux,
``%LOCALAPPDATA%\\Gridroom\\logs`` on Windows. ``GRIDROOM_LOG_LEVEL`` (debug, info, warning …)
sets the level; the default is info.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import logging
import logging.handlers
import os
import re
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

#: One log file's size before it rotates, and how many rotated files are kept (≤ 12 MB).
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 5
LOG_FILE = "gridroom.log"
#: The headless commands' log: a separate file, so that the app and a command running at the
#: same time never rotate one file under each other (on Windows a file another process holds
#: open cannot be renamed).
CLI_LOG_FILE = "gridroom-cli.log"
CRASH_FILE = "crash.log"
FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(threadName)s %(name)s: %(message)s"
#: Loggers too chatty at info level (HTTP connection pool chatter, Qt's image plugins …).
QUIET = ("urllib3", "PIL", "asyncio", "multipart", "httpx", "httpcore")

_REPLACEMENTS: list[tuple[re.Pattern[str], str]] = [
    # HTTP Authorization headers and bare bearer tokens.
    (re.compile(r"(?i)(authorization\s*[:=]\s*)(bearer\s+)?[^\s,;\"']+"), r"\1<redacted>"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"), "Bearer <redacted>"),
    # token=…, "password": "…", access_token: …, PRAGMA key = '…', cookie=…
    (
        re.compile(
            r"(?i)([\"']?\b\w*(?:token|password|passwd|pwd|secret|key|cookie)[\"']?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,;&)}\]]+)"
        ),
        r"\1<redacted>",
    ),
    # A resident ID number (居民身份证号): 17 digits and a check digit or X.
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), "<id-number>"),
    # Mainland mobile numbers, also as +86 138 1234 5678 or 138-1234-5678.
    (
        re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9])"),
        "<phone>",
    ),
]

_secrets_lock = threading.Lock()
_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Redact this exact value too from now on (a token or password this process holds)."""
    if value and len(value) >= 6:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` without tokens, passwords, ID card numbers or mobile phone numbers."""
    if not text:
        return text
    if _secrets:
        with _secrets_lock:
            known = sorted(_secrets, key=len, reverse=True)
        for value in known:
            text = text.replace(value, "<redacted>")
    for pattern, replacement in _REPLACEMENTS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Redact a record in place before any handler formats it: the message with its arguments
    merged, the exception text and the stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, never lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output line is redacted once more (fields a filter cannot see,
    such as a thread's name)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_dir() -> Path:
    """The folder of this user's log files (see the module's docstring)."""
    configured = os.environ.get("GRIDROOM_LOG_DIR")
    if configured:
        return Path(configured)
    from .settings import user_data_dir

    return user_data_dir() / "logs"


def level() -> int:
    name = os.environ.get("GRIDROOM_LOG_LEVEL", "info").upper()
    value = logging.getLevelName(name)
    return value if isinstance(value, int) else logging.INFO


def redacting(handler: logging.Handler, fmt: str = FORMAT) -> logging.Handler:
    """Give ``handler`` the redacting filter and formatter (every Gridroom handler has them)."""
    handler.addFilter(RedactingFilter())
    handler.setFormatter(RedactingFormatter(fmt))
    return handler


_state_lock = threading.Lock()
_file_handler: logging.Handler | None = None
_crash_file: TextIO | None = None
_faulthandler_before = False
_atexit_registered = False


def current_log_file() -> Path | None:
    """The file this process logs to, or None before :func:`setup` (or when it failed)."""
    handler = _file_handler
    if isinstance(handler, logging.FileHandler):
        return Path(handler.baseFilename)
    return None


def setup(
    folder: Path | None = None,
    *,
    file_name: str = LOG_FILE,
    stderr: bool = False,
    crash_file: bool = True,
    file: bool = True,
    log_level: int | None = None,
) -> Path | None:
    """Log to a rotating file in ``folder`` (default :func:`log_dir`); returns its path.

    Idempotent. When the folder cannot be written the app runs on without a log file (a
    warning goes to stderr) rather than not at all. ``stderr``: also log to standard error
    (the county server under a supervisor). ``crash_file``: :mod:`faulthandler` into
    ``crash.log`` in the same folder. ``file=False``: no file (stderr only). ``log_level``
    overrides ``GRIDROOM_LOG_LEVEL``.
    """
    global _file_handler, _crash_file
    root = logging.getLogger()
    wanted = level() if log_level is None else log_level
    with _state_lock:
        root.setLevel(wanted)
        for name in QUIET:  # at debug level, everything
            logging.getLogger(name).setLevel(wanted if wanted <= logging.DEBUG else logging.WARNING)
        if stderr and not any(getattr(h, "_gridroom_stderr", False) for h in root.handlers):
            handler = redacting(logging.StreamHandler(sys.stderr))
            handler._gridroom_stderr = True  # type: ignore[attr-defined]
            root.addHandler(handler)
        if _file_handler is not None or not file:
            return current_log_file()
        folder = Path(folder) if folder is not None else log_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            file_handler = logging.handlers.RotatingFileHandler(
                folder / file_name, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
            )
        except OSError as exc:
            print(f"gridroom: cannot write the log in {folder}: {exc}", file=sys.stderr)
            return None
        with contextlib.suppress(OSError):
            os.chmod(folder / file_name, 0o600)  # personal data may be near: this user only
        root.addHandler(redacting(file_handler))
        _file_handler = file_handler
        global _atexit_registered
        if not _atexit_registered:
            atexit.register(shutdown)  # close the files before the interpreter tears down
            _atexit_registered = True
        if crash_file and _crash_file is None:
            global _faulthandler_before
            _faulthandler_before = faulthandler.is_enabled()
            try:
                _crash_file = (folder / CRASH_FILE).open("a", encoding="utf-8")
                faulthandler.enable(_crash_file, all_threads=True)
            except (OSError, ValueError, RuntimeError) as exc:
                logging.getLogger("gridroom").warning("faulthandler not enabled: %s", exc)
    return current_log_file()


def shutdown() -> None:
    """Close the file handler and the crash file (tests; a process about to exit)."""
    global _file_handler, _crash_file
    with _state_lock:
        if _file_handler is not None:
            logging.getLogger().removeHandler(_file_handler)
            _file_handler.close()
            _file_handler = None
        if _crash_file is not None:
            with contextlib.suppress(RuntimeError, ValueError):
                faulthandler.disable()
                if _faulthandler_before and sys.__stderr__ is not None:
                    faulthandler.enable(sys.__stderr__, all_threads=True)
            _crash_file.close()
            _crash_file = None
    remove_hooks()


# -- uncaught exceptions ------------------------------------------------------------------------

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]
_hooks_installed = False
_previous_hooks: list[Any] = []


def log_uncaught(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    where: str = "main thread",
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        return
    logging.getLogger("gridroom.crash").critical(
        "uncaught exception in the %s", where, exc_info=(exc_type, exc, tb)
    )


def install_hooks() -> None:
    """``sys.excepthook`` and ``threading.excepthook`` log the traceback, then do what they did
    before (print it to stderr). Idempotent."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous: ExceptHook = sys.excepthook
    previous_thread = threading.excepthook

    def excepthook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        log_uncaught(exc_type, exc, tb)
        previous(exc_type, exc, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            name = args.thread.name if args.thread is not None else "?"
            log_uncaught(args.exc_type, args.exc_value, args.exc_traceback, f"thread {name}")
        previous_thread(args)

    _previous_hooks[:] = [previous, previous_thread]
    sys.excepthook = excepthook
    threading.excepthook = thread_hook


def remove_hooks() -> None:
    """Put back the hooks :func:`install_hooks` replaced (tests)."""
    global _hooks_installed
    if _hooks_installed and _previous_hooks:
        sys.excepthook, threading.excepthook = _previous_hooks
    _previous_hooks.clear()
    _hooks_installed = False


def start(
    program: str, *, stderr: bool = False, folder: Path | None = None, file_name: str = LOG_FILE
) -> Path | None:
    """:func:`setup` and :func:`install_hooks`, then one line naming the program and version."""
    path = setup(folder, stderr=stderr, file_name=file_name)
    install_hooks()
    log = logging.getLogger("gridroom")
    from importlib import metadata

    try:
        version = metadata.version("gridroom")
    except metadata.PackageNotFoundError:
        version = "unknown"
    log.info(
        "%s %s started (pid %d, Python %s, %s)",
        program,
        version,
        os.getpid(),
        sys.version.split()[0],
        sys.platform,
    )
    return path
