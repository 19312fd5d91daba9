"""The monthly report: PDF and workbook from a real store, read back by independent tools.

The PDF is read by poppler's ``pdftotext`` (Debian package poppler-utils), the workbook by
openpyxl. Figures are those of the hand-built June 2025 of ``test_stats`` (worked out there).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sync.cli import main
from sync.stats.periods import Period
from sync.stats.report import collect, write
from sync.store import Store
from tests.unit.test_stats import june  # noqa: F401  (the fixture)

JUNE = Period.parse("2025-06")
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext (Debian package poppler-utils) is not installed: cannot read the PDF back",
)


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout


@needs_pdftotext
def test_pdf_has_the_headline_figures_in_extractable_chinese(
    store: Store,
    june: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    out = write(collect(store, JUNE), tmp_path / "月报.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    text = _text(out)
    assert "东华街道网格化治理统计报表（2025年6月）" in text
    for heading in ("主要指标", "按村（社区）", "承办部门排名", "统计口径", "化解率"):
        assert heading in text, heading
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line.split()}
    # 受理总量 8 this month, 1 in May, 0 a year ago.
    assert lines["受理总量"][1:3] == ["8", "1"]
    assert lines["办结率"][1] == "83.3%"  # 5 of (7 valid − 1 parked)
    assert lines["按期办结率"][1] == "80.0%"  # 4 of 5
    assert lines["平均办理时长（工作日）"][1] == "3.0"  # (3 + 5 + 5 + 0 + 2) / 5
    assert lines["超期件数"][1] == "2"
    # The font is embedded (a subset), A4 pages.
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True).stdout
    assert "WenQuanYiMicroHei" in fonts and " yes yes yes " in fonts
    assert "Helvetica" not in fonts  # no unembedded Latin base font
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert "(A4)" in info


def test_workbook_has_real_numbers_with_formats(
    store: Store,
    june: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    data = collect(store, JUNE)
    out = write(data, tmp_path / "月报.xlsx")
    wb = load_workbook(out)
    assert {"主要指标", "村(社区)", "承办部门", "承办部门排名", "统计口径"} <= set(wb.sheetnames)
    main_sheet = wb["主要指标"]
    rows = {r[0].value: r for r in main_sheet.iter_rows(min_row=2) if r[0].value}
    assert rows["受理总量"][1].value == 8 and rows["受理总量"][2].value == 1
    closure = rows["办结率"][1]
    assert closure.value == pytest.approx(5 / 6) and closure.number_format == "0.0%"
    assert rows["平均办理时长（工作日）"][1].value == pytest.approx(3.0)
    assert rows["满意率"][3].value is None  # no data a year ago: an empty cell, not "—"
    assert main_sheet.freeze_panes == "B2"
    dept = wb["承办部门"]
    header = [c.value for c in dept[1]]
    by_code = {r[0].value: r for r in dept.iter_rows(min_row=2)}
    assigned = header.index("承办")
    assert by_code["zhzf"][assigned].value == 3 and by_code["pcs"][assigned].value == 3
    on_time = by_code["zhzf"][header.index("按期反馈率")]
    assert on_time.value == pytest.approx(2 / 3) and on_time.number_format == "0.0%"
    ranks = wb["承办部门排名"]
    first = [c.value for c in ranks[2]]
    assert first[:2] == [1, "pcs"] and first[3] == pytest.approx(100.0)
    assert ranks.freeze_panes == "B2" and ranks["A1"].font.b  # a bold, frozen header
    assert [c.number_format for c in ranks[2]][:5] == ["0", "@", "General", "0.0", "#,##0"]
    rules = wb["统计口径"]
    assert rules["B3"].alignment.wrap_text and rules.column_dimensions["B"].width >= 100
    assert wb.properties.title == data.title and "2025" in data.title
    assert wb.properties.creator == "网格通·指挥室 Gridroom"
    assert not list(tmp_path.glob("*.part"))  # written aside and renamed into place


@needs_pdftotext
def test_the_command_writes_both_and_refuses_bad_input_in_plain_words(
    store_path: Path,
    store: Store,
    june: dict[str, str],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store.close()
    pdf, xlsx = tmp_path / "月报.pdf", tmp_path / "月报.xlsx"
    assert main(["report", "--db", str(store_path), "--period", "2025-06", "--out", str(pdf)]) == 0
    assert "办结率 83.3%" in capsys.readouterr().out
    assert "受理总量" in _text(pdf)
    args = ["report", "--db", str(store_path), "--period", "2025-06", "--out", str(xlsx)]
    assert main([*args, "--weights", '{"volume": 100}']) == 0
    assert load_workbook(xlsx)["主要指标"]["B2"].value == 8

    for bad, message in (
        (["--period", "June", "--out", str(pdf)], "is not a period"),
        (["--period", "2025-06", "--out", str(tmp_path / "r.docx")], ".pdf or .xlsx"),
        (["--period", "2025-06", "--out", str(tmp_path / "no" / "r.pdf")], "does not exist"),
        (["--period", "2025-06", "--out", str(pdf), "--weights", "{x"], "not valid JSON"),
    ):
        pdf.unlink(missing_ok=True)
        assert main(["report", "--db", str(store_path), *bad]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
        assert not pdf.exists()  # nothing half-written
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(
    "value, text", [(1.44, "+1.4"), (-0.04, "0.0"), (0.04, "0.0"), (0.0, "0.0"), (-2.25, "-2.2")]
)
def test_changes_are_signed_and_never_minus_zero(value: float, text: str) -> None:
    from sync.stats.report import signed

    assert signed(value) == text


def test_a_bad_county_weight_setting_is_named_in_plain_words(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open(store_path) as store:
        store.set_meta({"assessment_weights": '{"volume": "high"}'})
    out = tmp_path / "r.pdf"
    args = ["report", "--db", str(store_path), "--period", "2025-06", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "the county's assessment weights (assessment_weights)" in err
    assert "must be a number" in err and not out.exists()
    assert main([*args, "--weights", '{"volume": 5}']) == 0  # an explicit scheme still works


def test_an_empty_store_still_gets_a_report(store_path: Path, tmp_path: Path) -> None:
    with Store.open(store_path) as store:
        data = collect(store, JUNE)
        pdf = write(data, tmp_path / "空.pdf")
        xlsx = write(data, tmp_path / "空.xlsx")
    assert pdf.read_bytes().startswith(b"%PDF")
    sheet = load_workbook(xlsx)["主要指标"]
    assert sheet["B2"].value == 0 and sheet["B5"].value is None  # 受理总量 0, 办结率 no data
    if shutil.which("pdftotext"):
        assert "（无）" in _text(pdf)


def test_the_default_period_is_last_month() -> None:
    from sync.model.calendar import SHANGHAI
    from sync.model.clock import to_millis
    from sync.stats.report import today_month

    first_of_december = to_millis(dt.datetime(2026, 12, 1, 0, 30, tzinfo=SHANGHAI))
    assert today_month(first_of_december).text == "2026-11"
    assert today_month(to_millis(dt.datetime(2026, 1, 15, tzinfo=SHANGHAI))).text == "2025-12"
