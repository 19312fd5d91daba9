"""Fixtures of the fault tests: one real county server process per module, on a fixed port so
it can be killed and started again, and devices enrolled to it through whatever stands in
between (a bad link, a proxy that flips bytes, a bad server in its place)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .harness import TOWNSHIP, CountyProcess, Device


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyProcess]:
    """``gridroom-county serve`` (SQLite) with 小南海镇's demo accounts."""
    server = CountyProcess(tmp_path_factory.mktemp("county"))
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def enrol(county: CountyProcess, tmp_path: Path) -> Callable[..., Device]:
    """``enrol("op", via_url)``: a device of 小南海镇 signed in through ``via_url`` (default: the
    county itself), synced once; its token lives in a keyring file of this test."""
    made = 0

    def make(
        role: str = "op", url: str | None = None, *, sync: bool = True, ca_file: str | None = None
    ) -> Device:
        nonlocal made
        made += 1
        device = Device(
            f"{role}{made}",
            f"{TOWNSHIP}-{role}",
            tmp_path / f"{role}{made}.sqlite",
            url or county.url,
            tmp_path / "keyring.json",
            ca_file=ca_file,
        )
        device.enrol(county)
        if sync:
            report = device.sync()
            assert report.status == "ok", report.to_json()
        return device

    return make
