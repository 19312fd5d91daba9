"""A real lossy link: two network namespaces' worth of kernel TCP joined by a user-space packet
forwarder that delays, rate-limits and drops IP packets.

:mod:`tests.support.badlink` is a TCP proxy: it models bandwidth, latency and *connection* cuts
well, but the kernel on either side never sees a lost packet, so it cannot show what 2% packet
loss does to TCP (retransmission timeouts, slow start after a loss, a connection that survives a
20 s outage and picks up after it). This module can: the kernel's own TCP runs end to end, and
the forwarder in between behaves like a poor radio link, packet by packet.

Topology (the kernel has no ``netem``, so everything on the way is ours)::

    host network namespace                      namespace ``<name>`` (the server side)
    client ── 10.77.N.1 ─ tun lkA<N> ═╗    ╔═ tun lkB<N> ─ 10.77.N.2 ── server
                                       ╚ forwarder ╝
                         (delay, rate, loss, outages; this module's ``forward`` command)

Anything started with :meth:`LossyLink.netns_command` (the county server, a floor server) runs
in the server's namespace and listens on :attr:`LossyLink.server_ip`; clients in the host
namespace reach it only through the forwarder. The forwarder models, per direction:

* **rate**: a packet occupies the link for ``len * 8 / bps`` seconds (whole IP packets, headers
  included, as on a real link), one after another;
* **delay**: it arrives ``rtt / 2`` after it left;
* **queue**: a packet that would wait more than ``queue_s`` behind others is dropped (tail
  drop, a radio modem's buffer);
* **loss**: each packet is lost with probability ``loss`` (independently, seeded);
* **outages**: every packet is lost for ``outage_s`` seconds every ``outage_every_s`` seconds
  (first one ``outage_every_s - outage_s`` after the profile is set), or on demand
  (:meth:`LossyLink.outage`). Connections are not reset: TCP on both sides sees silence.

The profile can be changed while the link runs (:meth:`LossyLink.set`, e.g. ``perfect`` for
setting things up, then the village profile for what is measured). Counters — packets and bytes
delivered each way, TCP payload bytes, drops by cause — are in :meth:`LossyLink.stats`.

Needs root (network namespaces, ``/dev/net/tun``) and ``ip`` from iproute2:
:func:`unavailable` says why not, for tests to skip with that reason.

Command line::

    python -m tests.support.lossylink forward --name lk1 --index 1 --profile village-2g-loss
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import random
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
READY_TIMEOUT_S = 20.0


@dataclasses.dataclass(frozen=True)
class LinkProfile:
    name: str
    up_bps: int = 0  # client -> server; 0: unlimited
    down_bps: int = 0  # server -> client
    rtt_ms: float = 0.0
    loss: float = 0.0  # each way
    queue_s: float = 3.0
    outage_s: float = 0.0
    outage_every_s: float = 0.0


PROFILES = {
    "perfect": LinkProfile("perfect"),
    # The village link of issue 13: 64 kbit/s up, 128 kbit/s down, 600 ms round trip, 2% of
    # packets lost each way.
    "village-2g-loss": LinkProfile(
        "village-2g-loss", up_bps=64_000, down_bps=128_000, rtt_ms=600.0, loss=0.02
    ),
    # The same with a 20 s outage every 60 s.
    "village-2g-outages": LinkProfile(
        "village-2g-outages",
        up_bps=64_000,
        down_bps=128_000,
        rtt_ms=600.0,
        loss=0.02,
        outage_s=20.0,
        outage_every_s=60.0,
    ),
}


def unavailable() -> str | None:
    """Why a lossy link cannot be made here (None when it can)."""
    if not sys.platform.startswith("linux"):
        return "the lossy link needs Linux (network namespaces and TUN devices)"
    if os.geteuid() != 0:
        return "the lossy link needs root (network namespaces, /dev/net/tun); CI runs as root"
    if not os.path.exists("/dev/net/tun"):
        return "the lossy link needs /dev/net/tun (the tun kernel module)"
    if shutil.which("ip") is None:
        return "the lossy link needs `ip` from iproute2"
    return None


# -- the parent's handle --------------------------------------------------------------------------


class LossyLink:
    """The link, from the outside: start it (a context manager), run servers in its namespace,
    change its profile, read its counters."""

    def __init__(
        self,
        profile: LinkProfile | str = "perfect",
        *,
        seed: int = 1,
        index: int | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.index = index if index is not None else 1 + os.getpid() % 250
        self.name = f"lk{self.index}"
        self.namespace = f"gridroom-{self.name}"
        self.client_ip = f"10.77.{self.index}.1"
        self.server_ip = f"10.77.{self.index}.2"
        self.seed = seed
        self._own_dir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"lossylink-{self.name}-"))
        self.ctl = self.workdir / f"{self.name}.ctl.json"
        self.stats_file = self.workdir / f"{self.name}.stats.json"
        self.proc: subprocess.Popen[bytes] | None = None
        self._initial = profile if isinstance(profile, LinkProfile) else PROFILES[profile]

    def __enter__(self) -> LossyLink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        self.set(self._initial)
        command = [
            sys.executable,
            "-m",
            "tests.support.lossylink",
            "forward",
            "--name",
            self.name,
            "--index",
            str(self.index),
            "--ctl",
            str(self.ctl),
            "--stats",
            str(self.stats_file),
            "--seed",
            str(self.seed),
        ]
        repo = Path(__file__).resolve().parents[2]
        env = {**os.environ, "PYTHONPATH": str(repo)}
        self.proc = subprocess.Popen(
            command, cwd=repo, env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], READY_TIMEOUT_S)
        line = self.proc.stdout.readline() if ready else b""
        if not line.startswith(b"ready"):
            self.stop()
            raise RuntimeError(f"the lossy link did not start: {line!r}")

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(15)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None
        # The forwarder removes it; this is for a forwarder killed before it could.
        subprocess.run(["ip", "netns", "del", self.namespace], capture_output=True, check=False)
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def netns_command(self, command: Sequence[str]) -> list[str]:
        """``command`` run inside the server's namespace (it listens on :attr:`server_ip`)."""
        return ["ip", "netns", "exec", self.namespace, *command]

    def set(self, profile: LinkProfile | str, *, phase_s: float = 0.0) -> None:
        """Switch the link to ``profile`` now; its outage schedule stands ``phase_s`` seconds
        in (0: the first outage starts ``outage_every_s - outage_s`` from now)."""
        prof = profile if isinstance(profile, LinkProfile) else PROFILES[profile]
        since = time.monotonic() - phase_s
        self._write_ctl({"profile": dataclasses.asdict(prof), "since": since})

    def outage(self, seconds: float) -> None:
        """Lose every packet, both ways, for ``seconds`` from now."""
        data = json.loads(self.ctl.read_text())
        data["outage_until"] = time.monotonic() + seconds
        self._write_ctl(data)

    def _write_ctl(self, data: dict[str, Any]) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        tmp = self.ctl.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.ctl)
        # The forwarder polls the file: wait until it has taken the change.
        deadline = time.monotonic() + 2.0
        while self.proc is not None and time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                seen = json.loads(self.stats_file.read_text())
                if seen.get("ctl_seen") == data.get("since") and seen.get(
                    "outage_until"
                ) == data.get("outage_until", 0.0):
                    return
            time.sleep(0.02)

    def stats(self) -> dict[str, Any]:
        """The forwarder's counters (``up`` is client → server)."""
        deadline = time.monotonic() + 2.0
        while True:
            try:
                return dict(json.loads(self.stats_file.read_text()))
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)


# -- the forwarder ---------------------------------------------------------------------------


def _tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def _sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


def _tcp_payload(packet: bytes) -> int:
    """TCP payload bytes of an IPv4 packet (0 for anything else)."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 6:
        return 0
    ihl = (packet[0] & 0x0F) * 4
    total = struct.unpack_from("!H", packet, 2)[0]
    if len(packet) < ihl + 13:
        return 0
    offset = (packet[ihl + 12] >> 4) * 4
    return max(0, total - ihl - offset)


class _Direction:
    def __init__(self, name: str) -> None:
        self.name = name
        self.queue: collections.deque[tuple[float, bytes]] = collections.deque()
        self.busy_until = 0.0
        self.counts = {
            "packets": 0,
            "bytes": 0,
            "tcp_payload": 0,
            "lost": 0,
            "outage_lost": 0,
            "queue_lost": 0,
        }

    def offer(
        self, packet: bytes, now: float, bps: int, delay: float, queue_s: float, lost: str | None
    ) -> None:
        if packet[0] >> 4 != 4:
            return  # IPv6 router solicitations and the like: not part of the experiment
        if lost:
            self.counts[lost] += 1
            return
        start = max(now, self.busy_until)
        if bps and start - now > queue_s:
            self.counts["queue_lost"] += 1
            return
        if bps:
            self.busy_until = start + len(packet) * 8 / bps
        else:
            self.busy_until = start
        self.queue.append((self.busy_until + delay, packet))

    def due(self, now: float, out_fd: int) -> None:
        while self.queue and self.queue[0][0] <= now:
            _, packet = self.queue.popleft()
            try:
                os.write(out_fd, packet)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EINVAL, errno.EIO):
                    raise
                continue
            self.counts["packets"] += 1
            self.counts["bytes"] += len(packet)
            self.counts["tcp_payload"] += _tcp_payload(packet)


def forward(name: str, index: int, ctl: Path, stats: Path, seed: int) -> int:
    """Set up the namespace and the two TUN devices, then forward until SIGTERM."""
    namespace = f"gridroom-{name}"
    client_ip, server_ip = f"10.77.{index}.1", f"10.77.{index}.2"
    subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
    fd_a = _tun(f"{name}a")
    fd_b = _tun(f"{name}b")
    _sh("ip", "netns", "add", namespace)
    try:
        _sh("ip", "link", "set", f"{name}b", "netns", namespace)
        for dev in (f"{name}a",):
            with contextlib.suppress(OSError):
                Path(f"/proc/sys/net/ipv6/conf/{dev}/disable_ipv6").write_text("1")
        _sh("ip", "addr", "add", client_ip, "peer", server_ip, "dev", f"{name}a")
        _sh("ip", "link", "set", f"{name}a", "up")
        inside = ["ip", "netns", "exec", namespace]
        _sh(*inside, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
        _sh(*inside, "ip", "addr", "add", server_ip, "peer", client_ip, "dev", f"{name}b")
        _sh(*inside, "ip", "link", "set", f"{name}b", "up")
        _sh(*inside, "ip", "link", "set", "lo", "up")
        return _loop(fd_a, fd_b, ctl, stats, seed)
    finally:
        os.close(fd_a)
        os.close(fd_b)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def _loop(fd_a: int, fd_b: int, ctl: Path, stats: Path, seed: int) -> int:
    running = [True]

    def stop(*_: object) -> None:
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    rng = random.Random(f"lossylink:{seed}")
    up, down = _Direction("up"), _Direction("down")
    prof = LinkProfile("perfect")
    since = 0.0
    outage_until = 0.0
    ctl_mtime = -1.0
    next_poll = 0.0
    print("ready", flush=True)
    while running[0]:
        now = time.monotonic()
        if now >= next_poll:
            next_poll = now + 0.05
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                mtime = ctl.stat().st_mtime
                if mtime != ctl_mtime:
                    data = json.loads(ctl.read_text())
                    prof = LinkProfile(**data["profile"])
                    since = float(data.get("since", now))
                    outage_until = float(data.get("outage_until", 0.0))
                    ctl_mtime = mtime
            _write_stats(stats, up, down, prof, since, outage_until)
        timeouts = [next_poll - now]
        for d in (up, down):
            if d.queue:
                timeouts.append(d.queue[0][0] - now)
        try:
            ready, _, _ = select.select([fd_a, fd_b], [], [], max(0.0, min(timeouts)))
        except InterruptedError:
            continue
        now = time.monotonic()
        out = now < outage_until
        if prof.outage_every_s > 0 and prof.outage_s > 0 and now >= since:
            phase = (now - since) % prof.outage_every_s
            out = out or phase >= prof.outage_every_s - prof.outage_s
        for fd, direction, bps in ((fd_a, up, prof.up_bps), (fd_b, down, prof.down_bps)):
            if fd not in ready:
                continue
            for _ in range(256):
                try:
                    packet = os.read(fd, 65535)
                except BlockingIOError:
                    break
                lost = "outage_lost" if out else ("lost" if rng.random() < prof.loss else None)
                direction.offer(packet, now, bps, prof.rtt_ms / 2000.0, prof.queue_s, lost)
        up.due(now, fd_b)
        down.due(now, fd_a)
    _write_stats(stats, up, down, prof, since, outage_until)
    return 0


def _write_stats(
    path: Path,
    up: _Direction,
    down: _Direction,
    prof: LinkProfile,
    since: float,
    outage_until: float,
) -> None:
    data = {
        "profile": prof.name,
        "ctl_seen": since,
        "outage_until": outage_until,
        "up": dict(up.counts),
        "down": dict(down.counts),
        "at": time.monotonic(),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.lossylink")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("forward", help="set up the namespace and forward until SIGTERM")
    f.add_argument("--name", default="lk1")
    f.add_argument("--index", type=int, default=1)
    f.add_argument("--ctl", type=Path)
    f.add_argument("--stats", type=Path)
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--profile", choices=sorted(PROFILES), default="perfect")
    args = parser.parse_args(argv)
    if args.ctl is None:
        args.ctl = Path(tempfile.gettempdir()) / f"{args.name}.ctl.json"
        args.ctl.write_text(
            json.dumps({"profile": dataclasses.asdict(PROFILES[args.profile]), "since": 0})
        )
    stats = args.stats or Path(tempfile.gettempdir()) / f"{args.name}.stats.json"
    return forward(args.name, args.index, args.ctl, stats, args.seed)


if __name__ == "__main__":
    sys.exit(main())


@contextlib.contextmanager
def lossy_link(profile: LinkProfile | str = "perfect", **kw: Any) -> Iterator[LossyLink]:
    with LossyLink(profile, **kw) as link:
        yield link
