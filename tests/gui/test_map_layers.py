"""The 地图 page's layers, filters, place search, "show on map", export and the off-thread base
image, on a real demo store: every count checked against the store in SQL of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QGraphicsItem

from desktop.map import MapPage
from sync.demo.build import DemoSpec, build_demo
from sync.geo.shapes import from_geojson
from sync.model.records import DONE_STATUSES, OPEN_STATUSES
from sync.store import Store
from sync.store.queries import CaseQuery
from tests.conftest import TOWNSHIP, Clock

OPEN = [s.value for s in OPEN_STATUSES]
DONE = [s.value for s in DONE_STATUSES]


@pytest.fixture(scope="module")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("maplayers") / "demo.sqlite"
    build_demo(path, DemoSpec(TOWNSHIP, cases=400, seed=3, now=Clock().now))
    return path


@pytest.fixture
def demo_path(_demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.sqlite"
    shutil.copyfile(_demo_template, path)
    return path


@pytest.fixture
def page(make_ctx, demo_path, qtbot):
    widget = MapPage(make_ctx(demo_path))
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    with qtbot.waitSignal(widget.base_drawn, timeout=20_000):
        widget.show()
    qtbot.waitUntil(lambda: not widget.loading() and bool(widget.markers), timeout=20_000)
    return widget


def _count(path: Path, clock: Clock, sql: str, args: list) -> int:
    with Store.open(path, clock=clock) as store:
        return int(
            store.read(f"SELECT count(*) FROM cases WHERE lon IS NOT NULL AND {sql}", args)[0][0]
        )


def _by_layer(page: MapPage) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in page.markers:
        out[m.layer] = out.get(m.layer, 0) + m.cluster.count
    return out


def _reload(page: MapPage, qtbot, action) -> None:
    with qtbot.waitSignal(page.markers_loaded, timeout=15_000):
        action()
    qtbot.waitUntil(lambda: not page.loading(), timeout=15_000)


def test_the_outlines_are_one_image_drawn_off_the_gui_thread(page, qtbot):
    item = page.image_item
    assert item is not None and isinstance(item.image, QImage) and not item.image.isNull()
    # The outline items answer clicks but paint nothing while the image shows them.
    flag = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents
    assert all(bool(a.flags() & flag) for a in page.grid_items.values())
    # The image holds the grid colours: the pixel at a grid's inside point is its fill.
    code, grid = next(iter(page.grid_items.items()))
    inside = from_geojson(
        page._ctx.ops.gui_store().read("SELECT geojson FROM shapes WHERE code = ?", [code])[0][0]
    ).representative_point()
    scene = page.to_scene(inside.x, inside.y)
    px = (scene - item.rect.topLeft()) * (item.image.width() / item.rect.width())
    colour = item.image.pixelColor(int(px.x()), int(px.y()))
    assert colour.name() == grid.brush().color().name()
    # A zoom asks for a sharper image at the new scale.
    before = item.image.width() / item.rect.width()
    with qtbot.waitSignal(page.base_drawn, timeout=15_000):
        page.zoom_to(inside.x, inside.y, 4.0)
    assert item.image.width() / item.rect.width() == pytest.approx(before * 4.0, rel=0.02)


def test_case_layers_by_state_switch_on_and_off(page, demo_path, clock, qtbot):
    now = clock.now
    open_ = _count(demo_path, clock, f"status IN ({','.join('?' * len(OPEN))}) AND "
                   "(due_at IS NULL OR due_at >= ?)", [*OPEN, now])  # fmt: skip
    overdue = _count(demo_path, clock, f"status IN ({','.join('?' * len(OPEN))}) AND "
                     "due_at < ?", [*OPEN, now])  # fmt: skip
    closed = _count(demo_path, clock, f"status IN ({','.join('?' * len(DONE))})", DONE)
    assert open_ and overdue and closed
    page.fit()
    qtbot.waitUntil(lambda: not page.loading(), timeout=15_000)
    assert _by_layer(page) == {"open": open_, "overdue": overdue}
    _reload(page, qtbot, lambda: page.set_layer("closed", True))
    assert _by_layer(page) == {"open": open_, "overdue": overdue, "closed": closed}
    assert page.all_cases.isChecked()  # the checkbox is the same switch
    _reload(page, qtbot, lambda: page.set_layer("overdue", False))
    assert _by_layer(page) == {"open": open_, "closed": closed}
    colours = {m.layer: m.colour.name() for m in page.markers}
    assert colours["open"] != colours["closed"]
    # Visits and organisations have no places yet: their layers cannot be switched on.
    assert not page.layer_actions["visits"].isEnabled()
    assert "visits" not in page.point_layers()
    # Boundaries off: no outline image, no labels; clicks on grids still find them.
    page.set_layer("boundaries", False)
    assert not page.image_item.isVisible()
    assert not any(label.isVisible() for label in page.labels.values())
    page.set_layer("boundaries", True)
    assert page.image_item.isVisible()


def test_the_case_lists_filter_applies_to_the_map(page, demo_path, clock, qtbot):
    with Store.open(demo_path, clock=clock) as store:
        major = store.read(
            f"SELECT major FROM cases WHERE status IN ({','.join('?' * len(OPEN))}) "
            "AND lon IS NOT NULL GROUP BY major ORDER BY count(*) DESC",
            OPEN,
        )[1][0]
    wanted = _count(
        demo_path, clock, f"major = ? AND status IN ({','.join('?' * len(OPEN))})", [major, *OPEN]
    )
    everything = sum(_by_layer(page).values())
    _reload(page, qtbot, lambda: page.set_list_query(CaseQuery(category=major)))
    assert sum(_by_layer(page).values()) == wanted < everything
    # Not following the list: every open case again.
    _reload(page, qtbot, lambda: page.follow_list.setChecked(False))
    assert sum(_by_layer(page).values()) == everything


def test_the_map_view_filters_the_case_list(page, demo_path, clock, qtbot):
    code = max(page.grid_items, key=lambda c: page.data.counts[c].open)
    assert page.go_to_place(code)
    box = page.view_bbox()
    with qtbot.waitSignal(page._ctx.show_cases_requested, timeout=3000) as shown:
        page.list_in_view.click()
    query = shown.args[0]
    assert query.bbox == box and query.open_only
    with Store.open(demo_path, clock=clock) as store:
        listed = {r["id"] for r in store.cases(query, limit=10_000)}
        expected = {
            r[0]
            for r in store.read(
                f"SELECT id FROM cases WHERE status IN ({','.join('?' * len(OPEN))}) "
                "AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?",
                [*OPEN, box[0], box[2], box[1], box[3]],
            )
        }
    assert listed == expected and expected


def test_place_search_zooms_to_the_place(page, qtbot):
    village = next(a for a in page.data.areas if a.kind == "village")
    grid = next(a for a in page.data.areas if a.kind == "grid")
    for text, area in ((village.name, village), (grid.code, grid)):
        page.fit()
        page.search.setText(text)
        page._search_entered()
        box = page.view_bbox()
        xs = [x for ring in area.rings for x, _ in ring]
        ys = [y for ring in area.rings for _, y in ring]
        # The place fills the view: inside it, and not lost in a much larger view.
        assert box[0] <= min(xs) and max(xs) <= box[2] and box[1] <= min(ys) and max(ys) <= box[3]
        assert (box[2] - box[0]) < 3 * (max(xs) - min(xs)) or (box[3] - box[1]) < 3 * (
            max(ys) - min(ys)
        )
        assert page.highlight is not None and page.highlight.scene() is page.scene
    assert page.find_places("没有这个地方") == []
    page.search.setText("没有这个地方")
    page._search_entered()
    assert "没有这个地方" in page.note.text()


@pytest.fixture
def window(make_ctx, demo_path, qtbot):
    from desktop.mainwindow import MainWindow

    win = MainWindow(make_ctx(demo_path, Store.open(demo_path).account("demo-operator")))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def test_show_on_map_from_the_grid_page_and_the_case_detail(window, qtbot):
    """The grid page's and the case detail's buttons land on the map, on the place."""
    window.go("grids")
    store = window.ctx.ops.gui_store()
    code = store.read("SELECT code FROM shapes WHERE kind = 'grid' ORDER BY code")[0][0]
    node = {"level": "grid", "code": code, "label": code, "open": 0, "overdue": 0}
    details = window.grids.detail
    details.show_node(node)
    assert details.map_button.isVisible() and details.map_button.text() == "在地图上显示"
    with qtbot.waitSignal(window.ctx.show_on_map_requested, timeout=3000) as asked:
        details.map_button.click()
    assert asked.args == ["grid", code]
    assert window.current_page() == "map"
    qtbot.waitUntil(lambda: window.map.highlight is not None, timeout=20_000)
    case_id, lon, lat = store.read(
        "SELECT id, lon, lat FROM cases WHERE lon IS NOT NULL ORDER BY id LIMIT 1"
    )[0]
    window.open_case(case_id)
    button = window.cases.detail.map_button
    with qtbot.waitSignal(window.ctx.show_on_map_requested, timeout=3000) as asked:
        button.click()
    assert asked.args == ["case", case_id]
    qtbot.waitUntil(lambda: window.current_page() == "map", timeout=5000)

    def centred() -> bool:
        box = window.map.view_bbox()
        return box[0] < lon < box[2] and box[1] < lat < box[3] and box[2] - box[0] < 0.05

    qtbot.waitUntil(centred, timeout=20_000)


def test_export_png_and_pdf(page, tmp_path):
    png = page.export(tmp_path / "地图.png")
    image = QImage(str(png))
    assert image.width() == page.view.viewport().width()
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 37)
               for y in range(60, image.height(), 29)}  # fmt: skip
    assert len(colours) > 4, "the export holds the coloured map, not a blank page"
    pdf = page.export(tmp_path / "地图.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000


def _mbtiles(path: Path, box: tuple[float, float, float, float], fmt: str = "png") -> Path:
    """A small real MBTiles file: solid magenta 256-pixel PNG tiles over ``box``, zooms 8-13."""
    import sqlite3

    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    from desktop.map.tiles import tile_x, tile_y

    tile = QImage(256, 256, QImage.Format.Format_RGB32)
    tile.fill(QColor("#ff00ff"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    tile.save(buffer, "PNG")
    png = bytes(data.data())
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    conn.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
        "tile_data BLOB)"
    )
    conn.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [("name", "测试底图"), ("format", fmt), ("minzoom", "8"), ("maxzoom", "13"),
         ("attribution", "© 测试")],
    )  # fmt: skip
    for z in range(8, 14):
        n = 1 << z
        for x in range(int(tile_x(box[0], z)), int(tile_x(box[2], z)) + 1):
            for y in range(int(tile_y(box[3], z)), int(tile_y(box[1], z)) + 1):
                conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", [z, x, n - 1 - y, png])
    conn.commit()
    conn.close()
    return path


def test_an_offline_mbtiles_base_map_shows_under_the_outlines(page, qtbot, tmp_path):
    item = page.image_item
    # No base map: outside the township the county outline's white fill is the base.
    assert item.image.pixelColor(2, 2).name() == "#ffffff"
    x0, y0, x1, y1 = page.data.extent
    path = _mbtiles(tmp_path / "底图.mbtiles", (x0 - 0.5, y0 - 0.5, x1 + 0.5, y1 + 0.5))
    with qtbot.waitSignal(page.base_drawn, timeout=20_000):
        assert page.set_tiles(path)
    assert item.image.pixelColor(2, 2).name() == "#ff00ff"
    assert "测试底图" in page.note.text() and "© 测试" in page.note.text()
    # The grids show through: a grid's pixel mixes its fill with the tiles.
    code, grid = next(iter(page.grid_items.items()))
    inside = from_geojson(
        page._ctx.ops.gui_store().read("SELECT geojson FROM shapes WHERE code = ?", [code])[0][0]
    ).representative_point()
    px = (page.to_scene(inside.x, inside.y) - item.rect.topLeft()) * (
        item.image.width() / item.rect.width()
    )
    mixed = item.image.pixelColor(int(px.x()), int(px.y()))
    assert mixed.name() not in ("#ff00ff", grid.brush().color().name())
    # A file that is not MBTiles, or holds vector tiles: refused in plain words, outlines stay.
    bad = tmp_path / "bad.mbtiles"
    bad.write_text("不是地图", "utf-8")
    assert not page.set_tiles(bad)
    assert "不是 MBTiles" in page.note.text() or "not an MBTiles file" in page.note.text()
    vector = _mbtiles(tmp_path / "vector.mbtiles", (x0, y0, x0 + 0.01, y0 + 0.01), fmt="pbf")
    assert not page.set_tiles(vector)
    assert "vector tiles" in page.note.text()
    assert page.base_under is None
