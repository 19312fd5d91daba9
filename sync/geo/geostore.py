"""Outlines and case points in the store, indexed by R*Tree (migration 0005_geometry).

``shapes`` holds one outline per code (county, township, village or grid) as GeoJSON text;
``shapes_rtree`` its bounding box. ``case_points`` is kept by triggers from ``cases.lon/lat``.
A view-box query reads the R*Tree first, so a map of one grid never looks at the others.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely

from ..model.records import OPEN_STATUSES
from . import shapes as geo_shapes
from .shapes import Outline

BBox = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

KINDS = ("county", "township", "village", "grid")


@dataclass(frozen=True, slots=True)
class StoredShape:
    code: str
    kind: str
    name: str
    geojson: str
    synthetic: bool
    bbox: BBox


@dataclass(frozen=True, slots=True)
class Cluster:
    """Case points close together at the current zoom: their centre, count and one case."""

    lon: float
    lat: float
    count: int
    case_id: str  # the one case when count == 1; otherwise any member


def put_shapes(
    store: Any, outlines: Iterable[Outline], *, synthetic: bool = False, source: str = ""
) -> int:
    """Insert or replace outlines (by code) and their R*Tree boxes; returns how many."""
    rows = []
    for o in outlines:
        if o.kind not in KINDS:
            raise geo_shapes.ShapeError(f"unknown outline kind {o.kind!r} for {o.code}")
        rows.append((o, geo_shapes.to_geojson(o.geometry)))
    with store.write() as conn:
        for o, text in rows:
            old = conn.execute("SELECT id FROM shapes WHERE code = ?", [o.code]).fetchone()
            if old is not None:
                conn.execute("DELETE FROM shapes_rtree WHERE id = ?", [old[0]])
                conn.execute(
                    "UPDATE shapes SET kind = ?, name = ?, geojson = ?, synthetic = ?, "
                    "source = ? WHERE id = ?",
                    [o.kind, o.name, text, int(synthetic), source, old[0]],
                )
                sid = int(old[0])
            else:
                cursor = conn.execute(
                    "INSERT INTO shapes (code, kind, name, geojson, synthetic, source) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [o.code, o.kind, o.name, text, int(synthetic), source],
                )
                sid = int(cursor.lastrowid)
            minx, miny, maxx, maxy = o.bbox
            conn.execute(
                "INSERT INTO shapes_rtree VALUES (?, ?, ?, ?, ?)", [sid, minx, maxx, miny, maxy]
            )
    return len(rows)


def replace_shapes(store: Any, outlines: Iterable[tuple[Outline, bool]], *, source: str) -> int:
    """Replace every outline of the store with ``outlines`` ((outline, synthetic) pairs), in one
    transaction: what a device does with the county's outlines, which are the county's data."""
    rows = []
    for o, synthetic in outlines:
        if o.kind not in KINDS:
            raise geo_shapes.ShapeError(f"unknown outline kind {o.kind!r} for {o.code}")
        rows.append((o, geo_shapes.to_geojson(o.geometry), synthetic))
    with store.write() as conn:
        conn.execute("DELETE FROM shapes_rtree")
        conn.execute("DELETE FROM shapes")
        for o, text, synthetic in rows:
            cursor = conn.execute(
                "INSERT INTO shapes (code, kind, name, geojson, synthetic, source) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [o.code, o.kind, o.name, text, int(synthetic), source],
            )
            minx, miny, maxx, maxy = o.bbox
            conn.execute(
                "INSERT INTO shapes_rtree VALUES (?, ?, ?, ?, ?)",
                [int(cursor.lastrowid), minx, maxx, miny, maxy],
            )
    return len(rows)


def shapes_in(store: Any, kind: str | None = None, bbox: BBox | None = None) -> list[StoredShape]:
    """Outlines of ``kind`` (all kinds when None) whose boxes meet ``bbox`` (everything: None)."""
    where: list[str] = []
    args: list[Any] = []
    if bbox is not None:
        where.append("r.max_x >= ? AND r.min_x <= ? AND r.max_y >= ? AND r.min_y <= ?")
        args += [bbox[0], bbox[2], bbox[1], bbox[3]]
    if kind is not None:
        where.append("s.kind = ?")
        args.append(kind)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = store.read(
        "SELECT s.code, s.kind, s.name, s.geojson, s.synthetic, r.min_x, r.min_y, r.max_x, "
        f"r.max_y FROM shapes_rtree r JOIN shapes s ON s.id = r.id {clause} ORDER BY s.code",
        args,
    )
    return [StoredShape(r[0], r[1], r[2], r[3], bool(r[4]), (r[5], r[6], r[7], r[8])) for r in rows]


def outline(store: Any, code: str) -> Outline | None:
    rows = store.read("SELECT code, name, geojson, kind FROM shapes WHERE code = ?", [code])
    if not rows:
        return None
    code, name, text, kind = rows[0]
    return Outline(code, name, geo_shapes.from_geojson(text), kind)


def extent(store: Any, kind: str | None = None) -> BBox | None:
    """The box around every outline (of ``kind``), or None when the store has none."""
    clause, args = ("JOIN shapes s ON s.id = r.id WHERE s.kind = ?", [kind]) if kind else ("", [])
    row = store.read(
        f"SELECT min(r.min_x), min(r.min_y), max(r.max_x), max(r.max_y) FROM shapes_rtree r "
        f"{clause}",
        args,
    )[0]
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def locate(store: Any, lon: float, lat: float, kind: str = "grid") -> str | None:
    """The code of the ``kind`` outline that holds (lon, lat), or None."""
    rows = store.read(
        "SELECT s.code, s.geojson FROM shapes_rtree r JOIN shapes s ON s.id = r.id "
        "WHERE r.min_x <= ? AND r.max_x >= ? AND r.min_y <= ? AND r.max_y >= ? AND s.kind = ? "
        "ORDER BY s.code",
        [lon, lon, lat, lat, kind],
    )
    for code, text in rows:
        if geo_shapes.contains(geo_shapes.from_geojson(text), lon, lat):
            return str(code)
    return None


def inside(store: Any, code: str, lon: float, lat: float) -> bool | None:
    """Is (lon, lat) inside the outline of ``code``? None when the store has no outline."""
    found = outline(store, code)
    return None if found is None else geo_shapes.contains(found.geometry, lon, lat)


@dataclass(frozen=True, slots=True)
class GridCounts:
    open: int = 0
    overdue: int = 0
    area_km2: float = 0.0

    @property
    def density(self) -> float:
        """Open cases per square kilometre."""
        return self.open / self.area_km2 if self.area_km2 > 0 else 0.0


def area_km2(geometry: Any) -> float:
    """Approximate area in km² of a lon/lat geometry (equirectangular at its centre)."""
    lat = geometry.centroid.y
    return float(geometry.area) * 111.32 * 111.32 * math.cos(math.radians(lat))


def grid_counts(store: Any, now: int | None = None) -> dict[str, GridCounts]:
    """Open and overdue cases and area for every grid with an outline."""
    now = store.now() if now is None else now
    marks = ",".join("?" * len(OPEN_STATUSES))
    counts = {
        r[0]: (int(r[1]), int(r[2] or 0))
        for r in store.read(
            f"SELECT grid_code, count(*), sum(due_at < ?) FROM cases "
            f"WHERE status IN ({marks}) AND grid_code IS NOT NULL GROUP BY grid_code",
            [now, *(s.value for s in OPEN_STATUSES)],
        )
    }
    out = {}
    for s in shapes_in(store, "grid"):
        open_, overdue = counts.get(s.code, (0, 0))
        out[s.code] = GridCounts(open_, overdue, area_km2(geo_shapes.from_geojson(s.geojson)))
    return out


#: ``case_bins`` cells per degree (migration 0012: 1/200°, about 500 m).
BINS_PER_DEGREE = 200
#: Up to this many matching cases, clustering walks the filter's index and looks each case's
#: point up (fast however large the view); above, it walks the R*Tree over the view.
CASES_FIRST_MAX = 20_000


def clusters(
    store: Any,
    bbox: BBox,
    cell: float,
    *,
    statuses: Sequence[str] | None = None,
    where: tuple[str, Sequence[Any]] | None = None,
    limit: int = 5000,
) -> list[Cluster]:
    """Case points in ``bbox`` grouped into square cells of ``cell`` degrees, in SQL: one row
    per non-empty cell (a cell of one case carries that case's id).

    ``where``: a filter on ``cases`` (SQL over its columns and its arguments, e.g. the case
    list's :func:`sync.store.queries.where`), applied in a subquery SQLite flattens into the
    join, so it may name ``rowid`` and any column of ``cases``.

    Three plans, by what is cheapest for a county's million cases: a filter by status alone
    with cells of two bins or more reads the per-status bins (``case_bins``, a few thousand
    rows for a county); a filter that matches few cases (≤ :data:`CASES_FIRST_MAX`) walks its
    index and looks each point up; otherwise the R*Tree over the view drives."""
    if cell <= 0:
        raise ValueError("cell size must be positive")
    if statuses and where is None and cell * BINS_PER_DEGREE >= 2:
        return _bin_clusters(store, bbox, cell, list(statuses), limit)
    clauses: list[str] = []
    filter_args: list[Any] = []
    if statuses:
        clauses.append(f"status IN ({','.join('?' * len(statuses))})")
        filter_args += list(statuses)
    if where is not None:
        clauses.append(f"({where[0]})")
        filter_args += list(where[1])
    cases_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    few = store.read(
        f"SELECT count(*) FROM (SELECT 1 FROM cases{cases_where} LIMIT ?)",
        [*filter_args, CASES_FIRST_MAX + 1],
    )[0][0]
    # CROSS JOIN keeps the cases (by the filter's index) as the outer loop.
    join = "CROSS JOIN" if few <= CASES_FIRST_MAX else "JOIN"
    rows = store.read(
        "SELECT CAST((p.min_x - ?) / ? AS INTEGER) AS gx, "
        "CAST((p.min_y - ?) / ? AS INTEGER) AS gy, "
        "avg(c.lon), avg(c.lat), count(*), min(c.id) "
        f"FROM (SELECT rowid AS rid, id, lon, lat FROM cases{cases_where}) c "
        f"{join} case_points p ON p.id = c.rid "
        "WHERE p.min_x >= ? AND p.max_x <= ? AND p.min_y >= ? AND p.max_y <= ? "
        "GROUP BY gx, gy ORDER BY count(*) DESC LIMIT ?",
        [bbox[0], cell, bbox[1], cell, *filter_args, bbox[0], bbox[2], bbox[1], bbox[3], limit],
    )
    return [Cluster(float(r[2]), float(r[3]), int(r[4]), str(r[5])) for r in rows]


def _bin_clusters(
    store: Any, bbox: BBox, cell: float, statuses: list[str], limit: int
) -> list[Cluster]:
    """Clusters from the per-status bins whose centre lies in the view; a cell holding one case
    gets that case's id from the R*Tree (rare when zoomed out this far)."""
    b = BINS_PER_DEGREE
    gx0, gx1 = int((bbox[0] + 180.0) * b), int((bbox[2] + 180.0) * b)
    gy0, gy1 = int((bbox[1] + 90.0) * b), int((bbox[3] + 90.0) * b)
    marks = ",".join("?" * len(statuses))
    rows = store.read(
        "SELECT CAST(((gx + 0.5) / ? - 180.0 - ?) / ? AS INTEGER) AS cx, "
        "CAST(((gy + 0.5) / ? - 90.0 - ?) / ? AS INTEGER) AS cy, "
        "sum(sum_lon) / sum(n), sum(sum_lat) / sum(n), sum(n) FROM case_bins "
        f"WHERE status IN ({marks}) AND gx BETWEEN ? AND ? AND gy BETWEEN ? AND ? AND n > 0 "
        "GROUP BY cx, cy ORDER BY sum(n) DESC LIMIT ?",
        [b, bbox[0], cell, b, bbox[1], cell, *statuses, gx0, gx1, gy0, gy1, limit],
    )
    out = []
    for cx, cy, lon, lat, n in rows:
        case_id = ""
        if int(n) == 1:
            x0, y0 = bbox[0] + cx * cell - 1.0 / b, bbox[1] + cy * cell - 1.0 / b
            found = store.read(
                "SELECT c.id FROM case_points p JOIN cases c ON c.rowid = p.id "
                "WHERE p.min_x >= ? AND p.max_x <= ? AND p.min_y >= ? AND p.max_y <= ? "
                f"AND c.status IN ({marks}) ORDER BY abs(c.lon - ?) + abs(c.lat - ?) LIMIT 1",
                [x0, x0 + cell + 2.0 / b, y0, y0 + cell + 2.0 / b, *statuses, lon, lat],
            )
            case_id = str(found[0][0]) if found else ""
        out.append(Cluster(float(lon), float(lat), int(n), case_id))
    return out


def cases_in_grid(store: Any, grid_code: str) -> list[str]:
    """Ids of every case of one grid (what a click on the grid lists)."""
    return [str(r[0]) for r in store.read("SELECT id FROM cases WHERE grid_code = ?", [grid_code])]


def union_bbox(boxes: Iterable[BBox]) -> BBox | None:
    boxes = list(boxes)
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def shapely_bbox(bbox: BBox) -> Any:
    return shapely.box(*bbox)
