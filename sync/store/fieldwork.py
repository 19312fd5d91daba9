"""Field work in the store: 走访·民情日记 (visits), 巡查 (patrols) and 工作台账 sign-offs.

A visit (or patrol) is one row of ``visits``, written by the account that made it and synced by
the outbox triggers. Its follow-ups (a patrol's findings) are items with their own ids; an item
becomes a case in one step (:func:`item_to_case`, 转为事件): the case's report names the visit
and the item (``from_visit``, ``from_item``), so the link travels with the case, is immutable, and
both sides find it (:func:`cases_of_visit`, :func:`source_visit`) on every device that holds both.

Photos of a visit are the case photos' attachments (content-addressed, encrypted at rest with the
store, synced by :mod:`sync.client.blobs`), filed under the visit's id.

Every write is checked by the shared scope rule (:func:`sync.model.scope.check_visit`,
:func:`sync.model.scope.check_signoff`), as the county checks it on push.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..model import scope as scope_rules
from ..model.clock import Millis, new_id
from ..model.records import Actor, Attachment, SignOff, Visit, VisitItem
from ..model.workflow import CaseState, Refused
from . import attachments as photos
from .store import Store

__all__ = [
    "FieldWorkRefused",
    "add_items",
    "add_visit_photo",
    "cases_of_visit",
    "item_to_case",
    "put_signoff",
    "record_visit",
    "sign_off",
    "signoff",
    "signoffs",
    "source_visit",
    "visit",
    "visit_photos",
    "visits",
]

#: Longest texts kept (the wire's limits).
NOTES_MAX = 20_000
NAME_MAX = 200
#: How many visits a list shows at most (newest first).
LIST_LIMIT = 500


class FieldWorkRefused(ValueError):
    """A visit, patrol or sign-off that may not be written; ``code`` is stable (the desktop
    translates it), ``str()`` a plain English sentence. Nothing was written."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _refuse(found: scope_rules.Refusal | None) -> None:
    if found is not None:
        raise FieldWorkRefused(found.code, found.reason)


def _keys(store: Store, actor: Actor) -> tuple[frozenset[str], frozenset[str] | None]:
    try:
        return scope_rules.actor_keys(actor, store.scope), store._device_keys()
    except scope_rules.ScopeError as exc:
        raise FieldWorkRefused("out_of_scope", str(exc)) from None


# -- visits and patrols ------------------------------------------------------------------------

VISIT_COLUMNS = (
    "id, grid_code, staff_id, kind, at, household, content, subject_kind, subject_id, people, "
    "items, checked, location"
)


def _visit_row(r: Sequence[Any]) -> Visit:
    return Visit(
        id=r[0],
        grid_id=r[1],
        staff_id=r[2],
        kind=r[3],
        at=int(r[4]),
        household=r[5],
        content=r[6],
        subject_kind=r[7],
        subject_id=r[8],
        people=tuple(json.loads(r[9] or "[]")),
        items=tuple(VisitItem(i["id"], i["text"]) for i in json.loads(r[10] or "[]")),
        checked=r[11],
        location=r[12],
    )


def _clean(text: str, limit: int) -> str:
    return text.replace("\x00", "").strip()[:limit]


def _location(text: str) -> str:
    from ..protocol import WireError, check_location

    text = text.strip().replace("，", ",").replace(" ", "")
    if not text:
        return ""
    try:
        lon, lat = check_location(text)
    except WireError as exc:
        raise FieldWorkRefused("bad_location", exc.message) from None
    return f"{lon:.6f},{lat:.6f}"


def record_visit(
    store: Store,
    actor: Actor,
    *,
    kind: str,
    grid: str,
    household: str,
    content: str,
    subject_kind: str = "",
    subject_id: str = "",
    people: Iterable[str] = (),
    items: Iterable[str] = (),
    checked: str = "",
    location: str = "",
    at: Millis | None = None,
    visit_id: str | None = None,
) -> Visit:
    """Record a visit (``kind="visit"``: a household or organisation, the people met, notes and
    follow-ups) or a patrol (``kind="patrol"``: the place, what was checked, findings)."""
    mine, device = _keys(store, actor)
    _refuse(
        scope_rules.check_visit(
            grid, kind, subject_kind, actor, ref=store.reference(), mine=mine, device_keys=device
        )
    )
    household = _clean(household, NAME_MAX)
    content = _clean(content, NOTES_MAX)
    if not household:
        what = "the place patrolled" if kind == "patrol" else "who was visited"
        raise FieldWorkRefused("no_subject", f"a {kind} needs {what}")
    kept_items = tuple(VisitItem(new_id(), _clean(t, 2000)) for t in items if _clean(t, 2000))
    if not content and not kept_items:
        raise FieldWorkRefused("no_content", f"a {kind} needs notes or at least one item")
    v = Visit(
        id=visit_id or new_id(),
        grid_id=grid,
        staff_id=actor.id,
        kind=kind,
        at=store.now() if at is None else at,
        household=household,
        content=content,
        subject_kind=subject_kind,
        subject_id=_clean(subject_id, 64),
        people=tuple(p for p in (_clean(p, 100) for p in people) if p)[:50],
        items=kept_items[:50],
        checked=_clean(checked, 2000),
        location=_location(location),
    )
    with store.write() as conn:
        if conn.execute("SELECT 1 FROM visits WHERE id = ?", [v.id]).fetchone():
            raise FieldWorkRefused("exists", "a visit with this id was already recorded")
        conn.execute(
            f"INSERT INTO visits ({VISIT_COLUMNS}, local) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            visit_values(v),
        )
    return v


def visit_values(v: Visit) -> list[Any]:
    return [
        v.id,
        v.grid_id,
        v.staff_id,
        v.kind,
        v.at,
        v.household,
        v.content,
        v.subject_kind,
        v.subject_id,
        json.dumps(list(v.people), ensure_ascii=False),
        json.dumps([{"id": i.id, "text": i.text} for i in v.items], ensure_ascii=False),
        v.checked,
        v.location,
    ]


def _own_visit(store: Store, actor: Actor, visit_id: str) -> Visit:
    found = visit(store, visit_id)
    if found is None:
        raise FieldWorkRefused("unknown_visit", "there is no such visit or patrol here")
    mine, device = _keys(store, actor)
    _refuse(
        scope_rules.check_visit(
            found.grid_id,
            found.kind,
            found.subject_kind,
            actor,
            ref=store.reference(),
            mine=mine,
            device_keys=device,
        )
    )
    return found


def add_items(store: Store, actor: Actor, visit_id: str, texts: Iterable[str]) -> Visit:
    """Add follow-ups (or findings) to a visit: only its recorder does, on the device that
    recorded it (the county keeps one device's word per visit)."""
    v = _own_visit(store, actor, visit_id)
    if v.staff_id != actor.id:
        raise FieldWorkRefused("not_yours", "only the worker who recorded it adds to it")
    with store.write() as conn:
        row = conn.execute("SELECT local FROM visits WHERE id = ?", [visit_id]).fetchone()
        if not row or not row[0]:
            raise FieldWorkRefused(
                "not_yours", "this visit was recorded on another device; add to it there"
            )
        new = tuple(VisitItem(new_id(), _clean(t, 2000)) for t in texts if _clean(t, 2000))
        items = (*v.items, *new)
        if len(items) > 50:
            raise FieldWorkRefused("too_many", "a visit holds at most 50 follow-ups")
        conn.execute(
            "UPDATE visits SET items = ?, local = 1 WHERE id = ?",
            [visit_values(Visit(**{**_fields(v), "items": items}))[10], visit_id],
        )
    return Visit(**{**_fields(v), "items": items})


def _fields(v: Visit) -> dict[str, Any]:
    return {name: getattr(v, name) for name in Visit.__slots__}


def visit(store: Store, visit_id: str) -> Visit | None:
    rows = store.read(f"SELECT {VISIT_COLUMNS} FROM visits WHERE id = ?", [visit_id])
    return _visit_row(rows[0]) if rows else None


def visits(
    store: Store,
    *,
    kind: str | None = None,
    grid: str | None = None,
    staff: str | None = None,
    start: Millis | None = None,
    end: Millis | None = None,
    limit: int = LIST_LIMIT,
) -> list[Visit]:
    """Visits and patrols, newest first."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (("kind", kind), ("grid_code", grid), ("staff_id", staff)):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    if start is not None:
        where.append("at >= ?")
        args.append(start)
    if end is not None:
        where.append("at < ?")
        args.append(end)
    sql = f"SELECT {VISIT_COLUMNS} FROM visits"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = store.read(sql + " ORDER BY at DESC, id DESC LIMIT ?", [*args, int(limit)])
    return [_visit_row(r) for r in rows]


# -- photos --------------------------------------------------------------------------------


def add_visit_photo(
    store: Store,
    visit_id: str,
    source: Path | str | bytes | photos.Photo,
    name: str | None,
    actor: Actor,
) -> Attachment:
    """A photo of a visit, kept (encrypted with the store) and synced like a case's photo."""
    v = _own_visit(store, actor, visit_id)
    photo = source if isinstance(source, photos.Photo) else photos.load_photo(source, name)
    label = name or photo.name
    for a in photos.attachments(store, v.id):
        if a.sha256 == photo.sha256:
            return a
    photos.store_photo_file(store, photo)
    attachment = Attachment(
        id=new_id(),
        case_id=v.id,
        sha256=photo.sha256,
        name=label,
        mime=photo.mime,
        size=photo.size,
        created_at=store.now(),
    )
    with store.write() as conn:
        conn.execute(
            "INSERT INTO attachments (id, case_id, entry_id, sha256, name, mime, size, "
            "created_at, local) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, 1)",
            [
                attachment.id,
                v.id,
                attachment.sha256,
                attachment.name,
                attachment.mime,
                attachment.size,
                attachment.created_at,
            ],
        )
    return attachment


def visit_photos(store: Store, visit_id: str) -> list[Attachment]:
    return photos.attachments(store, visit_id)


# -- 转为事件: a follow-up or finding becomes a case -------------------------------------------


def cases_of_visit(store: Store, visit_id: str) -> dict[str, dict[str, Any]]:
    """The cases made from a visit's items: item id → the case's id, number, title, status."""
    rows = store.read(
        "SELECT json_extract(e.payload, '$.from_item'), c.id, c.case_no, c.title, c.status "
        "FROM case_events e JOIN cases c ON c.rowid = e.case_rowid "
        "WHERE json_extract(e.payload, '$.from_visit') = ? AND e.action IN "
        "('report', 'self_handle') ORDER BY e.at",
        [visit_id],
    )
    out: dict[str, dict[str, Any]] = {}
    for item, case_id, case_no, title, status in rows:
        out.setdefault(
            str(item or ""),
            {"case_id": case_id, "case_no": case_no, "title": title, "status": status},
        )
    return out


def source_visit(store: Store, case_id: str) -> tuple[Visit, VisitItem | None] | None:
    """The visit (and its item) a case was made from, when this device holds the visit."""
    rows = store.read(
        "SELECT json_extract(e.payload, '$.from_visit'), json_extract(e.payload, '$.from_item') "
        "FROM case_events e JOIN cases c ON c.rowid = e.case_rowid WHERE c.id = ? AND "
        "e.action IN ('report', 'self_handle') AND "
        "json_extract(e.payload, '$.from_visit') IS NOT NULL LIMIT 1",
        [case_id],
    )
    if not rows:
        return None
    v = visit(store, str(rows[0][0]))
    if v is None:
        return None
    item = next((i for i in v.items if i.id == rows[0][1]), None)
    return v, item


def item_to_case(
    store: Store,
    actor: Actor,
    visit_id: str,
    item_id: str,
    *,
    category: str,
    title: str | None = None,
    description: str | None = None,
    urgency: str = "normal",
    address: str | None = None,
) -> CaseState:
    """转为事件: report a case from a visit's follow-up (or a patrol's finding), in its grid,
    naming the visit and the item. An item becomes a case once."""
    v = _own_visit(store, actor, visit_id)
    item = next((i for i in v.items if i.id == item_id), None)
    if item is None:
        raise FieldWorkRefused("unknown_item", "the visit has no such follow-up")
    done = cases_of_visit(store, visit_id).get(item_id)
    if done is not None:
        raise FieldWorkRefused(
            "already_case", f"this follow-up is already case {done['case_no'] or done['case_id']}"
        )
    source = "patrol" if v.kind == "patrol" else "walk_in"
    noun = "巡查发现" if v.kind == "patrol" else "走访"
    fields: dict[str, Any] = {
        "title": (title or item.text)[:200],
        "description": description or f"{noun}（{v.household}）：{item.text}",
        "category": category,
        "grid_id": v.grid_id,
        "urgency": urgency,
        "source": source,
        "address": address or v.household,
        "location": v.location or None,
    }
    try:
        state = store.report(actor, fields, from_visit=(v.id, item.id))
    except Refused as exc:
        raise FieldWorkRefused("refused", exc.reason) from None
    return state


# -- 工作台账 sign-offs ----------------------------------------------------------------------

_SIGNOFF_COLUMNS = "id, worker_id, township_code, period, first_day, signer_id, at, remarks, counts"


def _signoff_row(r: Sequence[Any]) -> SignOff:
    return SignOff(
        r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), r[7], dict(json.loads(r[8] or "{}"))
    )


def sign_off(
    store: Store,
    signer: Actor,
    worker_id: str,
    period: str,
    first_day: str,
    *,
    remarks: str = "",
    counts: dict[str, int] | None = None,
    at: Millis | None = None,
) -> SignOff:
    """A supervisor signs off a worker's ledger of one period (审核签字) with remarks and the
    counts seen. Signing again later adds a new sign-off (the latest one stands)."""
    mine, device = _keys(store, signer)
    worker = store.account(worker_id)
    # A township's device signs off its township's ledgers; a county device the worker's.
    township = store.scope
    if len(township) == 6 and worker is not None and worker.township:
        township = worker.township
    _refuse(
        scope_rules.check_signoff(
            worker,
            signer,
            township,
            period,
            first_day,
            ref=store.reference(),
            mine=mine,
            device_keys=device,
        )
    )
    s = SignOff(
        id=new_id(),
        worker_id=worker_id,
        township_code=township,
        period=period,
        first_day=first_day,
        signer_id=signer.id,
        at=store.now() if at is None else at,
        remarks=_clean(remarks, 2000),
        counts={str(k): int(v) for k, v in (counts or {}).items()},
    )
    with store.write() as conn:
        put_signoff(conn, s, local=True)
    return s


def put_signoff(conn: Any, s: SignOff, *, local: bool) -> None:
    """Keep a sign-off (made here, or received: a replay changes nothing)."""
    conn.execute(
        f"INSERT INTO ledger_signoffs ({_SIGNOFF_COLUMNS}, local) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        [
            s.id,
            s.worker_id,
            s.township_code,
            s.period,
            s.first_day,
            s.signer_id,
            s.at,
            s.remarks,
            json.dumps(s.counts, sort_keys=True),
            int(local),
        ],
    )


def signoff(store: Store, signoff_id: str) -> SignOff | None:
    rows = store.read(f"SELECT {_SIGNOFF_COLUMNS} FROM ledger_signoffs WHERE id = ?", [signoff_id])
    return _signoff_row(rows[0]) if rows else None


def signoffs(
    store: Store,
    *,
    worker_id: str | None = None,
    period: str | None = None,
    first_day: str | None = None,
) -> list[SignOff]:
    """Sign-offs, newest first."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (("worker_id", worker_id), ("period", period), ("first_day", first_day)):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    sql = f"SELECT {_SIGNOFF_COLUMNS} FROM ledger_signoffs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [_signoff_row(r) for r in store.read(sql + " ORDER BY at DESC, id DESC", args)]
