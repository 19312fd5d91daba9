"""The monthly report (月报) of a store: a PDF to print and a workbook to work on.

Both are built from one :class:`ReportData` (the figures, breakdowns, rankings and the
definitions used), so the paper and the spreadsheet always agree. Headless: no Qt, so IT can
schedule ``gridroom report`` on a server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model.calendar import SHANGHAI
from ..model.clock import Millis, from_millis
from ..store import Store
from .core import Figures, Statistics, UnitFigures, breakdowns_for
from .definitions import DEFINITIONS, DIMENSIONS, SCOPE_ZH
from .periods import Period
from .scoring import COMPONENT_NAMES, Score, ranking, rankings_for, store_weights

#: The headline figures, in the order the report prints them.
HEADLINE = (
    "total",
    "valid",
    "closed",
    "closure_rate",
    "on_time_rate",
    "satisfaction_rate",
    "self_rate",
    "resolution_rate",
    "avg_days",
    "overdue",
    "urged",
    "return_rate",
    "verify_fail_rate",
    "parked",
)
#: Breakdown tables of case figures (department has its own columns).
FIGURE_COLUMNS = (
    ("total", "受理总量"),
    ("valid", "有效件"),
    ("closed", "办结"),
    ("closure_rate", "办结率"),
    ("on_time_rate", "按期办结率"),
    ("satisfaction_rate", "满意率"),
    ("self_rate", "自处率"),
    ("avg_days", "平均办理时长"),
    ("overdue", "超期"),
    ("urged", "督办"),
    ("return_rate", "退单率"),
    ("verify_fail_rate", "核查不通过率"),
)
UNIT_COLUMNS = (
    ("assigned", "承办"),
    ("led", "主办"),
    ("assisted", "协办"),
    ("fed_back", "已反馈"),
    ("feedback_on_time_rate", "按期反馈率"),
    ("returned", "退单"),
    ("return_rate", "退单率"),
    ("closure_rate", "主办办结率"),
    ("satisfaction_rate", "主办满意率"),
    ("verify_fail_rate", "主办核查不通过率"),
)
RATES = {d.key for d in DEFINITIONS if d.rate} | {"feedback_on_time_rate"}
#: The breakdown tables in report order (at county scope, by township comes first).
TABLES = ("category", "village", "grid", "department", "source", "level", "worker")
#: How many rows of a long breakdown the PDF prints (the workbook has them all).
PDF_ROWS = 20


class ReportError(ValueError):
    """A report that cannot be written as asked (the message says why in plain words)."""


@dataclass
class ReportData:
    store_name: str
    period: Period
    computed_at: Millis
    compare: dict[str, Figures]
    breakdowns: dict[str, list[Any]]
    rankings: dict[str, list[Score]]
    weights: dict[str, float]

    @property
    def title(self) -> str:
        return f"{self.store_name}网格化治理统计报表（{self.period.label_zh}）"


def collect(
    store: Store,
    period: Period,
    *,
    weights: dict[str, float] | None = None,
    now: Millis | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReportData:
    """Read everything the report shows."""
    stats = Statistics(store, now=now)
    steps = 2
    tables = tuple(t for t in ("township", *TABLES) if t in breakdowns_for(store))
    # Breakdowns first: their pass also yields this period's whole-area figures for compare().
    breakdowns = stats.breakdowns(period, tables)
    if progress:
        progress(1, steps)
    compare = stats.compare(period)
    if progress:
        progress(steps, steps)
    weights = weights or store_weights(store)
    rankings = {
        by: ranking(stats, period, by, weights, breakdown=breakdowns[by])
        for by in rankings_for(store)
    }
    names = stats.names("township") | stats.names("county")
    scope_name = names.get(store.scope) or _division_name(store) or store.scope
    return ReportData(scope_name, period, stats.now, compare, breakdowns, rankings, weights)


def _division_name(store: Store) -> str:
    for d in store.divisions():
        if d.code == store.scope:
            return d.name
    return ""


def write(data: ReportData, out: Path) -> Path:
    """Write ``out`` as PDF or workbook by its suffix."""
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        write_pdf(data, out)
    elif suffix == ".xlsx":
        write_xlsx(data, out)
    else:
        raise ReportError(f"{out.name}: the report is written as .pdf or .xlsx, not {suffix!r}")
    return out


# -- formatting ----------------------------------------------------------------------------------


def fmt(key: str, value: Any) -> str:
    """A figure as printed: rates as percentages, days with one decimal, '—' for no data."""
    if value is None:
        return "—"
    if key in RATES:
        return f"{value * 100:.1f}%"
    if key == "avg_days":
        return f"{value:.1f}"
    return f"{int(value):,}"


def _computed(data: ReportData) -> str:
    return from_millis(data.computed_at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def signed(value: float) -> str:
    """A change with its sign and one decimal; one that rounds to nothing is "0.0", not "-0.0"."""
    text = f"{value:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def _change(key: str, now: Any, then: Any) -> str:
    if now is None or then is None:
        return "—"
    d = now - then
    if key in RATES:
        return f"{signed(d * 100)}个百分点"
    if key == "avg_days":
        return signed(d)
    return f"{int(d):+,}"


def headline_rows(data: ReportData) -> list[list[str]]:
    cur, prev, ago = (data.compare[k] for k in ("current", "previous", "year_ago"))
    out = []
    for key in HEADLINE:
        name = next(d.zh for d in DEFINITIONS if d.key == key)
        a, b, c = cur.value(key), prev.value(key), ago.value(key)
        out.append(
            [name, fmt(key, a), fmt(key, b), _change(key, a, b), fmt(key, c), _change(key, a, c)]
        )
    return out


def _columns(by: str) -> Sequence[tuple[str, str]]:
    return UNIT_COLUMNS if by == "department" else FIGURE_COLUMNS


def _value(row: Figures | UnitFigures, key: str) -> Any:
    return getattr(row, key)


# -- PDF -----------------------------------------------------------------------------------------

FONT = "WenQuanYiMicroHei"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    from gridroom_resources import path as resource_path

    font_file = resource_path("fonts", "wqy-microhei.ttc")
    # subfontIndex 0 is WenQuanYi Micro Hei (1 is the monospaced variant).
    pdfmetrics.registerFont(TTFont(FONT, str(font_file), subfontIndex=0))
    # One face only: bold and italic markup use it too (never a Latin fallback font).
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)


def write_pdf(data: ReportData, out: Path) -> None:
    """A4 portrait, the bundled Chinese font embedded (subset), text extractable."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    _register_font()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=10.5)
    h1 = ParagraphStyle("h1", parent=body, fontSize=16, leading=22, alignment=1, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=body, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4)
    cell = ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9.5)
    head_cell = ParagraphStyle("head", parent=cell, alignment=1)

    def table(
        rows: list[list[Any]], widths: list[float] | None = None, numbers_from: int = 1
    ) -> Table:
        wrapped = [[Paragraph(str(v), head_cell) for v in rows[0]]] + [
            [Paragraph(str(v), cell) if isinstance(v, str) and len(v) > 14 else v for v in r]
            for r in rows[1:]
        ]
        t = Table(wrapped, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), FONT, 7.5),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF5")),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9AA7B4")),
                    ("ALIGN", (numbers_from, 1), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return t

    story: list[Any] = [
        Paragraph(data.title, h1),
        Paragraph(
            f"统计周期：{data.period.label_zh}（{data.period.first} 至 {data.period.last}）"
            f"　数据截至：{_computed(data)}",
            body,
        ),
        Paragraph("一、主要指标", h2),
        table(
            [["指标", "本期", "上期", "环比", "去年同期", "同比"], *headline_rows(data)],
            [42 * mm, 24 * mm, 24 * mm, 30 * mm, 24 * mm, 30 * mm],
        ),
    ]

    categories = [r for r in data.breakdowns["category"] if r.total][:10]
    if categories:
        height = 14 * len(categories) + 30
        drawing = Drawing(170 * mm, height, initialFontName=FONT)
        chart = HorizontalBarChart()
        chart.x, chart.y = 32 * mm, 10
        chart.width, chart.height = 125 * mm, height - 25
        chart.data = [[r.total for r in reversed(categories)]]
        chart.categoryAxis.categoryNames = [r.name for r in reversed(categories)]
        chart.categoryAxis.labels.fontName = FONT
        chart.categoryAxis.labels.fontSize = 7.5
        chart.valueAxis.labels.fontName = FONT
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.valueMin = 0
        chart.bars[0].fillColor = colors.HexColor("#2F6DB5")
        drawing.add(chart)
        drawing.add(String(0, height - 10, "各类别受理量", fontName=FONT, fontSize=9))
        story += [Paragraph("二、事件类别", h2), drawing]

    number = ["三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]
    sections = [t for t in data.breakdowns if t != "worker"]
    for i, by in enumerate(sections):
        rows = data.breakdowns[by]
        cols = _columns(by)
        head = [DIMENSIONS[by][0], *(name for _, name in cols)]
        body_rows = [[r.name, *(fmt(k, _value(r, k)) for k, _ in cols)] for r in rows[:PDF_ROWS]]
        title = f"{number[i]}、按{DIMENSIONS[by][0]}"
        if len(rows) > PDF_ROWS:
            title += f"（前{PDF_ROWS}个，共{len(rows)}个，全部见工作簿）"
        if not body_rows:
            body_rows = [["（无）", *("" for _ in cols)]]
        name_w = 30 * mm
        rest = (180 * mm - name_w) / len(cols)
        story += [Paragraph(title, h2), table([head, *body_rows], [name_w] + [rest] * len(cols))]

    story.append(Paragraph(f"{number[len(sections)]}、考核排名", h2))
    w = data.weights
    story.append(
        Paragraph(
            "评分方法：得分 = 100 × Σ(分项 × 权重) ÷ Σ有数据分项的权重。权重："
            + "，".join(f"{COMPONENT_NAMES[k][0]} {v:g}" for k, v in w.items())
            + "。时效取按期办结率（部门取按期反馈率），核查通过取 1 − 核查不通过率，"
            "满意度取满意率，工作量取本单位件数 ÷ 同类最多件数。",
            small,
        )
    )
    for by in data.rankings:
        scores = data.rankings[by][:10]
        rows = [["名次", DIMENSIONS[by][0], "得分", "件数", "得分构成"]]
        for s in scores:
            rows.append(
                [
                    str(s.rank),
                    s.name,
                    "—" if s.score is None else f"{s.score:.1f}",
                    f"{s.volume:,}",
                    Paragraph(s.explain(), cell),
                ]
            )
        if len(rows) == 1:
            rows.append(["", "（无）", "", "", ""])
        story.append(
            KeepTogether(
                [
                    Paragraph(f"{DIMENSIONS[by][0]}排名（前10名）", body),
                    table(rows, [12 * mm, 30 * mm, 14 * mm, 14 * mm, 110 * mm], numbers_from=2),
                    Spacer(1, 4),
                ]
            )
        )

    story.append(Paragraph(f"{number[len(sections) + 1]}、统计口径", h2))
    story.append(Paragraph(SCOPE_ZH, small))
    for d in DEFINITIONS:
        story.append(Paragraph(f"<b>{d.zh}</b>：{d.zh_rule}", small))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.drawString(15 * mm, 10 * mm, f"网格通·指挥室 · {data.title}")
        canvas.drawRightString(195 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    tmp = out.with_name(out.name + ".part")
    doc = SimpleDocTemplate(
        str(tmp),
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=data.title,
        author="网格通·指挥室 Gridroom",
        subject=f"统计周期 {data.period.text}",
        initialFontName=FONT,  # no Latin base font on any page: one embedded face only
    )
    try:
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


# -- workbook ------------------------------------------------------------------------------------

PERCENT = "0.0%"
DAYS = "0.0"
COUNT = "#,##0"
SCORE = "0.0"


def write_xlsx(data: ReportData, out: Path) -> None:
    """One sheet per table, real numbers with number formats, frozen headers (XlsxWriter).

    Written to ``<out>.part`` and renamed into place, so a failed or interrupted write never
    leaves a half workbook under the name asked for.
    """
    import xlsxwriter

    tmp = out.with_name(out.name + ".part")
    wb = xlsxwriter.Workbook(
        str(tmp),
        {
            # Names and codes are text, always: never a formula, a link or a number.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    head = wb.add_format(
        {"bold": True, "bg_color": "#E8EEF5", "align": "center", "text_wrap": True, "border": 1}
    )
    formats: dict[str, Any] = {}

    def fmt(number_format: str) -> Any:
        if not number_format:
            return None
        if number_format not in formats:
            formats[number_format] = wb.add_format({"num_format": number_format})
        return formats[number_format]

    def sheet(
        title: str, header: list[str], rows: list[list[Any]], columns: list[str]
    ) -> Any:
        ws = wb.add_worksheet(title)
        ws.write_row(0, 0, header, head)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue  # no data: an empty cell, not a dash or a zero
                cell_format = fmt(columns[c]) if c < len(columns) else None
                if isinstance(value, bool):
                    ws.write_boolean(r, c, value, cell_format)
                elif isinstance(value, (int, float)):
                    ws.write_number(r, c, value, cell_format)
                else:
                    ws.write_string(r, c, str(value), cell_format)
        for c in range(len(header)):
            width = max(
                [len(str(header[c])) * 2 + 2]
                + [len(str(row[c])) + 2 for row in rows[:200] if c < len(row)]
                + [8]
            )
            ws.set_column(c, c, min(width, 60))
        ws.freeze_panes(1, 1)
        return ws

    def number_format(key: str) -> str:
        if key in RATES:
            return PERCENT
        if key == "avg_days":
            return DAYS
        return COUNT

    cur, prev, ago = (data.compare[k] for k in ("current", "previous", "year_ago"))
    ws = sheet(
        "主要指标",
        [
            "指标",
            f"本期 {data.period.text}",
            f"上期 {data.period.previous().text}",
            f"去年同期 {data.period.year_ago().text}",
        ],
        [],
        [],
    )
    for r, key in enumerate(HEADLINE, start=1):
        name = next(d.zh for d in DEFINITIONS if d.key == key)
        ws.write_string(r, 0, name)
        for c, figures in enumerate((cur, prev, ago), start=1):
            value = figures.value(key)
            if value is not None:
                ws.write_number(r, c, value, fmt(number_format(key)))
    ws.set_column(0, 0, 24)
    ws.set_column(1, 3, 18)
    ws.write_string(len(HEADLINE) + 2, 0, "统计周期")
    ws.write_string(len(HEADLINE) + 2, 1, data.period.label_zh)
    ws.write_string(len(HEADLINE) + 3, 0, "数据截至")
    ws.write_string(len(HEADLINE) + 3, 1, _computed(data))

    for by in data.breakdowns:
        cols = _columns(by)
        sheet(
            DIMENSIONS[by][0].replace("（", "(").replace("）", ")"),
            ["编码", DIMENSIONS[by][0], *(name for _, name in cols)],
            [[r.key, r.name, *(_value(r, k) for k, _ in cols)] for r in data.breakdowns[by]],
            ["@", "", *(number_format(k) for k, _ in cols)],
        )

    for by in data.rankings:
        comps = list(COMPONENT_NAMES)
        sheet(
            f"{DIMENSIONS[by][0]}排名".replace("（", "(").replace("）", ")"),
            [
                "名次",
                "编码",
                DIMENSIONS[by][0],
                "得分",
                "件数",
                *(f"{COMPONENT_NAMES[c][0]}（权重{data.weights[c]:g}）" for c in comps),
                "得分构成",
            ],
            [
                [
                    s.rank,
                    s.key,
                    s.name,
                    s.score,
                    s.volume,
                    *(next(x.value for x in s.components if x.name == c) for c in comps),
                    s.explain(),
                ]
                for s in data.rankings[by]
            ],
            ["0", "@", "", SCORE, COUNT, *(PERCENT for _ in comps), ""],
        )

    ws = sheet(
        "统计口径",
        ["指标", "口径"],
        [["统计范围", SCOPE_ZH], *([d.zh, d.zh_rule] for d in DEFINITIONS)],
        ["", ""],
    )
    ws.set_column(1, 1, 100, wb.add_format({"text_wrap": True, "valign": "top"}))
    wb.set_properties({"title": data.title, "author": "网格通·指挥室 Gridroom"})
    try:
        wb.close()
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def default_name(period: Period) -> str:
    return f"月报-{period.text}.pdf" if period.kind == "month" else f"统计报表-{period.text}.pdf"


def today_month(now: Millis) -> Period:
    """The month before ``now`` — what a monthly report on the 1st is about."""
    day = from_millis(now).astimezone(SHANGHAI).date().replace(day=1) - dt.timedelta(days=1)
    return Period.of("month", day)
