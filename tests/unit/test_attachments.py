"""Photos attached to cases: content-addressed files beside the store, rows with the outbox.

Real store files, real Pillow images, real bytes on disk; the damaged inputs are the kinds a
command room meets (a truncated JPEG from a failed copy, a text file renamed .jpg, a photo that
was moved away, an empty file, a "decompression bomb").
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
import sqlcipher3
from PIL import Image

from sync.model.records import Actor
from sync.store import Store, StoreLocked
from sync.store.attachments import (
    AttachmentError,
    add_attachment,
    attachments,
    blob_path,
    files_dir,
    load_photo,
    photo_bytes,
    thumbnail_bytes,
    thumbnail_path,
)
from tests.conftest import ZHANGWANG


def jpeg(colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 120, 200, 255)).save(out, "PNG")
    return out.getvalue()


def huge_png_header(width: int, height: int) -> bytes:
    """A tiny PNG file that claims enormous dimensions (a decompression bomb's opening)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def case_id(store: Store, actors: dict[str, Actor]) -> str:
    fields = {"title": "路灯损坏", "category": "0604", "grid_id": f"{ZHANGWANG}001"}
    return store.report(actors["operator"], fields).case_id


def outbox_rows(store: Store) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in store.read("SELECT entity, entity_id FROM outbox ORDER BY seq")]


def test_a_photo_is_stored_by_its_hash_with_a_thumbnail_and_an_outbox_row(
    store: Store, case_id: str, actors: dict[str, Actor], tmp_path: Path
) -> None:
    data = jpeg()
    source = tmp_path / "现场照片.jpg"
    source.write_bytes(data)
    before = outbox_rows(store)

    att = add_attachment(store, case_id, source, None, actors["grid_worker"])

    sha = hashlib.sha256(data).hexdigest()
    assert att.sha256 == sha
    assert att.name == "现场照片.jpg"
    assert att.mime == "image/jpeg"
    assert att.size == len(data)
    # Content-addressed beside the database: <db>.files/ab/abcdef…
    path = blob_path(store, sha)
    assert path == store.path.with_name(store.path.name + ".files") / sha[:2] / sha
    assert path.read_bytes() == data
    with Image.open(thumbnail_path(store, sha)) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) <= 320
    assert attachments(store, case_id) == [att]
    # The row and its outbox record were written together.
    assert outbox_rows(store) == [*before, ("attachment", att.id)]
    assert photo_bytes(store, att) == data


def test_png_from_bytes_keeps_the_given_name_and_type(
    store: Store, case_id: str, actors: dict[str, Actor]
) -> None:
    att = add_attachment(store, case_id, png(), "截图.png", actors["operator"])
    assert (att.name, att.mime) == ("截图.png", "image/png")


def test_the_same_photo_twice_on_one_case_is_stored_once(
    store: Store, case_id: str, actors: dict[str, Actor], tmp_path: Path
) -> None:
    data = jpeg((1, 2, 3))
    first = add_attachment(store, case_id, data, "a.jpg", actors["operator"])
    outbox = store.outbox_size()
    again = tmp_path / "copy-of-a.jpg"
    again.write_bytes(data)

    second = add_attachment(store, case_id, again, None, actors["operator"])

    assert second == first
    assert store.outbox_size() == outbox
    assert len(attachments(store, case_id)) == 1


def test_one_photo_on_two_cases_shares_its_file(
    store: Store, case_id: str, actors: dict[str, Actor]
) -> None:
    other = store.report(
        actors["operator"], {"title": "同一处路灯", "category": "0604", "village_code": ZHANGWANG}
    ).case_id
    data = jpeg((9, 9, 9))
    a = add_attachment(store, case_id, data, "x.jpg", actors["operator"])
    b = add_attachment(store, other, data, "x.jpg", actors["operator"])
    assert a.id != b.id and a.sha256 == b.sha256
    blobs = [p for p in files_dir(store).rglob("*") if p.is_file() and "thumbs" not in p.parts]
    assert blobs == [blob_path(store, a.sha256)]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("truncated.jpg", jpeg()[:700], "not_image"),
        ("notes.jpg", "这不是照片，是一段文字。".encode(), "not_image"),
        ("empty.jpg", b"", "empty"),
        ("bomb.png", huge_png_header(20_000, 20_000), "too_large"),
    ],
)
def test_unreadable_photos_are_refused_in_plain_words_and_nothing_is_written(
    store: Store,
    case_id: str,
    actors: dict[str, Actor],
    tmp_path: Path,
    name: str,
    content: bytes,
    reason: str,
) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    outbox = store.outbox_size()

    with pytest.raises(AttachmentError) as caught:
        add_attachment(store, case_id, source, None, actors["operator"])

    assert caught.value.reason == reason
    assert caught.value.name == name
    assert name in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert store.outbox_size() == outbox
    assert attachments(store, case_id) == []
    assert not files_dir(store).exists()


def test_a_photo_that_vanished_is_refused_as_missing(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError) as caught:
        load_photo(tmp_path / "moved-away.jpg")
    assert caught.value.reason == "missing"
    assert "moved-away.jpg" in str(caught.value)


def test_a_photo_for_an_unknown_case_is_refused(store: Store, actors: dict[str, Actor]) -> None:
    with pytest.raises(AttachmentError) as caught:
        add_attachment(store, "no-such-case", jpeg(), "x.jpg", actors["operator"])
    assert caught.value.reason == "no_case"
    assert store.read("SELECT count(*) FROM attachments")[0][0] == 0


def test_photos_link_to_the_step_they_document(
    store: Store, case_id: str, actors: dict[str, Actor]
) -> None:
    entry = store.timeline(case_id)[0]
    att = add_attachment(store, case_id, jpeg(), "x.jpg", actors["operator"], entry_id=entry.id)
    assert attachments(store, case_id)[0].entry_id == entry.id == att.entry_id


def test_a_lost_thumbnail_is_made_again_and_a_missing_photo_reads_as_none(
    store: Store, case_id: str, actors: dict[str, Actor]
) -> None:
    att = add_attachment(store, case_id, jpeg(), "x.jpg", actors["operator"])
    thumb = thumbnail_path(store, att.sha256)
    thumb.unlink()
    again = thumbnail_bytes(store, att)
    assert again is not None and thumb.read_bytes() == again
    # Metadata synced down before the bytes: listed, but nothing to show yet.
    blob_path(store, att.sha256).unlink()
    thumb.unlink()
    assert photo_bytes(store, att) is None
    assert thumbnail_bytes(store, att) is None


def test_a_locked_store_loses_nothing_and_the_retry_reuses_the_file(
    store_path: Path, actors: dict[str, Actor], clock: object
) -> None:
    with Store.open(store_path, clock=clock) as store:  # type: ignore[arg-type]
        case_id = store.report(
            actors["operator"], {"title": "x", "category": "0604", "village_code": ZHANGWANG}
        ).case_id
        # Wait briefly for locks in this test (the app waits 5 s).
        store.conn.execute("PRAGMA busy_timeout = 100")
        other = sqlcipher3.connect(str(store_path), isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StoreLocked):
                add_attachment(store, case_id, jpeg(), "x.jpg", actors["operator"])
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert attachments(store, case_id) == []
        att = add_attachment(store, case_id, jpeg(), "x.jpg", actors["operator"])
        assert [a.id for a in attachments(store, case_id)] == [att.id]
        assert blob_path(store, att.sha256).read_bytes() == jpeg()
