"""The 地图 page: grids coloured by their cases, case markers, click-through to the cases."""

from PySide6.QtCore import QCoreApplication

from .page import MapPage


def show_on_map_text() -> str:
    """The words of a "show on map" button on other pages (translated with the map's set)."""
    return QCoreApplication.translate("MapPage", "Show on map")


__all__ = ["MapPage", "show_on_map_text"]
