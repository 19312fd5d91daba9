"""docs/reports.md against the code: its ten cases, rebuilt in a real store, give its figures.

The ten cases are the hand-built June 2025 cases of ``tests/unit/test_stats.py`` (A–H and M,
the ``june`` fixture) plus J, an accepted case not yet due. The expected figures are read from
the document's table — each row's working (``5 ÷ (8 − 1)``) is evaluated and must equal the value
printed beside it, and that value must equal what :class:`~sync.stats.core.Statistics` computes.
So the document can drift from neither its own arithmetic nor the code.
"""

from __future__ import annotations

import ast
import operator
import re
from pathlib import Path

import pytest

from sync.stats.core import Statistics
from sync.stats.definitions import DEFINITIONS
from sync.store import Store
from tests.conftest import Clock
from tests.unit.test_stats import JUNE, OP, ZW2, Story, _t, june  # noqa: F401 (june: fixture)

DOC = Path(__file__).resolve().parents[2] / "docs" / "reports.md"
ROW = re.compile(r"^\|\s*`(?P<key>[a-z_]+)`\s*\|(?P<rest>.*)\|\s*$")


@pytest.fixture
def ten(store: Store, clock: Clock, june: dict[str, str]) -> dict[str, str]:  # noqa: F811
    """The ``june`` cases A–H and M, and J: garbage, hotline, 张王村二格, accepted 19 June
    (handling due 24 June), not yet dispatched."""
    s = Story(store, clock)
    j = june["J"] = s.report(19, OP, "0301", ZW2, "hotline")
    s.at(19, 10).accept(j, OP)
    clock.now = _t(20, 12)
    return june


def doc_table() -> dict[str, tuple[str, str, str, str]]:
    """The figures table: key → (指标, Figure, working, value)."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            cells = [c.strip() for c in m["rest"].split("|")]
            assert len(cells) == 5, line
            zh, en, _cases, working, value = cells
            assert m["key"] not in rows, f"{m['key']} twice in docs/reports.md"
            rows[m["key"]] = (zh, en, working, value)
    return rows


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def evaluate(working: str) -> float:
    """The arithmetic of a working cell: numbers, + − × ÷ and brackets, nothing else."""
    text = working.replace("÷", "/").replace("−", "-").replace("×", "*")
    if not re.fullmatch(r"[\d\s+\-*/().]+", text):
        raise ValueError(f"not plain arithmetic: {working!r}")

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return walk(node.left) / walk(node.right)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return float(_OPS[type(node.op)](walk(node.left), walk(node.right)))
        raise ValueError(f"not plain arithmetic: {working!r}")

    return walk(ast.parse(text, mode="eval").body)


def stated(value: str) -> tuple[float, float]:
    """A printed value and its rounding tolerance: ``71.4%`` → (0.714, 0.0005)."""
    if value.endswith("%"):
        return float(value[:-1]) / 100, 0.0005
    decimals = len(value.split(".")[1]) if "." in value else 0
    return float(value), 0.5 * 10**-decimals


def test_the_table_covers_every_definition_by_its_own_names() -> None:
    table = doc_table()
    assert list(table) == [d.key for d in DEFINITIONS]
    for d in DEFINITIONS:
        zh, en, _, value = table[d.key]
        assert (zh, en) == (d.zh, d.en)
        assert value.endswith("%") is d.rate, f"{d.key}: a rate is printed as a percentage"


def test_each_working_gives_the_value_printed_beside_it() -> None:
    for key, (_, _, working, value) in doc_table().items():
        expected, tolerance = stated(value)
        assert evaluate(working) == pytest.approx(expected, abs=tolerance), key


def test_the_ten_cases_give_the_figures_the_document_states(
    store: Store, ten: dict[str, str]
) -> None:
    assert len(ten) == 10  # A–H, J and M
    figures = Statistics(store).figures(JUNE)
    for key, (_, _, working, value) in doc_table().items():
        expected, tolerance = stated(value)
        got = figures.value(key)
        assert got is not None, key
        assert got == pytest.approx(expected, abs=tolerance), f"{key}: code {got}, doc {value}"
        assert got == pytest.approx(evaluate(working)), f"{key}: code {got}, doc {working}"


def test_the_parser_rejects_anything_but_arithmetic() -> None:
    assert evaluate("(3 + 5 + 5 + 0 + 2) ÷ 5") == 3.0
    with pytest.raises(ValueError):
        evaluate("__import__('os')")
