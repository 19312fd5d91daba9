"""The case detail's photos on an encrypted store: added, listed with thumbnails and viewed as
on a plain one, while the files on disk hold neither the pictures nor their hashes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from sync.store import keys
from sync.store.attachments import attachments, files_dir
from tests.e2e.conftest import MemoryKeyring
from tests.gui.casework_fixtures import (  # noqa: F401 (_casework provides the casework fixture)
    Casework,
    _casework,
    photo_file,
)
from tests.gui.test_detail import make_case, shown


@pytest.fixture
def store_path(store_path: Path) -> Iterator[Path]:
    """The shared fixture store, encrypted in place, its key in an in-memory keyring."""
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        keys.encrypt_in_place(store_path)
        yield store_path
    finally:
        keyring.set_keyring(previous)
        keys.forget_unlocked()


def test_photos_are_added_shown_and_viewed_on_an_encrypted_store(
    qtbot, casework: Casework, tmp_path: Path
) -> None:
    work = casework
    assert work.store.key is not None
    case_id = make_case(work)
    detail = shown(work, qtbot, case_id)
    good = [photo_file(tmp_path, "通道1.jpg", (10, 10, 200)), photo_file(tmp_path, "通道2.jpg")]
    with qtbot.waitSignal(detail.case_changed, timeout=10_000):
        detail.add_photos([str(p) for p in good])
    assert detail.photos.count() == 2
    qtbot.waitUntil(lambda: not detail.photos.item(0).icon().isNull())
    viewer = detail.photos.open_viewer(0)
    assert viewer is not None
    qtbot.waitUntil(lambda: viewer.image() is not None)
    image = viewer.image()
    assert image is not None and (image.width(), image.height()) == (320, 240)
    shas = [a.sha256 for a in attachments(work.store, case_id)]
    on_disk = [p for p in files_dir(work.store).rglob("*") if p.is_file()]
    assert len(on_disk) == 4  # two photos, two thumbnails
    for path in on_disk:
        assert path.read_bytes()[:4] == b"GRB1" and path.suffix == ".grb"
        assert not any(sha in str(path) for sha in shas)


def test_a_read_that_lands_after_its_widget_was_deleted_goes_nowhere(
    qtbot, casework: Casework
) -> None:
    """Encrypted pages take longer to read: a page closed with a read in flight must not raise
    in the event loop when the result arrives (the sync page did, at app shutdown)."""
    import threading

    import shiboken6
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    release = threading.Event()

    def slow(store: object) -> str:
        release.wait(10)
        return "读完了"

    with qtbot.captureExceptions() as raised:
        casework.ctx.ops.read(slow).success(label.setText).run()
        shiboken6.delete(label)
        release.set()
        qtbot.waitUntil(lambda: not casework.ctx.ops.busy(), timeout=10_000)
        qtbot.wait(50)
    assert raised == []
