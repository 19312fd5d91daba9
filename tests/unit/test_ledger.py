"""The case ledger (事件台账): export to .xlsx/.csv and import from hotline spreadsheets.

Real stores on temporary files, real spreadsheet files written and read back with openpyxl and
the csv module, and the real ``gridroom export`` / ``gridroom import`` commands.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from sync import cli
from sync.model.calendar import SHANGHAI
from sync.model.clock import to_millis
from sync.model.records import Actor, Role, Status
from sync.store import CaseQuery, Store, ledger, ledger_import
from sync.store.ledger import LEDGER_HEADERS, LedgerError, export_ledger
from sync.store.ledger_import import InvalidRows, import_ledger, parse_time, read_table
from tests.conftest import DONGHUAJIE, HUAIWANG, ZHANGWANG, Clock

# -- helpers ----------------------------------------------------------------------------------


def run_cli(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``gridroom ARGV`` in process; return (exit code, stdout, stderr)."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], *, sheets: int = 1) -> Path:
    """An .xlsx with ``rows`` on its first sheet (and empty extra sheets, as Excel makes)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "工单"
    for row in rows:
        ws.append(list(row))
    for n in range(2, sheets + 1):
        wb.create_sheet(f"Sheet{n}")
    wb.save(path)
    wb.close()
    return path


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], encoding: str, delimiter: str = ","
) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


HEADER = ["标题", "事件类型", "村/社区", "网格", "地址", "上报人", "联系电话", "上报时间", "描述"]
ROWS = [
    ["楼上漏水", "矛盾纠纷/邻里纠纷", "张王村", "", "张王村5号", "李四", "13900001111",
     "2025-06-01 14:05", "卫生间漏水到楼下"],
    ["路灯不亮", "民生服务/水电气维修", "", f"{ZHANGWANG}001", "村口", "王五", "0570-7654321",
     "2025/6/1 20:30", "路灯坏了三天"],
    ["垃圾乱堆", "环境卫生/垃圾堆放", "槐王村村民委员会", "槐王村第一网格", "", "", "",
     "2025年5月30日 8时15分", ""],
]  # fmt: skip


def all_cases(store: Store) -> list[dict[str, Any]]:
    return list(ledger.iter_case_rows(store, CaseQuery(sort="case_no", descending=False)))


def populate(store: Store, actors: dict[str, Actor], clock: Clock) -> dict[str, str]:
    """Cases in the states a ledger shows; returns their ids by name."""
    op, gw = actors["operator"], actors["grid_worker"]
    ids: dict[str, str] = {}
    ids["waiting"] = store.report(
        op,
        {
            "title": "邻居装修噪音",
            "category": "0101",
            "village_code": ZHANGWANG,
            "source": "hotline",
            "reporter_name": "赵六",
            "reporter_phone": "13812345678",
            "description": "晚上十点后\n还在施工",
        },
    ).case_id
    clock.advance(minutes=5)
    handling = store.report(
        op,
        {
            "title": "违规搭建雨棚",
            "category": "0402",
            "grid_id": f"{HUAIWANG}001",
            "source": "video",
        },
    )
    store.accept(handling.case_id, op)
    store.dispatch(handling.case_id, op, ("department", "zhzf"))
    ids["handling"] = handling.case_id
    clock.advance(minutes=5)
    done = store.report(
        gw,
        {"title": "路边垃圾", "category": "0301", "grid_id": f"{ZHANGWANG}001", "source": "patrol"},
        self_handled_result="已清理",
    )
    store.verify(done.case_id, op, True, "电话回访")
    store.archive(done.case_id, op)
    store.evaluate(done.case_id, op, 5, "satisfied")
    ids["evaluated"] = done.case_id
    clock.advance(minutes=5)
    rejected = store.report(
        op,
        {"title": "咨询社保", "category": "9901", "village_code": DONGHUAJIE, "urgency": "urgent"},
    )
    store.reject(rejected.case_id, op, "不属于受理范围")
    ids["rejected"] = rejected.case_id
    clock.advance(minutes=5)
    ids["formula"] = store.report(
        op, {"title": '=HYPERLINK("http://x")', "category": "0101", "village_code": ZHANGWANG}
    ).case_id
    return ids


def read_xlsx(path: Path) -> list[tuple[Any, ...]]:
    wb = load_workbook(path, read_only=True)
    try:
        return [tuple(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def by_title(rows: list[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    header = rows[0]
    # read-only openpyxl drops trailing empty cells: pad each row to the header's width.
    padded = [tuple(r) + (None,) * (len(header) - len(r)) for r in rows[1:]]
    return {r[1]: dict(zip(header, r, strict=True)) for r in padded}


# -- export -----------------------------------------------------------------------------------


def test_xlsx_export_has_chinese_words_shanghai_times_and_a_styled_frozen_header(
    store: Store, actors: dict[str, Actor], clock: Clock, tmp_path: Path
) -> None:
    populate(store, actors, clock)
    clock.advance(days=30)  # the open cases are long overdue now
    out = tmp_path / "台账.xlsx"
    result = export_ledger(store, out, CaseQuery())
    assert result.rows == 5 and not result.cancelled and out.exists()

    wb = load_workbook(out)
    ws = wb.active
    assert ws is not None
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:W6"
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("1F4E79")
    assert ws.column_dimensions["B"].width == 36
    assert ws["O2"].number_format == "yyyy-mm-dd hh:mm"
    formula_cell = next(c for c in ws["B"] if c.value == '=HYPERLINK("http://x")')
    assert formula_cell.data_type == "s"  # a resident's text is never run as a formula
    wb.close()

    rows = read_xlsx(out)
    assert rows[0] == LEDGER_HEADERS
    cases = by_title(rows)
    noise = cases["邻居装修噪音"]
    assert noise["状态"] == "待受理" and noise["来源"] == "12345热线"
    assert noise["大类"] == "矛盾纠纷" and noise["小类"] == "邻里纠纷"
    assert noise["村/社区"] == "张王村" and noise["层级"] == "乡镇/街道"
    assert noise["联系电话"] == "138****5678"  # personal data masked by default
    assert noise["上报时间"] == dt.datetime(2025, 6, 2, 9, 0)  # Shanghai wall time
    assert noise["是否超期"] == "是" and noise["描述"] == "晚上十点后\n还在施工"
    handling = cases["违规搭建雨棚"]
    assert handling["状态"] == "处置中" and handling["牵头单位"] == "综合行政执法中队"
    assert handling["网格"] == "槐王村第一网格" and handling["来源"] == "视频监控"
    assert handling["受理时间"] == dt.datetime(2025, 6, 2, 9, 5)
    assert handling["处置期限"] is not None
    evaluated = cases["路边垃圾"]
    assert evaluated["状态"] == "已评价" and evaluated["满意度"] == "满意"
    assert evaluated["是否按期"] == "是" and evaluated["是否超期"] == "否"
    assert evaluated["层级"] == "网格" and evaluated["来源"] == "网格员巡查"
    rejected = cases["咨询社保"]
    assert rejected["状态"] == "不予受理" and rejected["紧急程度"] == "紧急"
    assert rejected["是否超期"] is None  # not applicable to a dropped case


def test_csv_export_is_utf8_with_bom_and_quotes_formulas(
    store: Store, actors: dict[str, Actor], clock: Clock, tmp_path: Path
) -> None:
    populate(store, actors, clock)
    out = tmp_path / "ledger.csv"
    result = export_ledger(store, out, CaseQuery(), full_contacts=True)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel on Chinese Windows needs the BOM
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == LEDGER_HEADERS and len(rows) == result.rows + 1 == 6
    cases = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    noise = cases["邻居装修噪音"]
    assert noise["上报时间"] == "2025-06-02 09:00"
    assert noise["联系电话"] == "13812345678"  # --full-contacts
    assert noise["描述"] == "晚上十点后\n还在施工"
    assert '\'=HYPERLINK("http://x")' in cases  # quoted: Excel shows it, never runs it
    assert out.stat().st_mode & 0o044  # readable by others like any file the user saves


def test_export_follows_the_query_filter_and_order(
    store: Store, actors: dict[str, Actor], clock: Clock, tmp_path: Path
) -> None:
    ids = populate(store, actors, clock)
    query = CaseQuery(statuses=(Status.REPORTED.value,), sort="reported_at", descending=False)
    out = tmp_path / "waiting.csv"
    assert export_ledger(store, out, query).rows == 2
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"), newline="")))
    assert [r[1] for r in rows[1:]] == ["邻居装修噪音", '\'=HYPERLINK("http://x")']
    village = export_ledger(store, tmp_path / "v.csv", CaseQuery(village_code=HUAIWANG))
    assert village.rows == 1
    assert ids  # all five were created


def test_export_pages_through_ties_without_losing_or_repeating_a_case(
    store: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    # Seventeen cases with the same reported_at: only the rowid orders them within a page.
    with store.write():
        for n in range(17):
            store.report(
                actors["operator"],
                {"title": f"事件{n:02d}", "category": "0301", "village_code": ZHANGWANG},
            )
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> bool:
        seen.append((done, total))
        return True

    out = tmp_path / "ties.csv"
    result = export_ledger(store, out, CaseQuery(), progress, page_size=4)
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"), newline="")))
    titles = [r[1] for r in rows[1:]]
    assert result.rows == 17 and sorted(titles) == [f"事件{n:02d}" for n in range(17)]
    assert seen[-1] == (17, 17)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def _openpyxl_temps() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("openpyxl.")}


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_cancelled_export_leaves_no_file_and_keeps_the_old_one(
    store: Store, actors: dict[str, Actor], tmp_path: Path, suffix: str
) -> None:
    with store.write():
        for n in range(30):
            store.report(
                actors["operator"],
                {"title": f"事件{n}", "category": "0301", "village_code": ZHANGWANG},
            )
    out = tmp_path / f"ledger{suffix}"
    out.write_bytes(b"the previous export")
    temps_before = _openpyxl_temps()
    calls: list[int] = []

    def cancel_after_first_page(done: int, total: int) -> bool:
        calls.append(done)
        return False

    result = export_ledger(store, out, CaseQuery(), cancel_after_first_page, page_size=10)
    assert result.cancelled and calls == [10]
    assert out.read_bytes() == b"the previous export"
    assert _leftovers(tmp_path) == []
    assert _openpyxl_temps() <= temps_before  # openpyxl's own temp file is gone too


def test_xlsx_export_rolls_over_to_a_new_sheet_at_excels_row_limit(
    store: Store, actors: dict[str, Actor], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.write():
        for n in range(12):
            store.report(
                actors["operator"],
                {"title": f"事件{n}", "category": "0301", "village_code": ZHANGWANG},
            )
    monkeypatch.setattr(ledger, "XLSX_MAX_DATA_ROWS", 5)  # Excel's is 1,048,575
    out = tmp_path / "big.xlsx"
    result = export_ledger(store, out)
    assert result.rows == 12 and result.sheets == 3
    wb = load_workbook(out, read_only=True)
    try:
        assert wb.sheetnames == ["事件台账", "事件台账(2)", "事件台账(3)"]
        sizes = [sum(1 for _ in ws.iter_rows()) for ws in wb.worksheets]
        dimensions = [ws.max_row for ws in wb.worksheets]  # from <dimension>, for other readers
        heads = [next(ws.iter_rows(max_row=1, values_only=True)) for ws in wb.worksheets]
    finally:
        wb.close()
    assert sizes == dimensions == [6, 6, 3] and all(h == LEDGER_HEADERS for h in heads)


def test_export_memory_does_not_grow_with_the_number_of_cases(
    store: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    """Streaming: peak memory for 1,000 cases stays near that for 100 (pages of 25)."""
    op = actors["operator"]

    def add(n: int) -> None:
        with store.write():
            for i in range(n):
                store.report(
                    op, {"title": f"事件{i}", "category": "0301", "village_code": ZHANGWANG}
                )

    def peak(name: str) -> int:
        tracemalloc.start()
        try:
            export_ledger(store, tmp_path / name, page_size=25)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    add(100)
    export_ledger(store, tmp_path / "warm-up.xlsx")  # imports and caches out of the count
    small = peak("small.xlsx")
    add(900)
    large = peak("large.xlsx")
    # Holding all 1,000 rows would add megabytes (a row is a few KB as dicts and cells) to a
    # peak of about half a megabyte; streaming stays within noise.
    assert large < small * 2, (small, large)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("ledger.pdf", "not '.pdf'"),
        ("no/such/folder/ledger.xlsx", "does not exist"),
    ],
)
def test_export_refuses_unusable_destinations(
    store: Store, tmp_path: Path, name: str, words: str
) -> None:
    with pytest.raises(LedgerError, match=words):
        export_ledger(store, tmp_path / name)


def test_export_cli_filters_and_reports(
    store: Store,
    actors: dict[str, Actor],
    clock: Clock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    populate(store, actors, clock)
    out = tmp_path / "x.csv"
    code, stdout, _ = run_cli(
        ["export", "--db", str(store.path), "--out", str(out), "--status", "待受理,处置中",
         "--village", "张王村", "--from", "2025-06-02", "--to", "2025-06-02"],
        capsys,
    )  # fmt: skip
    assert code == 0 and "Exported 2 cases" in stdout
    code, _, err = run_cli(
        ["export", "--db", str(store.path), "--out", str(out), "--status", "忙碌"], capsys
    )
    assert code == 2 and "'忙碌' is not a status" in err
    code, _, err = run_cli(
        ["export", "--db", str(store.path), "--out", str(out), "--village", "张王"], capsys
    )
    assert code == 2 and "did you mean 张王村" in err
    code, _, err = run_cli(
        ["export", "--db", str(store.path), "--out", str(out), "--from", "6/2"], capsys
    )
    assert code == 2 and "is not a date" in err


# -- import: formats --------------------------------------------------------------------------


def test_import_xlsx_with_a_title_row_aliases_and_mixed_date_formats(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_xlsx(
        tmp_path / "hotline.xlsx",
        [
            ["12345热线工单明细（2025年6月）"],  # a merged title row above the header
            ["序号", "*事件标题", "事件分类", "村（社区）", "所属网格", "事发地点", "来电人",
             "来电号码", "来电时间", "诉求内容", "紧急程度", "来源"],
            [1, "楼上漏水", "矛盾纠纷/邻里纠纷", "张王村", None, "张王村5号", "李四", 13900001111,
             dt.datetime(2025, 6, 1, 14, 5), "卫生间漏水", "一般", None],
            [2, "路灯不亮", "民生服务／水电气维修", "330825002222", "330825002222001", None, None,
             None, "20250601", None, "紧急", "村情通"],
            [],
            [3, "鱼塘偷捕", "非法捕捞", "槐王村", None, None, None, None, 45808.5, None, None,
             "视频"],
        ],
        sheets=2,
    )  # fmt: skip
    code, out, err = run_cli(["import", "--db", str(store.path), str(path)], capsys)
    assert code == 0, err
    assert "3 imported, 0 already present, 0 invalid" in out
    assert "Ignored columns: 序号" in out
    cases = {c["title"]: c for c in all_cases(store)}
    leak = store.case_row(cases["楼上漏水"]["id"])
    assert leak is not None
    assert leak["category"] == "0101" and leak["village_code"] == ZHANGWANG
    assert leak["reporter_phone"] == "13900001111" and leak["source"] == "hotline"
    assert leak["reported_at"] == to_millis(dt.datetime(2025, 6, 1, 14, 5, tzinfo=SHANGHAI))
    assert leak["reporter_id"] == ledger_import.default_importer(store).id
    light = store.case_row(cases["路灯不亮"]["id"])
    assert light is not None
    assert light["grid_code"] == f"{ZHANGWANG}001" and light["urgency"] == "urgent"
    assert light["source"] == "resident_app" and light["category"] == "0604"
    assert light["reported_at"] == to_millis(dt.datetime(2025, 6, 1, tzinfo=SHANGHAI))
    fish = store.case_row(cases["鱼塘偷捕"]["id"])
    assert fish is not None
    assert fish["category"] == "0801" and fish["source"] == "video"
    # Excel serial 45808.5 is 2025-05-31 12:00.
    assert fish["reported_at"] == to_millis(dt.datetime(2025, 5, 31, 12, tzinfo=SHANGHAI))
    assert store.read("SELECT count(*) FROM imported_rows")[0][0] == 3


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ","), ("utf-8", ","), ("gbk", ","), ("gb18030", ";"), ("utf-16", "\t")],
)
def test_import_csv_in_every_encoding_excel_writes(
    store: Store, tmp_path: Path, encoding: str, delimiter: str
) -> None:
    rows = [HEADER, *ROWS]
    if encoding == "gb18030":
        # 䶮 is outside GBK: only a real GB18030 reading gets it right.
        rows = [HEADER, [*ROWS[0][:5], "刘䶮", *ROWS[0][6:]]]
    path = write_csv(tmp_path / "cases.csv", rows, encoding, delimiter)
    result = import_ledger(store, path)
    assert len(result.imported) == len(rows) - 1
    titles = {c["title"] for c in all_cases(store)}
    assert titles == {r[0] for r in rows[1:]}
    if encoding == "gb18030":
        row = store.case_row(result.imported[0][1])
        assert row is not None and row["reporter_name"] == "刘䶮"
        assert result.encoding == "gb18030"


def test_separate_major_and_minor_columns_and_major_alone(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "dept.csv",
        [
            ["标题", "大类", "小类", "村/社区"],
            ["食品过期", "市场监管", "食品安全", "东华街社区"],
            ["其他事项", "应急处置", "", "东华街社区"],
            ["无证经营", "", "无证经营", "东华街社区"],
        ],
        "utf-8",
    )
    import_ledger(store, path, source="department")
    got = {c["title"]: (c["category"], c["source"]) for c in all_cases(store)}
    assert got == {
        "食品过期": ("0701", "department"),
        "其他事项": ("09", "department"),
        "无证经营": ("0702", "department"),
    }


def test_category_codes_typed_as_numbers_keep_their_leading_zero(
    store: Store, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "codes.xlsx",
        [["标题", "事件类型", "村/社区"], ["垃圾", 301, "张王村"], ["纠纷", 1, "张王村"]],
    )
    import_ledger(store, path)
    assert {c["title"]: c["category"] for c in all_cases(store)} == {"垃圾": "0301", "纠纷": "01"}


def test_title_comes_from_the_description_when_the_sheet_has_none(
    store: Store, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "no-title.csv",
        [
            ["诉求内容", "问题类型", "村社区"],
            ["小区门口下水道堵塞，污水外溢。请尽快处理", "环境卫生/污水排放", "东华街社区"],
        ],
        "utf-8",
    )
    import_ledger(store, path)
    (case,) = all_cases(store)
    assert case["title"] == "小区门口下水道堵塞，污水外溢"


def test_a_ledger_exported_with_full_contacts_imports_into_another_store(
    store: Store, actors: dict[str, Actor], clock: Clock, tmp_path: Path
) -> None:
    populate(store, actors, clock)
    out = tmp_path / "ledger.xlsx"
    export_ledger(store, out, CaseQuery(), full_contacts=True)
    other_path = tmp_path / "other.db"
    with Store.create(other_path, scope=store.scope, clock=clock) as other:
        from tests.conftest import ACCOUNTS, DEPARTMENTS, GRIDS

        other.put_grids(GRIDS)
        other.put_departments(DEPARTMENTS)
        other.put_accounts(ACCOUNTS.values())
        result = import_ledger(other, out, actor=actors["supervisor"])
        assert len(result.imported) == 5
        assert "事件编号" in result.ignored_columns and "状态" in result.ignored_columns
        # A case without a source comes back as the import's default source, 12345.
        mine = {(c["title"], c["category"], c["village_code"], c["grid_code"],
                 c["source"] or "hotline", c["reported_at"]) for c in all_cases(store)}  # fmt: skip
        theirs = {(c["title"], c["category"], c["village_code"], c["grid_code"], c["source"],
                   c["reported_at"]) for c in all_cases(other)}  # fmt: skip
        assert theirs == mine


# -- import: duplicates and transactions ------------------------------------------------------


def test_reimporting_the_same_rows_in_any_order_creates_no_duplicates(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_csv(tmp_path / "a.csv", [HEADER, *ROWS], "utf-8-sig")
    code, out, _ = run_cli(["import", "--db", str(store.path), str(first)], capsys)
    assert code == 0 and "3 imported, 0 already present" in out
    # The same rows re-sent: other order, GBK, extra spaces, the village by code, as xlsx.
    resent = [list(r) for r in reversed(ROWS)]
    resent[2][0] = "  楼上漏水 "
    resent[2][2] = ZHANGWANG
    again = write_xlsx(tmp_path / "b.xlsx", [["工单号", *HEADER], *[["X", *r] for r in resent]])
    code, out, _ = run_cli(["import", "--db", str(store.path), str(again)], capsys)
    assert code == 0 and "0 imported, 3 already present, 0 invalid" in out
    changed = write_csv(
        tmp_path / "c.csv", [HEADER, ROWS[0], [*ROWS[1][:4], "村东口", *ROWS[1][5:]]], "gbk"
    )
    code, out, _ = run_cli(["import", "--db", str(store.path), str(changed)], capsys)
    assert code == 0 and "1 imported, 1 already present" in out
    assert store.count() == 4


def test_a_row_repeated_within_the_file_is_imported_once(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dup.csv", [HEADER, ROWS[0], ROWS[1], ROWS[0]], "utf-8")
    result = import_ledger(store, path)
    assert [r for r, _, _ in result.imported] == [2, 3]
    assert result.present == [(4, "row 2")]
    assert store.count() == 2


def test_the_same_row_from_another_source_is_another_case(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [HEADER, ROWS[0]], "utf-8")
    import_ledger(store, path, source="hotline")
    result = import_ledger(store, path, source="department")
    assert len(result.imported) == 1 and store.count() == 2


def test_a_cancelled_import_rolls_back_every_row(
    store: Store, tmp_path: Path, store_digest: Callable[[Path], str]
) -> None:
    rows = [HEADER, *[[f"事件{n}", *ROWS[0][1:]] for n in range(250)]]
    path = write_csv(tmp_path / "many.csv", rows, "utf-8")
    seen: list[int] = []

    def cancel_at_200(done: int, total: int) -> bool:
        seen.append(done)
        return done < 200

    result = import_ledger(store, path, progress=cancel_at_200)
    assert result.cancelled and result.imported == [] and seen == [100, 200]
    assert store.count() == 0
    assert store.read("SELECT count(*) FROM imported_rows")[0][0] == 0
    assert store.outbox_size() == 0
    # ... and the same file then imports completely.
    assert len(import_ledger(store, path).imported) == 250


def test_a_row_the_closed_loop_refuses_is_invalid_and_the_rest_follows_the_flag(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's rules have the last word: here they know fewer categories than the sheet."""
    from sync.model.taxonomy import Taxonomy, default_taxonomy
    from sync.model.workflow import Rules

    fewer = Taxonomy(c for c in default_taxonomy() if not c.code.startswith("06"))
    monkeypatch.setattr(store, "rules", Rules(fewer))
    path = write_csv(tmp_path / "a.csv", [HEADER, *ROWS], "utf-8")  # row 3 is 民生服务 (06)
    with pytest.raises(InvalidRows) as caught:
        import_ledger(store, path)
    assert [str(e) for e in caught.value.errors] == ["row 3: unknown category '0604'"]
    assert store.count() == 0  # the rows reported before it were rolled back
    result = import_ledger(store, path, skip_invalid=True)
    assert [r for r, _, _ in result.imported] == [2, 4]
    assert [e.row for e in result.invalid] == [3] and store.count() == 2


def test_imported_cases_are_in_the_outbox_for_sync(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [HEADER, *ROWS], "utf-8")
    import_ledger(store, path)
    assert store.outbox_size() == 3


# -- import: validation -----------------------------------------------------------------------


def test_invalid_rows_are_listed_in_plain_words_and_nothing_is_imported(
    store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    store_digest: Callable[[Path], str],
) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        [
            HEADER,
            ROWS[0],
            ["", "矛盾纠纷/邻里纠纷", "张王村", "", "", "", "", "", ""],
            ["噪音", "矛盾纠纷/邻里", "张王", "", "", "", "", "", ""],
            ["噪音", "消防", "张王村", "", "", "", "138-abc", "昨天", ""],
            ["噪音", "矛盾纠纷/邻里纠纷", "张王村", "槐王村第一网格", "", "", "", "2025-02-30", ""],
            ["噪音", "矛盾纠纷/邻里纠纷", "槐王村", "", "", "", "", "2031-01-01 08:00", ""],
            ["噪音", "安全隐患/消防隐患", "330825999999", "", "", "", "138****5678", "", ""],
        ],
        "utf-8",
    )
    before = store_digest(store.path)
    code, out, err = run_cli(["import", "--db", str(store.path), str(path)], capsys)
    assert code == 2 and out == ""
    assert "6 of 7 rows are not valid, so nothing was imported" in err
    expected = [
        "row 3: 标题 is empty",
        "row 4: 事件类型 '邻里' is not a 小类 of 矛盾纠纷 (it has: 邻里纠纷、",
        "row 4: 村/社区 '张王' matches no village in this township (did you mean 张王村?)",
        "row 5: 事件类型 '消防' matches no category (did you mean 安全隐患/消防隐患",
        "row 5: 联系电话 '138-abc' is not a phone number",
        "row 5: 上报时间 '昨天' is not a date and time like 2026-11-22 14:05",
        "row 6: 网格 '槐王村第一网格' matches no grid of 张王村",
        "row 6: 上报时间 '2025-02-30' is not a real date and time",
        "row 7: 上报时间 '2031-01-01 08:00' is in the future (now ",  # the CLI's clock is real
        "row 8: 村/社区 code '330825999999' is not a village of this store's area",
        "row 8: 联系电话 '138****5678' is masked",
    ]
    for line in expected:
        assert line in err, line
    assert store_digest(store.path) == before


def test_skip_invalid_imports_the_valid_rows_and_lists_the_rest(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        [HEADER, ROWS[0], ["噪音", "消防隐患", "张王", *[""] * 6], ROWS[1]],
        "utf-8",
    )
    code, out, err = run_cli(
        ["import", "--db", str(store.path), str(path), "--skip-invalid"], capsys
    )
    assert code == 0
    assert "2 imported, 0 already present, 1 invalid" in out
    assert "row 3: 村/社区 '张王' matches no village" in err
    assert store.count() == 2


def test_ambiguous_grid_names_need_the_village(store: Store, tmp_path: Path) -> None:
    from sync.model.records import Grid, GridKind

    store.put_grids(
        [
            Grid(f"{ZHANGWANG}003", f"{ZHANGWANG}003", "第三网格", ZHANGWANG, GridKind.RURAL, 1, 1),
            Grid(f"{HUAIWANG}003", f"{HUAIWANG}003", "第三网格", HUAIWANG, GridKind.RURAL, 1, 1),
        ]
    )
    path = write_csv(
        tmp_path / "g.csv",
        [
            ["标题", "事件类型", "村/社区", "网格"],
            ["a", "0101", "", "第三网格"],
            ["b", "0101", "槐王村", "第三网格"],
        ],
        "utf-8",
    )
    with pytest.raises(InvalidRows) as caught:
        import_ledger(store, path)
    (error,) = caught.value.errors
    assert error.row == 2 and "matches 2 grids" in str(error) and "add 村/社区" in str(error)
    result = import_ledger(store, path, skip_invalid=True)
    (row,) = result.imported
    case = store.case_row(row[1])
    assert case is not None and case["grid_code"] == f"{HUAIWANG}003"


def test_import_as_another_account_and_refusals(
    store: Store, actors: dict[str, Actor], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "a.csv", [HEADER, ROWS[0]], "utf-8")
    db = str(store.path)
    code, _, err = run_cli(["import", "--db", db, str(path), "--as", "nobody"], capsys)
    assert code == 2 and "There is no account 'nobody'" in err and "op-wang (王丽, operator)" in err
    code, _, err = run_cli(["import", "--db", db, str(path), "--as", "admin-county"], capsys)
    assert code == 2 and "is a county_admin, which may not report cases" in err
    code, out, _ = run_cli(["import", "--db", db, str(path), "--as", "sup-li"], capsys)
    assert code == 0 and "reported as 李建国 (sup-li)" in out
    (case,) = all_cases(store)
    row = store.case_row(case["id"])
    assert row is not None and row["reporter_id"] == "sup-li"


def test_the_default_importer_is_the_first_operator(store: Store) -> None:
    first = store.accounts(Role.OPERATOR)[0]
    assert ledger_import.default_importer(store) == first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-01 14:05", dt.datetime(2025, 6, 1, 14, 5)),
        ("2025/6/1 14:05:30", dt.datetime(2025, 6, 1, 14, 5, 30)),
        ("2025.06.01", dt.datetime(2025, 6, 1)),
        ("2025年6月1日 14时05分", dt.datetime(2025, 6, 1, 14, 5)),
        ("2025年6月1日14点", dt.datetime(2025, 6, 1, 14)),
        ("20250601", dt.datetime(2025, 6, 1)),
        ("2025-06-01T14:05:00", dt.datetime(2025, 6, 1, 14, 5)),
        ("２０２５－０６－０１　１４：０５", dt.datetime(2025, 6, 1, 14, 5)),
        (45808.5, dt.datetime(2025, 5, 31, 12)),
        (dt.datetime(2025, 6, 1, 14, 5), dt.datetime(2025, 6, 1, 14, 5)),
        (dt.date(2025, 6, 1), dt.datetime(2025, 6, 1)),
    ],
)
def test_parse_time_reads_the_formats_chinese_sheets_use(text: Any, expected: dt.datetime) -> None:
    assert parse_time(text) == to_millis(expected.replace(tzinfo=SHANGHAI))


@pytest.mark.parametrize("text", ["昨天", "2025-13-01", "14:05", "2025-06", "12", "", True])
def test_parse_time_refuses_what_is_not_a_date(text: Any) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_time(text)


def test_read_table_finds_the_header_on_a_later_sheet(tmp_path: Path) -> None:
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = "填表说明"
    info.append(["请按模板填写"])
    data = wb.create_sheet("数据")
    data.append(HEADER)
    data.append(ROWS[0])
    wb.save(tmp_path / "two.xlsx")
    wb.close()
    table = read_table(tmp_path / "two.xlsx")
    assert table.sheet == "数据" and table.header_row == 1 and len(table.rows) == 1


def test_two_columns_meaning_the_same_field_are_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "x.csv",
        [["标题", "事件标题", "事件类型", "村/社区"], ["a", "b", "0101", "张王村"]],
        "utf-8",
    )
    with pytest.raises(LedgerError, match="'标题' and '事件标题' both mean 标题"):
        read_table(path)


# -- docs as tests ----------------------------------------------------------------------------


def test_docs_list_every_ledger_column_and_accepted_header() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "ledger.md").read_text("utf-8")
    for header in LEDGER_HEADERS:
        assert f"| {header} |" in text, header
    for field, aliases in ledger_import.COLUMN_ALIASES.items():
        # The import table's row for the field (the export table has rows of the same name).
        lines = [ln for ln in text.splitlines() if ln.startswith(f"| {field} |")]
        for alias in aliases:
            assert any(alias in ln.split("|")[2] for ln in lines), (field, alias)
    for word in ledger.STATUS_WORDS.values():
        assert word in text, word


def _xlsxwriter_scratch() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("gridroom-ledger-")}


@pytest.mark.parametrize("cancel", [True, False])
def test_xlsx_export_removes_its_scratch_folder_whether_saved_or_cancelled(
    store: Store, actors: dict[str, Actor], tmp_path: Path, cancel: bool
) -> None:
    """XlsxWriter's constant-memory row files live in a scratch folder that never outlives
    the export, and a million-row ledger still reads back with openpyxl, formulas as text."""
    with store.write():
        for n in range(30):
            store.report(
                actors["operator"],
                {"title": f"=SUM(A{n})", "category": "0301", "village_code": ZHANGWANG},
            )
    before = _xlsxwriter_scratch()
    out = tmp_path / "ledger.xlsx"
    result = export_ledger(store, out, CaseQuery(), lambda done, total: not cancel, page_size=10)
    assert result.cancelled is cancel and _xlsxwriter_scratch() <= before
    assert out.exists() is not cancel and _leftovers(tmp_path) == []
    if not cancel:
        titles = sorted(r[1] for r in read_xlsx(out)[1:])
        assert titles == sorted(f"=SUM(A{n})" for n in range(30))


def test_xlsx_export_drops_control_characters_xml_cannot_hold(
    store: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    """A title pasted with control characters still exports; tabs and newlines are kept."""
    store.report(
        actors["operator"],
        {
            "title": "井盖\x01缺失\x0b",
            "description": "第一行\n第二行\t完",
            "category": "0301",
            "village_code": ZHANGWANG,
        },
    )
    out = tmp_path / "ctl.xlsx"
    assert export_ledger(store, out).rows == 1
    case = by_title(read_xlsx(out))["井盖缺失"]
    assert case["描述"] == "第一行\n第二行\t完"
