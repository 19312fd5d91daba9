"""Outlines with shapely: the bundled county outlines, repair, simplification, lookup.

shapely (GEOS) is the standard, well-kept geometry library for Python: valid-polygon repair,
Voronoi partitions, clipping, simplification and prepared point-in-polygon tests are each one
call, where hand-written code would be long and wrong at the edges (self-intersecting rings).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

#: Where the bundled outlines live inside the installed package.
RESOURCE = ("geo", "quzhou_counties.geojson")

#: Tolerance for outlines shipped with the app and drawn on the map: about 100 m, the
#: precision of the source (1/1024 degree).
SIMPLIFY_DEGREES = 0.001


class ShapeError(ValueError):
    """A geometry that cannot be used, in plain words."""


@dataclass(frozen=True, slots=True)
class Outline:
    """One named polygon: a division or grid code, its name, its geometry."""

    code: str
    name: str
    geometry: BaseGeometry
    kind: str = ""

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        minx, miny, maxx, maxy = self.geometry.bounds
        return minx, miny, maxx, maxy


def polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """``geometry`` made valid and reduced to its polygons (a Polygon or MultiPolygon).

    Source outlines often have self-touching rings; ``make_valid`` fixes them but may leave
    stray lines or points, which a filled outline has no use for.
    """
    if geometry.is_empty:
        raise ShapeError("the outline is empty")
    fixed = geometry if geometry.is_valid else shapely.make_valid(geometry)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        raise ShapeError("the outline has no area (it is a line or a point)")
    merged = shapely.union_all(parts)
    if merged.is_empty or merged.area <= 0:
        raise ShapeError("the outline has no area")
    return merged


def simplify(geometry: BaseGeometry, tolerance: float = SIMPLIFY_DEGREES) -> BaseGeometry:
    """Fewer vertices, same topology, still valid and polygonal."""
    return polygonal(geometry.simplify(tolerance, preserve_topology=True))


def to_geojson(geometry: BaseGeometry, digits: int = 6) -> str:
    """Compact GeoJSON geometry text, coordinates rounded to ``digits`` decimals."""
    rounded = shapely.set_precision(geometry, 10.0**-digits) if digits else geometry
    return json.dumps(mapping(rounded), separators=(",", ":"))


def from_geojson(text: str | Mapping[str, Any]) -> BaseGeometry:
    """A geometry from GeoJSON geometry text or mapping; :class:`ShapeError` if it is not one."""
    try:
        data = json.loads(text) if isinstance(text, str) else text
        return shape(data)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException) as e:
        raise ShapeError(f"not a GeoJSON geometry: {e}") from None


def contains(geometry: BaseGeometry, lon: float, lat: float) -> bool:
    """Is (lon, lat) inside or on the edge of ``geometry``?"""
    return bool(geometry.covers(shapely.Point(lon, lat)))


@cache
def county_outlines() -> dict[str, Outline]:
    """The real outlines of 衢州市's six counties shipped with the app, by 6-digit code."""
    text = resources.files("gridroom_resources").joinpath(*RESOURCE).read_text("utf-8")
    out: dict[str, Outline] = {}
    for feature in json.loads(text)["features"]:
        props = feature["properties"]
        geometry = from_geojson(feature["geometry"])
        shapely.prepare(geometry)
        out[props["code"]] = Outline(props["code"], props["name"], geometry, "county")
    return out


def build_county_resource(features: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The bundled resource from the source outlines: repaired and simplified (see
    resources/geo/README.md for the command that wrote it)."""
    out = []
    for f in features:
        geometry = simplify(polygonal(from_geojson(f["geometry"])))
        props = {k: f["properties"][k] for k in ("code", "name", "center")}
        shaped = json.loads(to_geojson(geometry, 5))
        out.append({"type": "Feature", "properties": props, "geometry": shaped})
    return {"type": "FeatureCollection", "features": out}
