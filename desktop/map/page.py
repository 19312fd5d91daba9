"""The 地图 page (治理云图): grid outlines coloured by their cases, case markers, click-through.

Drawn from the store alone (no map service, no internet): the outlines are the base map. The
grids are filled by open cases, overdue cases or open cases per km² (a legend says which colour
means what); village and township outlines are drawn over them. Case markers are clustered in
SQL on the R*Tree for the current view, in a background read after every pan or zoom, so the
GUI thread only ever draws what is on screen. Labels follow the zoom (level of detail): village
names when villages are big enough to hold them, grid names closer in.

A click on a grid shows its cases in the case list (what its colour counts); a click on a single
case marker opens that case; a click on a cluster zooms in on it.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QShowEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

from sync.geo.geostore import BBox, Cluster
from sync.store.queries import CaseQuery

from ..context import AppContext
from ..errors import show_error
from .data import Area, MapData, load_markers, load_outlines

# Scene units per degree of latitude (longitude is scaled by cos(latitude) on top).
UNITS = 1000.0
# Marker cells on screen, in pixels: points closer than this are one cluster.
CELL_PX = 56
# Closest zoom: about one pixel per metre.
MAX_PX_PER_DEGREE = 111_000.0

# Fill classes, light to dark (ColorBrewer YlOrRd, 5 classes); zero has its own pale grey.
CLASS_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
ZERO_COLOUR = "#eef1ee"
MODES = ("open", "overdue", "density")


def class_step(maximum: float, mode: str) -> float:
    """The width of one colour class for the largest value on the map."""
    # Equal classes up to the largest value, so the busiest grid is always the darkest (with
    # few cases some classes hold no whole number; the legend leaves those out).
    del mode
    return maximum / len(CLASS_COLOURS) if maximum > 0 else 1.0


def class_of(value: float, step: float) -> int:
    """The colour class of ``value`` (-1: zero)."""
    if value <= 0:
        return -1
    return min(len(CLASS_COLOURS) - 1, max(0, math.ceil(value / step - 1e-9) - 1))


def colour_of(value: float, step: float) -> QColor:
    n = class_of(value, step)
    return QColor(ZERO_COLOUR if n < 0 else CLASS_COLOURS[n])


class AreaItem(QGraphicsPathItem):
    """A grid, village, township or county outline."""

    def __init__(self, area: Area, path: QPainterPath) -> None:
        super().__init__(path)
        self.area = area
        self.setData(0, area.code)

    @property
    def code(self) -> str:
        return self.area.code


class MarkerItem(QGraphicsItem):
    """One case (a dot) or a cluster (a disc with its count); a fixed size on screen."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__()
        self.cluster = cluster
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(10)
        n = cluster.count
        self.radius = 5.0 if n == 1 else min(22.0, 9.0 + 3.0 * math.log10(n) * 2)
        self.setToolTip(str(n))

    def boundingRect(self) -> QRectF:
        r = self.radius + 1.5
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: Any = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#ffffff"), 1.5))
        painter.setBrush(QColor("#1f5fa8") if self.cluster.count == 1 else QColor(31, 95, 168, 215))
        r = self.radius
        painter.drawEllipse(QRectF(-r, -r, 2 * r, 2 * r))
        if self.cluster.count > 1:
            font = QFont(painter.font())
            font.setPointSizeF(8.0 if self.cluster.count < 1000 else 7.0)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(QColor("#ffffff"))
            centre = Qt.AlignmentFlag.AlignCenter
            painter.drawText(self.boundingRect(), centre, f"{self.cluster.count}")


class MapView(QGraphicsView):
    """Pans by dragging, zooms with the wheel or +/-; a click without a drag is a click."""

    clicked = Signal(QPointF)  # scene position
    view_changed = Signal()
    resized = Signal()

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("mapView")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setBackgroundBrush(QColor("#f7f8fa"))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pressed: QPointF | None = None
        self.min_scale = 0.0
        self.touched = False  # zoomed or panned by the user: a resize keeps the view then
        self.horizontalScrollBar().valueChanged.connect(self.view_changed)
        self.verticalScrollBar().valueChanged.connect(self.view_changed)

    def scale_now(self) -> float:
        return float(self.transform().m11())

    def antialiased(self) -> bool:
        return bool(self.renderHints() & QPainter.RenderHint.Antialiasing)

    def zoom(self, factor: float) -> None:
        now = self.scale_now()
        top = MAX_PX_PER_DEGREE / UNITS
        target = min(top, max(self.min_scale, now * factor))
        self.touched = True
        if target != now and now > 0:
            self.scale(target / now, target / now)
            self.view_changed.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(1.25**steps)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1.5)
        elif event.key() == Qt.Key.Key_Minus:
            self.zoom(1 / 1.5)
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._pressed = event.position()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        start, self._pressed = self._pressed, None
        if start is not None and event.button() == Qt.MouseButton.LeftButton:
            moved = event.position() - start
            if abs(moved.x()) + abs(moved.y()) < 5:
                self.clicked.emit(self.mapToScene(event.position().toPoint()))
            else:
                self.touched = True

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.resized.emit()
        self.view_changed.emit()


class Legend(QFrame):
    """What each fill colour means, for the current colouring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapLegend")
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(8, 8, 8, 8)
        self.box.setSpacing(4)
        self.title = QLabel(self)
        self.title.setObjectName("mapLegendTitle")
        self.box.addWidget(self.title)
        self.rows: list[tuple[QColor, str]] = []
        self._row_widgets: list[QWidget] = []

    def set_classes(self, title: str, rows: list[tuple[QColor, str]]) -> None:
        self.title.setText(title)
        self.rows = rows
        for w in self._row_widgets:
            w.deleteLater()
        self._row_widgets = []
        for colour, text in rows:
            row = QWidget(self)
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            swatch = QLabel(row)
            swatch.setFixedSize(18, 12)
            swatch.setStyleSheet(f"background: {colour.name()}; border: 1px solid #8a8f98;")
            line.addWidget(swatch)
            line.addWidget(QLabel(text, row), 1)
            self.box.addWidget(row)
            self._row_widgets.append(row)


class MapPage(QWidget):
    """The map. Signals: ``loaded`` after outlines are drawn, ``markers_loaded`` after markers."""

    #: Above this many grid outlines on screen, draw without antialiasing (level of detail: a
    #: county's 800 grids zoomed out draw in about half the time; edges are too small to tell).
    antialias_limit = 300

    loaded = Signal()
    markers_loaded = Signal()

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, live: bool = True
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mapPage")
        self._ctx = ctx
        self.live = live  # reads the store when shown and when cases change; False: given data
        self.data: MapData | None = None
        self.grid_items: dict[str, AreaItem] = {}
        self.other_items: list[AreaItem] = []
        self.labels: dict[str, QGraphicsSimpleTextItem] = {}
        self.markers: list[MarkerItem] = []
        self._lat0 = 29.0
        self._loading = False
        self._stale = True
        self._markers_loading = False
        self._markers_again = False

        self.scene = QGraphicsScene(self)
        self.view = MapView(self.scene, self)
        self.view.clicked.connect(self._clicked)
        self.view.view_changed.connect(self._view_changed)
        self.view.resized.connect(self._view_resized)

        self.mode = QComboBox(self)
        self.mode.setObjectName("mapMode")
        mode_names = {
            "open": self.tr("Open cases"),
            "overdue": self.tr("Overdue cases"),
            "density": self.tr("Open cases per km²"),
        }
        for key in MODES:
            self.mode.addItem(mode_names[key], key)
        self.mode.currentIndexChanged.connect(self._recolour)
        self.show_markers = QCheckBox(self.tr("Case markers"), self)
        self.show_markers.setObjectName("mapMarkers")
        self.show_markers.setChecked(True)
        self.show_markers.toggled.connect(self._markers_toggled)
        self.all_cases = QCheckBox(self.tr("Include closed cases"), self)
        self.all_cases.setObjectName("mapAllCases")
        self.all_cases.toggled.connect(lambda _on: self.refresh_markers())
        self.fit_button = QPushButton(self.tr("Whole map"), self)
        self.fit_button.clicked.connect(self.fit)
        self.summary = QLabel(self)
        self.summary.setObjectName("mapSummary")

        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Colour grids by"), self))
        bar.addWidget(self.mode)
        bar.addSpacing(12)
        bar.addWidget(self.show_markers)
        bar.addWidget(self.all_cases)
        bar.addWidget(self.fit_button)
        bar.addStretch(1)
        bar.addWidget(self.summary)

        self.legend = Legend(self)
        self.note = QLabel(self)
        self.note.setObjectName("mapNote")
        self.note.setWordWrap(True)
        self.hint = QLabel(
            self.tr(
                "Drag to pan, wheel or +/− to zoom. Click a grid to list its cases, a marker "
                "to open its case, a cluster to zoom in."
            ),
            self,
        )
        self.hint.setWordWrap(True)
        side = QVBoxLayout()
        side.addWidget(self.legend)
        side.addWidget(self.note)
        side.addWidget(self.hint)
        side.addStretch(1)
        side_box = QWidget(self)
        side_box.setLayout(side)
        side_box.setFixedWidth(220)

        body = QHBoxLayout()
        body.addWidget(self.view, 1)
        body.addWidget(side_box)
        outer = QVBoxLayout(self)
        outer.addLayout(bar)
        outer.addLayout(body, 1)

        self._marker_timer = QTimer(self)
        self._marker_timer.setSingleShot(True)
        self._marker_timer.setInterval(150)
        self._marker_timer.timeout.connect(self.refresh_markers)
        ctx.cases_changed.connect(self._changed)

    def _view_resized(self) -> None:
        if self.data is not None and not self.view.touched:
            self.fit()  # until the user moves the map, it shows the whole scope

    # -- projection ---------------------------------------------------------------------------

    def to_scene(self, lon: float, lat: float) -> QPointF:
        return QPointF(lon * UNITS * math.cos(math.radians(self._lat0)), -lat * UNITS)

    def to_lonlat(self, p: QPointF) -> tuple[float, float]:
        return p.x() / (UNITS * math.cos(math.radians(self._lat0))), -p.y() / UNITS

    def view_bbox(self) -> BBox:
        rect = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        x0, y1 = self.to_lonlat(rect.topLeft())
        x1, y0 = self.to_lonlat(rect.bottomRight())
        return (x0, y0, x1, y1)

    # -- loading ------------------------------------------------------------------------------

    def loading(self) -> bool:
        return self._loading or self._markers_loading

    def refresh(self) -> None:
        if self._loading:
            return
        self._loading = True
        self._stale = False
        self._ctx.ops.read(load_outlines).success(self._show).failure(self._failed).run()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale and self.live:
            self.refresh()

    def _changed(self, _ids: object) -> None:
        if not self.live:
            return
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self._markers_loading = False
        show_error(self, exc, self.tr("Reading the map"))

    def _path(self, area: Area) -> QPainterPath:
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.OddEvenFill)
        for ring in area.rings:
            points = [self.to_scene(x, y) for x, y in ring]
            path.moveTo(points[0])
            for p in points[1:]:
                path.lineTo(p)
            path.closeSubpath()
        return path

    def _show(self, data: MapData) -> None:
        self._loading = False
        first = self.data is None
        self.data = data
        if data.extent is not None:
            self._lat0 = (data.extent[1] + data.extent[3]) / 2
        self.scene.clear()
        self.grid_items, self.other_items, self.labels, self.markers = {}, [], {}, []
        styles = {
            "county": (QPen(QColor("#5b6270"), 2.0), QBrush(QColor("#ffffff")), 0),
            "township": (QPen(QColor("#2d3440"), 2.2), QBrush(Qt.BrushStyle.NoBrush), 3),
            "village": (QPen(QColor("#59606b"), 1.1), QBrush(Qt.BrushStyle.NoBrush), 2),
            "grid": (QPen(QColor("#9aa1ab"), 0.6), QBrush(QColor(ZERO_COLOUR)), 1),
        }
        for area in data.areas:
            pen, brush, z = styles.get(area.kind, styles["grid"])
            pen = QPen(pen)
            pen.setCosmetic(True)
            item = AreaItem(area, self._path(area))
            item.setPen(pen)
            item.setBrush(brush)
            item.setZValue(z)
            self.scene.addItem(item)
            if area.kind == "grid":
                self.grid_items[area.code] = item
            else:
                self.other_items.append(item)
            if area.kind in ("grid", "village"):
                label = QGraphicsSimpleTextItem(area.name)
                label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
                label.setBrush(QColor("#1d232c" if area.kind == "village" else "#3b424d"))
                font = label.font()
                font.setPointSizeF(9.5 if area.kind == "village" else 8.0)
                font.setBold(area.kind == "village")
                label.setFont(font)
                # Centred on the label point: the offset is in pixels (the item's own
                # transform), since the item ignores the view's scale.
                box = label.boundingRect()
                label.setTransform(QTransform.fromTranslate(-box.width() / 2, -box.height() / 2))
                label.setPos(self.to_scene(*area.label_at))
                label.setZValue(11 if area.kind == "village" else 4)  # village names over markers
                label.setData(1, area.kind)
                self.scene.addItem(label)
                self.labels[area.code] = label
        synthetic = any(a.synthetic for a in data.areas if a.kind == "grid")
        self.note.setText(
            self.tr("Grid and village outlines are synthetic (合成) demo data.")
            if synthetic
            else ""
        )
        if not data.areas:
            self.note.setText(
                self.tr("This store has no outlines yet: IT imports the county's boundaries.")
            )
        self._recolour()
        if first or not self.view.touched:
            self.fit()
        self._update_labels()
        self.loaded.emit()
        self.refresh_markers()

    # -- colouring ----------------------------------------------------------------------------

    def current_mode(self) -> str:
        return str(self.mode.currentData())

    def value_of(self, code: str) -> float:
        counts = self.data.counts.get(code) if self.data else None
        if counts is None:
            return 0.0
        mode = self.current_mode()
        if mode == "overdue":
            return float(counts.overdue)
        if mode == "density":
            return counts.density
        return float(counts.open)

    def step(self) -> float:
        values = [self.value_of(c) for c in self.grid_items]
        return class_step(max(values, default=0.0), self.current_mode())

    def _recolour(self) -> None:
        if self.data is None:
            return
        step = self.step()
        mode = self.current_mode()
        open_total = sum(c.open for c in self.data.counts.values())
        overdue_total = sum(c.overdue for c in self.data.counts.values())
        for code, item in self.grid_items.items():
            item.setBrush(colour_of(self.value_of(code), step))
            counts = self.data.counts.get(code)
            tip = f"{item.area.name}\n" + self.tr("%1 open, %2 overdue").replace(
                "%1", str(counts.open if counts else 0)
            ).replace("%2", str(counts.overdue if counts else 0))
            item.setToolTip(tip)
        titles = {
            "open": self.tr("Open cases per grid"),
            "overdue": self.tr("Overdue cases per grid"),
            "density": self.tr("Open cases per km²"),
        }
        rows = [(QColor(ZERO_COLOUR), self.tr("none"))]
        for n, colour in enumerate(CLASS_COLOURS):
            low, high = n * step, (n + 1) * step
            if mode == "density":
                text = f"{low:.1f} – {high:.1f}"
            else:
                lo, hi = math.floor(low + 1e-9) + 1, math.floor(high + 1e-9)
                if lo > hi:
                    continue  # no whole number of cases falls in this class
                text = str(hi) if lo == hi else f"{lo} – {hi}"
            rows.append((QColor(colour), text))
        self.legend.set_classes(titles[mode], rows)
        self.summary.setText(
            self.tr("%1 grids · %2 open cases · %3 overdue")
            .replace("%1", str(len(self.grid_items)))
            .replace("%2", f"{open_total:,}")
            .replace("%3", f"{overdue_total:,}")
        )

    # -- view ---------------------------------------------------------------------------------

    def fit(self) -> None:
        if self.data is None or self.data.extent is None:
            return
        x0, y0, x1, y1 = self.data.extent
        rect = QRectF(self.to_scene(x0, y1), self.to_scene(x1, y0))
        margin = rect.width() * 0.04
        rect = rect.adjusted(-margin, -margin, margin, margin)
        w, h = rect.width(), rect.height()
        self.scene.setSceneRect(rect.adjusted(-w, -h, w, h))
        self.view.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self.view.min_scale = self.view.scale_now() / 2
        self.view.touched = False
        self._view_changed()

    def zoom_to(self, lon: float, lat: float, factor: float) -> None:
        self.view.zoom(factor)
        self.view.centerOn(self.to_scene(lon, lat))
        self._view_changed()

    def _view_changed(self) -> None:
        self._update_labels()
        self._update_antialiasing()
        if self.data is not None:
            self._marker_timer.start()

    def grids_in_view(self) -> int:
        rect = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        return sum(
            1
            for item in self.scene.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
            if isinstance(item, AreaItem) and item.area.kind == "grid"
        )

    def _update_antialiasing(self) -> None:
        smooth = self.grids_in_view() <= self.antialias_limit
        if self.view.antialiased() != smooth:
            self.view.setRenderHint(QPainter.RenderHint.Antialiasing, smooth)

    def _update_labels(self) -> None:
        """Level of detail: village names once villages are ~70 px wide, grid names at ~90 px."""
        if self.data is None:
            return
        sizes: dict[str, list[float]] = {"grid": [], "village": []}
        for item in (*self.grid_items.values(), *self.other_items):
            if item.area.kind in sizes:
                sizes[item.area.kind].append(item.path().boundingRect().width())

        def median(xs: list[float]) -> float:
            return sorted(xs)[len(xs) // 2] if xs else 0.0

        grid_px = median(sizes["grid"]) * self.view.scale_now()
        village_px = median(sizes["village"]) * self.view.scale_now()
        show_grids = grid_px >= 90
        show_villages = village_px >= 70 and not show_grids
        for label in self.labels.values():
            kind = label.data(1)
            label.setVisible(show_grids if kind == "grid" else show_villages)

    # -- markers ------------------------------------------------------------------------------

    def _markers_toggled(self, on: bool) -> None:
        for m in self.markers:
            m.setVisible(on)
        if on:
            self.refresh_markers()

    def cell_degrees(self) -> float:
        return CELL_PX / (self.view.scale_now() * UNITS) if self.view.scale_now() > 0 else 1.0

    def refresh_markers(self) -> None:
        if self.data is None or not self.show_markers.isChecked():
            return
        if self._markers_loading:
            self._markers_again = True
            return
        self._markers_loading = True
        bbox, cell = self.view_bbox(), self.cell_degrees()
        open_only = not self.all_cases.isChecked()

        def read(store: Any) -> list[Cluster]:
            return load_markers(store, bbox, cell, open_only=open_only)

        self._ctx.ops.read(read).success(self._show_markers).failure(self._failed).run()

    def _show_markers(self, clusters: list[Cluster]) -> None:
        self._markers_loading = False
        if self._markers_again:
            self._markers_again = False
            self.refresh_markers()
            return
        for m in self.markers:
            self.scene.removeItem(m)
        self.markers = []
        visible = self.show_markers.isChecked()
        for c in clusters:
            item = MarkerItem(c)
            item.setPos(self.to_scene(c.lon, c.lat))
            item.setVisible(visible)
            self.scene.addItem(item)
            self.markers.append(item)
        self.markers_loaded.emit()

    # -- clicks -------------------------------------------------------------------------------

    def grid_query(self, code: str) -> CaseQuery:
        """The case list a click on grid ``code`` shows: the cases its colour counts."""
        if self.current_mode() == "overdue":
            return CaseQuery(grid_code=code, open_only=True, light="red")
        return CaseQuery(grid_code=code, open_only=True)

    def _clicked(self, at: QPointF) -> None:
        hits = self.scene.items(
            at,
            Qt.ItemSelectionMode.IntersectsItemShape,
            Qt.SortOrder.DescendingOrder,
            self.view.transform(),
        )
        for item in hits:
            if isinstance(item, MarkerItem) and item.isVisible():
                c = item.cluster
                if c.count == 1:
                    self._ctx.open_case(c.case_id)
                elif self.view.scale_now() * 1.01 >= MAX_PX_PER_DEGREE / UNITS:
                    grid = self._grid_at(at)
                    if grid is not None:
                        self._ctx.show_cases(self.grid_query(grid))
                else:
                    self.zoom_to(c.lon, c.lat, 3.0)
                return
        grid = self._grid_at(at)
        if grid is not None:
            self._ctx.show_cases(self.grid_query(grid))

    def _grid_at(self, at: QPointF) -> str | None:
        for item in self.scene.items(at):
            if isinstance(item, AreaItem) and item.area.kind == "grid":
                return item.code
        return None
