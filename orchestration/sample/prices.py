"""The list prices Claude Code computes its reported cost from, read from the dbt seed."""

from __future__ import annotations

import csv
import functools
from pathlib import Path


@functools.cache
def _price_table() -> dict[str, tuple[float, ...]]:
    """The dbt seed's current prices per model (USD/MTok): input, output, 5m write, 1h write, read, and the
    long-context threshold and rates. Claude Code computes the cost_usd it reports from the same list prices."""
    seed = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "model_prices.csv"
    columns = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
    table = {}
    with open(seed, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["valid_to"]:
                continue
            normal = tuple(float(row[f"{c}_usd_per_mtok"]) for c in columns)
            long = tuple(float(row[f"long_context_{c}_usd_per_mtok"] or row[f"{c}_usd_per_mtok"]) for c in columns)
            threshold = float(row["long_context_threshold_tokens"] or "inf")
            table[row["provider_id"], row["model_id"]] = (*normal, threshold, *long)
    return table


def cost_usd(model: str, typed: int, output: int, creation_5m: int, creation_1h: int, read: int) -> float:
    from orchestration.prices import library_resolution  # the seed is keyed by genai-prices' model ids

    prices = _price_table()[library_resolution(model)]
    rates = prices[6:] if typed + creation_5m + creation_1h + read > prices[5] else prices[:5]
    tokens = (typed, output, creation_5m, creation_1h, read)
    return round(sum(n * rate for n, rate in zip(tokens, rates)) / 1_000_000, 8)
