"""``gridroom geo import``: real township, village and grid boundaries from a GeoJSON file or
an ESRI Shapefile (on a synced device the county's outlines replace these at the next sync)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..store import Store

NAME = "geo"
HELP = "Boundaries for the map: import GeoJSON or Shapefile outlines (matched by code)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="geo_command", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import",
        help="import boundary polygons from a GeoJSON file or Shapefile (.shp) in EPSG:4326 "
        "lon/lat, matched to grids, villages and townships by their code",
    )
    imp.add_argument(
        "file", help="the GeoJSON file (a FeatureCollection of polygons) or .shp (with its .dbf)"
    )
    imp.add_argument("--db", required=True, help="the store file")
    imp.add_argument(
        "--code-property",
        metavar="NAME",
        help="the feature property that holds the grid/division code (default: code, wgbm …)",
    )
    imp.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")


def run(args: argparse.Namespace) -> int:
    from ..geo.importer import GeoImportError, apply_import, plan_import, read_boundaries

    try:
        features = read_boundaries(args.file)
    except GeoImportError as exc:
        print(f"gridroom geo import: {exc}", file=sys.stderr)
        return 2
    with Store.open(args.db) as store:
        report = plan_import(
            store, features, file=Path(args.file).name, code_key=args.code_property
        )
        print(report.text())
        if not report.matched:
            print("gridroom geo import: nothing to import", file=sys.stderr)
            return 1
        if args.dry_run:
            print("dry run: nothing written")
            return 0
        written = apply_import(store, report)
    print(f"imported {written} outlines")
    return 0
