"""The 地图 page: grids coloured by their cases, case markers, click-through to the cases."""

from .page import MapPage

__all__ = ["MapPage"]
