"""Settings, declared once, read from layered sources with their origin known.

Layers, lowest first: the declared default; the **site config** that county IT presets
(``/etc/gridroom/site.toml`` on Linux, ``%ProgramData%\\Gridroom\\site.toml`` on Windows, or
``$GRIDROOM_SITE_CONFIG``); the **user settings** the app writes (``settings.json`` in the user's
config folder, or ``$GRIDROOM_CONFIG_DIR``). The app only ever writes the user file. A key the
site config lists under ``[policy] locked`` cannot be changed by the user: the user value is
ignored and the settings page shows it as set by IT. ``gridroom doctor`` prints every effective
value and where it came from.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] = ()


#: Every setting Gridroom reads. Renaming one is a migration: keep the old name in RENAMED.
SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("language", str, "zh_CN", "UI language", ("zh_CN", "en")),
        Setting("data_dir", str, "", "Folder for stores and attachments (empty: the default)"),
        Setting("server_url", str, "", "County platform URL, e.g. https://grid.example.gov.cn"),
        Setting("ca_file", str, "", "CA certificate (PEM) to trust for the county server"),
        Setting("township", str, "", "Township code this device is enrolled to"),
        Setting("require_encryption", bool, False, "Refuse to keep an unencrypted store"),
        Setting("sync_interval_s", int, 300, "Seconds between background syncs"),
        Setting("sync_after_change_s", int, 10, "Seconds after a local change before syncing"),
        Setting(
            "sync_deadline_s",
            int,
            75,
            "Seconds a sync keeps trying without an answer from the county before it says offline",
        ),
        Setting(
            "relay_url",
            str,
            "",
            "The township relay (command-room PC) to sync with when the county is out of reach,"
            " e.g. https://192.168.1.10:8766",
        ),
        Setting(
            "relay_discovery",
            bool,
            False,
            "Find the township relay on the LAN (UDP broadcast) when no relay_url is set",
        ),
        Setting(
            "relay_listen",
            str,
            "0.0.0.0:8766",
            "Where gridroom relay serves the township LAN (host:port)",
        ),
        Setting("relay_tls_cert", str, "", "TLS certificate (PEM) gridroom relay serves with"),
        Setting("relay_tls_key", str, "", "The private key (PEM) of relay_tls_cert"),
        Setting("account", str, "", "The account last signed in on this device"),
        Setting("page_size", int, 200, "Rows fetched per page in case lists"),
        Setting("saved_filters", str, "[]", "Saved case filters (JSON)"),
        Setting("window_geometry", str, "", "Main window size and place (saved by the app)"),
        Setting(
            "map_tiles",
            str,
            "",
            "Offline base map under the outlines: an MBTiles file of raster tiles IT provides",
        ),
    )
}
RENAMED: dict[str, str] = {}


def site_config_path() -> Path:
    env = os.environ.get("GRIDROOM_SITE_CONFIG")
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "Gridroom" / "site.toml"
    return Path("/etc/gridroom/site.toml")


def user_config_dir() -> Path:
    env = os.environ.get("GRIDROOM_CONFIG_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "Gridroom"
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "gridroom"


def user_data_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "Gridroom"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "gridroom"


class SettingsError(ValueError):
    """A settings file that cannot be read, in plain words."""


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    if setting.type is bool and isinstance(value, str):
        word = value.strip().lower()
        # A typo in an IT policy ("ture") must not silently mean False.
        if word not in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
            raise SettingsError(f"{origin}: {setting.name} must be true or false, not {value!r}")
        value = word in ("1", "true", "yes", "on")
    try:
        value = setting.type(value)
    except (TypeError, ValueError):
        raise SettingsError(
            f"{origin}: {setting.name} must be a {setting.type.__name__}, not {value!r}"
        ) from None
    if setting.choices and value not in setting.choices:
        raise SettingsError(
            f"{origin}: {setting.name} must be one of {', '.join(map(str, setting.choices))}"
        )
    return value


class Settings:
    """The effective settings, with the origin of each value; writes go to the user file."""

    def __init__(self, site_path: Path | None = None, user_dir: Path | None = None) -> None:
        self.site_path = site_path or site_config_path()
        self.user_path = (user_dir or user_config_dir()) / "settings.json"
        self.problems: list[str] = []
        self._site, self.locked = self._read_site()
        self._user = self._read_user()
        self._listeners: list[Callable[[str, Any], None]] = []

    def _read_site(self) -> tuple[dict[str, Any], set[str]]:
        if not self.site_path.exists():
            return {}, set()
        try:
            data = tomllib.loads(self.site_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            self.problems.append(f"site config {self.site_path} ignored: {exc}")
            return {}, set()
        policy = data.pop("policy", {}) if isinstance(data.get("policy"), dict) else {}
        values: dict[str, Any] = {}
        for section in ("gridroom", "server", "device", "sync"):
            if isinstance(data.get(section), dict):
                data.update(data.pop(section))
        for key, value in data.items():
            key = RENAMED.get(key, key)
            if key in SETTINGS:
                try:
                    values[key] = _coerce(SETTINGS[key], value, str(self.site_path))
                except SettingsError as exc:
                    self.problems.append(str(exc))
            elif not isinstance(value, dict):
                self.problems.append(f"site config {self.site_path}: unknown key {key!r}")
        for key, value in policy.items():
            if key == "locked":
                continue
            key = RENAMED.get(key, key)
            if key in SETTINGS:
                # A bad policy value is reported (gridroom doctor shows it), never fatal.
                try:
                    values[key] = _coerce(SETTINGS[key], value, str(self.site_path))
                except SettingsError as exc:
                    self.problems.append(str(exc))
            else:
                self.problems.append(f"site config {self.site_path}: unknown policy key {key!r}")
        raw_locked = policy.get("locked", [])
        if not isinstance(raw_locked, list):
            self.problems.append(
                f"site config {self.site_path}: [policy] locked must be a list of setting names"
            )
            raw_locked = []
        locked: set[str] = set()
        for name in raw_locked:
            name = RENAMED.get(name, name) if isinstance(name, str) else name
            if isinstance(name, str) and name in SETTINGS:
                locked.add(name)
            else:
                # IT believes this is locked; say that it is not.
                self.problems.append(
                    f"site config {self.site_path}: [policy] locked names {name!r}, "
                    "which is not a setting"
                )
        return values, locked

    def _read_user(self) -> dict[str, Any]:
        if not self.user_path.exists():
            return {}
        try:
            data = json.loads(self.user_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.problems.append(f"user settings {self.user_path} ignored: {exc}")
            return {}
        values = {}
        for key, value in (data if isinstance(data, dict) else {}).items():
            key = RENAMED.get(key, key)
            if key in SETTINGS:
                try:
                    values[key] = _coerce(SETTINGS[key], value, str(self.user_path))
                except SettingsError as exc:
                    self.problems.append(str(exc))
        return values

    def get(self, name: str) -> Any:
        return self.effective(name)[0]

    def origin(self, name: str) -> str:
        return self.effective(name)[1]

    def effective(self, name: str) -> tuple[Any, str]:
        """(value, where it came from: ``default``, ``site``, ``site (locked)`` or ``user``)."""
        setting = SETTINGS[name]
        if name in self.locked and name in self._site:
            return self._site[name], "site (locked)"
        if name in self._user:
            return self._user[name], "user"
        if name in self._site:
            return self._site[name], "site"
        return setting.default, "default"

    def is_locked(self, name: str) -> bool:
        return name in self.locked

    def set(self, name: str, value: Any) -> None:
        """Set a user value and save the user file atomically; locked keys are refused."""
        if name in self.locked:
            raise SettingsError(f"{name} is set by your IT department and cannot be changed here")
        value = _coerce(SETTINGS[name], value, "setting")
        self._user[name] = value
        self.user_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.user_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._user, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, self.user_path)
        for listener in list(self._listeners):
            listener(name, value)

    def on_change(self, listener: Callable[[str, Any], None]) -> None:
        """Call ``listener(name, value)`` after every change (widgets react, never poll)."""
        self._listeners.append(listener)

    def report(self) -> list[tuple[str, Any, str]]:
        return [(name, *self.effective(name)) for name in SETTINGS]
