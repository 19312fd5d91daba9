"""End-to-end fixtures: a real ``gridroom-county serve`` process on 127.0.0.1, real stores.

The server fixture is module-scoped (one process per test module; tests in a module use their
own cases, so they do not interfere) and parametrized over both storage backends: SQLite in a
temp file, and PostgreSQL in a fresh database on the server named by ``GRIDROOM_TEST_PG`` (a DSN
such as ``.ci/postgres.sh start`` prints). Without that variable the PostgreSQL half skips.

Tokens go to an in-memory keyring backend installed with ``keyring.set_keyring``, never to the
machine's keyring.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
import pytest
import requests
from keyring.backend import KeyringBackend

from sync.client import SyncReport, SyncService, login
from sync.client.tokens import KeyringTokens
from sync.model.records import Actor
from sync.store import Store, replica

REPO = Path(__file__).resolve().parents[2]
COUNTY = "330825"  # 龙游县
TOWNSHIP_A = "330825102"  # 小南海镇
TOWNSHIP_B = "330825101"  # 湖镇镇
START_TIMEOUT_S = 60.0


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps secrets in a dict, for tests only."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError(username)
        del self.items[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


#: Test servers hash with the light Argon2 profile: logins cost milliseconds, not half a second
#: (the standard profile is checked in tests/unit/test_county_service.py).
SERVER_ENV = {**os.environ, "GRIDROOM_COUNTY_KDF": "light"}


def county_command() -> list[str]:
    """The installed ``gridroom-county`` script, or the same code through ``python -m``."""
    script = Path(sys.executable).with_name("gridroom-county")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sync.county"]


class CountyServer:
    """A ``gridroom-county serve`` process and the accounts its ``init`` printed."""

    def __init__(
        self,
        db_url: str,
        workdir: Path,
        *,
        backend: str,
        serve_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.db_url = db_url
        self.workdir = workdir
        self.backend = backend
        #: Extra ``gridroom-county serve`` options, and the environment of every command.
        self.serve_args = tuple(serve_args)
        self.env = env if env is not None else SERVER_ENV
        self.accounts: dict[str, dict[str, Any]] = {}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self._log: Any = None

    def init(self, townships: tuple[str, ...] = (TOWNSHIP_A, TOWNSHIP_B)) -> None:
        out = subprocess.run(
            [
                *county_command(),
                "init",
                "--db",
                self.db_url,
                "--county",
                COUNTY,
                "--townships",
                ",".join(townships),
                "--json",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            env=self.env,
        )
        self.accounts = {a["login"]: a for a in json.loads(out.stdout)["accounts"]}

    def start(self) -> None:
        self._log = (self.workdir / "server.log").open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            [
                *county_command(),
                "serve",
                "--db",
                self.db_url,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                *self.serve_args,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=self.env,
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        assert stdout is not None
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"gridroom-county serve did not start: {self.log_text()}") from None
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if not found:
            self.stop()
            raise RuntimeError(f"unexpected first line {line!r}: {self.log_text()}")
        self.url = found.group(0)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with requests.get(self.url + "/v1/health", timeout=5) as r:
                    if r.status_code == 200:
                        return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"the county server is not ready: {self.log_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=15)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(encoding="utf-8")[-4000:] if path.exists() else ""

    def admin(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``gridroom-county user …`` against this server's database (as county IT would)."""
        return subprocess.run(
            [*county_command(), "user", *args, "--db", self.db_url],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            input=stdin,
            env=self.env,
        )

    def account(self, login_name: str) -> dict[str, Any]:
        return self.accounts[login_name]

    def password(self, login_name: str) -> str:
        return str(self.accounts[login_name]["password"])


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server, dropped afterwards."""
    import psycopg

    base = os.environ["GRIDROOM_TEST_PG"]
    name = "gr_" + secrets.token_hex(6)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield urllib.parse.urlsplit(base)._replace(path="/" + name).geturl()
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@contextlib.contextmanager
def running_county(backend: str, workdir: Path, **options: Any) -> Iterator[CountyServer]:
    """A county server on ``backend``; ``options``: :class:`CountyServer`'s ``serve_args`` and
    ``env``."""
    if backend == "postgres":
        if not os.environ.get("GRIDROOM_TEST_PG"):
            pytest.skip(
                "PostgreSQL tests need GRIDROOM_TEST_PG, a DSN of a throwaway server "
                "(export GRIDROOM_TEST_PG=$(.ci/postgres.sh start))"
            )
        with postgres_database() as url:
            server = CountyServer(url, workdir, backend=backend, **options)
            server.init()
            server.start()
            try:
                yield server
            finally:
                server.stop()
    else:
        server = CountyServer(str(workdir / "county.sqlite"), workdir, backend=backend, **options)
        server.init()
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def county(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CountyServer]:
    """One real county server per test module and storage backend."""
    with running_county(request.param, tmp_path_factory.mktemp("county")) as server:
        yield server


class Device:
    """A township PC or field laptop: its own store, enrolled by signing in, synced for real."""

    def __init__(
        self,
        server: CountyServer,
        login_name: str,
        path: Path,
        *,
        clock: Callable[[], int] | None = None,
        sync: bool = True,
        **service_options: Any,
    ) -> None:
        self.server = server
        self.login = login_name
        self.path = path
        self.tokens = KeyringTokens()
        self.result = login(
            server.url,
            login_name,
            server.password(login_name),
            tokens=self.tokens,
            store_path=path,
        )
        self.store = Store.open(path, clock=clock) if clock else Store.open(path)
        self.service = SyncService(tokens=self.tokens, **service_options)
        if sync:
            report = self.sync()
            assert report.status == "ok", report.to_json()

    @property
    def actor(self) -> Actor:
        account = self.store.account(self.server.account(self.login)["id"])
        assert account is not None, "reference data not synced yet"
        return account

    @property
    def token(self) -> str:
        server = replica.state(self.store).get("server_url") or self.server.url
        token = self.tokens.get(server, self.store.device_id)
        assert token is not None
        return token

    def sync(self, **kw: Any) -> SyncReport:
        return self.service.sync_once(self.store, **kw)

    def reopen(self, clock: Callable[[], int] | None = None) -> None:
        self.store.close()
        self.store = Store.open(self.path, clock=clock) if clock else Store.open(self.path)

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def devices(
    county: CountyServer, memory_keyring: MemoryKeyring, tmp_path: Path
) -> Iterator[Callable[..., Device]]:
    """Factory: ``devices("330825102-op")`` enrols a new device and syncs it once."""
    made: list[Device] = []

    def make(login_name: str, **kw: Any) -> Device:
        device = Device(county, login_name, tmp_path / f"device{len(made)}.sqlite", **kw)
        made.append(device)
        return device

    yield make
    for d in made:
        d.close()


def grid_of(device: Device, index: int = 0) -> str:
    """A grid code of the device's township (from the reference data it synced)."""
    grids = device.store.grids()
    assert grids, "no grids synced"
    return grids[index].code


def report_case(device: Device, title: str = "楼道漏水", **fields: Any) -> str:
    """File a case on ``device`` and return its id."""
    values = {"title": title, "category": "0604", "grid_id": grid_of(device), **fields}
    return device.store.report(device.actor, values).case_id


def photo(nbytes: int, seed: int = 0) -> bytes:
    """A real image (noise PNG, incompressible) of about ``nbytes``."""
    import io
    import random

    from PIL import Image

    side = max(8, int((nbytes / 3) ** 0.5))
    noise = random.Random(seed).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), noise).save(out, format="PNG", compress_level=0)
    return out.getvalue()


def attach(device: Device, case_id: str, data: bytes, name: str = "现场照片.png") -> str:
    """Attach a photo through the store's attachment command; returns its sha256."""
    from sync.store.attachments import add_attachment

    return add_attachment(device.store, case_id, data, name, device.actor).sha256


def api(
    server: CountyServer, method: str, path: str, token: str | None = None, **kw: Any
) -> requests.Response:
    """A hand-crafted HTTP call (what a forged client would send)."""
    headers = dict(kw.pop("headers", {}))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, server.url + path, headers=headers, timeout=30, **kw)
