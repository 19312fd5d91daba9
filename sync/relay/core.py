"""The township relay's logic, without HTTP (docs/sync-protocol.md, section 19).

:class:`Relay` runs on the township's command-room PC, whose store holds the whole township. It
serves field laptops the sync protocol while the county is out of reach:

- **Credentials.** A laptop opens a session with the certificate the county signed for it
  (:mod:`sync.relaycert`) and a signature over the relay's challenge made with the device key that
  certificate names. The relay checks both offline, with the county's public key; it refuses a
  device of another township or county, an expired certificate, and a device the county revoked
  once the relay has pulled the revocation list.
- **Push.** A batch is kept verbatim with the device's signature (``relay_batches``) and forwarded
  to the county under the device's own id and batch id (``POST /v1/relay/forward``): the county
  applies it once whichever path it took. The county's answer is the only answer: until the
  relay has it, the device is told the batch is *held* and keeps it in flight. The relay puts
  the entries that pass the shared scope rules (:mod:`sync.model.scope`) into its own copy, so
  the command room sees them at once; it serves them to other devices only once the county
  accepted them, and takes out of its copy what the county refused.
- **Pull.** From its own copy, by its own change log (``relay_log``, filled by triggers), within
  the scope the certificate names: whole cases (a case that came into scope arrives whole) and
  visits. The device's county cursor is passed through untouched; the relay's cursor travels
  beside it (``relay_cursor``).

It settles nothing: workflow conflicts stay conflicts for a person, at the county or anywhere.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import protocol, relaycert
from ..model import scope as scope_rules
from ..store import replica
from ..store.store import Store

#: The triggers that fill ``relay_log``: every entry stored or restamped, attachment and visit.
_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS relay_log_event AFTER INSERT ON case_events BEGIN
        INSERT INTO relay_log (kind, ref) SELECT 'case', id FROM cases WHERE rowid = NEW.case_rowid;
    END""",
    """CREATE TRIGGER IF NOT EXISTS relay_log_restamp AFTER UPDATE OF at, hlc ON case_events BEGIN
        INSERT INTO relay_log (kind, ref) SELECT 'case', id FROM cases WHERE rowid = NEW.case_rowid;
    END""",
    """CREATE TRIGGER IF NOT EXISTS relay_log_attachment AFTER INSERT ON attachments BEGIN
        INSERT INTO relay_log (kind, ref) VALUES ('case', NEW.case_id);
    END""",
    """CREATE TRIGGER IF NOT EXISTS relay_log_visit AFTER INSERT ON visits BEGIN
        INSERT INTO relay_log (kind, ref) VALUES ('visit', NEW.id);
    END""",
    """CREATE TRIGGER IF NOT EXISTS relay_log_visit_edit AFTER UPDATE ON visits BEGIN
        INSERT INTO relay_log (kind, ref) VALUES ('visit', NEW.id);
    END""",
)
#: How long a relay session lasts (the device opens a new one at each sync anyway).
SESSION_TTL_MS = 12 * 3600_000
#: Meta key of the reference data the relay serves (the county's answer, as it came), and of
#: its version (``REFERENCE_META + "_version"``).
REFERENCE_META = "relay_reference"
#: Log rows read per page (a page is also bounded by its bytes).
LOG_ROWS = 2_000


class ApiError(Exception):
    """A request-level refusal, answered in the protocol's error shape."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    @property
    def status(self) -> int:
        kind = protocol.ERRORS.get(self.code)
        return kind.status if kind else 400


@dataclass(frozen=True)
class RelaySession:
    """A laptop the relay serves: what its county certificate says."""

    device_id: str
    device_code: str
    account_id: str
    keys: frozenset[str]
    sign: str
    expires_at: int

    def scope(self, township: str) -> dict[str, Any]:
        return {"id": protocol.scope_id(self.keys), "keys": sorted(self.keys), "township": township}


def enable_log(store: Store) -> bool:
    """Make the change-log triggers (the first time a store runs as a relay, with a backfill of
    everything it holds); True when they were made now."""
    made = store.read(
        "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", ["relay_log_event"]
    )
    if made:
        return False
    with store.write() as conn:
        for sql in _TRIGGERS:
            conn.execute(sql)
        conn.execute(
            "INSERT INTO relay_log (kind, ref) SELECT 'case', id FROM cases ORDER BY rowid"
        )
        conn.execute("INSERT INTO relay_log (kind, ref) SELECT 'visit', id FROM visits")
    return True


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Relay:
    """The relay's state: its store (the township's copy) and the laptops' sessions."""

    def __init__(self, store: Store) -> None:
        self.store = store
        st = replica.state(store)
        self.township = st.get("township") or store.scope
        if len(self.township) != 9:
            raise ValueError(
                "A relay is a township's command-room PC: this store holds "
                f"{self.township or 'no township'}."
            )
        self.county = self.township[:6]
        self.relay_id = store.device_id
        if not self.relay_id:
            raise ValueError("This store is not enrolled with the county: sign in first.")
        enable_log(store)
        self._lock = threading.Lock()
        self._challenges: dict[str, int] = {}
        self._sessions: dict[str, RelaySession] = {}
        #: Called with (device_id, batch_id) after a batch is stored: forwards it now if it can.
        self.forward_now: Any = None

    # -- credentials -----------------------------------------------------------------------------

    def county_sign_key(self) -> str:
        wire = json.loads(replica.state(self.store).get("bundle_county_keys") or "null")
        if not isinstance(wire, dict) or not wire.get("sign"):
            raise ApiError(
                "unavailable",
                "This relay does not know the county's key yet: sign it in to the county once.",
            )
        return str(wire["sign"])

    def revoked(self, device_id: str) -> bool:
        return bool(self.store.read("SELECT 1 FROM relay_revoked WHERE device_id = ?", [device_id]))

    def challenge(self) -> dict[str, Any]:
        now = self.store.now()
        nonce = secrets.token_urlsafe(32)
        with self._lock:
            self._challenges = {n: t for n, t in self._challenges.items() if t > now}
            if len(self._challenges) > 10_000:
                raise ApiError("unavailable", "Too many open challenges; retry in a minute.")
            self._challenges[nonce] = now + relaycert.CHALLENGE_TTL_MS
        return {
            "nonce": nonce,
            "relay_id": self.relay_id,
            "expires_at": now + relaycert.CHALLENGE_TTL_MS,
        }

    def open_session(self, body: Mapping[str, Any]) -> dict[str, Any]:
        now = self.store.now()
        nonce = body.get("nonce")
        with self._lock:
            expires = self._challenges.pop(nonce, None) if isinstance(nonce, str) else None
        if expires is None or expires < now:
            raise ApiError(
                "unauthorized", "The challenge is unknown or expired; ask for a new one."
            )
        try:
            cert = relaycert.check_cert(
                body.get("cert"),
                body.get("signature"),
                self.county_sign_key(),
                county=self.county,
                township=self.township,
                now=now,
            )
            relaycert.check_session(cert, body.get("proof"), self.relay_id, str(nonce))
        except relaycert.RelayError as exc:
            raise ApiError(exc.code, f"Not served by this relay: {exc.message}.") from None
        if self.revoked(cert["device_id"]):
            raise ApiError(
                "device_revoked", "County IT revoked this computer: ask IT to re-enrol it."
            )
        token = secrets.token_urlsafe(32)
        session = RelaySession(
            cert["device_id"],
            cert["device_code"],
            cert["account_id"],
            frozenset(cert["keys"]),
            str(cert["sign"]),
            min(int(cert["expires_at"]), now + SESSION_TTL_MS),
        )
        with self._lock:
            self._sessions = {k: s for k, s in self._sessions.items() if s.expires_at > now}
            self._sessions[_token_hash(token)] = session
        return {
            "token": token,
            "relay_id": self.relay_id,
            "device": {
                "id": session.device_id,
                "code": session.device_code,
                "township": self.township,
            },
            "scope": session.scope(self.township),
            "expires_at": session.expires_at,
            "server_time": self.store.now(),
        }

    def authenticate(self, authorization: str | None) -> RelaySession:
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError("unauthorized", "Open a relay session first: no token.")
        digest = _token_hash(authorization.removeprefix("Bearer ").strip())
        with self._lock:
            session = self._sessions.get(digest)
        if session is None or session.expires_at < self.store.now():
            raise ApiError("unauthorized", "This relay session is no longer valid; open a new one.")
        if self.revoked(session.device_id):
            with self._lock:
                self._sessions.pop(digest, None)
            raise ApiError(
                "device_revoked", "County IT revoked this computer: ask IT to re-enrol it."
            )
        return session

    def session_info(self, session: RelaySession) -> dict[str, Any]:
        return {
            "relay_id": self.relay_id,
            "device": {
                "id": session.device_id,
                "code": session.device_code,
                "township": self.township,
            },
            "account": {"id": session.account_id},
            "scope": session.scope(self.township),
            "county": self.county,
            "server_time": self.store.now(),
        }

    # -- one round trip --------------------------------------------------------------------------

    def sync(self, session: RelaySession, body: Mapping[str, Any]) -> dict[str, Any]:
        now = self.store.now()
        device_time = body.get("device_time")
        offset = now - device_time if isinstance(device_time, int) else 0
        answer: dict[str, Any] = {"server_time": now, "offset_ms": offset, "relay": self.relay_id}
        push = body.get("push")
        if push is not None:
            answer["push"] = self.receive(session, push, body.get("push_signature"))
        cursor = body.get("cursor", 0)
        relay_cursor = body.get("relay_cursor", 0)
        for name, value in (("cursor", cursor), ("relay_cursor", relay_cursor)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ApiError("bad_request", f"{name} must be a whole number")
        page = body.get("page_bytes") or protocol.PAGE_BYTES
        if isinstance(page, bool) or not isinstance(page, int) or page <= 0:
            raise ApiError("bad_request", "page_bytes must be a positive whole number")
        items, new_cursor, more = self.page(session, relay_cursor, min(page, protocol.PAGE_MAX))
        answer["pull"] = {
            # The county's cursor is the device's business with the county: passed through.
            "cursor": cursor,
            "relay_cursor": new_cursor,
            "items": items,
            "more": more,
            "reset": False,
        }
        answer["reference_version"] = self.store.meta(REFERENCE_META + "_version") or ""
        answer["scope"] = session.scope(self.township)
        answer["server_time"] = self.store.now()
        return answer

    def receive(self, session: RelaySession, push: Any, signature: Any) -> dict[str, Any]:
        """Keep one push batch for the county (exactly as the device signed it)."""
        if not isinstance(push, dict):
            raise ApiError("bad_request", "push must be a JSON object")
        batch_id = push.get("batch_id")
        if not isinstance(batch_id, str) or not protocol._ID.match(batch_id):
            raise ApiError("bad_request", "a push needs a batch_id (its idempotency key)")
        try:
            relaycert.check_batch(
                session.sign, signature, self.county, session.device_id, session.account_id, push
            )
        except relaycert.RelayError as exc:
            raise ApiError("forbidden", f"Not taken: {exc.message}.") from None
        text = protocol.dumps(push).decode()
        row = self.store.read(
            "SELECT body, answer FROM relay_batches WHERE device_id = ? AND batch_id = ?",
            [session.device_id, batch_id],
        )
        if row:
            if row[0][0] != text:
                raise ApiError("id_clash", "This batch id already names another batch.")
            if row[0][1]:
                return _answered(json.loads(row[0][1]))
        else:
            with self.store.write() as conn:
                conn.execute(
                    "INSERT INTO relay_batches (device_id, batch_id, account_id, body, signature,"
                    " received_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        session.device_id,
                        batch_id,
                        session.account_id,
                        text,
                        str(signature),
                        self.store.now(),
                    ],
                )
                self._apply_local(session, push)
        if self.forward_now is not None:
            answer = self.forward_now(session.device_id, batch_id)
            if answer is not None:
                return _answered(answer)
        return {
            "batch_id": batch_id,
            "held": True,
            "results": [],
            "message": "The county is out of reach: the relay keeps this batch and hands it on "
            "when the county is back; its answer comes at a later sync.",
        }

    def _apply_local(self, session: RelaySession, push: Mapping[str, Any]) -> None:
        """Put what passes the shared scope rules into the relay's own copy (inside the caller's
        transaction); everything still goes to the county, whose word is final."""
        store = self.store
        ref = store.reference()
        items: list[dict[str, Any]] = []
        for raw in push.get("entries") or []:
            try:
                entry = protocol.entry_from_wire(raw)
            except (protocol.WireError, TypeError, AttributeError):
                continue
            actor = store.account(entry.actor_id)
            if actor is None or actor.role != entry.role:
                continue
            try:
                mine = scope_rules.actor_keys(actor, self.township)
            except scope_rules.ScopeError:
                continue
            state = store.case(entry.case_id)
            view = None if state is None else scope_rules.view_of(state, ref, _ids(store, state))
            if state is None and store.read("SELECT 1 FROM cases WHERE id = ?", [entry.case_id]):
                continue  # a case waiting for its report: the county decides
            refusal = scope_rules.check_entry(
                view,
                entry.action,
                actor,
                entry.payload,
                ref=ref,
                mine=mine,
                device_keys=session.keys,
            )
            if refusal is None:
                items.append({"kind": "entry", "entry": protocol.entry_to_wire(entry)})
        for raw in push.get("visits") or []:
            try:
                visit = protocol.visit_from_wire(raw)
            except (protocol.WireError, TypeError, AttributeError):
                continue
            township = protocol.township_of(visit.grid_id)
            if township == self.township and _grid_reach(visit.grid_id) & session.keys:
                items.append({"kind": "visit", "visit": protocol.visit_to_wire(visit)})
        if items:
            replica.apply_page(store, items)

    # -- the county's answers ----------------------------------------------------------------------

    def waiting(self) -> list[tuple[str, str, str, dict[str, Any], str]]:
        """Batches still waiting for the county, oldest first: (device, batch, account, body,
        signature)."""
        return [
            (str(r[0]), str(r[1]), str(r[2]), json.loads(r[3]), str(r[4]))
            for r in self.store.read(
                "SELECT device_id, batch_id, account_id, body, signature FROM relay_batches "
                "WHERE answer IS NULL ORDER BY received_at, batch_id"
            )
        ]

    def settle(self, device_id: str, batch_id: str, answer: Mapping[str, Any]) -> None:
        """Store the county's answer to a forwarded batch and bring the relay's copy in line:
        restamps rewritten, refused entries taken out; the cases are served again."""
        row = self.store.read(
            "SELECT body, answer FROM relay_batches WHERE device_id = ? AND batch_id = ?",
            [device_id, batch_id],
        )
        if not row or row[0][1]:
            return
        body = json.loads(row[0][0])
        sent = {str(e.get("id")): e for e in body.get("entries") or [] if isinstance(e, dict)}
        stored = {k: v for k, v in answer.items() if k != "replayed"}
        with self.store.write() as conn:
            conn.execute(
                "UPDATE relay_batches SET answer = ?, answered_at = ? WHERE device_id = ? AND "
                "batch_id = ?",
                [protocol.dumps(stored).decode(), self.store.now(), device_id, batch_id],
            )
            touched: set[str] = set()
            for r in answer.get("results") or []:
                if not isinstance(r, Mapping) or r.get("kind") != "entry":
                    continue
                entry = sent.get(str(r.get("id")))
                if entry is None:
                    continue
                case_id = str(entry.get("case_id"))
                if r.get("status") == "rejected" and r.get("code") != "id_clash":
                    conn.execute(
                        "DELETE FROM case_events WHERE id = ? AND hlc = ? AND local = 0",
                        [entry.get("id"), entry.get("hlc")],
                    )
                    touched.add(case_id)
                stamp = r.get("stamp")
                if r.get("status") == "applied" and isinstance(stamp, Mapping):
                    conn.execute(
                        "UPDATE case_events SET at = ?, hlc = ? WHERE id = ?",
                        [int(stamp["at"]), protocol.check_hlc(stamp["hlc"]), entry.get("id")],
                    )
                    touched.add(case_id)
            for case_id in touched:
                replica._reproject(self.store, conn, case_id)
            # Accepted now: served to the other devices from here on.
            conn.executemany(
                "INSERT INTO relay_log (kind, ref) VALUES ('case', ?)",
                [(c,) for c in sorted({str(e.get("case_id")) for e in sent.values()})],
            )

    def set_revoked(self, body: Mapping[str, Any]) -> int:
        """Store the county's revocation list; the sessions of revoked devices end."""
        if str(body.get("township")) != self.township:
            return 0
        rows = [
            (str(r["device_id"]), int(r.get("revoked_at") or 0))
            for r in body.get("revoked") or []
            if isinstance(r, Mapping) and isinstance(r.get("device_id"), str)
        ]
        with self.store.write() as conn:
            conn.executemany(
                "INSERT INTO relay_revoked (device_id, revoked_at) VALUES (?, ?) "
                "ON CONFLICT(device_id) DO UPDATE SET revoked_at = excluded.revoked_at",
                rows,
            )
        gone = {r[0] for r in rows}
        with self._lock:
            self._sessions = {k: s for k, s in self._sessions.items() if s.device_id not in gone}
        return len(rows)

    # -- pull ------------------------------------------------------------------------------------

    def _held_entries(self, device_id: str) -> set[str]:
        """Entries of other devices still waiting for the county's word: not served yet."""
        held: set[str] = set()
        for (text,) in self.store.read(
            "SELECT body FROM relay_batches WHERE answer IS NULL AND device_id <> ?", [device_id]
        ):
            held.update(str(e.get("id")) for e in json.loads(text).get("entries") or [])
        return held

    def page(
        self, session: RelaySession, cursor: int, page_bytes: int
    ) -> tuple[list[dict[str, Any]], int, bool]:
        store = self.store
        top = int(store.read("SELECT coalesce(max(seq), 0) FROM relay_log")[0][0])
        if cursor > top:
            cursor = 0  # another relay's cursor, or a restored store: start over (merges are sets)
        rows = store.read(
            "SELECT seq, kind, ref FROM relay_log WHERE seq > ? ORDER BY seq LIMIT ?",
            [cursor, LOG_ROWS],
        )
        held = self._held_entries(session.device_id)
        ref = store.reference()
        items: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        size = 0
        last = cursor
        for seq, kind, key in rows:
            last = int(seq)
            if (kind, key) in seen:
                continue
            seen.add((kind, key))
            item = (
                self._case_item(str(key), session.keys, ref, held)
                if kind == "case"
                else self._visit_item(str(key), session.keys)
            )
            if item is None:
                continue
            item["seq"] = last
            items.append(item)
            size += protocol.json_size(item)
            if size >= page_bytes:
                break
        return items, (top if last >= top else last), last < top

    def _case_item(
        self, case_id: str, keys: frozenset[str], ref: scope_rules.Reference, held: set[str]
    ) -> dict[str, Any] | None:
        state = self.store.case(case_id)
        if state is None:
            return None
        if not scope_rules.view_of(state, ref).keys & keys:
            return None
        entries = [
            protocol.entry_to_wire(e) for e in self.store.timeline(case_id) if e.id not in held
        ]
        if not entries:
            return None
        attachments = [
            {
                "attachment": {
                    "id": r[0],
                    "case_id": r[1],
                    "entry_id": r[2],
                    "sha256": r[3],
                    "name": r[4],
                    "mime": r[5],
                    "size": int(r[6]),
                    "created_at": int(r[7]),
                },
                "complete": True,
            }
            # Only what came from the county: those are proven (section 11).
            for r in self.store.read(
                "SELECT id, case_id, entry_id, sha256, name, mime, size, created_at FROM "
                "attachments WHERE case_id = ? AND local = 0 ORDER BY id",
                [case_id],
            )
        ]
        return {"kind": "case", "case_id": case_id, "entries": entries, "attachments": attachments}

    def _visit_item(self, visit_id: str, keys: frozenset[str]) -> dict[str, Any] | None:
        rows = self.store.read(
            "SELECT id, grid_code, staff_id, kind, at, household, content FROM visits WHERE id = ?",
            [visit_id],
        )
        if not rows:
            return None
        r = rows[0]
        if not _grid_reach(str(r[1])) & keys:
            return None
        visit = {
            "id": r[0],
            "grid_id": r[1],
            "staff_id": r[2],
            "kind": r[3],
            "at": int(r[4]),
            "household": r[5] or "",
            "content": r[6],
        }
        return {"kind": "visit", "visit": visit}


def _ids(store: Store, state: Any) -> Any:
    """The entry ids of a case's timeline, read when a rule asks (a settlement)."""
    return lambda: [e.id for e in store.timeline(state.case_id)]


def _answered(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The county's answer to a batch, for the device; a batch the county refused as a whole
    (revoked device, bad signature) is refused to the device in the county's words."""
    error = answer.get("error")
    if isinstance(error, Mapping):
        raise ApiError(str(error.get("code") or "forbidden"), str(error.get("message") or ""))
    return dict(answer)


def _grid_reach(grid: str) -> set[str]:
    """The scope keys of a grid's records (a visit's)."""
    township = protocol.township_of(grid)
    if township is None:
        return set()
    return scope_rules.place_keys(township, {grid})


__all__ = ["ApiError", "Relay", "RelaySession", "enable_log"]
