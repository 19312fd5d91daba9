"""The OpenAPI description the county server publishes is what it does: ``schemathesis run
--checks all`` against a real ``gridroom-county serve`` finds no conformance failure — every
status an endpoint answers is documented, in the documented shape, schema-valid requests are
not refused and schema-violating ones are, and nothing answers 500.

Bounded in time for CI: a few examples per operation and a fixed seed, so a run is repeatable
(``GRIDROOM_SCHEMATHESIS_SEED=random`` explores new inputs; ``GRIDROOM_SCHEMATHESIS_EXAMPLES``
sets how many per operation). A failure prints schemathesis's report, with a ``curl`` line that
reproduces each finding.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sync import protocol

from .conftest import TOWNSHIP_A, CountyServer, api

SEED = "20261202"
EXAMPLES = os.environ.get("GRIDROOM_SCHEMATHESIS_EXAMPLES", "12")
#: Per run; a run of all operations takes some 20-40 s on a busy two-core machine.
RUN_TIMEOUT_S = 150
#: schemathesis.toml: a schema-violating request may also be refused with 413 ``too_large`` (a
#: body past the limits; JSON Schema cannot say how many bytes a body may have). The rest are
#: schemathesis's defaults.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428",
                     "429", "5xx"]
"""


def schemathesis(
    server: CountyServer, workdir: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("schemathesis")
    seed = os.environ.get("GRIDROOM_SCHEMATHESIS_SEED", SEED)
    config = workdir / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    command = [
        str(script),
        "--config-file",
        str(config),
        "run",
        server.url + "/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        EXAMPLES,
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        *([] if seed == "random" else ["--seed", seed]),
        *args,
    ]
    try:
        return subprocess.run(
            command,
            cwd=workdir,  # its reports and caches stay out of the repository
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            env={**os.environ, "NO_COLOR": "1"},
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"schemathesis ran past {RUN_TIMEOUT_S} s: {str(exc.stdout)[-3000:]}")


def token_of(server: CountyServer) -> str:
    login_name = f"{TOWNSHIP_A}-op"
    r = api(
        server,
        "POST",
        protocol.LOGIN,
        json={
            "login": login_name,
            "password": server.password(login_name),
            "device_id": "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0001",
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def test_the_published_openapi_holds_under_schemathesis(
    county: CountyServer, tmp_path: Path
) -> None:
    token = token_of(county)
    # Signing out revokes the token the other operations use: it runs on its own, last.
    run = schemathesis(
        county, tmp_path, "-H", f"Authorization: Bearer {token}", "--exclude-path", protocol.LOGOUT
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "passed" in run.stdout, run.stdout[-2000:]
    run = schemathesis(
        county, tmp_path, "-H", f"Authorization: Bearer {token}", "--include-path", protocol.LOGOUT
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    # The server took every one of those requests without a fault.
    assert "Traceback" not in county.log_text(), county.log_text()
