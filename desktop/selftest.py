"""``gridroom --self-test``: does this installed copy of Gridroom work on this PC?

County IT runs it after a silent install (the .deb's install test and the Windows build run it
too). It renders offscreen, so it works over SSH and in a chroot:

* **main window** — a throwaway demo store in a temporary folder, the real main window built
  on it, every page shown and its background reads awaited, the window grabbed and checked not
  to be blank. If the window cannot be built, the test fails with the traceback;
* **translations** — every bundled ``*_zh_CN.qm`` loads and a known string translates;
* **fonts** — the bundled CJK font registers and covers Chinese;
* **engine** — SQLCipher's SQLite, FTS5, an encrypted round trip (shared with ``doctor``);
* **keyring** — which backend, and that it is not a plaintext one (shared with ``doctor``);
* **encryption** — a store encrypted under a random key (as enrolment makes one) is created,
  reopened and read back, and a photo is written and read back encrypted (``cryptography``);
  neither file shows its content on disk, and the store does not open without its key;
* **report** — a tiny monthly report PDF is written with the bundled Chinese font (``reportlab``);
* **platform plugin** (Linux) — every library the xcb plugin needs is installed, so the app
  will also start on the real display, not only offscreen.

Nothing outside the temporary folder is touched: the user's settings, stores and keyring are
left alone. Exit status 0 only if no check failed (warnings are printed, not fatal).

Options: ``--json`` (machine-readable report), ``--screenshot PNG`` (keep the rendered window);
or ``GRIDROOM_SELFTEST_JSON=1`` / ``GRIDROOM_SELFTEST_SCREENSHOT=PNG`` in the environment.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sync.cli.doctor import (
    FAIL,
    INFO,
    OK,
    WARN,
    Check,
    app_version,
    check_engine,
    check_keyring,
    environment,
)

#: Strings whose Chinese translation proves the .qm files are wired up: (context, source, n).
TRANSLATION_PROBES: tuple[tuple[str, str, int], ...] = (
    ("MainWindow", "Dashboard", -1),
    ("MainWindow", "Cases", -1),
    ("CaseDetail", "%n day(s) overdue", 3),
)
#: Characters the bundled font must cover (网格通 指挥室 事件 超期).
CJK_SAMPLE = "网格通指挥室事件超期"
#: The window is rendered at this size; a real screen may differ.
WINDOW_SIZE = (1280, 800)
#: A rendered window with fewer distinct colours than this is blank (or a solid error colour).
MIN_COLOURS = 8
#: The township (and one of its villages) the throwaway stores are made for: real codes of the
#: bundled divisions, as the test fixtures use.
SELFTEST_SCOPE = "330825002"
SELFTEST_VILLAGE = "330825002222"
#: A case text that must not appear in the encrypted store's file.
SECRET_TEXT = "自检：张三 13800138000 门前漏水"


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _timed(name: str, fn: Callable[[], Check]) -> Check:
    """Run one check; an unexpected exception is a failure with its traceback, not a crash."""
    started = time.perf_counter()
    try:
        check = fn()
    except Exception as exc:  # the self-test reports every failure instead of dying on one
        check = Check(
            name, FAIL, f"{type(exc).__name__}: {exc}", traceback.format_exc().splitlines()
        )
    check.details.append(f"took {time.perf_counter() - started:.2f} s")
    return check


# -- the checks ---------------------------------------------------------------------------------


def check_fonts(app: Any) -> Check:
    """The bundled CJK font registers, becomes the app font, and covers Chinese."""
    from gridroom_resources import path as resource_path
    from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics

    from desktop.app import FONT_FILE, install_font

    font_file = resource_path(*FONT_FILE)
    if not font_file.exists():
        return Check("fonts", FAIL, f"The bundled font {font_file} is missing from this build.")
    family = install_font(app)
    if family is None:
        return Check("fonts", FAIL, f"The bundled font {font_file.name} did not register with Qt.")
    systems = QFontDatabase.writingSystems(family)
    metrics = QFontMetrics(QFont(family))
    missing = [ch for ch in CJK_SAMPLE if not metrics.inFontUcs4(ord(ch))]
    if QFontDatabase.WritingSystem.SimplifiedChinese not in systems or missing:
        return Check(
            "fonts",
            FAIL,
            f"{family} does not cover Simplified Chinese (missing {''.join(missing) or '?'}).",
        )
    return Check("fonts", OK, f"{family} registered and covers Simplified Chinese.")


def check_translations(app: Any) -> Check:
    """Every bundled ``*_zh_CN.qm`` loads; a known string comes out in Chinese."""
    from gridroom_resources import path as resource_path
    from PySide6.QtCore import QCoreApplication, QTranslator

    from desktop.app import install_translations

    folder = resource_path("i18n")
    files = sorted(folder.glob("*_zh_CN.qm")) if folder.is_dir() else []
    if not files:
        return Check("translations", FAIL, f"No Chinese translations (*_zh_CN.qm) in {folder}.")
    details: list[str] = []
    for qm in files:
        probe = QTranslator()
        if not probe.load(str(qm)) or probe.isEmpty():
            return Check("translations", FAIL, f"{qm.name} does not load as a translation file.")
        details.append(f"{qm.name}: {qm.stat().st_size:,} bytes")
    # In a source checkout, a .ts newer than its .qm means someone forgot to release it.
    for ts in sorted(folder.glob("*_zh_CN.ts")):
        qm = ts.with_suffix(".qm")
        if not qm.exists():
            details.append(f"{ts.name} has no compiled {qm.name}: its strings show in English")
        elif ts.stat().st_mtime > qm.stat().st_mtime + 1:
            details.append(f"{qm.name} is older than {ts.name}: run lrelease")
    installed = install_translations(app, "zh_CN")
    translated = []
    for context, source, n in TRANSLATION_PROBES:
        text = QCoreApplication.translate(context, source, None, n)
        if _has_cjk(text):
            translated.append(f"{context}/{source!r} → {text}")
    details.extend(translated)
    if not translated:
        return Check(
            "translations",
            FAIL,
            f"{len(files)} .qm file(s) load, but none of the known strings translates "
            f"({len(installed)} translator(s) installed).",
            details,
        )
    return Check(
        "translations",
        OK,
        f"{len(files)} Chinese translation file(s) load; {len(translated)} known string(s) "
        "translate.",
        details,
    )


def check_platform_plugin() -> Check:
    """The display plugin a real session will use is there; on Linux, every library the xcb
    plugin links is installed (ldd finds it), so the app starts on the display too."""
    from PySide6.QtCore import QLibraryInfo

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    if sys.platform == "win32":
        qwindows = plugins / "platforms" / "qwindows.dll"
        if not qwindows.exists():
            return Check("platform", FAIL, f"The Windows display plugin is missing ({qwindows}).")
        return Check("platform", OK, "The Windows display plugin is present.")
    if not sys.platform.startswith("linux"):
        return Check("platform", INFO, f"No display plugin check for {sys.platform}.")
    xcb = plugins / "platforms" / "libqxcb.so"
    if not xcb.exists():
        return Check("platform", FAIL, f"The xcb platform plugin is missing ({xcb}).")
    ldd = shutil.which("ldd")
    if ldd is None:
        return Check(
            "platform", WARN, "ldd is not installed: cannot check the xcb plugin's libraries."
        )
    env = dict(os.environ)
    # The bundle's own Qt libraries are found through the plugin's RUNPATH; nothing else.
    result = subprocess.run([ldd, str(xcb)], capture_output=True, text=True, env=env, timeout=60)
    missing = sorted(
        {line.split("=>")[0].strip() for line in result.stdout.splitlines() if "not found" in line}
    )
    if missing:
        return Check(
            "platform",
            FAIL,
            "The display plugin (xcb) cannot load: missing " + ", ".join(missing) + ". "
            "Install the packages the .deb depends on (apt-get -f install).",
        )
    return Check("platform", OK, "The xcb display plugin finds every library it needs.")


def check_encryption(work: Path) -> Check:
    """An encrypted store under a random key: create, close, reopen, read back; a photo written
    encrypted beside it and read back. Exercises SQLCipher and ``cryptography`` (AES-GCM, HKDF)
    exactly as an enrolled store does, in a temporary folder (the keyring is not touched)."""
    import io

    from PIL import Image

    from sync.model.records import Actor, Role
    from sync.store import Store, WrongKey
    from sync.store.attachments import blob_path, load_photo, read_blob, store_photo_file
    from sync.store.keys import SQLITE_HEADER, new_key

    work.mkdir(parents=True, exist_ok=True)
    path = work / "encrypted.sqlite"
    key = new_key()
    operator = Actor("selftest-operator", "自检", Role.OPERATOR, township=SELFTEST_SCOPE)
    with Store.create(path, scope=SELFTEST_SCOPE, key=key) as store:
        fields = {"title": SECRET_TEXT, "category": "0604", "village_code": SELFTEST_VILLAGE}
        case_id = store.report(operator, fields).case_id
    problems: list[str] = []
    on_disk = path.read_bytes()
    if on_disk.startswith(SQLITE_HEADER) or SECRET_TEXT.encode() in on_disk:
        problems.append("the store file is readable without its key")
    other = new_key()
    try:
        Store.open(path, key=other).close()
        problems.append("the store opened with a wrong key")
    except WrongKey:
        pass
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(picture, "JPEG", quality=90)
    photo = load_photo(picture.getvalue(), "自检.jpg")
    with Store.open(path, key=key) as store:
        state = store.case(case_id)
        if state is None or state.fields.get("title") != SECRET_TEXT:
            problems.append("the case written before closing does not read back")
        store_photo_file(store, photo)
        stored = blob_path(store, photo.sha256).read_bytes()
        if stored.startswith(b"\xff\xd8\xff") or photo.data in stored:
            problems.append("the photo is stored in plain (a JPEG on disk)")
        if read_blob(store, photo.sha256) != photo.data:
            problems.append("the encrypted photo does not read back")
    details = [f"store {path.stat().st_size:,} bytes, photo {len(stored):,} bytes on disk"]
    if problems:
        return Check(
            "encryption", FAIL, "Encryption at rest fails: " + "; ".join(problems) + ".", details
        )
    return Check(
        "encryption",
        OK,
        "An encrypted store and an encrypted photo are written, reopened and read back.",
        details,
    )


def check_report(work: Path) -> Check:
    """A tiny monthly report (月报) PDF with the bundled Chinese font (``reportlab``)."""
    from sync.stats.periods import Period
    from sync.stats.report import collect, write
    from sync.store import Store

    work.mkdir(parents=True, exist_ok=True)
    path = work / "report.sqlite"
    with Store.create(path, scope=SELFTEST_SCOPE, synthetic=True) as store:
        data = collect(store, Period.parse("2026-06"))
    out = write(data, work / "月报.pdf")
    pdf = out.read_bytes()
    details = [f"{out.name}: {len(pdf):,} bytes"]
    if not pdf.startswith(b"%PDF-") or b"%%EOF" not in pdf[-64:]:
        return Check("report", FAIL, "The monthly report PDF is not a complete PDF.", details)
    if b"FontFile2" not in pdf:
        return Check(
            "report", FAIL, "The monthly report PDF does not embed the Chinese font.", details
        )
    return Check("report", OK, "A monthly report PDF is written with the Chinese font.", details)


def check_main_window(app: Any, work: Path, screenshot: Path | None) -> Check:
    """Build the real main window on a throwaway demo store, show every page, grab it."""
    from PySide6.QtCore import QCoreApplication

    from desktop.app import build_demo, demo_builder, install_style, open_store
    from desktop.context import AppContext
    from desktop.mainwindow import MainWindow
    from desktop.ops import Ops, Progress
    from desktop.screenshots import settle
    from sync.settings import Settings, site_config_path

    if demo_builder() is None:
        return Check(
            "main window", FAIL, "The demo generator (sync.demo) is missing from this build."
        )
    started = time.perf_counter()
    store_path = build_demo(work / "selftest.sqlite", Progress(), cases=200)
    built = time.perf_counter()
    actor, probe = open_store(store_path, None)
    probe.close()
    # The user's real settings are never written: the window saves its geometry on close.
    settings = Settings(site_path=site_config_path(), user_dir=work / "config")
    errors: list[BaseException] = []
    install_style(app)
    ops = Ops(store_path)
    ops.error.connect(errors.append)
    window = None
    try:
        ctx = AppContext(ops, actor, settings, store_path=store_path)
        window = MainWindow(ctx)
        window.resize(*WINDOW_SIZE)
        window.show()
        settle(window)
        shown = time.perf_counter()
        pages = window.page_keys()
        for key in pages:
            window.go(key)
            settle(window)
        window.go("dashboard")
        settle(window)
        image = window.grab().toImage()
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            image.save(str(screenshot))
        colours = _distinct_colours(image)
        titles = [window.nav.item(i).text() for i in range(window.nav.count())]
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
        ops.shutdown()
        QCoreApplication.processEvents()
    details = [
        f"demo store of 200 cases built in {built - started:.2f} s",
        f"window shown and settled in {shown - built:.2f} s; pages: {', '.join(pages)}",
        f"navigation: {' | '.join(titles)}",
        f"rendered {image.width()}×{image.height()}, {colours} distinct colours",
    ]
    if errors:
        return Check(
            "main window",
            FAIL,
            f"The window reported {len(errors)} error(s): {errors[0]!r}",
            details,
        )
    if image.isNull() or colours < MIN_COLOURS:
        return Check("main window", FAIL, "The main window rendered blank.", details)
    if not any(_has_cjk(t) for t in titles):
        return Check(
            "main window",
            WARN,
            "The main window works, but its navigation is not in Chinese (shell translation "
            "missing from this build).",
            details,
        )
    return Check("main window", OK, f"Built, every page shown ({len(pages)}), rendered.", details)


def _distinct_colours(image: Any, step: int = 7) -> int:
    """Distinct pixel colours on a sparse grid (enough to tell a drawn window from a blank)."""
    seen = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            seen.add(image.pixel(x, y))
            if len(seen) >= 256:
                return len(seen)
    return len(seen)


# -- running ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="gridroom --self-test", description="Check that this installation of Gridroom works."
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--screenshot", type=Path, metavar="PNG", help="save the rendered main window here"
    )
    # Options of the GUI's own parser may reach us (gridroom --lang en --self-test): ignore them.
    args, _unknown = parser.parse_known_args(list(argv))
    # The same options by environment, for launchers whose own parser rejects unknown options.
    if os.environ.get("GRIDROOM_SELFTEST_JSON") == "1":
        args.json = True
    if args.screenshot is None and os.environ.get("GRIDROOM_SELFTEST_SCREENSHOT"):
        args.screenshot = Path(os.environ["GRIDROOM_SELFTEST_SCREENSHOT"])
    return args


def run(argv: Sequence[str]) -> int:
    """Run every check, print the report, return 0 only if none failed."""
    args = parse_args(argv)
    # Offscreen unless a caller (pytest-qt) already made an application on some platform.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from desktop.app import application
    from sync.settings import Settings

    app = application()
    require = bool(Settings().get("require_encryption"))
    checks: list[Check] = []
    with tempfile.TemporaryDirectory(prefix="gridroom-selftest-") as tmp:
        work = Path(tmp)
        checks.append(_timed("fonts", lambda: check_fonts(app)))
        checks.append(_timed("translations", lambda: check_translations(app)))
        checks.append(_timed("engine", check_engine))
        checks.append(_timed("keyring", lambda: check_keyring(require)))
        checks.append(_timed("encryption", lambda: check_encryption(work / "encryption")))
        checks.append(_timed("report", lambda: check_report(work / "report")))
        checks.append(_timed("platform", check_platform_plugin))
        checks.append(_timed("main window", lambda: check_main_window(app, work, args.screenshot)))
    seconds = time.perf_counter() - started
    failed = any(c.status == FAIL for c in checks)
    env = environment()
    env["qt"] = f"Qt {qVersion()}, PySide6 {pyside_version}, platform {app.platformName()}"
    if args.json:
        print(
            json.dumps(
                {
                    "environment": env,
                    "checks": [asdict(c) for c in checks],
                    "seconds": round(seconds, 2),
                    "passed": not failed,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        marks = {OK: "[ OK ]", WARN: "[WARN]", FAIL: "[FAIL]", INFO: "[INFO]"}
        print(f"Gridroom {app_version()} self-test — {env['qt']}")
        print(f"  {env['os']} ({env.get('libc', env['machine'])}); {env['build']}")
        for c in checks:
            print(f"  {marks[c.status]} {c.name:<13} {c.summary}")
            for line in c.details:
                print(f"  {'':6} {'':<13} {line}")
        verdict = "FAILED: see [FAIL] above." if failed else "PASSED."
        print(f"Self-test {verdict} ({seconds:.1f} s)")
    sys.stdout.flush()
    return 1 if failed else 0
