"""The 地图 page on a real demo store: outlines drawn are the store's grids, colours follow the
counts, clicks open exactly the grid's cases or the marker's case, markers cluster by zoom."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import shapely
from PySide6.QtCore import QPoint, Qt

from desktop.map import MapPage
from desktop.map.page import CLASS_COLOURS, ZERO_COLOUR, MarkerItem, class_of, colour_of
from sync.demo.build import DemoSpec, build_demo
from sync.geo.shapes import from_geojson
from sync.model.records import OPEN_STATUSES
from sync.store import Store
from tests.conftest import TOWNSHIP, Clock

CASES = 300


@pytest.fixture(scope="module")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mapdemo") / "demo.sqlite"
    build_demo(path, DemoSpec(TOWNSHIP, cases=CASES, seed=2, now=Clock().now))
    return path


@pytest.fixture
def demo_path(_demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.sqlite"
    shutil.copyfile(_demo_template, path)
    return path


@pytest.fixture
def page(make_ctx, demo_path, qtbot):
    ctx = make_ctx(demo_path)
    widget = MapPage(ctx)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    with qtbot.waitSignal(widget.markers_loaded, timeout=15_000):
        widget.show()
    return widget


def _open_counts(path: Path, clock: Clock) -> dict[str, tuple[int, int]]:
    """Open and overdue cases per grid, counted here in SQL (not by the map's code)."""
    marks = ",".join("?" * len(OPEN_STATUSES))
    with Store.open(path, clock=clock) as store:
        rows = store.read(
            f"SELECT grid_code, count(*), sum(due_at < ?) FROM cases WHERE status IN ({marks}) "
            "GROUP BY grid_code",
            [clock.now, *(s.value for s in OPEN_STATUSES)],
        )
    return {r[0]: (r[1], r[2] or 0) for r in rows}


def _click_scene(qtbot, page: MapPage, lon: float, lat: float) -> None:
    at = page.view.mapFromScene(page.to_scene(lon, lat))
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=at)


def test_the_polygons_drawn_are_the_store_grids(page, demo_path, clock):
    with Store.open(demo_path, clock=clock) as store:
        grids = {g.code for g in store.grids()}
        shapes = dict(store.read("SELECT code, geojson FROM shapes WHERE kind = 'grid'"))
    assert set(page.grid_items) == grids == set(shapes)
    for code, item in page.grid_items.items():
        x0, y0, x1, y1 = from_geojson(shapes[code]).bounds
        rect = item.path().boundingRect()
        top_left, bottom_right = page.to_scene(x0, y1), page.to_scene(x1, y0)
        assert rect.left() == pytest.approx(top_left.x(), abs=1e-3), code
        assert rect.top() == pytest.approx(top_left.y(), abs=1e-3), code
        assert rect.right() == pytest.approx(bottom_right.x(), abs=1e-3), code
        assert rect.bottom() == pytest.approx(bottom_right.y(), abs=1e-3), code
    # The synthetic outlines say so.
    assert "合成" in page.note.text()


def test_the_colours_follow_the_counts(page, demo_path, clock):
    counts = _open_counts(demo_path, clock)
    assert sum(n for n, _ in counts.values()) > 0
    for mode, pick in (("open", 0), ("overdue", 1)):
        page.mode.setCurrentIndex(page.mode.findData(mode))
        values = {code: counts.get(code, (0, 0))[pick] for code in page.grid_items}
        step = page.step()
        assert step == pytest.approx(max(values.values()) / len(CLASS_COLOURS)), mode
        for code, item in page.grid_items.items():
            expected = colour_of(values[code], step).name()
            assert item.brush().color().name() == expected, (mode, code)
            if values[code] == 0:
                assert expected == ZERO_COLOUR
        # The busiest grid is in the darkest class; the legend has a row per class.
        busiest = max(values, key=lambda c: values[c])
        if values[busiest]:
            assert class_of(values[busiest], step) == len(CLASS_COLOURS) - 1
        # The legend names every colour on the map, and each value's row holds it.
        legend = {c.name(): text for c, text in page.legend.rows}
        for code, value in values.items():
            text = legend[page.grid_items[code].brush().color().name()]
            if value == 0:
                assert text == "无"
            else:
                lo, _, hi = text.partition(" – ")
                assert int(lo) <= value <= int(hi or lo), (text, value)


def test_a_click_on_a_grid_lists_exactly_its_open_cases(page, demo_path, clock, qtbot):
    page.show_markers.setChecked(False)  # markers would take the click
    counts = _open_counts(demo_path, clock)
    code = max(counts, key=lambda c: counts[c][0])
    with Store.open(demo_path, clock=clock) as store:
        outline = from_geojson(
            store.read("SELECT geojson FROM shapes WHERE code = ?", [code])[0][0]
        )
        inside = outline.representative_point()
        # Zoom in on the grid so the click lands well inside it.
        page.zoom_to(inside.x, inside.y, 4.0)
        with qtbot.waitSignal(page._ctx.show_cases_requested, timeout=3000) as shown:
            _click_scene(qtbot, page, inside.x, inside.y)
        query = shown.args[0]
        listed = {r["id"] for r in store.cases(query, limit=10_000)}
        marks = ",".join("?" * len(OPEN_STATUSES))
        expected = {
            r[0]
            for r in store.read(
                f"SELECT id FROM cases WHERE grid_code = ? AND status IN ({marks})",
                [code, *(s.value for s in OPEN_STATUSES)],
            )
        }
    assert query.grid_code == code
    assert listed == expected and len(expected) == counts[code][0]


def test_markers_cluster_when_zoomed_out_and_a_single_marker_opens_its_case(
    page, demo_path, clock, qtbot
):
    with Store.open(demo_path, clock=clock) as store:
        marks = ",".join("?" * len(OPEN_STATUSES))
        placed = store.read(
            f"SELECT id, lon, lat FROM cases WHERE status IN ({marks}) AND lon IS NOT NULL",
            [s.value for s in OPEN_STATUSES],
        )
    # Zoomed out: every open case is counted once, in fewer markers than cases.
    assert sum(m.cluster.count for m in page.markers) == len(placed)
    assert len(page.markers) < len(placed)
    # Zoomed in on one case until it stands alone, its marker opens exactly it.
    case_id, lon, lat = placed[0]
    for _ in range(12):
        with qtbot.waitSignal(page.markers_loaded, timeout=10_000):
            page.zoom_to(lon, lat, 2.0)
        alone = [m for m in page.markers if m.cluster.count == 1 and m.cluster.case_id == case_id]
        if alone:
            break
    assert alone, "the case never stood alone"
    with qtbot.waitSignal(page._ctx.open_case_requested, timeout=3000) as opened:
        _click_scene(qtbot, page, alone[0].cluster.lon, alone[0].cluster.lat)
    assert opened.args == [case_id]


def test_a_click_on_a_cluster_zooms_in(page, qtbot):
    cluster = max(page.markers, key=lambda m: m.cluster.count)
    assert isinstance(cluster, MarkerItem) and cluster.cluster.count > 1
    before = page.view.scale_now()
    with qtbot.waitSignal(page.markers_loaded, timeout=10_000):
        _click_scene(qtbot, page, cluster.cluster.lon, cluster.cluster.lat)
    assert page.view.scale_now() == pytest.approx(before * 3.0)


def test_labels_follow_the_zoom(page):
    grid_labels = [label for label in page.labels.values() if label.data(1) == "grid"]
    assert not any(label.isVisible() for label in grid_labels)
    centre = shapely.Point(page.to_lonlat(page.view.mapToScene(QPoint(600, 400))))
    page.zoom_to(centre.x, centre.y, 8.0)
    assert any(label.isVisible() for label in grid_labels)


def test_the_main_window_has_the_map_page(window):
    assert "map" in window.page_keys()
    titles = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert "地图" in titles


def test_a_new_case_shows_on_the_map_without_a_restart(page, demo_path, clock, qtbot):
    store = page._ctx.ops.gui_store()
    code = sorted(page.grid_items)[0]
    before = page.data.counts[code].open
    placed_before = sum(m.cluster.count for m in page.markers)
    outline = from_geojson(store.read("SELECT geojson FROM shapes WHERE code = ?", [code])[0][0])
    at = outline.representative_point()
    operator = store.account("demo-operator")
    fields = {
        "title": "井盖缺失",
        "category": "0201",
        "grid_id": code,
        "location": f"{at.x},{at.y}",
    }
    page._ctx.ops.write(lambda s: s.report(operator, fields)).run()
    # The write's change signal makes the page read again: outlines' counts, then markers.
    qtbot.waitUntil(lambda: page.data.counts[code].open == before + 1, timeout=15_000)
    qtbot.waitUntil(
        lambda: sum(m.cluster.count for m in page.markers) == placed_before + 1, timeout=15_000
    )


def test_many_outlines_on_screen_draw_without_antialiasing(page):
    assert page.grids_in_view() == len(page.grid_items)  # the whole township fits
    assert page.view.antialiased()  # 79 grids: under the limit
    page.antialias_limit = 20
    page.fit()
    assert not page.view.antialiased()
    lon, lat = page.to_lonlat(page.grid_items[sorted(page.grid_items)[0]].path().pointAtPercent(0))
    page.zoom_to(lon, lat, 20.0)
    assert page.grids_in_view() <= 20 and page.view.antialiased()
