"""Run ``gridroom …`` or ``gridroom-county …`` so that the process kill -9's itself at a named
point: the fault campaign's way of hitting the instants that a random delay rarely hits.

    GRIDROOM_KILL_AT=reply:sync:2 python -m tests.faults.killpoint gridroom sync --db a.sqlite
    GRIDROOM_KILL_AT=push:commit:1 python -m tests.faults.killpoint county serve --db c.sqlite …

The real entry point runs unchanged; only a trigger is wrapped around one function, and when it
fires the process sends itself SIGKILL (no cleanup, no flush: what a power cut or the OOM killer
does). Points, each ``<point>:<n>`` firing at the n-th time it is reached:

client (``gridroom``):
  ``send:<what>``     before the n-th request of that kind leaves (the push is marked in flight)
  ``reply:<what>``    after its answer arrived, before the device stored anything of it
                      (``what``: ``sync``, ``put`` (a chunk upload), ``get`` (a chunk download),
                      ``reference``, ``status`` (blob status), ``proof`` (a proof of
                      possession), ``any``)
  ``commit``          inside the n-th local write transaction, before COMMIT
  ``committed``       just after the n-th local write transaction committed

relay (``gridroom relay``):
  ``relay:answered``  after the county answered the n-th forwarded batch, before the relay
                      stored the answer

county (``gridroom-county``):
  ``push:commit``     inside the n-th push transaction, before COMMIT (nothing applied)
  ``push:answer``     after the n-th push committed, before its answer leaves (answer lost)
  ``chunk:answer``    after the n-th chunk upload committed, before its answer leaves
  ``pull``            while building the n-th pull page (after that request's push committed)
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

ENV = "GRIDROOM_KILL_AT"

_counts: dict[str, int] = {}
_lock = threading.Lock()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _reached(name: str, wanted: str, n: int) -> bool:
    """Count one passage through ``name``; True at the n-th passage of the wanted point."""
    if name != wanted:
        return False
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        return _counts[name] == n


def parse(spec: str) -> tuple[str, int]:
    """``"reply:sync:2"`` → ``("reply:sync", 2)``."""
    head, _, count = spec.rpartition(":")
    if not head or not count.isdigit() or int(count) < 1:
        raise SystemExit(f"{ENV} must look like reply:sync:2, not {spec!r}")
    return head, int(count)


def _kind(method: str, path: str) -> str:
    from sync import protocol

    if path == protocol.SYNC:
        return "sync"
    if path == protocol.REFERENCE:
        return "reference"
    if path.endswith("/status"):
        return "status"
    if path.endswith("/proof"):
        return "proof"
    if path.startswith("/v1/blobs/"):
        return "put" if method == "PUT" else "get"
    return "other"


def arm_client(point: str, n: int) -> None:
    from sync.client.transport import Transport
    from sync.store.store import Store

    original_request = Transport.request

    def request(self: Transport, method: str, path: str, **kw: Any) -> Any:
        kind = _kind(method, path)
        for what in (kind, "any"):
            if _reached(f"send:{what}", point, n):
                _die()
        reply = original_request(self, method, path, **kw)
        for what in (kind, "any"):
            if _reached(f"reply:{what}", point, n):
                _die()
        return reply

    Transport.request = request  # type: ignore[method-assign]

    original_write = Store.write

    @contextlib.contextmanager
    def write(self: Store) -> Iterator[Any]:
        with original_write(self) as conn:
            yield conn
            if _reached("commit", point, n):
                _die()  # the body ran; COMMIT has not
        if _reached("committed", point, n):
            _die()

    Store.write = write  # type: ignore[method-assign]


def arm_county(point: str, n: int) -> None:
    from sync.county import db as county_db
    from sync.county.service import County

    armed = threading.local()
    original_write = county_db.Database.write

    @contextlib.contextmanager
    def write(self: county_db.Database, *, ordered: bool = True) -> Iterator[Any]:
        with original_write(self, ordered=ordered) as tx:
            yield tx
            if getattr(armed, "before_commit", False):
                _die()

    county_db.Database.write = write  # type: ignore[method-assign]

    def wrap(name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(County, name)

        def wrapper(self: County, *args: Any, **kw: Any) -> Any:
            fire_commit = _reached(f"{label}:commit", point, n)
            fire_answer = _reached(f"{label}:answer", point, n)
            armed.before_commit = fire_commit
            try:
                result = original(self, *args, **kw)
            finally:
                armed.before_commit = False
            if fire_answer:
                _die()
            return result

        setattr(County, name, wrapper)

    wrap("push", "push")
    wrap("put_chunk", "chunk")
    original_pull = County._pull

    def pull(self: County, *args: Any, **kw: Any) -> Any:
        if _reached("pull", point, n):
            _die()
        return original_pull(self, *args, **kw)

    County._pull = pull  # type: ignore[method-assign,assignment]


def arm_relay(point: str, n: int) -> None:
    """``relay:answered``: the n-th time the county's answer to a forwarded batch arrived, before
    the relay stored it (the county applied the batch; the relay does not know)."""
    from sync.relay.core import Relay

    original = Relay.settle

    def settle(self: Relay, *args: Any, **kw: Any) -> Any:
        if _reached("relay:answered", point, n):
            _die()
        return original(self, *args, **kw)

    Relay.settle = settle  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("gridroom", "county"):
        print("usage: python -m tests.faults.killpoint gridroom|county ARGS…", file=sys.stderr)
        return 2
    spec = os.environ.get(ENV, "")
    if argv[0] == "gridroom":
        if spec.startswith("relay:"):
            arm_relay(*parse(spec))
        elif spec:
            arm_client(*parse(spec))
        from sync import cli

        return cli.main(argv[1:])
    if spec:
        arm_county(*parse(spec))
    from sync.county.cli import main as county_main

    return county_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
