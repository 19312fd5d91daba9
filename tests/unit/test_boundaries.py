"""The import boundary (DESIGN.md): widgets never run SQL or HTTP, and ``sync`` never imports Qt.

Checked by parsing every module with :mod:`ast` (not by grepping, which comments and strings
would fool), so a failure names the file and line that crossed the line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Modules whose import means "this code talks SQL" or "this code talks HTTP".
SQL_MODULES = ("sqlite3", "sqlcipher3", "pysqlite3", "apsw", "sqlite_utils")
HTTP_MODULES = ("requests", "httpx", "urllib.request", "http.client", "urllib3", "aiohttp")
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "PySide2", "shiboken6", "pytestqt")


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted module name) of every import, including ``importlib.import_module("x")``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.lineno, node.module
                for alias in node.names:
                    yield node.lineno, f"{node.module}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _matches(name: str, banned: tuple[str, ...]) -> str | None:
    for module in banned:
        if name == module or name.startswith(module + "."):
            return module
    return None


def sql_calls(tree: ast.AST) -> Iterator[int]:
    """Lines that call ``.execute``/``.executemany``/``.executescript`` on anything."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("execute", "executemany", "executescript")
        ):
            yield node.lineno


def violations_desktop(paths: list[Path], root: Path = ROOT) -> list[str]:
    """Where the given desktop modules run SQL or HTTP, as ``file:line: what``."""
    found = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, name in imported(tree):
            if (module := _matches(name, SQL_MODULES)) is not None:
                found.append(f"{rel}:{line}: imports {module} (widgets never run SQL)")
            if (module := _matches(name, HTTP_MODULES)) is not None:
                found.append(f"{rel}:{line}: imports {module} (widgets never run HTTP)")
        for line in sql_calls(tree):
            found.append(f"{rel}:{line}: calls .execute() (widgets never run SQL)")
    return sorted(set(found))


def violations_sync(paths: list[Path], root: Path = ROOT) -> list[str]:
    """Where the given sync modules import Qt, as ``file:line: what``."""
    found = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, name in imported(tree):
            if (module := _matches(name, QT_MODULES)) is not None:
                found.append(f"{rel}:{line}: imports {module} (sync never imports Qt)")
    return sorted(set(found))


def test_desktop_runs_no_sql_and_no_http():
    problems = violations_desktop(modules("desktop"))
    assert problems == [], "\n".join(problems)


def test_sync_imports_no_qt():
    problems = violations_sync(modules("sync"))
    assert problems == [], "\n".join(problems)


def probe(tmp_path: Path, package: str, source: str) -> Path:
    """A module ``<package>/probe.py`` under ``tmp_path`` holding ``source``."""
    path = tmp_path / package / "probe.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sqlite3\n", "desktop/probe.py:1: imports sqlite3"),
        ("from sqlcipher3 import dbapi2\n", "desktop/probe.py:1: imports sqlcipher3"),
        (
            "x = 1\nstore.conn.execute('DELETE FROM cases')\n",
            "desktop/probe.py:2: calls .execute()",
        ),
        ("import requests\n", "desktop/probe.py:1: imports requests"),
        ("from urllib.request import urlopen\n", "desktop/probe.py:1: imports urllib.request"),
        ("from urllib import request\n", "desktop/probe.py:1: imports urllib.request"),
        (
            "import importlib\nhttpx = importlib.import_module('httpx')\n",
            "desktop/probe.py:2: imports httpx",
        ),
    ],
)
def test_the_desktop_check_names_file_and_line(tmp_path, source, expected):
    found = violations_desktop([probe(tmp_path, "desktop", source)], root=tmp_path)
    assert any(f.startswith(expected) for f in found), found


def test_the_sync_check_sees_qt(tmp_path):
    path = probe(tmp_path, "sync", "import os\nfrom PySide6.QtCore import QObject\n")
    assert violations_sync([path], root=tmp_path) == [
        "sync/probe.py:2: imports PySide6 (sync never imports Qt)"
    ]


def test_comments_and_strings_do_not_count(tmp_path):
    source = (
        '"""We never import sqlite3 here; see store.execute() in sync."""\n'
        "# import requests\n"
        "TEXT = 'conn.execute(sql)'\n"
    )
    assert violations_desktop([probe(tmp_path, "desktop", source)], root=tmp_path) == []
