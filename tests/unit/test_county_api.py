"""The county's HTTP surface, in process: every endpoint is published in OpenAPI and documented
in docs/sync-protocol.md; bodies are gzip'd both ways; errors have one shape."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sync import protocol
from sync.county import accounts as acc
from sync.county.app import create_app
from sync.county.db import Database
from sync.county.service import County
from sync.model.clock import new_id

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "docs" / "sync-protocol.md"
A = "330825102"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    acc.set_kdf_profile("light")
    path = str(tmp_path_factory.mktemp("api") / "county.sqlite")
    with Database(path) as db:
        accounts = {a["login"]: a for a in County.initialise(db, "330825", demo_townships=[A])}
    try:
        with TestClient(create_app(path)) as c:
            yield c, accounts
    finally:
        acc.set_kdf_profile("standard")


def _token(c: TestClient, accounts: dict) -> str:
    r = c.post(
        protocol.LOGIN,
        json={
            "login": f"{A}-op",
            "password": accounts[f"{A}-op"]["password"],
            "device_id": new_id(),
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def test_every_endpoint_is_published_and_documented(client: tuple[TestClient, dict]) -> None:
    c, _ = client
    spec = c.get("/openapi.json").json()
    published = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert published == set(protocol.ENDPOINTS)
    text = SPEC.read_text(encoding="utf-8")
    for method, path in sorted(published):
        assert re.search(rf"`{method} {re.escape(path)}`", text), (
            f"{method} {path} is not documented in docs/sync-protocol.md"
        )
    for code in [*protocol.ERRORS, *protocol.REJECT_CODES]:
        assert f"`{code}`" in text, f"error code {code} is not documented"


def test_health_needs_no_token_and_names_versions(client: tuple[TestClient, dict]) -> None:
    c, _ = client
    r = c.get(protocol.HEALTH)
    assert r.status_code == 200
    assert r.headers[protocol.PROTOCOL_HEADER] == str(protocol.PROTOCOL_VERSION)
    assert r.json()["protocol"] == list(protocol.SUPPORTED_VERSIONS)


def test_a_newer_client_is_told_to_update(client: tuple[TestClient, dict]) -> None:
    c, _ = client
    r = c.get(protocol.HEALTH, headers={protocol.PROTOCOL_HEADER: "99"})
    assert r.status_code == 426
    assert r.json()["error"]["code"] == "protocol_version"
    assert r.json()["error"]["supported"] == [1]


def test_gzip_both_ways(client: tuple[TestClient, dict]) -> None:
    c, accounts = client
    token = _token(c, accounts)
    body = gzip.compress(json.dumps({"cursor": 0, "page_bytes": 200_000}).encode())
    r = c.post(
        protocol.SYNC,
        content=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
            "Accept-Encoding": "gzip",
        },
    )
    assert r.status_code == 200, r.text
    assert "pull" in r.json()
    r = c.get(
        protocol.REFERENCE, headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    )
    assert r.headers.get("content-encoding") == "gzip"
    assert len(r.json()["grids"]) > 10


def test_bad_bodies_get_one_error_shape(client: tuple[TestClient, dict]) -> None:
    c, accounts = client
    token = _token(c, accounts)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    cases = [
        (b"{not json", {}, 400, "bad_request"),
        (
            gzip.compress(b"\0" * (protocol.BODY_MAX_DECOMPRESSED + 10)),
            {"Content-Encoding": "gzip"},
            413,
            "too_large",
        ),
        (b"\x1f\x8b\x08\x00broken", {"Content-Encoding": "gzip"}, 400, "bad_request"),
        (json.dumps({"cursor": "x"}).encode(), {}, 400, "bad_request"),
        (
            json.dumps({"push": {"batch_id": "b1", "entries": "nope"}}).encode(),
            {},
            400,
            "bad_request",
        ),
    ]
    for body, headers, status, code in cases:
        r = c.post(protocol.SYNC, content=body, headers={**auth, **headers})
        assert r.status_code == status, (body[:20], r.text)
        error = r.json()["error"]
        assert error["code"] == code and error["message"] and error["retry"] is False
    r = c.post(
        protocol.SYNC,
        json={"cursor": 0, "push": {"batch_id": "b2", "entries": []}},
        headers={"Authorization": f"Bearer {token}", protocol.IDEMPOTENCY_HEADER: "b3"},
    )
    assert r.status_code == 409 and "Idempotency-Key" in r.json()["error"]["message"]
    r = c.get("/v1/blobs/not-a-hash/status", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    assert "sha256" in r.json()["error"]["message"]
    r = c.get(
        protocol.BLOB.format(sha256="a" * 64),
        headers={"Authorization": f"Bearer {token}", "Range": "bytes=oops"},
    )
    assert r.status_code in (400, 404)


def test_throttled_logins_say_when_to_come_back(client: tuple[TestClient, dict]) -> None:
    c, _ = client
    for _ in range(acc.ACCOUNT_FAILURES):
        r = c.post(
            protocol.LOGIN, json={"login": f"{A}-police", "password": "x", "device_id": new_id()}
        )
        assert r.status_code == 401
    r = c.post(
        protocol.LOGIN, json={"login": f"{A}-police", "password": "x", "device_id": new_id()}
    )
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["retry"] is True
