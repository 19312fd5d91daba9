"""Sync by USB stick: a device's signed, encrypted bundle, imported by ``gridroom-county bundle
import`` (a real subprocess against the real county database, both backends), and the county's
return bundle imported on the device — exactly once, however often and in whatever order
bundles and online syncs arrive; and every bad bundle refused in plain words with nothing
applied.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sync import bundlefile
from sync.bundlefile import BundleError, KeyPair
from sync.client import bundle
from sync.county.db import Database
from sync.model.clock import new_id
from sync.store import keys, replica

from .conftest import (
    COUNTY,
    REPO,
    TOWNSHIP_A,
    CountyServer,
    Device,
    attach,
    county_command,
    photo,
    report_case,
)

OP_A = f"{TOWNSHIP_A}-op"
SUP_A = f"{TOWNSHIP_A}-sup"


def county_import(server: CountyServer, src: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*county_command(), "bundle", "import", str(src), "--db", server.db_url, "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=server.env,
    )


def imported(server: CountyServer, src: Path, out: Path) -> dict[str, Any]:
    done = county_import(server, src, out)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def county_count(server: CountyServer, sql: str, args: list[Any]) -> int:
    with Database(server.db_url) as db, db.read() as tx:
        return int(tx.scalar(sql, args, default=0))


def test_round_trip_exactly_once_with_photos(
    devices: Any, county: CountyServer, tmp_path: Path
) -> None:
    dev = devices(OP_A)
    case_id = report_case(dev, "山洪冲垮便桥")
    data = photo(300_000, seed=7)
    sha = attach(dev, case_id, data)
    before = replica.waiting(dev.store)
    assert before["changes"] >= 2

    stick = tmp_path / "stick"
    stick.mkdir()
    out = bundle.export_bundle(dev.store, stick)
    path = Path(out.path)
    assert path.parent == stick and path.exists() and out.files == 1
    assert not list(stick.glob("*.part"))
    assert data not in path.read_bytes()  # encrypted: the photo is not on the stick in clear
    assert "山洪".encode() not in path.read_bytes()

    first = imported(county, path, tmp_path / "return1.bundle")
    assert first["applied"] >= 2 and first["files"] == 1 and not first["already_imported"]
    assert county_count(county, "SELECT count(*) FROM cases WHERE id = ?", [case_id]) == 1
    # The county treats the device as holding the photo: its attachment is proven.
    assert county_count(county, "SELECT count(*) FROM blob_holders WHERE sha256 = ?", [sha]) == 1
    assert county_count(county, "SELECT proven FROM attachments WHERE sha256 = ?", [sha]) == 1
    entries = county_count(county, "SELECT count(*) FROM entries", [])

    # Importing the same bundle again changes nothing at the county.
    again = imported(county, path, tmp_path / "return2.bundle")
    assert again["already_imported"] and again["files"] == 0
    assert county_count(county, "SELECT count(*) FROM entries", []) == entries

    back = bundle.import_return(dev.store, tmp_path / "return1.bundle")
    assert back.acknowledged_batches == out.batches and back.pushed >= 2
    assert replica.waiting(dev.store) == {"changes": 0, "uploads": 0, "downloads": 0}
    cursor = replica.cursor(dev.store)
    # The second return bundle (and the first, again) on the device: nothing more happens.
    for name in ("return2.bundle", "return1.bundle"):
        twice = bundle.import_return(dev.store, tmp_path / name)
        assert twice.acknowledged_batches == 0 and twice.skipped_batches == out.batches
    assert replica.cursor(dev.store) == cursor

    # Online afterwards: nothing to push, the photo is not uploaded again.
    report = dev.sync()
    assert report.status == "ok", report.to_json()
    assert report.pushed == 0 and report.uploaded_files == 0 and report.uploaded_bytes == 0

    # Another device of the township gets the case and downloads the photo the stick carried.
    other = devices(SUP_A)
    assert other.store.case(case_id) is not None
    assert other.sync().status == "ok"
    from sync.store import attachments

    assert attachments.read_blob(other.store, sha) == data


def test_return_bundle_brings_the_countys_changes(
    devices: Any, county: CountyServer, tmp_path: Path
) -> None:
    dev = devices(OP_A)
    other = devices(SUP_A)
    case_id = report_case(other, "村口路灯不亮")
    data = photo(200_000, seed=11)
    sha = attach(other, case_id, data)
    assert other.sync().status == "ok"
    assert dev.store.case(case_id) is None
    out = bundle.export_bundle(dev.store, tmp_path / "a.bundle")
    assert out.batches == 0  # nothing to send: the bundle still asks for the county's news
    sent = imported(county, tmp_path / "a.bundle", tmp_path / "r.bundle")
    assert sent["files_out"] == 1 and sent["file_bytes_out"] == len(data)
    back = bundle.import_return(dev.store, tmp_path / "r.bundle")
    assert back.pull_applied and back.pulled_entries >= 1
    assert dev.store.case(case_id) is not None
    # The photo came back on the stick too, checked against its sha256.
    assert back.files_received == 1
    from sync.store import attachments

    assert attachments.read_blob(dev.store, sha) == data
    assert replica.waiting(dev.store)["downloads"] == 0
    report = dev.sync()
    assert report.pulled_entries == 0 and report.downloaded_files == 0  # the stick brought all


def test_online_sync_before_the_bundle_arrives(
    devices: Any, county: CountyServer, tmp_path: Path
) -> None:
    dev = devices(OP_A)
    case_id = report_case(dev, "垃圾清运不及时")
    out = bundle.export_bundle(dev.store, tmp_path / "late.bundle")
    assert out.batches == 1
    report = dev.sync()  # the link came back before the stick reached the county
    assert report.status == "ok" and report.pushed >= 1
    entries = county_count(county, "SELECT count(*) FROM entries WHERE case_id = ?", [case_id])
    late = imported(county, tmp_path / "late.bundle", tmp_path / "late-r.bundle")
    assert late["replayed_batches"] == 1 and late["applied"] == 0
    assert (
        county_count(county, "SELECT count(*) FROM entries WHERE case_id = ?", [case_id]) == entries
    )
    back = bundle.import_return(dev.store, tmp_path / "late-r.bundle")
    assert back.acknowledged_batches == 0 and back.skipped_batches == 1
    assert not back.pull_applied and back.problems
    assert replica.waiting(dev.store)["changes"] == 0


def _refused(server: CountyServer, src: Path, tmp_path: Path, words: str) -> None:
    done = county_import(server, src, tmp_path / "never.bundle")
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr and "Nothing was applied" in done.stderr
    assert not (tmp_path / "never.bundle").exists()


def test_bad_bundles_are_refused_and_nothing_is_lost(
    devices: Any, county: CountyServer, tmp_path: Path
) -> None:
    dev = devices(OP_A)
    case_id = report_case(dev, "河道漂浮物")
    good = Path(bundle.export_bundle(dev.store, tmp_path / "good.bundle").path)
    raw = good.read_bytes()

    tampered = tmp_path / "tampered.bundle"
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0x01
    tampered.write_bytes(bytes(flipped))
    _refused(county, tampered, tmp_path, "changed since it was made")

    truncated = tmp_path / "truncated.bundle"
    truncated.write_bytes(raw[: len(raw) - 100])
    _refused(county, truncated, tmp_path, "incomplete")

    # Signed by this very device, but made out for another county.
    pair = KeyPair.from_bytes(keys.device_key(dev.store.path) or b"")
    head = bundlefile.read_header(good)
    foreign = tmp_path / "foreign.bundle"
    _write(foreign, {**_plain_header(head), "county": "330881"}, pair, county)
    _refused(county, foreign, tmp_path, "made for county 330881")

    # A device the county never enrolled (its own key, a made-up id).
    stranger = tmp_path / "stranger.bundle"
    _write(stranger, {**_plain_header(head), "device_id": new_id()}, KeyPair.generate(), county)
    _refused(county, stranger, tmp_path, "never enrolled")

    # Right ids, wrong key (someone else signed it).
    forged = tmp_path / "forged.bundle"
    _write(forged, _plain_header(head), KeyPair.generate(), county)
    _refused(county, forged, tmp_path, "changed since it was made")

    assert county_count(county, "SELECT count(*) FROM cases WHERE id = ?", [case_id]) == 0
    assert replica.waiting(dev.store)["changes"] >= 1  # nothing lost on the device

    # The good bundle still goes through; its answer is for this device only.
    imported(county, good, tmp_path / "return.bundle")
    assert county_count(county, "SELECT count(*) FROM cases WHERE id = ?", [case_id]) == 1
    other = devices(SUP_A)
    with pytest.raises(BundleError, match="another computer") as refused:
        bundle.import_return(other.store, tmp_path / "return.bundle")
    assert refused.value.code == "wrong_device"

    bad_return = tmp_path / "bad-return.bundle"
    data = bytearray((tmp_path / "return.bundle").read_bytes())
    data[-10] ^= 0x40
    bad_return.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="changed since it was made"):
        bundle.import_return(dev.store, bad_return)
    assert replica.waiting(dev.store)["changes"] >= 1  # the tampered answer applied nothing
    with pytest.raises(BundleError, match="incomplete"):
        cut = tmp_path / "cut-return.bundle"
        cut.write_bytes(bytes(data[:-70]))
        bundle.import_return(dev.store, cut)
    with pytest.raises(BundleError, match="not the county's answer"):
        bundle.import_return(dev.store, good)

    back = bundle.import_return(dev.store, tmp_path / "return.bundle")
    assert back.acknowledged_batches == 1
    assert replica.waiting(dev.store)["changes"] == 0


def test_cancelled_export_leaves_no_file_and_loses_nothing(
    devices: Any, county: CountyServer, tmp_path: Path
) -> None:
    dev = devices(OP_A)
    case_id = report_case(dev, "危房排查")
    attach(dev, case_id, photo(2_500_000, seed=3))
    seen: list[tuple[int, int]] = []

    def stop_halfway(done: int, total: int) -> bool:
        seen.append((done, total))
        return done < total // 2

    target = tmp_path / "cancelled.bundle"
    with pytest.raises(bundlefile.Cancelled):
        bundle.export_bundle(dev.store, target, progress=stop_halfway)
    assert not target.exists() and not list(tmp_path.glob("*.part"))
    assert seen and seen[-1][1] > 2_000_000 and seen[-1][0] >= seen[-1][1] // 2
    # Nothing lost: the next export (or an online sync) carries it all.
    out = bundle.export_bundle(dev.store, target)
    assert out.files == 1
    result = imported(county, target, tmp_path / "r.bundle")
    assert result["files"] == 1


def test_cli_round_trip(devices: Any, county: CountyServer, tmp_path: Path) -> None:
    dev = devices(OP_A)
    report_case(dev, "噪音扰民")
    dev.close()
    # The store's key is in this test's memory keyring: the device CLI runs in-process.
    from sync.cli import main

    assert main(["bundle", "export", "--db", str(dev.path), "--out", str(tmp_path), "--quiet"]) == 0
    made = list(tmp_path.glob("gridroom-*.bundle"))
    assert len(made) == 1
    imported(county, made[0], tmp_path / "answer.bundle")
    assert main(["bundle", "import", "--db", str(dev.path), str(tmp_path / "answer.bundle")]) == 0
    assert main(["bundle", "import", "--db", str(dev.path), str(made[0])]) == 2
    dev.reopen()
    assert replica.waiting(dev.store)["changes"] == 0


def _plain_header(head: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in head.items() if k not in ("format", "eph", "salt", "chunk")}


def _write(path: Path, header: dict[str, Any], pair: KeyPair, server: CountyServer) -> None:
    """A bundle made by hand: ``header`` signed by ``pair``, encrypted for the county."""
    with Database(server.db_url) as db, db.read() as tx:
        stored = tx.get_meta("bundle_key_pair")
    assert stored, "the county made its bundle key at the first sign-in"
    county_pair = KeyPair.from_bytes(bytes.fromhex(stored))
    _sign, box = bundlefile.public_keys(county_pair.public())
    writer = bundlefile.BundleWriter(path, header, signer=pair.sign, recipient=box)
    writer.part({"part": "manifest", "batches": [], "cursor": 0, "files": []})
    writer.finish()


def test_device_key_is_kept_wrapped_and_registered(
    devices: Any, county: CountyServer, tmp_path: Path
) -> None:
    dev: Device = devices(OP_A)
    side = keys.read_sidecar(dev.path)
    assert side is not None and "device_key" in side
    secret = keys.device_key(dev.path)
    assert secret is not None and secret.hex() not in json.dumps(side)
    pair = KeyPair.from_bytes(secret)
    with Database(county.db_url) as db, db.read() as tx:
        row = tx.one("SELECT sign_key, box_key FROM devices WHERE id = ?", [dev.store.device_id])
    assert row is not None and {"sign": row[0], "box": row[1]} == pair.public()
    assert replica.state(dev.store).get(bundle.COUNTY) == COUNTY


def test_revoked_device_is_refused(devices: Any, county: CountyServer, tmp_path: Path) -> None:
    """A bundle made before the county revoked its device is refused once it is revoked (the
    ``revoked_at`` column another change adds to devices; made here when it is missing)."""
    dev = devices(OP_A)
    case_id = report_case(dev, "违章搭建")
    made = Path(bundle.export_bundle(dev.store, tmp_path / "old.bundle").path)
    with Database(county.db_url) as db, db.write() as tx:
        from sync.county.bundle import _columns

        if "revoked_at" not in _columns(tx, "devices"):
            tx.execute("ALTER TABLE devices ADD COLUMN revoked_at BIGINT")
        tx.execute("UPDATE devices SET revoked_at = 1 WHERE id = ?", [dev.store.device_id])
    _refused(county, made, tmp_path, "which the county has revoked")
    assert county_count(county, "SELECT count(*) FROM cases WHERE id = ?", [case_id]) == 0


def test_a_device_enrolled_before_bundles_gets_its_key_at_the_next_sync(
    devices: Any, county: CountyServer, tmp_path: Path
) -> None:
    dev = devices(OP_A)
    # As before this version: no key pair beside the store key, none at the county.
    side = keys.read_sidecar(dev.path)
    assert side is not None
    side.pop("device_key")
    keys._write_sidecar(dev.path, side)
    with dev.store.write() as conn:
        conn.execute("DELETE FROM sync_state WHERE key LIKE 'bundle_%'")
    with Database(county.db_url) as db, db.write() as tx:
        tx.execute(
            "UPDATE devices SET sign_key = NULL, box_key = NULL WHERE id = ?",
            [dev.store.device_id],
        )
    with pytest.raises(BundleError, match="sign in once while online") as no_key:
        bundle.export_bundle(dev.store, tmp_path / "early.bundle")
    assert no_key.value.code == "not_ready" and not (tmp_path / "early.bundle").exists()

    assert dev.sync().status == "ok"  # registers the new key pair
    case_id = report_case(dev, "自来水停水")
    made = Path(bundle.export_bundle(dev.store, tmp_path / "later.bundle").path)
    imported(county, made, tmp_path / "later-r.bundle")
    assert county_count(county, "SELECT count(*) FROM cases WHERE id = ?", [case_id]) == 1
    assert bundle.import_return(dev.store, tmp_path / "later-r.bundle").acknowledged_batches == 1
    assert dev.sync().pushed == 0


FULL_STICK = r"""
import resource, signal, sys
from pathlib import Path
from sync.bundlefile import BundleError, BundleWriter, KeyPair
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))  # a "stick" that holds 1 MiB
target = Path(sys.argv[1])
county = KeyPair.generate()
writer = BundleWriter(target, {"kind": "device"}, signer=KeyPair.generate().sign,
                      recipient=county.box.public_key())
try:
    writer.part({"part": "file", "size": 3 << 20}, [bytes(1 << 20)] * 3)
    writer.finish()
except BundleError as exc:
    print(exc.code, exc.message)
    sys.exit(7)
"""


def test_a_full_stick_leaves_no_half_bundle(tmp_path: Path) -> None:
    import sys

    target = tmp_path / "stick" / "full.bundle"
    target.parent.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", FULL_STICK, str(target)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 7, done.stdout + done.stderr
    assert done.stdout.startswith("write_failed") and "full or removed" in done.stdout
    assert list(target.parent.iterdir()) == []  # neither the bundle nor its .part

    with pytest.raises(BundleError, match="writable"):
        bundlefile.BundleWriter(
            tmp_path / "no-such-stick" / "x" / "b.bundle",
            {"kind": "device"},
            signer=KeyPair.generate().sign,
            recipient=KeyPair.generate().box.public_key(),
        )


def _killed_import(server: CountyServer, src: Path, out: Path, point: str) -> None:
    """``gridroom-county bundle import`` that kill -9's itself at ``point`` (the fault
    campaign's kill points: a power cut at the county mid-import)."""
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.killpoint", "county", "bundle", "import", str(src),
         "--db", server.db_url, "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**server.env, "GRIDROOM_KILL_AT": point, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == -9, done.stdout + done.stderr
    assert not out.exists()


@pytest.mark.parametrize("point", ["push:commit:2", "push:answer:2", "chunk:answer:1"])
def test_an_import_killed_midway_is_finished_by_importing_again(
    devices: Any, county: CountyServer, tmp_path: Path, point: str
) -> None:
    dev = devices(OP_A)
    cases = [report_case(dev, f"积水点{i}") for i in range(24)]
    data = photo(1_500_000, seed=23)  # two chunks of 1 MiB at the county
    sha = attach(dev, cases[0], data)
    made = bundle.export_bundle(dev.store, tmp_path / "big.bundle", batch_bytes=2_500)
    assert made.batches >= 3 and made.files == 1
    _killed_import(county, Path(made.path), tmp_path / "r.bundle", point)

    again = imported(county, Path(made.path), tmp_path / "r.bundle")
    assert not again["already_imported"]
    if point == "push:answer:2":
        assert again["replayed_batches"] == 2  # committed before the kill: not applied again
    marks = ",".join("?" * len(cases))
    assert county_count(county, f"SELECT count(*) FROM cases WHERE id IN ({marks})", cases) == 24
    assert (
        county_count(county, f"SELECT count(*) FROM entries WHERE case_id IN ({marks})", cases)
        == 24
    )
    assert county_count(county, "SELECT proven FROM attachments WHERE sha256 = ?", [sha]) == 1
    back = bundle.import_return(dev.store, tmp_path / "r.bundle")
    assert back.acknowledged_batches == made.batches
    assert replica.waiting(dev.store) == {"changes": 0, "uploads": 0, "downloads": 0}
    report = dev.sync()
    assert report.status == "ok" and report.pushed == 0 and report.uploaded_bytes == 0
