"""Fixtures and helpers for the case-work GUI tests: the detail, its forms, the report form.

Everything is real: a store file built through the store's API (``tests.conftest.store_path``
plus two more department accounts for joint dispatch), the real background operations, real
widgets offscreen, the zh_CN translations. Test modules import what they use from here::

    from tests.gui.casework_fixtures import Casework, _casework  # noqa: F401 (fixture)

Chinese text is typed as an input-method commit (``QInputMethodEvent``): ``qtbot.keyClicks``
with non-ASCII text aborts the process on a qasciikey assertion.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QInputMethodEvent
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

from desktop.context import AppContext
from sync.model.records import Action, Actor, Role
from sync.model.workflow import CaseState
from sync.store import Store
from tests.conftest import ACCOUNTS, ZHANGWANG, Clock

#: Two more department accounts, so a joint dispatch has a lead and an assisting unit whose
#: handlers can each feed back.
EXTRA_ACCOUNTS = {
    "justice": Actor("dep-sfs", "孙调解", Role.DEPARTMENT, "sfs"),  # 东华司法所
    "police": Actor("dep-pcs", "钱警官", Role.DEPARTMENT, "pcs"),  # 东华派出所
}
GRID = f"{ZHANGWANG}001"  # 张王村第一网格: the grid worker 张伟's grid


@dataclass
class Casework:
    """A context on a fresh store, the test clock, and every account by role name."""

    ctx: AppContext
    clock: Clock
    path: Path
    accounts: dict[str, Actor]
    widgets: list[QWidget] = field(default_factory=list)

    @property
    def store(self) -> Store:
        """The GUI thread's read connection (sees every committed write)."""
        return self.ctx.ops.gui_store()

    def state(self, case_id: str) -> CaseState:
        state = self.store.case(case_id)
        assert state is not None
        return state

    def outbox(self) -> int:
        return self.store.outbox_size()

    def keep(self, widget: QWidget) -> QWidget:
        """Close ``widget`` when the test ends, before the context shuts down."""
        self.widgets.append(widget)
        return widget

    def act_as(self, name: str) -> Actor:
        actor = self.accounts[name]
        self.ctx.set_actor(actor)
        return actor


@pytest.fixture(name="casework")
def _casework(make_ctx, store_path: Path, clock: Clock, qtbot) -> Iterator[Casework]:
    """A context signed in as the operator 王丽 on a fresh 东华街道 store without cases."""
    with Store.open(store_path, clock=clock) as store:
        store.put_accounts(EXTRA_ACCOUNTS.values())
    ctx = make_ctx(store_path, ACCOUNTS["operator"])
    work = Casework(ctx, clock, store_path, {**ACCOUNTS, **EXTRA_ACCOUNTS})
    yield work
    # Let running operations land while their widgets still exist, then close the widgets
    # before the context's worker connections are shut down.
    qtbot.waitUntil(lambda: not ctx.ops.busy(), timeout=10_000)
    for widget in reversed(work.widgets):
        if isValid(widget):
            widget.close()
            widget.deleteLater()
    QApplication.processEvents()


def short_lock_wait(qtbot, work: Casework, ms: int = 200) -> None:
    """Make the writer wait ``ms`` (not the app's 5 s) for another program's lock."""
    done: list[object] = []
    ops = work.ctx.ops
    ops.write(lambda store: store.conn.execute(f"PRAGMA busy_timeout = {ms}")).success(
        done.append
    ).run()
    qtbot.waitUntil(lambda: bool(done))


# -- showing, typing and dropping --------------------------------------------------------------


def show_active(qtbot, widget: QWidget) -> None:
    """Show ``widget`` as the active window: keyboard shortcuts only reach an active window."""
    widget.show()
    activate(qtbot, widget)


def activate(qtbot, widget: QWidget) -> None:
    """Make ``widget``'s window the focus window, as a window manager does when it opens."""
    handle = widget.window().windowHandle()
    assert handle is not None, "show the widget first"
    handle.requestActivate()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is handle)


def type_text(widget: QWidget, text: str) -> None:
    """Type ``text`` (Chinese included) into a line edit or text box as an input method does."""
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def drop_files(widget: QWidget, paths: list[Path]) -> None:
    """Drop local files onto ``widget`` as a file manager does.

    The event goes to the widget's own event handler: ``QApplication`` passes drop events on
    only while a real platform drag is in progress, which an offscreen test cannot start.
    """
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    assert widget.event(event)


# -- photos ------------------------------------------------------------------------------------


def jpeg_bytes(
    colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (320, 240)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=85)
    return out.getvalue()


def photo_file(folder: Path, name: str, colour: tuple[int, int, int] = (200, 40, 40)) -> Path:
    path = folder / name
    path.write_bytes(jpeg_bytes(colour))
    return path


def fake_photo(folder: Path, name: str = "不是照片.jpg") -> Path:
    """A text file renamed .jpg: what a careless copy leaves in a photo folder."""
    path = folder / name
    path.write_text("会议纪要：本周巡查安排。", encoding="utf-8")
    return path


# -- reading the detail ------------------------------------------------------------------------

#: The actions each role is offered in each state of the loop, as the command room expects
#: them (written out, not computed, so a change to the rules shows up here).
OPERATOR_ON_REPORTED = {
    Action.ACCEPT,
    Action.REJECT,
    Action.MERGE,
    Action.ESCALATE,
    Action.URGE,
    Action.COMMENT,
    Action.EDIT,
}
