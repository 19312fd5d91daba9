"""The 考核 scoring scheme's weights: their defaults and their checking.

Kept apart from :mod:`sync.stats.scoring` (which reads stores) so that the county platform can
check a scheme before it delivers it without importing the device store.
"""

from __future__ import annotations

import json
from typing import Any

DEFAULT_WEIGHTS: dict[str, float] = {
    "timeliness": 40.0,
    "verification": 20.0,
    "satisfaction": 30.0,
    "volume": 10.0,
}
#: Where a county-delivered scheme is kept (device store and county database ``meta``, JSON).
META_KEY = "assessment_weights"


class BadWeights(ValueError):
    """Weights that are not a JSON object of known components with non-negative numbers.

    ``problem`` names what is wrong, for a translated message: ``json`` (``detail``: the
    parser's words), ``not_object``, ``unknown`` (``name``; ``known``: the components),
    ``negative`` (``name``) or ``all_zero``; ``county``: the value came from the county's
    setting. ``str()`` is the English message (command line, logs).
    """

    def __init__(
        self, problem: str, *, name: str = "", detail: str = "", county: bool = False
    ) -> None:
        self.problem, self.name, self.detail, self.county = problem, name, detail, county
        self.known = ", ".join(DEFAULT_WEIGHTS)
        super().__init__(self.english())

    def english(self) -> str:
        text = {
            "json": f"the weights are not valid JSON: {self.detail}",
            "not_object": 'the weights must be a JSON object like {"timeliness": 40}',
            "unknown": f"unknown weight {self.name!r}; the components are {self.known}",
            "negative": f"the weight of {self.name} must be a number of 0 or more",
            "all_zero": "at least one weight must be above 0",
        }[self.problem]
        if self.county:
            return f"the county's assessment weights ({META_KEY}): {text}"
        return text

    def from_county(self) -> BadWeights:
        """The same problem, said to be the county's setting."""
        return BadWeights(self.problem, name=self.name, detail=self.detail, county=True)


def parse_weights(raw: str | dict[str, Any] | None) -> dict[str, float]:
    """Weights from JSON text or a mapping; missing components keep their default."""
    if raw is None or raw == "":
        return dict(DEFAULT_WEIGHTS)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BadWeights("json", detail=exc.msg) from exc
    if not isinstance(raw, dict):
        raise BadWeights("not_object")
    out = dict(DEFAULT_WEIGHTS)
    for name, value in raw.items():
        if name not in DEFAULT_WEIGHTS:
            raise BadWeights("unknown", name=str(name))
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise BadWeights("negative", name=str(name))
        out[name] = float(value)
    if not any(out.values()):
        raise BadWeights("all_zero")
    return out
