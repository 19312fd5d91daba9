"""The county's 考核 scoring scheme (assessment weights), delivered to devices like the taxonomy.

A county admin sets it (``gridroom-county weights set FILE.json``); it is kept in the county
database's ``meta`` and sent in every reference answer as ``assessment_weights`` (a JSON object
of component → weight, or null while the county has set none: devices then score with the
defaults). Setting it bumps the reference version, so every device fetches it on its next sync
and keeps it in its store's meta (:func:`sync.store.replica.apply_reference`), where
:func:`sync.stats.scoring.store_weights` reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..stats.weights import DEFAULT_WEIGHTS, META_KEY, BadWeights, parse_weights
from .db import Tx

__all__ = ["META_KEY", "load", "parse_file", "set_weights"]


def load(tx: Tx) -> dict[str, float] | None:
    """The weights the county set, or None (devices use the defaults)."""
    raw = tx.get_meta(META_KEY)
    return None if raw is None else dict(json.loads(raw))


def parse_file(path: Path) -> dict[str, float]:
    """Weights from a JSON file, checked as devices check them; plain errors naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    try:
        return parse_weights(text)
    except BadWeights as exc:
        known = ", ".join(f'"{k}": {v:g}' for k, v in DEFAULT_WEIGHTS.items())
        raise ValueError(f"{path}: {exc} (example: {{{known}}})") from None


def set_weights(db: Any, weights: dict[str, float] | None) -> None:
    """Keep ``weights`` (None: back to the defaults) and make every device fetch them."""
    with db.write() as tx:
        if weights is None:
            tx.execute("DELETE FROM meta WHERE key = ?", [META_KEY])
        else:
            tx.set_meta(META_KEY, json.dumps(parse_weights(weights), sort_keys=True))
        tx.bump("reference")
