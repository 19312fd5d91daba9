"""Attachments travel in chunks that resume where a broken link left them, and arrive intact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sync import protocol
from sync.client.transport import Reply, Transport
from sync.store import attachments, replica

from .conftest import TOWNSHIP_A, CountyServer, Device, api, attach, photo, report_case

badlink = pytest.importorskip("tests.support.badlink")

OP = f"{TOWNSHIP_A}-op"
SUP = f"{TOWNSHIP_A}-sup"
CHUNK = 8 * 1024


def test_a_photo_goes_up_and_down_intact(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    a = devices(OP, chunk_bytes=CHUNK)
    b = devices(SUP)
    data = photo(100_000, seed=1)
    case_id = report_case(a, "带照片的上报")
    sha = attach(a, case_id, data)
    report = a.sync()
    assert report.status == "ok", report.to_json()
    assert (report.uploaded_files, report.uploaded_bytes) == (1, len(data))
    status = api(county, "GET", protocol.BLOB_STATUS.format(sha256=sha), a.token).json()
    assert status == {"sha256": sha, "size": len(data), "received": len(data), "complete": True}
    report = b.sync()
    assert (report.downloaded_files, report.downloaded_bytes) == (1, len(data))
    # On disk the file is encrypted (an enrolled store is); read through the store it is whole.
    assert attachments.read_blob(b.store, sha) == data
    assert data[:64] not in replica.blob_path(b.store, sha).read_bytes()
    (pulled,) = attachments.attachments(b.store, case_id)
    assert (pulled.sha256, pulled.name, pulled.size) == (sha, "现场照片.png", len(data))
    assert attachments.photo_bytes(b.store, pulled) == data
    assert attachments.thumbnail_bytes(b.store, pulled)  # made from the downloaded photo


def test_an_upload_resumes_where_it_broke(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    a = devices(OP, chunk_bytes=CHUNK)
    data = photo(60_000, seed=2)
    case_id = report_case(a, "上传中断的照片")
    sha = attach(a, case_id, data)
    # The metadata went up, then the link died after three chunks (sent here by hand).
    a.service.transport_options = {"attempts": 1}
    batch = replica.next_batch(a.store)
    assert batch is not None
    r = api(county, "POST", protocol.SYNC, a.token, json={"cursor": 0, "push": batch.wire()})
    replica.finish_batch(a.store, batch, r.json()["push"])
    url = protocol.BLOB.format(sha256=sha)
    for offset in range(0, 3 * CHUNK, CHUNK):
        put = api(
            county,
            "PUT",
            url,
            a.token,
            params={"offset": offset},
            data=data[offset : offset + CHUNK],
            headers={"Content-Type": protocol.BLOB_TYPE},
        )
        assert put.status_code == 200, put.text
    # A chunk at the wrong place is refused with where to resume.
    wrong = api(
        county,
        "PUT",
        url,
        a.token,
        params={"offset": 0},
        data=data[:CHUNK],
        headers={"Content-Type": protocol.BLOB_TYPE},
    )
    assert wrong.status_code == 409
    assert wrong.json()["error"] == {
        "code": "offset_mismatch",
        "received": 3 * CHUNK,
        "retry": False,
        "message": wrong.json()["error"]["message"],
    }
    report = a.sync()
    assert report.status == "ok", report.to_json()
    assert report.uploaded_bytes == len(data) - 3 * CHUNK, "only the missing part went up"
    assert (
        api(county, "GET", protocol.BLOB_STATUS.format(sha256=sha), a.token).json()["complete"]
        is True
    )


class CutSome(Transport):
    """Cuts the answers of some attachment requests mid-body (the request itself arrived)."""

    link: Any = None
    every = 3

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.blob_calls = 0

    def request(self, method: str, path: str, **kw: Any) -> Reply:
        if path.startswith("/v1/blobs/") and not path.endswith("/status"):
            self.blob_calls += 1
            if self.blob_calls % CutSome.every == 0:
                CutSome.link.truncate_next_response(60)
        return super().request(method, path, **kw)


def test_transfers_survive_a_link_that_cuts_answers(
    devices: Callable[..., Device], county: CountyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = photo(70_000, seed=3)
    host, port = county.url.removeprefix("http://").split(":")
    with badlink.BadLink(target=(host, int(port)), profile=badlink.PROFILES["perfect"]) as link:
        real = county.url
        county.url = link.url
        try:
            a = devices(OP, chunk_bytes=CHUNK)
            b = devices(SUP)
        finally:
            county.url = real
        CutSome.link = link
        monkeypatch.setattr("sync.client.service.Transport", CutSome)
        case_id = report_case(a, "弱网照片")
        sha = attach(a, case_id, data)
        up = a.sync()
        assert up.status == "ok", up.to_json()
        assert up.retries >= 1
        # A half-finished download from an earlier broken run is resumed, not restarted.
        with attachments.receive_blob(b.store, sha) as incoming:
            incoming.append(data[:20_000])
            incoming.flush()
            part = incoming.part
        down = b.sync()
        assert down.status == "ok", down.to_json()
        assert down.downloaded_bytes == len(data) - 20_000
        assert link.stats["truncations"] >= 2
    assert attachments.read_blob(b.store, sha) == data
    assert not part.exists()


def test_a_photo_attached_again_elsewhere_is_proved_not_sent_again(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    """The supervisor got the operator's photo with its case and attaches it to another case:
    the county has the file, so the supervisor's device proves it has the bytes (a challenge
    over a few ranges) instead of uploading them, and the photo can be fetched through both."""
    a = devices(OP, chunk_bytes=CHUNK)
    b = devices(SUP, chunk_bytes=CHUNK)
    data = photo(80_000, seed=5)
    first = report_case(a, "原案件")
    sha = attach(a, first, data)
    assert a.sync().uploaded_bytes == len(data)
    assert b.sync().downloaded_files == 1
    second = report_case(b, "关联案件")
    assert attach(b, second, attachments.read_blob(b.store, sha) or b"") == sha
    report = b.sync()
    assert report.status == "ok", report.to_json()
    assert (report.uploaded_files, report.proven_files, report.uploaded_bytes) == (1, 1, 0)
    assert report.bytes_up < len(data) // 10, report.bytes_up
    got = a.sync()
    assert got.status == "ok" and got.pulled_attachments >= 1, got.to_json()
    (pulled,) = attachments.attachments(a.store, second)
    assert attachments.photo_bytes(a.store, pulled) == data
