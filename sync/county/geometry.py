"""The county's outlines (county, townships, villages, grids): county data, like the taxonomy.

County IT imports the real boundaries (``gridroom-county geo import FILE``, GeoJSON or an ESRI
Shapefile), matched to the county's grids and divisions by code, with a plain-word report of
what did not match, what was invalid and what overlaps (:mod:`sync.geo.importer`, shared with
the desktop's ``gridroom geo import``). Until then the county holds the demo's synthetic
outlines (``init`` draws them inside the real county outline, labelled 合成 synthetic).

Devices get the outlines of their own township in the reference answer (``shapes``; a county
device gets all of them). An import bumps the ``geometry`` counter and the reference version; a
device that says which geometry version it already has (``?geometry=N``) gets no outlines
again, only the version, so an account change does not resend the township's map.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..geo.importer import ImportReport, plan_features, read_boundaries
from ..geo.shapes import Outline, to_geojson
from .db import Tx

#: What ``shapes.source`` says of the outlines ``init`` draws.
SYNTHETIC_SOURCE = "合成 synthetic demo outline"


def geometry_version(tx: Tx) -> int:
    return int(tx.scalar("SELECT value FROM counters WHERE name = 'geometry'", default=0))


def _township_of(tx: Tx, outline: Outline) -> str | None:
    if outline.kind == "county":
        return None
    if outline.kind == "grid":
        found = tx.scalar("SELECT township_code FROM grids WHERE code = ?", [outline.code])
        return str(found) if found else outline.code[:9]
    return outline.code[:9]


def write_outlines(
    tx: Tx, outlines: Iterable[Outline], *, now: int, synthetic: bool, source: str
) -> int:
    """Insert or replace outlines by code (inside the caller's transaction)."""
    n = 0
    for o in outlines:
        minx, miny, maxx, maxy = o.bbox
        tx.execute(
            "INSERT INTO shapes (code, kind, name, township_code, geojson, min_x, min_y, max_x, "
            "max_y, synthetic, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name, "
            "township_code = excluded.township_code, geojson = excluded.geojson, "
            "min_x = excluded.min_x, min_y = excluded.min_y, max_x = excluded.max_x, "
            "max_y = excluded.max_y, synthetic = excluded.synthetic, source = excluded.source, "
            "updated_at = excluded.updated_at",
            [
                o.code,
                o.kind,
                o.name,
                _township_of(tx, o),
                to_geojson(o.geometry),
                minx,
                miny,
                maxx,
                maxy,
                int(synthetic),
                source,
                now,
            ],
        )
        n += 1
    return n


def plan(tx: Tx, path: Path | str, *, code_key: str | None = None) -> ImportReport:
    """Read ``path`` and check it against the county's grids and divisions."""
    features = read_boundaries(path)
    grids = {
        str(r[0]): str(r[1])
        for r in tx.rows("SELECT code, name FROM grids WHERE retired_at IS NULL")
    }
    rows = tx.rows("SELECT code, name, level FROM divisions")
    divisions = {str(r[0]): (str(r[1]), str(r[2])) for r in rows}
    report = plan_features(features, grids, divisions, file=Path(path).name, code_key=code_key)
    report.holder = "this county"
    return report


def import_file(
    db: Any,
    path: Path | str,
    *,
    now: int,
    by: str = "cli",
    code_key: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import the outlines of ``path`` that match (all in one transaction) and make every device
    fetch them; nothing is written on ``dry_run`` or when nothing matched."""
    from .admin import audit

    with db.write() as tx:
        report = plan(tx, path, code_key=code_key)
        if dry_run or not report.matched:
            return report
        n = write_outlines(
            tx, report.matched, now=now, synthetic=False, source=f"imported {report.file}"
        )
        version = tx.bump("geometry")
        tx.bump("reference")
        audit(
            tx,
            now,
            by,
            "geo.import",
            report.file,
            {
                "outlines": n,
                "version": version,
                "unmatched": len(report.unmatched),
                "invalid": len(report.invalid),
                "overlapping": len(report.overlapping),
            },
        )
    return report


def shapes_for(tx: Tx, township: str) -> list[dict[str, Any]]:
    """The outlines a device of ``township`` (a 6-digit county code: all) may have."""
    if len(township) == 6:
        where, args = "township_code IS NULL OR township_code LIKE ?", [f"{township}%"]
    else:
        where, args = "township_code IS NULL OR township_code = ?", [township]
    return [
        {
            "code": str(r[0]),
            "kind": str(r[1]),
            "name": str(r[2]),
            "geojson": str(r[3]),
            "synthetic": bool(r[4]),
        }
        for r in tx.rows(
            f"SELECT code, kind, name, geojson, synthetic FROM shapes WHERE {where} ORDER BY code",
            args,
        )
    ]


def counts(tx: Tx) -> dict[str, int]:
    return {
        str(r[0]): int(r[1]) for r in tx.rows("SELECT kind, count(*) FROM shapes GROUP BY kind")
    }
