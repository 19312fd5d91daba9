"""The case ledger (事件台账) as a spreadsheet: its words, and the export.

**Export** (:func:`export_ledger`) streams the cases a :class:`~.queries.CaseQuery` selects into
an ``.xlsx`` (XlsxWriter's constant-memory mode) or a ``.csv`` (UTF-8 with BOM, which Excel on
Chinese Windows opens correctly), page by page through the store's keyset paging, so a million cases
never sit in memory. Headers and values are the Chinese words an operator reads; times are
Asia/Shanghai. The file is written beside its destination under a temporary name and renamed at
the end: a cancelled or failed export leaves nothing behind.

The import of hotline and department spreadsheets is :mod:`.ledger_import`. The column format
of both is documented for people in ``docs/ledger.md``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import re
import secrets
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.calendar import SHANGHAI
from ..model.clock import Millis, from_millis
from ..model.divisions import short_name
from ..model.records import (
    DROPPED_STATUSES,
    OPEN_STATUSES,
    Level,
    Satisfaction,
    Source,
    Status,
    Urgency,
)
from .engine import fsync_dir
from .queries import SORTABLE, CaseQuery

if TYPE_CHECKING:
    from .store import Store

#: ``progress(done, total) -> bool``; returning False asks the export or import to stop.
ProgressFn = Callable[[int, int], bool]

# -- the words users read -----------------------------------------------------------------------

STATUS_WORDS: dict[str, str] = {
    Status.REPORTED: "待受理",
    Status.REJECTED: "不予受理",
    Status.MERGED: "已合并",
    Status.ACCEPTED: "待派遣",
    Status.HANDLING: "处置中",
    Status.VERIFYING: "待核查",
    Status.PARKED: "挂账",
    Status.CLOSED: "已办结",
    Status.ARCHIVED: "已归档",
    Status.EVALUATED: "已评价",
}
SOURCE_WORDS: dict[str, str] = {
    Source.PATROL: "网格员巡查",
    Source.RESIDENT_APP: "村情通/随手拍",
    Source.HOTLINE: "12345热线",
    Source.WALK_IN: "群众来访",
    Source.DEPARTMENT: "部门移交",
    Source.VIDEO: "视频监控",
}
URGENCY_WORDS: dict[str, str] = {Urgency.NORMAL: "一般", Urgency.URGENT: "紧急"}
LEVEL_WORDS: dict[int, str] = {
    Level.GRID: "网格",
    Level.VILLAGE: "村/社区",
    Level.TOWNSHIP: "乡镇/街道",
    Level.COUNTY: "县/区",
}
SATISFACTION_WORDS: dict[str, str] = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.BASIC: "基本满意",
    Satisfaction.DISSATISFIED: "不满意",
}

TIME_FORMAT = "%Y-%m-%d %H:%M"
#: Excel's last row is 1,048,576; the header takes one on every sheet.
XLSX_MAX_DATA_ROWS = 1_048_575
PAGE_SIZE = 2000


class LedgerError(ValueError):
    """A spreadsheet or an export destination that cannot be used, in plain words.

    Nothing was changed when this is raised: no case imported, no file left behind.
    """


def shanghai_time(ms: Millis | None) -> str:
    """An instant as an operator reads it: ``2026-11-22 14:05`` in Asia/Shanghai ('' if None)."""
    if ms is None:
        return ""
    return from_millis(ms).astimezone(SHANGHAI).strftime(TIME_FORMAT)


def _local_naive(ms: Millis | None) -> dt.datetime | None:
    """An instant as a naive Shanghai datetime: what an xlsx date cell holds."""
    if ms is None:
        return None
    return from_millis(ms).astimezone(SHANGHAI).replace(tzinfo=None)


def mask_phone(phone: str | None) -> str:
    """A phone number shown masked (138****5678): personal data leaves only when allowed."""
    if not phone:
        return ""
    digits = str(phone)
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 7 else 1
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


# =================================================================================================
# Export
# =================================================================================================


@dataclass(frozen=True)
class ExportResult:
    """What an export did: the file written and its case count, or ``cancelled`` (no file)."""

    path: Path
    rows: int
    cancelled: bool = False
    sheets: int = 1


#: The columns read from ``cases`` for the ledger (``rowid`` and the sort column drive paging).
_EXPORT_COLUMNS = (
    "rowid",
    "id",
    "case_no",
    "title",
    "description",
    "category",
    "major",
    "village_code",
    "grid_code",
    "address",
    "source",
    "urgency",
    "reporter_name",
    "reporter_phone",
    "status",
    "level",
    "lead",
    "reported_at",
    "accepted_at",
    "closed_at",
    "due_at",
    "handle_due",
    "on_time",
    "urges",
    "satisfaction",
    "updated_at",
)


@dataclass(frozen=True)
class _Column:
    header: str
    width: int
    kind: str  # "text" | "time" | "int"


#: The ledger's columns, in order: Chinese header, xlsx column width, kind of value.
LEDGER_COLUMNS: tuple[_Column, ...] = (
    _Column("事件编号", 28, "text"),
    _Column("标题", 36, "text"),
    _Column("大类", 12, "text"),
    _Column("小类", 14, "text"),
    _Column("村/社区", 14, "text"),
    _Column("网格", 18, "text"),
    _Column("地址", 30, "text"),
    _Column("来源", 14, "text"),
    _Column("紧急程度", 10, "text"),
    _Column("状态", 10, "text"),
    _Column("层级", 10, "text"),
    _Column("牵头单位", 18, "text"),
    _Column("上报人", 10, "text"),
    _Column("联系电话", 15, "text"),
    _Column("上报时间", 17, "time"),
    _Column("受理时间", 17, "time"),
    _Column("办结时间", 17, "time"),
    _Column("处置期限", 17, "time"),
    _Column("是否超期", 9, "text"),
    _Column("是否按期", 9, "text"),
    _Column("满意度", 10, "text"),
    _Column("督办次数", 9, "int"),
    _Column("描述", 50, "text"),
)
LEDGER_HEADERS = tuple(c.header for c in LEDGER_COLUMNS)


class _Names:
    """Code → name look-ups for one export (a county's grids and units fit in memory)."""

    def __init__(self, store: Store) -> None:
        self.categories = {c.code: c.name for c in store.taxonomy}
        self.villages = {d.code: short_name(d.name) for d in store.divisions("village")}
        self.grids = {g.code: g.name for g in store.grids()}
        self.units = {**self.grids, **{d.code: d.name for d in store.departments()}}


def _ledger_values(
    row: dict[str, Any], names: _Names, now: Millis, *, full_contacts: bool
) -> list[Any]:
    """One case row as the ledger's values: words for codes, instants as Millis (or None)."""
    category = row["category"] or ""
    major = row["major"] or ""
    status = row["status"]
    on_time = row["on_time"]
    if status in DROPPED_STATUSES:
        overdue = ""
    elif (status in OPEN_STATUSES and row["due_at"] is not None and row["due_at"] < now) or (
        on_time == 0
    ):
        overdue = "是"
    else:
        overdue = "否"
    phone = row["reporter_phone"] or ""
    return [
        row["case_no"],
        row["title"],
        names.categories.get(major, major),
        names.categories.get(category, category) if category != major else "",
        names.villages.get(row["village_code"] or "", row["village_code"] or ""),
        names.grids.get(row["grid_code"] or "", row["grid_code"] or ""),
        row["address"],
        SOURCE_WORDS.get(row["source"] or "", row["source"] or ""),
        URGENCY_WORDS.get(row["urgency"] or "", row["urgency"] or ""),
        STATUS_WORDS.get(status, status),
        LEVEL_WORDS.get(row["level"], str(row["level"])),
        names.units.get(row["lead"] or "", row["lead"] or ""),
        row["reporter_name"] or "",
        phone if full_contacts else mask_phone(phone),
        row["reported_at"],
        row["accepted_at"],
        row["closed_at"],
        row["handle_due"],
        overdue,
        {1: "是", 0: "否"}.get(on_time, ""),
        SATISFACTION_WORDS.get(row["satisfaction"] or "", row["satisfaction"] or ""),
        row["urges"] or 0,
        row["description"],
    ]


def iter_case_rows(
    store: Store, query: CaseQuery = CaseQuery(), *, page_size: int = PAGE_SIZE
) -> Generator[dict[str, Any], None, None]:
    """Every case the query selects, in its order, one keyset page in memory at a time."""
    sort_column = SORTABLE[query.sort]
    after: tuple[Any, int] | None = None
    while True:
        page = store.cases(query, limit=page_size, after=after, columns=_EXPORT_COLUMNS)
        yield from page
        if len(page) < page_size:
            return
        last = page[-1]
        after = (last[sort_column], last["rowid"])


def export_ledger(
    store: Store,
    out: Path | str,
    query: CaseQuery = CaseQuery(),
    progress: ProgressFn | None = None,
    *,
    full_contacts: bool = False,
    page_size: int = PAGE_SIZE,
) -> ExportResult:
    """Write the ledger of the cases ``query`` selects to ``out`` (``.xlsx`` or ``.csv``).

    ``progress(done, total)`` is called after every page; when it returns False the export
    stops and returns a result with ``cancelled=True`` and no file. Phone numbers are masked
    unless ``full_contacts``. Raises :class:`LedgerError` (nothing written) for a destination
    that cannot be written, including a full disk.
    """
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".xlsx", ".csv"):
        raise LedgerError(f"{out.name}: the ledger is written as .xlsx or .csv, not {kind!r}.")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise LedgerError(f"The folder {folder} does not exist.")
    if out.is_dir():
        raise LedgerError(f"{out} is a folder; name a file to write.")
    total = store.count(query)
    names = _Names(store)
    now = store.now()
    tmp = _temp_beside(out, folder)
    rows = iter_case_rows(store, query, page_size=page_size)

    def tick(done: int, final: bool = False) -> bool:
        """Report progress once a page (and at the end); False when asked to stop."""
        if progress is None or not (final or done % page_size == 0):
            return True
        return bool(progress(done, total))

    try:
        if kind == ".csv":
            written, sheets = _write_csv(tmp, rows, names, now, full_contacts, total, tick)
        else:
            written, sheets = _write_xlsx(tmp, rows, names, now, full_contacts, total, tick)
        if written is None:
            tmp.unlink(missing_ok=True)
            return ExportResult(out, 0, cancelled=True)
        _fsync_file(tmp)
        try:
            os.replace(tmp, out)
        except PermissionError as exc:
            # Windows: the old ledger is still open in Excel or WPS.
            raise LedgerError(
                f"Cannot replace {out}: it is open in another program (Excel?) or read-only. "
                "Close it and export again."
            ) from exc
        fsync_dir(folder)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LedgerError(_os_words(exc, folder, "write")) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        rows.close()
    return ExportResult(out, written, sheets=sheets)


def _temp_beside(out: Path, folder: Path) -> Path:
    """A new hidden file next to ``out`` (same disk, so the final rename is atomic).

    Not ``mkstemp``: its 0600 mode would survive the rename, and a ledger is for sharing.
    """
    for _ in range(100):
        tmp = folder / f".{out.name}.{secrets.token_hex(4)}.part"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise LedgerError(_os_words(exc, folder, "write in")) from exc
        os.close(fd)
        return tmp
    raise LedgerError(f"Cannot create a temporary file in {folder}.")


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def _os_words(exc: OSError, where: Path, verb: str) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        return f"The disk is full: cannot {verb} {where}. Free some space; nothing was written."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"Not allowed to {verb} {where}: check its permissions."
    return f"Cannot {verb} {where}: {exc.strerror or exc}."


_CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: Any) -> str:
    """Text for a CSV cell; a leading = + - @ is quoted with ' so Excel shows it, never runs it."""
    text = "" if value is None else str(value)
    if text.startswith(_CSV_RISKY):
        return "'" + text
    return text


def _write_csv(
    tmp: Path,
    rows: Iterable[dict[str, Any]],
    names: _Names,
    now: Millis,
    full_contacts: bool,
    total: int,
    tick: Callable[..., bool],
) -> tuple[int | None, int]:
    kinds = [c.kind for c in LEDGER_COLUMNS]
    done = 0
    # utf-8-sig writes the BOM Excel needs to read UTF-8; CRLF is what Excel writes itself.
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(LEDGER_HEADERS)
        for row in rows:
            values = _ledger_values(row, names, now, full_contacts=full_contacts)
            writer.writerow(
                [
                    shanghai_time(v) if k == "time" else v if k == "int" else _csv_text(v)
                    for v, k in zip(values, kinds, strict=True)
                ]
            )
            done += 1
            if not tick(done):
                return None, 1
    if not tick(done, final=True):
        return None, 1
    return done, 1


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _write_xlsx(
    tmp: Path,
    rows: Iterable[dict[str, Any]],
    names: _Names,
    now: Millis,
    full_contacts: bool,
    total: int,
    tick: Callable[..., bool],
) -> tuple[int | None, int]:
    """Stream the ledger into ``tmp`` with XlsxWriter's constant-memory mode.

    Each row goes to a per-sheet temporary file as it is written and is never held again, so
    memory stays flat however many cases there are; the temporary files live in a folder of
    their own that is removed whatever happens (saved, cancelled or failed).
    """
    import shutil
    import tempfile

    import xlsxwriter

    scratch = tempfile.mkdtemp(prefix="gridroom-ledger-")
    wb = xlsxwriter.Workbook(
        str(tmp),
        {
            "constant_memory": True,
            "tmpdir": scratch,
            # A resident's words are text, always: never a formula, a link or a number.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    header_format = wb.add_format(
        {
            "bold": True,
            "font_color": "#FFFFFF",
            "pattern": 1,
            "bg_color": "#1F4E79",
            "bottom": 1,
            "bottom_color": "#000000",
            "align": "center",
            "valign": "vcenter",
        }
    )
    time_format = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    kinds = [c.kind for c in LEDGER_COLUMNS]
    last = len(LEDGER_COLUMNS) - 1
    sheets: list[Any] = []

    def new_sheet() -> Any:
        title = "事件台账" if not sheets else f"事件台账({len(sheets) + 1})"
        ws = wb.add_worksheet(title)
        sheets.append(ws)
        for i, column in enumerate(LEDGER_COLUMNS):
            # In pixels (7 a character, Calibri 11) so the width stored is exactly the
            # character width asked for, as openpyxl wrote it (set_column adds padding).
            ws.set_column_pixels(i, i, column.width * 7)
        ws.freeze_panes(1, 0)
        for i, column in enumerate(LEDGER_COLUMNS):
            ws.write_string(0, i, column.header, header_format)
        return ws

    def close_sheet(ws: Any, n: int) -> None:
        ws.autofilter(0, 0, n, last)

    try:
        ws = new_sheet()
        write_string, write_number, write_datetime = (
            ws.write_string,
            ws.write_number,
            ws.write_datetime,
        )
        done = in_sheet = 0
        for row in rows:
            if in_sheet == XLSX_MAX_DATA_ROWS:
                close_sheet(ws, in_sheet)
                ws = new_sheet()
                write_string, write_number, write_datetime = (
                    ws.write_string,
                    ws.write_number,
                    ws.write_datetime,
                )
                in_sheet = 0
            in_sheet += 1
            values = _ledger_values(row, names, now, full_contacts=full_contacts)
            for col, (value, kind) in enumerate(zip(values, kinds, strict=True)):
                if value is None or value == "":
                    continue  # an empty cell, as before
                if kind == "time":
                    write_datetime(in_sheet, col, _local_naive(value), time_format)
                elif kind == "int":
                    write_number(in_sheet, col, value)
                else:
                    text = str(value)
                    if not text.isprintable():  # C-fast test; the regex only when it may matter
                        text = _ILLEGAL_XML.sub("", text)
                    write_string(in_sheet, col, text[:32767])
            done += 1
            if not tick(done):
                return None, len(sheets)
        if not tick(done, final=True):
            return None, len(sheets)
        close_sheet(ws, in_sheet)
        wb.close()
    finally:
        _discard_workbook(sheets)
        shutil.rmtree(scratch, ignore_errors=True)
    return done, len(sheets)


def _discard_workbook(sheets: list[Any]) -> None:
    """Close XlsxWriter's per-sheet row files (a no-op after a save), so the folder can go.

    Constant-memory worksheets stream their rows into an open temporary file that only
    ``Workbook.close`` closes; a cancelled export must close it before its folder is removed
    (Windows refuses to delete an open file).
    """
    for ws in sheets:
        fh = getattr(ws, "row_data_fh", None)
        if fh is not None:
            with contextlib.suppress(Exception):
                fh.close()


__all__ = [
    "LEDGER_HEADERS",
    "SOURCE_WORDS",
    "STATUS_WORDS",
    "ExportResult",
    "LedgerError",
    "export_ledger",
    "iter_case_rows",
    "mask_phone",
    "shanghai_time",
]
