"""The sync service the desktop and ``gridroom sync`` call: one full sync, and the status line.

:meth:`SyncService.sync_once` runs one complete exchange with the county:

1. **Exchange** — each ``POST /v1/sync`` carries the next outbox batch (if any) and asks for the
   next pull page; when nothing changed on either side that is the only round trip.
2. **Reference data** — fetched only when the county's reference version moved.
3. **Attachments** — uploads and downloads in resumable chunks.
4. **Drift check** — now and then (daily, or on request) the county sends per-village checksums
   at the end of the pull; villages that differ are pulled again in full and this device's own
   missing entries are queued again.

Everything it learns is stored by :mod:`sync.store.replica` in local transactions, so it can be
cancelled or killed at any point and the next run continues. It never raises for network or
server trouble: the :class:`SyncReport` says what happened, in plain words.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import protocol
from ..model.clock import ClockSample, Millis, best_sample, offset_to_adopt
from ..store import replica
from ..store.store import Store
from . import blobs
from . import bundle as _bundle
from .tokens import MemoryTokens, TokenStore, default_tokens
from .transport import Transport, TransportError, not_protocol

Progress = Callable[[int, int], bool]


def _app_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("gridroom")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0.1.0+src"


#: How often the drift check runs without being asked.
VERIFY_EVERY_MS = 24 * 3600_000
#: This Gridroom's version, reported to the county with every sync.
APP_VERSION = _app_version()
#: Error codes that mean "sign in again" (exit code 4 of ``gridroom sync``).
AUTH_CODES = frozenset(
    {
        "unauthorized",
        "bad_credentials",
        "account_disabled",
        "wrong_device",
        "not_signed_in",
        "device_revoked",
    }
)
#: A safety stop for a server that keeps saying "more" (a bug there must not spin us forever).
MAX_ROUNDS = 100_000
#: Push batches are sized so that one takes about this long on the link as this sync measured
#: it: on a good moment 1,000 new cases go in one or two requests, when the link fades in
#: smaller pieces, and a batch cut for good costs at most this much of the link to send again.
BATCH_SECONDS = 20.0
#: Bounds of a batch (JSON bytes before gzip) however fast or slow the link measured.
BATCH_MIN = 16_000
BATCH_MAX = 4_000_000
#: A clock difference with the county larger than this is worth telling a person about.
CLOCK_WARN_MS = 10 * 60_000


class Cancelled(Exception):
    """The user asked to stop (the progress callback returned False)."""


@dataclass
class SyncReport:
    """What one sync did, for the status page and ``gridroom sync``'s JSON summary."""

    status: str = "ok"  # ok | partial | failed | cancelled
    error: str = ""
    error_code: str = ""
    reached_server: bool = False
    server_url: str = ""
    started_at: Millis = 0
    finished_at: Millis = 0
    pushed: int = 0
    duplicates: int = 0
    quarantined_now: int = 0
    restamped: int = 0
    replayed_batches: int = 0  # pushes the county had applied already (answer replayed)
    pulled_entries: int = 0
    pulled_attachments: int = 0
    pulled_visits: int = 0
    removed_cases: int = 0
    reference_updated: bool = False
    uploaded_files: int = 0
    uploaded_bytes: int = 0
    #: uploads settled by proving the county already had the file (no bytes sent)
    proven_files: int = 0
    downloaded_files: int = 0
    downloaded_bytes: int = 0
    blob_errors: list[str] = field(default_factory=list)
    verified: bool = False
    drifted_villages: list[str] = field(default_factory=list)
    repaired: int = 0
    clock_offset_ms: int = 0
    #: set when this device's clock and the county's differ by more than CLOCK_WARN_MS
    clock_warning: str = ""
    cursor: int = 0
    waiting: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    conflicts: int = 0
    round_trips: int = 0
    retries: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    #: request body bytes sent again after a failed attempt (a cut batch costs this twice)
    bytes_resent: int = 0
    #: "county", or "relay" when the township relay served this sync (sync.client.route)
    route: str = ""
    #: push batches a relay holds for the county (its answer comes at a later sync)
    held_batches: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 all synced, 1 partial, 2 failed, 4 sign in again, 5 update Gridroom, 130 cancelled."""
        if self.status == "ok":
            return 0
        if self.status == "partial":
            return 1
        if self.status == "cancelled":
            return 130
        if self.error_code in AUTH_CODES:
            return 4
        if self.error_code == "protocol_version":
            return 5
        return 2

    def fail(self, code: str, message: str, *, reached: bool = False) -> None:
        self.status = "failed"
        self.error_code = code
        self.error = message
        self.reached_server = self.reached_server or reached

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["exit_code"] = self.exit_code
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)


@dataclass
class SyncStatus:
    """The status line: online?, what waits to go, last success, conflicts, quarantine."""

    server_url: str
    account: str
    online: bool | None  # None: never tried
    last_attempt: Millis | None
    last_success: Millis | None
    last_error: str
    waiting: int
    uploads_waiting: int
    downloads_waiting: int
    conflicts: int
    quarantined: int
    clock_offset_ms: int
    cursor: int
    #: the code of the last failure (see ``TransportError``; empty after a success)
    last_error_code: str = ""
    #: plain words when this device's clock and the county's differ a lot (empty otherwise)
    clock_warning: str = ""


class SyncService:
    """Sync a store with its county server (the server URL and account come from enrolment)."""

    def __init__(
        self,
        *,
        tokens: TokenStore | None = None,
        ca_file: str | None = None,
        batch_bytes: int = protocol.BATCH_BYTES,
        page_bytes: int = protocol.PAGE_BYTES,
        chunk_bytes: int = protocol.CHUNK_BYTES,
        verify_every_ms: int = VERIFY_EVERY_MS,
        transport_options: dict[str, Any] | None = None,
        deadline_s: float | None = None,
    ) -> None:
        """``deadline_s``: how long one sync keeps trying without an answer before it says
        offline (the ``sync_deadline_s`` setting; default the transport's ``DEADLINE_S``)."""
        self.tokens = tokens if tokens is not None else default_tokens()
        self.ca_file = ca_file or None
        self.batch_bytes = batch_bytes
        self.page_bytes = page_bytes
        self.chunk_bytes = chunk_bytes
        self.verify_every_ms = verify_every_ms
        self.transport_options = dict(transport_options or {})
        if deadline_s is not None:
            self.transport_options["deadline"] = float(deadline_s)
        #: Set when this service talks to a township relay (sync.client.route.RelayLink).
        self.relay: Any = None

    # -- the status line ------------------------------------------------------------------------

    def status(self, store: Store) -> SyncStatus:
        """What the status bar shows; no network."""
        st = replica.state(store)
        waiting = replica.waiting(store)
        online = st.get("online")
        return SyncStatus(
            server_url=st.get("server_url", ""),
            account=st.get("account_login", ""),
            online=None if not online else online == "1",
            last_attempt=int(st["last_attempt"]) if st.get("last_attempt") else None,
            last_success=int(st["last_success"]) if st.get("last_success") else None,
            last_error=st.get("last_error", ""),
            waiting=waiting["changes"],
            uploads_waiting=waiting["uploads"],
            downloads_waiting=waiting["downloads"],
            conflicts=int(store.read("SELECT count(*) FROM cases WHERE conflicts > 0")[0][0]),
            quarantined=int(store.read("SELECT count(*) FROM quarantine WHERE retrying = 0")[0][0]),
            clock_offset_ms=replica.clock_offset(store),
            cursor=int(st.get("cursor") or 0),
            last_error_code=st.get("last_error_code", ""),
            clock_warning=clock_warning(replica.clock_offset(store)),
        )

    def probe(self, store: Store, *, timeout: float = 5.0) -> bool:
        """Whether the county answers and still accepts this device's token (one request)."""
        server, token = self._session(store)
        if not server or not token:
            return False
        options = {"connect_timeout": timeout, "read_timeout": timeout, "attempts": 1}
        with self._transport(store, server, **options) as transport:
            try:
                transport.get_json(protocol.SESSION, token=token)
                ok = True
            except TransportError:
                ok = False
        replica.set_state(store, {"online": "1" if ok else "0"})
        return ok

    # -- one sync -------------------------------------------------------------------------------

    def sync_once(
        self,
        store: Store,
        progress: Progress | None = None,
        *,
        verify: bool | None = None,
        endpoint: tuple[str, str] | None = None,
    ) -> SyncReport:
        """Push, pull, attachments, and (now and then) the drift check. Never raises for
        network or server trouble; see the report. ``endpoint``: (url, token) of a township
        relay to sync with instead of the county (sync.client.route)."""
        report = SyncReport(started_at=store.now())
        server, token = endpoint or self._session(store)
        report.server_url = server
        if not server:
            report.fail(
                "not_signed_in",
                "This device is not enrolled with a county server yet: sign in first "
                "(gridroom login --server URL --user NAME).",
            )
        elif not token:
            where = "" if self.tokens.persistent else " (" + self.tokens.describe() + ")"
            report.fail("not_signed_in", f"Not signed in to {server}{where}: sign in again first.")
        else:
            transport = self._transport(store, server)
            try:
                self._run(store, transport, token, report, progress, verify)
            except TransportError as exc:
                report.fail(exc.code, exc.message, reached=exc.reached)
            except Cancelled:
                report.status = "cancelled"
                report.error = "Cancelled; what was done is kept and the rest goes next time."
            finally:
                report.round_trips = transport.round_trips
                report.retries = transport.retries
                report.bytes_up = transport.bytes_up
                report.bytes_down = transport.bytes_down
                report.bytes_resent = transport.bytes_resent
                transport.close()
        self._finish(store, report)
        return report

    def _session(self, store: Store) -> tuple[str, str | None]:
        st = replica.state(store)
        server = st.get("server_url") or store.meta("server_url") or ""
        token = self.tokens.get(server, store.device_id) if server else None
        return server, token

    def _transport(self, store: Store, server: str, **options: Any) -> Transport:
        kw = {**self.transport_options, **options}
        return Transport(server, ca_file=self.ca_file, wall=store.raw_clock, **kw)

    def _finish(self, store: Store, report: SyncReport) -> None:
        report.waiting = replica.waiting(store)
        report.quarantined = int(
            store.read("SELECT count(*) FROM quarantine WHERE retrying = 0")[0][0]
        )
        report.conflicts = int(store.read("SELECT count(*) FROM cases WHERE conflicts > 0")[0][0])
        report.clock_offset_ms = replica.clock_offset(store)
        report.clock_warning = clock_warning(report.clock_offset_ms)
        report.cursor = replica.cursor(store)
        if report.status == "ok" and (
            report.quarantined
            or report.blob_errors
            or report.waiting.get("changes")
            or report.waiting.get("uploads")
        ):
            report.status = "partial"
            parts = []
            if report.quarantined:
                parts.append(
                    f"{report.quarantined} record(s) refused by the county wait in "
                    "quarantine for a person to retry or discard"
                )
            if report.blob_errors:
                parts.append(f"{len(report.blob_errors)} attachment(s) could not be moved")
            if report.waiting.get("changes") or report.waiting.get("uploads"):
                parts.append("some changes are still waiting to go")
            report.error = "; ".join(parts) + "."
        report.finished_at = store.now()
        summary = {k: v for k, v in report.to_dict().items() if k != "problems"}
        replica.record_run(
            store, started_at=report.started_at, status=report.status, summary=summary
        )

    def _tick(self, progress: Progress | None, done: int, total: int) -> None:
        if progress is not None and progress(done, max(total, done)) is False:
            raise Cancelled()

    def _run(
        self,
        store: Store,
        transport: Transport,
        token: str,
        report: SyncReport,
        progress: Progress | None,
        verify: bool | None,
    ) -> None:
        st = replica.state(store)
        if verify is None:
            last = int(st.get("last_verify") or 0)
            verify = store.now() - last >= self.verify_every_ms
        waiting = replica.waiting(store)
        total = waiting["changes"] + waiting["uploads"] + waiting["downloads"]
        self._tick(progress, 0, total)
        checksums = self._exchange(
            store, transport, token, report, verify=verify, progress=progress
        )
        done = self._done(report)
        total = done + sum(replica.waiting(store).values())
        self._tick(progress, done, total)
        if checksums is not None:
            self._verify(store, transport, token, report, checksums)
        replica.reset_hlc(store)
        self._attachments(store, transport, token, report, progress, done, total)

    @staticmethod
    def _done(report: SyncReport) -> int:
        return (
            report.pushed
            + report.duplicates
            + report.quarantined_now
            + report.pulled_entries
            + report.pulled_attachments
            + report.pulled_visits
            + report.removed_cases
        )

    def _exchange(
        self,
        store: Store,
        transport: Transport,
        token: str,
        report: SyncReport,
        *,
        verify: bool,
        progress: Progress | None = None,
    ) -> dict[str, Any] | None:
        """Push and pull until both sides are level; returns the county's checksums when a
        verification was asked for."""
        st = replica.state(store)
        cursor = int(st.get("cursor") or 0)
        scope_id = st.get("scope_id") or ""
        reference_version = st.get("reference_version") or ""
        checksums = None
        restarted = False
        samples: list[ClockSample] = []  # this sync's clock measurements (see _adopt_offset)
        first = True  # the first round registers bundle keys when the county lacks them
        budget = self.batch_bytes  # the first batch's; then sized to the link (_next_budget)
        link = self.relay  # a township relay (sync.client.route), or None: the county
        relay_cursor = link.cursor if link is not None else 0
        held = False  # a relay holds our batch for the county: push no more this sync
        for _ in range(MAX_ROUNDS):
            batch = None if held else replica.next_batch(store, budget)
            body: dict[str, Any] = {
                "device_time": store.raw_clock(),
                # What county IT sees in `gridroom-county device list`.
                "outbox": replica.waiting(store)["changes"],
                "app_version": APP_VERSION,
                "cursor": cursor,
                "page_bytes": self.page_bytes,
                "checksum": verify,
                # The reference data rides along when it moved (protocol section 12).
                "reference_version": reference_version,
            }
            headers = {}
            register = _bundle.keys_to_register(store) if first else None
            first = False
            if register is not None:
                body["device_keys"] = register  # protocol section 18.1
            if batch is not None:
                body["push"] = batch.wire()
                headers[protocol.IDEMPOTENCY_HEADER] = batch.batch_id
            if link is not None:  # protocol section 19
                body["relay_cursor"] = relay_cursor
                if batch is not None:
                    body["push_signature"] = link.sign(body["push"])
            try:
                reply = transport.post_json(protocol.SYNC, body, token=token, headers=headers)
            except TransportError as exc:
                if batch is not None and exc.reached and exc.code in ("bad_request", "too_large"):
                    # The county refuses this batch as a whole: forget the in-flight marker
                    # so the next batch is built afresh; the records stay in the outbox.
                    replica.abandon_batch(store, batch)
                raise
            answer = reply.object("the sync answer")
            report.reached_server = True
            if register is not None:
                _bundle.remember_county_keys(store, answer)
            server_time = answer.get("server_time")
            if isinstance(server_time, int) and not isinstance(server_time, bool):
                if server_time < protocol.CLOCK_FLOOR_MS:
                    raise TransportError(
                        "server_clock",
                        "The county server's clock is wrong: it says "
                        f"{_date(server_time)}, before Gridroom existed. This computer keeps "
                        "its own time and nothing more is sent; tell county IT to set the "
                        "server's clock.",
                        reached=True,
                    )
                sample = reply.clock_sample(server_time)
                if sample is not None:
                    samples.append(sample)
                self._adopt_offset(store, samples)
            push: Any = None
            if batch is not None:
                push = answer.get("push")
                if not isinstance(push, dict) or push.get("batch_id") != batch.batch_id:
                    raise not_protocol("the push was not answered")
                if link is not None and push.get("held") is True:
                    # The relay keeps it for the county; the batch stays in flight here and
                    # is sent again (same id) until the county's answer comes back.
                    held = True
                    report.held_batches += 1
            if batch is not None and not held:
                if not isinstance(push.get("results"), list):
                    raise not_protocol("the push results are not a list")
                budget = self._next_budget(budget, batch, transport)
                out = replica.finish_batch(store, batch, push)
                report.replayed_batches += int(bool(push.get("replayed")))
                if out.unanswered == len(batch):
                    raise TransportError(
                        "bad_response",
                        "The server answered none of the pushed records.",
                        reached=True,
                    )
                report.pushed += out.applied
                report.duplicates += out.duplicates
                report.quarantined_now += len(out.rejected)
                report.restamped += out.restamped
            scope = answer.get("scope") or {}
            if not isinstance(scope, dict):
                raise not_protocol("the scope is not a JSON object")
            new_scope = str(scope.get("id") or "")
            if scope_id and new_scope and new_scope != scope_id:
                # The account's scope changed (new grids, another account): start over and
                # let the drift check remove what is no longer ours.
                if restarted:
                    raise TransportError(
                        "bad_response",
                        "The server keeps changing this device's scope.",
                        reached=True,
                    )
                restarted = True
                replica.set_state(store, {"cursor": 0, "scope_id": new_scope})
                cursor, scope_id, verify = 0, new_scope, True
                relay_cursor = 0
                report.problems.append("the scope changed; pulling it again from the start")
                continue
            version = str(answer.get("reference_version") or "")
            inline = answer.get("reference")
            if inline is not None and not isinstance(inline, dict):
                raise not_protocol("the reference data is not a JSON object")
            if inline is not None or (version and version != reference_version):
                # A server that knows the member sends the data along; an older one does not,
                # and the data is fetched on its own — saying which outlines we have, so the
                # county sends them again only when they changed.
                have = replica.state(store).get("geometry_version") or ""
                body_ref = inline or transport.get_json(
                    protocol.REFERENCE, token=token, params={"geometry": have} if have else None
                )
                try:
                    replica.apply_reference(store, body_ref)
                except (KeyError, TypeError, AttributeError, protocol.WireError) as exc:
                    raise not_protocol(f"reference data: {exc}") from None
                reference_version = str(body_ref.get("version") or version)
                report.reference_updated = True
            pull = answer.get("pull") or {}
            if not isinstance(pull, dict) or not isinstance(pull.get("items") or [], list):
                raise not_protocol("the pull page is not an object with a list of items")
            if pull.get("reset"):
                verify = True
                report.problems.append("the server's change log restarted; verifying the data")
            new_cursor = pull.get("cursor")
            if not isinstance(new_cursor, int) or isinstance(new_cursor, bool):
                raise TransportError("bad_response", "The server sent no cursor.", reached=True)
            values: dict[str, Any] = {"scope_id": new_scope} if new_scope else {}
            if link is not None and isinstance(pull.get("relay_cursor"), int):
                relay_cursor = values["relay_cursor"] = pull["relay_cursor"]
            page = replica.apply_page(
                store, pull.get("items") or [], new_cursor=new_cursor, state_values=values
            )
            scope_id = new_scope or scope_id
            cursor = new_cursor
            report.pulled_entries += page.entries
            report.pulled_attachments += page.attachments
            report.pulled_visits += page.visits
            report.removed_cases += page.removed
            report.problems.extend(page.problems)
            more = bool(pull.get("more"))
            if not more:
                checksums = pull.get("checksums") if verify else None
            left = replica.waiting(store)["changes"]
            if not more and (left == 0 or held):
                break
            # Cancelling between rounds loses nothing: each round is stored whole.
            done = self._done(report)
            self._tick(progress, done, done + left + int(more))
        return checksums

    def _next_budget(self, budget: int, batch: replica.Batch, transport: Transport) -> int:
        """The next batch's size: what the link carried per second in this batch's round trip
        (its gzip'd body over the time from sending it to the whole answer, server work
        included), times :data:`BATCH_SECONDS`, in JSON bytes at this batch's gzip ratio."""
        if self.batch_bytes != protocol.BATCH_BYTES or transport.last_sent <= 0:
            return budget  # a size set by hand (tests, bundles) is kept as it is
        if batch.json_bytes < budget // 4:
            return budget  # a small batch (the outbox's tail) measures the round trip, not the rate
        rate = transport.last_sent / max(transport.last_seconds, 0.05)
        ratio = batch.json_bytes / transport.last_sent
        return int(min(BATCH_MAX, max(BATCH_MIN, rate * BATCH_SECONDS * ratio)))

    @staticmethod
    def _adopt_offset(store: Store, samples: list[ClockSample]) -> None:
        """Adopt the clock offset of the best (lowest-delay) sample of this sync, if it is
        precise enough or proves the current offset wrong (:func:`offset_to_adopt`): a slow
        round trip — a busy county, a slow push — never moves a clock that is about right."""
        current = replica.clock_offset(store)
        offset = offset_to_adopt(best_sample(samples), current, noise_ms=protocol.OFFSET_NOISE_MS)
        if offset is not None:
            replica.set_clock_offset(store, offset)

    def _verify(
        self,
        store: Store,
        transport: Transport,
        token: str,
        report: SyncReport,
        remote: dict[str, Any],
    ) -> None:
        """Compare per-village checksums; pull drifted villages again in full."""
        report.verified = True
        bad = replica.drifted(replica.checksums(store), remote)
        report.drifted_villages = bad
        requeued = 0
        for village in bad:
            after = None
            present: set[str] = set()
            server_entries: set[str] = set()
            while True:
                reply = transport.post_json(
                    protocol.SNAPSHOT,
                    {"village_code": village, "after": after, "page_bytes": self.page_bytes},
                    token=token,
                )
                body = reply.object("the snapshot answer")
                if not isinstance(body.get("cases", []), list):
                    raise not_protocol("the snapshot's cases are not a list")
                items = []
                for case in body.get("cases", []):
                    present.add(str(case.get("case_id")))
                    server_entries.update(str(e.get("id")) for e in case.get("entries", []))
                    items.append({"kind": "case", **case})
                out = replica.apply_page(store, items)
                report.repaired += out.entries
                if body.get("done"):
                    break
                after = body.get("next")
            report.repaired += replica.prune_village(store, village, present)
            requeued += replica.requeue_missing(store, village, server_entries)
        if requeued:
            self._exchange(store, transport, token, report, verify=False)
        replica.set_state(store, {"last_verify": store.now()})

    def _attachments(
        self,
        store: Store,
        transport: Transport,
        token: str,
        report: SyncReport,
        progress: Progress | None,
        done: int,
        total: int,
    ) -> int:
        # A relay takes no uploads: they wait for the county (section 19).
        uploads = replica.pending_blobs(store, "up") if self.relay is None else []
        for sha, size in uploads:
            try:
                sent = blobs.upload(transport, token, store, sha, size, chunk=self.chunk_bytes)
            except blobs.BlobError as exc:
                replica.blob_failed(store, sha, "up", str(exc))
                report.blob_errors.append(str(exc))
            except TransportError as exc:
                if not exc.reached:
                    raise
                replica.blob_failed(store, sha, "up", exc.message)
                report.blob_errors.append(f"{sha[:12]}…: {exc.message}")
            else:
                replica.blob_done(store, sha, "up")
                report.uploaded_files += 1
                report.uploaded_bytes += sent.bytes
                report.proven_files += int(sent.proven)
            done += 1
            self._tick(progress, done, total)
        for sha, size in replica.pending_blobs(store, "down"):
            try:
                got = blobs.download(transport, token, store, sha, size)
            except blobs.BlobError as exc:
                replica.blob_failed(store, sha, "down", str(exc))
                report.blob_errors.append(str(exc))
            except TransportError as exc:
                if not exc.reached:
                    raise
                replica.blob_failed(store, sha, "down", exc.message)
                report.blob_errors.append(f"{sha[:12]}…: {exc.message}")
            else:
                replica.blob_done(store, sha, "down")
                report.downloaded_files += 1
                report.downloaded_bytes += got
            done += 1
            self._tick(progress, done, total)
        return done


def sync_once(
    store: Store, progress: Progress | None = None, *, service: SyncService | None = None
) -> SyncReport:
    """One full sync of ``store`` with its county (see :class:`SyncService`)."""
    return (service or SyncService()).sync_once(store, progress)


def status(store: Store, *, service: SyncService | None = None) -> SyncStatus:
    """The sync status line of ``store`` (no network)."""
    return (service or SyncService(tokens=MemoryTokens())).status(store)


def wait_online(store: Store, service: SyncService, *, timeout: float, every: float = 1.0) -> bool:
    """Probe until the county answers or ``timeout`` seconds pass (for scripts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.probe(store, timeout=min(every * 5, timeout)):
            return True
        time.sleep(every)
    return False


def clock_warning(offset_ms: int) -> str:
    """Plain words for a large difference between this device's clock and the county's."""
    if abs(offset_ms) <= CLOCK_WARN_MS:
        return ""
    way = "behind" if offset_ms > 0 else "ahead of"
    return (
        f"This computer's clock is {_span(abs(offset_ms))} {way} the county server's. Gridroom "
        "uses the county's time; if this computer's clock is right, the county server's clock "
        "is wrong: tell county IT. Otherwise set this computer's clock."
    )


def _span(ms: int) -> str:
    """``3 years 2 days``, ``8 hours 5 minutes``, ``25 minutes`` (rounded to the last unit)."""
    day = 86_400_000
    if ms >= 365 * day - day // 2:
        years, days = divmod(round(ms / day), 365)
        parts = [(years, "year"), (days, "day")]
    elif ms >= day - 30 * 60_000:
        days, hours = divmod(round(ms / 3_600_000), 24)
        parts = [(days, "day"), (hours, "hour")]
    else:
        hours, minutes = divmod(round(ms / 60_000), 60)
        parts = [(hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(words) or "a few minutes"


def _date(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(max(ms, 0) / 1000, dt.UTC).strftime("%Y-%m-%d")
