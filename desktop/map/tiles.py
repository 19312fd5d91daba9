"""The optional offline base map: an MBTiles file of raster tiles (PNG or JPEG) that county IT
provides (setting ``map_tiles``; see docs/map.md). Without one, the outlines are the base.

MBTiles is one SQLite file (the MBTiles 1.3 spec): ``metadata`` (name, format, bounds, zooms)
and ``tiles`` (zoom_level, tile_column, tile_row, tile_data), rows counted from the south (TMS),
tiles in Web Mercator (EPSG:3857). Tiles are read and drawn in the base layer's worker thread
(:mod:`.base`), each into the longitude/latitude box it covers; the map's own projection is
equirectangular, so inside a tile of a county-scale zoom the difference is under a pixel.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter

from sync.geo import mbtiles

#: At most this many tiles per image (a view of 1280×800 needs about 24 at the right zoom).
MAX_TILES = 96
RASTER = ("png", "jpg", "jpeg", "webp")


class TilesError(ValueError):
    """An MBTiles file that cannot be the base map, in plain words."""


def tile_x(lon: float, z: int) -> float:
    return (lon + 180.0) / 360.0 * (1 << z)


def tile_y(lat: float, z: int) -> float:
    """XYZ row (from the north) of ``lat`` at zoom ``z``."""
    rad = math.radians(max(-85.0511, min(85.0511, lat)))
    return (1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * (1 << z)


def tile_lon(x: float, z: int) -> float:
    return x / (1 << z) * 360.0 - 180.0


def tile_lat(y: float, z: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / (1 << z)))))


class MBTiles:
    """One MBTiles file, opened read-only and checked; :meth:`painter_for` draws it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise TilesError(f"the base map file {self.path} does not exist")
        try:
            meta, zooms = mbtiles.header(self.path)
        except mbtiles.NotMBTiles as exc:
            raise TilesError(
                f"{self.path} is not an MBTiles file (an SQLite file with metadata and tiles "
                f"tables): {exc}"
            ) from None
        self.name = str(meta.get("name") or self.path.stem)
        self.format = str(meta.get("format") or "png").lower()
        if self.format not in RASTER:
            raise TilesError(
                f"{self.path} holds {self.format} tiles; the map draws raster tiles (png or jpg), "
                "not vector tiles"
            )
        if zooms is None or zooms[0] is None:
            raise TilesError(f"{self.path} has no tiles")
        self.minzoom = int(meta.get("minzoom") or zooms[0])
        self.maxzoom = int(meta.get("maxzoom") or zooms[1])
        self.attribution = str(meta.get("attribution") or "")

    def _connect(self) -> Any:
        # A new connection per use: the worker thread draws, the GUI thread only checks.
        return mbtiles.connect(self.path)

    def zoom_for(self, px_per_degree_lon: float) -> int:
        """The tile zoom whose 256-pixel tiles are closest to the view's scale."""
        z = round(math.log2(max(px_per_degree_lon, 1e-9) * 360.0 / 256.0))
        return max(self.minzoom, min(self.maxzoom, z))

    def painter_for(
        self, to_scene: Callable[[float, float], QPointF], to_lonlat: Callable[[QPointF], tuple]
    ) -> Callable[[QPainter, QRectF, float], None]:
        """What the base layer calls (in its worker) to paint the tiles under the outlines."""

        def paint(painter: QPainter, rect: QRectF, scale: float) -> None:
            lon0, lat1 = to_lonlat(rect.topLeft())
            lon1, lat0 = to_lonlat(rect.bottomRight())
            if lon1 <= lon0:
                return
            width_px = rect.width() * scale
            z = self.zoom_for(width_px / (lon1 - lon0))
            x0, x1 = int(tile_x(lon0, z)), int(tile_x(lon1, z))
            y0, y1 = int(tile_y(lat1, z)), int(tile_y(lat0, z))
            if (x1 - x0 + 1) * (y1 - y0 + 1) > MAX_TILES:
                return  # zoomed out past the file's tiles: the outlines alone
            n = 1 << z
            with closing(self._connect()) as conn:
                for x in range(max(0, x0), min(n - 1, x1) + 1):
                    for y in range(max(0, y0), min(n - 1, y1) + 1):
                        data = mbtiles.tile(conn, z, x, n - 1 - y)
                        if data is None:
                            continue
                        image = QImage.fromData(data)
                        if image.isNull():
                            continue
                        top_left = to_scene(tile_lon(x, z), tile_lat(y, z))
                        bottom_right = to_scene(tile_lon(x + 1, z), tile_lat(y + 1, z))
                        painter.drawImage(QRectF(top_left, bottom_right), image)

        return paint
