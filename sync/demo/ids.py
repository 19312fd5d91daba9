"""Deterministic ids for synthetic data: valid, time-ordered UUIDv7 strings from a seeded RNG.

The store's own ids come from :func:`sync.model.clock.new_id` (``uuid6.uuid7()``), which reads
the real clock and the OS's randomness; a demo built twice from one seed must hold the same ids,
so here the 48-bit timestamp is the synthetic instant the record is about and the 74 random bits
come from the generator's RNG.
"""

from __future__ import annotations

import hashlib
import random

from ..model.clock import Millis

_TIME_MASK = (1 << 48) - 1
#: Device codes use the store's alphabet (no I, O, 0, 1: read aloud over the phone).
_BASE32 = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def uuid7_at(rng: random.Random, at: Millis) -> str:
    """A UUIDv7 (RFC 9562) whose timestamp is ``at`` and whose random bits come from ``rng``."""
    rand_a = rng.getrandbits(12)
    rand_b = rng.getrandbits(62)
    value = (at & _TIME_MASK) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def device_code(seed: int, name: str) -> str:
    """A stable 4-character device code for a synthetic device (a PC, a field laptop)."""
    digest = hashlib.sha256(f"gridroom-demo:{seed}:{name}".encode()).digest()
    return "".join(_BASE32[b % len(_BASE32)] for b in digest[:4])
