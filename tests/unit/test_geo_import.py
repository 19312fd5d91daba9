"""``gridroom geo import``: real boundaries from GeoJSON, matched by code, with a plain report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import mapping

from sync import cli
from sync.geo import geostore as gs
from sync.store import Store
from tests.conftest import GRIDS, ZHANGWANG


def _feature(code: str, geometry: object, key: str = "code") -> dict:
    return {"type": "Feature", "properties": {key: code, "name": "x"}, "geometry": geometry}


def _write(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def _box(x: float, y: float, size: float = 0.01) -> dict:
    return mapping(shapely.box(x, y, x + size, y + size))


def test_import_matches_by_code_reports_problems_and_writes_the_good_ones(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g1, g2, g3 = GRIDS[0].code, GRIDS[1].code, GRIDS[2].code
    bowtie = {"type": "Polygon", "coordinates": [[[119.3, 29.0], [119.31, 29.01],
              [119.31, 29.0], [119.3, 29.01], [119.3, 29.0]]]}  # fmt: skip
    features = [
        _feature(g1, _box(119.20, 29.00)),
        _feature(g2, _box(119.205, 29.00)),  # half over g1: an overlap
        _feature(g3, bowtie),  # self-crossing: repaired
        _feature(ZHANGWANG, _box(119.19, 28.99, 0.05)),  # a village
        _feature("330825002999001", _box(119.4, 29.0)),  # unknown grid code
        _feature(GRIDS[3].code, {"type": "LineString", "coordinates": [[119, 29], [119.1, 29]]}),
        _feature(GRIDS[4].code, _box(500000.0, 3200000.0, 100.0)),  # projected metres
        {"type": "Feature", "properties": {"name": "无编码"}, "geometry": _box(119, 29)},
        _feature(g1, _box(119.5, 29.5), key="wgbm"),  # the same grid again
    ]
    path = _write(tmp_path / "grids.geojson", features)

    assert cli.main(["geo", "import", str(path), "--db", str(store_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "4 outlines match (3 grid, 1 village)" in out
    assert f"1 had self-crossing rings and were repaired: {g3}" in out
    assert "1 have a code this store does not know (not imported): 330825002999001" in out
    assert "it is a LineString, not a polygon" in out
    assert "not longitude/latitude degrees" in out
    assert "feature 8: no code property" in out
    assert f"feature 9 ({g1}) 张王村第一网格: the code appears twice; the first is kept" in out
    assert (
        f"overlap: {g1} 张王村第一网格 and {g2} 张王村第二网格 share 50% of the smaller one" in out
    )
    assert "dry run: nothing written" in out
    with Store.open(store_path) as store:
        assert gs.shapes_in(store) == []

    assert cli.main(["geo", "import", str(path), "--db", str(store_path)]) == 0
    assert "imported 4 outlines" in capsys.readouterr().out
    with Store.open(store_path) as store:
        shapes = {s.code: s for s in gs.shapes_in(store)}
        assert set(shapes) == {g1, g2, g3, ZHANGWANG}
        assert not any(s.synthetic for s in shapes.values())
        assert gs.locate(store, 119.201, 29.001) == g1
        assert shapes[g3].kind == "grid" and shapes[ZHANGWANG].kind == "village"


def test_a_file_that_is_not_geojson_is_refused_in_plain_words(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "grids.geojson"
    bad.write_bytes(b"\x00\x00\x27\x0a binary")
    assert cli.main(["geo", "import", str(bad), "--db", str(store_path)]) == 2
    assert "is not GeoJSON text" in capsys.readouterr().err
    # A Shapefile without the .dbf that holds its codes; one that is not a Shapefile at all.
    shp = tmp_path / "grids.shp"
    shp.write_bytes(b"\x00\x00\x27\x0a binary")
    assert cli.main(["geo", "import", str(shp), "--db", str(store_path)]) == 2
    assert "the .dbf file beside it is missing" in capsys.readouterr().err
    (tmp_path / "grids.dbf").write_bytes(b"not a table")
    assert cli.main(["geo", "import", str(shp), "--db", str(store_path)]) == 2
    assert "is not a readable Shapefile" in capsys.readouterr().err
    assert cli.main(["geo", "import", str(tmp_path / "none.geojson"), "--db", str(store_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    empty = _write(tmp_path / "empty.geojson", [])
    assert cli.main(["geo", "import", str(empty), "--db", str(store_path)]) == 1
    assert "nothing to import" in capsys.readouterr().err


def _shapefile(base: Path, rows: list[tuple[str, str, object]], encoding: str) -> Path:
    """A real Shapefile written with pyshp: polygons with a code and a Chinese name."""
    import shapefile

    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON, encoding=encoding) as w:
        w.field("WGBM", "C", size=20)
        w.field("MC", "C", size=60)
        for code, name, geometry in rows:
            w.record(code, name)
            w.shape(geometry)
    return base.with_suffix(".shp")


def test_a_gbk_shapefile_imports_like_geojson(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Chinese GIS software writes GBK attribute tables, often without a .cpg: they still read."""
    g1, g2 = GRIDS[0].code, GRIDS[1].code
    path = _shapefile(
        tmp_path / "网格边界",
        [
            (g1, "张王村第一网格", _box(119.20, 29.00)),
            (g2, "张王村第二网格", _box(119.205, 29.00)),  # half over g1
            ("330825002999001", "不存在的网格", _box(119.4, 29.0)),
            (GRIDS[2].code, "投影坐标", _box(500000.0, 3200000.0, 100.0)),
        ],
        "gbk",
    )
    assert not path.with_suffix(".cpg").exists() or path.with_suffix(".cpg").unlink() is None
    assert cli.main(["geo", "import", str(path), "--db", str(store_path)]) == 0
    out = capsys.readouterr().out
    assert "网格边界.shp: 2 outlines match (2 grid)" in out
    assert "330825002999001" in out and "not longitude/latitude degrees" in out
    assert f"overlap: {g1} 张王村第一网格 and {g2}" in out
    with Store.open(store_path) as store:
        assert gs.locate(store, 119.201, 29.001) == g1
        assert {s.code for s in gs.shapes_in(store)} == {g1, g2}


def test_a_shapefile_names_its_encoding_in_the_cpg(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _shapefile(tmp_path / "grids", [(GRIDS[0].code, "张王村", _box(119.2, 29.0))], "utf-8")
    path.with_suffix(".cpg").write_text("UTF-8", "ascii")
    assert cli.main(["geo", "import", str(path), "--db", str(store_path)]) == 0
    assert "1 outlines match (1 grid)" in capsys.readouterr().out
    path.with_suffix(".cpg").write_text("KLINGON-8", "ascii")
    assert cli.main(["geo", "import", str(path), "--db", str(store_path)]) == 2
    assert "unknown text encoding 'KLINGON-8'" in capsys.readouterr().err
