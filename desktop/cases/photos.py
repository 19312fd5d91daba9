"""Photos: thumbnails of a case's attachments, a viewer, and a picker for new photos.

Decoding a phone photo takes longer than a frame, so every image is read and checked in a
background read operation (``ctx.ops.read``); the GUI thread only turns small thumbnails into
pixmaps. A photo that cannot be read is refused in plain words and nothing else is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPixmap,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from sync.model.records import Actor, Attachment
from sync.store import Store
from sync.store import attachments as photo_store
from sync.store.errors import StoreError

from .. import refusals, words
from ..context import AppContext

translate = QCoreApplication.translate

# Files the picker's dialog offers (the store checks the content, not the name).
IMAGE_FILTER_PATTERNS = "*.jpg *.jpeg *.png *.webp *.gif *.bmp *.JPG *.JPEG *.PNG"
ICON_SIZE = QSize(96, 96)


def local_paths(urls: Iterable[QUrl]) -> list[str]:
    """The local files among dropped URLs (a browser may drop web links: ignored)."""
    return [u.toLocalFile() for u in urls if u.isLocalFile() and u.toLocalFile()]


def _pixmap(data: bytes | None) -> QPixmap | None:
    if not data:
        return None
    pixmap = QPixmap()
    return pixmap if pixmap.loadFromData(data) else None


# -- writing photos (in the writer thread) -----------------------------------------------------


@dataclass
class PhotoOutcome:
    """What a write that carries photos did. ``case_id`` lets the ops layer say what changed."""

    case_id: str
    state: object = None  # the CaseState after the step, when the write recorded one
    added: list[Attachment] = field(default_factory=list)
    problems: list[BaseException] = field(default_factory=list)


def check_photos(paths: Sequence[str]) -> list[photo_store.Photo]:
    """Read and check every photo before anything is written; the first bad one refuses."""
    return [photo_store.load_photo(p) for p in paths]


def attach_checked(
    store: Store,
    outcome: PhotoOutcome,
    photos: Sequence[photo_store.Photo],
    actor: Actor,
    entry_id: str | None,
) -> PhotoOutcome:
    """Attach photos already checked; a failure is recorded and the rest still go in."""
    for photo in photos:
        try:
            outcome.added.append(
                photo_store.add_attachment(
                    store, outcome.case_id, photo, photo.name, actor, entry_id=entry_id
                )
            )
        except StoreError as exc:  # AttachmentError included
            outcome.problems.append(exc)
    return outcome


def newest_entry_id(store: Store, case_id: str, hlc: str) -> str | None:
    """The id of the timeline step with stamp ``hlc`` (the one a command just appended)."""
    for entry in reversed(store.timeline(case_id)):
        if entry.hlc == hlc:
            return entry.id
    return None


# -- a case's photos ---------------------------------------------------------------------------


class PhotoStrip(QListWidget):
    """Thumbnails of a case's photos; Enter or a double click opens the viewer.

    Signals:
        files_dropped(list): local files were dropped on the strip (to attach them).
    """

    files_dropped = Signal(list)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("casePhotos")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(ICON_SIZE)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(False)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setFixedHeight(ICON_SIZE.height() + 48)
        self.setAcceptDrops(True)
        self.setAccessibleName(self.tr("Photos"))
        self._attachments: list[Attachment] = []
        self._generation = 0
        self.viewer: PhotoViewer | None = None
        self.itemActivated.connect(self._open_item)

    def set_attachments(self, items: Sequence[Attachment]) -> None:
        self._attachments = list(items)
        self._generation += 1
        generation = self._generation
        self.clear()
        for att in self._attachments:
            item = QListWidgetItem(att.name)
            item.setData(Qt.ItemDataRole.UserRole, att.id)
            item.setToolTip(f"{att.name}\n{words.when(att.created_at)}")
            self.addItem(item)
        if not self._attachments:
            return
        wanted = list(self._attachments)

        def load(store: Store) -> list[bytes | None]:
            return [photo_store.thumbnail_bytes(store, a) for a in wanted]

        def show(thumbs: list[bytes | None]) -> None:
            if not isValid(self) or generation != self._generation:
                return  # a newer case is shown meanwhile
            for row, data in enumerate(thumbs):
                item = self.item(row)
                pixmap = _pixmap(data)
                if item is None:
                    continue
                if pixmap is None:
                    item.setText(
                        self.tr("%1 (not on this computer yet)").replace("%1", item.text())
                    )
                else:
                    item.setIcon(QIcon(pixmap))

        def failed(exc: BaseException) -> None:
            # The names stay listed; say why the pictures are missing instead of hiding it.
            if isValid(self) and generation == self._generation:
                self.setToolTip(refusals.message(exc))

        self.ctx.ops.read(load).success(show).failure(failed).run()

    def attachments(self) -> list[Attachment]:
        return list(self._attachments)

    def _open_item(self, item: QListWidgetItem) -> None:
        self.open_viewer(self.row(item))

    def open_viewer(self, index: int = 0) -> PhotoViewer | None:
        if not self._attachments:
            return None
        if self.viewer is not None and isValid(self.viewer):
            self.viewer.close()
        self.viewer = PhotoViewer(self.ctx, self._attachments, index, self)
        self.viewer.open()
        return self.viewer

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)


class PhotoViewer(QDialog):
    """One photo at a time, fitted to the window; ←/→ for the others, Esc closes."""

    def __init__(
        self,
        ctx: AppContext,
        items: Sequence[Attachment],
        index: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("photoViewer")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(900, 680)
        self._items = list(items)
        self._index = max(0, min(index, len(self._items) - 1))
        self._image: QImage | None = None
        self._generation = 0

        self.picture = QLabel(self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setMinimumSize(200, 150)
        self.caption = QLabel(self)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.previous_button = QPushButton(self.tr("◀ Previous"), self)
        self.next_button = QPushButton(self.tr("Next ▶"), self)
        self.close_button = QPushButton(self.tr("Close"), self)
        self.previous_button.clicked.connect(lambda: self.show_index(self._index - 1))
        self.next_button.clicked.connect(lambda: self.show_index(self._index + 1))
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.previous_button)
        buttons.addStretch(1)
        buttons.addWidget(self.caption)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addLayout(buttons)
        self.show_index(self._index)

    @property
    def index(self) -> int:
        return self._index

    def image(self) -> QImage | None:
        """The decoded photo on show (None while loading or when the file is not here)."""
        return self._image

    def show_index(self, index: int) -> None:
        if not self._items:
            return
        self._index = index % len(self._items)
        att = self._items[self._index]
        self._image = None
        self._generation += 1
        generation = self._generation
        self.setWindowTitle(att.name)
        self.caption.setText(
            self.tr("%1 of %2: %3")
            .replace("%1", str(self._index + 1))
            .replace("%2", str(len(self._items)))
            .replace("%3", att.name)
        )
        self.picture.setText(self.tr("Loading…"))
        self.previous_button.setEnabled(len(self._items) > 1)
        self.next_button.setEnabled(len(self._items) > 1)

        def load(store: Store) -> QImage | None:
            # QImage (unlike QPixmap) may be made off the GUI thread.
            data = photo_store.photo_bytes(store, att)
            if data is None:
                return None
            image = QImage.fromData(data)
            return None if image.isNull() else image

        def show(image: QImage | None) -> None:
            if not isValid(self) or generation != self._generation:
                return
            self._image = image
            if image is None:
                self.picture.setText(
                    self.tr("This photo has not reached this computer yet, or it is damaged.")
                )
            else:
                self._fit()

        def failed(exc: BaseException) -> None:
            if isValid(self) and generation == self._generation:
                self.picture.setText(refusals.message(exc))

        self.ctx.ops.read(load).success(show).failure(failed).run()

    def _fit(self) -> None:
        if self._image is None:
            return
        pixmap = QPixmap.fromImage(self._image)
        self.picture.setPixmap(
            pixmap.scaled(
                self.picture.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Left:
            self.show_index(self._index - 1)
        elif event.key() == Qt.Key.Key_Right:
            self.show_index(self._index + 1)
        else:
            super().keyPressEvent(event)


# -- choosing new photos -----------------------------------------------------------------------


class PhotoPicker(QWidget):
    """Photos chosen for a report or a feedback: a file dialog, drag and drop, thumbnails.

    Each file is read and checked in the background as soon as it is added; one that is not a
    readable image is taken off the list with a plain-word message, and the others stay.

    Signals:
        photos_changed(): the list of photos changed (added, checked, removed).
    """

    photos_changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setAcceptDrops(True)
        self._checking: set[str] = set()
        self.problems: list[str] = []

        self.list = QListWidget(self)
        self.list.setObjectName("photoPickerList")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(64, 64))
        self.list.setMovement(QListView.Movement.Static)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setWrapping(False)
        self.list.setFixedHeight(64 + 44)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setAccessibleName(self.tr("Chosen photos"))
        self.add_button = QPushButton(self.tr("Add photos…"), self)
        self.add_button.setObjectName("addPhotos")
        self.remove_button = QPushButton(self.tr("Remove"), self)
        self.add_button.clicked.connect(self.choose_files)
        self.remove_button.clicked.connect(self.remove_selected)
        remove_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        remove_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        remove_key.activated.connect(self.remove_selected)
        self.message = QLabel(self)
        self.message.setObjectName("photoProblem")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.hide()
        hint = QLabel(self.tr("or drag photos here"), self)
        hint.setStyleSheet("color: #777;")

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(hint)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    # -- what is chosen ---------------------------------------------------------------------

    def paths(self) -> list[str]:
        """The photos on the list, checked or still being checked, in the order added."""
        return [
            str(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())
        ]

    def checking(self) -> bool:
        """True while some photo is still being read."""
        return bool(self._checking)

    def set_paths(self, paths: Sequence[str]) -> None:
        self.list.clear()
        self._checking.clear()
        self.clear_problems()
        self.add_paths(paths)
        self.photos_changed.emit()

    def clear(self) -> None:
        self.set_paths(())

    def clear_problems(self) -> None:
        self.problems = []
        self.message.clear()
        self.message.hide()

    def add_paths(self, paths: Iterable[str]) -> None:
        present = set(self.paths())
        for raw in paths:
            path = str(Path(raw))
            if path in present:
                continue
            present.add(path)
            item = QListWidgetItem(Path(path).name)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            self.list.addItem(item)
            self._check(path)
        self.photos_changed.emit()

    def _check(self, path: str) -> None:
        self._checking.add(path)

        def inspect(store: Store) -> bytes:
            photo = photo_store.load_photo(path)
            return photo_store.make_thumbnail(photo.data, 128)

        def ok(thumb: bytes) -> None:
            if not isValid(self):
                return
            self._checking.discard(path)
            item = self._item(path)
            pixmap = _pixmap(thumb)
            if item is not None and pixmap is not None:
                item.setIcon(QIcon(pixmap))
            self.photos_changed.emit()

        def bad(exc: BaseException) -> None:
            if not isValid(self):
                return
            self._checking.discard(path)
            item = self._item(path)
            if item is not None:
                self.list.takeItem(self.list.row(item))
            self.add_problem(refusals.message(exc))
            self.photos_changed.emit()

        self.ctx.ops.read(inspect).success(ok).failure(bad).run()

    def _item(self, path: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == path:
                return item
        return None

    def add_problem(self, text: str) -> None:
        self.problems.append(text)
        self.message.setText("\n".join(self.problems))
        self.message.show()

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self._checking.discard(str(item.data(Qt.ItemDataRole.UserRole)))
            self.list.takeItem(self.list.row(item))
        self.photos_changed.emit()

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Choose photos"),
            "",
            self.tr("Photos (%1)").replace("%1", IMAGE_FILTER_PATTERNS),
        )
        if files:
            self.add_paths(files)

    # -- drag and drop ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)
