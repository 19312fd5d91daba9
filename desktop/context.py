"""What every page of the app shares: the open store's operations, the signed-in account, the
settings, and app-wide navigation: who asks for which page.

Pages get the context in their constructor and talk to each other only through its signals —
a page never reaches into another page's widgets.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from sync.model.records import Actor
from sync.settings import Settings
from sync.store.queries import CaseQuery

from .ops import Ops


class AppContext(QObject):
    """Shared state of one main window.

    Signals:
        open_case_requested(str): somebody wants the detail of a case id shown.
        show_cases_requested(object): land on the case list with this :class:`CaseQuery`.
        new_case_requested(): open the quick report form.
        actor_changed(object): a different account is signed in (an :class:`Actor`).
        cases_changed(object): cases changed (a set of ids; empty set = could be any).
        show_on_map_requested(str, str): show on the map a place (``grid``/``village``/
            ``township`` and its code) or a case (``case`` and its id).
    """

    open_case_requested = Signal(str)
    show_cases_requested = Signal(object)
    new_case_requested = Signal()
    actor_changed = Signal(object)
    cases_changed = Signal(object)
    show_on_map_requested = Signal(str, str)

    def __init__(
        self,
        ops: Ops,
        actor: Actor,
        settings: Settings,
        *,
        store_path: Path,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.actor = actor
        self.settings = settings
        self.store_path = store_path
        ops.store_changed.connect(self.cases_changed)

    def set_actor(self, actor: Actor) -> None:
        self.actor = actor
        self.actor_changed.emit(actor)

    def open_case(self, case_id: str) -> None:
        self.open_case_requested.emit(case_id)

    def show_cases(self, query: CaseQuery) -> None:
        self.show_cases_requested.emit(query)

    def show_on_map(self, kind: str, ref: str) -> None:
        self.show_on_map_requested.emit(kind, ref)
