"""Every refusal the closed loop can give, and every loop word, reads in Chinese.

The refusal sentences are collected from the source of ``sync/model/workflow.py`` and
``sync/store/store.py`` (so a new rule without a translation fails here), the words from the
enumerations themselves. The translation file is checked complete and in step with the code.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from enum import Enum
from pathlib import Path

import pytest

from desktop import refusals, words
from sync.model import workflow
from sync.model.records import (
    Action,
    Level,
    Light,
    Role,
    Satisfaction,
    Source,
    Status,
    TaskState,
    Urgency,
)
from sync.store import store as store_module

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "resources" / "i18n" / "cases_zh_CN.ts"
SOURCES = [
    "desktop/words.py",
    "desktop/refusals.py",
    "desktop/cases/detail.py",
    "desktop/cases/actions.py",
    "desktop/cases/timeline.py",
    "desktop/cases/photos.py",
    "desktop/report/form.py",
    "desktop/report/pickers.py",
]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _sample(node: ast.JoinedStr) -> str:
    """An f-string with each placeholder filled by a plausible value (``x``, or ``'x'`` for a
    ``!r`` conversion)."""
    out = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.append(str(part.value))
        elif isinstance(part, ast.FormattedValue) and part.conversion == ord("r"):
            out.append("'x'")
        else:
            out.append("x")
    return "".join(out)


def reasons_in(path: Path) -> set[str]:
    """The sentences a module gives as refusals or conflicts: returned strings in its rule
    functions, the reason argument of ``Refused(...)`` and ``WorkflowConflict(...)``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def text(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return _sample(node)
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in ("check", "_precondition", "_apply"):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    value = text(inner.value)
                    if value is not None:
                        found.add(value)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
            "Refused",
            "WorkflowConflict",
        ):
            for arg in node.args[1:]:
                value = text(arg)
                if value is not None:
                    found.add(value)
    return found


def test_the_source_scan_finds_the_rules() -> None:
    found = reasons_in(Path(workflow.__file__))
    assert "rejecting a case needs a reason" in found
    assert "a x may not x a case" in found
    assert "unknown category 'x'" in found
    assert len(found) > 40
    assert "there is no such case" in reasons_in(Path(store_module.__file__))


@pytest.mark.parametrize(
    "reason",
    sorted(reasons_in(Path(workflow.__file__)) | reasons_in(Path(store_module.__file__))),
)
def test_every_refusal_reads_in_chinese(chinese_app, reason: str) -> None:
    shown = refusals.translate(reason)
    assert CJK.search(shown), f"untranslated refusal: {reason!r} → {shown!r}"


def test_refusals_with_values_keep_the_value_and_name_the_role(chinese_app) -> None:
    assert refusals.translate("a department may not verify fail a case") == (
        "部门无权对事件执行“核查不通过”"
    )
    assert refusals.translate("unknown category '0199'") == "未知的事件分类 '0199'"
    assert refusals.translate("'colour' is not an editable case field") == (
        "“colour”不是可修改的事件字段"
    )
    assert refusals.translate("something nobody wrote yet") == "something nobody wrote yet"


@pytest.mark.parametrize(
    ("enum", "word"),
    [
        (Status, words.status),
        (Action, words.action),
        (Level, words.level),
        (Source, words.source),
        (Urgency, words.urgency),
        (Role, words.role),
        (TaskState, words.task_state),
        (Satisfaction, words.satisfaction),
        (Light, words.light),
    ],
)
def test_every_loop_word_reads_in_chinese(chinese_app, enum: type[Enum], word) -> None:
    shown = {member: word(member) for member in enum}
    assert all(CJK.search(text) for text in shown.values()), shown
    # Stored values and enum members read the same.
    assert all(word(member.value) == text for member, text in shown.items())


def test_command_room_words(chinese_app) -> None:
    expected = {
        Action.ACCEPT: "受理",
        Action.REJECT: "不予受理",
        Action.MERGE: "合并",
        Action.DISPATCH: "派遣",
        Action.RETURN: "退单",
        Action.REQUEST_EXTENSION: "申请延期",
        Action.FEEDBACK: "反馈",
        Action.VERIFY_PASS: "核查通过",
        Action.VERIFY_FAIL: "核查不通过",
        Action.ESCALATE: "上报升级",
        Action.URGE: "督办",
        Action.REQUEST_PARK: "申请挂账",
        Action.ARCHIVE: "归档",
        Action.EVALUATE: "考核评价",
        Action.SELF_HANDLE: "自行处置",
    }
    assert {a: words.action(a) for a in expected} == expected
    assert (words.task_role(True), words.task_role(False)) == ("牵头", "协办")
    assert words.mask_phone("13812345678") == "138****5678"
    assert words.mask_phone("0570-1234567") == "057*****4567"


def test_the_translation_file_is_complete() -> None:
    root = ET.parse(TS).getroot()
    assert root.get("language") == "zh_CN"
    missing = []
    for context in root.iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None
            text = "".join(translation.itertext()).strip()
            if translation.get("type") in ("unfinished", "vanished", "obsolete") or not text:
                missing.append((name, message.findtext("source")))
    assert missing == []
    assert TS.with_suffix(".qm").stat().st_size > 0


def test_the_translation_file_is_in_step_with_the_code(tmp_path: Path) -> None:
    """Every string the code marks for translation is in the .ts file (run lupdate when not)."""
    lupdate = Path(sys.executable).with_name("pyside6-lupdate")
    if not lupdate.exists():
        pytest.skip("pyside6-lupdate is not installed next to this Python")
    fresh = tmp_path / "fresh.ts"
    subprocess.run(
        [str(lupdate), *SOURCES, "-ts", str(fresh), "-no-obsolete"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )

    def keys(path: Path) -> set[tuple[str | None, str | None]]:
        return {
            (context.findtext("name"), message.findtext("source"))
            for context in ET.parse(path).getroot().iter("context")
            for message in context.iter("message")
        }

    assert keys(fresh) - keys(TS) == set(), "run pyside6-lupdate and translate the new strings"
