"""Bundled data files: real division codes, translations, fonts, icons, style sheet.

Installed as the ``gridroom_resources`` package; :func:`path` finds a file in a source checkout,
an installed wheel, or a PyInstaller bundle alike.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def path(*parts: str) -> Path:
    """The path of a bundled resource, e.g. ``path("divisions", "quzhou_3308.csv")``."""
    return ROOT.joinpath(*parts)
