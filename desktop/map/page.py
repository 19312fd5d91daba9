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
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QFont,
    QIcon,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QPixmap,
    QShowEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QFileDialog,
    QFrame,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStyleOptionGraphicsItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sync.geo.geostore import BBox, Cluster
from sync.store.queries import CaseQuery

from ..context import AppContext
from ..errors import show_error
from .base import MARGIN as BASE_MARGIN
from .base import BaseLayer, ImageItem, Job, Shape
from .data import Area, MapData, load_outlines
from .layers import LAYERS, read_layers
from .tiles import MBTiles, TilesError

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


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


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

    def __init__(self, cluster: Cluster, colour: str = "#1f5fa8", layer: str = "open") -> None:
        super().__init__()
        self.cluster = cluster
        self.colour = QColor(colour)
        self.layer = layer
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        # Painted once into a pixmap and blitted on every frame after (the size on screen never
        # changes): hundreds of markers cost no Python per frame.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
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
        fill = QColor(self.colour)
        if self.cluster.count > 1:
            fill.setAlpha(215)
        painter.setBrush(fill)
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
    base_drawn = Signal()

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
        self.all_cases.toggled.connect(lambda on: self.set_layer("closed", on))
        self.fit_button = QPushButton(self.tr("Whole map"), self)
        self.fit_button.clicked.connect(self.fit)
        self._build_layers_menu()
        self.follow_list = QCheckBox(self.tr("Case list filters"), self)
        self.follow_list.setObjectName("mapFollowList")
        self.follow_list.setToolTip(
            self.tr("Show on the map only the cases the case list's filters select")
        )
        self.follow_list.setChecked(True)
        self.follow_list.toggled.connect(lambda _on: self.refresh_markers())
        self.list_in_view = QPushButton(self.tr("List cases in view"), self)
        self.list_in_view.setObjectName("mapListInView")
        self.list_in_view.clicked.connect(self.list_cases_in_view)
        self.export_button = QPushButton(self.tr("Export…"), self)
        self.export_button.setObjectName("mapExport")
        self.export_button.setToolTip(self.tr("Save the current view as PNG or PDF"))
        self.export_button.clicked.connect(self._export_clicked)
        self.search = QLineEdit(self)
        self.search.setObjectName("mapSearch")
        self.search.setPlaceholderText(self.tr("Find a grid, village or code"))
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self._search_entered)
        self._completer_model = QStringListModel(self)
        completer = QCompleter(self._completer_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(self._search_picked)
        self.search.setCompleter(completer)
        self._list_query: CaseQuery | None = None
        self._pending_target: tuple[str, str] | None = None
        self.highlight: QGraphicsPathItem | None = None
        self.summary = QLabel(self)
        self.summary.setObjectName("mapSummary")

        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Colour grids by"), self))
        bar.addWidget(self.mode)
        bar.addSpacing(12)
        bar.addWidget(self.layers_button)
        bar.addWidget(self.show_markers)
        bar.addWidget(self.all_cases)
        bar.addWidget(self.follow_list)
        bar.addWidget(self.list_in_view)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.export_button)
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
        side.addWidget(self.search)
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

        # The outlines are painted off the GUI thread into one image (see base.py).
        self.base = BaseLayer(self)
        self.base.ready.connect(self._base_ready)
        self.image_item: ImageItem | None = None
        self._shapes: list[Shape] = []
        self._widths: dict[str, float] | None = None
        self._grid_boxes: Any = None
        self._labels_shown: tuple[bool, bool] | None = None
        self._base_generation = 0
        self._base_timer = QTimer(self)
        self._base_timer.setSingleShot(True)
        self._base_timer.setInterval(80)
        self._base_timer.timeout.connect(self.request_base)
        self.tiles: MBTiles | None = None
        self.tiles_problem = ""
        configured = str(ctx.settings.get("map_tiles") or "")
        if configured:
            self.set_tiles(Path(configured))

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
        """Reading or drawing: outlines, markers, or the base image for the current view."""
        return self._loading or self._markers_loading or self.base_pending()

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
        self.image_item = ImageItem()
        self.scene.addItem(self.image_item)
        self._widths = None
        self._grid_boxes = None
        self._labels_shown = None
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
        self._show_note()
        self._recolour()
        if first or not self.view.touched:
            self.fit()
        self._update_labels()
        self._fill_completer()
        if not self.layer_on("boundaries"):
            self._layer_toggled("boundaries", False)
        self.loaded.emit()
        self.refresh_markers()
        if self._pending_target is not None:
            target, self._pending_target = self._pending_target, None
            self.show_target(*target)

    # -- colouring ----------------------------------------------------------------------------

    def _show_note(self) -> None:
        parts = []
        data = self.data
        if data is not None and any(a.synthetic for a in data.areas if a.kind == "grid"):
            parts.append(self.tr("Grid and village outlines are synthetic (合成) demo data."))
        if data is not None and not data.areas:
            parts.append(
                self.tr("This store has no outlines yet: IT imports the county's boundaries.")
            )
        if self.tiles is not None:
            base = self.tr("Base map: %1").replace("%1", self.tiles.name)
            parts.append(f"{base} {self.tiles.attribution}".strip())
        if self.tiles_problem:
            parts.append(self.tiles_problem)
        self.note.setText("\n".join(parts))

    # -- the base layer (outlines rendered off the GUI thread) ----------------------------------

    def _area_items(self) -> list[AreaItem]:
        return [*self.grid_items.values(), *self.other_items]

    def request_base(self) -> None:
        """Render the outlines for the current view in the worker (newest request wins)."""
        if self.data is None or self.image_item is None:
            return
        if not self._shapes:
            self._shapes = [
                Shape(QPainterPath(i.path()), QPen(i.pen()), self._base_brush(i),
                      i.path().boundingRect(), i.zValue())
                for i in self._area_items()
            ]  # fmt: skip
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        mx, my = visible.width() * BASE_MARGIN, visible.height() * BASE_MARGIN
        self._base_generation += 1
        self.base.request(
            Job(
                self._base_generation,
                visible.adjusted(-mx, -my, mx, my),
                self.view.scale_now(),
                list(self._shapes),
                self.view.antialiased(),
                self.base_under,
            )
        )

    # What paints under the outlines in the worker (the offline tile base map sets it).
    base_under: Any = None

    def _base_brush(self, item: AreaItem) -> QBrush:
        """Over a tile base map the grid fills are see-through and the county is not filled."""
        if self.base_under is None:
            return QBrush(item.brush())
        if item.area.kind == "county":
            return QBrush(Qt.BrushStyle.NoBrush)
        colour = QColor(item.brush().color())
        colour.setAlpha(120)
        return QBrush(colour) if item.brush().style() != Qt.BrushStyle.NoBrush else QBrush()

    def set_tiles(self, path: Path | None) -> bool:
        """Use the MBTiles file at ``path`` as the base map (None: the outlines alone); False,
        with :attr:`tiles_problem` in plain words, when the file cannot be used."""
        self.tiles, self.tiles_problem, self.base_under = None, "", None
        if path is not None:
            try:
                self.tiles = MBTiles(path)
            except TilesError as exc:
                self.tiles_problem = self.tr("The offline base map cannot be used: %1").replace(
                    "%1", str(exc)
                )
            else:
                self.base_under = self.tiles.painter_for(self.to_scene, self.to_lonlat)
        self._shapes = []
        self._show_note()
        self._base_timer.start()
        return self.tiles is not None or path is None

    def base_pending(self) -> bool:
        return self.base.busy() or self._base_timer.isActive()

    def _base_ready(self, generation: int, image: Any, rect: QRectF) -> None:
        item = self.image_item
        if item is None or (generation != self._base_generation and item.image is not None):
            return  # an older view's image: the newer one follows
        first = item.image is None
        item.set_image(image, rect)
        if first:
            # From now on the image shows the outlines; the items only answer clicks.
            for area in self._area_items():
                area.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
        self.base_drawn.emit()

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
        self._shapes = []
        self._base_timer.start()
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
            self._base_timer.start()

    def grids_in_view(self) -> int:
        rect = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        if self._grid_boxes is None:  # once per outline set (a scene query per frame is slow)
            boxes = [i.path().boundingRect() for i in self.grid_items.values()]
            self._grid_boxes = np.array(
                [[b.left(), b.top(), b.right(), b.bottom()] for b in boxes], dtype=float
            ).reshape(-1, 4)
        b = self._grid_boxes
        meets = (
            (b[:, 2] >= rect.left())
            & (b[:, 0] <= rect.right())
            & (b[:, 3] >= rect.top())
            & (b[:, 1] <= rect.bottom())
        )
        return int(meets.sum())

    def _update_antialiasing(self) -> None:
        smooth = self.grids_in_view() <= self.antialias_limit
        if self.view.antialiased() != smooth:
            self.view.setRenderHint(QPainter.RenderHint.Antialiasing, smooth)

    def _update_labels(self) -> None:
        """Level of detail: village names once villages are ~70 px wide, grid names at ~90 px."""
        if self.data is None:
            return
        if self._widths is None:  # once per outline set: the GUI thread's time is for frames
            sizes: dict[str, list[float]] = {"grid": [], "village": []}
            for item in (*self.grid_items.values(), *self.other_items):
                if item.area.kind in sizes:
                    sizes[item.area.kind].append(item.path().boundingRect().width())
            self._widths = {k: sorted(v)[len(v) // 2] if v else 0.0 for k, v in sizes.items()}
        grid_px = self._widths["grid"] * self.view.scale_now()
        village_px = self._widths["village"] * self.view.scale_now()
        boundaries = self.layer_on("boundaries")
        show_grids = grid_px >= 90 and boundaries
        show_villages = village_px >= 70 and not grid_px >= 90 and boundaries
        if self._labels_shown == (show_grids, show_villages):
            return  # nothing changed: no walk over a thousand labels this frame
        self._labels_shown = (show_grids, show_villages)
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
        keys = self.point_layers()
        query = self.case_filter()

        def read(store: Any) -> list[tuple[str, Cluster]]:
            return read_layers(store, keys, bbox, cell, query)

        self._ctx.ops.read(read).success(self._show_markers).failure(self._failed).run()

    def _show_markers(self, clusters: list[tuple[str, Cluster]]) -> None:
        self._markers_loading = False
        if self._markers_again:
            self._markers_again = False
            self.refresh_markers()
            return
        for m in self.markers:
            self.scene.removeItem(m)
        self.markers = []
        visible = self.show_markers.isChecked()
        colours = {layer.key: layer.colour for layer in LAYERS}
        for key, c in clusters:
            item = MarkerItem(c, colours.get(key, "#1f5fa8"), key)
            item.setPos(self.to_scene(c.lon, c.lat))
            item.setVisible(visible)
            self.scene.addItem(item)
            self.markers.append(item)
        self.markers_loaded.emit()

    # -- layers -------------------------------------------------------------------------------

    def _layer_titles(self) -> dict[str, str]:
        return {
            "boundaries": self.tr("Boundaries"),
            "open": self.tr("Open cases"),
            "overdue": self.tr("Overdue cases"),
            "closed": self.tr("Closed cases"),
            "visits": self.tr("Visits and patrols"),
            "orgs": self.tr("Organisations"),
        }

    def _build_layers_menu(self) -> None:
        self.layers_button = QToolButton(self)
        self.layers_button.setObjectName("mapLayers")
        self.layers_button.setText(self.tr("Layers"))
        self.layers_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.layers_button)
        titles = self._layer_titles()
        self.layer_actions: dict[str, QAction] = {}
        keys = [("boundaries", True, "#59606b")] + [(p.key, p.on, p.colour) for p in LAYERS]
        for key, on, colour in keys:
            action = QAction(titles[key], menu)
            action.setCheckable(True)
            action.setChecked(on)
            action.setData(key)
            action.setIcon(_swatch(colour))
            action.toggled.connect(lambda checked, k=key: self._layer_toggled(k, checked))
            menu.addAction(action)
            self.layer_actions[key] = action
        for key in ("visits", "orgs"):
            self.layer_actions[key].setEnabled(False)
            self.layer_actions[key].setToolTip(self.tr("Nothing of this kind has a place yet"))
        menu.setToolTipsVisible(True)
        self.layers_button.setMenu(menu)

    def layer_on(self, key: str) -> bool:
        return self.layer_actions[key].isChecked()

    def set_layer(self, key: str, on: bool) -> None:
        self.layer_actions[key].setChecked(on)

    def point_layers(self) -> list[str]:
        """The point layers switched on and available, in drawing order."""
        return [
            p.key
            for p in LAYERS
            if p.read is not None and self.layer_actions[p.key].isEnabled() and self.layer_on(p.key)
        ]

    def _layer_toggled(self, key: str, on: bool) -> None:
        if key == "boundaries":
            if self.image_item is not None:
                self.image_item.setVisible(on)
            for area in self._area_items():
                area.setFlag(
                    QGraphicsItem.GraphicsItemFlag.ItemHasNoContents,
                    not on or (self.image_item is not None and self.image_item.image is not None),
                )
            self._update_labels()
            return
        if key == "closed" and self.all_cases.isChecked() != on:
            self.all_cases.setChecked(on)
        self.refresh_markers()

    # -- filters: the case list's and the view's ----------------------------------------------

    def set_list_query(self, query: CaseQuery) -> None:
        """The case list's filter changed: the case layers follow it (when asked to)."""
        self._list_query = query.with_(bbox=None)
        if self.follow_list.isChecked() and self.data is not None:
            self.refresh_markers()

    def case_filter(self) -> CaseQuery:
        """The filter the case layers apply on top of their state: the case list's, if
        followed, else none."""
        if self.follow_list.isChecked() and self._list_query is not None:
            return self._list_query
        return CaseQuery()

    def list_cases_in_view(self) -> None:
        """Show in the case list the cases of the layers on, inside the current view."""
        base = self.case_filter()
        layers = set(self.point_layers())
        if not base.statuses and not base.open_only and "closed" not in layers:
            base = base.with_(open_only=True)
        if base.light is None and layers & {"open", "overdue", "closed"} == {"overdue"}:
            base = base.with_(light="red", open_only=True)
        self._ctx.show_cases(base.with_(bbox=self.view_bbox()))

    # -- place search -------------------------------------------------------------------------

    def places(self) -> list[Area]:
        if self.data is None:
            return []
        return [a for a in self.data.areas if a.kind in ("township", "village", "grid")]

    def find_places(self, text: str) -> list[Area]:
        """Outlines whose code starts with ``text`` or whose name holds it: grids, villages,
        townships (exact code first, then townships, villages, grids)."""
        text = text.strip()
        if not text:
            return []
        code = text.split()[-1] if text.split()[-1].isdigit() else text
        order = {"township": 0, "village": 1, "grid": 2}
        hits = [a for a in self.places() if a.code.startswith(code) or text in a.name]
        return sorted(hits, key=lambda a: (a.code != code, order[a.kind], a.code))

    def _search_entered(self) -> None:
        hits = self.find_places(self.search.text())
        if hits:
            self.go_to_place(hits[0].code)
        else:
            self.note.setText(self.tr("No grid, village or township matches “%1”.").replace(
                "%1", self.search.text().strip()))  # fmt: skip

    def _search_picked(self, text: str) -> None:
        hits = self.find_places(text)
        if hits:
            self.go_to_place(hits[0].code)

    def _fill_completer(self) -> None:
        self._completer_model.setStringList([f"{a.name} {a.code}" for a in self.places()])

    def area(self, code: str) -> Area | None:
        if self.data is None:
            return None
        return next((a for a in self.data.areas if a.code == code), None)

    def go_to_place(self, code: str) -> bool:
        """Zoom to the outline of ``code`` and outline it; False when the map has none."""
        found = self.area(code)
        if found is None:
            return False
        xs = [x for ring in found.rings for x, _ in ring]
        ys = [y for ring in found.rings for _, y in ring]
        rect = QRectF(self.to_scene(min(xs), max(ys)), self.to_scene(max(xs), min(ys)))
        self._zoom_to_rect(rect)
        self._highlight(self._path(found))
        return True

    def go_to_point(self, lon: float, lat: float) -> None:
        """Zoom in on a point (a case's place) and ring it."""
        centre = self.to_scene(lon, lat)
        side = 0.004 * UNITS  # about 400 m
        self._zoom_to_rect(QRectF(centre.x() - side, centre.y() - side, 2 * side, 2 * side))
        ring = QPainterPath()
        r = side / 8
        ring.addEllipse(centre, r, r)
        self._highlight(ring)

    def _zoom_to_rect(self, rect: QRectF) -> None:
        margin = max(rect.width(), rect.height()) * 0.15
        self.view.fitInView(
            rect.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio
        )
        top = MAX_PX_PER_DEGREE / UNITS
        if self.view.scale_now() > top:
            self.view.zoom(1.0)  # clamps to the closest zoom
            self.view.centerOn(rect.center())
        self.view.touched = True
        self._view_changed()

    def _highlight(self, path: QPainterPath) -> None:
        if self.highlight is not None and self.highlight.scene() is self.scene:
            self.scene.removeItem(self.highlight)
        pen = QPen(QColor("#00a0e9"), 3.0)
        pen.setCosmetic(True)
        self.highlight = QGraphicsPathItem(path)
        self.highlight.setPen(pen)
        self.highlight.setZValue(9)
        self.highlight.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.scene.addItem(self.highlight)

    def show_target(self, kind: str, ref: str) -> None:
        """ "Show on map" from elsewhere: ``grid``/``village``/``township`` and a code, or
        ``case`` and a case id (its point, else its grid)."""
        if self.data is None:
            self._pending_target = (kind, ref)
            if self.live and not self._loading:
                self.refresh()
            return
        if kind != "case":
            self.go_to_place(ref)
            return

        def read(store: Any) -> tuple[float | None, float | None, str | None]:
            rows = store.read("SELECT lon, lat, grid_code FROM cases WHERE id = ?", [ref])
            return rows[0] if rows else (None, None, None)

        def show(found: tuple[float | None, float | None, str | None]) -> None:
            lon, lat, grid = found
            if lon is not None and lat is not None:
                self.go_to_point(lon, lat)
            elif grid:
                self.go_to_place(grid)

        self._ctx.ops.read(read).success(show).failure(self._failed).run()

    # -- export -------------------------------------------------------------------------------

    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Export the map"),
            self.tr("map") + ".png",
            self.tr("PNG image (*.png);;PDF document (*.pdf)"),
        )
        if path:
            try:
                self.export(Path(path))
            except OSError as exc:
                show_error(self, exc, self.tr("Exporting the map"))

    def export(self, path: Path) -> Path:
        """The current view (base map, outlines, markers, the legend's title) as PNG or PDF."""
        source = QRectF(self.view.viewport().rect())
        title = self.summary.text()
        if path.suffix.lower() == ".pdf":
            writer = QPdfWriter(str(path))
            writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
            writer.setPageOrientation(QPageLayout.Orientation.Landscape)
            writer.setResolution(150)
            writer.setTitle(self.tr("Map") + " " + title)
            painter = QPainter(writer)
            try:
                self._paint_export(painter, QRectF(painter.viewport()), source, title)
            finally:
                painter.end()
        else:
            image = QImage(
                int(source.width()), int(source.height()) + 40, QImage.Format.Format_RGB32
            )
            image.fill(QColor("#ffffff"))
            painter = QPainter(image)
            try:
                self._paint_export(painter, QRectF(image.rect()), source, title)
            finally:
                painter.end()
            if not image.save(str(path), "PNG"):  # type: ignore[call-overload]  # stubs: bytes
                raise OSError(f"cannot write {path}")
        return path

    def _paint_export(self, painter: QPainter, target: QRectF, source: QRectF, title: str) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        head = max(40.0, target.height() * 0.05)
        font = QFont(painter.font())
        font.setPointSizeF(11)
        painter.setFont(font)
        painter.setPen(QColor("#1d232c"))
        painter.drawText(
            target.adjusted(8, 0, -8, 0).topLeft() + QPointF(0, head * 0.65),
            f"{self.legend.title.text()} · {title}",
        )
        body = target.adjusted(0, head, 0, 0)
        self.view.render(painter, body, source.toRect(), Qt.AspectRatioMode.KeepAspectRatio)

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
