"""IT's import of real boundaries from GeoJSON or an ESRI Shapefile: matched to grids and
divisions by code, with a plain-word report of what did not match, what was invalid and what
overlaps.

Nothing is written unless asked (:func:`apply_import`); a file with problems still imports the
features that are fine, and the report names every one that was left out and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from struct import error as struct_error
from typing import Any

import shapely

from .geostore import put_shapes
from .points import LAT_RANGE, LON_RANGE
from .shapes import Outline, ShapeError, from_geojson, polygonal

#: Kinds by code width: 6-digit county, 9-digit township, 12-digit village, 15-digit grid.
KIND_BY_WIDTH = {6: "county", 9: "township", 12: "village", 15: "grid"}
#: Property names a code is looked for under, first match wins (after the one asked for).
CODE_KEYS = ("code", "CODE", "grid_code", "GRID_CODE", "wgbm", "WGBM", "adcode", "id")
#: Two outlines overlap when they share more than this share of the smaller one's area.
OVERLAP_SHARE = 0.01


class GeoImportError(ValueError):
    """The file cannot be read as GeoJSON at all, in plain words."""


@dataclass(slots=True)
class ImportReport:
    file: str
    matched: list[Outline] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (feature, why)
    overlapping: list[tuple[str, str, float]] = field(default_factory=list)  # a, b, share
    #: Who does not know an unmatched code, in the report's words.
    holder: str = "this store"

    def text(self) -> str:
        counts: dict[str, int] = {}
        for o in self.matched:
            counts[o.kind] = counts.get(o.kind, 0) + 1
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"
        lines = [f"{self.file}: {len(self.matched)} outlines match ({kinds})"]
        if self.repaired:
            lines.append(
                f"  {len(self.repaired)} had self-crossing rings and were repaired: "
                + ", ".join(self.repaired[:20])
            )
        if self.unmatched:
            lines.append(
                f"  {len(self.unmatched)} have a code {self.holder} does not know (not imported): "
                + ", ".join(self.unmatched[:20])
                + (" …" if len(self.unmatched) > 20 else "")
            )
        for name, why in self.invalid[:20]:
            lines.append(f"  not imported: {name}: {why}")
        if len(self.invalid) > 20:
            lines.append(f"  … and {len(self.invalid) - 20} more not imported")
        for a, b, share in self.overlapping[:20]:
            lines.append(f"  overlap: {a} and {b} share {share:.0%} of the smaller one")
        if len(self.overlapping) > 20:
            lines.append(f"  … and {len(self.overlapping) - 20} more overlapping pairs")
        if not (self.unmatched or self.invalid or self.overlapping):
            lines.append("  no problems found")
        return "\n".join(lines)


def read_features(path: Path | str) -> list[Mapping[str, Any]]:
    """The features of a GeoJSON file (a FeatureCollection, a Feature, or a bare geometry)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise GeoImportError(f"{path} does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeoImportError(
            f"{path} is not GeoJSON text ({exc}); export the boundaries as GeoJSON (.geojson) "
            "in longitude/latitude degrees (EPSG:4326)"
        ) from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise GeoImportError(f"{path}: the FeatureCollection has no features list")
        return features
    if isinstance(data, dict) and data.get("type") == "Feature":
        return [data]
    raise GeoImportError(f"{path}: expected a GeoJSON FeatureCollection of boundary polygons")


def read_shapefile(path: Path | str) -> list[Mapping[str, Any]]:
    """The features of an ESRI Shapefile (``.shp`` with its ``.dbf``; ``.cpg`` names the text
    encoding, else UTF-8 is tried, then GBK as Chinese GIS software writes it), as GeoJSON
    mappings. Read with pyshp (see pyproject.toml for why not pyogrio)."""
    import shapefile  # pyshp; only the county and the import command need it

    path = Path(path)
    if not path.exists():
        raise GeoImportError(f"{path} does not exist")
    if not path.with_suffix(".dbf").exists() and not path.with_suffix(".DBF").exists():
        raise GeoImportError(
            f"{path}: the .dbf file beside it is missing (it holds the codes); copy the "
            ".shp, .shx, .dbf (and .cpg, .prj) files together"
        )
    cpg = path.with_suffix(".cpg")
    declared = cpg.read_text("ascii", "replace").strip() if cpg.exists() else ""
    encodings = [declared] if declared else ["utf-8", "gbk"]
    for encoding in encodings:
        try:
            with shapefile.Reader(str(path), encoding=encoding) as reader:
                return [
                    {
                        "type": "Feature",
                        "properties": dict(rec.record.as_dict()),
                        "geometry": rec.shape.__geo_interface__,
                    }
                    for rec in reader.iterShapeRecords()
                ]
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise GeoImportError(f"{cpg}: unknown text encoding {declared!r}") from None
        except (shapefile.ShapefileException, OSError, ValueError, struct_error) as exc:
            if "decode" in str(exc) and not declared:
                continue  # pyshp's word for text in another encoding: try the next one
            raise GeoImportError(f"{path} is not a readable Shapefile ({exc})") from None
    raise GeoImportError(
        f"{path}: the attribute table is neither UTF-8 nor GBK text; add a .cpg file "
        "naming its encoding (e.g. GB18030)"
    )


def read_boundaries(path: Path | str) -> list[Mapping[str, Any]]:
    """Features of a boundary file: a Shapefile (``.shp``) or GeoJSON (anything else)."""
    path = Path(path)
    if path.suffix.lower() == ".shp":
        return read_shapefile(path)
    return read_features(path)


def _code(props: Mapping[str, Any], key: str | None) -> str | None:
    for k in ((key,) if key else ()) + CODE_KEYS:
        value = props.get(k) if k else None
        if value not in (None, ""):
            return str(value).strip()
    return None


def plan_import(
    store: Any,
    features: Iterable[Mapping[str, Any]],
    *,
    file: str = "",
    code_key: str | None = None,
) -> ImportReport:
    """Check ``features`` against the store: what would be imported, and every problem."""
    grids = {r[0]: r[1] for r in store.read("SELECT code, name FROM grids")}
    divisions = {r[0]: (r[1], r[2]) for r in store.read("SELECT code, name, level FROM divisions")}
    return plan_features(features, grids, divisions, file=file, code_key=code_key)


def plan_features(
    features: Iterable[Mapping[str, Any]],
    grids: Mapping[str, str],
    divisions: Mapping[str, tuple[str, str]],
    *,
    file: str = "",
    code_key: str | None = None,
) -> ImportReport:
    """Check ``features`` against known grids (code → name) and divisions (code → (name,
    level)): what would be imported, and every problem. The store and the county share it."""
    report = ImportReport(file)
    seen: set[str] = set()
    for n, feature in enumerate(features, start=1):
        if not isinstance(feature, Mapping):
            report.invalid.append((f"feature {n}", "not a GeoJSON Feature"))
            continue
        props = feature.get("properties") or {}
        code = _code(props, code_key) if isinstance(props, Mapping) else None
        label = f"feature {n}" + (f" ({code})" if code else "")
        if code is None:
            report.invalid.append((label, "no code property (code, wgbm …) to match it by"))
            continue
        kind = KIND_BY_WIDTH.get(len(code))
        if code in grids:
            kind, name = "grid", grids[code]
        elif code in divisions and divisions[code][1] in ("county", "township", "village"):
            kind, name = divisions[code][1], divisions[code][0]
        else:
            report.unmatched.append(code if kind else f"{code} (not a 6/9/12/15-digit code)")
            continue
        if code in seen:
            report.invalid.append((f"{label} {name}", "the code appears twice; the first is kept"))
            continue
        try:
            raw = from_geojson(feature.get("geometry") or {})
            if raw.geom_type not in ("Polygon", "MultiPolygon"):
                raise ShapeError(f"it is a {raw.geom_type}, not a polygon")
            minx, miny, maxx, maxy = raw.bounds
            if not (
                LON_RANGE[0] <= minx <= maxx <= LON_RANGE[1]
                and LAT_RANGE[0] <= miny <= maxy <= LAT_RANGE[1]
            ):
                raise ShapeError(
                    "its coordinates are not longitude/latitude degrees in China "
                    "(a projected coordinate system? export in EPSG:4326)"
                )
            geometry = polygonal(raw)
        except ShapeError as exc:
            report.invalid.append((f"{label} {name}", str(exc)))
            continue
        if not raw.is_valid:
            report.repaired.append(f"{code} {name}")
        seen.add(code)
        report.matched.append(Outline(code, name, geometry, kind))
    report.overlapping = _overlaps(report.matched)
    return report


def _overlaps(outlines: list[Outline]) -> list[tuple[str, str, float]]:
    """Pairs of same-kind outlines that share more than :data:`OVERLAP_SHARE` of area."""
    out: list[tuple[str, str, float]] = []
    for kind in ("township", "village", "grid"):
        mine = [o for o in outlines if o.kind == kind]
        if len(mine) < 2:
            continue
        tree = shapely.STRtree([o.geometry for o in mine])
        left, right = tree.query([o.geometry for o in mine], predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i >= j:
                continue
            a, b = mine[i], mine[j]
            shared = a.geometry.intersection(b.geometry).area
            share = shared / min(a.geometry.area, b.geometry.area)
            if share > OVERLAP_SHARE:
                out.append((f"{a.code} {a.name}", f"{b.code} {b.name}", share))
    return out


def apply_import(store: Any, report: ImportReport) -> int:
    """Write the matched outlines (replacing what the store had for those codes)."""
    return put_shapes(store, report.matched, synthetic=False, source=f"imported {report.file}")
