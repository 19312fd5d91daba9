"""THIRD-PARTY.txt: name, version, licence and home page of every package in the build venv.

Run with the build venv's interpreter (``python -m installer.notices OUT``) so it lists what the
bundle was actually built from. The bundle and the .deb ship it for the county's compliance
review; Qt's LGPL obligations are met by shipping Qt as separate, replaceable shared libraries.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path
from typing import Any

SKIP = {
    "pip",
    "setuptools",
    "wheel",
    "pyinstaller",
    "pyinstaller-hooks-contrib",
    "altgraph",
    "packaging",
    "pefile",
    "pywin32-ctypes",
    "macholib",
}  # build tools, not shipped


def licence(dist: metadata.Distribution) -> str:
    meta: Any = dist.metadata  # an email.message.Message underneath: has .get()
    expr = meta.get("License-Expression")
    if expr:
        return expr
    classifiers = [
        c.split("::")[-1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License")
    ]
    if classifiers:
        return "; ".join(classifiers)
    text = (meta.get("License") or "").strip().splitlines()
    return text[0][:80] if text else "see the package's metadata"


def notices() -> str:
    """The notice text for every distribution installed in this interpreter."""
    rows = []
    for dist in metadata.distributions():
        meta: Any = dist.metadata
        name = meta.get("Name") or "?"
        if name.lower() in SKIP:
            continue
        home = meta.get("Home-page") or ""
        for url in meta.get_all("Project-URL") or []:
            if not home:
                home = url.split(",", 1)[-1].strip()
        rows.append((name.lower(), name, dist.version, licence(dist), home))
    lines = [
        "Gridroom (网格通·指挥室) — third-party components in this bundle",
        "",
        "Python itself: PSF-2.0. Qt (inside PySide6): LGPL-3.0, shipped as separate shared",
        "libraries a user may replace. WenQuanYi Micro Hei font: Apache-2.0 or GPL-3.0 with",
        "font exception (gridroom_resources/fonts).",
        "",
    ]
    for _key, name, version, lic, home in sorted(set(rows)):
        lines.append(f"{name} {version}\n    licence: {lic}\n    {home}".rstrip())
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("THIRD-PARTY.txt")
    out.write_text(notices(), encoding="utf-8")
    print(out)
