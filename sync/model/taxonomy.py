"""The two-level case taxonomy (大类/小类) and its time limits (限时办结).

Counties edit the taxonomy and its deadlines; the client receives it from the county. The default
here is what a new store and the reference county start from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .records import Urgency


@dataclass(frozen=True, slots=True)
class Deadline:
    """Time limits for one urgency: acceptance in hours; handling in working days or hours."""

    accept_hours: int
    handle_days: int | None = None  # working days
    handle_hours: int | None = None  # clock hours (urgent matters)

    def __post_init__(self) -> None:
        if (self.handle_days is None) == (self.handle_hours is None):
            raise ValueError("a deadline sets either handle_days or handle_hours")


@dataclass(frozen=True, slots=True)
class Category:
    code: str  # "01" for a major category, "0101" for a minor one
    name: str
    parent: str | None
    normal: Deadline
    urgent: Deadline

    def deadline(self, urgency: Urgency) -> Deadline:
        return self.urgent if urgency == Urgency.URGENT else self.normal

    @property
    def is_major(self) -> bool:
        return self.parent is None


class Taxonomy:
    """Look-up over a set of categories; minor categories inherit nothing implicitly."""

    def __init__(self, categories: Iterable[Category]) -> None:
        self._by_code = {c.code: c for c in categories}
        for c in self._by_code.values():
            if c.parent is not None and c.parent not in self._by_code:
                raise ValueError(f"category {c.code} names unknown parent {c.parent}")

    def __iter__(self) -> Iterator[Category]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Category | None:
        return self._by_code.get(code)

    def __getitem__(self, code: str) -> Category:
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"unknown category code {code!r}") from None

    def majors(self) -> list[Category]:
        return [c for c in self._by_code.values() if c.parent is None]

    def minors(self, parent: str | None = None) -> list[Category]:
        return [
            c
            for c in self._by_code.values()
            if c.parent is not None and (parent is None or c.parent == parent)
        ]

    def by_name(self, name: str) -> Category | None:
        """Find a category by its Chinese name (``大类/小类`` or a unique minor name)."""
        name = name.strip()
        if "/" in name:
            major, minor = (p.strip() for p in name.split("/", 1))
            for c in self.minors():
                if c.name == minor and self._by_code[c.parent or ""].name == major:
                    return c
            return None
        found = [c for c in self._by_code.values() if c.name == name]
        return found[0] if len(found) == 1 else None

    def path(self, code: str) -> str:
        c = self[code]
        return f"{self[c.parent].name}/{c.name}" if c.parent else c.name


def _d(accept_hours: int, days: int) -> Deadline:
    return Deadline(accept_hours=accept_hours, handle_days=days)


def _h(accept_hours: int, hours: int) -> Deadline:
    return Deadline(accept_hours=accept_hours, handle_hours=hours)


# (code, name, [(code, name, normal, urgent)]) — deadlines follow common county practice:
# acceptance within 2 hours (urgent 30 minutes is rounded up to 1 hour), handling within 3–15
# working days, urgent matters within 4–24 hours.
_DEFAULT = [
    (
        "01",
        "矛盾纠纷",
        [
            ("0101", "邻里纠纷", _d(2, 5), _h(1, 24)),
            ("0102", "家庭纠纷", _d(2, 5), _h(1, 24)),
            ("0103", "土地山林纠纷", _d(2, 15), _h(1, 48)),
            ("0104", "劳资纠纷", _d(2, 10), _h(1, 24)),
            ("0105", "物业纠纷", _d(2, 7), _h(1, 24)),
        ],
    ),
    (
        "02",
        "安全隐患",
        [
            ("0201", "消防隐患", _d(2, 3), _h(1, 4)),
            ("0202", "燃气隐患", _d(2, 3), _h(1, 4)),
            ("0203", "建筑施工", _d(2, 5), _h(1, 8)),
            ("0204", "道路交通", _d(2, 5), _h(1, 8)),
            ("0205", "防汛防台", _d(2, 3), _h(1, 4)),
        ],
    ),
    (
        "03",
        "环境卫生",
        [
            ("0301", "垃圾堆放", _d(2, 3), _h(1, 24)),
            ("0302", "污水排放", _d(2, 5), _h(1, 24)),
            ("0303", "公厕保洁", _d(2, 3), _h(1, 24)),
        ],
    ),
    (
        "04",
        "违章建筑",
        [
            ("0401", "违法建房", _d(2, 15), _h(1, 48)),
            ("0402", "违规搭建", _d(2, 10), _h(1, 48)),
        ],
    ),
    (
        "05",
        "社会治安",
        [
            ("0501", "治安隐患", _d(2, 3), _h(1, 4)),
            ("0502", "重点人员", _d(2, 5), _h(1, 8)),
        ],
    ),
    (
        "06",
        "民生服务",
        [
            ("0601", "养老服务", _d(2, 7), _h(1, 24)),
            ("0602", "补贴救助", _d(2, 10), _h(1, 48)),
            ("0603", "证照办理", _d(2, 7), _h(1, 48)),
            ("0604", "水电气维修", _d(2, 3), _h(1, 8)),
        ],
    ),
    (
        "07",
        "市场监管",
        [
            ("0701", "食品安全", _d(2, 5), _h(1, 8)),
            ("0702", "无证经营", _d(2, 10), _h(1, 24)),
        ],
    ),
    (
        "08",
        "生态环境",
        [
            ("0801", "非法捕捞", _d(2, 5), _h(1, 8)),
            ("0802", "环境污染", _d(2, 5), _h(1, 8)),
        ],
    ),
    (
        "09",
        "应急处置",
        [
            ("0901", "突发事件", _h(1, 24), _h(1, 4)),
            ("0902", "自然灾害", _h(1, 24), _h(1, 4)),
        ],
    ),
    (
        "99",
        "其他",
        [
            ("9901", "其他事项", _d(2, 10), _h(1, 48)),
        ],
    ),
]


def default_taxonomy() -> Taxonomy:
    categories: list[Category] = []
    for code, name, minors in _DEFAULT:
        # A major category's own limits are the loosest of its minors: cases filed under the
        # major alone (an imported spreadsheet that names only 大类) still get a deadline.
        normal = max((m[2] for m in minors), key=_span)
        urgent = max((m[3] for m in minors), key=_span)
        categories.append(Category(code, name, None, normal, urgent))
        categories.extend(Category(c, n, code, nd, ud) for c, n, nd, ud in minors)
    return Taxonomy(categories)


def _span(d: Deadline) -> int:
    return (d.handle_days or 0) * 24 + (d.handle_hours or 0)
