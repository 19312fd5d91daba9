"""``gridroom doctor``: effective settings with origins, and each check against the real thing —
TLS servers on 127.0.0.1, the real county server process, real store files, real zip bundles."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend

from sync.cli import doctor
from sync.cli.doctor import FAIL, INFO, OK, WARN
from sync.settings import Settings
from sync.store import Store
from tests.install.tls import NOW, Pki, make_ca, make_pki, serve

TOWNSHIP = "330825002"


def settings(tmp_path: Path, site: str = "", user: dict[str, object] | None = None) -> Settings:
    site_path = tmp_path / "etc" / "site.toml"
    site_path.parent.mkdir(parents=True, exist_ok=True)
    site_path.write_text(site, encoding="utf-8")
    user_dir = tmp_path / "user"
    if user is not None:
        user_dir.mkdir(parents=True, exist_ok=True)
        (user_dir / "settings.json").write_text(json.dumps(user), encoding="utf-8")
    return Settings(site_path=site_path, user_dir=user_dir)


def by_name(checks: list[doctor.Check], name: str) -> doctor.Check:
    return next(c for c in checks if c.name == name)


# -- configuration ------------------------------------------------------------------------------


def test_report_shows_every_value_with_its_origin(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        '[server]\nserver_url = "https://grid.example.gov.cn"\n'
        '[device]\ntownship = "330825002"\n'
        '[policy]\nlocked = ["server_url"]\n',
        user={"server_url": "http://user.example", "township": "330825001", "page_size": 50},
    )
    report = doctor.diagnose(s, offline=True, db=tmp_path / "none.sqlite")
    text = doctor.render(report)
    rows = {v["name"]: (v["value"], v["origin"]) for v in report.configuration["values"]}
    assert rows["server_url"] == ("https://grid.example.gov.cn", "site (locked)")
    assert rows["township"] == ("330825001", "user")  # not locked: the user's value wins
    assert rows["page_size"] == (50, "user")
    assert rows["language"] == ("zh_CN", "default")
    assert set(rows) == {name for name, _value, _origin in s.report()}
    for line in ("site (locked)", "330825001", str(s.site_path), str(s.user_path)):
        assert line in text


def test_a_broken_site_config_is_a_failure_in_plain_words(tmp_path: Path) -> None:
    s = settings(tmp_path, '[policy]\nrequire_encryption = "perhaps"\nlocked = ["sever_url"]\n')
    check = doctor.check_settings(s)
    assert check.status == FAIL
    joined = " ".join(check.details)
    assert "must be true or false" in joined
    assert "'sever_url', which is not a setting" in joined


def test_relative_data_dir_is_a_warning(tmp_path: Path) -> None:
    s = settings(tmp_path, '[device]\ndata_dir = "gridroom-data"\n')
    assert doctor.check_settings(s).status == WARN


# -- server -------------------------------------------------------------------------------------


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


def test_server_over_tls_with_the_configured_ca(pki: Pki) -> None:
    with serve(pki) as url:
        checks = doctor.check_server(url, str(pki.ca_pem), timeout=5)
    assert [c.status for c in checks] == [OK, OK], checks
    assert by_name(checks, "tls").summary.startswith("TLS verified")
    assert "county 330825" in by_name(checks, "server").details[0]


def test_server_certificate_not_trusted_without_ca_file(pki: Pki) -> None:
    with serve(pki) as url:
        checks = doctor.check_server(url, "", timeout=5)
    tls = by_name(checks, "tls")
    assert tls.status == FAIL
    assert "set ca_file" in tls.summary and "captive portal" in tls.summary
    assert "server" not in [c.name for c in checks]  # no point asking over a failed TLS


def test_server_signed_by_another_ca(pki: Pki, tmp_path: Path) -> None:
    other, _key, _cert = make_ca(tmp_path, "Some Other CA")
    with serve(pki) as url:
        tls = by_name(doctor.check_server(url, str(other), timeout=5), "tls")
    assert tls.status == FAIL
    assert "not signed by the configured CA" in tls.summary


def test_certificate_for_another_host(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", hostnames=("grid.example.gov.cn",))
    with serve(pki) as url:
        tls = by_name(doctor.check_server(url, str(pki.ca_pem), timeout=5), "tls")
    assert tls.status == FAIL
    assert "not for 127.0.0.1" in tls.summary


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("portal", "web page instead of the Gridroom server ('无线网络认证 Wi-Fi Login')"),
        ("redirect", "redirect to http://portal.example.net/login — a captive portal"),
        ("not-found", "not as a Gridroom county platform"),
    ],
)
def test_captive_portals_and_strangers_are_named(pki: Pki, mode: str, words: str) -> None:
    with serve(pki, mode=mode) as url:
        server = by_name(doctor.check_server(url, str(pki.ca_pem), timeout=5), "server")
    assert server.status == FAIL
    assert words in server.summary


def test_plain_http_on_an_https_url(tmp_path: Path) -> None:
    with serve(None) as url:
        tls = by_name(doctor.check_server(url.replace("http:", "https:"), "", timeout=5), "tls")
    assert tls.status == FAIL
    assert "does not speak TLS" in tls.summary


def test_nothing_listening(tmp_path: Path) -> None:
    with serve(None) as url:
        pass  # the port is closed again now
    checks = doctor.check_server(url.replace("http:", "https:"), "", timeout=5)
    assert by_name(checks, "tls").status == FAIL
    assert "connection refused" in by_name(checks, "tls").summary


def test_clock_offset_and_protocol(pki: Pki) -> None:
    with serve(pki, clock_offset_ms=-3_600_000) as url:
        server = by_name(doctor.check_server(url, str(pki.ca_pem), timeout=5), "server")
    assert server.status == WARN
    assert "60 minutes ahead" in server.summary
    with serve(pki, protocols=(7,)) as url:
        server = by_name(doctor.check_server(url, str(pki.ca_pem), timeout=5), "server")
    assert server.status == FAIL
    assert "update Gridroom" in server.summary


def test_unresolvable_name_and_missing_url() -> None:
    checks = doctor.check_server("https://gridroom-test.invalid", "", timeout=5)
    assert checks[-1].status == FAIL
    assert "does not resolve" in checks[-1].summary
    assert doctor.check_server("", "")[0].status == WARN
    assert doctor.check_server("grid.example.gov.cn", "")[0].status == FAIL


def test_the_real_county_server(tmp_path: Path) -> None:
    """Against ``gridroom-county serve`` itself (plain HTTP: TLS is its reverse proxy's job)."""
    from tests.e2e.conftest import running_county

    with running_county("sqlite", tmp_path) as county:
        checks = doctor.check_server(county.url, "", timeout=10)
    assert checks[0].status == WARN and "not HTTPS" in checks[0].summary
    server = by_name(checks, "server")
    assert server.status == OK, server
    assert "county 330825" in server.details[0]


# -- certificate --------------------------------------------------------------------------------


def test_certificate_checks(tmp_path: Path) -> None:
    good, _k, _c = make_ca(tmp_path, "Good CA")
    assert doctor.check_certificate(str(good)).status == OK
    soon, _k, _c = make_ca(tmp_path, "Soon CA", not_after=NOW + dt.timedelta(days=10))
    assert doctor.check_certificate(str(soon)).status == WARN
    old, _k, _c = make_ca(
        tmp_path,
        "Old CA",
        not_before=NOW - dt.timedelta(days=400),
        not_after=NOW - dt.timedelta(days=1),
    )
    expired = doctor.check_certificate(str(old))
    assert expired.status == FAIL and "expired" in expired.summary
    leaf, _k, _c = make_ca(tmp_path, "Just A Server", is_ca=False)
    assert doctor.check_certificate(str(leaf)).status == WARN
    der = tmp_path / "ca.cer"
    der.write_bytes(b"\x30\x82\x01\x00" + b"\x00" * 64)
    assert "convert it with" in doctor.check_certificate(str(der)).summary
    assert doctor.check_certificate(str(tmp_path / "missing.pem")).status == FAIL
    assert doctor.check_certificate("relative/ca.pem").status == FAIL
    assert doctor.check_certificate("").status == INFO


# -- keyring ------------------------------------------------------------------------------------


class MemoryKeyring(KeyringBackend):
    """A working in-memory keyring (what tests install instead of the OS one)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


class PlaintextFileKeyring(MemoryKeyring):
    """Identifies as keyrings.alt's plaintext file backend, which the check must refuse."""


PlaintextFileKeyring.__module__ = "keyrings.alt.file"


@pytest.fixture
def restore_keyring() -> Iterator[Any]:
    import keyring

    before = keyring.get_keyring()
    yield keyring
    keyring.set_keyring(before)


def test_keyring_backends(restore_keyring: Any) -> None:
    from keyring.backends import fail

    restore_keyring.set_keyring(MemoryKeyring())
    good = doctor.check_keyring(True)
    assert good.status == OK and "MemoryKeyring" in good.summary
    restore_keyring.set_keyring(fail.Keyring())
    assert doctor.check_keyring(False).status == WARN
    assert doctor.check_keyring(True).status == FAIL
    restore_keyring.set_keyring(PlaintextFileKeyring())
    plain = doctor.check_keyring(False)
    assert plain.status == FAIL and "plain text" in plain.summary


# -- store --------------------------------------------------------------------------------------


def test_store_checks_read_only(tmp_path: Path) -> None:
    path = tmp_path / "数据 #1 100%" / f"{TOWNSHIP}.sqlite"  # URI-hostile folder name
    with Store.create(path, scope=TOWNSHIP, device_code="DOCT"):
        pass
    before = path.read_bytes()
    check, info = doctor.check_store(path)
    assert check.status == OK, check
    assert info["scope"] == TOWNSHIP and info["quick_check"] == "ok"
    assert path.read_bytes() == before  # diagnosis never writes
    assert doctor.check_store(path, require_encryption=True)[0].status == FAIL

    keyed = tmp_path / "keyed.sqlite"
    with Store.create(keyed, scope=TOWNSHIP, key="k"):
        pass
    check, info = doctor.check_store(keyed)
    assert check.status == OK and info["encrypted"] is True

    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    assert doctor.check_store(junk)[0].status == FAIL
    assert doctor.check_store(None)[0].status == INFO


def test_store_is_found_from_the_settings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with Store.create(data / f"{TOWNSHIP}.sqlite", scope=TOWNSHIP):
        pass
    s = settings(tmp_path, f'[device]\ntownship = "{TOWNSHIP}"\ndata_dir = "{data.as_posix()}"\n')
    report = doctor.diagnose(s, offline=True)
    assert by_name(report.checks, "store").status == OK
    assert report.store["scope"] == TOWNSHIP


# -- the diagnostics bundle and the command -----------------------------------------------------


def test_bundle_holds_the_report_never_secrets_or_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "gridroom.log").write_text(
        "sync ok\nAuthorization: Bearer abcdefghijklmnop\n"
        "token=s3cr3t-token resident 330825199001011234 phone 13912345678\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    data.mkdir()
    store_path = data / f"{TOWNSHIP}.sqlite"
    with Store.create(store_path, scope=TOWNSHIP, device_code="BNDL"):
        pass
    s = settings(
        tmp_path,
        f'[device]\ntownship = "{TOWNSHIP}"\ndata_dir = "{data.as_posix()}"\n',
        user={"account": "zhang.san", "saved_filters": '[{"name": "我的"}]'},
    )
    monkeypatch.setenv("GRIDROOM_LOG_DIR", str(logs))
    report = doctor.diagnose(s, offline=True)
    out = tmp_path / "diag.zip"
    names = doctor.write_bundle(report, s, out)
    assert {"report.txt", "report.json", "settings.json", "site.toml", "README.txt"} <= set(names)
    with zipfile.ZipFile(out) as zf:
        everything = "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist())
        assert any(n.startswith("logs/") for n in zf.namelist())
        assert not any(n.endswith(".sqlite") for n in zf.namelist())
    for secret in (
        "abcdefghijklmnop",
        "s3cr3t-token",
        "330825199001011234",
        "13912345678",
        "zhang.san",
        "我的",
    ):
        assert secret not in everything, secret
    assert "sync ok" in everything and "<phone>" in everything
    assert "device BNDL" in everything  # which PC this is: not personal, and IT needs it
    with pytest.raises(FileExistsError):
        doctor.write_bundle(report, s, out)  # never overwrites


def test_command_line_exit_codes_and_json(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GRIDROOM_SITE_CONFIG": str(tmp_path / "site.toml"),
        "GRIDROOM_CONFIG_DIR": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
    }
    cmd = [sys.executable, "-m", "desktop.cli", "doctor", "--offline", "--json"]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["failed"] is False
    (tmp_path / "site.toml").write_text('[server]\nca_file = "/nonexistent/ca.pem"\n')
    bad = subprocess.run(cmd[:-1], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "[FAIL] certificate" in bad.stdout and "does not exist" in bad.stdout
