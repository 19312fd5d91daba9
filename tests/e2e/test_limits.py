"""Limits before work, against a real ``gridroom-county serve``: the server stops reading a body
at its limit (chunked, gzip'd or neither), caps how many password hashes run at once, answers
every bad body in the protocol's error shape, and trusts ``X-Forwarded-For`` only from proxies
IT named.

Memory is read from the server process itself (``/proc/PID/status``): ``VmHWM`` is its peak
resident memory so far, so a growth of it during a test is what that test cost at most.
"""

from __future__ import annotations

import concurrent.futures
import gzip
import hashlib
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import threading
import time
import urllib.parse
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sync import protocol
from sync.county.cli import build_parser

from .conftest import (
    REPO,
    SERVER_ENV,
    TOWNSHIP_A,
    CountyServer,
    api,
    county_command,
    running_county,
)

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads server memory from /proc (Linux)"
)

MB = 1024 * 1024
#: How much a test sends at most of a body that never ends.
ENDLESS_CAP = 32 * MB
#: What sits in the loopback's socket buffers, sent but not yet read by the server (the
#: receiving side's buffer grows to several MB on its own).
IN_FLIGHT = 10 * MB


def memory_kb(server: CountyServer, field: str = "VmHWM") -> int:
    assert server.proc is not None
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.M)
    assert found, status
    return int(found.group(1))


def device_id() -> str:
    return "0190" + secrets.token_hex(14)


def sign_in(server: CountyServer, login_name: str = f"{TOWNSHIP_A}-op") -> str:
    r = api(
        server,
        "POST",
        protocol.LOGIN,
        json={
            "login": login_name,
            "password": server.password(login_name),
            "device_id": device_id(),
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def assert_error_shape(body: bytes | str, code: str) -> dict[str, Any]:
    value = json.loads(body)
    assert set(value) == {"error"}, value
    error = value["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["retry"], bool), error
    return dict(error)


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes, sent: int) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        #: Body bytes (before chunk framing) this client had sent when the answer arrived.
        self.sent = sent


def send_endless(
    server: CountyServer,
    path: str,
    headers: dict[str, str],
    pieces: Iterator[bytes],
    method: str = "POST",
) -> Answer:
    """POST a chunked body made of ``pieces`` that goes on until the server answers (or, as the
    test's own bound, ENDLESS_CAP bytes); the answer is read while the body is still being sent.
    """
    address = urllib.parse.urlsplit(server.url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    sock = socket.create_connection((host, port), timeout=15)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Transfer-Encoding: chunked"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sent = 0
    answered = threading.Event()

    def write() -> None:
        nonlocal sent
        try:
            for piece in pieces:
                if answered.is_set() or sent >= ENDLESS_CAP:
                    return
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
        except OSError:
            return  # the server stopped reading and closed the connection: expected

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        response = http.client.HTTPResponse(sock, method=method)
        try:
            response.begin()
        except TimeoutError:
            pytest.fail(f"no answer after {sent:,} body bytes: the server keeps reading")
        sent_at_answer = sent
        answered.set()
        body = response.read()
        return Answer(response.status, dict(response.getheaders()), body, sent_at_answer)
    finally:
        answered.set()
        sock.close()
        writer.join(timeout=15)


def zeros(piece: int = 64 * 1024) -> Iterator[bytes]:
    block = b"0" * piece
    while True:
        yield block


def gzip_bomb(piece: int = 1 * MB) -> Iterator[bytes]:
    """A gzip stream of zeros that never ends: ~1 KB on the wire per MB inflated."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * piece
    while True:
        out = deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH)
        if out:
            yield out


# -- 1. body limits ---------------------------------------------------------------------------


def test_an_endless_chunked_body_is_stopped_at_the_limit(county: CountyServer) -> None:
    token = sign_in(county)
    before = memory_kb(county)
    answer = send_endless(
        county,
        protocol.SYNC,
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        zeros(),
    )
    assert answer.status == 413, answer.body
    error = assert_error_shape(answer.body, "too_large")
    assert f"{protocol.BODY_MAX:,} bytes" in error["message"], error
    # Answered at the limit, not when the client gave up (or ran out of memory).
    assert answer.sent < protocol.BODY_MAX + IN_FLIGHT, answer.sent
    grown_mb = (memory_kb(county) - before) / 1024
    assert grown_mb < 40, f"the server's peak memory grew by {grown_mb:.0f} MB"
    assert api(county, "GET", protocol.HEALTH).status_code == 200


def test_a_sign_in_without_a_token_takes_a_few_kb(county: CountyServer) -> None:
    answer = send_endless(county, protocol.LOGIN, {"Content-Type": "application/json"}, zeros(1024))
    assert answer.status == 413, answer.body
    error = assert_error_shape(answer.body, "too_large")
    assert f"{protocol.PUBLIC_BODY_MAX:,} bytes" in error["message"], error
    assert answer.sent < IN_FLIGHT, answer.sent
    # Declared up front: refused before a byte of it is read.
    password = "x" * (protocol.PUBLIC_BODY_MAX + 1)
    r = api(
        county,
        "POST",
        protocol.LOGIN,
        json={"login": f"{TOWNSHIP_A}-op", "password": password, "device_id": device_id()},
    )
    assert r.status_code == 413
    assert_error_shape(r.content, "too_large")
    # Any request that carries no token is held to the same few KB, whatever the endpoint.
    r = api(county, "POST", protocol.SYNC, data=b"[" + b"0," * 4096 + b"0]")
    assert r.status_code == 413
    assert_error_shape(r.content, "too_large")


def test_a_made_up_token_gets_401_before_the_body_is_read(county: CountyServer) -> None:
    forged = {"Authorization": "Bearer " + "A" * 43, "Content-Type": "application/json"}
    answer = send_endless(county, protocol.SYNC, forged, zeros())
    assert answer.status == 401, answer.body
    assert_error_shape(answer.body, "unauthorized")
    assert answer.sent < IN_FLIGHT, answer.sent
    r = api(
        county,
        "POST",
        protocol.SYNC,
        data=b'{"cursor": 0, "x": "' + b"0" * 100_000 + b'"}',
        headers=forged,
    )
    assert r.status_code == 401
    assert_error_shape(r.content, "unauthorized")
    # A small body with a good token still goes straight through (one token check, the route's).
    token = sign_in(county)
    r = api(county, "POST", protocol.SYNC, token, json={"cursor": 0})
    assert r.status_code == 200, r.text


def test_a_gzip_bomb_stops_at_the_decompressed_limit(county: CountyServer) -> None:
    token = sign_in(county)
    before = memory_kb(county)
    answer = send_endless(
        county,
        protocol.SYNC,
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
        gzip_bomb(),
    )
    assert answer.status == 413, answer.body
    assert_error_shape(answer.body, "too_large")
    # ~16 MiB inflated is a few dozen KB of this stream.
    assert answer.sent < IN_FLIGHT, answer.sent
    grown_mb = (memory_kb(county) - before) / 1024
    assert grown_mb < 48, f"the server's peak memory grew by {grown_mb:.0f} MB"


def test_an_attachment_chunk_stops_at_the_chunk_limit(county: CountyServer) -> None:
    token = sign_in(county)
    answer = send_endless(
        county,
        protocol.BLOB.format(sha256="0" * 64) + "?offset=0",
        {"Authorization": f"Bearer {token}", "Content-Type": protocol.BLOB_TYPE},
        zeros(),
        method="PUT",
    )
    assert answer.status == 413, answer.body
    error = assert_error_shape(answer.body, "too_large")
    assert f"{protocol.CHUNK_MAX:,} bytes" in error["message"], error
    assert answer.sent < protocol.CHUNK_MAX + IN_FLIGHT, answer.sent


# -- 3. every bad body in the protocol's shape --------------------------------------------------


def _push_text(entry_title: str) -> bytes:
    """A push whose one entry's title is the JSON text ``entry_title`` (escapes kept as sent)."""
    text = (
        '{"cursor": 0, "push": {"batch_id": "b-BATCH", "entries": [{"id": "e1", "case_id": "c1", '
        '"action": "report", "actor_id": "a1", "role": "operator", "at": 1795327473928, '
        '"hlc": "1795327473928.0000.ABCD", "payload": {"title": "TITLE"}}]}}'
    )
    return text.replace("BATCH", secrets.token_hex(4)).replace("TITLE", entry_title).encode()


@pytest.mark.parametrize(
    ("body", "gzipped", "what"),
    [
        (_push_text("\\ud800"), False, "lone surrogate"),
        (_push_text("\\udc00 after"), True, "lone surrogate"),
        (b"[" * 100_000 + b"]" * 100_000, False, "nests deeper"),
        (b'{"cursor": 0, "x": "\xff\xfe"}', False, "not UTF-8"),
        (b'{"cursor": 0, "x": "\xff\xfe"}', True, "not UTF-8"),
        (b'{"cursor": 0,', False, "not valid JSON"),
        (gzip.compress(b'{"cursor": 0}')[:-6], False, "cut short"),
    ],
    ids=["surrogate", "surrogate-gzip", "deep", "utf8", "utf8-gzip", "json", "gzip-cut"],
)
def test_a_bad_body_gets_400_in_the_protocol_shape(
    county: CountyServer, body: bytes, gzipped: bool, what: str
) -> None:
    token = sign_in(county)
    headers = {"Content-Type": "application/json"}
    if gzipped or what == "cut short":
        headers["Content-Encoding"] = "gzip"
    data = gzip.compress(body) if gzipped else body
    r = api(county, "POST", protocol.SYNC, token, data=data, headers=headers)
    assert r.status_code == 400, r.text
    error = assert_error_shape(r.content, "bad_request")
    assert what in error["message"], error
    assert error["retry"] is False
    # Nothing broke: the next request is served.
    assert api(county, "GET", protocol.SESSION, token).status_code == 200


def test_a_paired_surrogate_is_a_character_and_accepted(county: CountyServer) -> None:
    token = sign_in(county)
    # "\ud83d\ude00" is 😀 written as JSON escapes: valid text, refused only per item.
    r = api(
        county,
        "POST",
        protocol.SYNC,
        token,
        data=_push_text("\\ud83d\\ude00"),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    (result,) = r.json()["push"]["results"]
    assert result["status"] == "rejected", result


def test_a_nul_character_is_refused_where_it_stands(county: CountyServer) -> None:
    """No text holds U+0000 (PostgreSQL cannot store one): an entry holding one is rejected on
    its own (quarantined on the device, the rest of the batch flows); a sign-in name, 400."""
    token = sign_in(county)
    r = api(
        county,
        "POST",
        protocol.SYNC,
        token,
        data=_push_text("before\\u0000after"),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    (result,) = r.json()["push"]["results"]
    assert result["status"] == "rejected" and result["code"] == "malformed", result
    assert "NUL" in result["reason"], result
    r = api(
        county,
        "POST",
        protocol.LOGIN,
        json={"login": "330825102-op\x00", "password": "x", "device_id": device_id()},
    )
    assert r.status_code == 400, r.text
    assert_error_shape(r.content, "bad_request")
    r = api(county, "POST", protocol.SNAPSHOT, token, json={"village_code": "3308\x00"})
    assert r.status_code == 400, r.text
    assert_error_shape(r.content, "bad_request")


def test_wrong_paths_methods_and_types_use_the_protocol_shape(county: CountyServer) -> None:
    token = sign_in(county)
    r = api(county, "GET", "/v1/nowhere", token)
    assert r.status_code == 404
    assert_error_shape(r.content, "not_found")
    r = api(county, "DELETE", protocol.BLOB.format(sha256="0" * 64), token)
    assert r.status_code == 405
    assert_error_shape(r.content, "method_not_allowed")
    assert {m.strip() for m in r.headers["Allow"].split(",")} == {"GET", "PUT"}
    r = api(county, "POST", protocol.SYNC, token, json={"cursor": "0"})
    assert r.status_code == 400
    assert_error_shape(r.content, "bad_request")
    r = api(county, "GET", protocol.BLOB_STATUS.format(sha256="ABC"), token)
    assert r.status_code == 400
    assert_error_shape(r.content, "bad_request")
    r = api(
        county,
        "POST",
        protocol.SYNC,
        token,
        data=b'{"cursor": 0}',
        headers={"Content-Type": "application/json", "Content-Encoding": "br"},
    )
    assert r.status_code == 400
    assert_error_shape(r.content, "bad_request")


# -- 5. X-Forwarded-For -----------------------------------------------------------------------


def _wrong_sign_ins(server: CountyServer, count: int, forwarded: Iterator[str]) -> list[int]:
    statuses = []
    with requests.Session() as http_session:
        for i, address in zip(range(count), forwarded, strict=False):
            r = http_session.post(
                server.url + protocol.LOGIN,
                json={"login": f"nobody-{i}", "password": "wrong", "device_id": device_id()},
                headers={"X-Forwarded-For": address},
                timeout=30,
            )
            statuses.append(r.status_code)
    return statuses


def _rotating() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"203.0.{n // 250}.{n % 250 + 1}"


def _same(address: str) -> Iterator[str]:
    while True:
        yield address


def test_forwarded_for_from_an_unnamed_proxy_does_not_reset_the_address_lock(
    tmp_path: Path,
) -> None:
    with running_county("sqlite", tmp_path) as server:
        statuses = _wrong_sign_ins(server, acc_address_failures() + 2, _rotating())
    # Every attempt came from 127.0.0.1, whatever the header said: the address is locked.
    assert statuses[: acc_address_failures()] == [401] * acc_address_failures()
    assert statuses[-1] == 429, statuses


def test_forwarded_for_from_a_named_proxy_names_the_client(tmp_path: Path) -> None:
    with running_county("sqlite", tmp_path, serve_args=["--trusted-proxy", "127.0.0.1"]) as server:
        rotating = _wrong_sign_ins(server, acc_address_failures() + 2, _rotating())
        # Each forwarded address failed once: none is locked, and the proxy itself is not.
        assert 429 not in rotating, rotating
        same = _wrong_sign_ins(server, acc_address_failures() + 1, _same("198.51.100.7"))
        assert same[-1] == 429, same
        # Another client behind the same proxy still gets in.
        r = requests.post(
            server.url + protocol.LOGIN,
            json={
                "login": f"{TOWNSHIP_A}-op",
                "password": server.password(f"{TOWNSHIP_A}-op"),
                "device_id": device_id(),
            },
            headers={"X-Forwarded-For": "198.51.100.8"},
            timeout=30,
        )
        assert r.status_code == 200, r.text


def acc_address_failures() -> int:
    from sync.county import accounts

    return accounts.ADDRESS_FAILURES


def test_a_malformed_trusted_proxy_is_refused_in_plain_words(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            *county_command(),
            "serve",
            "--db",
            str(tmp_path / "none.sqlite"),
            "--trusted-proxy",
            "10.0.0.1,proxy.example",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=SERVER_ENV,
    )
    assert out.returncode == 2
    assert "'proxy.example' is not an IP address or network" in out.stderr


def test_every_serve_option_is_documented_in_deploy_md() -> None:
    deploy = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    serve = sub.choices["serve"]  # type: ignore[index]
    flags = [f for a in serve._actions for f in a.option_strings if f.startswith("--")]
    missing = [f for f in flags if f != "--help" and f"`{f}" not in deploy]
    assert not missing, f"gridroom-county serve options missing from docs/deploy.md: {missing}"


# -- 2. password hashing ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def standard_county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyServer]:
    """A county server hashing with the standard Argon2id profile (64 MiB a hash), as a county
    runs it, with the default number of hashing slots."""
    env = {**SERVER_ENV, "GRIDROOM_COUNTY_KDF": "standard"}
    workdir = tmp_path_factory.mktemp("standard")
    server = CountyServer(str(workdir / "county.sqlite"), workdir, backend="sqlite", env=env)
    server.init(townships=(TOWNSHIP_A,))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _timed_sign_in(server: CountyServer, login_name: str) -> float:
    started = time.perf_counter()
    r = api(
        server,
        "POST",
        protocol.LOGIN,
        json={"login": login_name, "password": "wrong-password", "device_id": device_id()},
    )
    took = time.perf_counter() - started
    assert r.status_code == 401, r.text
    assert_error_shape(r.content, "bad_credentials")
    return took


def test_an_unknown_name_costs_a_hash_like_a_wrong_password(standard_county: CountyServer) -> None:
    known = sorted(_timed_sign_in(standard_county, f"{TOWNSHIP_A}-sup") for _ in range(3))
    unknown = sorted(_timed_sign_in(standard_county, f"nobody-{i}") for i in range(3))
    # Medians of a 64 MiB Argon2id verification each (tenths of a second); without the dummy
    # hash an unknown name would answer in milliseconds.
    ratio = unknown[1] / known[1]
    assert 0.5 < ratio < 2, (known, unknown)
    assert unknown[1] > 0.05, unknown


def test_concurrent_sign_ins_are_capped_and_the_rest_told_to_retry(
    standard_county: CountyServer,
) -> None:
    before = memory_kb(standard_county)

    def attempt(i: int) -> requests.Response:
        return requests.post(
            standard_county.url + protocol.LOGIN,
            json={"login": f"ghost-{i}", "password": "guess", "device_id": device_id()},
            timeout=120,
        )

    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(attempt, range(30)))
    peak_mb = (memory_kb(standard_county) - before) / 1024
    statuses = [r.status_code for r in answers]
    assert 500 not in statuses, statuses
    assert set(statuses) <= {401, 429, 503}, statuses
    busy = [r for r in answers if r.status_code == 503]
    assert busy, statuses
    for r in busy:
        error = assert_error_shape(r.content, "unavailable")
        assert error["retry"] is True
        assert int(r.headers["Retry-After"]) >= 1
        assert error["retry_after"] == int(r.headers["Retry-After"])
    # Two slots of 64 MiB (and what the requests themselves take), not 30.
    assert peak_mb < 300, f"the server's peak memory grew by {peak_mb:.0f} MB for 30 sign-ins"
    # When the burst is over, a real sign-in goes through.
    time.sleep(1)
    r = api(
        standard_county,
        "POST",
        protocol.LOGIN,
        json={
            "login": f"{TOWNSHIP_A}-op",
            "password": standard_county.password(f"{TOWNSHIP_A}-op"),
            "device_id": device_id(),
        },
    )
    assert r.status_code in (200, 429), r.text


def test_hash_slots_is_a_serve_option(tmp_path: Path) -> None:
    out = subprocess.run(
        [*county_command(), "serve", "--db", str(tmp_path / "x.sqlite"), "--hash-slots", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **SERVER_ENV},
    )
    assert out.returncode == 2
    assert "--hash-slots must be at least 1" in out.stderr


def _put_head_only(county: CountyServer, path: str, token: str, length: int) -> Answer:
    """Send a PUT's headers, declaring ``length`` body bytes, and none of the body: an answer
    can only come from a server that decided without reading it."""
    parsed = urllib.parse.urlsplit(county.url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    sock = socket.create_connection((host, port), timeout=10)
    try:
        head = [
            f"PUT {path} HTTP/1.1",
            f"Host: {host}:{port}",
            f"Authorization: Bearer {token}",
            f"Content-Type: {protocol.BLOB_TYPE}",
            f"Content-Length: {length}",
        ]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        response = http.client.HTTPResponse(sock, method="PUT")
        try:
            response.begin()
        except TimeoutError:
            pytest.fail("no answer without the body: the server waits to read it")
        return Answer(response.status, dict(response.getheaders()), response.read(), 0)
    finally:
        sock.close()


def test_a_blob_chunk_stops_at_the_files_declared_size_before_its_body_is_read(
    county: CountyServer, tmp_path: Path
) -> None:
    from sync.model.clock import new_id

    token = sign_in(county)
    data = secrets.token_bytes(5000)
    sha = hashlib.sha256(data).hexdigest()
    # This device names a new file of 5,000 bytes in an attachment of its own case: a claim.
    grid = county.account(f"{TOWNSHIP_A}-gw")["grids"][0]
    account = county.account(f"{TOWNSHIP_A}-op")
    case_id = new_id()
    now = int(time.time() * 1000)
    report = {
        "id": new_id(),
        "case_id": case_id,
        "action": "report",
        "actor_id": account["id"],
        "role": account["role"],
        "at": now,
        "hlc": f"{now}.0000.LIMT",
        "payload": {"title": "限额测试", "category": "0604", "grid_id": grid, "case_no": "L1"},
    }
    meta = {
        "id": new_id(),
        "case_id": case_id,
        "entry_id": None,
        "sha256": sha,
        "name": "照片.png",
        "mime": "image/png",
        "size": len(data),
        "created_at": now,
    }
    body = {"cursor": 0, "push": {"batch_id": new_id(), "entries": [report], "attachments": [meta]}}
    r = api(county, "POST", protocol.SYNC, token, json=body)
    assert r.status_code == 200, r.text
    results = r.json()["push"]["results"]
    assert [x["status"] for x in results] == ["applied", "applied"], results
    url = protocol.BLOB.format(sha256=sha)
    # One byte past the declared size, at the start and after half the file: refused at once.
    answer = _put_head_only(county, url + "?offset=0", token, len(data) + 1)
    assert answer.status == 413, answer.body
    error = assert_error_shape(answer.body, "too_large")
    assert "declared size" in error["message"] and "5,000" in error["message"], error
    put = {"headers": {"Content-Type": protocol.BLOB_TYPE}}
    r = api(county, "PUT", url, token, params={"offset": 0}, data=data[:2000], **put)
    assert r.status_code == 200 and r.json()["received"] == 2000, r.text
    answer = _put_head_only(county, url + "?offset=2000", token, 3001)
    assert answer.status == 413, answer.body
    assert "3,000" in assert_error_shape(answer.body, "too_large")["message"]
    # A chunked body (no Content-Length) stops at the declared size too.
    answer = send_endless(
        county,
        url + "?offset=2000",
        {"Authorization": f"Bearer {token}", "Content-Type": protocol.BLOB_TYPE},
        zeros(1000),
        method="PUT",
    )
    assert answer.status == 413, answer.body
    # The rest, exactly, completes the file.
    r = api(county, "PUT", url, token, params={"offset": 2000}, data=data[2000:], **put)
    assert r.status_code == 200, r.text
    assert r.json() == {"sha256": sha, "size": len(data), "received": len(data), "complete": True}
