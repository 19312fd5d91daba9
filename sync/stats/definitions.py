"""The statistical definitions (统计口径), written down once.

Every figure the statistics page, the monthly report and the ranking show is defined here, in
Chinese and English; the report prints this list, docs/user-guide.md quotes it, and
:mod:`sync.stats.core` computes exactly this (its SQL names each figure after its key here).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    key: str
    zh: str  # the figure's name on screen and on paper
    en: str
    zh_rule: str
    en_rule: str
    rate: bool = False  # a share shown as a percentage


#: Which date puts a case in a period, and how the special cases count (applies to every figure).
SCOPE_ZH = (
    "统计对象：上报时间（北京时间）落在统计周期内的事件，一件事件只计入一个周期。"
    "办结、满意等状态以出表时刻的数据为准（出表时间印在报表上），以后办结的事件会使已出周期的数字变化。"
    "延期：在期限届满前批准的延期以延长后的期限为准，在延长期限内办结的计为按期办结；"
    "期限届满后才批准的延期不能抹去超期，计为未按期办结。"
    "挂账：出表时仍处于经批准挂账状态的事件不计入应办结数，单列为挂账件数；恢复办理后照常统计；"
    "办理时长不扣除挂账时间。"
    "联合处置：在全镇数字和按地域、类别、来源、层级的分组中一件事件只计一次；"
    "在部门（承办单位）分组中，每个承办单位（主办和协办）各计一次，只按其自己的部分考核："
    "本单位的反馈是否按期、是否退单；结案、核查不通过和群众满意度计入主办单位。"
    "不予受理和合并的事件计入受理总量，但不计入有效件数及以下各项比率的分母。"
)
SCOPE_EN = (
    "A case belongs to the period in which it was reported (Beijing time); each case counts in "
    "one period only. Closure, satisfaction and other states are as of the moment the figures "
    "are computed (printed on the report): cases of a past period that close later change its "
    "figures. Extensions: an extension approved before the deadline replaces it, and a case "
    "closed by the extended deadline is on time; once past the deadline, a later extension "
    "does not wash out the overdue. Parking: a case parked with approval when the figures are "
    "computed is left out of the cases due for closure and shown as parked; once resumed it "
    "counts as usual; handling time does not subtract parked time. Joint dispatch: in township "
    "figures and in breakdowns by place, category, source and level a case counts once; in the "
    "department (handling unit) breakdown each unit — lead and assisting — counts it once and "
    "is measured on its own part: whether its feedback came by the deadline and whether it "
    "returned the dispatch; closure, failed verifications and satisfaction count for the lead "
    "unit. Rejected and merged cases count in the total received but not in valid cases nor in "
    "the denominators of the rates below."
)

DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        "total",
        "受理总量",
        "Cases received",
        "统计周期内上报的全部事件（含不予受理、合并）。",
        "All cases reported in the period, rejected and merged ones included.",
    ),
    Definition(
        "valid",
        "有效件数",
        "Valid cases",
        "受理总量减去不予受理和合并的事件。",
        "Cases received less those rejected or merged as duplicates.",
    ),
    Definition(
        "closed",
        "办结件数",
        "Closed",
        "有效件中状态为已办结、已归档或已评价的事件。",
        "Valid cases whose status is closed, archived or evaluated.",
    ),
    Definition(
        "parked",
        "挂账件数",
        "Parked",
        "有效件中出表时处于经批准挂账状态的事件。",
        "Valid cases parked with approval when the figures are computed.",
    ),
    Definition(
        "closure_rate",
        "办结率",
        "Closure rate",
        "办结件数 ÷（有效件数 − 挂账件数）。",
        "Closed ÷ (valid cases − parked).",
        rate=True,
    ),
    Definition(
        "on_time_rate",
        "按期办结率",
        "On-time closure rate",
        "办结件中从未超过处置期限（含期限届满前经批准延期后的期限）的件数 ÷ 办结件数。",
        "Closed cases that never ran past their handling deadline (an extension approved before "
        "it included) ÷ closed.",
        rate=True,
    ),
    Definition(
        "satisfaction_rate",
        "满意率",
        "Satisfaction rate",
        "评价为满意或基本满意的件数 ÷ 已评价满意度的件数。",
        "Cases rated satisfied or basically satisfied ÷ cases rated.",
        rate=True,
    ),
    Definition(
        "self_rate",
        "自处率",
        "Self-handled rate",
        "网格员现场自行处置（小事不出格）的件数 ÷ 有效件数。",
        "Cases a grid worker solved on the spot (self-handled) ÷ valid cases.",
        rate=True,
    ),
    Definition(
        "resolution_rate",
        "化解率",
        "Dispute resolution rate",
        "矛盾纠纷类有效件中，在乡镇（街道）及以下层级办结的件数 ÷ 矛盾纠纷类有效件数"
        "（上报县级的不计为化解）。",
        "Valid dispute cases (矛盾纠纷) closed at township level or below ÷ valid dispute "
        "cases (a case escalated to the county does not count as resolved).",
        rate=True,
    ),
    Definition(
        "avg_days",
        "平均办理时长（工作日）",
        "Average handling time (working days)",
        "办结件从受理到核查通过所经过的工作日数的平均值；工作日按国务院节假日安排（含调休），"
        "受理当天不计，结案当天计入。",
        "Mean working days from acceptance to passed verification over closed cases, by the "
        "official holiday calendar with make-up working days; the day of acceptance is not "
        "counted, the day of closure is.",
    ),
    Definition(
        "overdue",
        "超期件数",
        "Overdue",
        "逾期办结的件数加上出表时仍在办且已超过受理或处置期限的件数。",
        "Cases closed after their deadline plus open cases past their acceptance or handling "
        "deadline when the figures are computed.",
    ),
    Definition(
        "urged",
        "督办件数",
        "Urged",
        "被督办过至少一次的事件数（督办次数另列）。",
        "Cases urged at least once by a supervisor (the number of urges is shown apart).",
    ),
    Definition(
        "return_rate",
        "退单率",
        "Return rate",
        "被承办单位退单至少一次的件数 ÷ 派遣过的件数；"
        "部门分组中为本单位退单的件数 ÷ 派给本单位的件数。",
        "Cases returned by a unit at least once ÷ cases dispatched; in the department "
        "breakdown, cases the unit returned ÷ cases dispatched to it.",
        rate=True,
    ),
    Definition(
        "verify_fail_rate",
        "核查不通过率",
        "Verification failure rate",
        "核查不通过次数 ÷ 核查总次数（通过加不通过）。",
        "Failed verifications ÷ all verifications (passed and failed).",
        rate=True,
    ),
)

BY_KEY = {d.key: d for d in DEFINITIONS}

#: The breakdowns (分组) and their names.
DIMENSIONS: dict[str, tuple[str, str]] = {
    "category": ("事件类别", "Category"),
    "village": ("村（社区）", "Village / community"),
    "grid": ("网格", "Grid"),
    "department": ("承办部门", "Department"),
    "worker": ("上报人", "Reporter"),
    "source": ("事件来源", "Source"),
    "level": ("办理层级", "Level"),
    "township": ("乡镇（街道）", "Township"),
}

DIMENSION_RULES_ZH = {
    "category": "按事件大类，取事件当前的类别。",
    "village": "按事件所在村（社区）。",
    "grid": "按事件所在网格。",
    "department": "按承办单位（派遣给的部门），联合处置每个承办单位各计一次。",
    "worker": "按上报事件的账号（上报人）。",
    "source": "按事件来源（巡查、村情通、12345热线等）。",
    "level": "按事件出表时所在的办理层级（网格、村、乡镇、县）。",
    "township": "按事件所在乡镇（街道），县级指挥中心使用。",
}

SOURCE_NAMES = {
    "patrol": "网格员巡查",
    "resident_app": "村情通/随手拍",
    "hotline": "12345热线",
    "walk_in": "来访",
    "department": "部门移交",
    "video": "视频监控",
}
LEVEL_NAMES = {1: "网格", 2: "村（社区）", 3: "乡镇（街道）", 4: "县级"}
