"""No secret in any log: a real county server (logging to a file, every request, at debug
level) and the real ``gridroom login`` / ``gridroom sync`` processes, whose logs go to their
folder at debug level too. After a sign-in, a full sync of a case carrying a resident's phone
and ID number, a second device's sync that pulls it, and a failed sign-in, no log file holds
the token, a password, the ID number or the phone number — and the logs do say what happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.store import Store

from . import conftest
from .conftest import REPO, TOWNSHIP_A, CountyServer, running_county

OP = f"{TOWNSHIP_A}-op"
ID_NUMBER = "33082519800101123X"
PHONE = "13905708123"
WRONG_PASSWORD = "not-the-password-网格-9"
#: Many people sign in with their mobile number as the account name (and mistype it).
PHONE_LOGIN = "15157081234"


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyServer]:
    """One server that logs as much as it can: to a file IT named, every request, debug."""
    workdir = tmp_path_factory.mktemp("county")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(conftest.SERVER_ENV, "GRIDROOM_COUNTY_LOG_FILE", str(workdir / "county.log"))
        mp.setitem(conftest.SERVER_ENV, "GRIDROOM_COUNTY_LOG_LEVEL", "debug")
        mp.setitem(conftest.SERVER_ENV, "GRIDROOM_COUNTY_ACCESS_LOG", "1")
        with running_county("sqlite", workdir) as server:
            yield server


def gridroom(args: list[str], home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("gridroom")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "desktop.cli"]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        # A keyring the test can read back, to know the token it must not find in the logs.
        "PYTHON_KEYRING_BACKEND": "tests.faults.filekeyring.FileKeyring",
        "GRIDROOM_TEST_KEYRING": str(home / "keyring.json"),
        "GRIDROOM_CONFIG_DIR": str(home / "config"),
        "GRIDROOM_SITE_CONFIG": str(home / "no-site.toml"),
        "XDG_DATA_HOME": str(home / "data"),
        "GRIDROOM_LOG_DIR": str(home / "logs"),
        "GRIDROOM_LOG_LEVEL": "debug",
    }
    return subprocess.run(
        command + args, cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=180
    )


def every_log(*folders: Path) -> str:
    text = []
    for folder in folders:
        for path in sorted(folder.rglob("*.log*")):
            if path.is_file():
                text.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(text)


def test_a_full_sync_and_a_failed_sign_in_leave_no_secret_in_any_log(
    county: CountyServer, tmp_path: Path
) -> None:
    password = county.password(OP)
    device_a, device_b = tmp_path / "a", tmp_path / "b"
    db_a, db_b = device_a / "a.sqlite", device_b / "b.sqlite"

    # Sign in (enrol) on two devices; the token goes to the keyring.
    for home, db in ((device_a, db_a), (device_b, db_b)):
        out = gridroom(
            ["login", "--server", county.url, "--user", OP, "--password-stdin", "--db", str(db)],
            home,
            stdin=password + "\n",
        )
        assert out.returncode == 0, out.stderr
    kept = [
        (name.split("\n", 1)[1], value)
        for home in (device_a, device_b)
        for name, value in json.loads((home / "keyring.json").read_text(encoding="utf-8")).items()
    ]
    # The keyring holds each device's token and its store's key (encryption at rest).
    tokens = [value for user, value in kept if not user.startswith("store-key#")]
    store_keys = [value for user, value in kept if user.startswith("store-key#")]
    assert len(tokens) == 2 and all(len(t) >= 20 for t in tokens)
    assert len(store_keys) == 2
    # This process opens the stores with their keys (the keyring above is the children's).
    key_of = {
        db: bytes.fromhex(value)
        for home, db in ((device_a, db_a), (device_b, db_b))
        for name, value in json.loads((home / "keyring.json").read_text(encoding="utf-8")).items()
        if name.split("\n", 1)[1].startswith("store-key#")
    }

    # The first sync brings the township's reference data (grids, accounts).
    out = gridroom(["sync", "--db", str(db_a)], device_a)
    assert out.returncode == 0, out.stderr
    # A case about a resident, with her phone and ID number, synced up from device A …
    with Store.open(db_a, key=key_of[db_a]) as store:
        account = store.account(county.account(OP)["id"])
        assert account is not None
        actor = account
        grid = store.grids()[0].code
        case = store.report(
            actor,
            {
                "title": "独居老人家中漏水",
                "description": f"居民王秀英，身份证号 {ID_NUMBER}，电话 {PHONE}，水管爆裂。",
                "category": "0604",
                "grid_id": grid,
                "reporter_name": "王秀英",
                "reporter_phone": PHONE,
            },
        )
        store.comment(case.case_id, actor, f"已电话联系 {PHONE}")
    out = gridroom(["sync", "--db", str(db_a)], device_a)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["pushed"] >= 2
    # … and down to device B.
    out = gridroom(["sync", "--db", str(db_b), "--verify"], device_b)
    assert out.returncode == 0, out.stderr
    with Store.open(db_b, key=key_of[db_b]) as store:
        pulled = store.case(case.case_id)
        assert pulled is not None and ID_NUMBER in str(pulled.fields.get("description"))

    # Failed sign-ins: a wrong password, and a phone number given as the account name.
    for user in (OP, PHONE_LOGIN):
        out = gridroom(
            [
                "login",
                "--server",
                county.url,
                "--user",
                user,
                "--password-stdin",
                "--db",
                str(db_a),
            ],
            device_a,
            stdin=WRONG_PASSWORD + "\n",
        )
        assert out.returncode == 4, out.stderr

    county_logs = county.workdir
    text = every_log(device_a / "logs", device_b / "logs", county_logs)
    # The logs are there and say what happened …
    assert (county.workdir / "county.log").stat().st_size > 0
    assert "POST /v1/sync" in text and "POST /v1/login" in text  # the county's access log
    assert "gridroom sync finished with exit status 0" in text
    assert "sync of" in text and '"status": "ok"' in text
    assert f"sign-in as {OP} at {county.url} failed" in text
    assert f"sign-in as <phone> at {county.url} failed" in text  # said, but not the number
    assert "signed in as" in text
    # … and nothing of what must never be there.
    for token in (*tokens, *store_keys):
        assert token not in text
        assert token[:16] not in text
    for secret in (password, WRONG_PASSWORD, ID_NUMBER, PHONE, PHONE_LOGIN):
        assert secret not in text, secret

    # The doctor's bundle for IT carries these logs and the store's sync history, also clean.
    bundle = tmp_path / "diag.zip"
    out = gridroom(["doctor", "--offline", "--db", str(db_a), "--bundle", str(bundle)], device_a)
    assert bundle.exists(), out.stderr
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        contents = {n: zf.read(n).decode("utf-8") for n in names}
    assert any(n.startswith("logs/") and n.endswith("gridroom-cli.log") for n in names)
    history = contents["sync-history.txt"]
    assert history.count(" ok ") >= 2 and '"pushed": ' in history
    assert "last_success" in history and county.url in history
    runs = json.loads(contents["report.json"])["store"]["sync_history"]
    assert runs[0]["status"] == "ok" and len(runs) >= 2
    everything = "\n".join(contents.values())
    for secret in (*tokens, *store_keys, password, WRONG_PASSWORD, ID_NUMBER, PHONE, PHONE_LOGIN):
        assert secret not in everything, secret
