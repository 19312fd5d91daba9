"""Code → name look-ups a page needs to show a case row in words (village, grid, category …).

Reference data is small (a county has ~300 villages and ~700 grids), so it is read once per
open store through the store's query API and kept; :meth:`Names.reload` refreshes it after a
sync brings new grids or a new taxonomy.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync.model.divisions import short_name
from sync.model.taxonomy import Taxonomy
from sync.store import Store

if TYPE_CHECKING:
    from .context import AppContext


@dataclass
class Names:
    """What codes are called: villages (short names), grids, departments, categories, accounts."""

    scope: str = ""
    scope_name: str = ""
    synthetic: bool = False
    divisions: dict[str, str] = field(default_factory=dict)  # code → full name
    villages: dict[str, str] = field(default_factory=dict)  # code → short name
    village_order: list[str] = field(default_factory=list)
    grids: dict[str, str] = field(default_factory=dict)  # code → name
    grid_village: dict[str, str] = field(default_factory=dict)  # grid code → village code
    departments: dict[str, str] = field(default_factory=dict)
    #: 县级部门: the departments that take only county-level cases.
    county_departments: frozenset[str] = frozenset()
    accounts: dict[str, str] = field(default_factory=dict)
    taxonomy: Taxonomy | None = None

    @classmethod
    def load(cls, store: Store) -> Names:
        """Read every look-up from ``store`` (fast: reference tables only)."""
        names = cls(scope=store.scope, synthetic=store.synthetic, taxonomy=store.taxonomy)
        for d in store.divisions():
            names.divisions[d.code] = d.name
            if d.level.value == "village":
                names.villages[d.code] = short_name(d.name)
                names.village_order.append(d.code)
        names.scope_name = names.divisions.get(store.scope, store.scope)
        for g in store.grids():
            names.grids[g.code] = g.name
            names.grid_village[g.code] = g.village_code
        names.departments = {d.code: d.name for d in store.departments()}
        names.county_departments = frozenset(d.code for d in store.departments() if d.county)
        names.accounts = {a.id: a.name for a in store.accounts()}
        return names

    def village(self, code: str | None) -> str:
        if not code:
            return ""
        return self.villages.get(code) or short_name(self.divisions.get(code, code))

    def grid(self, code: str | None) -> str:
        if not code:
            return ""
        return self.grids.get(code, code)

    def category(self, code: str | None) -> str:
        """``矛盾纠纷/邻里纠纷`` for a minor code, ``矛盾纠纷`` for a major one."""
        if not code:
            return ""
        if self.taxonomy is None or code not in self.taxonomy:
            return code
        return self.taxonomy.path(code)

    def category_short(self, code: str | None) -> str:
        if not code:
            return ""
        found = self.taxonomy.get(code) if self.taxonomy is not None else None
        return found.name if found is not None else code

    def assignee(self, code: str | None) -> str:
        """A task holder: a department or a grid."""
        if not code:
            return ""
        return self.departments.get(code) or self.grids.get(code) or code

    def account(self, account_id: str | None) -> str:
        if not account_id:
            return ""
        return self.accounts.get(account_id, account_id)

    def village_of_grid(self, grid_code: str) -> str | None:
        return self.grid_village.get(grid_code)

    def grids_of(self, village_code: str) -> list[str]:
        return sorted(g for g, v in self.grid_village.items() if v == village_code)

    def as_dict(self) -> dict[str, Any]:  # for debugging and the self-test
        return {"scope": self.scope, "villages": len(self.villages), "grids": len(self.grids)}


_BY_CONTEXT: weakref.WeakKeyDictionary[Any, Names] = weakref.WeakKeyDictionary()


def of(ctx: AppContext) -> Names:
    """The look-ups of the context's open store, read on first use and then shared."""
    names = _BY_CONTEXT.get(ctx)
    if names is None:
        names = Names.load(ctx.ops.gui_store())
        _BY_CONTEXT[ctx] = names
    return names


def reload(ctx: AppContext) -> Names:
    """Read the look-ups again (after a sync brought new grids, accounts or a taxonomy)."""
    _BY_CONTEXT.pop(ctx, None)
    return of(ctx)
