"""A point as a case carries it: the text "lon,lat" in degrees, six decimals (about 0.1 m)."""

from __future__ import annotations

import math
import re


class PointError(ValueError):
    """A coordinate that cannot be a point on the map, in plain words; ``reason`` names the
    problem for a UI that words it in its own language: ``form``, ``count``, ``number``,
    ``finite``, ``swapped`` or ``outside``."""

    def __init__(self, message: str, reason: str = "form") -> None:
        super().__init__(message)
        self.reason = reason


#: Longitude and latitude of mainland China, generously: a point outside is a typo (swapped
#: order, a missing digit), not a place a township works.
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)

_SPLIT = re.compile(r"[\s,，;；]+")


def parse_point(value: object) -> tuple[float, float] | None:
    """``(lon, lat)`` from "lon,lat" text (or a 2-sequence); None for nothing or bad input.

    The lenient form the store's projection uses: a malformed value from another device shows
    no point rather than failing the case. :func:`check_point` says what is wrong.
    """
    try:
        return check_point(value)
    except PointError:
        return None


def check_point(value: object) -> tuple[float, float] | None:
    """``(lon, lat)`` from "lon,lat"; None for empty; :class:`PointError` for bad input."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        parts = [p for p in _SPLIT.split(text) if p]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        raise PointError("a point is written as longitude,latitude, e.g. 119.1234,29.0567")
    if len(parts) != 2:
        raise PointError("a point is two numbers, longitude then latitude, e.g. 119.1234,29.0567")
    try:
        lon, lat = float(parts[0]), float(parts[1])
    except (TypeError, ValueError):
        raise PointError(
            f"{parts[0]!s},{parts[1]!s} is not a pair of numbers; write longitude,latitude "
            "in degrees, e.g. 119.1234,29.0567",
            "number",
        ) from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise PointError("longitude and latitude must be ordinary numbers", "finite")
    if not (LON_RANGE[0] <= lon <= LON_RANGE[1] and LAT_RANGE[0] <= lat <= LAT_RANGE[1]):
        swapped = LON_RANGE[0] <= lat <= LON_RANGE[1] and LAT_RANGE[0] <= lon <= LAT_RANGE[1]
        hint = " (longitude and latitude look swapped: longitude comes first)" if swapped else ""
        raise PointError(
            f"{lon:g},{lat:g} is not in China{hint}", "swapped" if swapped else "outside"
        )
    return lon, lat


def format_point(lon: float, lat: float) -> str:
    """The stored text of a point."""
    return f"{lon:.6f},{lat:.6f}"
