"""The map's point layers: each reads its clustered points for the view (a background read, SQL
on an R*Tree) and has a colour. Cases by state come with the map; visits and organisations have
no points in the store yet, so their layers say so and stay off. A new kind of point (a visit
with its GPS, an organisation's address) is a new :class:`PointLayer` in :data:`LAYERS` with its
own ``read``: the page draws whatever the layers return (no Qt here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sync.geo import geostore
from sync.geo.geostore import BBox, Cluster
from sync.model.records import DONE_STATUSES, OPEN_STATUSES
from sync.store.queries import CaseQuery, where

#: read(store, bbox, cell degrees, the case filter, now) -> clusters
Reader = Callable[[Any, BBox, float, CaseQuery, int], list[Cluster]]


@dataclass(frozen=True, slots=True)
class PointLayer:
    key: str
    colour: str
    read: Reader | None  # None: nothing to show yet (see ``available``)
    #: Whether the store has anything for this layer (a cheap check, in the background read).
    available: Callable[[Any], bool] = lambda store: True
    on: bool = True  # on when the page opens
    cases: bool = True  # a case layer: the case list's filter applies to it


def _case_reader(
    status_sql: str,
    status_args: Callable[[int], Sequence[Any]],
    statuses: Sequence[str] | None = None,
) -> Reader:
    """A case layer: ``status_sql`` (with its arguments for ``now``) and the case list's filter;
    a layer defined by ``statuses`` alone reads the per-status bins when the list filters
    nothing and the view is far out."""

    def read(store: Any, bbox: BBox, cell: float, query: CaseQuery, now: int) -> list[Cluster]:
        query = query.with_(bbox=None)
        if statuses is not None and query == CaseQuery(
            sort=query.sort, descending=query.descending
        ):
            return geostore.clusters(store, bbox, cell, statuses=statuses)
        clause, args = where(query, now)
        return geostore.clusters(
            store, bbox, cell, where=(f"{status_sql} AND {clause}", [*status_args(now), *args])
        )

    return read


_OPEN = ",".join("?" * len(OPEN_STATUSES))
_DONE = ",".join("?" * len(DONE_STATUSES))


def _open_args(now: int) -> list[Any]:
    return [*(s.value for s in OPEN_STATUSES), now]


LAYERS: tuple[PointLayer, ...] = (
    PointLayer(
        "open",
        "#2f6fd6",
        _case_reader(f"status IN ({_OPEN}) AND (due_at IS NULL OR due_at >= ?)", _open_args),
    ),
    PointLayer(
        "overdue",
        "#d7301f",
        _case_reader(f"status IN ({_OPEN}) AND due_at IS NOT NULL AND due_at < ?", _open_args),
    ),
    PointLayer(
        "closed",
        "#7a828c",
        _case_reader(
            f"status IN ({_DONE})",
            lambda now: [s.value for s in DONE_STATUSES],
            [s.value for s in DONE_STATUSES],
        ),
        on=False,
    ),
    # Visits and patrol findings carry no point in the store yet; organisations have no table.
    PointLayer("visits", "#1a9850", None, available=lambda store: False, on=False, cases=False),
    PointLayer("orgs", "#984ea3", None, available=lambda store: False, on=False, cases=False),
)


def by_key() -> dict[str, PointLayer]:
    return {layer.key: layer for layer in LAYERS}


def read_layers(
    store: Any, keys: Sequence[str], bbox: BBox, cell: float, query: CaseQuery
) -> list[tuple[str, Cluster]]:
    """The clusters of every layer in ``keys`` for the view, tagged with their layer."""
    now = store.now()
    found = by_key()
    out: list[tuple[str, Cluster]] = []
    for key in keys:
        layer = found.get(key)
        if layer is None or layer.read is None or not layer.available(store):
            continue
        out.extend((key, c) for c in layer.read(store, bbox, cell, query, now))
    return out
