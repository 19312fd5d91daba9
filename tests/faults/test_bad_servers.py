"""Bad servers: whatever answers in the county's place, ``gridroom sync`` says what is wrong in
plain words, with its exit code and a field of its JSON summary; the status the desktop shows
says the same; no local change is lost, and the next good sync delivers everything.

Each bad server is real (``http.server`` or the county app itself, on 127.0.0.1); the device
stays enrolled to one address, a proxy (:class:`tests.faults.proxy.TcpProxy`) in front of
whichever server plays the county at the moment.
"""

from __future__ import annotations

import json
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.client import SyncService
from sync.model.clock import now_millis

from . import badservers
from .harness import REPO, CountyProcess, Device, check_device, gridroom_command, gridroom_env
from .proxy import TcpProxy

YEAR_MS = 365 * 24 * 3600 * 1000


@pytest.fixture
def front(county: CountyProcess) -> Iterator[TcpProxy]:
    """The address the device is enrolled to; in front of the county until a test swaps it."""
    with TcpProxy(county.address) as proxy:
        yield proxy


def _work(device: Device, n: int = 3) -> list[tuple[Any, ...]]:
    """Report ``n`` cases with a comment each; returns the outbox as it stands."""
    with device.store() as store:
        actor = device.actor(store)
        for i in range(n):
            case_id = store.report(
                actor,
                {"title": f"坏服务器测试{i}", "category": "0604", "grid_id": store.grids()[0].code},
            ).case_id
            store.comment(case_id, actor, f"补充说明{i}")
        return _outbox(device)


def _outbox(device: Device) -> list[tuple[Any, ...]]:
    with device.store() as store:
        return store.read("SELECT seq, entity, entity_id FROM outbox ORDER BY seq")


def _gridroom_sync(
    device: Device, tmp_path: Path, *args: str, site: str = ""
) -> tuple[int, dict[str, Any], str]:
    """``gridroom sync --db …`` as a real process: exit code, JSON summary, stderr."""
    env = gridroom_env(tmp_path, device.keyring_file)
    if site:
        (tmp_path / "site.toml").write_text(site, encoding="utf-8")
        env["GRIDROOM_SITE_CONFIG"] = str(tmp_path / "site.toml")
    done = subprocess.run(
        [*gridroom_command(), "sync", "--db", str(device.path), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Traceback" not in done.stderr, done.stderr
    summary = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    return done.returncode, summary, done.stderr


def _status(device: Device) -> Any:
    """What the desktop's status bar reads (the Qt-free status API), no network."""
    with device.store() as store:
        return SyncService(tokens=device.tokens()).status(store)


def _delivered(device: Device, county: CountyProcess, front: TcpProxy) -> None:
    """Back to the real county: one sync delivers everything the bad server did not take."""
    front.set_target(county.address)
    report = device.sync()
    assert report.status == "ok", report.to_json()
    findings = check_device(device, county)
    assert findings.ok(), findings.describe()
    assert _status(device).online is True
    assert _status(device).waiting == 0


# Each: (bad server mode, exit code, error code, online?, words the message must contain).
CASES = [
    ("broken_json", 2, "bad_response", True, "not valid JSON"),
    ("wrong_json", 2, "bad_response", True, "does not follow the Gridroom sync protocol"),
    ("wrong_fields", 2, "bad_response", True, "does not follow the Gridroom sync protocol"),
    pytest.param(
        "error_500", 2, "server_error", True, "county server failed", marks=pytest.mark.slow
    ),
    pytest.param("nginx_500", 2, "server_error", True, "HTTP 500", marks=pytest.mark.slow),
    ("portal", 2, "captive_portal", False, "web page"),
    ("portal_redirect", 2, "captive_portal", False, "10.10.0.1"),
    ("newer_protocol", 5, "protocol_version", True, "update Gridroom"),
    ("bare_426", 5, "protocol_version", True, "update Gridroom"),
]


@pytest.mark.parametrize(("mode", "exit_code", "code", "online", "words"), CASES)
def test_a_bad_server_gets_a_plain_status_and_loses_nothing(
    county: CountyProcess,
    enrol: Callable[..., Device],
    front: TcpProxy,
    tmp_path: Path,
    mode: str,
    exit_code: int,
    code: str,
    online: bool,
    words: str,
) -> None:
    device = enrol("op", front.url)
    before = _work(device)
    with badservers.bad_server(mode) as bad:
        front.set_target(bad.address)
        returncode, summary, stderr = _gridroom_sync(device, tmp_path)
        assert bad.requests, "the sync reached the bad server"
    assert returncode == exit_code, stderr
    assert summary["status"] == "failed" and summary["exit_code"] == exit_code
    assert summary["error_code"] == code, summary
    assert words in summary["error"] and words in stderr
    assert summary["waiting"]["changes"] == 6
    assert summary["reached_server"] is online
    # The desktop's status line says the same, from what the run recorded.
    status = _status(device)
    assert status.online is online
    assert words in status.last_error and status.last_error_code == code
    assert status.waiting == 6
    # Nothing was lost, nothing half-sent: the outbox is as it was, nothing in quarantine.
    assert _outbox(device) == before
    assert status.quarantined == 0
    _delivered(device, county, front)


@pytest.mark.slow  # three gridroom processes and fresh certificates: ~8 s on a shared machine
def test_an_untrusted_certificate_is_refused_and_a_trusted_one_works(
    county: CountyProcess, enrol: Callable[..., Device], tmp_path: Path
) -> None:
    certs = badservers.make_certs(tmp_path / "pki")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.cert, certs.key)
    with TcpProxy(county.address, ssl_context=context) as tls:
        device = enrol("op", tls.url, ca_file=str(certs.ca))
        before = _work(device)
        # No CA configured: the county's own CA is not among the system's, so nothing moves.
        returncode, summary, stderr = _gridroom_sync(device, tmp_path)
        assert returncode == 2, stderr
        assert (summary["status"], summary["error_code"]) == ("failed", "tls")
        assert "certificate" in summary["error"] and "certificate" in stderr
        assert summary["reached_server"] is False
        status = _status(device)
        assert status.online is False and status.last_error_code == "tls"
        assert _outbox(device) == before
        # Another certificate, from a CA nobody configured (a wrong server, or someone in
        # between): refused even with the county's CA file given.
        other = badservers.make_certs(tmp_path / "other", ca_name="Someone Else CA")
        context.load_cert_chain(other.cert, other.key)
        tls.cut_all()
        returncode, summary, _ = _gridroom_sync(device, tmp_path, "--ca-file", str(certs.ca))
        assert (returncode, summary["error_code"]) == (2, "tls")
        assert _outbox(device) == before
        # The county's certificate again, and its CA set by county IT in the site config.
        context.load_cert_chain(certs.cert, certs.key)
        tls.cut_all()
        returncode, summary, stderr = _gridroom_sync(
            device, tmp_path, site=f'ca_file = "{certs.ca}"\n'
        )
        assert returncode == 0, stderr
        assert summary["status"] == "ok" and summary["pushed"] == 6
        assert check_device(device, county).ok()


# Behind by one year only: three would reach back before Gridroom existed (the next test).
@pytest.mark.parametrize("years", [3, -1])
def test_a_county_clock_years_off_is_reported_and_nothing_is_lost(
    county: CountyProcess,
    enrol: Callable[..., Device],
    front: TcpProxy,
    tmp_path: Path,
    years: int,
) -> None:
    device = enrol("op", front.url)
    _work(device)
    with badservers.county_with_clock(county.db, lambda: now_millis() + years * YEAR_MS) as odd:
        front.set_target(odd)
        returncode, summary, stderr = _gridroom_sync(device, tmp_path)
    # The sync itself works (the county's clock is the reference, by design) ...
    assert returncode == 0, stderr
    assert summary["status"] == "ok" and summary["pushed"] == 6
    assert abs(summary["clock_offset_ms"] - years * YEAR_MS) < 60_000
    # ... but the difference is said plainly, in the summary, on stderr and in the status.
    span = f"{abs(years)} year"
    assert span in summary["clock_warning"] and "warning" in stderr and "clock" in stderr
    status = _status(device)
    assert span in status.clock_warning
    # Back to the county with a right clock: the warning goes, the data is all there.
    _delivered(device, county, front)
    status = _status(device)
    assert status.clock_warning == "" and abs(status.clock_offset_ms) < 60_000


def test_a_county_clock_from_before_gridroom_existed_is_not_believed(
    county: CountyProcess, enrol: Callable[..., Device], front: TcpProxy, tmp_path: Path
) -> None:
    device = enrol("op", front.url)
    before = _work(device)
    with badservers.county_with_clock(county.db, lambda: 946_684_800_000) as odd:  # 2000-01-01
        front.set_target(odd)
        returncode, summary, stderr = _gridroom_sync(device, tmp_path)
    assert returncode == 2, stderr
    assert summary["error_code"] in ("server_clock", "unavailable"), summary
    assert "clock" in summary["error"] and "2000-01-01" in summary["error"]
    assert abs(summary["clock_offset_ms"]) < 60_000, "the device kept its own clock"
    assert _outbox(device) == before, "nothing was applied with stamps from 2000"
    _delivered(device, county, front)
