"""A full disk on the device: the sync stops with plain words (``gridroom sync`` exits 3, or
reports the photo it could not store), nothing is stored by halves, and once space is freed the
next sync completes. The store lives on a small real filesystem (tmpfs, or a loop-mounted
image) mounted for the test; without root this is skipped, with the reason."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sync.store.attachments import add_attachment

from .campaign import small_disk
from .harness import REPO, CountyProcess, Device, check_device, gridroom_command, gridroom_env
from .harness import photo_bytes as make_photo

DISK = 8 * 1024 * 1024


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk", DISK) as (folder, reason):
        if folder is None:
            pytest.skip(reason)
        yield folder


def _fill(folder: Path, leave: int) -> Path:
    """Fill the filesystem up to ``leave`` free bytes; returns the filler file."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    filler = folder / "filler"
    with filler.open("wb") as fh:
        remaining = max(0, free - leave)
        while remaining > 0:
            try:
                remaining -= fh.write(b"\0" * min(remaining, 1 << 20))
            except OSError:
                break
    return filler


# 96 KiB: not even the records fit (SQLite refuses); 300 KiB: they do, the photo does not.
@pytest.mark.parametrize("leave", [96 * 1024, 300 * 1024])
def test_a_photo_that_does_not_fit_waits_for_space(
    county: CountyProcess, enrol: Callable[..., Device], disk: Path, tmp_path: Path, leave: int
) -> None:
    import random

    sender = enrol("sup")
    laptop = Device(
        "laptop", "330825102-op", disk / "laptop.sqlite", county.url, sender.keyring_file
    )
    laptop.enrol(county)
    assert laptop.sync().status == "ok"
    with sender.store() as store:
        case_id = store.report(
            sender.actor(store),
            {"title": "大照片", "category": "0604", "grid_id": store.grids()[0].code},
        ).case_id
        photo = make_photo(random.Random(leave), 400_000)  # a new photo each time
        add_attachment(store, case_id, photo, "现场照片.png", sender.actor(store))
    assert sender.sync().status == "ok"
    filler = _fill(disk, leave)
    done = subprocess.run(
        [*gridroom_command(), "sync", "--db", str(laptop.path)],
        cwd=REPO,
        env=gridroom_env(tmp_path, laptop.keyring_file),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 3, (done.returncode, done.stderr, done.stdout)
    assert "The disk is full" in done.stderr and "Free some space" in done.stderr
    filler.unlink()
    report = laptop.sync()
    assert report.status == "ok", report.to_json()
    findings = check_device(laptop, county)
    assert findings.ok(), findings.describe()
