"""The real administrative divisions of 衢州市 (county → township → village), from the bundled
statistical division codes. Grids, people and cases on top of them are synthetic in demos.
"""

from __future__ import annotations

import csv
from functools import lru_cache

from gridroom_resources import path as resource_path

from .records import Division, DivisionLevel

DIVISIONS_CSV = resource_path("divisions", "quzhou_3308.csv")


@lru_cache(maxsize=1)
def all_divisions() -> tuple[Division, ...]:
    with DIVISIONS_CSV.open(encoding="utf-8", newline="") as fh:
        return tuple(
            Division(r["code"], r["name"], r["parent_code"] or None, DivisionLevel(r["level"]))
            for r in csv.DictReader(fh)
        )


@lru_cache(maxsize=1)
def by_code() -> dict[str, Division]:
    return {d.code: d for d in all_divisions()}


def children(code: str) -> list[Division]:
    return [d for d in all_divisions() if d.parent_code == code]


def lineage(code: str) -> list[Division]:
    """The division and its ancestors up to the city, nearest first."""
    table = by_code()
    out = []
    current = table.get(code)
    while current is not None:
        out.append(current)
        current = table.get(current.parent_code or "")
    return out


def scope_divisions(code: str) -> list[Division]:
    """A township or county with all its ancestors and descendants: what a store holds."""
    table = by_code()
    if code not in table:
        raise KeyError(code)
    top = table[code]
    if top.level not in (DivisionLevel.TOWNSHIP, DivisionLevel.COUNTY):
        raise ValueError(f"{code} ({top.name}) is a {top.level.value}, not a township or county")
    result = {d.code: d for d in lineage(code)}
    frontier = [code]
    while frontier:
        parent = frontier.pop()
        for child in children(parent):
            result[child.code] = child
            frontier.append(child.code)
    return sorted(result.values(), key=lambda d: d.code)


def is_urban(village: Division) -> bool:
    """社区/居委会 (and farm living quarters, 生活区) are urban; 村委会 are rural villages."""
    return village.name.endswith(("社区", "居委会", "居民委员会", "生活区"))


_SUFFIXES = (
    ("村村民委员会", "村"),
    ("村民委员会", "村"),
    ("村村委会", "村"),
    ("村委会", "村"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
)


def short_name(name: str) -> str:
    """What people call a village: 张王村村委会 → 张王村, 书香社区居委会 → 书香社区."""
    for suffix, replacement in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] + replacement
    return name
