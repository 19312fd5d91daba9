"""Every UI string of desktop/ has a finished zh_CN translation, none is stale, and the compiled
.qm files are what lrelease makes of the .ts files today (all *_zh_CN.ts files, every team's)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication

from desktop import labels

ROOT = Path(__file__).resolve().parents[2]


def _i18n():  # the tool lives in tools/, outside the packages
    spec = importlib.util.spec_from_file_location("gridroom_i18n", ROOT / "tools" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_every_desktop_string_is_translated_and_compiled():
    problems = _i18n().problems("zh_CN")
    assert problems == [], "\n".join(problems)


def test_the_check_sees_a_missing_translation(tmp_path, monkeypatch):
    """The check is not vacuous: a source string nobody translated is reported."""
    i18n = _i18n()
    fake_desktop = tmp_path / "desktop"
    fake_desktop.mkdir()
    (fake_desktop / "page.py").write_text(
        "from PySide6.QtWidgets import QWidget\n"
        "class Page(QWidget):\n"
        "    def title(self):\n"
        "        return self.tr('A string no translator has seen')\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "DESKTOP", fake_desktop)
    problems = i18n.problems("zh_CN")
    assert any("A string no translator has seen" in p for p in problems)
    # ... and every committed entry now counts as stale (its source is gone).
    assert any("no longer in the source" in p for p in problems)


@pytest.mark.parametrize(
    ("context", "source", "chinese"),
    [
        ("MainWindow", "Dashboard", "工作台"),
        ("MainWindow", "Cases", "事件"),
        ("MainWindow", "New case", "新建事件"),
        ("DashboardPage", "Awaiting acceptance", "待受理"),
        ("DashboardPage", "Awaiting verification", "待核查"),
        ("DashboardPage", "Overdue", "已超期"),
        ("DashboardPage", "Due soon", "即将到期"),
        ("DashboardPage", "Closure rate", "办结率"),
        ("DashboardPage", "On-time closure rate", "按期办结率"),
    ],
)
def test_command_room_words(chinese_app, context, source, chinese):
    assert QCoreApplication.translate(context, source) == chinese


def test_shared_words_come_from_the_loaded_translations(chinese_app):
    assert labels.status("reported") == "待受理"
    assert labels.staff_role("leader") == "网格长"
    assert labels.due(0, 3 * 86_400_000 + 4 * 3_600_000) == "超期3天4小时"
