"""The fault campaign's machinery: a county server process that can be killed and restarted on
its port, devices enrolled through a bad link, ``gridroom sync`` run as a real subprocess,
random field work, and the checks that nothing was lost, duplicated or damaged.

Everything is real: SQLite files, the ``gridroom-county serve`` process, the ``gridroom``
console script, sockets on 127.0.0.1. The only test-only pieces are the keyring file
(:mod:`tests.faults.filekeyring`), the kill-point wrapper (:mod:`tests.faults.killpoint`) and
the proxies in front of the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import queue
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from sync import protocol
from sync.client import SyncReport, SyncService, login
from sync.client.tokens import KeyringTokens
from sync.model.clock import HlcStamp
from sync.model.records import Action, Actor, Role, TaskState
from sync.model.workflow import Refused, allowed_actions
from sync.store import Store, replica
from sync.store import attachments as attachment_files
from sync.store.attachments import add_attachment
from sync.store.errors import StoreError

from .filekeyring import ENV as KEYRING_ENV
from .filekeyring import FileKeyring

REPO = Path(__file__).resolve().parents[2]
COUNTY = "330825"  # 龙游县
TOWNSHIP = "330825102"  # 小南海镇
START_TIMEOUT_S = 90.0
#: Test servers hash with the light Argon2 profile (logins cost milliseconds); the code is this
#: tree's, wherever the package happens to be installed from.
SERVER_ENV = {**os.environ, "GRIDROOM_COUNTY_KDF": "light", "PYTHONPATH": str(REPO)}


def free_port() -> int:
    """A TCP port nobody listens on right now (the county keeps it across restarts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def county_command() -> list[str]:
    script = Path(sys.executable).with_name("gridroom-county")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sync.county"]


def gridroom_command() -> list[str]:
    script = Path(sys.executable).with_name("gridroom")
    return [str(script)] if script.exists() else [sys.executable, "-m", "desktop.cli"]


# -- the county ----------------------------------------------------------------------------------


class CountyProcess:
    """``gridroom-county serve`` on a fixed port of 127.0.0.1, killable and restartable."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        wrap: Callable[[Sequence[str]], list[str]] | None = None,
    ) -> None:
        """``host``/``wrap``: listen elsewhere, the command wrapped (the lossy link's network
        namespace: :meth:`tests.support.lossylink.LossyLink.netns_command`)."""
        self.workdir = workdir
        self.host = host
        self.wrap = wrap
        self.db = workdir / "county.sqlite"
        self.port = port or free_port()
        self.accounts: dict[str, dict[str, Any]] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.kill_at: str | None = None
        self.starts = 0
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def init(self, townships: Sequence[str] = (TOWNSHIP,)) -> None:
        out = subprocess.run(
            [
                *county_command(),
                *("init", "--db", str(self.db), "--county", COUNTY),
                *("--townships", ",".join(townships), "--json"),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
            env=SERVER_ENV,
        )
        self.accounts = {a["login"]: a for a in json.loads(out.stdout)["accounts"]}

    def start(self, kill_at: str | None = None, *, access_log: bool = False) -> None:
        """Start serving (with a kill point armed, when given) and wait until it answers.
        ``access_log``: log every request (:meth:`requests_logged` counts them)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._close_log()
        self._log = (self.workdir / "server.log").open("ab")
        args = ["serve", "--db", str(self.db), "--host", self.host, "--port", str(self.port)]
        if access_log:
            args += ["--access-log", "--log-level", "info"]
        env = dict(SERVER_ENV)
        if kill_at:
            command = [sys.executable, "-m", "tests.faults.killpoint", "county", *args]
            env["GRIDROOM_KILL_AT"] = kill_at
        else:
            command = [*county_command(), *args]
        if self.wrap is not None:
            command = self.wrap(command)
        self.kill_at = kill_at
        self.proc = subprocess.Popen(command, cwd=REPO, stdout=self._log, stderr=self._log, env=env)
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            with (
                contextlib.suppress(requests.RequestException),
                requests.get(self.url + protocol.HEALTH, timeout=5) as r,
            ):
                if r.status_code == 200:
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                code = self.proc.poll()
                self.stop()
                raise RuntimeError(f"the county did not start (exit {code}): {self.log_tail()}")
            time.sleep(0.05)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9, as a power cut or the OOM killer would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(15)
            self.proc = None
        self._close_log()

    def ensure_up(self) -> None:
        """Running, and without a kill point."""
        if self.alive and not self.kill_at:
            return
        self.kill()
        self.start()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_size(self) -> int:
        path = self.workdir / "server.log"
        return path.stat().st_size if path.exists() else 0

    def requests_logged(self, since: int = 0) -> dict[str, int]:
        """Requests the server logged after byte ``since`` of its log, by ``METHOD /path``
        (blob paths folded): the server's own count of what a sync cost."""
        path = self.workdir / "server.log"
        counts: dict[str, int] = {}
        with path.open("rb") as fh:
            fh.seek(since)
            for raw in fh:
                line = raw.decode("utf-8", "replace")
                found = re.search(r'"(GET|POST|PUT) (/v1/[^ ?"]*)', line)
                if found is None:
                    continue
                where = re.sub(r"/v1/blobs/[0-9a-f]{64}", "/v1/blobs/{sha256}", found.group(2))
                key = f"{found.group(1)} {where}"
                counts[key] = counts.get(key, 0) + 1
        return counts

    def log_tail(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(encoding="utf-8", errors="replace")[-3000:] if path.exists() else ""

    def password(self, login_name: str) -> str:
        return str(self.accounts[login_name]["password"])

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read-only look at the county's database (the server may be running)."""
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            conn.execute("BEGIN")
            yield conn
        finally:
            conn.close()

    def integrity(self) -> str:
        with self.read() as conn:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


# -- devices -------------------------------------------------------------------------------------


@dataclass
class Device:
    """A township PC or field laptop: a store file enrolled through ``server_url``."""

    name: str
    login: str
    path: Path
    server_url: str
    keyring_file: Path
    actor_id: str = ""
    scope_keys: tuple[str, ...] = ()
    #: the CA certificate the device trusts for its server (an https:// one)
    ca_file: str | None = None

    def tokens(self) -> KeyringTokens:
        return KeyringTokens(FileKeyring(self.keyring_file))

    def enrol(self, county: CountyProcess) -> None:
        result = login(
            self.server_url,
            self.login,
            county.password(self.login),
            tokens=self.tokens(),
            store_path=self.path,
            device_name=self.name,
            ca_file=self.ca_file,
        )
        self.actor_id = str(result.account["id"])
        self.scope_keys = tuple(sorted(result.scope.get("keys") or ()))

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        store = Store.open(self.path)
        try:
            yield store
        finally:
            store.close()

    def actor(self, store: Store) -> Actor:
        actor = store.account(self.actor_id)
        assert actor is not None, f"{self.name}: reference data not synced yet"
        return actor

    def sync(self, *, verify: bool | None = None, **options: Any) -> SyncReport:
        """One clean sync in this process."""
        with self.store() as store:
            service = SyncService(tokens=self.tokens(), ca_file=self.ca_file, **options)
            return service.sync_once(store, verify=verify)


def gridroom_env(workdir: Path, keyring_file: Path) -> dict[str, str]:
    """The environment ``gridroom sync`` runs in: our keyring file, no user or site config."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": "tests.faults.filekeyring.FileKeyring",
        KEYRING_ENV: str(keyring_file),
        "GRIDROOM_CONFIG_DIR": str(workdir / "config"),
        "GRIDROOM_SITE_CONFIG": str(workdir / "no-site.toml"),
        "XDG_DATA_HOME": str(workdir / "data"),
    }


@dataclass
class SyncRun:
    """What one ``gridroom sync`` subprocess did."""

    exit_code: int
    killed: bool
    summary: dict[str, Any] | None
    stdout: str
    stderr: str
    seconds: float
    #: time.monotonic() when the harness saw the process end
    ended: float = 0.0

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr


class SyncProcess:
    """``gridroom sync --db PATH`` as a subprocess (optionally under a kill point)."""

    def __init__(
        self,
        device: Device,
        env: dict[str, str],
        *,
        kill_at: str | None = None,
        verify: bool = False,
        extra: Sequence[str] = (),
    ) -> None:
        args = ["sync", "--db", str(device.path), *extra] + (["--verify"] if verify else [])
        env = dict(env)
        if kill_at:
            command = [sys.executable, "-m", "tests.faults.killpoint", "gridroom", *args]
            env["GRIDROOM_KILL_AT"] = kill_at
        else:
            command = [*gridroom_command(), *args]
        self.started = time.monotonic()
        self.killed = False
        self.proc = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> bool:
        """kill -9 now; False if it had already finished."""
        if self.proc.poll() is not None:
            return False
        self.proc.send_signal(signal.SIGKILL)
        self.killed = True
        return True

    def wait(self, timeout: float = 180.0) -> SyncRun:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            out, err = self.proc.communicate(timeout=30)
            err += b"\n[harness: the sync did not finish in time and was killed]"
        stdout = out.decode("utf-8", "replace")
        stderr = err.decode("utf-8", "replace")
        summary = None
        if stdout.strip().startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                summary = json.loads(stdout)
        code = self.proc.returncode
        return SyncRun(
            exit_code=code,
            killed=self.killed or code == -signal.SIGKILL,
            summary=summary,
            stdout=stdout,
            stderr=stderr,
            seconds=time.monotonic() - self.started,
            ended=time.monotonic(),
        )


# -- the township relay -------------------------------------------------------------------------

RELAY_WAIT_S = 120.0


class RelayProcess:
    """``gridroom relay`` on a fixed port, killable and restartable."""

    def __init__(self, device: Device, workdir: Path, *, tls: Any = None) -> None:
        self.device = device
        self.workdir = workdir
        self.port = free_port()
        #: a tests.install.tls.Pki: serve https with its server certificate
        self.tls = tls
        self.proc: subprocess.Popen[str] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, kill_at: str | None = None) -> None:
        env = gridroom_env(self.workdir, self.device.keyring_file)
        args = [
            "relay",
            *("--db", str(self.device.path)),
            *("--listen", f"127.0.0.1:{self.port}"),
            *("--interval", "0.5"),
        ]
        if self.tls:
            args += ["--tls-cert", str(self.tls.cert_pem), "--tls-key", str(self.tls.key_pem)]
        if kill_at:
            command = [sys.executable, "-m", "tests.faults.killpoint", "gridroom", *args]
            env["GRIDROOM_KILL_AT"] = kill_at
        else:
            command = [*gridroom_command(), *args]
        self._log = (self.workdir / "relay.log").open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        assert stdout is not None
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=90)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"gridroom relay did not start: {self.log_text()}") from None
        assert re.search(r"serving https?://127\.0\.0\.1:\d+", line), (line, self.log_text())

    def log_text(self) -> str:
        path = self.workdir / "relay.log"
        return path.read_text(encoding="utf-8")[-4000:] if path.exists() else ""

    def wait_dead(self, timeout: float = RELAY_WAIT_S) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

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
        if self._log is not None:
            self._log.close()
            self._log = None

    def health(self) -> dict[str, Any]:
        with requests.get(self.url + "/v1/health", timeout=10) as r:
            return dict(r.json())

    def waiting(self) -> int:
        """Batches the relay holds without the county's answer yet."""
        store = Store.open_read_only(self.device.path)
        try:
            return int(store.read("SELECT count(*) FROM relay_batches WHERE answer IS NULL")[0][0])
        finally:
            store.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)


# -- random field work ---------------------------------------------------------------------------

TITLES = (
    "楼道漏水", "邻里噪音纠纷", "垃圾堆放", "违章搭建", "路灯损坏", "占道经营", "河道电鱼",
    "燃气泄漏隐患", "井盖缺失", "土地承包纠纷", "欠薪投诉", "流浪犬扰民", "消防通道堵塞",
)  # fmt: skip
WORDS = (
    "村民反映", "现场查看", "已电话联系", "当事人", "网格员", "协调处理", "存在安全隐患",
    "要求尽快", "影响出行", "多次反映", "已拍照留存", "待进一步核实", "涉及多户", "夜间",
)  # fmt: skip


def text(rng: random.Random, tag: str, words: int = 6) -> str:
    """Chinese-looking text, unique through ``tag`` (so duplicates can be told apart)."""
    return "，".join(rng.choice(WORDS) for _ in range(words)) + f"（{tag}）"


def photo_bytes(rng: random.Random, nbytes: int) -> bytes:
    """A real PNG of noise (incompressible) of about ``nbytes``."""
    from PIL import Image

    side = max(8, int((nbytes / 3) ** 0.5))
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3)).save(
        out, format="PNG", compress_level=0
    )
    return out.getvalue()


@dataclass
class WorkDone:
    reports: int = 0
    actions: int = 0
    photos: int = 0
    refused: int = 0
    disk_full: int = 0
    by_action: dict[str, int] = field(default_factory=dict)


class FieldWork:
    """Random, legal work on one device: new cases, loop actions, edits, comments, photos."""

    def __init__(self, rng: random.Random, *, max_photo: int = 60_000) -> None:
        self.rng = rng
        self.max_photo = max_photo
        self.serial = 0

    def tag(self, device: Device) -> str:
        self.serial += 1
        return f"{device.name}{self.serial}"

    def do(self, device: Device, store: Store, n: int, *, photos: float = 0.2) -> WorkDone:
        """``n`` random steps on ``device``; a disk-full refusal stops the batch."""
        done = WorkDone()
        actor = device.actor(store)
        for _ in range(n):
            try:
                self._one(device, store, actor, done, photos)
            except Refused:
                done.refused += 1
            except StoreError as exc:
                if "disk" not in str(exc).lower() and "space" not in str(exc).lower():
                    raise
                done.disk_full += 1
                break
        return done

    def _one(
        self, device: Device, store: Store, actor: Actor, done: WorkDone, photos: float
    ) -> None:
        rng = self.rng
        cases = [r[0] for r in store.read("SELECT id FROM cases WHERE title != ''")]
        if not cases or rng.random() < 0.35:
            self._report(device, store, actor)
            done.reports += 1
            return
        case_id = rng.choice(cases)
        if rng.random() < photos and actor.role != Role.DEPARTMENT:
            data = photo_bytes(rng, rng.randrange(4_000, self.max_photo))
            add_attachment(store, case_id, data, f"现场照片{self.tag(device)}.png", actor)
            done.photos += 1
            return
        state = store.case(case_id)
        if state is None:
            return
        options = [
            a
            for a in allowed_actions(state, actor)
            # Not escalation either: a step another device takes on a case before it hears of
            # the escalation is refused by the county by design (the county owns the case
            # then) and waits for a person, which is a workflow outcome, not a sync fault.
            if a not in (Action.SETTLE, Action.MERGE, Action.REJECT, Action.ESCALATE)
        ]
        if not options:
            store.comment(case_id, actor, text(rng, self.tag(device), 3))
            done.actions += 1
            return
        action = rng.choice(options)
        payload = self._payload(device, store, actor, state, action)
        if payload is None:
            return
        store.act(case_id, action, actor, payload)
        done.actions += 1
        done.by_action[action.value] = done.by_action.get(action.value, 0) + 1

    def _grids(self, store: Store, actor: Actor) -> list[str]:
        if actor.role == Role.GRID_WORKER:
            return list(actor.grid_ids)
        return [g.code for g in store.grids()]

    def _report(self, device: Device, store: Store, actor: Actor) -> None:
        rng = self.rng
        tag = self.tag(device)
        categories = [c.code for c in store.taxonomy if c.parent is not None]
        fields = {
            "title": f"{rng.choice(TITLES)}{tag}",
            "description": text(rng, tag, rng.randrange(2, 40)),
            "category": rng.choice(categories),
            "grid_id": rng.choice(self._grids(store, actor)),
            "address": f"{rng.randrange(1, 200)}号",
        }
        if actor.role == Role.GRID_WORKER and rng.random() < 0.3:
            store.report(actor, fields, self_handled_result=text(rng, tag, 3))
        else:
            store.report(actor, fields)

    def _payload(
        self, device: Device, store: Store, actor: Actor, state: Any, action: Action
    ) -> dict[str, Any] | None:
        rng = self.rng
        tag = self.tag(device)
        now = store.now()
        if action in (Action.RETURN, Action.FEEDBACK, Action.REQUEST_EXTENSION):
            mine = {actor.department_code, *actor.grid_ids} - {None}
            tasks = [
                t.assignee
                for t in state.tasks
                if t.state == TaskState.ASSIGNED
                and (actor.role == Role.OPERATOR or t.assignee in mine)
            ]
            if not tasks:
                return None
            task = rng.choice(tasks)
            if action == Action.RETURN:
                return {"task": task, "reason": text(rng, tag, 2)}
            if action == Action.FEEDBACK:
                return {"task": task, "result": text(rng, tag, 4), "photos": []}
            until = (state.handle_due or now) + rng.randrange(1, 10) * 86_400_000
            return {"task": task, "until": until, "reason": text(rng, tag, 2)}
        if action == Action.DISPATCH:
            grids = [g.code for g in store.grids()]
            departments = [d.code for d in store.departments()]
            units = [("grid", g) for g in rng.sample(grids, min(2, len(grids)))]
            units += [("department", d) for d in rng.sample(departments, min(1, len(departments)))]
            chosen = rng.sample(units, rng.randrange(1, len(units) + 1))
            lead = rng.randrange(len(chosen))
            tasks = [
                {"kind": k, "assignee": c, "lead": i == lead} for i, (k, c) in enumerate(chosen)
            ]
            return {"tasks": tasks, "note": text(rng, tag, 2)}
        if action in (Action.VERIFY_FAIL, Action.ESCALATE):
            return {"reason": text(rng, tag, 2)}
        if action == Action.VERIFY_PASS:
            return {"note": text(rng, tag, 2), "method": "call"}
        if action in (
            Action.APPROVE_EXTENSION,
            Action.DENY_EXTENSION,
            Action.APPROVE_PARK,
            Action.DENY_PARK,
        ):
            return {"reason": text(rng, tag, 1)}
        if action == Action.REQUEST_PARK:
            return {"reason": text(rng, tag, 2), "review_on": now + 30 * 86_400_000}
        if action == Action.EVALUATE:
            return {
                "quality": rng.randrange(1, 6),
                "satisfaction": rng.choice(["satisfied", "basic", "dissatisfied"]),
                "note": "",
            }
        if action == Action.COMMENT:
            return {"text": text(rng, tag, 3)}
        if action == Action.URGE:
            return {"note": text(rng, tag, 2)}
        if action == Action.EDIT:
            name = rng.choice(["title", "address", "description"])
            value = {
                "title": f"{rng.choice(TITLES)}{tag}",
                "address": f"{rng.randrange(1, 200)}号{tag}",
                "description": text(rng, tag, 5),
            }[name]
            return {"fields": {name: value}}
        return {}


# -- the checks ----------------------------------------------------------------------------------


def _blob_sha(store: Store, sha: str) -> str:
    """The sha256 of a stored attachment's plaintext (its file may be encrypted)."""
    try:
        with attachment_files.open_blob(store, sha) as blob:
            return blob.sha256()
    except StoreError:  # an encrypted file that does not decrypt: damaged
        return ""


@dataclass
class Findings:
    """What the checks found; empty lists mean: identical, nothing lost, nothing doubled."""

    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    differ: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)

    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.differ or self.stuck or self.damaged)

    def extend(self, other: Findings) -> None:
        for name in ("lost", "duplicated", "differ", "stuck", "damaged"):
            getattr(self, name).extend(getattr(other, name))

    def describe(self) -> str:
        parts = []
        for name in ("lost", "duplicated", "differ", "stuck", "damaged"):
            items = getattr(self, name)
            if items:
                parts.append(f"{name}: " + "; ".join(items[:5]) + (" …" if len(items) > 5 else ""))
        return " | ".join(parts) or "ok"


def _canonical(payload: Any) -> str:
    value = json.loads(payload) if isinstance(payload, str) else payload
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def server_view(county: CountyProcess, keys: Sequence[str]) -> dict[str, Any]:
    """The county's entries and attachments of the cases these scope keys see."""
    marks = ",".join("?" * len(keys))
    with county.read() as conn:
        cases = {
            r[0]
            for r in conn.execute(
                f"SELECT DISTINCT case_id FROM case_keys WHERE key IN ({marks})", list(keys)
            )
        }
        entries: dict[str, tuple[Any, ...]] = {}
        for row in conn.execute(
            "SELECT id, case_id, action, actor_id, role, at, hlc, payload FROM entries"
        ):
            if row[1] in cases:
                entries[row[0]] = (*row[1:7], _canonical(row[7]))
        attachments = {}
        for row in conn.execute(
            "SELECT id, case_id, entry_id, sha256, name, mime, size, created_at FROM attachments"
        ):
            if row[1] in cases:
                attachments[row[0]] = tuple(row[1:])
    return {"cases": cases, "entries": entries, "attachments": attachments}


def device_view(store: Store) -> dict[str, Any]:
    entries = {
        r[0]: (r[1], r[2], r[3], r[4], r[5], r[6], _canonical(r[7]))
        for r in store.read(
            "SELECT e.id, c.id, e.action, e.actor, e.role, e.at, e.hlc, e.payload "
            "FROM case_events e JOIN cases c ON c.rowid = e.case_rowid"
        )
    }
    attachments = {
        r[0]: tuple(r[1:])
        for r in store.read(
            "SELECT id, case_id, entry_id, sha256, name, mime, size, created_at FROM attachments"
        )
    }
    cases = {r[0] for r in store.read("SELECT id FROM cases")}
    return {"cases": cases, "entries": entries, "attachments": attachments}


def check_server(county: CountyProcess, created: dict[str, set[str]]) -> Findings:
    """The county itself: integrity, every change made anywhere present once, blobs whole."""
    out = Findings()
    integrity = county.integrity()
    if integrity != "ok":
        out.damaged.append(f"county database: {integrity}")
    with county.read() as conn:
        entry_ids = {r[0] for r in conn.execute("SELECT id FROM entries")}
        attachment_ids = {r[0] for r in conn.execute("SELECT id FROM attachments")}
        for kind, ids in (("entry", created["entries"]), ("attachment", created["attachments"])):
            held = entry_ids if kind == "entry" else attachment_ids
            out.lost += [f"{kind} {i} made on a device is not at the county" for i in ids - held]
        for ref, n in conn.execute(
            "SELECT ref, count(*) FROM changes WHERE kind = 'entry' "
            "GROUP BY ref HAVING count(*) > 1"
        ):
            out.duplicated.append(f"entry {ref} recorded as a change {n} times")
        for case_id, action, n in conn.execute(
            "SELECT case_id, action, count(*) FROM entries "
            "GROUP BY case_id, action, actor_id, payload HAVING count(*) > 1"
        ):
            out.duplicated.append(f"{n} identical {action} entries on case {case_id}")
        for case_no, n in conn.execute(
            "SELECT case_no, count(*) FROM cases GROUP BY case_no HAVING count(*) > 1"
        ):
            out.duplicated.append(f"case number {case_no} used {n} times")
        for sha, size, received, complete in conn.execute(
            "SELECT sha256, size, received, complete FROM blobs"
        ):
            chunks = conn.execute(
                "SELECT pos, data FROM blob_chunks WHERE sha256 = ? ORDER BY pos", [sha]
            ).fetchall()
            pos = 0
            digest = hashlib.sha256()
            for at, data in chunks:
                if at != pos:
                    out.damaged.append(f"blob {sha[:12]}: chunk at {at}, expected {pos}")
                    break
                pos += len(data)
                digest.update(data)
            if pos != received:
                out.damaged.append(f"blob {sha[:12]}: holds {pos} bytes, says {received}")
            if not complete:
                out.stuck.append(f"blob {sha[:12]} is not complete at the county ({pos}/{size})")
            elif digest.hexdigest() != sha:
                out.damaged.append(f"blob {sha[:12]}: bytes do not match the hash")
        # Every attachment's device ends up holding its file (uploaded, or proved it has it);
        # an attachment left unproven gives nobody its photo.
        for att, sha, device in conn.execute(
            "SELECT id, sha256, device_id FROM attachments WHERE proven = 0"
        ):
            out.stuck.append(f"attachment {att} ({sha[:12]} from {device}) is not proven")
    return out


def check_device(device: Device, county: CountyProcess) -> Findings:
    """One device against the county: the same entries, attachments and files, nothing left
    waiting, the same checksums, an intact store."""
    out = Findings()
    server = server_view(county, device.scope_keys)
    with device.store() as store:
        integrity = store.integrity()
        if integrity != "ok":
            out.damaged.append(f"{device.name}: store integrity {integrity}")
        mine = device_view(store)
        for what in ("entries", "attachments"):
            theirs, ours = server[what], mine[what]
            for i in theirs.keys() - ours.keys():
                out.lost.append(f"{device.name} lacks {what[:-1]} {i}")
            for i in ours.keys() - theirs.keys():
                out.differ.append(f"{device.name} holds {what[:-1]} {i}; the county does not")
            for i in ours.keys() & theirs.keys():
                if ours[i] != theirs[i]:
                    out.differ.append(
                        f"{device.name}: {what[:-1]} {i} differs: {ours[i]} != {theirs[i]}"
                    )
        extra = mine["cases"] - server["cases"]
        if extra:
            out.differ.append(f"{device.name} holds {len(extra)} case(s) out of its scope")
        for sha, name in store.read("SELECT DISTINCT sha256, name FROM attachments"):
            if not attachment_files.blob_exists(store, sha):
                out.lost.append(f"{device.name} lacks the file of {name} ({sha[:12]})")
            elif _blob_sha(store, sha) != sha:
                out.damaged.append(f"{device.name}: the file of {name} is damaged")
        for table, what in (
            ("outbox", "changes waiting to go"),
            ("quarantine", "records in quarantine"),
            ("sync_inflight", "batches in flight"),
            ("sync_blobs", "attachment transfers waiting"),
        ):
            n = int(store.read(f"SELECT count(*) FROM {table}")[0][0])
            if n:
                out.stuck.append(f"{device.name}: {n} {what}")
        for case_id, count in store.read(
            "SELECT c.id, count(*) FROM case_events e JOIN cases c ON c.rowid = e.case_rowid "
            "GROUP BY c.id HAVING sum(e.action IN ('report', 'self_handle')) > 1"
        ):
            out.duplicated.append(f"{device.name}: case {case_id} opened twice ({count} entries)")
        local = replica.checksums(store)
        for (hlc,) in store.read("SELECT hlc FROM case_events"):
            HlcStamp.decode(hlc)  # every stored stamp still parses
    remote = server_checksums(county, device.scope_keys)
    if replica.drifted(local, remote):
        out.differ.append(f"{device.name}: checksums differ in {replica.drifted(local, remote)}")
    return out


def server_checksums(county: CountyProcess, keys: Sequence[str]) -> dict[str, list[int]]:
    """Per village (count, sum of item hashes) of the entries these keys see, as the county's
    drift check computes them."""
    marks = ",".join("?" * len(keys))
    with county.read() as conn:
        rows = conn.execute(
            "SELECT coalesce(c.village_code, ''), count(*), sum(e.h) FROM entries e "
            "JOIN cases c ON c.id = e.case_id WHERE c.id IN "
            f"(SELECT case_id FROM case_keys WHERE key IN ({marks})) "
            "GROUP BY coalesce(c.village_code, '')",
            list(keys),
        ).fetchall()
    return {str(r[0]): [int(r[1]), int(r[2] or 0)] for r in rows}


def made_here(store: Store) -> dict[str, set[str]]:
    """Ids of the entries and attachments this device made itself."""
    return {
        "entries": {r[0] for r in store.read("SELECT id FROM case_events WHERE local = 1")},
        "attachments": {r[0] for r in store.read("SELECT id FROM attachments WHERE local = 1")},
    }
