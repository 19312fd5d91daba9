"""Starting the desktop app: the Qt application, font, translations, style, the store, the window.

``gridroom`` opens the store this computer is enrolled to; ``gridroom --demo`` opens the demo
township (building it on first run behind a progress dialog with Cancel); ``--db PATH`` opens a
given store file; ``--screenshots DIR`` renders every main view to PNG files and exits;
``--lang`` overrides the language setting for one run; ``--self-test`` runs the packaged
self-test when this build has one.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gridroom_resources import path as resource_path
from PySide6.QtCore import (
    QCoreApplication,
    QEventLoop,
    QLibraryInfo,
    QLocale,
    QMessageLogContext,
    Qt,
    QTimer,
    QtMsgType,
    QTranslator,
    qInstallMessageHandler,
)
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QProgressDialog, QWidget

from sync import logs
from sync.model.records import Actor, Role
from sync.settings import Settings, user_data_dir
from sync.store import Store, health
from sync.store.errors import StoreCorrupt, StoreError, damaged_words

from .context import AppContext
from .errors import ErrorDialog, show_error
from .ops import Cancelled, Ops, Progress

#: The demo township: 东华街道, 龙游县 (DOMAIN.md's example), with its operator account.
DEMO_TOWNSHIP = "330825002"
DEMO_ACCOUNT = "demo-operator"
DEMO_CASES = 20_000  # a township's year, built in about ten seconds
#: How long startup waits for another program's lock on the store before saying so.
STARTUP_BUSY_TIMEOUT_MS = 2000
FONT_FILE = ("fonts", "wqy-microhei.ttc")
STYLE_FILE = ("style.qss",)
ICON_FILE = ("icons", "gridroom.svg")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The GUI's command line (headless subcommands never reach here)."""
    parser = argparse.ArgumentParser(prog="gridroom", description="网格通·指挥室 Gridroom")
    parser.add_argument("--demo", action="store_true", help="open the demo township (no server)")
    parser.add_argument("--db", type=Path, help="open this store file")
    parser.add_argument("--account", help="work as this account id")
    parser.add_argument("--lang", choices=("zh_CN", "en"), help="UI language for this run")
    parser.add_argument(
        "--screenshots", type=Path, metavar="DIR", help="render every main view to DIR and exit"
    )
    parser.add_argument("--self-test", action="store_true", help="run the packaged self-test")
    # Anything else goes to Qt (``-platform offscreen``, ``-style fusion`` …).
    args, qt_args = parser.parse_known_args(list(argv))
    unknown = [a for a in qt_args if a.startswith("--")]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.qt_args = qt_args
    return args


# -- the Qt application -------------------------------------------------------------------------


def application(qt_args: Sequence[str] = ()) -> QApplication:
    """The one QApplication (reused when one exists, as under pytest-qt)."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication([sys.argv[0] if sys.argv else "gridroom", *qt_args])
    assert isinstance(app, QApplication)
    app.setApplicationName("Gridroom")
    app.setOrganizationName("Gridroom")
    # No applicationDisplayName: X11 would append it to a title that already starts with it.
    icon = resource_path(*ICON_FILE)
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def install_font(app: QApplication, point_size: float = 10.0) -> str | None:
    """Load the bundled WenQuanYi Micro Hei and make it the app font: Chinese renders the same
    on every machine, whatever fonts the OS has. Returns the family, or None if unavailable."""
    font_id = QFontDatabase.addApplicationFont(str(resource_path(*FONT_FILE)))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        return None
    family = next((f for f in families if "Mono" not in f), families[0])
    font = QFont(family)
    font.setPointSizeF(point_size)
    app.setFont(font)
    return family


def install_translations(app: QApplication, language: str) -> list[QTranslator]:
    """Install Qt's own and every bundled ``resources/i18n/*_<language>.qm`` translation.

    English is the source language, so ``en`` installs nothing. The translators are kept on the
    application object (a collected translator silently stops translating).
    """
    for old in getattr(app, "_gridroom_translators", []):
        app.removeTranslator(old)
    installed: list[QTranslator] = []
    QLocale.setDefault(QLocale(language))
    if language != "en":
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        for name in ("qtbase",):
            translator = QTranslator(app)
            if translator.load(f"{name}_{language}", qt_dir):
                app.installTranslator(translator)
                installed.append(translator)
        for qm in sorted(resource_path("i18n").glob(f"*_{language}.qm")):
            translator = QTranslator(app)
            if translator.load(str(qm)):
                app.installTranslator(translator)
                installed.append(translator)
    app._gridroom_translators = installed  # type: ignore[attr-defined]
    return installed


def install_style(app: QApplication) -> None:
    """The style sheet, and the item views' colours through the palette (cheaper to paint)."""
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f7f9fc"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#d6e4fd"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#1f2329"))
    app.setPalette(palette)
    style = resource_path(*STYLE_FILE)
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))


def setup(app: QApplication, language: str) -> None:
    """Font, translations and style: what every window of the app needs first."""
    install_font(app)
    install_translations(app, language)
    install_style(app)


# -- the trail: log file, uncaught exceptions, Qt's messages -----------------------------------

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def install_qt_message_handler() -> None:
    """Qt's own warnings (a missing plugin, a bad style sheet …) go into the log too, and on
    to the handler that was there before (Qt's: standard error; pytest-qt's in tests)."""
    qt_log = logging.getLogger("gridroom.qt")
    previous: Any = None

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        where = f" ({context.file}:{context.line})" if context.file else ""
        qt_log.log(_QT_LEVELS.get(mode, logging.WARNING), "%s%s", message, where)
        if callable(previous):
            previous(mode, context, message)
        elif mode != QtMsgType.QtDebugMsg:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)


def install_logging() -> Path | None:
    """The app's log file, faulthandler, excepthooks and Qt's messages (docs/deploy.md §6)."""
    path = logs.start("gridroom desktop")
    install_qt_message_handler()
    return path


_kept: list[QWidget] = []


def check_store_health(ops: Ops, parent: QWidget | None) -> Any:
    """After opening: check the whole store in the background (``PRAGMA integrity_check``).

    A damaged store is marked (every write to it is refused from then on, see
    :mod:`sync.store.health`) and the person is told in plain words what to do.
    """

    def found(problems: list[str]) -> None:
        if problems:
            logging.getLogger("gridroom").error(
                "the store %s is damaged: %s", ops.path, "; ".join(problems)
            )
            error = StoreCorrupt(damaged_words(ops.path, problems[0]), path=ops.path)
            dialog = show_error(
                parent, error, QCoreApplication.translate("App", "Checking the database")
            )
            if dialog is not None and parent is None:  # nothing else keeps it alive
                _kept.append(dialog)
                dialog.finished.connect(lambda _result: _kept.remove(dialog))

    return ops.read(lambda store: health.check(store)).success(found).run()


# -- finding the store --------------------------------------------------------------------------


def data_dir(settings: Settings) -> Path:
    configured = settings.get("data_dir")
    return Path(configured) if configured else user_data_dir()


def demo_path(settings: Settings | None = None) -> Path:
    """Where ``--demo`` keeps its store: the user data folder (``demo-330825002.sqlite``)."""
    return user_data_dir() / f"demo-{DEMO_TOWNSHIP}.sqlite"


def enrolled_path(settings: Settings) -> Path | None:
    """The store of the township this computer is enrolled to (where ``gridroom login`` put
    it), if any."""
    township = settings.get("township")
    if not township:
        return None
    try:
        from sync.client.enrol import default_store_path
    except ImportError:  # a build without the sync client
        path = data_dir(settings) / f"township-{township}.sqlite"
    else:
        path = default_store_path(township, settings.get("data_dir") or None)
    return path if path.exists() else None


def demo_builder() -> Callable[..., Any] | None:
    """The demo generator's entry point (``sync.demo.build.build``), if this build has it."""
    try:
        module = importlib.import_module("sync.demo.build")
    except ModuleNotFoundError as exc:
        if exc.name in ("sync.demo.build", "sync.demo"):
            return None
        raise
    return getattr(module, "build", None)


def build_demo(path: Path, progress: Progress, cases: int | None = None) -> Path:
    """Build the demo store at ``path`` (runs in a worker thread; Cancelled on cancel).

    The generator writes beside ``path`` and renames at the end, so a cancelled or failed
    first run leaves nothing that a later run would mistake for a finished demo.
    """
    build = demo_builder()
    if build is None:
        raise StoreError("The demo data generator is not part of this build.")
    cases = DEMO_CASES if cases is None else cases
    path.parent.mkdir(parents=True, exist_ok=True)
    progress.update(0, cases)

    def report(done: int, total: int = 0) -> bool:
        return progress.update(done, total)

    try:
        summary = build(path, township=DEMO_TOWNSHIP, cases=cases, seed=1, progress=report)
    except ValueError as exc:  # the generator's DemoError: plain words already
        raise StoreError(str(exc), path=path) from exc
    if summary is None or progress.cancelled:
        raise Cancelled()
    return path


def run_in_background(parent: QWidget | None, label: str, fn: Callable[[Progress], Any]) -> Any:
    """Run ``fn(progress)`` in a thread behind a progress dialog with Cancel; wait for it while
    the GUI stays live. Returns its result or raises its exception (Cancelled on cancel)."""
    progress = Progress()
    outcome: dict[str, Any] = {}
    loop = QEventLoop()

    def work() -> None:
        try:
            outcome["result"] = fn(progress)
        except BaseException as exc:  # re-raised in the GUI thread below
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="gridroom-build", daemon=True)
    dialog = QProgressDialog(label, QCoreApplication.translate("App", "Cancel"), 0, 0, parent)
    dialog.setObjectName("buildProgress")
    dialog.setWindowTitle(QCoreApplication.translate("App", "Gridroom"))
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.canceled.connect(progress.cancel)
    timer = QTimer()
    timer.setInterval(100)

    def poll() -> None:
        if dialog.wasCanceled():  # Esc or closing the dialog cancels as the button does
            progress.cancel()
        if progress.total:
            dialog.setMaximum(progress.total)
            dialog.setValue(min(progress.done, progress.total - 1))
        if progress.label:
            dialog.setLabelText(progress.label)
        if not thread.is_alive():
            loop.quit()

    timer.timeout.connect(poll)
    thread.start()
    timer.start()
    dialog.show()
    loop.exec()
    timer.stop()
    thread.join()
    dialog.reset()
    dialog.deleteLater()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def choose_store(args: argparse.Namespace, settings: Settings) -> Path | None:
    """The store file to open, building the demo if asked and needed; None if the user quits."""
    if args.db is not None:
        return Path(args.db)
    if args.demo or args.screenshots is not None:
        path = demo_path(settings)
        if not path.exists():
            run_in_background(
                None,
                QCoreApplication.translate("App", "Building the demo township (first run only)…"),
                lambda progress: build_demo(path, progress),
            )
        return path
    enrolled = enrolled_path(settings)
    if enrolled is not None:
        return enrolled
    return ask_for_store(settings)


def ask_for_store(settings: Settings) -> Path | None:
    """Nothing is enrolled yet: offer the demo township or a store file."""
    box = QMessageBox()
    box.setObjectName("welcome")
    box.setWindowTitle(QCoreApplication.translate("App", "Gridroom"))
    box.setText(
        QCoreApplication.translate(
            "App", "This computer is not enrolled with a county platform yet."
        )
    )
    box.setInformativeText(
        QCoreApplication.translate(
            "App",
            "Your IT department enrols it. Meanwhile you can try Gridroom on the demo township "
            "(synthetic cases on real place names), or open a database file.",
        )
    )
    sign_in = box.addButton(
        QCoreApplication.translate("App", "Sign in to the county platform…"),
        QMessageBox.ButtonRole.AcceptRole,
    )
    demo = box.addButton(
        QCoreApplication.translate("App", "Open the demo township"),
        QMessageBox.ButtonRole.ActionRole,
    )
    open_file = box.addButton(
        QCoreApplication.translate("App", "Open a database file…"),
        QMessageBox.ButtonRole.ActionRole,
    )
    box.addButton(QCoreApplication.translate("App", "Quit"), QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is sign_in:
        # Enrols this computer (creating the township's store) and opens that store.
        outcome = sign_in_dialog(settings, None)
        return outcome.store_path if outcome is not None else None
    if box.clickedButton() is demo:
        return choose_store(parse_args(["--demo"]), settings)
    if box.clickedButton() is open_file:
        path, _filter = QFileDialog.getOpenFileName(
            None,
            QCoreApplication.translate("App", "Open a Gridroom database"),
            str(data_dir(settings)),
            QCoreApplication.translate("App", "Gridroom database (*.sqlite *.db);;All files (*)"),
        )
        return Path(path) if path else None
    return None


def sign_in_dialog(settings: Settings, store_path: Path | None) -> Any:
    """Show the sign-in dialog (modal); the :class:`~desktop.login.SignedIn`, or None when the
    person cancelled."""
    from .login import LoginDialog

    dialog = LoginDialog(settings, store_path=store_path)
    try:
        dialog.exec()
        return dialog.outcome
    finally:
        dialog.deleteLater()


def pick_actor(store: Store, wanted: str | None) -> Actor:
    """The account to work as: on an enrolled store the one signed in (``wanted`` may name it
    by id or login), else the one asked for, else the demo operator, else an operator."""
    from .login import enrolled_actor

    signed_in = enrolled_actor(store, wanted)
    if signed_in is not None:
        return signed_in
    for candidate in (wanted, DEMO_ACCOUNT):
        if candidate:
            found = store.account(candidate)
            if found is not None:
                return found
    operators = store.accounts(Role.OPERATOR)
    if operators:
        return operators[0]
    everyone = store.accounts()
    if everyone:
        return everyone[0]
    raise StoreError(
        f"{store.path} holds no accounts yet: enrol this computer or import accounts first.",
        path=store.path,
    )


def encrypt_if_needed(path: Path, interactive: bool) -> None:
    """Convert a plaintext store in place when policy or enrolment asks (behind a progress
    dialog), or unlock it: the key the one way (:func:`sync.store.keys.prepare`)."""
    from sync.store import keys

    if not (interactive and keys.needs_conversion(path)):
        keys.prepare(path)
        return
    phases = {
        "checkpoint": QCoreApplication.translate("App", "Encrypting the database…"),
        "copy": QCoreApplication.translate("App", "Encrypting the database…"),
        "verify": QCoreApplication.translate("App", "Checking the encrypted copy…"),
        "replace": QCoreApplication.translate("App", "Checking the encrypted copy…"),
        "photos": QCoreApplication.translate("App", "Encrypting the photos…"),
    }

    def work(progress: Progress) -> Any:
        def report(done: int, total: int, phase: str) -> bool:
            return progress.update(done, total, phases.get(phase, ""))

        try:
            return keys.prepare(path, progress=report)
        except keys.Cancelled:
            raise Cancelled() from None

    run_in_background(None, phases["copy"], work)


def open_store(path: Path, account: str | None) -> tuple[Actor, Store]:
    """Open ``path`` once in the GUI thread to check it and find the account (StoreError on a
    locked, corrupt or foreign file). The caller closes the returned store."""
    store = Store.open(path, busy_timeout_ms=STARTUP_BUSY_TIMEOUT_MS)
    try:
        return pick_actor(store, account), store
    except BaseException:
        store.close()
        raise


def explain_startup_failure(exc: BaseException, interactive: bool) -> None:
    """Tell the user in plain words why the app cannot start (never a traceback)."""
    dialog = ErrorDialog(
        exc, None, QCoreApplication.translate("App", "Gridroom cannot open the database")
    )
    print(f"gridroom: {dialog.explained.headline} {dialog.explained.advice}", file=sys.stderr)
    if interactive:
        dialog.exec()
    else:
        dialog.deleteLater()


# -- running ------------------------------------------------------------------------------------


def run_self_test(argv: Sequence[str]) -> int:
    try:
        module = importlib.import_module("desktop.selftest")
    except ModuleNotFoundError as exc:
        if exc.name != "desktop.selftest":
            raise
        print("gridroom: --self-test is not part of this build.", file=sys.stderr)
        return 2
    return int(module.run([a for a in argv if a != "--self-test"]) or 0)


def run_gui(argv: Sequence[str]) -> int:
    """The desktop app; returns the process exit code."""
    started = time.perf_counter()
    if "--self-test" in argv:
        return run_self_test(argv)  # it has options of its own (--json, --screenshot)
    args = parse_args(argv)
    app = application(args.qt_args)
    install_logging()
    settings = Settings()
    for problem in settings.problems:
        print(f"gridroom: {problem}", file=sys.stderr)
    setup(app, args.lang or settings.get("language"))
    interactive = args.screenshots is None
    try:
        path = choose_store(args, settings)
        if path is None:
            return 0
        offline_login = False
        if interactive:
            # An enrolled store whose sign-in this computer does not hold asks for the password
            # (online, or offline against this computer's copy when the county is away).
            from .login import needs_sign_in
            from .syncer import shared_tokens

            if needs_sign_in(path, shared_tokens()):
                outcome = sign_in_dialog(settings, path)
                if outcome is None:
                    return 0
                offline_login = not outcome.online
                path = outcome.store_path
        encrypt_if_needed(path, interactive)
        actor, probe = open_store(path, args.account or settings.get("account") or None)
        probe.close()
    except Cancelled:
        return 1
    except StoreError as exc:
        explain_startup_failure(exc, interactive)
        return 3
    from .mainwindow import MainWindow  # after the translators: widgets translate on build

    ops = Ops(path)
    ctx = AppContext(ops, actor, settings, store_path=path)
    window = MainWindow(ctx)
    try:
        if args.screenshots is not None:
            from .screenshots import shoot

            written = shoot(window, args.screenshots)
            print("\n".join(str(p) for p in written))
            return 0
        window.syncer.set_offline_login(offline_login)
        window.show()
        check_store_health(ops, window)
        if "GRIDROOM_STARTUP_TIMING" in __import__("os").environ:
            QTimer.singleShot(
                0, lambda: print(f"window usable after {time.perf_counter() - started:.3f} s")
            )
        return int(app.exec())
    finally:
        window.close()
        window.deleteLater()
        ops.shutdown()
