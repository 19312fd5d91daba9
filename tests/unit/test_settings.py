"""Settings: IT presets in the site config, user values on top, locked keys stay IT's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync.settings import SETTINGS, Settings, SettingsError


def make(tmp_path: Path, site: str | None = None) -> Settings:
    site_path = tmp_path / "etc" / "site.toml"
    if site is not None:
        site_path.parent.mkdir(parents=True)
        site_path.write_text(site, encoding="utf-8")
    return Settings(site_path=site_path, user_dir=tmp_path / "user")


def test_defaults_then_site_then_user_with_origins(tmp_path: Path) -> None:
    s = make(tmp_path, '[server]\nserver_url = "https://grid.example"\nsync_interval_s = 120\n')
    assert s.effective("language") == ("zh_CN", "default")
    assert s.effective("server_url") == ("https://grid.example", "site")
    s.set("sync_interval_s", 60)
    assert s.effective("sync_interval_s") == (60, "user")
    # The user value lands in the user file only; the site file is never written.
    assert json.loads(s.user_path.read_text(encoding="utf-8")) == {"sync_interval_s": 60}
    assert "60" not in s.site_path.read_text(encoding="utf-8")
    assert make(tmp_path).get("sync_interval_s") == 60  # a new process sees it


def test_locked_keys_cannot_be_overridden(tmp_path: Path) -> None:
    site = (
        'server_url = "https://grid.example"\n'
        "[policy]\nrequire_encryption = true\nlocked = [\"server_url\", \"require_encryption\"]\n"
    )
    s = make(tmp_path, site)
    assert s.effective("require_encryption") == (True, "site (locked)")
    with pytest.raises(SettingsError, match="set by your IT department"):
        s.set("server_url", "http://evil.example")
    # Even a hand-edited user file does not win over a locked key.
    s.user_path.parent.mkdir(parents=True, exist_ok=True)
    s.user_path.write_text(json.dumps({"server_url": "http://evil.example"}), encoding="utf-8")
    assert make(tmp_path, None).get("server_url") == "https://grid.example"


def test_broken_files_are_reported_not_fatal(tmp_path: Path) -> None:
    s = make(tmp_path, "server_url = [unclosed\n")
    assert s.get("server_url") == ""
    assert any("site config" in p for p in s.problems)
    s.user_path.parent.mkdir(parents=True, exist_ok=True)
    s.user_path.write_text("{not json", encoding="utf-8")
    again = Settings(site_path=s.site_path, user_dir=s.user_path.parent)
    assert any("user settings" in p for p in again.problems)
    with pytest.raises(SettingsError, match="must be one of"):
        again.set("language", "fr")


def test_every_setting_has_help_and_a_default_of_its_type() -> None:
    for setting in SETTINGS.values():
        assert setting.help
        assert isinstance(setting.default, setting.type)
