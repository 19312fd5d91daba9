"""What a load balancer and a monitoring system ask of a real ``gridroom-county serve``:
``/healthz``, ``/readyz``, ``/metrics`` (:mod:`sync.county.metrics`), and a graceful SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from .conftest import (
    REPO,
    SERVER_ENV,
    TOWNSHIP_A,
    CountyServer,
    Device,
    MemoryKeyring,
    api,
    county_command,
    report_case,
    running_county,
)
from .test_pg_restart import OwnPostgres, _pg_bin, own_postgres  # noqa: F401 (the fixture)

OP = f"{TOWNSHIP_A}-op"


def scrape(server: CountyServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``/metrics`` as {(name, labels): value}."""
    r = requests.get(server.url + "/metrics", timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_health_readiness_and_metrics_count_what_devices_did(
    county: CountyServer, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    assert requests.get(county.url + "/healthz", timeout=30).json() == {"status": "ok"}
    ready = requests.get(county.url + "/readyz", timeout=30)
    assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
    before = scrape(county)

    device = Device(county, OP, tmp_path / "op.sqlite")
    for i in range(3):
        report_case(device, f"计数上报 {i}")
    report = device.sync()
    assert report.status == "ok" and report.pushed == 3, report.to_json()
    # A forged call without a token is counted as an error by its protocol code.
    assert api(county, "POST", "/v1/sync", json={"cursor": 0}).status_code == 401
    # Made-up methods and paths are counted under fixed labels, not one new label each.
    for i in range(3):
        api(county, f"BREW{i}", f"/made/up/{i}")
    # A blob path is counted by its route template, not by its hash.
    sha = "0" * 64
    assert api(county, "GET", f"/v1/blobs/{sha}", device.token).status_code in (403, 404)

    after = scrape(county)
    pushed = value(after, "gridroom_push_items_total", result="applied") - value(
        before, "gridroom_push_items_total", result="applied"
    )
    assert pushed == 3
    assert value(after, "gridroom_push_batches_total", kind="new") > value(
        before, "gridroom_push_batches_total", kind="new"
    )
    assert value(after, "gridroom_pulls_total") > value(before, "gridroom_pulls_total")
    ok_syncs = value(
        after, "gridroom_http_requests_total", method="POST", route="/v1/sync", status="200"
    )
    assert ok_syncs >= 1
    unauthorized = value(after, "gridroom_errors_total", code="unauthorized") - value(
        before, "gridroom_errors_total", code="unauthorized"
    )
    assert unauthorized >= 1
    routes = {dict(labels).get("route") for name, labels in after if "route" in dict(labels)}
    assert "/v1/blobs/{sha256}" in routes and not any(sha in str(r) for r in routes)
    assert not any("/made/up" in str(r) for r in routes) and "(unrouted)" in routes
    methods = {dict(labels).get("method") for _, labels in after if "method" in dict(labels)}
    assert "OTHER" in methods and not any(str(m).startswith("BREW") for m in methods)
    # The histogram counts every answered request once; nothing is in flight but the scrape.
    assert value(after, "gridroom_http_requests_in_flight") == 1
    device.close()


def test_metrics_answer_only_the_monitoring_addresses(tmp_path: Path) -> None:
    with running_county(
        "sqlite", tmp_path, serve_args=("--metrics-from", "10.9.0.0/16,192.0.2.7")
    ) as server:
        r = requests.get(server.url + "/metrics", timeout=30)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert "gridroom_" not in r.text
        # Health and readiness stay open: a balancer needs them from wherever it is.
        assert requests.get(server.url + "/healthz", timeout=30).status_code == 200
        assert requests.get(server.url + "/readyz", timeout=30).status_code == 200


def test_a_mistyped_metrics_address_is_refused_in_plain_words(tmp_path: Path) -> None:
    db = tmp_path / "county.sqlite"
    server = CountyServer(str(db), tmp_path, backend="sqlite")
    server.init()
    done = subprocess.run(
        [*county_command(), "serve", "--db", str(db), "--port", "0", "--metrics-from", "10.9/x"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=SERVER_ENV,
    )
    assert done.returncode == 2
    assert "--metrics-from: '10.9/x' is not an address or network" in done.stderr


def test_sigterm_lets_a_request_in_flight_finish(tmp_path: Path) -> None:
    """A rolling restart: the request already being read is answered, then the process ends."""
    with running_county("sqlite", tmp_path) as server:
        assert server.proc is not None
        host, port = server.url.removeprefix("http://").split(":")
        body = json.dumps({"login": "nobody", "password": "x" * 20, "device_id": "d"}).encode()
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(
                b"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body[:10]
            )
            time.sleep(0.5)  # the server is now reading this request's body
            server.proc.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            assert server.proc.poll() is None  # still draining the request in flight
            sock.sendall(body[10:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status = answer.split(b"\r\n", 1)[0]
        assert status.startswith(b"HTTP/1.1 ") and b"error" in answer, answer[:300]
        # Uvicorn ends by re-raising the signal once drained (systemd counts that as a stop).
        assert server.proc.wait(timeout=30) in (0, -signal.SIGTERM)
        # And new connections are no longer accepted.
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + "/healthz", timeout=5)


def test_sigterm_does_not_wait_forever_for_a_stalled_request(tmp_path: Path) -> None:
    """A device whose link died mid-upload cannot hold a restart hostage."""
    with running_county("sqlite", tmp_path, serve_args=("--shutdown-timeout", "2")) as server:
        assert server.proc is not None
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(
                b"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 500\r\n\r\n{"login": '
            )
            time.sleep(0.5)
            started = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            assert server.proc.wait(timeout=60) in (0, -signal.SIGTERM)
            # The default would have waited 30 s; uvicorn's own default, for ever.
            assert time.monotonic() - started < 20


@pytest.mark.postgres
def test_readiness_follows_postgresql_and_liveness_does_not(
    own_postgres: OwnPostgres,  # noqa: F811
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    server = CountyServer(own_postgres.dsn, tmp_path, backend="postgres")
    server.init()
    server.start()
    try:
        assert requests.get(server.url + "/readyz", timeout=30).status_code == 200
        _pg_ctl(own_postgres, "stop")
        try:
            started = time.monotonic()
            r = requests.get(server.url + "/readyz", timeout=30)
            assert r.status_code == 503 and r.json()["status"] == "unavailable", r.text
            assert "database" in r.json()["reason"]
            assert time.monotonic() - started < 20  # bounded, not the client's whole timeout
            assert requests.get(server.url + "/healthz", timeout=30).status_code == 200
        finally:
            _pg_ctl(own_postgres, "start")
        deadline = time.monotonic() + 60
        while (r := requests.get(server.url + "/readyz", timeout=30)).status_code != 200:
            assert time.monotonic() < deadline, f"not ready after PostgreSQL came back: {r.text}"
            time.sleep(0.5)
        device = Device(server, OP, tmp_path / "op.sqlite")
        report_case(device, "恢复后的上报")
        assert device.sync().pushed == 1
        device.close()
    finally:
        server.stop()


@pytest.mark.postgres
def test_several_workers_report_one_sum(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    if not os.environ.get("GRIDROOM_TEST_PG"):
        pytest.skip("needs GRIDROOM_TEST_PG")
    with running_county("postgres", tmp_path, serve_args=("--workers", "2")) as server:
        before = value(
            scrape(server),
            "gridroom_http_requests_total",
            method="GET",
            route="/healthz",
            status="200",
        )
        for _ in range(20):  # new connections: spread over both workers by the kernel
            with requests.Session() as s:
                assert s.get(server.url + "/healthz", timeout=30).status_code == 200
        counts = {
            value(
                scrape(server),
                "gridroom_http_requests_total",
                method="GET",
                route="/healthz",
                status="200",
            )
            for _ in range(6)
        }
        assert counts == {before + 20}, counts  # every scrape, whichever worker, sees all


def _pg_ctl(pg: OwnPostgres, action: str) -> None:
    """Stop or start ``pg``'s cluster (started again on its own port and socket folder)."""
    bin_dir = _pg_bin()
    assert bin_dir is not None
    port = re.search(r":(\d+)/", pg.dsn)
    assert port, pg.dsn
    options = f"-c listen_addresses=127.0.0.1 -p {port.group(1)} -k {pg.pgdir} -c fsync=off"
    command = [
        str(bin_dir / "pg_ctl"),
        "-D",
        f"{pg.pgdir}/data",
        "-l",
        f"{pg.pgdir}/server.log",
        "-m",
        "fast",
        "-w",
        "-t",
        "60",
        *(["-o", options] if action == "start" else []),
        action,
    ]
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
