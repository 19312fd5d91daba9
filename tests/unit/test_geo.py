"""Geometry in the store (migration 0005_geometry), case points, and the demo's outlines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely

from sync import cli
from sync.demo.geometry import build_geometry
from sync.demo.places import build_world
from sync.geo import PointError, format_point, parse_point
from sync.geo import geostore as gs
from sync.geo.points import check_point
from sync.geo.shapes import Outline, ShapeError, county_outlines, from_geojson, polygonal
from sync.model import divisions as division_data
from sync.model.records import Actor
from sync.store import Store
from sync.store.schema import MIGRATIONS
from tests.conftest import TOWNSHIP, ZHANGWANG

NOW = "2026-11-20T10:00+08:00"


def _square(code: str, kind: str, x: float, y: float, size: float = 0.01) -> Outline:
    return Outline(code, code, shapely.box(x, y, x + size, y + size), kind)


# -- points -------------------------------------------------------------------------------------


def test_points_parse_in_the_forms_people_type_and_refuse_nonsense_in_plain_words() -> None:
    assert check_point("119.1234,29.0567") == (119.1234, 29.0567)
    assert check_point(" 119.1234， 29.0567 ") == (119.1234, 29.0567)
    assert check_point("119.1234 29.0567") == (119.1234, 29.0567)
    assert check_point("") is None and check_point(None) is None
    with pytest.raises(PointError, match="swapped"):
        check_point("29.0567,119.1234")
    with pytest.raises(PointError, match="two numbers"):
        check_point("119.1")
    with pytest.raises(PointError, match="not a pair of numbers"):
        check_point("东经119,北纬29")
    with pytest.raises(PointError, match="not in China"):
        check_point("0,0")
    assert parse_point("nan,29") is None  # lenient form: no point, no failure
    assert format_point(119.1, 29.05) == "119.100000,29.050000"


# -- the store --------------------------------------------------------------------------------


def test_the_migration_is_named_and_adds_rtree_tables(store: Store) -> None:
    assert "0005_geometry" in [m.name for m in MIGRATIONS]
    tables = {r[0] for r in store.read("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"shapes", "shapes_rtree", "case_points"} <= tables
    assert "rtree" in store.read("SELECT sql FROM sqlite_master WHERE name = 'case_points'")[0][0]


def test_bbox_queries_read_only_the_outlines_that_meet_the_box(store: Store) -> None:
    gs.put_shapes(
        store,
        [
            _square("A", "grid", 119.00, 29.00),
            _square("B", "grid", 119.02, 29.00),
            _square("V", "village", 118.99, 28.99, 0.05),
        ],
    )
    assert [s.code for s in gs.shapes_in(store, "grid", (119.015, 28.9, 119.1, 29.1))] == ["B"]
    assert [s.code for s in gs.shapes_in(store, "grid")] == ["A", "B"]
    assert [s.code for s in gs.shapes_in(store, None, (119.001, 29.001, 119.002, 29.002))] == [
        "A",
        "V",
    ]
    assert gs.locate(store, 119.005, 29.005) == "A"
    assert gs.locate(store, 119.015, 29.005) is None  # between the two grids
    assert gs.locate(store, 119.015, 29.005, "village") == "V"
    # Replacing an outline moves its box too (no stale R*Tree entry keeps matching).
    gs.put_shapes(store, [_square("A", "grid", 119.5, 29.5)])
    assert gs.locate(store, 119.005, 29.005) is None
    assert gs.locate(store, 119.505, 29.505) == "A"
    assert store.read("SELECT count(*) FROM shapes_rtree")[0][0] == 3
    assert gs.extent(store, "grid") == pytest.approx((119.02, 29.0, 119.51, 29.51), abs=1e-5)


def test_a_case_carries_its_point_and_an_edit_moves_it(
    store: Store, actors: dict[str, Actor]
) -> None:
    op = actors["operator"]
    fields = {"title": "路灯不亮", "category": "0201", "grid_id": f"{ZHANGWANG}001"}
    placed = store.report(op, {**fields, "location": "119.123456,29.012345"})
    unplaced = store.report(op, fields)
    assert store.read("SELECT lon, lat FROM cases WHERE id = ?", [placed.case_id])[0] == (
        pytest.approx(119.123456),
        pytest.approx(29.012345),
    )
    assert store.read("SELECT count(*) FROM case_points")[0][0] == 1
    assert store.read("SELECT lon FROM cases WHERE id = ?", [unplaced.case_id])[0][0] is None
    # The point travels in the report entry's payload: what the sync wire format carries.
    first = store.timeline(placed.case_id)[0]
    assert first.payload["location"] == "119.123456,29.012345"

    store.edit(placed.case_id, op, {"location": "119.2,29.1"})
    box = (119.19, 29.09, 119.21, 29.11)
    found = gs.clusters(store, box, 0.1)
    assert [(c.count, c.case_id) for c in found] == [(1, placed.case_id)]
    assert gs.clusters(store, (119.12, 29.01, 119.13, 29.02), 0.1) == []


def test_clusters_count_every_point_in_the_box_once(store: Store, actors: dict[str, Actor]) -> None:
    op = actors["operator"]
    for i in range(30):
        store.report(
            op,
            {
                "title": f"案件{i}",
                "category": "0201",
                "grid_id": f"{ZHANGWANG}001",
                "location": format_point(119.0 + (i % 6) * 0.01, 29.0 + (i // 6) * 0.01),
            },
        )
    whole = (118.9, 28.9, 119.2, 29.2)
    coarse = gs.clusters(store, whole, 1.0)
    assert [c.count for c in coarse] == [30]
    fine = gs.clusters(store, whole, 0.001)
    assert len(fine) == 30 and all(c.count == 1 for c in fine)
    half = gs.clusters(store, (118.9, 28.9, 119.025, 29.2), 1.0)
    assert sum(c.count for c in half) == 15  # columns 0..2 of 6


# -- the bundled outlines ---------------------------------------------------------------------


def test_the_bundled_county_outlines_are_real_valid_and_small() -> None:
    counties = county_outlines()
    expected = {d.code for d in division_data.children("3308")}
    assert set(counties) == expected and len(expected) == 6
    for c in counties.values():
        assert c.geometry.is_valid and c.geometry.area > 0.05  # each > ~500 km²
    # 衢州市's box as the source README gives it.
    minx, miny, maxx, maxy = shapely.union_all([c.geometry for c in counties.values()]).bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((118.03, 28.24, 119.35, 29.50), abs=0.01)
    resource = Path(__file__).resolve().parents[2] / "resources/geo/quzhou_counties.geojson"
    assert resource.stat().st_size < 150_000


def test_bad_geometry_is_refused_in_plain_words() -> None:
    with pytest.raises(ShapeError, match="not a GeoJSON geometry"):
        from_geojson('{"type": "Polygon"}')
    with pytest.raises(ShapeError, match="no area"):
        polygonal(shapely.LineString([(0, 0), (1, 1)]))
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    assert not bowtie.is_valid and polygonal(bowtie).is_valid


# -- the demo's outlines ----------------------------------------------------------------------


def _geometry(code: str, seed: int = 1) -> dict[str, Outline]:
    scope = division_data.by_code()[code]
    world = build_world(seed, scope, division_data.scope_divisions(code))
    return build_geometry(seed, scope, [v.division for v in world.villages], world.grids).by_code()


def test_demo_outlines_nest_and_partition_their_parents() -> None:
    shapes = _geometry(TOWNSHIP)
    county = shapes[TOWNSHIP[:6]].geometry
    township = shapes[TOWNSHIP].geometry
    assert county.buffer(1e-6).covers(township)
    villages = [o for o in shapes.values() if o.kind == "village"]
    assert len(villages) == 28
    assert shapely.union_all([v.geometry for v in villages]).area == pytest.approx(
        township.area, rel=1e-6
    )
    for v in villages:
        assert township.buffer(1e-6).covers(v.geometry)
        grids = [o.geometry for o in shapes.values() if o.kind == "grid" and o.code[:12] == v.code]
        assert grids, v.code
        assert sum(g.area for g in grids) == pytest.approx(v.geometry.area, rel=1e-6)  # no overlap
        for g in grids:
            assert g.is_valid and v.geometry.buffer(1e-6).covers(g)


def test_a_township_alone_has_the_outlines_it_has_inside_its_county() -> None:
    alone = _geometry(TOWNSHIP)
    county = _geometry(TOWNSHIP[:6])
    for code, o in alone.items():
        assert county[code].geometry.equals_exact(o.geometry, 1e-12), code
    assert _geometry(TOWNSHIP, seed=2)[TOWNSHIP].geometry != alone[TOWNSHIP].geometry


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    out = tmp_path_factory.mktemp("geo") / "demo.sqlite"
    assert cli.main(
        ["demo", "--township", TOWNSHIP, "--cases", "400", "--now", NOW, "--out", str(out),
         "--quiet"]
    ) == 0  # fmt: skip
    with Store.open(out) as opened:
        yield opened


def test_every_demo_store_has_labelled_outlines_for_every_grid(demo_store: Store) -> None:
    grids = {g.code for g in demo_store.grids()}
    outlines = {s.code: s for s in gs.shapes_in(demo_store, "grid")}
    assert set(outlines) == grids
    assert all(s.synthetic for s in outlines.values())
    county = gs.shapes_in(demo_store, "county")
    assert [c.code for c in county] == [TOWNSHIP[:6]] and not county[0].synthetic
    sources = dict(demo_store.read("SELECT kind, min(source) FROM shapes GROUP BY kind"))
    assert "合成" in sources["grid"] and "MIT" in sources["county"]


def test_every_demo_case_has_a_point_inside_its_own_grid(demo_store: Store) -> None:
    rows = demo_store.read("SELECT grid_code, lon, lat FROM cases")
    assert len(rows) == 400 and all(r[1] is not None for r in rows)
    outlines = {s.code: from_geojson(s.geojson) for s in gs.shapes_in(demo_store, "grid")}
    for grid, lon, lat in rows:
        assert outlines[grid].covers(shapely.Point(lon, lat)), grid
    assert demo_store.read("SELECT count(*) FROM case_points")[0][0] == 400
    json.loads(gs.shapes_in(demo_store, "township")[0].geojson)  # plain GeoJSON text


def test_the_countys_outlines_replace_the_stores_and_bad_ones_change_nothing(
    store: Store,
) -> None:
    from sync import protocol
    from sync.store import replica

    gs.put_shapes(store, [_square("A", "grid", 119.00, 29.00)])
    before = replica.state(store).get("reference_version")
    square = json.dumps(shapely.geometry.mapping(shapely.box(119.1, 29.1, 119.2, 29.2)))
    good = {"code": "B", "kind": "village", "name": "乙村", "geojson": square, "synthetic": True}
    for bad in (
        {**good, "geojson": "{not json"},
        {**good, "kind": "planet"},
        {**good, "geojson": json.dumps({"type": "Point", "coordinates": [119.1, 29.1]})},
        "B",
    ):
        with pytest.raises(protocol.WireError):
            replica.apply_reference(store, {"version": "7", "shapes": [good, bad]})
        assert [s.code for s in gs.shapes_in(store)] == ["A"]
        assert replica.state(store).get("reference_version") == before
    replica.apply_reference(store, {"version": "7", "geometry_version": "3", "shapes": [good]})
    assert [(s.code, s.kind, s.synthetic) for s in gs.shapes_in(store)] == [("B", "village", True)]
    assert gs.locate(store, 119.15, 29.15, "village") == "B"
    assert replica.state(store)["geometry_version"] == "3"
    # No outlines in the answer (the device has that version): what it has stays.
    replica.apply_reference(store, {"version": "8", "geometry_version": "3", "shapes": None})
    assert [s.code for s in gs.shapes_in(store)] == ["B"]


@pytest.fixture(scope="module")
def demo_points(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sync.demo.build import DemoSpec, build_demo
    from tests.conftest import Clock

    path = tmp_path_factory.mktemp("bins") / "demo.sqlite"
    build_demo(path, DemoSpec(TOWNSHIP, cases=400, seed=5, now=Clock().now))
    return path


def _bins(store: Store) -> dict[tuple[str, int, int], tuple[int, float, float]]:
    return {
        (r[0], r[1], r[2]): (r[3], round(r[4], 6), round(r[5], 6))
        for r in store.read("SELECT status, gx, gy, n, sum_lon, sum_lat FROM case_bins WHERE n > 0")
    }


def _bins_from_cases(store: Store) -> dict[tuple[str, int, int], tuple[int, float, float]]:
    out: dict[tuple[str, int, int], list[float]] = {}
    for status, lon, lat in store.read(
        "SELECT status, lon, lat FROM cases WHERE lon IS NOT NULL AND lat IS NOT NULL"
    ):
        key = (status, int((lon + 180.0) * 200), int((lat + 90.0) * 200))
        acc = out.setdefault(key, [0, 0.0, 0.0])
        acc[0] += 1
        acc[1] += lon
        acc[2] += lat
    return {k: (int(v[0]), round(v[1], 6), round(v[2], 6)) for k, v in out.items()}


def test_the_status_bins_follow_every_change_of_the_cases(
    demo_points: Path, tmp_path: Path
) -> None:
    import shutil

    path = tmp_path / "s.sqlite"
    shutil.copyfile(demo_points, path)
    with Store.open(path) as store:
        assert _bins(store) == _bins_from_cases(store) and _bins(store)
        with store.write() as conn:
            conn.execute("UPDATE cases SET status = 'closed' WHERE rowid % 3 = 0")
            conn.execute("UPDATE cases SET lon = lon + 0.013 WHERE rowid % 5 = 0")
            conn.execute("UPDATE cases SET lon = NULL, lat = NULL WHERE rowid % 11 = 0")
            conn.execute("DELETE FROM cases WHERE rowid % 7 = 0")
        assert _bins(store) == _bins_from_cases(store)


def test_the_cluster_plans_agree(demo_points: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sync.model.records import DONE_STATUSES

    done = [s.value for s in DONE_STATUSES]
    with Store.open(demo_points) as store:
        box = gs.extent(store)
        assert box is not None
        box = (box[0] - 0.05, box[1] - 0.05, box[2] + 0.05, box[3] + 0.05)
        total = store.read(
            f"SELECT count(*) FROM cases WHERE lon IS NOT NULL AND status IN "
            f"({','.join('?' * len(done))})",
            done,
        )[0][0]
        assert total > 50
        cell = 0.02  # four bins a side: the bins plan
        binned = gs.clusters(store, box, cell, statuses=done)
        raw = gs.clusters(
            store, box, cell, where=(f"status IN ({','.join('?' * len(done))})", done)
        )
        assert sum(c.count for c in binned) == sum(c.count for c in raw) == total
        # A single-case cell names its case, whichever plan made it.
        for c in binned:
            if c.count == 1:
                row = store.read("SELECT lon, lat FROM cases WHERE id = ?", [c.case_id])[0]
                assert abs(row[0] - c.lon) < 1e-6 and abs(row[1] - c.lat) < 1e-6
        # The cases-first and the R*Tree-first plans give the same clusters.
        small = 0.002
        first = sorted(gs.clusters(store, box, small, where=("1", [])), key=lambda c: c.case_id)
        monkeypatch.setattr(gs, "CASES_FIRST_MAX", 0)
        second = sorted(gs.clusters(store, box, small, where=("1", [])), key=lambda c: c.case_id)
        assert [(c.count, c.case_id) for c in first] == [(c.count, c.case_id) for c in second]
