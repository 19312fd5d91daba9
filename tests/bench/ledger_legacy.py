"""The ledger's .xlsx writer as it was before XlsxWriter (openpyxl write-only mode), kept only so
the ledger benchmark can run old and new side by side on the same store in one run.

Verbatim from sync/store/ledger.py at commit 4ec50c3; not used by the app.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sync.model.clock import Millis
from sync.store.ledger import (
    LEDGER_COLUMNS,
    XLSX_MAX_DATA_ROWS,
    _ledger_values,
    _local_naive,
    _Names,
)

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
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E79")
    header_border = Border(bottom=Side(style="thin", color="000000"))
    header_align = Alignment(horizontal="center", vertical="center")
    kinds = [c.kind for c in LEDGER_COLUMNS]
    last_col = get_column_letter(len(LEDGER_COLUMNS))
    sheets: list[Any] = []

    def new_sheet(expected: int) -> tuple[Any, list[Any]]:
        title = "事件台账" if not sheets else f"事件台账({len(sheets) + 1})"
        ws = wb.create_sheet(title)
        sheets.append(ws)
        # The <dimension> element comes before the rows, so it can only be the expected size
        # (the count taken before streaming). Excel ignores it, but readers such as openpyxl's
        # read-only mode take max_row from it; without it they report None.
        last_row = max(1, min(expected, XLSX_MAX_DATA_ROWS) + 1)
        ws.calculate_dimension = lambda: f"A1:{last_col}{last_row}"
        # Widths and the frozen header must be set before the first row is streamed out.
        for i, column in enumerate(LEDGER_COLUMNS, 1):
            ws.column_dimensions[get_column_letter(i)].width = column.width
        ws.freeze_panes = "A2"
        header = []
        for column in LEDGER_COLUMNS:
            cell = WriteOnlyCell(ws, value=column.header)
            cell.font, cell.fill, cell.border = header_font, header_fill, header_border
            cell.alignment = header_align
            header.append(cell)
        ws.append(header)
        # One styled cell per time column, re-used: write-only rows are serialised at once.
        time_cells = []
        for kind in kinds:
            if kind == "time":
                cell = WriteOnlyCell(ws)
                cell.number_format = "yyyy-mm-dd hh:mm"
                time_cells.append(cell)
            else:
                time_cells.append(None)
        return ws, time_cells

    def close_sheet(ws: Any, n: int) -> None:
        ws.auto_filter.ref = f"A1:{last_col}{n + 1}"

    ws, time_cells = new_sheet(total)
    done = in_sheet = 0
    try:
        for row in rows:
            if in_sheet == XLSX_MAX_DATA_ROWS:
                close_sheet(ws, in_sheet)
                ws, time_cells = new_sheet(total - done)
                in_sheet = 0
            values = _ledger_values(row, names, now, full_contacts=full_contacts)
            out: list[Any] = []
            for value, kind, time_cell in zip(values, kinds, time_cells, strict=True):
                if kind == "time":
                    if value is None:
                        out.append(None)
                    else:
                        time_cell.value = _local_naive(value)
                        out.append(time_cell)
                elif kind == "int" or value is None or value == "":
                    out.append(value if value != "" else None)
                else:
                    text = _ILLEGAL_XML.sub("", str(value))[:32767]
                    if text.startswith("=") or text in ERROR_CODES:
                        # openpyxl would store "=…" as a formula (and "#N/A" as an error):
                        # a resident's words are text, always.
                        cell = WriteOnlyCell(ws, value=text)
                        cell.data_type = "s"
                        out.append(cell)
                    else:
                        out.append(text)
            ws.append(out)
            done += 1
            in_sheet += 1
            if not tick(done):
                _discard_workbook(sheets)
                return None, len(sheets)
        if not tick(done, final=True):
            _discard_workbook(sheets)
            return None, len(sheets)
        close_sheet(ws, in_sheet)
        wb.save(str(tmp))
    except BaseException:
        _discard_workbook(sheets)
        raise
    return done, len(sheets)


def _discard_workbook(sheets: list[Any]) -> None:
    """Remove openpyxl's per-sheet temporary files of a workbook that will not be saved.

    Write-only worksheets stream their rows into a temp file (in the system temp folder) that is
    only removed by ``save``; a cancelled export must not leave gigabytes of it behind.
    """
    for ws in sheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()
        with contextlib.suppress(Exception):
            writer.cleanup()
