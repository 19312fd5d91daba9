"""What the map reads from the store, in background reads (no Qt here).

:func:`load_outlines` reads every outline once (a township has a few hundred; a county a few
thousand) with the counts that colour the grids; :func:`load_markers` reads the case clusters
of the current view on every pan or zoom, grouped in SQL on the R*Tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync.geo import geostore
from sync.geo.shapes import from_geojson
from sync.model.divisions import short_name
from sync.model.records import OPEN_STATUSES

Ring = list[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class Area:
    """One outline ready to draw: its rings (outer rings and holes alike; drawn odd-even)."""

    code: str
    kind: str
    name: str
    rings: list[Ring]
    label_at: tuple[float, float]
    synthetic: bool


@dataclass(slots=True)
class MapData:
    areas: list[Area] = field(default_factory=list)
    counts: dict[str, geostore.GridCounts] = field(default_factory=dict)
    extent: geostore.BBox | None = None
    now: int = 0

    def of_kind(self, kind: str) -> list[Area]:
        return [a for a in self.areas if a.kind == kind]


def _rings(geometry: Any) -> list[Ring]:
    polygons = list(getattr(geometry, "geoms", [geometry]))
    out: list[Ring] = []
    for p in polygons:
        if p.geom_type != "Polygon":
            continue
        out.append([(float(x), float(y)) for x, y in p.exterior.coords])
        out.extend([(float(x), float(y)) for x, y in hole.coords] for hole in p.interiors)
    return out


def load_outlines(store: Any) -> MapData:
    """Every outline of the store with the grid counts (a background read)."""
    data = MapData(now=store.now())
    boxes = []
    for s in geostore.shapes_in(store):
        geometry = from_geojson(s.geojson)
        at = geometry.representative_point()
        name = short_name(s.name) if s.kind == "village" else s.name
        data.areas.append(Area(s.code, s.kind, name, _rings(geometry), (at.x, at.y), s.synthetic))
        if s.kind != "county":  # the view opens on the scope, the county is context
            boxes.append(s.bbox)
    data.counts = geostore.grid_counts(store, data.now)
    data.extent = geostore.union_bbox(boxes) or geostore.extent(store)
    return data


def load_markers(
    store: Any, bbox: geostore.BBox, cell: float, *, open_only: bool = True
) -> list[geostore.Cluster]:
    """Case clusters in the view box (cells of ``cell`` degrees)."""
    statuses = [s.value for s in OPEN_STATUSES] if open_only else None
    return geostore.clusters(store, bbox, cell, statuses=statuses)
