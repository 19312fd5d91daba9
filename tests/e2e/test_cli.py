"""``gridroom login`` and ``gridroom sync`` as people and scripts run them: real processes,
exit codes, the JSON summary, and the machine-without-a-keyring fallback."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync import cli
from sync.model.clock import new_id
from sync.model.records import Action, Entry
from sync.store import Store, keys, replica

from .conftest import (
    REPO,
    TOWNSHIP_A,
    TOWNSHIP_B,
    CountyServer,
    MemoryKeyring,
    running_county,
)

OP = f"{TOWNSHIP_A}-op"


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyServer]:
    """The client's command line needs one server, not one per storage backend."""
    with running_county("sqlite", tmp_path_factory.mktemp("county")) as server:
        yield server


def gridroom(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("gridroom")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "desktop.cli"]
    env = {
        **os.environ,
        # Never the machine's keyring: the "fail" backend is what a headless server has.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "GRIDROOM_CONFIG_DIR": str(tmp_path / "config"),
        "GRIDROOM_SITE_CONFIG": str(tmp_path / "no-site.toml"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    return subprocess.run(
        command + args, cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_login_and_sync_on_a_machine_without_a_keyring(
    county: CountyServer, tmp_path: Path
) -> None:
    out = gridroom(
        ["login", "--server", county.url, "--user", OP, "--password-stdin", "--json"],
        tmp_path,
        stdin=county.password(OP) + "\n",
    )
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    # Without --db, the township's store is made in the data folder.
    db = tmp_path / "data" / "gridroom" / f"township-{TOWNSHIP_A}.sqlite"
    assert info["store"] == str(db) and info["created_store"] is True
    assert info["token_kept"] is False
    assert "no usable keyring" in out.stderr
    assert info["device"]["township"] == TOWNSHIP_A
    # No keyring: the store's key is wrapped by the password, which unlocks it here too.
    assert "wrapped by the password" in info["key_storage"]
    keys.key_for(db, password=county.password(OP))
    with Store.open(db) as store:
        assert store.device_code == info["device"]["code"]
        assert store.scope == TOWNSHIP_A
    settings = json.loads((tmp_path / "config" / "settings.json").read_text(encoding="utf-8"))
    assert settings["server_url"] == county.url and settings["township"] == TOWNSHIP_A
    # No kept token and no password: sign in again, says exit code 4.
    out = gridroom(["sync", "--db", str(db)], tmp_path)
    assert out.returncode == 4
    assert "--password-stdin" in out.stderr
    # With the password on stdin it signs in for this run only, syncs, and signs out.
    out = gridroom(
        ["sync", "--db", str(db), "--password-stdin"], tmp_path, stdin=county.password(OP) + "\n"
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["status"] == "ok" and summary["exit_code"] == 0
    assert summary["reference_updated"] is True
    # A refused record makes it partial: exit code 1, and the summary says why.
    with Store.open(db) as store:
        actor = store.account(county.account(OP)["id"])
        assert actor is not None
        grid = county.account(f"{TOWNSHIP_B}-gw")["grids"][0]
        # The store refuses a report in another township itself, so it is written as a client
        # with older rules would have: straight into the timeline and the outbox.
        at = store.now()
        forged = Entry(
            new_id(),
            new_id(),
            Action.REPORT,
            actor.id,
            actor.role,
            at,
            store.hlc.now().encode(),
            {
                "title": "外镇",
                "category": "9901",
                "grid_id": grid,
                "village_code": grid[:12],
                "township_code": TOWNSHIP_B,
            },
        )
        with store.write() as conn:
            store._append(conn, [forged], local=True)
    out = gridroom(["sync", "--password-stdin"], tmp_path, stdin=county.password(OP) + "\n")
    assert out.returncode == 1, out.stderr  # the store found through the saved settings
    summary = json.loads(out.stdout)
    assert summary["status"] == "partial" and summary["quarantined"] == 1
    assert "quarantine" in out.stderr


@pytest.mark.slow  # the unreachable server is retried with backoff, as on a real link
def test_refusals_and_unreachable_servers_have_their_exit_codes(
    county: CountyServer, tmp_path: Path
) -> None:
    db = tmp_path / "s.sqlite"
    out = gridroom(
        ["login", "--server", county.url, "--user", OP, "--password-stdin", "--db", str(db)],
        tmp_path,
        stdin="not-the-password\n",
    )
    assert out.returncode == 4
    assert "Wrong account name or password." in out.stderr
    assert not db.exists(), "a refused sign-in creates nothing"
    out = gridroom(
        [
            "login",
            "--server",
            "http://127.0.0.1:9",
            "--user",
            OP,
            "--password-stdin",
            "--db",
            str(db),
        ],
        tmp_path,
        stdin="x\n",
    )
    assert out.returncode == 2
    assert "Cannot reach the server" in out.stderr


def test_the_token_lives_in_the_keyring(
    county: CountyServer,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GRIDROOM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("GRIDROOM_SITE_CONFIG", str(tmp_path / "no-site.toml"))
    db = tmp_path / "k.sqlite"
    monkeypatch.setattr(sys, "stdin", io.StringIO(county.password(OP) + "\n"))
    assert (
        cli.main(
            [
                "login",
                "--server",
                county.url,
                "--user",
                OP,
                "--password-stdin",
                "--db",
                str(db),
                "--json",
            ]
        )
        == 0
    )
    info = json.loads(capsys.readouterr().out)
    assert info["token_kept"] is True and "MemoryKeyring" in info["token_storage"]
    # Two secrets in the keyring: the sign-in token and the store's key.
    ((service, user), token), ((key_service, key_user), key) = sorted(memory_keyring.items.items())
    assert service == "gridroom" and user.startswith(county.url) and len(token) > 30
    assert key_service == "gridroom" and key_user.startswith("store-key#") and len(key) == 64
    assert "OS keyring" in info["key_storage"]
    assert token not in db.read_bytes().decode("latin-1"), "the token is not in the store"
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(["sync", "--db", str(db)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "ok"
    with Store.open(db) as store:
        assert replica.state(store)["last_success"]


def test_plaintext_and_missing_keyrings_are_not_used() -> None:
    import keyring.backends.fail
    import keyring.backends.null

    from sync.client import tokens

    class PlaintextKeyring(MemoryKeyring):
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    assert "anyone with the disk" in (tokens.unusable_reason(PlaintextKeyring()) or "")
    assert tokens.unusable_reason(keyring.backends.fail.Keyring()) is not None
    assert tokens.unusable_reason(keyring.backends.null.Keyring()) is not None
    assert tokens.unusable_reason(MemoryKeyring()) is None

    class Chain:  # what keyring's chainer looks like: every backend it writes to must do
        def __init__(self) -> None:
            self.backends = [MemoryKeyring(), PlaintextKeyring()]

    assert tokens.unusable_reason(Chain()) is not None
    memory = tokens.MemoryTokens("no keyring service")
    memory.set("https://x", "dev", "t0k")
    assert memory.get("https://x/", "dev") == "t0k" and not memory.persistent
    memory.delete("https://x", "dev")
    assert memory.get("https://x", "dev") is None
