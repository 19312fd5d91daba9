"""Where a case is: coordinates typed, or picked on a small map of the township's outlines.

:class:`PointField` is what the report form shows: a line for "longitude,latitude" and a button
that opens :class:`PointPicker`. The point is checked as typed: two numbers, in China, and
inside the township the case belongs to (when the store has that township's outline).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sync.geo import format_point, geostore
from sync.geo.points import PointError, check_point

from ..context import AppContext
from .data import MapData, load_outlines
from .page import AreaItem, MapPage


def township_check(store: Any, township: str, lon: float, lat: float) -> str | None:
    """Why (lon, lat) cannot be a case of ``township``, or None (no outline: not checked)."""
    inside = geostore.inside(store, township, lon, lat)
    if inside is False:
        name = store.read("SELECT name FROM divisions WHERE code = ?", [township])
        return name[0][0] if name else township
    return None


class PointPicker(QDialog):
    """A small map of the store's outlines: click where the case is."""

    def __init__(self, ctx: AppContext, data: MapData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pointPicker")
        self.setWindowTitle(self.tr("Pick the place on the map"))
        self.point: tuple[float, float] | None = None
        # The map page's drawing, without markers or colouring controls.
        self.map = MapPage(ctx, self, live=False)
        self.map.show_markers.setChecked(False)
        self.map.setMinimumSize(640, 480)
        self.map._show(data)
        self.map.view.clicked.disconnect()
        self.map.view.clicked.connect(self._clicked)
        self._mark = QGraphicsEllipseItem(-6, -6, 12, 12)
        self._mark.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._mark.setBrush(QBrush(QColor("#d7263d")))
        self._mark.setPen(QPen(QColor("#ffffff"), 2))
        self._mark.setZValue(20)
        self._mark.setVisible(False)
        self.map.scene.addItem(self._mark)
        self.label = QLabel(self.tr("Click where it happened."), self)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.map, 1)
        layout.addWidget(self.label)
        layout.addWidget(buttons)

    def pick(self, at: QPointF) -> None:
        """Choose the scene point ``at`` (what a click does)."""
        lon, lat = self.map.to_lonlat(at)
        self.point = (lon, lat)
        self._mark.setPos(at)
        self._mark.setVisible(True)
        grid = next(
            (
                i.area.name
                for i in self.map.scene.items(at)
                if isinstance(i, AreaItem) and i.area.kind == "grid"
            ),
            None,
        )
        where = format_point(lon, lat)
        self.label.setText(f"{where} · {grid}" if grid else where)
        self.ok.setEnabled(True)

    def _clicked(self, at: QPointF) -> None:
        self.pick(at)


class PointField(QWidget):
    """A case's point: typed as "lon,lat" or picked on the map (:meth:`value`: the text)."""

    changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pointField")
        self._ctx = ctx
        self.edit = QLineEdit(self)
        self.edit.setObjectName("location")
        self.edit.setPlaceholderText(self.tr("longitude,latitude, e.g. 119.1234,29.0567"))
        self.edit.textChanged.connect(lambda _t: self.changed.emit())
        self.pick_button = QPushButton(self.tr("Pick on map…"), self)
        self.pick_button.setObjectName("pickPoint")
        self.pick_button.clicked.connect(self.open_picker)
        self.picker: PointPicker | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.pick_button)

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)

    def clear(self) -> None:
        self.edit.clear()

    def value(self) -> str | None:
        """The point as stored ("lon,lat", six decimals), or None (empty or not valid)."""
        try:
            point = check_point(self.text())
        except PointError:
            return None
        return format_point(*point) if point else None

    def problem(self, township: str) -> str | None:
        """What is wrong with the typed point for a case of ``township``, or None."""
        try:
            point = check_point(self.text())
        except PointError as exc:
            reasons = {
                "swapped": self.tr(
                    "The location looks swapped: longitude (about 118–119 here) comes first, "
                    "then latitude (about 28–29)."
                ),
                "outside": self.tr("The location is not in China; check the numbers."),
            }
            return reasons.get(
                exc.reason,
                self.tr(
                    "Write the location as two numbers, longitude then latitude, "
                    "e.g. 119.1234,29.0567."
                ),
            )
        if point is None:
            return None
        outside = township_check(self._ctx.ops.gui_store(), township, *point)
        if outside is not None:
            return (
                self.tr("The location %1 is outside %2.")
                .replace("%1", format_point(*point))
                .replace("%2", outside)
            )
        return None

    def open_picker(self) -> None:
        # The outlines of one township are small: read on the GUI thread's connection.
        data = load_outlines(self._ctx.ops.gui_store())
        self.picker = PointPicker(self._ctx, data, self)
        current = check_point(self.text()) if self.value() else None
        if current is not None:
            self.picker.pick(self.picker.map.to_scene(*current))
        self.picker.setModal(True)
        self.picker.accepted.connect(self._picked)
        self.picker.open()

    def _picked(self) -> None:
        if self.picker is not None and self.picker.point is not None:
            self.edit.setText(format_point(*self.picker.point))


__all__ = ["PointField", "PointPicker", "township_check"]
