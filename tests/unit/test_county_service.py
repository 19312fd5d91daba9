"""The county platform's rules, in process, on both storage backends: passwords and tokens,
login throttling, enrolment, per-item validation of pushes, paging, snapshots, attachments."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync import protocol
from sync.county import accounts as acc
from sync.county.db import Database
from sync.county.seed import COUNTY_DEPARTMENTS
from sync.county.service import ApiError, County, Session
from sync.model.clock import HlcStamp, new_id
from tests.e2e.conftest import postgres_database

A, B = "330825102", "330825101"
NOW = 1_800_000_000_000


@pytest.fixture(scope="module", autouse=True)
def light_kdf() -> Iterator[None]:
    acc.set_kdf_profile("light")
    yield
    acc.set_kdf_profile("standard")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], scope="module"
)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A county database initialised once per module and backend (tests use their own data)."""
    if request.param == "postgres":
        if not os.environ.get("GRIDROOM_TEST_PG"):
            pytest.skip("PostgreSQL tests need GRIDROOM_TEST_PG (see .ci/postgres.sh)")
        with postgres_database() as url, Database(url) as db:
            yield url, County.initialise(db, "330825", demo_townships=[A, B], clock=Clock())
    else:
        url = str(tmp_path_factory.mktemp("county") / "county.sqlite")
        with Database(url) as db:
            accounts = County.initialise(db, "330825", demo_townships=[A, B], clock=Clock())
        yield url, accounts


@pytest.fixture
def county(backend: tuple[str, list[dict[str, Any]]]) -> Iterator[County]:
    with Database(backend[0]) as db:
        yield County(db, clock=Clock())


@pytest.fixture
def accounts(backend: tuple[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {a["login"]: a for a in backend[1]}


def sign_in(
    county: County,
    accounts: dict[str, dict[str, Any]],
    name: str,
    device: str | None = None,
    **kw: Any,
) -> tuple[Session, dict[str, Any]]:
    answer = county.login(
        name,
        accounts[name]["password"],
        device_id=device or new_id(),
        address=kw.pop("address", "10.0.0.1"),
        **kw,
    )
    return county.authenticate("Bearer " + answer["token"]), answer


def entry(
    actor: dict[str, Any], case_id: str, action: str, payload: dict[str, Any], at: int = NOW
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "case_id": case_id,
        "action": action,
        "actor_id": actor["id"],
        "role": actor["role"],
        "at": at,
        "hlc": HlcStamp(at, 0, "T001").encode(),
        "payload": payload,
    }


def report(actor: dict[str, Any], grid: str, title: str = "测试事件") -> dict[str, Any]:
    return entry(
        actor,
        new_id(),
        "report",
        {
            "title": title,
            "category": "0301",
            "grid_id": grid,
            "village_code": grid[:12],
            "township_code": grid[:9],
            "case_no": "N",
        },
    )


def push(
    county: County, session: Session, *entries: dict[str, Any], **lists: Any
) -> list[dict[str, Any]]:
    batch = {"batch_id": new_id(), "entries": list(entries), **lists}
    return county.push(session, batch, server_now=NOW)["results"]


# -- accounts, tokens, throttling -----------------------------------------------------------


def test_the_standard_kdf_is_memory_hard() -> None:
    assert acc.KDF_PROFILES["standard"]["memory_cost"] >= 64 * 1024
    acc.set_kdf_profile("standard")
    try:
        digest = acc.hash_password("口令-123")
        assert digest.startswith("$argon2id$") and "m=65536" in digest
        assert acc.verify_password(digest, "口令-123")
        assert not acc.verify_password(digest, "口令-124")
        assert not acc.verify_password(None, "anything")
    finally:
        acc.set_kdf_profile("light")


def test_tokens_are_stored_only_as_hashes(county: County, accounts: dict[str, Any]) -> None:
    session, answer = sign_in(county, accounts, f"{A}-op")
    token = answer["token"]
    assert len(token) >= 40
    with county.db.read() as tx:
        stored = [r[0] for r in tx.rows("SELECT hash FROM tokens")]
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    county.logout(session)
    with pytest.raises(ApiError) as info:
        county.authenticate("Bearer " + token)
    assert info.value.code == "unauthorized"


def test_wrong_passwords_are_throttled_per_account_and_address(
    county: County, accounts: dict[str, Any]
) -> None:
    name = f"{B}-police"
    for _ in range(acc.ACCOUNT_FAILURES - 1):
        with pytest.raises(ApiError) as info:
            county.login(name, "guess", device_id=new_id(), address="10.9.9.9")
        assert info.value.code == "bad_credentials"
    with pytest.raises(ApiError):
        county.login(name, "guess", device_id=new_id(), address="10.9.9.9")
    # Now even the right password waits, and the answer says how long.
    with pytest.raises(ApiError) as info:
        county.login(name, accounts[name]["password"], device_id=new_id(), address="10.1.1.1")
    assert info.value.code == "throttled" and info.value.status == 429
    assert int(info.value.headers["Retry-After"]) > 0
    # After the lock-out the right password works, and it clears the count.
    county.clock.now += acc.LOCKOUT_MS + 1  # type: ignore[attr-defined]
    sign_in(county, accounts, name, address="10.1.1.1")
    # An address that guesses at many accounts is stopped too.
    for i in range(acc.ADDRESS_FAILURES):
        with pytest.raises(ApiError):
            county.login(f"nobody-{i}", "guess", device_id=new_id(), address="10.6.6.6")
    with pytest.raises(ApiError) as info:
        sign_in(county, accounts, f"{B}-op", address="10.6.6.6")
    assert info.value.code == "throttled"


def test_unknown_names_and_wrong_passwords_look_alike(county: County) -> None:
    messages = set()
    for name in ("no-such-user", f"{A}-sup"):
        with pytest.raises(ApiError) as info:
            county.login(name, "wrong", device_id=new_id(), address="10.2.2.2")
        messages.add((info.value.code, info.value.message))
    assert messages == {("bad_credentials", "Wrong account name or password.")}


def test_disabling_and_resetting_revoke_tokens(county: County, accounts: dict[str, Any]) -> None:
    _, password = county.add_user("tmp-op", name="临时", role=acc.Role.OPERATOR, township=A)
    accounts["tmp-op"] = {"password": password}
    _, answer = sign_in(county, accounts, "tmp-op")
    county.set_disabled("tmp-op", True)
    with pytest.raises(ApiError) as info:
        county.authenticate("Bearer " + answer["token"])
    assert info.value.code in ("unauthorized", "account_disabled")
    with pytest.raises(ApiError) as info:
        sign_in(county, accounts, "tmp-op")
    assert info.value.code == "account_disabled"
    county.set_disabled("tmp-op", False)
    _, answer = sign_in(county, accounts, "tmp-op")
    accounts["tmp-op"]["password"] = county.reset_password("tmp-op")
    with pytest.raises(ApiError):
        county.authenticate("Bearer " + answer["token"])
    sign_in(county, accounts, "tmp-op")
    with pytest.raises(ValueError, match="already exists"):
        county.add_user("tmp-op", name="x", role=acc.Role.OPERATOR, township=A)
    with pytest.raises(ValueError, match="not a grid of township"):
        county.add_user(
            "tmp-gw",
            name="x",
            role=acc.Role.GRID_WORKER,
            township=A,
            grids=[accounts[f"{B}-gw"]["grids"][0]],
        )


def test_enrolment_gives_each_device_a_county_unique_code(
    county: County, accounts: dict[str, Any]
) -> None:
    device = new_id()
    _, first = sign_in(county, accounts, f"{A}-op", device)
    _, again = sign_in(county, accounts, f"{A}-sup", device)
    assert first["device"] == again["device"]
    assert len(first["device"]["code"]) == 4
    codes = {sign_in(county, accounts, f"{A}-op")[1]["device"]["code"] for _ in range(5)}
    assert len(codes) == 5 and first["device"]["code"] not in codes
    with pytest.raises(ApiError) as info:
        sign_in(county, accounts, f"{B}-op", device)
    assert info.value.code == "wrong_device"
    # A county admin may enrol a device to a township; it then sees that township.
    session, answer = sign_in(county, accounts, "330825-admin", township=A)
    assert answer["device"]["township"] == A and session.keys == {f"t:{A}"}
    session, _ = sign_in(county, accounts, "330825-admin")
    assert session.keys == {"c:330825"}


def test_scope_keys_by_role() -> None:
    gw = acc.Account("1", "gw", "网格员", acc.Role.GRID_WORKER, A, None, ("g1", "g2"), False)
    op = acc.Account("2", "op", "值班员", acc.Role.OPERATOR, A, None, (), False)
    admin = acc.Account("3", "ad", "管理员", acc.Role.COUNTY_ADMIN, None, None, (), False)
    assert acc.scope_keys(gw, A) == {"g:g1", "g:g2"}
    assert acc.scope_keys(op, A) == {f"t:{A}"}
    assert acc.scope_keys(admin, "330825") == {"c:330825"}
    with pytest.raises(acc.ScopeError):
        acc.scope_keys(op, B)
    with pytest.raises(acc.ScopeError):
        acc.scope_keys(op, "330825")


# -- push --------------------------------------------------------------------------------------


def test_each_bad_item_is_refused_alone_with_its_reason(
    county: County, accounts: dict[str, Any]
) -> None:
    session, _ = sign_in(county, accounts, f"{A}-op")
    op, sup = accounts[f"{A}-op"], accounts[f"{A}-sup"]
    gw_a, gw_b = accounts[f"{A}-gw"], accounts[f"{B}-gw"]
    grid_a, grid_b = gw_a["grids"][0], gw_b["grids"][0]
    good = report(op, grid_a)
    forged_role = {**entry(op, good["case_id"], "comment", {"text": "x"}), "role": "supervisor"}
    items = [
        good,
        {"id": new_id(), "action": "report"},  # malformed
        entry({**op, "id": new_id()}, good["case_id"], "comment", {"text": "x"}),  # unknown
        forged_role,  # role_mismatch
        entry(op, good["case_id"], "approve_park", {}),  # role_not_allowed
        entry(sup, good["case_id"], "urge", {}),  # actor_not_on_device
        report(op, grid_b),  # out_of_scope
        entry(op, new_id(), "comment", {"text": "x"}),  # unknown_case
        {
            **report(op, grid_a),
            "payload": {"title": "x", "category": "0301", "grid_id": "330825102999999"},
        },  # unknown_place
        {
            **report(op, grid_a),
            "payload": {"title": "", "category": "0301", "grid_id": grid_a},
        },  # invalid
        {**good, "payload": {**good["payload"], "title": "改过的"}},  # id_clash
        good,  # duplicate
        entry(op, good["case_id"], "comment", {"text": "好的"}),  # applied
    ]
    results = push(county, session, *items)
    assert [r.get("code", r["status"]) for r in results] == [
        "applied",
        "malformed",
        "unknown_actor",
        "role_mismatch",
        "role_not_allowed",
        "actor_not_on_device",
        "out_of_scope",
        "unknown_case",
        "unknown_place",
        "invalid",
        "id_clash",
        "duplicate",
        "applied",
    ]
    assert all(r["reason"] for r in results if r["status"] == "rejected")
    assert "an operator may not approve park" in results[4]["reason"]


def test_a_replayed_batch_gets_its_first_answer(county: County, accounts: dict[str, Any]) -> None:
    session, _ = sign_in(county, accounts, f"{A}-op")
    op = accounts[f"{A}-op"]
    batch = {"batch_id": new_id(), "entries": [report(op, accounts[f"{A}-gw"]["grids"][0])]}
    first = county.push(session, batch, server_now=NOW)
    with county.db.read() as tx:
        before = tx.scalar("SELECT value FROM counters WHERE name = 'seq'")
    second = county.push(session, batch, server_now=NOW + 5000)
    assert second.pop("replayed") is True
    assert second == first
    with county.db.read() as tx:
        assert tx.scalar("SELECT value FROM counters WHERE name = 'seq'") == before
    with pytest.raises(ApiError, match="batch_id"):
        county.push(session, {"entries": []}, server_now=NOW)


def test_stamps_from_the_future_are_clamped(county: County, accounts: dict[str, Any]) -> None:
    session, _ = sign_in(county, accounts, f"{A}-op")
    op = accounts[f"{A}-op"]
    ahead = 10 * 365 * 86_400_000
    e = report(op, accounts[f"{A}-gw"]["grids"][0])
    e = {**e, "at": NOW + ahead, "hlc": HlcStamp(NOW + ahead, 2, "T001").encode()}
    (result,) = county.push(
        session, {"batch_id": new_id(), "entries": [e]}, server_now=NOW, device_offset=-ahead
    )["results"]
    assert result["status"] == "applied"
    assert abs(result["stamp"]["at"] - NOW) < 1000
    assert HlcStamp.decode(result["stamp"]["hlc"]) == HlcStamp(result["stamp"]["at"], 2, "T001")
    # Pushing the original again is recognised as the same entry, with the county's stamp.
    (again,) = push(county, session, e)
    assert again["status"] == "duplicate" and again["stamp"] == result["stamp"]


def test_clamped_stamps_of_one_device_keep_its_order(
    county: County, accounts: dict[str, Any]
) -> None:
    # A device far ahead whose offset the county underestimates: its stamps are capped to now,
    # where their counters (50, then 0) would put the comment before the report.
    session, _ = sign_in(county, accounts, f"{A}-op")
    op = accounts[f"{A}-op"]
    ahead = 10 * 365 * 86_400_000
    first = report(op, accounts[f"{A}-gw"]["grids"][0])
    first = {**first, "at": NOW + ahead, "hlc": HlcStamp(NOW + ahead, 50, "T001").encode()}
    later = entry(op, first["case_id"], "comment", {"text": "已到现场"})
    later = {
        **later,
        "at": NOW + ahead + 1000,
        "hlc": HlcStamp(NOW + ahead + 1000, 0, "T001").encode(),
    }
    results = county.push(
        session,
        {"batch_id": new_id(), "entries": [first, later]},
        server_now=NOW,
        device_offset=-ahead // 2,
    )["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    stamps = [r["stamp"]["hlc"] for r in results]
    assert all(HlcStamp.decode(h).wall <= NOW for h in stamps)
    assert stamps[0] < stamps[1], "the report still comes before the comment"


# -- pull and snapshot -------------------------------------------------------------------------


def test_pull_pages_respect_the_byte_budget_and_resume(
    county: County, accounts: dict[str, Any]
) -> None:
    writer, _ = sign_in(county, accounts, f"{B}-op")
    reader, _ = sign_in(county, accounts, f"{B}-sup")
    op = accounts[f"{B}-op"]
    grid = accounts[f"{B}-gw"]["grids"][0]
    with county.db.read() as tx:
        start = county._pull(tx, reader, 0, protocol.PAGE_MAX, False)["cursor"]
    sent = [report(op, grid, title="分页" + "长" * 300) for _ in range(12)]
    push(county, writer, *sent)
    seen: list[str] = []
    cursor, pages = start, 0
    while True:
        with county.db.read() as tx:
            page = county._pull(tx, reader, cursor, 3000, True)
        pages += 1
        sizes = [protocol.json_size(i) for i in page["items"]]
        assert sum(sizes) <= 3000 or len(sizes) == 1
        seen += [i["entry"]["id"] for i in page["items"] if i["kind"] == "entry"]
        assert page["cursor"] >= cursor
        cursor = page["cursor"]
        if not page["more"]:
            assert "checksums" in page
            break
        assert "checksums" not in page
    assert pages >= 4
    assert seen == [e["id"] for e in sent], "every change once, in order"
    # The writer does not get its own entries back.
    with county.db.read() as tx:
        own = county._pull(tx, writer, start, protocol.PAGE_MAX, False)
    assert own["items"] == [] and own["cursor"] == cursor
    # A cursor from the future (a restored server) is answered from the start, flagged.
    with county.db.read() as tx:
        reset = county._pull(tx, reader, 10**12, 1000, False)
    assert reset["reset"] is True


def test_snapshot_lists_a_village_page_by_page(county: County, accounts: dict[str, Any]) -> None:
    writer, _ = sign_in(county, accounts, f"{B}-op")
    op = accounts[f"{B}-op"]
    grid = accounts[f"{B}-gw"]["grids"][1]
    push(county, writer, *[report(op, grid, title=f"快照{i}") for i in range(5)])
    ids: list[str] = []
    after = None
    while True:
        page = county.snapshot(writer, grid[:12], after, page_bytes=700)
        ids += [c["case_id"] for c in page["cases"]]
        if page["done"]:
            break
        after = page["next"]
    assert len(ids) == len(set(ids)) >= 5
    other, _ = sign_in(county, accounts, f"{A}-op")
    assert county.snapshot(other, grid[:12], None)["cases"] == []


# -- attachments -------------------------------------------------------------------------------


def test_chunks_must_continue_where_the_server_is(county: County, accounts: dict[str, Any]) -> None:
    session, _ = sign_in(county, accounts, f"{A}-op")
    op = accounts[f"{A}-op"]
    rep = report(op, accounts[f"{A}-gw"]["grids"][0])
    data = os.urandom(10_000)
    sha = hashlib.sha256(data).hexdigest()
    meta = {
        "id": new_id(),
        "case_id": rep["case_id"],
        "sha256": sha,
        "name": "p.jpg",
        "mime": "image/jpeg",
        "size": len(data),
        "created_at": NOW,
    }
    results = push(county, session, rep, attachments=[meta])
    assert results[1]["status"] == "applied"
    assert results[1]["upload"] == {"received": 0, "complete": False}
    assert county.put_chunk(session, sha, 0, data[:4000])["received"] == 4000
    with pytest.raises(ApiError) as info:
        county.put_chunk(session, sha, 0, data[:4000])
    assert info.value.code == "offset_mismatch" and info.value.extra["received"] == 4000
    with pytest.raises(ApiError) as info:
        county.put_chunk(session, sha, 4000, data[4000:] + b"extra")
    assert info.value.code == "too_large"
    # Bytes that do not match the hash are thrown away and the upload starts over.
    with pytest.raises(ApiError) as info:
        county.put_chunk(session, sha, 4000, bytes(6000))
    assert info.value.code == "bad_checksum"
    assert county.blob_status(session, sha)["received"] == 0
    county.put_chunk(session, sha, 0, data[:4000])
    done = county.put_chunk(session, sha, 4000, data[4000:])
    assert done == {"sha256": sha, "size": len(data), "received": len(data), "complete": True}
    assert county.get_blob(session, sha) == (data, len(data))
    assert county.get_blob(session, sha, 3990, 4010) == (data[3990:4011], len(data))
    outsider, _ = sign_in(county, accounts, f"{B}-op")
    with pytest.raises(ApiError) as info:
        county.get_blob(outsider, sha)
    assert info.value.code == "not_found"


def test_reference_data_is_the_townships(county: County, accounts: dict[str, Any]) -> None:
    session, _ = sign_in(county, accounts, f"{A}-op")
    ref = county.reference(session)
    assert ref["grids"] and {g["village_code"][:9] for g in ref["grids"]} == {A}
    assert {a["id"] for a in ref["accounts"]} >= {
        accounts[f"{A}-op"]["id"],
        accounts["330825-admin"]["id"],
    }
    assert accounts[f"{B}-op"]["id"] not in {a["id"] for a in ref["accounts"]}
    assert "password_hash" not in str(ref) and "$argon2" not in str(ref)
    assert len(ref["taxonomy"]) > 10
    # The 12 departments of the townships' 1+N, and the county's own bureaus (县级部门).
    levels = [d["level"] for d in ref["departments"]]
    assert levels.count("township") == 12
    assert levels.count("county") == len(COUNTY_DEPARTMENTS)


def test_a_database_without_a_county_is_refused(tmp_path: Path) -> None:
    from sync.county.db import DatabaseError

    with Database(str(tmp_path / "empty.sqlite")) as db:
        db.migrate()
        with pytest.raises(DatabaseError, match="gridroom-county init"):
            County(db)
