"""docs/deploy.md is the county IT guide: it fails here when a setting, an installer option, a
preset option or a doctor option is missing from it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from installer import docs
from sync.cli import doctor
from sync.settings import SETTINGS

REPO = Path(__file__).resolve().parents[2]
DEPLOY = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_generated_table() -> None:
    assert docs.render(DEPLOY) == DEPLOY, "run: python -m installer.docs"
    rows = re.findall(r"^\| `(\w+)` \|", DEPLOY, re.M)
    missing = set(SETTINGS) - set(rows)
    assert not missing, f"settings missing from docs/deploy.md: {sorted(missing)}"


def test_every_windows_installer_option_is_documented() -> None:
    nsi = (REPO / "installer" / "nsis" / "gridroom.nsi").read_text(encoding="utf-8")
    options = set(re.findall(r"ReadOption \$R0 (\w+) ", nsi)) | {"S", "D"}
    assert {"SERVER", "CA", "TOWNSHIP"} <= options
    for option in sorted(options):
        assert f"`/{option}" in DEPLOY, f"/{option} is not documented in docs/deploy.md"
    assert "/PURGE" in DEPLOY  # the uninstaller's own option


def test_every_preset_option_is_documented() -> None:
    script = (REPO / "installer" / "gridroom-preset.sh").read_text(encoding="utf-8")
    options = set(re.findall(r"^\s+(--[a-z-]+)\)", script, re.M))
    assert {"--server", "--ca", "--township"} <= options
    for option in sorted(options):
        assert option in DEPLOY, f"gridroom-preset {option} is not documented"


def test_every_doctor_option_is_documented() -> None:
    parser = argparse.ArgumentParser()
    doctor.add_arguments(parser)
    for action in parser._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert flag in DEPLOY, f"gridroom doctor {flag} is not documented"


def test_every_county_admin_command_and_option_is_documented() -> None:
    from sync.county.cli import build_parser

    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for command in ("user", "device", "taxonomy", "grid", "audit"):
        p = sub.choices[command]
        assert f"gridroom-county {command}" in DEPLOY or f"`{command}`" in DEPLOY, command
        for action in p._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in DEPLOY, f"gridroom-county {command} {flag} is not documented"
            for choice in action.choices or ():
                if action.dest == "action":
                    assert f"{command} {choice}" in DEPLOY or f"`{choice}`" in DEPLOY, (
                        f"gridroom-county {command} {choice} is not documented"
                    )
