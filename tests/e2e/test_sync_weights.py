"""The county's 考核 scheme reaches devices like the taxonomy: a county admin sets it with
``gridroom-county weights set FILE.json`` against a running server, the next real sync brings it
into the device's store, and the device's rankings score with it; a bad file is refused in plain
words and changes nothing; ``weights reset`` brings every device back to the defaults."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from sync.stats.scoring import DEFAULT_WEIGHTS, META_KEY, store_weights

from .conftest import REPO, TOWNSHIP_A, CountyServer, Device, county_command


def _weights(county: CountyServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*county_command(), "weights", *args, "--db", county.db_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=county.env,
    )


def test_the_county_sets_weights_and_a_sync_delivers_them(
    devices: Callable[..., Device], county: CountyServer, tmp_path: Path
) -> None:
    device = devices(f"{TOWNSHIP_A}-op")
    assert store_weights(device.store) == DEFAULT_WEIGHTS  # nothing set yet

    scheme = tmp_path / "考核权重.json"
    scheme.write_text('{"timeliness": 60, "satisfaction": 20, "volume": 0}', encoding="utf-8")
    done = _weights(county, "set", str(scheme))
    assert done.returncode == 0, done.stderr
    report = device.sync()
    assert report.status == "ok", report.to_json()
    expected = {"timeliness": 60.0, "verification": 20.0, "satisfaction": 20.0, "volume": 0.0}
    assert store_weights(device.store) == expected
    assert json.loads(device.store.read("SELECT value FROM meta WHERE key = ?", [META_KEY])[0][0])

    # A bad file: refused in plain words, nothing changes on the county or the device.
    scheme.write_text('{"speed": 10}', encoding="utf-8")
    bad = _weights(county, "set", str(scheme))
    assert bad.returncode == 2
    assert "unknown weight 'speed'" in bad.stderr and "timeliness" in bad.stderr
    shown = _weights(county, "show")
    assert json.loads(shown.stdout) == expected
    assert device.sync().status == "ok"
    assert store_weights(device.store) == expected

    # Back to the defaults.
    assert _weights(county, "reset").returncode == 0
    assert device.sync().status == "ok"
    assert store_weights(device.store) == DEFAULT_WEIGHTS
    assert not device.store.read("SELECT value FROM meta WHERE key = ?", [META_KEY])
