"""The base layer: every outline (filled grids, village, township and county borders, an
offline tile base map under them) rendered into one image off the GUI thread.

A county has a thousand outlines; drawing them as items costs the GUI thread 20–40 ms a frame
(more with antialiasing), over the 33 ms a smooth pan or zoom allows. So the GUI thread draws
them once into nothing: a worker thread paints them with QPainter into a QImage (QImage
painting is thread-safe, unlike widgets and pixmaps) covering the view and a margin around it,
at the view's scale, and the GUI thread only draws that image, moved and scaled with the view,
until the next image for the settled view arrives. The outline items stay in the scene for
clicks, tooltips and tests; they do not paint while an image is up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

#: The image covers the view and this share of its size on each side (room to pan).
MARGIN = 0.5
#: Largest image side in pixels (memory: 4096² ARGB is 64 MB; the view is far smaller).
MAX_SIDE = 4096


@dataclass(frozen=True, slots=True)
class Shape:
    """One outline to paint: its path in scene units, pen and brush, its box (for culling)."""

    path: QPainterPath
    pen: QPen
    brush: QBrush
    box: QRectF
    z: float


@dataclass(frozen=True, slots=True)
class Job:
    generation: int
    rect: QRectF  # scene rect the image covers
    scale: float  # pixels per scene unit
    shapes: Sequence[Shape]
    antialias: bool
    under: Callable[[QPainter, QRectF, float], None] | None = None  # e.g. the tile base map


def render(job: Job) -> QImage:
    """Paint ``job`` into an image (any thread)."""
    w = max(1, min(MAX_SIDE, round(job.rect.width() * job.scale)))
    h = max(1, min(MAX_SIDE, round(job.rect.height() * job.scale)))
    image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, job.antialias)
        painter.scale(w / job.rect.width(), h / job.rect.height())
        painter.translate(-job.rect.left(), -job.rect.top())
        if job.under is not None:
            job.under(painter, job.rect, job.scale)
        for n, s in enumerate(sorted(job.shapes, key=lambda s: s.z)):
            if not s.box.intersects(job.rect):
                continue
            if n % 8 == 0:
                # QPainter's calls keep the GIL while they run: let the GUI thread in often.
                time.sleep(0)
            painter.setPen(s.pen)
            painter.setBrush(s.brush)
            painter.drawPath(s.path)
    finally:
        painter.end()
    return image


class BaseLayer(QObject):
    """Renders jobs one at a time in a worker thread; ``ready`` carries the newest image."""

    ready = Signal(int, QImage, QRectF)  # generation, image, scene rect

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="map-base")
        self._lock = threading.Lock()
        self._pending: Job | None = None
        self._busy = False
        self.generation = 0

    def request(self, job: Job) -> None:
        """Render ``job`` after the one under way (older waiting jobs are dropped)."""
        with self._lock:
            self._pending = job
            if self._busy:
                return
            self._busy = True
        self._pool.submit(self._work)

    def _work(self) -> None:
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None:
                    self._busy = False
                    return
            image = render(job)
            self.ready.emit(job.generation, image, job.rect)

    def busy(self) -> bool:
        with self._lock:
            return self._busy

    def shutdown(self) -> None:
        with self._lock:
            self._pending = None
        self._pool.shutdown(wait=True)


class ImageItem(QGraphicsItem):
    """The rendered base layer in the scene: the image drawn over the scene rect it covers."""

    def __init__(self) -> None:
        super().__init__()
        self.image: QImage | None = None
        self.rect = QRectF()
        self.setZValue(0.5)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_image(self, image: QImage | None, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self.image, self.rect = image, QRectF(rect)
        self.update()

    def boundingRect(self) -> QRectF:
        return self.rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: Any = None
    ) -> None:
        if self.image is None:
            return
        # Scaled plainly while a zoom is under way; the worker sends a sharp one for the new
        # scale a moment later.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(self.rect, self.image)
