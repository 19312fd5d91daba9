"""The 网格 page: the division/grid tree model, search, a grid's team and size, its cases."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex

from desktop.grids import GridsPage
from desktop.grids.tree_model import NODE_ROLE, GridTreeModel
from sync.store import Store
from sync.store.queries import CaseQuery
from tests.conftest import HUAIWANG, ZHANGWANG

from .conftest import OVERSIZE_GRID


@pytest.fixture
def page(ctx, qtbot):
    widget = GridsPage(ctx)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    with qtbot.waitSignal(widget.loaded, timeout=10_000):
        widget.show()
    return widget


def tree(path, clock):
    with Store.open(path, clock=clock) as store:
        return store.grid_tree()


def visible_codes(page: GridsPage) -> set[str]:
    out: set[str] = set()

    def walk(parent: QModelIndex) -> None:
        for row in range(page.proxy.rowCount(parent)):
            index = page.proxy.index(row, 0, parent)
            out.add(index.data(NODE_ROLE)["code"])
            walk(index)

    walk(QModelIndex())
    return out


def test_tree_model_passes_qtmodeltester(case_store_path, clock, qtmodeltester):
    model = GridTreeModel()
    qtmodeltester.check(model)  # empty
    model.set_tree(tree(case_store_path, clock))
    qtmodeltester.check(model)
    county = model.index(0, 0)
    assert county.data() == "龙游县"
    township = model.index(0, 0, county)
    assert township.data() == "东华街道"
    # Every village of the township, even those without grids yet; short names.
    villages = [model.index(r, 0, township).data() for r in range(model.rowCount(township))]
    assert "张王村" in villages and len(villages) == 28


def test_parent_counts_are_sums_of_their_grids(case_store_path, clock):
    model = GridTreeModel()
    model.set_tree(tree(case_store_path, clock))
    with Store.open(case_store_path, clock=clock) as store:
        open_total = store.count(CaseQuery(open_only=True))
        per_grid = store.open_by_grid()
    township = model.node(model.index(0, 0, model.index(0, 0)))
    assert township is not None
    assert township.data["open"] == sum(n for n, _ in per_grid.values()) == open_total
    assert township.data["overdue"] == sum(o for _, o in per_grid.values())


def test_search_narrows_the_tree_by_name_or_code(page):
    page.search.setText("张王")
    codes = visible_codes(page)
    assert ZHANGWANG in codes and f"{ZHANGWANG}001" in codes and f"{ZHANGWANG}002" in codes
    assert HUAIWANG not in codes
    page.search.setText(f"{HUAIWANG}002")
    assert OVERSIZE_GRID.code in visible_codes(page)
    assert ZHANGWANG not in visible_codes(page)
    page.search.clear()
    assert HUAIWANG in visible_codes(page)


def test_grid_detail_shows_its_team_and_liaisons(page):
    assert page.select(f"{ZHANGWANG}001")
    detail = page.detail
    assert detail.title.text().startswith("张王村第一网格")
    roles = [detail.team.item(r, 0).text() for r in range(detail.team.rowCount())]
    # 一长三员, leader first.
    assert roles == ["网格长", "专职网格员", "兼职网格员", "网格指导员"]
    departments = {detail.liaisons.item(r, 0).text() for r in range(detail.liaisons.rowCount())}
    assert departments == {"东华派出所", "东华司法所"}
    assert not detail.oversize.isVisible()


def test_oversize_grid_is_flagged(page):
    assert page.select(OVERSIZE_GRID.code)
    assert page.detail.oversize.isVisible()
    assert "200" in page.detail.oversize.text() and "500" in page.detail.oversize.text()
    assert page.detail.households.text() == "420"


def test_open_and_overdue_buttons_land_on_the_grid_cases(page, ctx, case_store_path, clock, qtbot):
    grid = f"{ZHANGWANG}001"
    assert page.select(grid)
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
        page.detail.open_button.click()
    assert shown.args == [CaseQuery(grid_code=grid, open_only=True)]
    with Store.open(case_store_path, clock=clock) as store:
        open_count, overdue = store.open_by_grid()[grid]
        assert store.count(shown.args[0]) == open_count
    assert page.detail.open_button.text() == f"在办事件 {open_count} 件"
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
        page.detail.overdue_button.click()
    assert shown.args == [CaseQuery(grid_code=grid, light="red")]
    assert overdue > 0


def test_village_node_shows_totals_and_lands_on_its_cases(page, ctx, qtbot):
    assert page.select(ZHANGWANG)
    node = page.detail.node
    assert node is not None and node["level"] == "village" and node["grids"] == 2
    assert not page.detail.team.isVisible()
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
        page.detail.open_button.click()
    assert shown.args == [CaseQuery(village_code=ZHANGWANG, open_only=True)]
