"""One retry policy, and a deadline per sync: a dead county address is reported offline soon.

Two retry layers (urllib3's and the transport's) used to multiply: one request made 20
connection attempts to a refused port, and a link that accepts and never answers kept the app
busy for minutes before it said "offline". Here every address is real, on 127.0.0.1: a device
is enrolled through a proxy whose port is then closed (a refused port), or taken over by a
listener that counts what reaches it (one that accepts and drops, one that accepts and never
answers, one that never accepts).
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3.util.connection

from sync.client import SyncService
from sync.client.transport import DEADLINE_S
from sync.settings import SETTINGS

from .harness import REPO, CountyProcess, Device, gridroom_command, gridroom_env
from .proxy import TcpProxy

#: A short deadline, so the black-hole tests take seconds (the default is DEADLINE_S).
DEADLINE = 6.0
#: What a shared, slow test machine may add on top of a bound (thread start, a GC pause …).
SLACK = 4.0
#: ``gridroom sync`` is a new Python process: importing everything takes a few seconds more.
STARTUP_SLACK = 20.0


def _dead_device(enrol: Callable[..., Device], county: CountyProcess) -> tuple[Device, int]:
    """A device enrolled (and synced once) through a proxy whose port is then closed."""
    proxy = TcpProxy(county.address).start()
    device = enrol("op", proxy.url)
    port = proxy.port
    proxy.stop()
    return device, port


class Listener:
    """A TCP listener on ``port`` that counts connections: ``drop`` accepts and closes at once
    (a dead service), ``hole`` accepts and never answers, ``deaf`` never accepts."""

    def __init__(self, port: int, mode: str) -> None:
        self.mode = mode
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(0 if mode == "deaf" else 16)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            if self.mode == "deaf":
                time.sleep(0.1)
                continue
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.mode == "drop":
                conn.close()
            else:
                self._held.append(conn)  # never read, never answered

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
        self._sock.close()


@contextlib.contextmanager
def counting_connects(monkeypatch: pytest.MonkeyPatch, port: int) -> Iterator[list[float]]:
    """Every TCP connection attempt urllib3 makes to ``port`` (a pass-through counter around
    its real ``create_connection``: the attempts still go to the real, refused port)."""
    real = urllib3.util.connection.create_connection
    attempts: list[float] = []

    def counted(address: tuple[str, int], *args: Any, **kw: Any) -> socket.socket:
        if address[1] == port:
            attempts.append(time.monotonic())
        return real(address, *args, **kw)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counted)
    yield attempts


def _offline(device: Device) -> bool | None:
    with device.store() as store:
        return SyncService(tokens=device.tokens()).status(store).online


def test_the_deadline_setting_is_in_range() -> None:
    assert 60 <= SETTINGS["sync_deadline_s"].default <= 90
    assert SETTINGS["sync_deadline_s"].default == DEADLINE_S


def test_a_refused_port_gets_one_connection_per_attempt(
    county: CountyProcess, enrol: Callable[..., Device], monkeypatch: pytest.MonkeyPatch
) -> None:
    device, port = _dead_device(enrol, county)
    with counting_connects(monkeypatch, port) as attempts:
        start = time.monotonic()
        report = device.sync()
        took = time.monotonic() - start
    assert report.status == "failed" and report.error_code == "offline", report.to_json()
    # The transport's 5 attempts, each one connection (it was 4 x 5 = 20 with two layers).
    assert len(attempts) == 5, attempts
    assert report.retries == 4
    # Backoff 0.5 s doubling, full jitter: at most 0.5 + 1 + 2 + 4 s of waiting.
    assert took < 7.5 + SLACK
    assert _offline(device) is False
    # The desktop's options: 3 attempts, 3 connections.
    attempts.clear()
    report = device.sync(transport_options={"attempts": 3, "backoff": 0.25})
    assert report.error_code == "offline" and len(attempts) == 3


def test_a_dead_service_behind_a_live_port_gets_one_connection_per_attempt(
    county: CountyProcess, enrol: Callable[..., Device]
) -> None:
    device, port = _dead_device(enrol, county)
    with Listener(port, "drop") as listener:
        report = device.sync()
    assert report.status == "failed" and report.error_code == "offline", report.to_json()
    assert listener.accepted == 5


@pytest.mark.parametrize("mode", ["hole", "deaf"])
def test_a_black_hole_is_reported_offline_within_the_deadline(
    county: CountyProcess, enrol: Callable[..., Device], mode: str
) -> None:
    """A link that accepts and never answers (or never accepts): without a deadline each of 5
    attempts waited out a 60 s read timeout; now the sync says offline within the deadline."""
    device, port = _dead_device(enrol, county)
    with Listener(port, mode) as listener:
        start = time.monotonic()
        report = device.sync(deadline_s=DEADLINE)
        took = time.monotonic() - start
    assert report.status == "failed", report.to_json()
    assert report.error_code in ("timeout", "offline"), report.to_json()
    assert not report.reached_server
    assert f"Gave up after {DEADLINE:g} s" in report.error
    assert DEADLINE - 1 <= took <= DEADLINE + SLACK, took
    assert listener.accepted <= 5
    assert _offline(device) is False


def test_gridroom_sync_says_offline_within_the_deadline_setting(
    county: CountyProcess, enrol: Callable[..., Device], tmp_path: Path
) -> None:
    """``gridroom sync`` as a real process, the deadline from the user's settings file."""
    device, port = _dead_device(enrol, county)
    env = gridroom_env(tmp_path, device.keyring_file)
    config = Path(env["GRIDROOM_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text(
        json.dumps({"sync_deadline_s": int(DEADLINE)}), encoding="utf-8"
    )
    with Listener(port, "hole"):
        start = time.monotonic()
        done = subprocess.run(
            [*gridroom_command(), "sync", "--db", str(device.path)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        took = time.monotonic() - start
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stderr
    summary = json.loads(done.stdout)
    assert summary["error_code"] in ("timeout", "offline"), summary
    assert f"Gave up after {DEADLINE:g} s" in summary["error"]
    assert DEADLINE - 1 <= took <= DEADLINE + STARTUP_SLACK, took
    assert _offline(device) is False
