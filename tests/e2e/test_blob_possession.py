"""A file joins a case only with proof of possession, and nobody learns whether the county holds
a file they do not have.

Against a real county server on loopback (both backends), with two townships: a device of A that
knows the sha256 and size of B's photo can neither make it downloadable from its own case nor
download it, and every answer it gets is the one it would get for a file nobody has; a device
that really has the bytes proves it with a challenge over a few ranges and sends ~1 kB instead
of the photo.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from sync import protocol
from sync.county import db as county_db
from sync.county.db import Database
from sync.model.clock import new_id
from sync.store import attachments, replica

from .conftest import (
    BACKENDS,
    TOWNSHIP_A,
    TOWNSHIP_B,
    CountyServer,
    Device,
    api,
    attach,
    photo,
    postgres_database,
    report_case,
)

badlink = pytest.importorskip("tests.support.badlink")

OP_A = f"{TOWNSHIP_A}-op"
SUP_A = f"{TOWNSHIP_A}-sup"
OP_B = f"{TOWNSHIP_B}-op"
SUP_B = f"{TOWNSHIP_B}-sup"
_SEEDS = itertools.count(int.from_bytes(os.urandom(4), "big"))


def _meta(case_id: str, sha: str, size: int) -> dict[str, Any]:
    return {
        "id": new_id(),
        "case_id": case_id,
        "entry_id": None,
        "sha256": sha,
        "name": "照片.png",
        "mime": "image/png",
        "size": size,
        "created_at": int(time.time() * 1000),
    }


def _push_attachments(county: CountyServer, token: str, *metas: dict[str, Any]) -> list[dict]:
    body = {"cursor": 0, "push": {"batch_id": new_id(), "attachments": list(metas)}}
    r = api(county, "POST", protocol.SYNC, token, json=body)
    assert r.status_code == 200, r.text
    return list(r.json()["push"]["results"])


def _shape(value: Any, names: dict[str, str]) -> Any:
    """An answer with what must differ between two files (their hashes, ids, the random nonce,
    offsets and expiry of a challenge) replaced by placeholders: what is left must be equal."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "nonce":
                out[k] = "<nonce>"
            elif k == "expires_at":
                out[k] = "<time>"
            elif k == "ranges":
                out[k] = [["<offset>", n] for _, n in v]
            else:
                out[k] = _shape(v, names)
        return out
    if isinstance(value, list):
        return [_shape(v, names) for v in value]
    if isinstance(value, str):
        for real, placeholder in names.items():
            value = value.replace(real, placeholder)
    return value


def _answer(r: requests.Response, names: dict[str, str]) -> tuple[int, str, Any]:
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
    return r.status_code, r.headers.get("content-type", ""), _shape(body, names)


def _ms(call: Callable[[str], None], sha: str) -> float:
    t0 = time.perf_counter()
    call(sha)
    return (time.perf_counter() - t0) * 1000


@pytest.fixture
def b_photo(devices: Callable[..., Device]) -> tuple[Device, str, bytes, str]:
    """Township B's photo of one of its cases, uploaded: (B's device, the case, bytes, sha)."""
    b = devices(OP_B)
    data = photo(60_000, seed=next(_SEEDS))  # a photo new to this module's county
    case_b = report_case(b, "湖镇镇的照片")
    sha = attach(b, case_b, data)
    report = b.sync()
    assert report.status == "ok" and report.uploaded_bytes == len(data), report.to_json()
    return b, case_b, data, sha


def test_knowing_a_hash_and_size_neither_attaches_nor_downloads(
    devices: Callable[..., Device],
    county: CountyServer,
    b_photo: tuple[Device, str, bytes, str],
) -> None:
    b, _, data, sha_b = b_photo
    size = len(data)
    a = devices(OP_A)
    a_other = devices(SUP_A)
    case_a = report_case(a, "借用别镇照片")
    assert a.sync().status == "ok"
    # The hostile device announces B's photo on its own case, and, for comparison, a file of
    # the same size that nobody has.
    sha_none = hashlib.sha256(os.urandom(size)).hexdigest()
    names = {sha_b: "<sha>", sha_none: "<sha>"}
    meta_b, meta_none = _meta(case_a, sha_b, size), _meta(case_a, sha_none, size)
    names |= {meta_b["id"]: "<id>", meta_none["id"]: "<id>"}
    res_b, res_none = _push_attachments(county, a.token, meta_b, meta_none)
    assert _shape(res_b, names) == _shape(res_none, names)
    assert res_b["status"] == "applied"
    assert res_b["upload"] == {"received": 0, "complete": False}, "B's copy is not A's"
    # A wrong size used to answer "the size does not match the file with this sha256".
    wrong_b, wrong_none = _meta(case_a, sha_b, size + 1), _meta(case_a, sha_none, size + 1)
    names |= {wrong_b["id"]: "<id>", wrong_none["id"]: "<id>"}
    other = devices(OP_A)  # a second A device: its own claims, so sizes are not its own
    res_b, res_none = _push_attachments(county, other.token, wrong_b, wrong_none)
    assert _shape(res_b, names) == _shape(res_none, names)
    assert "size" not in str(res_b) and res_b["status"] == "applied"

    def both(method: str, path: str, **kw: Any) -> tuple[Any, Any]:
        answers = []
        for sha in (sha_b, sha_none):
            r = api(county, method, path.format(sha256=sha), a.token, **kw)
            answers.append(_answer(r, names))
        assert answers[0] == answers[1], (method, path, answers)
        return answers[0], answers[1]

    status, _ = both("GET", protocol.BLOB_STATUS)
    assert status[0] == 200 and status[2]["complete"] is False and status[2]["received"] == 0
    assert len(status[2]["challenge"]["ranges"]) == protocol.PROOF_RANGES
    # A guessed proof fails alike (and ends the challenge).
    answers = []
    for sha in (sha_b, sha_none):
        nonce = api(county, "GET", protocol.BLOB_STATUS.format(sha256=sha), a.token).json()[
            "challenge"
        ]["nonce"]
        guess = protocol.blob_proof(nonce, sha, size, [bytes(512)] * protocol.PROOF_RANGES)
        r = api(
            county,
            "POST",
            protocol.BLOB_PROOF.format(sha256=sha),
            a.token,
            json={"nonce": nonce, "proof": guess},
        )
        answers.append(_answer(r, names))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200 and answers[0][2]["complete"] is False
    # Downloads, whole and ranged, from the hostile device and from another device of A.
    for token in (a.token, a_other.token):
        for headers in ({}, {"Range": "bytes=0-99"}):
            got = []
            for sha in (sha_b, sha_none):
                r = api(county, "GET", protocol.BLOB.format(sha256=sha), token, headers=headers)
                got.append(_answer(r, names))
            assert got[0] == got[1]
            assert got[0][0] == 404 and got[0][2]["error"]["code"] == "not_found"
    # Uploading garbage: the same partial answers, the same refusal at the end.
    junk = os.urandom(size)
    put = {"headers": {"Content-Type": protocol.BLOB_TYPE}}
    first, _ = both("PUT", protocol.BLOB, params={"offset": 0}, data=junk[:20_000], **put)
    assert first[0] == 200 and first[2]["received"] == 20_000
    last, _ = both("PUT", protocol.BLOB, params={"offset": 20_000}, data=junk[20_000:], **put)
    assert last[0] == 422 and last[2]["error"]["code"] == "bad_checksum"
    # A's devices never get B's photo: the forged attachments join A's case for nobody.
    report = a_other.sync()
    assert report.status == "ok", report.to_json()
    assert report.downloaded_files == 0
    assert attachments.attachments(a_other.store, case_a) == []
    assert replica.pending_blobs(a_other.store, "down") == []
    r = api(county, "POST", protocol.SYNC, a_other.token, json={"cursor": 0})
    assert sha_b not in r.text and sha_none not in r.text
    village = a_other.store.case_row(case_a)["village_code"]  # type: ignore[index]
    r = api(county, "POST", protocol.SNAPSHOT, a_other.token, json={"village_code": village})
    assert r.status_code == 200 and sha_b not in r.text
    # B is untouched and still has its photo.
    c = devices(SUP_B)
    assert attachments.read_blob(c.store, sha_b) == data  # (encrypted on disk)
    assert b.sync().status == "ok"


def test_exists_elsewhere_and_does_not_exist_take_about_the_same_time(
    devices: Callable[..., Device],
    county: CountyServer,
    b_photo: tuple[Device, str, bytes, str],
) -> None:
    _, _, data, sha_b = b_photo
    size = len(data)
    a = devices(OP_A)
    case_a = report_case(a, "计时")
    assert a.sync().status == "ok"
    sha_none = hashlib.sha256(os.urandom(size)).hexdigest()
    _push_attachments(county, a.token, _meta(case_a, sha_b, size), _meta(case_a, sha_none, size))
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {a.token}"

    def prove(sha: str) -> None:
        status = session.get(county.url + protocol.BLOB_STATUS.format(sha256=sha), timeout=30)
        nonce = status.json()["challenge"]["nonce"]
        r = session.post(
            county.url + protocol.BLOB_PROOF.format(sha256=sha),
            json={"nonce": nonce, "proof": "0" * 64},
            timeout=30,
        )
        assert r.status_code == 200 and r.json()["complete"] is False

    def get(sha: str) -> None:
        r = session.get(county.url + protocol.BLOB.format(sha256=sha), timeout=30)
        assert r.status_code == 404

    for name, call in (("status+proof", prove), ("download", get)):
        times: dict[str, list[float]] = {sha_b: [], sha_none: []}
        for _ in range(3):  # warm up
            call(sha_b)
            call(sha_none)
        for _ in range(15):  # interleaved, so load on the machine hits both alike
            for sha in (sha_b, sha_none):
                times[sha].append(_ms(call, sha))
        there, absent = statistics.median(times[sha_b]), statistics.median(times[sha_none])
        print(f"{county.backend} {name}: exists {there:.2f} ms, absent {absent:.2f} ms")
        # Loose on purpose (a shared test machine): a difference an attacker could use from a
        # village link would be the cost of reading the file, tens of milliseconds.
        assert abs(there - absent) < max(8.0, 0.5 * min(there, absent)), (name, there, absent)


def test_a_device_that_has_the_bytes_proves_it_without_uploading(
    devices: Callable[..., Device],
    county: CountyServer,
    b_photo: tuple[Device, str, bytes, str],
) -> None:
    """A resident sent the same photo to both townships: A's operator attaches it too. The
    county has it (from B); A proves it has the bytes and sends a few hundred bytes."""
    _, _, data, sha = b_photo
    host, port = county.url.removeprefix("http://").split(":")
    with badlink.BadLink(target=(host, int(port)), profile=badlink.PROFILES["perfect"]) as link:
        real = county.url
        county.url = link.url
        try:
            a = devices(OP_A)
            a_sup = devices(SUP_A)
        finally:
            county.url = real
        case_a = report_case(a, "同一张照片")
        assert attach(a, case_a, data) == sha
        link.reset_stats()
        report = a.sync()
        up = link.stats["bytes_up"]
        assert report.status == "ok", report.to_json()
        assert (report.uploaded_files, report.proven_files, report.uploaded_bytes) == (1, 1, 0)
        print(f"{county.backend}: proving a {len(data):,}-byte photo sent {up:,} bytes up")
        assert up < len(data) // 10, f"{up} bytes went up for a {len(data)}-byte photo"
        # The attachment is proven: A's other device downloads the photo through A's case.
        down = a_sup.sync()
        assert down.status == "ok", down.to_json()
        assert down.downloaded_files == 1
        (pulled,) = attachments.attachments(a_sup.store, case_a)
        assert attachments.photo_bytes(a_sup.store, pulled) == data
    status = api(county, "GET", protocol.BLOB_STATUS.format(sha256=sha), a.token).json()
    assert status == {"sha256": sha, "size": len(data), "received": len(data), "complete": True}


def test_a_client_without_proofs_uploads_the_whole_file_and_then_holds_it(
    devices: Callable[..., Device],
    county: CountyServer,
    b_photo: tuple[Device, str, bytes, str],
) -> None:
    """An older client ignores the challenge and re-sends the file the county has: that works
    (and costs the file); a retried chunk and a wrong offset still answer where to resume."""
    _, _, data, sha = b_photo
    a = devices(OP_A)
    a_sup = devices(SUP_A)
    case_a = report_case(a, "旧客户端")
    assert a.sync().status == "ok"
    (res,) = _push_attachments(county, a.token, _meta(case_a, sha, len(data)))
    assert res["upload"] == {"received": 0, "complete": False}
    url = protocol.BLOB.format(sha256=sha)
    put = {"headers": {"Content-Type": protocol.BLOB_TYPE}}
    half = len(data) // 2
    r = api(county, "PUT", url, a.token, params={"offset": 0}, data=data[:half], **put)
    assert r.status_code == 200 and r.json()["received"] == half
    r = api(county, "PUT", url, a.token, params={"offset": 0}, data=data[:half], **put)
    assert r.status_code == 409 and r.json()["error"]["received"] == half
    status = api(county, "GET", protocol.BLOB_STATUS.format(sha256=sha), a.token).json()
    assert (status["received"], status["complete"]) == (half, False)
    r = api(county, "PUT", url, a.token, params={"offset": half}, data=data[half:], **put)
    assert r.status_code == 200, r.text
    assert r.json() == {"sha256": sha, "size": len(data), "received": len(data), "complete": True}
    # Now proven: A's other device gets the photo through A's case.
    report = a_sup.sync()
    assert report.status == "ok" and report.downloaded_files == 1, report.to_json()
    assert api(county, "GET", url, a_sup.token).content == data


def test_proofs_are_single_use_and_bound_to_the_file(
    devices: Callable[..., Device],
    county: CountyServer,
    b_photo: tuple[Device, str, bytes, str],
) -> None:
    """The right bytes under a used nonce, or with another size, do not prove anything."""
    _, _, data, sha = b_photo
    a = devices(OP_A)
    case_a = report_case(a, "一次性挑战")
    assert a.sync().status == "ok"
    _push_attachments(county, a.token, _meta(case_a, sha, len(data)))
    status_url = protocol.BLOB_STATUS.format(sha256=sha)
    proof_url = protocol.BLOB_PROOF.format(sha256=sha)

    def answer(challenge: dict[str, Any], size: int = len(data)) -> str:
        pieces = [data[o : o + n] for o, n in challenge["ranges"]]
        return protocol.blob_proof(challenge["nonce"], sha, size, pieces)

    first = api(county, "GET", status_url, a.token).json()["challenge"]
    assert api(county, "GET", status_url, a.token).json()["challenge"] == first, "one is open"
    # A wrong answer ends the challenge: the right one under that nonce no longer counts.
    r = api(county, "POST", proof_url, a.token, json={"nonce": first["nonce"], "proof": "1" * 64})
    assert r.json()["complete"] is False
    r = api(
        county, "POST", proof_url, a.token, json={"nonce": first["nonce"], "proof": answer(first)}
    )
    assert r.json()["complete"] is False
    # Bound to the size too.
    second = api(county, "GET", status_url, a.token).json()["challenge"]
    assert second["nonce"] != first["nonce"]
    wrong = answer(second, len(data) + 1)
    r = api(county, "POST", proof_url, a.token, json={"nonce": second["nonce"], "proof": wrong})
    assert r.json()["complete"] is False
    # Malformed proofs are a plain bad_request; a device that never announced the file: 404.
    r = api(county, "POST", proof_url, a.token, json={"nonce": "x", "proof": "no"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    stranger = devices(OP_A)
    third = api(county, "GET", status_url, a.token).json()["challenge"]
    r = api(
        county,
        "POST",
        proof_url,
        stranger.token,
        json={"nonce": third["nonce"], "proof": answer(third)},
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    # The right answer to an open challenge proves it; asking again is answered the same.
    for _ in range(2):
        r = api(
            county,
            "POST",
            proof_url,
            a.token,
            json={"nonce": third["nonce"], "proof": answer(third)},
        )
        assert r.status_code == 200
        assert r.json() == {
            "sha256": sha,
            "size": len(data),
            "received": len(data),
            "complete": True,
        }


@pytest.mark.parametrize("backend", BACKENDS)
def test_existing_county_data_is_migrated_to_holders(backend: str, tmp_path: Path) -> None:
    """A county database from before proofs: the device that first named a file holds it, and
    so do devices of its township that named it too; another township's reference (the hole)
    is not proven; a half-finished upload stays its uploader's, to resume."""
    with contextlib.ExitStack() as stack:
        if backend == "postgres":
            if not os.environ.get("GRIDROOM_TEST_PG"):
                pytest.skip("PostgreSQL tests need GRIDROOM_TEST_PG")
            url = stack.enter_context(postgres_database())
        else:
            url = str(tmp_path / "old.sqlite")
        db = stack.enter_context(Database(url))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(county_db, "MIGRATIONS", county_db.MIGRATIONS[:1])
            assert db.migrate() == ["0001_initial"]
        whole, part = os.urandom(5000), os.urandom(3000)
        sha_whole, sha_part = (hashlib.sha256(x).hexdigest() for x in (whole, part))
        with db.write() as tx:
            for dev, code, township in (
                ("dev-a1", "AAA1", TOWNSHIP_A),
                ("dev-a2", "AAA2", TOWNSHIP_A),
                ("dev-b1", "BBB1", TOWNSHIP_B),
            ):
                tx.execute(
                    "INSERT INTO devices (id, code, township_code, name, enrolled_by, "
                    "enrolled_at, last_seen) VALUES (?, ?, ?, ?, 'x', 0, 0)",
                    [dev, code, township, dev],
                )
            for att, sha, size, dev, seq in (
                ("att-1", sha_whole, len(whole), "dev-a1", 1),
                ("att-2", sha_whole, len(whole), "dev-a2", 2),
                ("att-3", sha_whole, len(whole), "dev-b1", 3),
                ("att-4", sha_part, len(part), "dev-a1", 4),
                ("att-5", sha_part, len(part), "dev-b1", 5),
            ):
                tx.execute(
                    "INSERT INTO attachments (id, case_id, entry_id, sha256, name, mime, size, "
                    "created_at, device_id, seq) VALUES (?, 'c', NULL, ?, 'p', 'image/png', ?, "
                    "0, ?, ?)",
                    [att, sha, size, dev, seq],
                )
            tx.execute(
                "INSERT INTO blobs (sha256, size, received, complete) VALUES (?, ?, ?, 1)",
                [sha_whole, len(whole), len(whole)],
            )
            tx.execute(
                "INSERT INTO blob_chunks (sha256, pos, data) VALUES (?, 0, ?)", [sha_whole, whole]
            )
            tx.execute(
                "INSERT INTO blobs (sha256, size, received, complete) VALUES (?, ?, 1000, 0)",
                [sha_part, len(part)],
            )
            tx.execute(
                "INSERT INTO blob_chunks (sha256, pos, data) VALUES (?, 0, ?)",
                [sha_part, part[:1000]],
            )
        assert db.migrate() == [m.name for m in county_db.MIGRATIONS[1:]]
        with db.read() as tx:
            holders = set(tx.rows("SELECT sha256, device_id FROM blob_holders"))
            proven = {str(r[0]) for r in tx.rows("SELECT id FROM attachments WHERE proven = 1")}
            uploads = set(tx.rows("SELECT sha256, device_id, size, received FROM blob_uploads"))
            chunks = tx.rows("SELECT sha256, device_id, pos, data FROM upload_chunks")
            blobs = {str(r[0]) for r in tx.rows("SELECT sha256 FROM blobs")}
            stored = tx.rows("SELECT sha256 FROM blob_chunks")
    assert holders == {(sha_whole, "dev-a1"), (sha_whole, "dev-a2")}
    assert proven == {"att-1", "att-2"}
    assert uploads == {
        (sha_whole, "dev-b1", len(whole), 0),
        (sha_part, "dev-a1", len(part), 1000),
        (sha_part, "dev-b1", len(part), 0),
    }
    assert [(r[0], r[1], int(r[2]), bytes(r[3])) for r in chunks] == [
        (sha_part, "dev-a1", 0, part[:1000])
    ]
    assert blobs == {sha_whole} and [str(r[0]) for r in stored] == [sha_whole]


def test_a_challenge_the_client_cannot_answer_makes_it_upload() -> None:
    """A challenge out of the file, too big, or of the wrong form is not answered (the client
    uploads instead); a well-formed one is."""
    nonce = "n" * 43
    good = {"nonce": nonce, "ranges": [[0, 512], [9000, 512]]}
    assert protocol.check_challenge(good, 10_000) == (nonce, [(0, 512), (9000, 512)])
    for bad in (
        None,
        {"nonce": "short", "ranges": [[0, 10]]},
        {"nonce": nonce, "ranges": []},
        {"nonce": nonce, "ranges": [[9800, 512]]},  # past the end of the file
        {"nonce": nonce, "ranges": [[-1, 10]]},
        {"nonce": nonce, "ranges": [[0, True]]},
        {"nonce": nonce, "ranges": [[0, 10, 3]]},
        {"nonce": nonce, "ranges": [[0, 512]] * (protocol.PROOF_RANGES + 1)},
        {"nonce": nonce, "ranges": [[0, 9000]]},  # more than a proof ever reads
    ):
        assert protocol.check_challenge(bad, 10_000) is None, bad
    # The server's ranges: the whole of a small file, else 16 of 512 bytes inside the file.
    assert protocol.proof_ranges(5000, lambda n: 0) == [(0, 5000)]
    ranges = protocol.proof_ranges(1_000_000, lambda n: n - 1)
    assert ranges == [(1_000_000 - 512, 512)] * protocol.PROOF_RANGES
