"""Translations: extract the UI strings, compile them, and check nothing is missing.

    python tools/i18n.py update [shell|cases|sync|all]   refresh resources/i18n/<set>_zh_CN.ts
    python tools/i18n.py release [shell|cases|sync|all]  compile resources/i18n/<set>_*.ts to .qm
    python tools/i18n.py check                      what tests/gui/test_translations.py checks

Source strings are English (``self.tr(...)``, ``QCoreApplication.translate(ctx, ...)``,
``QT_TRANSLATE_NOOP(ctx, ...)``); translators fill ``resources/i18n/*_zh_CN.ts`` (Qt Linguist
works on them). The strings of ``desktop/`` are split in three files by who looks after them:
``cases`` holds the case detail, its action forms and the quick report form; ``sync`` holds
the 同步 page, the sign-in dialog and the background syncer; ``shell`` holds everything else.
A new module belongs to ``shell`` until it is listed under ``cases`` or ``sync``; a package
``desktop/<name>/`` gets a set of its own, ``<name>_zh_CN.ts``, once that file exists (create it
with ``update <name>``), so that each main area keeps its strings apart.

The check runs lupdate over **all** of ``desktop/`` into a temporary file and compares: every
source string must have a finished translation in one of the committed ``*_zh_CN.ts`` files, no
committed entry may be stale (vanished from the source), every ``%1``/``%n`` of the source must
survive in the translation, and each ``.qm`` must be what lrelease makes of its ``.ts`` today.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESKTOP = ROOT / "desktop"
I18N = ROOT / "resources" / "i18n"
LANGUAGES = ("zh_CN",)

#: Modules whose strings live in ``cases_<lang>.ts`` (paths relative to the repository).
CASES_FILES = (
    "desktop/cases/detail.py",
    "desktop/cases/actions.py",
    "desktop/cases/photos.py",
    "desktop/cases/timeline.py",
    "desktop/cases/sheet.py",
    "desktop/report/",
    "desktop/refusals.py",
    "desktop/words.py",
)

#: Modules whose strings live in ``sync_<lang>.ts``.
SYNC_FILES = (
    "desktop/sync_page.py",
    "desktop/sync/",
    "desktop/login.py",
    "desktop/syncer.py",
)


def tool(name: str) -> str:
    """``pyside6-<name>`` beside this Python, on PATH, or the binary inside PySide6."""
    here = Path(sys.executable).parent
    for candidate in (here / f"pyside6-{name}", here / f"pyside6-{name}.exe"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(f"pyside6-{name}")
    if found:
        return found
    import PySide6

    package = Path(PySide6.__file__).parent
    for candidate in (package / name, package / f"{name}.exe", package / "Qt" / "bin" / name):
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError(f"cannot find pyside6-{name}; is PySide6 installed in this Python?")


def sources() -> list[Path]:
    """Every Python module of the desktop, sorted."""
    return sorted(p for p in DESKTOP.rglob("*.py") if "__pycache__" not in p.parts)


def _listed(path: Path, files: Iterable[str]) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == f or (f.endswith("/") and rel.startswith(f)) for f in files)


def _is_cases(path: Path) -> bool:
    return _listed(path, CASES_FILES)


#: The sets every checkout has; packages of ``desktop/`` may add their own (:func:`package_sets`).
BASE_SETS = ("shell", "cases", "sync")


def package_sets() -> tuple[str, ...]:
    """Packages ``desktop/<name>/`` whose strings have a set of their own: those with a
    committed ``<name>_<language>.ts``."""
    names = {ts.name.split("_", 1)[0] for ts in I18N.glob("*_*.ts")}
    return tuple(
        sorted(n for n in names - set(BASE_SETS) if (DESKTOP / n / "__init__.py").exists())
    )


def _package_files(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"desktop/{n}/" for n in names)


def sources_of(name: str) -> list[Path]:
    if name == "cases":
        return [p for p in sources() if _is_cases(p)]
    if name == "sync":
        return [p for p in sources() if _listed(p, SYNC_FILES)]
    own = _package_files(package_sets())
    if name == "shell":
        return [
            p
            for p in sources()
            if not _is_cases(p) and not _listed(p, SYNC_FILES) and not _listed(p, own)
        ]
    if (DESKTOP / name / "__init__.py").exists():
        return [p for p in sources() if _listed(p, _package_files([name]))]
    raise ValueError(
        f"unknown translation set {name!r} (shell, cases, sync or a package of desktop/)"
    )


def lupdate(files: Iterable[Path], ts: Path, *, drop_obsolete: bool = True) -> None:
    args = [tool("lupdate"), "-silent", "-locations", "none"]
    if drop_obsolete:
        args.append("-no-obsolete")
    args += [str(f) for f in files] + ["-ts", str(ts)]
    subprocess.run(args, check=True, capture_output=True, text=True)


def lrelease(ts: Path, qm: Path) -> None:
    subprocess.run(
        [tool("lrelease"), "-silent", str(ts), "-qm", str(qm)],
        check=True,
        capture_output=True,
        text=True,
    )


# -- reading .ts files -------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    context: str
    source: str
    comment: str
    numerus: bool
    kind: str  # "" (finished), "unfinished", "obsolete" or "vanished"
    translations: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.context, self.source, self.comment)


def read_ts(path: Path) -> list[Message]:
    """The messages of a ``.ts`` file."""
    root = ET.parse(path).getroot()
    out: list[Message] = []
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            kind = translation.get("type", "") if translation is not None else "unfinished"
            forms: tuple[str, ...]
            if translation is None:
                forms = ()
            elif message.get("numerus") == "yes":
                forms = tuple((f.text or "") for f in translation.iter("numerusform"))
            else:
                forms = (translation.text or "",)
            out.append(
                Message(
                    context=name,
                    source=message.findtext("source") or "",
                    comment=message.findtext("comment") or "",
                    numerus=message.get("numerus") == "yes",
                    kind=kind,
                    translations=forms,
                )
            )
    return out


_PLACEHOLDER = re.compile(r"%(?:\d+|n)")


def problems(language: str = "zh_CN") -> list[str]:
    """Everything wrong with the committed translations for ``language``, in words."""
    found: list[str] = []
    committed = sorted(I18N.glob(f"*_{language}.ts"))
    if not committed:
        return [f"no resources/i18n/*_{language}.ts files"]
    with tempfile.TemporaryDirectory() as tmp:
        fresh_ts = Path(tmp) / f"all_{language}.ts"
        lupdate(sources(), fresh_ts)
        fresh = {m.key: m for m in read_ts(fresh_ts)}
        seen: dict[tuple[str, str, str], Message] = {}
        for ts in committed:
            for m in read_ts(ts):
                where = f"{ts.name}: [{m.context}] {m.source!r}"
                if m.kind in ("obsolete", "vanished") or m.key not in fresh:
                    found.append(f"{where} is no longer in the source (stale: run update)")
                    continue
                if m.kind == "unfinished" or not m.translations or not all(m.translations):
                    found.append(f"{where} is not translated")
                    continue
                wanted = set(_PLACEHOLDER.findall(m.source))
                if m.numerus:
                    wanted.discard("%n")
                for text in m.translations:
                    missing = wanted - set(_PLACEHOLDER.findall(text))
                    if missing:
                        found.append(
                            f"{where}: translation {text!r} lacks {', '.join(sorted(missing))}"
                        )
                seen[m.key] = m
        for key, m in fresh.items():
            if key not in seen:
                found.append(
                    f"[{m.context}] {m.source!r} has no {language} translation in any .ts file"
                )
        for ts in committed:
            qm = ts.with_suffix(".qm")
            if not qm.exists():
                found.append(f"{qm.name} is missing: run tools/i18n.py release")
                continue
            rebuilt = Path(tmp) / qm.name
            lrelease(ts, rebuilt)
            if rebuilt.read_bytes() != qm.read_bytes():
                found.append(f"{qm.name} is older than {ts.name}: run tools/i18n.py release")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    update = sub.add_parser("update", help="refresh the .ts files from the source")
    update.add_argument(
        "set", nargs="?", default="shell", help="shell, cases, sync, a package of desktop/, or all"
    )
    release = sub.add_parser("release", help="compile .ts to .qm")
    release.add_argument(
        "set", nargs="?", default="shell", help="shell, cases, sync, a package of desktop/, or all"
    )
    sub.add_parser("check", help="list missing, unfinished and stale translations")
    args = parser.parse_args(argv)
    if args.command == "update":
        names = (*BASE_SETS, *package_sets()) if args.set == "all" else (args.set,)
        for name in names:
            for language in LANGUAGES:
                ts = I18N / f"{name}_{language}.ts"
                lupdate(sources_of(name), ts)
                print(ts.relative_to(ROOT))
        return 0
    if args.command == "release":
        pattern = "*.ts" if args.set == "all" else f"{args.set}_*.ts"
        for ts in sorted(I18N.glob(pattern)):
            lrelease(ts, ts.with_suffix(".qm"))
            print(ts.with_suffix(".qm").relative_to(ROOT))
        return 0
    issues = [p for language in LANGUAGES for p in problems(language)]
    for issue in issues:
        print(issue)
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
