"""Outlines are county data: a real county server holds them (the synthetic ones ``init`` draws,
then IT's import with ``gridroom-county geo import``), and a real sync brings each device the
outlines of its own township only, like the taxonomy."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shapely

from sync import protocol
from sync.geo import geostore as gs
from sync.geo.shapes import from_geojson
from sync.store import replica

from .conftest import (
    COUNTY,
    REPO,
    TOWNSHIP_A,
    TOWNSHIP_B,
    CountyServer,
    Device,
    api,
    county_command,
)


def _geo(county: CountyServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*county_command(), "geo", *args, "--db", county.db_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=county.env,
    )


def _codes(device: Device) -> dict[str, str]:
    return {s.code: s.kind for s in gs.shapes_in(device.store)}


def _square(code: str, lon: float, lat: float, side: float = 0.01) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code},
        "geometry": shapely.geometry.mapping(shapely.box(lon, lat, lon + side, lat + side)),
    }


def test_a_device_gets_its_own_townships_outlines_and_no_other(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    a = devices(f"{TOWNSHIP_A}-op")
    b = devices(f"{TOWNSHIP_B}-op")
    mine, theirs = _codes(a), _codes(b)
    # Each has the county, its own township, its villages and every one of its grids.
    assert mine[COUNTY] == "county" and mine[TOWNSHIP_A] == "township"
    assert {g.code for g in a.store.grids()} == {c for c, k in mine.items() if k == "grid"}
    assert any(k == "village" for k in mine.values())
    # Nothing of the other township: no outline of a code under it.
    assert not [c for c in mine if c.startswith(TOWNSHIP_B)]
    assert not [c for c in theirs if c.startswith(TOWNSHIP_A)]
    assert theirs[TOWNSHIP_B] == "township"
    # The synthetic outlines say so; the county's own is the real one.
    flags = {s.code: s.synthetic for s in gs.shapes_in(a.store)}
    assert flags[COUNTY] is False and flags[TOWNSHIP_A] is True
    assert replica.state(a.store)["geometry_version"]
    # Every grid outline lies inside its township's (the map is one world).
    township = from_geojson(next(s.geojson for s in gs.shapes_in(a.store, "township")))
    for s in gs.shapes_in(a.store, "grid"):
        assert township.buffer(1e-5).covers(from_geojson(s.geojson)), s.code


def test_asking_for_another_townships_outlines_gets_only_ones_own(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    b = devices(f"{TOWNSHIP_B}-op")
    # A forged reference request: whatever it asks, it gets its own township's outlines.
    for params in ({}, {"geometry": "0"}, {"township": TOWNSHIP_A}):
        body = api(county, "GET", protocol.REFERENCE, b.token, params=params).json()
        codes = {s["code"] for s in body["shapes"]}
        assert TOWNSHIP_B in codes and not [c for c in codes if c.startswith(TOWNSHIP_A)]
    # A device that has this version gets no outlines again, only the version.
    version = replica.state(b.store)["geometry_version"]
    body = api(county, "GET", protocol.REFERENCE, b.token, params={"geometry": version}).json()
    assert body["shapes"] is None and body["geometry_version"] == version


def test_it_imports_real_outlines_and_the_next_sync_delivers_them(
    devices: Callable[..., Device], county: CountyServer, tmp_path: Path
) -> None:
    a = devices(f"{TOWNSHIP_A}-op")
    b = devices(f"{TOWNSHIP_B}-op")
    before_b = {s.code: s.geojson for s in gs.shapes_in(b.store)}
    grid_a, grid_a2 = (g.code for g in a.store.grids()[:2])
    centre = from_geojson(
        next(s.geojson for s in gs.shapes_in(a.store, "grid") if s.code == grid_a)
    ).representative_point()
    lon, lat = centre.x, centre.y
    features = [
        _square(grid_a, lon, lat),
        _square(grid_a2, lon + 0.005, lat),  # overlaps the first by half
        _square("330825999999001", lon, lat),  # no such grid
        {
            "type": "Feature",
            "properties": {"code": TOWNSHIP_A},
            "geometry": {"type": "LineString", "coordinates": [[lon, lat], [lon + 1, lat]]},
        },
    ]
    path = tmp_path / "网格边界.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")

    version_before = _geo(county, "show").stdout.split()[2].rstrip(":")
    dry = _geo(county, "import", str(path), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing written" in dry.stdout
    assert a.sync().status == "ok"
    assert {s.code: s.synthetic for s in gs.shapes_in(a.store)}[grid_a] is True
    done = _geo(county, "import", str(path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "2 outlines match (2 grid)" in out
    assert "1 have a code this county does not know (not imported): 330825999999001" in out
    assert f"not imported: feature 4 ({TOWNSHIP_A})" in out and "LineString" in out
    assert f"overlap: {grid_a}" in out and f"and {grid_a2}" in out and "50%" in out

    report = a.sync()
    assert report.status == "ok", report.to_json()
    assert report.reference_updated
    got = {s.code: s for s in gs.shapes_in(a.store)}
    assert got[grid_a].synthetic is False
    square = shapely.box(lon, lat, lon + 0.01, lat + 0.01)
    assert from_geojson(got[grid_a].geojson).symmetric_difference(square).area < 1e-7  # 6 decimals
    assert gs.locate(a.store, lon + 0.001, lat + 0.001) in (grid_a, grid_a2)
    assert got[TOWNSHIP_A].synthetic is True  # the invalid one changed nothing

    # Township B's device gets nothing of it, and its own outlines are as they were.
    assert b.sync().status == "ok"
    assert {s.code: s.geojson for s in gs.shapes_in(b.store)} == before_b
    shown = _geo(county, "show").stdout
    assert shown.startswith(f"geometry version {int(version_before) + 1}:"), shown


def test_a_bad_file_is_refused_in_plain_words_and_changes_nothing(
    devices: Callable[..., Device], county: CountyServer, tmp_path: Path
) -> None:
    shown = _geo(county, "show").stdout
    bad = tmp_path / "边界.geojson"
    bad.write_text("这不是 GeoJSON", "utf-8")
    done = _geo(county, "import", str(bad))
    assert done.returncode == 2
    assert "is not GeoJSON text" in done.stderr and "EPSG:4326" in done.stderr
    missing = _geo(county, "import", str(tmp_path / "无.shp"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert _geo(county, "show").stdout == shown
