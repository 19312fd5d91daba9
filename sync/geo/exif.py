"""Where a photo was taken, from its EXIF GPS tags (a patrol's location, 巡查定位).

Read with Pillow's ``Image.getexif().get_ifd(IFD.GPSInfo)`` — the maintained EXIF reader we
already ship for thumbnails — rather than parsing TIFF structures ourselves. Coordinates are
degrees/minutes/seconds rationals with N/S and E/W references; phones in China write WGS-84
(GPS), which is what is kept (the offline map's outlines are WGS-84 too).

A photo without GPS, with zero or impossible coordinates, or whose EXIF is damaged gives None:
the location is then typed or left empty; a photo is never refused for its EXIF.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, UnidentifiedImageError

__all__ = ["gps_location", "location_of_file"]

_GPS = ExifTags.IFD.GPSInfo
_LAT, _LAT_REF = ExifTags.GPS.GPSLatitude, ExifTags.GPS.GPSLatitudeRef
_LON, _LON_REF = ExifTags.GPS.GPSLongitude, ExifTags.GPS.GPSLongitudeRef

#: The most of a file read to find its EXIF (it sits at the start of a JPEG).
READ_MAX = 30 * 1024 * 1024


def _degrees(value: Any) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals (or one number)."""
    try:
        if isinstance(value, tuple | list):
            parts = [float(v) for v in value]
            if not 1 <= len(parts) <= 3:
                return None
            parts += [0.0] * (3 - len(parts))
            d, m, s = parts
            if not (0 <= m < 60 and 0 <= s < 60):
                return None
            return d + m / 60 + s / 3600
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _ref(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip("\x00 ").upper()


def gps_location(data: bytes) -> tuple[float, float] | None:
    """(longitude, latitude) in degrees from a photo's EXIF GPS, or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                gps = im.getexif().get_ifd(_GPS)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    if not gps or _LAT not in gps or _LON not in gps:
        return None
    lat, lon = _degrees(gps[_LAT]), _degrees(gps[_LON])
    if lat is None or lon is None:
        return None
    if _ref(gps.get(_LAT_REF)) == "S":
        lat = -lat
    if _ref(gps.get(_LON_REF)) == "W":
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None  # a camera without a fix writes zeros
    return lon, lat


def location_of_file(path: str | Path) -> str | None:
    """``"lon,lat"`` (6 decimals) of the photo at ``path``, or None (no GPS, unreadable)."""
    try:
        with open(path, "rb") as f:
            data = f.read(READ_MAX)
    except OSError:
        return None
    found = gps_location(data)
    return None if found is None else f"{found[0]:.6f},{found[1]:.6f}"
