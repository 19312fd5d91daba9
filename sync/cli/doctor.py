"""``gridroom doctor``: what this PC is configured to do, and whether it can.

Prints the effective configuration with the origin of every value (default, IT's site config,
the user's settings), then checks, in plain words:

* the county **server** — name resolves, port answers, TLS verifies with the configured CA, the
  health endpoint answers as a Gridroom county platform (a web page instead is named for what it
  usually is: a captive portal or proxy login), protocol version and clock offset;
* the **certificate** in ``ca_file`` — readable PEM, a CA, not expired or about to;
* the **keyring** — which backend holds tokens and store keys, and that it is not a plaintext one;
* the **store** — opens read-only, ``quick_check``, schema version, size, waiting changes;
* the SQLite **engine** — sqlcipher3 and SQLite versions, FTS5, an encrypted round trip;
* **disk** space where the data lives.

``gridroom doctor --bundle OUT.zip`` writes the same report plus logs, redacted settings and
store statistics into one file for IT — never the store itself, tokens or personal data.

Diagnostics never change anything: the store is opened read-only (``mode=ro``), not through
:class:`~sync.store.Store`, whose ``open`` would apply pending migrations. The checks here are
also used by the desktop's ``--self-test`` (``desktop.selftest``).

Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import platform
import re
import shutil
import socket
import ssl
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from ..settings import Settings, user_data_dir

NAME = "doctor"
HELP = "Check this PC: configuration and where it came from, server, certificate, keyring, store."

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
_MARK = {OK: "[ OK ]", WARN: "[WARN]", FAIL: "[FAIL]", INFO: "[INFO]"}
#: Certificates expiring within this many days are a warning.
EXPIRY_WARN_DAYS = 30
#: A device clock this far from the server's is a warning (deadlines and ordering suffer).
CLOCK_WARN_MS = 5 * 60 * 1000
SQLITE_HEADER = b"SQLite format 3\x00"
#: Settings whose values are personal or secret and never leave the PC in a bundle.
REDACTED_SETTINGS = frozenset({"account", "saved_filters"})
#: Cap on each log file copied into a bundle (the newest end is kept).
LOG_TAIL_BYTES = 2 * 1024 * 1024


@dataclass
class Check:
    """One finding: ``status`` is ok, warn, fail or info; ``summary`` is one plain sentence."""

    name: str
    status: str
    summary: str
    details: list[str] = field(default_factory=list)


# -- small helpers ------------------------------------------------------------------------------


def app_version() -> str:
    """Gridroom's version: the installed distribution's, or the bundle's VERSION file."""
    from importlib import metadata

    try:
        return metadata.version("gridroom")
    except metadata.PackageNotFoundError:
        pass
    try:
        from gridroom_resources import path as resource_path

        return resource_path("VERSION").read_text(encoding="utf-8").strip()
    except (ImportError, OSError):
        return "unknown"


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def data_dir(settings: Settings) -> Path:
    """Where stores live: the ``data_dir`` setting, else the user's data folder."""
    configured = settings.get("data_dir")
    return Path(configured) if configured else user_data_dir()


def log_dirs(settings: Settings) -> list[Path]:
    """Folders whose ``*.log*`` files a diagnostics bundle collects."""
    from ..logs import log_dir

    # Where this user's Gridroom logs (GRIDROOM_LOG_DIR, else the data folder's "logs"), and a
    # "logs" folder beside the stores when IT moved them (data_dir).
    dirs = [log_dir(), user_data_dir() / "logs", data_dir(settings) / "logs"]
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


# -- environment and configuration --------------------------------------------------------------


def environment() -> dict[str, str]:
    """Facts about this machine and build, for the report header."""
    libc, libc_version = platform.libc_ver()
    frozen = getattr(sys, "frozen", False)
    facts = {
        "gridroom": app_version(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "machine": platform.machine(),
        "build": f"bundle {Path(sys.executable).parent}" if frozen else f"source {sys.prefix}",
    }
    if libc:
        facts["libc"] = f"{libc} {libc_version}"
    return facts


def configuration(settings: Settings) -> dict[str, Any]:
    """The effective settings with origins, and where the two files are."""
    return {
        "site_config": str(settings.site_path),
        "site_config_exists": settings.site_path.exists(),
        "user_settings": str(settings.user_path),
        "locked": sorted(settings.locked),
        "values": [
            {"name": name, "value": value, "origin": origin}
            for name, value, origin in settings.report()
        ],
        "problems": list(settings.problems),
    }


def check_settings(settings: Settings) -> Check:
    """Problems reading the site config or user settings (bad TOML, bad values, typos)."""
    if settings.problems:
        return Check(
            "settings",
            FAIL,
            "Some settings were ignored; fix the file named below.",
            list(settings.problems),
        )
    configured = settings.get("data_dir")
    if configured and not Path(configured).is_absolute():
        return Check(
            "settings",
            WARN,
            f"data_dir {configured!r} is a relative path: it depends on where Gridroom is "
            f"started from ({settings.origin('data_dir')}). Use an absolute path.",
        )
    where = "site config present" if settings.site_path.exists() else "no site config"
    return Check("settings", OK, f"Settings read cleanly ({where}).")


# -- certificate --------------------------------------------------------------------------------


def _cert_days_left(not_after: str, now: float | None = None) -> float:
    return (ssl.cert_time_to_seconds(not_after) - (now or time.time())) / 86400


def _name(rdns: Any) -> str:
    """An X.509 name as ssl decodes it (tuples of (key, value) pairs) → ``CN=…, O=…``."""
    parts = [f"{k}={v}" for rdn in rdns for k, v in rdn]
    return ", ".join(parts) or "(empty)"


def check_certificate(ca_file: str, *, now: float | None = None) -> Check:
    """The configured CA file: present, PEM, a CA, within its validity period."""
    if not ca_file:
        return Check(
            "certificate", INFO, "No ca_file configured: the system's trusted CAs are used."
        )
    path = Path(ca_file)
    if not path.is_absolute():
        return Check("certificate", FAIL, f"ca_file must be an absolute path, not {ca_file!r}.")
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return Check("certificate", FAIL, f"The CA file {path} does not exist.")
    except OSError as exc:
        return Check("certificate", FAIL, f"The CA file {path} cannot be read: {exc.strerror}.")
    if b"-----BEGIN CERTIFICATE-----" not in text:
        hint = (
            "It looks like a binary (DER) certificate: convert it with "
            "`openssl x509 -inform der -in ca.cer -out ca.pem`."
            if text[:1] == b"\x30"
            else "It holds no '-----BEGIN CERTIFICATE-----' block."
        )
        return Check("certificate", FAIL, f"{path} is not a PEM certificate. {hint}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.load_verify_locations(cafile=str(path))
    except ssl.SSLError as exc:
        return Check("certificate", FAIL, f"{path} cannot be loaded as a certificate: {exc}.")
    stats = ctx.cert_store_stats()
    cas = ctx.get_ca_certs()
    details: list[str] = []
    status, summary = OK, ""
    if not cas:
        return Check(
            "certificate",
            WARN,
            f"{path} holds {stats.get('x509', 0)} certificate(s) but none is a CA: it can only "
            "vouch for the one server it belongs to. Ask for the county's CA certificate.",
        )
    soonest: float | None = None
    for cert in cas:
        subject = _name(cert.get("subject", ()))
        left = _cert_days_left(str(cert["notAfter"]), now)
        details.append(f"{subject}: valid until {cert['notAfter']} ({left:.0f} days left)")
        soonest = left if soonest is None else min(soonest, left)
        if left < 0:
            status = FAIL
            summary = f"The CA certificate {subject} expired on {cert['notAfter']}."
        elif left < EXPIRY_WARN_DAYS and status == OK:
            status = WARN
            summary = f"The CA certificate {subject} expires in {left:.0f} days."
        not_before = ssl.cert_time_to_seconds(str(cert["notBefore"]))
        if not_before > (now or time.time()) and status != FAIL:
            status = FAIL
            summary = (
                f"The CA certificate {subject} is not valid before {cert['notBefore']}: "
                "is this PC's clock wrong?"
            )
    if status == OK:
        summary = (
            f"{path}: {len(cas)} CA certificate(s), {soonest:.0f} days until the first expires."
        )
    return Check("certificate", status, summary, details)


# -- server -------------------------------------------------------------------------------------


def _health_path() -> str:
    from .. import protocol

    return protocol.HEALTH


def _tls_probe(host: str, port: int, ca_file: str, timeout: float) -> Check:
    """Connect and verify TLS ourselves, to name the exact problem (requests only says 'SSL')."""
    ctx = ssl.create_default_context(cafile=ca_file or None)
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as sock,
            ctx.wrap_socket(sock, server_hostname=host) as tls,
        ):
            cert = tls.getpeercert() or {}
            version = tls.version()
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or str(exc)
        if ca_file:
            advice = (
                f"The server's certificate is not signed by the configured CA ({ca_file}), or "
                "the network intercepts HTTPS (a captive portal or a filtering proxy)."
            )
        else:
            advice = (
                "This PC does not trust the server's certificate. If the county uses its own CA, "
                "set ca_file in the site config; otherwise the network may intercept HTTPS (a "
                "captive portal or a filtering proxy)."
            )
        if "expired" in reason:
            advice = "The server's certificate has expired (or this PC's clock is far ahead)."
        elif "hostname" in reason.lower() or "IP address mismatch" in reason:
            advice = f"The certificate is not for {host}: check server_url."
        return Check("tls", FAIL, f"TLS verification failed: {reason}. {advice}")
    except ssl.SSLError as exc:
        text = str(exc)
        if "WRONG_VERSION_NUMBER" in text or "record layer failure" in text:
            return Check(
                "tls",
                FAIL,
                f"{host}:{port} does not speak TLS: is server_url http:// rather than https://, "
                "or is the port wrong?",
            )
        return Check("tls", FAIL, f"The TLS handshake with {host}:{port} failed: {exc}.")
    except ConnectionRefusedError:
        return Check("tls", FAIL, f"Nothing listens on {host}:{port} (connection refused).")
    except TimeoutError:
        return Check(
            "tls",
            FAIL,
            f"{host}:{port} did not answer within {timeout:.0f} s (firewall or no route).",
        )
    except OSError as exc:
        return Check("tls", FAIL, f"Cannot connect to {host}:{port}: {exc.strerror or exc}.")
    subject = _name(cert.get("subject", ()))
    details = [f"{version}; certificate {subject}"]
    not_after = cert.get("notAfter")
    if isinstance(not_after, str):
        left = _cert_days_left(not_after)
        details.append(f"valid until {not_after} ({left:.0f} days left)")
        if left < EXPIRY_WARN_DAYS:
            return Check(
                "tls", WARN, f"The server's certificate expires in {left:.0f} days.", details
            )
    return Check("tls", OK, f"TLS verified ({version}).", details)


def _looks_like_html(content_type: str, body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html"))


def _html_title(body: bytes) -> str:
    m = re.search(rb"<title[^>]*>(.*?)</title>", body[:8192], re.I | re.S)
    if not m:
        return ""
    raw = m.group(1).strip()
    for enc in ("utf-8", "gb18030"):
        with contextlib.suppress(UnicodeDecodeError):
            return " ".join(raw.decode(enc).split())[:80]
    return ""


def check_server(
    url: str,
    ca_file: str = "",
    *,
    timeout: float = 10.0,
    now_ms: Callable[[], int] | None = None,
) -> list[Check]:
    """Reach the county platform: DNS, TCP, TLS with the configured CA, its health endpoint."""
    import requests

    if not url:
        return [
            Check(
                "server",
                WARN,
                "No server_url is configured: this PC works offline only until IT sets one.",
            )
        ]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [Check("server", FAIL, f"server_url {url!r} is not an http(s) URL.")]
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    checks: list[Check] = []
    if parts.scheme == "http":
        checks.append(
            Check(
                "tls",
                WARN,
                f"{url} is not HTTPS: sign-in tokens would cross the network "
                "in clear. Ask for an https:// address.",
            )
        )
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        checks.append(
            Check(
                "server",
                FAIL,
                f"The name {host} does not resolve ({exc.strerror}): check "
                "server_url, the network cable and the DNS server.",
            )
        )
        return checks
    proxies = requests.utils.get_environ_proxies(url)
    if parts.scheme == "https":
        if proxies:
            checks.append(
                Check(
                    "tls",
                    INFO,
                    f"Through the proxy {proxies.get('https') or proxies.get('all')}"
                    "; TLS is checked by the request below.",
                )
            )
        else:
            tls = _tls_probe(host, port, ca_file, timeout)
            checks.append(tls)
            if tls.status == FAIL:
                return checks
    health = urljoin(url.rstrip("/") + "/", _health_path().lstrip("/"))
    started = time.monotonic()
    try:
        # verify= per request: a session-wide setting loses to REQUESTS_CA_BUNDLE (STYLE.md).
        response = requests.get(
            health,
            timeout=timeout,
            verify=ca_file or True,
            allow_redirects=False,
            headers={"Accept": "application/json"},
        )
    except requests.exceptions.SSLError as exc:
        checks.append(Check("server", FAIL, f"TLS failed for {health}: {exc}."))
        return checks
    except requests.exceptions.Timeout:
        checks.append(Check("server", FAIL, f"{health} did not answer within {timeout:.0f} s."))
        return checks
    except requests.exceptions.RequestException as exc:
        checks.append(Check("server", FAIL, f"Cannot reach {health}: {exc}."))
        return checks
    ms = (time.monotonic() - started) * 1000
    with response:
        body = response.content[:65536]
        content_type = response.headers.get("Content-Type", "")
        location = response.headers.get("Location", "")
        status_code = response.status_code
    if 300 <= status_code < 400:
        target = urlsplit(urljoin(health, location)).hostname
        what = (
            "a captive portal or a proxy login page"
            if target and target != host
            else "a redirect the Gridroom protocol never uses"
        )
        checks.append(
            Check(
                "server",
                FAIL,
                f"The network answered with a redirect to {location or '?'} — "
                f"{what}. Sign in to the network in a browser, or ask IT.",
            )
        )
        return checks
    if _looks_like_html(content_type, body):
        title = _html_title(body)
        checks.append(
            Check(
                "server",
                FAIL,
                "The network answered with a web page instead of the Gridroom server"
                + (f" ({title!r})" if title else "")
                + ": usually a captive portal or proxy login. Sign in to the network in a "
                "browser, or ask IT.",
            )
        )
        return checks
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if status_code >= 500:
        checks.append(
            Check(
                "server",
                FAIL,
                f"The server answered HTTP {status_code}: it is up "
                "but failing. Tell the county platform's operators.",
            )
        )
        return checks
    if status_code != 200 or not isinstance(data, dict) or data.get("status") != "ok":
        checks.append(
            Check(
                "server",
                FAIL,
                f"{host} answered HTTP {status_code} at {_health_path()}, but "
                "not as a Gridroom county platform: check server_url.",
            )
        )
        return checks
    from .. import protocol

    details = [f"county {data.get('county', '?')}, server {data.get('server_version', '?')}"]
    status, summary = OK, f"The county platform answered in {ms:.0f} ms."
    offered = data.get("protocol") or []
    if isinstance(offered, list) and protocol.PROTOCOL_VERSION not in offered:
        status = FAIL
        summary = (
            f"The server speaks protocol {offered}, this Gridroom speaks "
            f"{protocol.PROTOCOL_VERSION}: update Gridroom (or the server)."
        )
    server_time = data.get("server_time")
    if isinstance(server_time, int) and status == OK:
        local = (now_ms or (lambda: int(time.time() * 1000)))()
        offset = local - server_time
        details.append(f"this PC's clock is {offset / 1000:+.0f} s from the server's")
        if abs(offset) > CLOCK_WARN_MS:
            status = WARN
            summary = (
                f"The server answered, but this PC's clock is {abs(offset) / 60000:.0f} minutes "
                f"{'ahead' if offset > 0 else 'behind'}: set the time (deadlines use it)."
            )
    checks.append(Check("server", status, summary, details))
    return checks


# -- keyring ------------------------------------------------------------------------------------


def keyring_backends() -> list[str]:
    """The active keyring backend(s), as ``module.Class`` names."""
    import keyring
    from keyring.backends import chainer

    active = keyring.get_keyring()
    found = active.backends if isinstance(active, chainer.ChainerBackend) else [active]
    return [f"{type(b).__module__}.{type(b).__name__}" for b in found]


def _is_plaintext(backend: str) -> bool:
    # keyrings.alt's file and registry backends keep secrets readable on disk; "null" and "fail"
    # keep nothing at all (handled separately).
    return backend.startswith("keyrings.alt") or "plaintext" in backend.lower()


def check_keyring(require_encryption: bool = False) -> Check:
    """Which keyring holds the sign-in token and the store key; plaintext ones fail."""
    try:
        names = keyring_backends()
    except Exception as exc:  # a broken keyring install is a finding, not a crash
        return Check("keyring", FAIL, f"The keyring cannot be loaded: {exc}.")
    plain = [n for n in names if _is_plaintext(n)]
    if plain:
        return Check(
            "keyring",
            FAIL,
            f"The keyring backend {plain[0]} stores secrets in plain text. Remove the "
            "keyrings.alt package (or the PYTHON_KEYRING_BACKEND setting that selects it).",
            names,
        )
    usable = [
        n for n in names if not n.startswith(("keyring.backends.fail", "keyring.backends.null"))
    ]
    if not usable:
        status = FAIL if require_encryption else WARN
        return Check(
            "keyring",
            status,
            "No keyring is available (no Secret Service/KWallet session, or none unlocked): "
            "Gridroom cannot remember the sign-in or an encrypted store's key"
            + (", and the site policy requires encryption." if require_encryption else "."),
            names,
        )
    return Check("keyring", OK, f"Secrets are kept by {usable[0]}.", names)


# -- SQLite engine ------------------------------------------------------------------------------


def check_engine() -> Check:
    """sqlcipher3 and its SQLite: versions, FTS5, R*Tree, an encrypted write/read round trip."""
    try:
        import sqlcipher3
    except ImportError as exc:
        return Check("engine", FAIL, f"sqlcipher3 is missing from this build: {exc}.")
    details: list[str] = []
    conn = sqlcipher3.connect(":memory:")
    try:
        sqlite_version = conn.execute("SELECT sqlite_version()").fetchone()[0]
        row = conn.execute("PRAGMA cipher_version").fetchone()
        cipher = row[0] if row else ""
        details.append(f"SQLite {sqlite_version}, SQLCipher {cipher or 'none'}")
        problems: list[str] = []
        try:
            conn.execute("CREATE VIRTUAL TABLE f USING fts5(body)")
            conn.execute("INSERT INTO f VALUES ('网格 漏水')")
            if conn.execute("SELECT count(*) FROM f WHERE f MATCH '漏水'").fetchone()[0] != 1:
                problems.append("FTS5 does not find what it indexed")
        except sqlcipher3.Error as exc:
            problems.append(f"no FTS5 ({exc})")
        try:
            conn.execute("CREATE VIRTUAL TABLE r USING rtree(id, x0, x1, y0, y1)")
        except sqlcipher3.Error as exc:
            problems.append(f"no R*Tree ({exc})")
    finally:
        conn.close()
    if not cipher:
        problems.append("the SQLite inside sqlcipher3 has no encryption (PRAGMA cipher_version)")
    else:
        problems.extend(_keyed_round_trip(sqlcipher3, details))
    if problems:
        return Check(
            "engine",
            FAIL,
            "The database engine is incomplete: " + "; ".join(problems) + ".",
            details,
        )
    return Check(
        "engine", OK, f"SQLite {sqlite_version} with SQLCipher {cipher}, FTS5 and R*Tree.", details
    )


def _keyed_round_trip(driver: Any, details: list[str]) -> list[str]:
    """Write with a key, check the file is unreadable on disk and without the key, read back."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gridroom-engine-") as tmp:
        path = str(Path(tmp) / "keyed.db")
        conn = driver.connect(path)
        try:
            conn.execute("PRAGMA key = 'self-test key 网格'")
            conn.execute("CREATE TABLE t (v TEXT)")
            conn.execute("INSERT INTO t VALUES ('东华街道')")
            conn.commit()
        finally:
            conn.close()
        with open(path, "rb") as fh:
            on_disk = fh.read()
        if on_disk.startswith(SQLITE_HEADER) or "东华街道".encode() in on_disk:
            problems.append("a keyed database is readable on disk (not encrypted)")
        conn = driver.connect(path)
        try:
            conn.execute("PRAGMA key = 'self-test key 网格'")
            value = conn.execute("SELECT v FROM t").fetchone()[0]
            if value != "东华街道":
                problems.append("an encrypted value did not read back")
        finally:
            conn.close()
        conn = driver.connect(path)
        try:
            # SQLCipher logs a failed HMAC to stderr; an expected failure is not news.
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute("PRAGMA key = 'a wrong key'")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            problems.append("a wrong key opened the encrypted database")
        except driver.DatabaseError:
            details.append(
                "encrypted round trip: written, unreadable on disk, read back, wrong key refused"
            )
        finally:
            conn.close()
    return problems


# -- store --------------------------------------------------------------------------------------


def store_candidates(settings: Settings) -> list[Path]:
    """The enrolled township's store first, then any other store files in the data folder."""
    folder = data_dir(settings)
    found: list[Path] = []
    township = settings.get("township")
    if township:
        found.append(folder / f"{township}.sqlite")
    if folder.is_dir():
        for p in sorted(folder.glob("*.sqlite")) + sorted(folder.glob("*.db")):
            if p not in found:
                found.append(p)
    return found


#: Sync state a report shows (the sync page's status line); the account's login and name stay.
SYNC_STATE_SHOWN = (
    "server_url",
    "account_role",
    "township",
    "cursor",
    "reference_version",
    "last_attempt",
    "last_success",
    "last_error",
    "last_error_code",
    "last_verify",
    "online",
)
#: Sync runs a report lists, newest first (the store keeps the last 200).
SYNC_HISTORY_SHOWN = 50


def _when(millis: Any) -> str:
    try:
        return dt.datetime.fromtimestamp(int(millis) / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError):
        return str(millis)


def sync_history(conn: Any, limit: int = SYNC_HISTORY_SHOWN) -> list[dict[str, Any]]:
    """The store's last sync runs (what the 同步 page's history lists), newest first."""
    rows = conn.execute(
        "SELECT started_at, finished_at, status, summary FROM sync_history "
        "ORDER BY id DESC LIMIT ?",
        [limit],
    ).fetchall()
    runs = []
    for started, finished, status, summary in rows:
        try:
            parsed = json.loads(summary)
        except (TypeError, ValueError):
            parsed = {"unreadable": str(summary)[:200]}
        runs.append(
            {
                "started_utc": _when(started),
                "seconds": round((int(finished) - int(started)) / 1000, 1),
                "status": status,
                "summary": parsed,
            }
        )
    return runs


def inspect_store(path: Path) -> dict[str, Any]:
    """Read-only facts about a store file: never migrates, never writes.

    Returns ``{"encrypted": True}`` for a file whose header is not SQLite's (an encrypted store;
    the doctor does not hold its key). Raises a :class:`~sync.store.errors.StoreError` for a
    file that cannot be read.
    """
    import sqlcipher3

    from ..store import health, schema
    from ..store.errors import StoreError, classify

    info: dict[str, Any] = {"path": str(path)}
    sizes = {s: Path(f"{path}{s}") for s in ("", "-wal", "-shm")}
    info["bytes"] = sum(p.stat().st_size for p in sizes.values() if p.exists())
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    key: bytes | None = None
    info["encrypted"] = header != SQLITE_HEADER
    if info["encrypted"]:
        from ..store import keys

        # Read with the key where it is at hand (the keyring, or unlocked in this process);
        # a key the password protects is not asked for: the store is described, not read.
        try:
            key = keys.key_for(path)
        except StoreError as exc:
            info["locked"] = str(exc)
            return info
        if key is None:
            return info
    from ..store.engine import connect_read_only

    # mode=ro, or immutable where the folder cannot be written (the -shm cannot be made).
    conn = connect_read_only(path, key=key)
    try:
        found = health.problems(conn)
        info["quick_check"] = found[0] if found else "ok"  # the name older reports used
        info["integrity"] = found or "ok"
        info["schema_version"] = int(conn.execute("PRAGMA user_version").fetchone()[0])
        info["schema_known"] = schema.SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" in tables:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            info["scope"] = meta.get("scope")
            info["device_code"] = meta.get("device_code")
            info["synthetic"] = meta.get("synthetic") == "1"
        if "sync_state" in tables:
            state = dict(conn.execute("SELECT key, value FROM sync_state").fetchall())
            info["sync_state"] = {k: v for k, v in state.items() if k in SYNC_STATE_SHOWN}
        if "sync_history" in tables:
            info["sync_history"] = sync_history(conn)
        counts = {}
        for table in ("cases", "case_events", "grids", "attachments", "outbox"):
            if table in tables:
                counts[table] = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        info["counts"] = counts
    except sqlcipher3.Error as exc:
        raise classify(exc, path) or StoreError(f"{path} cannot be read: {exc}", path=path) from exc
    finally:
        conn.close()
    return info


def check_store(
    path: Path | None, *, require_encryption: bool = False
) -> tuple[Check, dict[str, Any]]:
    """One store: opens read-only, integrity, schema version, size, changes waiting to sync."""
    from ..store.errors import StoreError

    if path is None:
        return Check("store", INFO, "No store on this PC yet (not enrolled, no demo)."), {}
    if not path.exists():
        return Check("store", WARN, f"The enrolled store {path} does not exist yet."), {}
    try:
        info = inspect_store(path)
    except (StoreError, OSError) as exc:
        return Check("store", FAIL, str(exc)), {"path": str(path)}
    size = _human_bytes(info["bytes"])
    where = ""
    if info["encrypted"]:
        from ..store import keys

        where = keys.describe(path)  # e.g. "encrypted; key in the OS keyring (…)"
        if "integrity" not in info:  # not read: its key is not at hand here
            return Check("store", OK, f"{path}: {where} ({size})."), info
    details = [
        f"scope {info.get('scope')}, device {info.get('device_code')}"
        + (" (demo data)" if info.get("synthetic") else ""),
        ", ".join(f"{k} {v:,}" for k, v in info.get("counts", {}).items()),
    ]
    runs = info.get("sync_history") or []
    if runs:
        last = runs[0]
        error = last["summary"].get("error") if isinstance(last["summary"], dict) else None
        details.append(
            f"last sync {last['started_utc']} UTC: {last['status']}"
            + (f" ({error})" if error else "")
            + f"; {len(runs)} run(s) in the bundle's sync-history.txt"
        )
    if info["quick_check"] != "ok":
        return Check(
            "store",
            FAIL,
            f"{path} is damaged ({info['quick_check']}). Restore it from a backup or sync it "
            "again from the county.",
            details,
        ), info
    if info["schema_version"] > info["schema_known"]:
        return Check(
            "store",
            FAIL,
            f"{path} was written by a newer Gridroom (schema {info['schema_version']}, this "
            f"version knows {info['schema_known']}). Update Gridroom.",
            details,
        ), info
    if info["encrypted"]:
        details.append(where)
    elif info.get("synthetic"):
        details.append("the demo store (synthetic data) stays plain by design")
    elif require_encryption:
        return Check(
            "store",
            FAIL,
            f"{path} is not encrypted, but the site policy requires encryption.",
            details,
        ), info
    waiting = info.get("counts", {}).get("outbox", 0)
    note = f", {waiting:,} change(s) waiting to sync" if waiting else ""
    return Check(
        "store",
        OK,
        f"{path}: intact, schema {info['schema_version']}, {size}{note}.",
        details,
    ), info


def check_disk(folder: Path) -> Check:
    """Free space where the stores live."""
    probe = folder.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError as exc:
        return Check("disk", WARN, f"Cannot read the free space of {probe}: {exc.strerror}.")
    text = f"{_human_bytes(free)} free at {probe}"
    if free < 100 * 1024 * 1024:
        return Check("disk", FAIL, f"Only {text}: free some space, or writes will fail.")
    if free < 1024 * 1024 * 1024:
        return Check("disk", WARN, f"Only {text}.")
    return Check("disk", OK, text[0].upper() + text[1:] + ".")


# -- the report ---------------------------------------------------------------------------------


@dataclass
class Report:
    """Everything ``gridroom doctor`` found."""

    environment: dict[str, str]
    configuration: dict[str, Any]
    checks: list[Check]
    store: dict[str, Any]

    @property
    def failed(self) -> bool:
        return any(c.status == FAIL for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "configuration": self.configuration,
            "checks": [asdict(c) for c in self.checks],
            "store": self.store,
            "failed": self.failed,
        }


def diagnose(
    settings: Settings,
    *,
    db: Path | None = None,
    offline: bool = False,
    timeout: float = 10.0,
) -> Report:
    """Run every check; nothing here writes to the store or the settings."""
    checks = [check_settings(settings)]
    if offline:
        checks.append(Check("server", INFO, "Server not checked (--offline)."))
    else:
        checks.extend(
            check_server(settings.get("server_url"), settings.get("ca_file"), timeout=timeout)
        )
    checks.append(check_certificate(settings.get("ca_file")))
    require = bool(settings.get("require_encryption"))
    checks.append(check_keyring(require))
    path = db
    if path is None:
        candidates = [p for p in store_candidates(settings) if p.exists()]
        path = candidates[0] if candidates else None
        if path is None and settings.get("township"):
            path = store_candidates(settings)[0]
    store_check, store_info = check_store(path, require_encryption=require)
    checks.append(store_check)
    checks.append(check_engine())
    checks.append(check_disk(data_dir(settings)))
    return Report(environment(), configuration(settings), checks, store_info)


def render(report: Report) -> str:
    """The human report, as printed."""
    out = io.StringIO()
    env = report.environment
    out.write(f"Gridroom doctor — Gridroom {env['gridroom']}, Python {env['python']}\n")
    out.write(f"  {env['os']} ({env.get('libc', env['machine'])}); {env['build']}\n\n")
    cfg = report.configuration
    site_note = "" if cfg["site_config_exists"] else "  (not present)"
    out.write("Configuration (value, then where it came from)\n")
    out.write(f"  site config:   {cfg['site_config']}{site_note}\n")
    out.write(f"  user settings: {cfg['user_settings']}\n")
    width = max(len(v["name"]) for v in cfg["values"])
    for v in cfg["values"]:
        value = v["value"]
        shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
        out.write(f"  {v['name']:<{width}}  {shown or '(empty)':<40}  {v['origin']}\n")
    out.write("\nChecks\n")
    for check in report.checks:
        out.write(f"  {_MARK.get(check.status, '[    ]')} {check.name:<12} {check.summary}\n")
        for line in check.details:
            out.write(f"  {'':6} {'':<12} {line}\n")
    verdict = "Problems found: see [FAIL] above." if report.failed else "No problems found."
    out.write(f"\n{verdict}\n")
    return out.getvalue()


# -- the diagnostics bundle ---------------------------------------------------------------------


def scrub(text: str) -> str:
    """Remove tokens, passwords, ID card and phone numbers (:func:`sync.logs.redact`, what
    the log handlers also do), and the user's home folder."""
    from ..logs import redact

    text = redact(text)
    home = str(Path.home())
    if len(home) > 1:
        text = text.replace(home, "~")
    return text


def _redacted_configuration(cfg: dict[str, Any]) -> dict[str, Any]:
    out = dict(cfg)
    out["values"] = [
        {**v, "value": "<redacted>"} if v["name"] in REDACTED_SETTINGS and v["value"] else v
        for v in cfg["values"]
    ]
    return out


def _tail(path: Path, limit: int = LOG_TAIL_BYTES) -> bytes:
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - limit))
        return fh.read()


def render_sync_history(runs: list[dict[str, Any]], state: dict[str, Any]) -> str:
    """The store's sync runs as text, newest first: when, how long, outcome, what moved."""
    out = io.StringIO()
    if state:
        out.write("Sync state:\n")
        for key in SYNC_STATE_SHOWN:
            if key in state:
                value = state[key]
                if key in ("last_attempt", "last_success", "last_verify") and value:
                    value = f"{_when(value)} UTC"
                out.write(f"  {key:<18} {value}\n")
        out.write("\n")
    out.write("Sync runs, newest first (UTC):\n")
    for run in runs:
        summary = run["summary"]
        text = json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str)
        out.write(f"  {run['started_utc']}  {run['seconds']:>6}s  {run['status']:<8} {text}\n")
    return out.getvalue()


def write_bundle(report: Report, settings: Settings, out: Path) -> list[str]:
    """Write the diagnostics zip atomically; returns the names it holds."""
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose another name (nothing was written).")
    redacted = Report(
        report.environment,
        _redacted_configuration(report.configuration),
        report.checks,
        # Counts, versions, scope and device code only: no store content ever leaves the PC.
        report.store,
    )
    names: list[str] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def add(name: str, text: str) -> None:
            zf.writestr(name, scrub(text))
            names.append(name)

        add("report.txt", render(redacted))
        add(
            "report.json", json.dumps(redacted.as_dict(), ensure_ascii=False, indent=2, default=str)
        )
        add(
            "settings.json",
            json.dumps(redacted.configuration, ensure_ascii=False, indent=2, default=str),
        )
        runs = report.store.get("sync_history") or []
        if runs:
            add("sync-history.txt", render_sync_history(runs, report.store.get("sync_state", {})))
        if settings.site_path.exists():
            with contextlib.suppress(OSError, UnicodeDecodeError):
                add("site.toml", settings.site_path.read_text(encoding="utf-8"))
        for folder in log_dirs(settings):
            if not folder.is_dir():
                continue
            for log in sorted(folder.glob("*.log*")):
                if log.is_file():
                    data = _tail(log).decode("utf-8", "replace")
                    add(f"logs/{folder.parent.name}-{log.name}", data)
        add(
            "README.txt",
            "Gridroom diagnostics bundle, made by `gridroom doctor --bundle` on "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.\n"
            "It holds the doctor's report, settings (personal values redacted), store counts, the "
            "store's recent sync runs (sync-history.txt) and "
            "the app's logs with tokens, ID card and phone numbers removed. It never holds the "
            "store, attachments, tokens or keys.\n",
        )
    os.replace(tmp, out)
    return names


# -- the command --------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, help="check this store file (default: the enrolled one)")
    p.add_argument("--offline", action="store_true", help="do not contact the server")
    p.add_argument("--timeout", type=float, default=10.0, help="network timeout in seconds")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--bundle", type=Path, metavar="OUT.zip", help="also write a diagnostics bundle for IT"
    )


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    report = diagnose(settings, db=args.db, offline=args.offline, timeout=args.timeout)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(render(report), end="")
    if args.bundle is not None:
        try:
            names = write_bundle(report, settings, args.bundle)
        except (FileExistsError, OSError) as exc:
            print(f"gridroom doctor: {exc}", file=sys.stderr)
            return 2
        print(f"Diagnostics bundle written to {args.bundle} ({len(names)} files).", file=sys.stderr)
    return 1 if report.failed else 0
