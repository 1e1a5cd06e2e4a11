"""Seeded random draws shared by every source: a weighted pick, a Poisson count, a version-4 UUID. All
randomness comes from `random.Random` streams seeded from the generator's seed."""

from __future__ import annotations

import math
import random

_UUID_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID_SET = (0x4 << 76) | (0x2 << 62)


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; means here are small."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def seeded_uuid(getrandbits) -> str:
    """A version-4 UUID string from the seeded generator (uuid.uuid4 would read the OS entropy pool)."""
    text = f"{(getrandbits(128) & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
