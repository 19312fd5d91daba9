"""Geometry for the offline map: points, outlines, and their queries on the store (Qt-free).

- :mod:`.points`: a case's point as text ("lon,lat"), parsed and checked (no dependencies).
- :mod:`.shapes`: outlines (shapely): the bundled county outlines, point-in-polygon,
  simplification, validity.
- :mod:`.geostore`: outlines and case points in the store's R*Tree indexes: bbox queries,
  counts per grid, clustering of points in SQL.

Coordinates are longitude, latitude in degrees throughout (GeoJSON order).
"""

from .points import PointError, format_point, parse_point

__all__ = ["PointError", "format_point", "parse_point"]
