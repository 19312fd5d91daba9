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
    bad = tmp_path / "grids.shp"
    bad.write_bytes(b"\x00\x00\x27\x0a binary")
    assert cli.main(["geo", "import", str(bad), "--db", str(store_path)]) == 2
    assert "is not GeoJSON text" in capsys.readouterr().err
    assert cli.main(["geo", "import", str(tmp_path / "none.geojson"), "--db", str(store_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    empty = _write(tmp_path / "empty.geojson", [])
    assert cli.main(["geo", "import", str(empty), "--db", str(store_path)]) == 1
    assert "nothing to import" in capsys.readouterr().err
