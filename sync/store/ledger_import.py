"""Cases from a 12345-hotline or department spreadsheet: reading, checking, filing.

:func:`import_ledger` reads an ``.xlsx`` or a ``.csv`` (UTF-8, GBK/GB18030 or UTF-16, detected),
finds its header row, validates every row first, and files the valid ones through the command
API (:meth:`Store.report`) in **one** transaction: a file goes in whole or not at all, a crash or
a full disk half-way leaves the store as it was, and one ``fsync`` instead of one per row keeps a
few thousand rows quick (the write lock is held meanwhile: about 1,500 rows a second). Each
imported row's key — a hash of its normalised content and its source — goes into
``imported_rows`` in the same transaction, so a re-sent file, in any row order, creates no
duplicates. The accepted columns are documented in ``docs/ledger.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import itertools
import json
import re
import sys
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.calendar import SHANGHAI
from ..model.clock import Millis, to_millis
from ..model.divisions import short_name
from ..model.records import Action, Actor, Role, Source, Urgency
from ..model.workflow import ROLES, Refused
from .ledger import SOURCE_WORDS, LedgerError, ProgressFn, shanghai_time

if TYPE_CHECKING:
    from .store import Store


class InvalidRows(LedgerError):
    """Rows that failed validation; nothing was imported. ``errors`` lists them all."""

    def __init__(self, errors: Sequence[RowError], total: int) -> None:
        self.errors = list(errors)
        self.total = total
        rows = len({e.row for e in self.errors})
        super().__init__(
            f"{rows} of {total} rows are not valid, so nothing was imported "
            "(fix them, or import the valid rows with --skip-invalid)"
        )


# =================================================================================================
# Reading a spreadsheet
# =================================================================================================

#: Accepted headers for each field, canonical name first. Matching ignores spaces, full-width
#: forms, a leading ``*`` (required marker) and a trailing ``(必填)``.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "标题": ("标题", "事件标题", "事项标题", "诉求标题", "工单标题", "主题"),
    "事件类型": ("事件类型", "事件分类", "事件类别", "问题类型", "问题分类", "类型", "分类"),
    "大类": ("大类", "一级分类", "事件大类"),
    "小类": ("小类", "二级分类", "事件小类"),
    "村/社区": ("村/社区", "村社区", "村(社区)", "所属村社", "所属村(社区)", "村居", "村社", "村"),
    "网格": ("网格", "所属网格", "网格名称", "网格编码", "网格编号"),
    "地址": ("地址", "事发地址", "事发地点", "详细地址", "发生地址", "地点"),
    "来源": ("来源", "事件来源", "信息来源", "来源渠道", "渠道"),
    "紧急程度": ("紧急程度", "是否紧急", "缓急程度", "紧急"),
    "上报人": ("上报人", "反映人", "来电人", "诉求人", "联系人", "报告人"),
    "联系电话": ("联系电话", "电话", "手机", "手机号", "手机号码", "来电号码", "联系方式"),
    "上报时间": ("上报时间", "来电时间", "反映时间", "登记时间", "受理登记时间", "报告时间"),
    "描述": ("描述", "事件描述", "问题描述", "诉求内容", "详细描述", "内容", "事件内容"),
}
_ALIAS_TO_FIELD = {a: canonical for canonical, aliases in COLUMN_ALIASES.items() for a in aliases}
#: Each requirement is met by any one of its columns.
REQUIRED_COLUMNS: tuple[tuple[str, ...], ...] = (
    ("标题", "描述"),
    ("事件类型", "大类"),
    ("村/社区", "网格"),
)
HEADER_SCAN_ROWS = 10
TITLE_LIMIT = 200


def _header_key(text: Any) -> str:
    key = unicodedata.normalize("NFKC", "" if text is None else str(text))
    key = re.sub(r"\s+", "", key).lstrip("*").replace("（", "(").replace("）", ")")
    return re.sub(r"\((必填|选填|可选)\)$", "", key)


@dataclass
class Table:
    """A spreadsheet read into memory: where its header was, which columns mean what."""

    path: Path
    kind: str  # "xlsx" | "csv"
    encoding: str | None
    sheet: str | None
    header_row: int
    columns: dict[str, int]  # field → 0-based column index
    headers: list[str]  # the header row as found
    ignored: list[str]  # headers that match no field
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cells)

    def cell(self, cells: list[Any], name: str) -> Any:
        index = self.columns.get(name)
        if index is None or index >= len(cells):
            return None
        return cells[index]


def read_table(path: Path | str) -> Table:
    """Read a ledger spreadsheet (.xlsx, or .csv in UTF-8/GBK) and find its header row.

    Raises :class:`LedgerError` in plain words for a file that is missing, empty, not a
    spreadsheet (a renamed PDF or web page, an old .xls), damaged, or lacks the needed columns.
    """
    path = Path(path)
    label = path.name
    try:
        if path.is_dir():
            raise LedgerError(f"{label} is a folder, not a spreadsheet.")
        with path.open("rb") as fh:
            head = fh.read(8)
        size = path.stat().st_size
    except FileNotFoundError:
        raise LedgerError(f"{path} does not exist.") from None
    except PermissionError:
        raise LedgerError(f"{path} cannot be read: permission denied.") from None
    except OSError as exc:
        raise LedgerError(f"{path} cannot be opened: {exc.strerror or exc}.") from None
    if size == 0:
        raise LedgerError(f"{label} is empty (0 bytes).")
    if head.startswith(b"PK\x03\x04"):
        return _read_xlsx(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise LedgerError(
            f"{label} is an old Excel 97-2003 workbook (.xls) or a password-protected one. "
            "Open it in Excel or WPS and save it as .xlsx (without a password) or as CSV."
        )
    for magic, what in (
        (b"%PDF", "a PDF document"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"SQLite f", "a database file (a Gridroom store?)"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"Rar!", "a RAR archive"),
    ):
        if head.startswith(magic):
            raise LedgerError(f"{label} is {what}, not a spreadsheet: use .xlsx or .csv.")
    return _read_csv(path)


def _read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    label = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise LedgerError(
            f"{label} looks like an Excel workbook but is damaged and cannot be read ({exc})."
        ) from None
    if "xl/workbook.xml" not in members:
        what = "a Word document" if "word/document.xml" in members else "a ZIP archive"
        raise LedgerError(f"{label} is {what}, not an Excel workbook (.xlsx).")
    try:
        # openpyxl warns about features it drops (data validation, default styles) from other
        # tools' files; those do not matter here and would otherwise reach the user as noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise LedgerError(
            f"{label} looks like an Excel workbook but is damaged and cannot be read ({exc})."
        ) from None
    try:
        # Each sheet's first rows show whether it holds the cases; only that sheet is read whole.
        candidates: list[Table | LedgerError] = []
        for ws in wb.worksheets:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rows = ws.iter_rows(values_only=True)
                    head = [list(r) for r in itertools.islice(rows, HEADER_SCAN_ROWS)]
                    probe = _table_from_rows(path, "xlsx", None, ws.title, head)
                    if not _missing_columns(probe.columns):
                        raw = head + [list(r) for r in rows]
                        return _table_from_rows(path, "xlsx", None, ws.title, raw)
                    candidates.append(probe)
            except LedgerError as exc:  # an empty "Sheet2" must not spoil a good "Sheet1"
                candidates.append(exc)
            except Exception as exc:  # openpyxl raises many kinds on a damaged sheet
                raise LedgerError(
                    f"{label}: the sheet {ws.title!r} is damaged and cannot be read ({exc})."
                ) from None
    finally:
        wb.close()
    if not candidates:
        raise LedgerError(f"{label} has no worksheets.")
    # No sheet has every needed column: say what the first one lacks.
    first = candidates[0]
    if isinstance(first, LedgerError):
        raise first
    _raise_for_columns(first, several=len(candidates) > 1)
    raise AssertionError("unreachable")


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in: UTF-8 (BOM or not), UTF-16, GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a BOM, tab separated.
        return data.decode("utf-16"), "utf-16"
    if b"\x00" in data[:4096]:
        raise LedgerError(
            f"{path.name} is not a spreadsheet (it holds binary data): use .xlsx or .csv."
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, what Excel on Chinese Windows writes.
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise LedgerError(
            f"{path.name}: cannot tell its text encoding (it is neither UTF-8 nor GBK/GB18030). "
            "Save it from Excel as .xlsx or as 'CSV UTF-8'."
        ) from None


def _read_csv(path: Path) -> Table:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LedgerError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    text, encoding = _decode(path, data)
    probe = text.lstrip()[:200].lower()
    if probe.startswith(("<!doctype html", "<html", "<table", "<?xml", "<head", "<body")):
        raise LedgerError(
            f"{path.name} is a web page (HTML), not a spreadsheet — some systems export HTML "
            "under a spreadsheet name. Open it in Excel or WPS and save it as .xlsx."
        )
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        raw = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise LedgerError(f"{path.name} is not a readable CSV file ({exc}).") from None
    table = _table_from_rows(path, "csv", encoding, None, raw)
    _raise_for_columns(table, several=False)
    return table


def _table_from_rows(
    path: Path, kind: str, encoding: str | None, sheet: str | None, raw: list[list[Any]]
) -> Table:
    """Find the header among the first rows (a title row often sits above it)."""
    best: tuple[int, int, dict[str, int], list[str]] | None = None  # (score, index, cols, hdr)
    first_nonempty: int | None = None
    for index, cells in enumerate(raw[:HEADER_SCAN_ROWS]):
        if _blank(cells):
            continue
        if first_nonempty is None:
            first_nonempty = index
        columns: dict[str, int] = {}
        for col, value in enumerate(cells):
            name = _ALIAS_TO_FIELD.get(_header_key(value))
            if name is not None and name not in columns:
                columns[name] = col
        score = len(columns)
        if score >= 2 and (best is None or score > best[0]):
            best = (score, index, columns, [_cell_text(v) for v in cells])
    if best is None:
        if first_nonempty is None:
            raise LedgerError(f"{path.name}{_sheet_words(sheet)} is empty: no rows at all.")
        index = first_nonempty
        headers = [_cell_text(v) for v in raw[index]]
        columns = {}
        for col, value in enumerate(raw[index]):
            name = _ALIAS_TO_FIELD.get(_header_key(value))
            if name is not None:
                columns.setdefault(name, col)
    else:
        _, index, columns, headers = best
    duplicated = _duplicate_fields(raw[index])
    if duplicated:
        raise LedgerError(f"{path.name}{_sheet_words(sheet)}: {duplicated}")
    ignored = [h for h in headers if h and _ALIAS_TO_FIELD.get(_header_key(h)) is None]
    rows = [
        (number, list(cells))
        for number, cells in enumerate(raw[index + 1 :], start=index + 2)
        if not _blank(cells)
    ]
    return Table(path, kind, encoding, sheet, index + 1, columns, headers, ignored, rows)


def _duplicate_fields(cells: list[Any]) -> str:
    seen: dict[str, str] = {}
    for value in cells:
        name = _ALIAS_TO_FIELD.get(_header_key(value))
        if name is None:
            continue
        if name in seen:
            return (
                f"the columns {seen[name]!r} and {_cell_text(value)!r} both mean {name}; "
                "keep only one of them."
            )
        seen[name] = _cell_text(value)
    return ""


def _missing_columns(columns: dict[str, int]) -> list[str]:
    return [
        " or ".join(group) for group in REQUIRED_COLUMNS if not any(c in columns for c in group)
    ]


def _raise_for_columns(table: Table, *, several: bool) -> None:
    missing = _missing_columns(table.columns)
    if not missing:
        return
    found = ", ".join(h for h in table.headers if h) or "nothing"
    where = " (first sheet)" if several else ""
    raise LedgerError(
        f"{table.path.name}{_sheet_words(table.sheet)}{where}: no usable header row — missing the "
        f"column(s) {'; '.join(missing)}. Found in row {table.header_row}: {found}. "
        "See docs/ledger.md for the accepted column names."
    )


def _sheet_words(sheet: str | None) -> str:
    return f" (sheet {sheet!r})" if sheet else ""


def _blank(cells: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in cells)


def _cell_text(value: Any) -> str:
    """A cell as text: integral floats without '.0' (phone numbers typed as numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value).strip()
    # Our own CSV export quotes a leading = + - @ with an apostrophe; take it off again.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


def _key_text(value: Any) -> str:
    """Text for matching names and codes: full-width forms folded, spaces removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", _cell_text(value)))


# =================================================================================================
# Validating rows
# =================================================================================================


@dataclass(frozen=True)
class RowError:
    """Why one spreadsheet row cannot be imported."""

    row: int
    column: str  # the Chinese column name, or "" for the whole row
    message: str

    def __str__(self) -> str:
        where = f"{self.column} " if self.column else ""
        return f"row {self.row}: {where}{self.message}"


@dataclass
class ValidRow:
    """A row ready to report: the case fields, when it was reported, and its dedup key."""

    row: int
    fields: dict[str, Any]
    reported_at: Millis | None
    key: str


class _RowProblem(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


_SOURCE_ALIASES: dict[Source, tuple[str, ...]] = {
    Source.HOTLINE: ("12345", "12345热线", "热线", "市长热线", "政务热线", "12345政务服务热线"),
    Source.PATROL: ("网格员巡查", "巡查", "网格员", "网格员上报", "网格巡查"),
    Source.RESIDENT_APP: ("村情通/随手拍", "村情通", "随手拍", "群众app", "app", "小程序"),
    Source.WALK_IN: ("群众来访", "来访", "窗口", "上门"),
    Source.DEPARTMENT: ("部门移交", "部门", "部门交办", "部门转办", "交办"),
    Source.VIDEO: ("视频监控", "视频", "监控", "视频巡查"),
}
_SOURCES = {
    _key_text(word).lower(): source
    for source, words in _SOURCE_ALIASES.items()
    for word in (*words, source.value, SOURCE_WORDS[source])
}
_URGENCIES: dict[str, Urgency] = {
    **{w: Urgency.NORMAL for w in ("一般", "普通", "正常", "否", "不紧急", "normal")},
    **{w: Urgency.URGENT for w in ("紧急", "是", "急", "加急", "特急", "urgent")},
}


class _Places:
    """The store's villages and grids, matched by code or by the names people write."""

    def __init__(self, store: Store) -> None:
        self.township_names = [d.name for d in store.divisions("township")]
        villages = store.divisions("village")
        self.villages = {d.code: d for d in villages}
        self.village_by_name: dict[str, list[str]] = {}
        for d in villages:
            for name in {d.name, short_name(d.name)}:
                self.village_by_name.setdefault(_key_text(name), []).append(d.code)
        self.village_short = {d.code: short_name(d.name) for d in villages}
        self.grids = {g.code: g for g in store.grids()}
        self.area = "township" if len(store.scope) == 9 else "county"
        self.grid_by_name: dict[str, list[str]] = {}
        for g in self.grids.values():
            self.grid_by_name.setdefault(_key_text(g.name), []).append(g.code)

    def village(self, raw: str) -> str:
        text = _key_text(raw)
        if text in self.villages:
            return text
        codes = self.village_by_name.get(text) or self.village_by_name.get(
            _key_text(short_name(text))
        )
        if not codes:
            # "东华街道张王村": a township name in front is common in hotline addresses.
            for township in self.township_names:
                if text.startswith(township) and len(text) > len(township):
                    return self.village(text[len(township) :])
        if codes and len(set(codes)) == 1:
            return codes[0]
        if codes:
            names = "、".join(self.village_short[c] + f" ({c})" for c in sorted(set(codes)))
            raise _RowProblem(
                "村/社区", f"{raw!r} matches several villages ({names}): use the code"
            )
        hint = _suggest(text, list(self.village_short.values()))
        if re.fullmatch(r"\d{12}", text):
            raise _RowProblem("村/社区", f"code {raw!r} is not a village of this store's area")
        raise _RowProblem("村/社区", f"{raw!r} matches no village in this {self.area}{hint}")

    def grid(self, raw: str, village_code: str | None) -> str:
        text = _key_text(raw)
        if text in self.grids:
            grid = self.grids[text]
            if village_code and grid.village_code != village_code:
                raise _RowProblem(
                    "网格",
                    f"{raw!r} belongs to {self.village_short.get(grid.village_code, '?')}, "
                    f"not to {self.village_short.get(village_code, village_code)}",
                )
            return text
        codes = self.grid_by_name.get(text, [])
        if village_code:
            codes = [c for c in codes if self.grids[c].village_code == village_code]
        if len(codes) == 1:
            return codes[0]
        if codes:
            names = "、".join(
                f"{self.village_short.get(self.grids[c].village_code, '?')} {self.grids[c].name}"
                for c in codes[:5]
            )
            raise _RowProblem("网格", f"{raw!r} matches {len(codes)} grids ({names}): add 村/社区")
        if re.fullmatch(r"\d{15}", text):
            raise _RowProblem("网格", f"code {raw!r} is not a grid of this store")
        pool = [
            g.name
            for g in self.grids.values()
            if village_code is None or g.village_code == village_code
        ]
        where = f" of {self.village_short.get(village_code, village_code)}" if village_code else ""
        raise _RowProblem("网格", f"{raw!r} matches no grid{where}{_suggest(text, pool)}")


def _suggest(text: str, pool: Iterable[str]) -> str:
    names = list(dict.fromkeys(pool))
    keyed = {_key_text(n): n for n in names}
    close = [keyed[k] for k in keyed if text and (text in k or k in text)]
    close += [
        keyed[k]
        for k in difflib.get_close_matches(text, list(keyed), n=3, cutoff=0.5)
        if keyed[k] not in close
    ]
    if not close:
        return ""
    return f" (did you mean {'、'.join(close[:3])}?)"


def _category(store: Store, table: Table, cells: list[Any]) -> str:
    taxonomy = store.taxonomy
    combined = _key_text(table.cell(cells, "事件类型"))
    major = _key_text(table.cell(cells, "大类"))
    minor = _key_text(table.cell(cells, "小类"))
    if combined:
        column = "事件类型"
        text = re.sub(r"[/\\>＞·\-—|]+", "/", combined)
    elif major or minor:
        column = "大类" if major else "小类"
        text = f"{major}/{minor}" if major and minor else major or minor
    else:
        column = "事件类型" if "事件类型" in table.columns else "大类"
        raise _RowProblem(column, "is empty")
    if text.isdigit() and len(text) in (1, 3):
        text = text.zfill(len(text) + 1)  # a code typed as a number: 0101 became 101
    if text in taxonomy:
        return text  # a code such as 0101
    found = taxonomy.by_name(text)
    if found is not None:
        return found.code
    if "/" in text:
        head, tail = text.split("/", 1)
        parent = taxonomy.by_name(head)
        if parent is not None and not tail:
            return parent.code
        if parent is not None and parent.parent is None:
            choices = "、".join(c.name for c in taxonomy.minors(parent.code))
            raise _RowProblem(
                column, f"{tail!r} is not a 小类 of {parent.name} (it has: {choices})"
            )
    paths = [taxonomy.path(c.code) for c in taxonomy]
    raise _RowProblem(column, f"{text!r} matches no category{_suggest(text, paths)}")


def _text_field(value: Any, *, single_line: bool) -> str:
    text = _cell_text(value)
    if single_line:
        text = re.sub(r"\s+", " ", text)
    return text.strip()


_DATE_RE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?)?"
)
_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=SHANGHAI)
FUTURE_SLACK_MS = 10 * 60_000  # a PC clock a few minutes behind the hotline system's


def parse_time(value: Any) -> Millis:
    """A cell as an instant: a date cell, an Excel serial number or text like 2026-11-22 14:05.

    Times without a zone are Asia/Shanghai. Raises ValueError in plain words.
    """
    if isinstance(value, dt.datetime):
        local = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
        return to_millis(local)
    if isinstance(value, dt.date):
        return to_millis(dt.datetime.combine(value, dt.time(), tzinfo=SHANGHAI))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(float(value))
    text = unicodedata.normalize("NFKC", _cell_text(value)).strip()
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _excel_serial(float(text))
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    text = (
        text.replace("年", "-")
        .replace("月", "-")
        .replace("日", " ")
        .replace("号", " ")
        .replace("时", ":")
        .replace("点", ":")
        .replace("分", ":")
        .replace("秒", "")
        .replace("/", "-")
    )
    text = re.sub(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})", r"\1-\2-\3", text)
    text = re.sub(r"\s+", " ", text).strip().rstrip(":")
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise ValueError("is not a date and time like 2026-11-22 14:05")
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
    try:
        local = dt.datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI)
    except ValueError:
        raise ValueError("is not a real date and time") from None
    return to_millis(local)


def _excel_serial(serial: float) -> Millis:
    from openpyxl.utils.datetime import from_excel

    if not 1 <= serial < 2958466:
        raise ValueError("is a number, not a date and time")
    return parse_time(from_excel(serial))


def row_key(fields: dict[str, Any], reported_at: Millis | None) -> str:
    """The identity of an imported row: a hash of its normalised content and its source.

    Built from resolved values (category code, village code …), so the same row re-sent with
    "张王村" instead of the village code, other spacing, or in another order is recognised.
    """
    basis = {k: fields.get(k) or "" for k in sorted(_KEY_FIELDS)}
    basis["reported_at"] = reported_at
    text = json.dumps(basis, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "ledger-v1:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


_KEY_FIELDS = (
    "title",
    "description",
    "category",
    "village_code",
    "grid_id",
    "address",
    "source",
    "urgency",
    "reporter_name",
    "reporter_phone",
)


def validate_rows(
    store: Store,
    table: Table,
    *,
    source: str = Source.HOTLINE.value,
    now: Millis | None = None,
) -> tuple[list[ValidRow], list[RowError]]:
    """Check every row of ``table``; return the rows ready to report and the errors, by row.

    Everything a spreadsheet can get wrong is checked here; the closed loop's own rules are
    applied again when each case is reported.
    """
    now = store.now() if now is None else now
    places = _Places(store)
    valid: list[ValidRow] = []
    errors: list[RowError] = []
    for number, cells in table.rows:
        row = _RowCheck(store, table, places, cells, source=source, now=now)
        problems = [RowError(number, p.column, p.message) for p in row.run()]
        if problems:
            errors.extend(problems)
            continue
        key = row_key(row.fields, row.reported_at)
        valid.append(ValidRow(number, row.fields, row.reported_at, key))
    return valid, errors


class _RowCheck:
    """One row's fields, each resolved by its own check; every problem is collected."""

    def __init__(
        self,
        store: Store,
        table: Table,
        places: _Places,
        cells: list[Any],
        *,
        source: str,
        now: Millis,
    ) -> None:
        self.store, self.table, self.places, self.cells = store, table, places, cells
        self.default_source = source
        self.now = now
        self.fields: dict[str, Any] = {}
        self.reported_at: Millis | None = None

    def cell(self, name: str) -> Any:
        return self.table.cell(self.cells, name)

    def run(self) -> list[_RowProblem]:
        problems = []
        for step in (
            self.title,
            self.category,
            self.place,
            self.source,
            self.urgency,
            self.reporter,
            self.when,
        ):
            try:
                step()
            except _RowProblem as problem:
                problems.append(problem)
        self.fields["address"] = _text_field(self.cell("地址"), single_line=True)
        self.fields["description"] = _text_field(self.cell("描述"), single_line=False)
        return problems

    def title(self) -> None:
        text = _text_field(self.cell("标题"), single_line=True)
        if not text:
            # A hotline sheet without titles: the first sentence of the description.
            text = _title_from(_text_field(self.cell("描述"), single_line=False))
        if not text:
            column = "标题" if "标题" in self.table.columns else "描述"
            raise _RowProblem(column, "is empty")
        if len(text) > TITLE_LIMIT:
            raise _RowProblem("标题", f"is {len(text)} characters long; the limit is {TITLE_LIMIT}")
        self.fields["title"] = text

    def category(self) -> None:
        self.fields["category"] = _category(self.store, self.table, self.cells)

    def place(self) -> None:
        village_raw = _cell_text(self.cell("村/社区"))
        grid_raw = _cell_text(self.cell("网格"))
        village = self.places.village(village_raw) if village_raw else None
        grid = self.places.grid(grid_raw, village) if grid_raw else None
        if grid is not None:
            self.fields["grid_id"] = grid
            village = village or self.places.grids[grid].village_code
        if village is None:
            column = "村/社区" if "村/社区" in self.table.columns else "网格"
            raise _RowProblem(column, "is empty: a case needs its village or grid")
        self.fields["village_code"] = village

    def source(self) -> None:
        raw = _key_text(self.cell("来源")).lower()
        if not raw:
            self.fields["source"] = self.default_source
            return
        found = _SOURCES.get(raw)
        if found is None:
            words = "、".join(SOURCE_WORDS.values())
            raise _RowProblem("来源", f"{raw!r} is not a known source ({words})")
        self.fields["source"] = found.value

    def urgency(self) -> None:
        raw = _key_text(self.cell("紧急程度")).lower()
        if not raw:
            self.fields["urgency"] = Urgency.NORMAL.value
            return
        found = _URGENCIES.get(raw)
        if found is None:
            raise _RowProblem("紧急程度", f"{raw!r} is neither 一般 nor 紧急")
        self.fields["urgency"] = found.value

    def reporter(self) -> None:
        name = _text_field(self.cell("上报人"), single_line=True)
        if name:
            self.fields["reporter_name"] = name
        phone = _key_text(self.cell("联系电话"))
        if not phone:
            return
        if "*" in phone:
            raise _RowProblem(
                "联系电话", f"{phone!r} is masked; give the full number or leave it empty"
            )
        if not re.fullmatch(r"\+?[0-9()\-]{3,30}(转[0-9]{1,6})?", phone):
            raise _RowProblem("联系电话", f"{phone!r} is not a phone number")
        self.fields["reporter_phone"] = phone

    def when(self) -> None:
        value = self.cell("上报时间")
        shown = _cell_text(value)
        if not shown:
            return
        try:
            at = parse_time(value)
        except ValueError as exc:
            raise _RowProblem("上报时间", f"{shown!r} {exc}") from None
        if at > self.now + FUTURE_SLACK_MS:
            raise _RowProblem(
                "上报时间", f"{shown!r} is in the future (now {shanghai_time(self.now)})"
            )
        if at < to_millis(_EARLIEST):
            raise _RowProblem("上报时间", f"{shown!r} is before the year 2000")
        self.reported_at = at


def _title_from(description: str) -> str:
    """A title from a description when the sheet has none: its first sentence, ≤ 30 chars."""
    first = re.split(r"[。！？!?\n]", description.strip(), maxsplit=1)[0].strip()
    return first if len(first) <= 30 else first[:29] + "…"


# =================================================================================================
# Filing the cases
# =================================================================================================


@dataclass
class ImportResult:
    """What an import did. Row numbers are the spreadsheet's own (header = its row)."""

    path: Path
    imported: list[tuple[int, str, str]] = field(default_factory=list)  # (row, case id, 编号)
    present: list[tuple[int, str]] = field(default_factory=list)  # (row, case id or "row N")
    invalid: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    sheet: str | None = None
    cancelled: bool = False

    @property
    def invalid_rows(self) -> int:
        return len({e.row for e in self.invalid})


class _Cancel(Exception):
    pass


def default_importer(store: Store) -> Actor:
    """The account imports are filed as when none is named: the first operator account."""
    operators = store.accounts(Role.OPERATOR)
    if not operators:
        raise LedgerError(
            "This store has no operator account to file the cases as; name one with --as "
            f"(accounts: {_account_list(store)})."
        )
    return operators[0]


def importer(store: Store, account_id: str | None) -> Actor:
    """The account to file imported cases as (``--as``), checked to be allowed to report."""
    if account_id is None:
        return default_importer(store)
    actor = store.account(account_id)
    if actor is None:
        raise LedgerError(
            f"There is no account {account_id!r} in this store (accounts: {_account_list(store)})."
        )
    if actor.role not in ROLES[Action.REPORT]:
        raise LedgerError(
            f"The account {account_id!r} is a {actor.role.value}, which may not report cases."
        )
    return actor


def _account_list(store: Store) -> str:
    accounts = store.accounts()
    return ", ".join(f"{a.id} ({a.name}, {a.role.value})" for a in accounts) or "none"


def import_ledger(
    store: Store,
    path: Path | str,
    *,
    actor: Actor | None = None,
    source: str = Source.HOTLINE.value,
    skip_invalid: bool = False,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Import the cases of a ledger spreadsheet; every row checked first, all in one transaction.

    Raises :class:`LedgerError` for a file that cannot be used and :class:`InvalidRows` when
    rows are invalid and ``skip_invalid`` is False — in both cases nothing changed. Rows already
    imported before (or repeated in the file) are counted in ``present``, not filed again.
    """
    table = read_table(path)
    actor = actor or default_importer(store)
    if actor.role not in ROLES[Action.REPORT]:
        raise LedgerError(f"A {actor.role.value} account may not report cases.")
    try:
        source = Source(source).value
    except ValueError:
        raise LedgerError(f"{source!r} is not a case source.") from None
    result = ImportResult(
        Path(path), ignored_columns=table.ignored, encoding=table.encoding, sheet=table.sheet
    )
    valid, errors = validate_rows(store, table, source=source)
    result.invalid = errors
    if errors and not skip_invalid:
        raise InvalidRows(errors, len(table.rows))
    total = len(valid)
    try:
        with store.write() as conn:
            seen: dict[str, int] = {}
            keys = [v.key for v in valid]
            known: dict[str, str] = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                known.update(
                    conn.execute(
                        f"SELECT row_key, case_id FROM imported_rows WHERE row_key IN ({marks})",
                        chunk,
                    ).fetchall()
                )
            refused: list[RowError] = []
            for done, item in enumerate(valid, 1):
                if item.key in known:
                    result.present.append((item.row, known[item.key]))
                elif item.key in seen:
                    result.present.append((item.row, f"row {seen[item.key]}"))
                else:
                    try:
                        state = store.report(actor, item.fields, at=item.reported_at)
                    except Refused as exc:
                        # The closed loop's own rules have the last word; report() refuses
                        # before it writes anything, so the row is simply invalid.
                        refused.append(RowError(item.row, "", exc.reason))
                        continue
                    conn.execute(
                        "INSERT INTO imported_rows (row_key, case_id) VALUES (?, ?)",
                        [item.key, state.case_id],
                    )
                    seen[item.key] = item.row
                    result.imported.append((item.row, state.case_id, state.case_no))
                due = progress is not None and (done % 100 == 0 or done == total)
                if due and progress is not None and not progress(done, total):
                    raise _Cancel
            if refused:
                errors = sorted([*errors, *refused], key=lambda e: e.row)
                result.invalid = errors
                if not skip_invalid:
                    raise InvalidRows(errors, len(table.rows))  # rolls the whole file back
    except _Cancel:
        return ImportResult(
            Path(path),
            invalid=errors,
            ignored_columns=table.ignored,
            encoding=table.encoding,
            sheet=table.sheet,
            cancelled=True,
        )
    return result


def print_errors(errors: Sequence[RowError], *, limit: int = 50, file: Any = None) -> None:
    """List row errors for a person, the first ``limit`` of them and a count of the rest."""
    out = file or sys.stderr
    for error in errors[:limit]:
        print(f"  {error}", file=out)
    if len(errors) > limit:
        print(f"  … and {len(errors) - limit} more", file=out)


__all__ = [
    "COLUMN_ALIASES",
    "ImportResult",
    "InvalidRows",
    "RowError",
    "Table",
    "default_importer",
    "import_ledger",
    "importer",
    "parse_time",
    "print_errors",
    "read_table",
    "row_key",
    "validate_rows",
]
