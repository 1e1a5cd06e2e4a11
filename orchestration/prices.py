"""`session-analytics prices sync`: the dbt price seeds, written from the installed genai-prices library.

Pricing stays in SQL (dbt joins the seeds); this module only flattens the library's data into two CSV seeds:
- model_prices.csv: one row per (provider, model, effective-date interval): token rates in USD per million
  tokens, the long-context tier, and the library version the row came from;
- model_match_rules.csv: the library's id matching (which provider a model id belongs to, then the first of
  that provider's models whose match clause holds), flattened to OR-of-AND conditions that SQL evaluates.

Rates follow the library's own arithmetic: a token type without a price of its own is priced at its nearest
priced parent (1h cache writes at the cache-write price, cache reads and writes at the input price), as
genai-prices' calc_price does. Tiers are a cliff on the request's whole input (cache included), as Anthropic bills.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
PRICES_SEED = "model_prices.csv"
RULES_SEED = "model_match_rules.csv"

# The providers whose models coding agents call: their own APIs, Google Vertex (which also sells Claude) and
# AWS Bedrock. Ids that genai-prices gives to another provider stay unpriced (and are listed as such).
SYNCED_PROVIDERS = ("anthropic", "google", "openai", "aws")
# genai-prices finds no provider for Bedrock ids by the id alone (`us.anthropic.claude-opus-4-6-v1:0` contains
# "claude", so it searches Anthropic's own models, where no clause matches). Our one addition to its matching:
# an id with Bedrock's `anthropic.` vendor prefix (optionally after a region: `us.`, `global.`) is an AWS id.
BEDROCK_ID_REGEX = r"(^|\.)anthropic\."
BEDROCK_PROVIDER = "aws"

TOKEN_TYPES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
# genai-prices price keys from the most specific to the general one: a token type is priced at the first
# key the model has (the library prices a token it has no specific price for within its parent unit).
PRICE_KEYS = {
    "input": ("input_mtok",),
    "output": ("output_mtok",),
    "cache_write_5m": ("cache_write_5m_mtok", "cache_write_mtok", "input_mtok"),
    "cache_write_1h": ("cache_write_1h_mtok", "cache_write_mtok", "input_mtok"),
    "cache_read": ("cache_read_mtok", "input_mtok"),
}
PRICE_COLUMNS = (
    "provider_id",
    "model_id",
    "model_name",
    "valid_from",
    "valid_to",
    *(f"{t}_usd_per_mtok" for t in TOKEN_TYPES),
    "long_context_threshold_tokens",
    *(f"long_context_{t}_usd_per_mtok" for t in TOKEN_TYPES),
    "price_library",
)
RULE_COLUMNS = (
    "rule_level",
    "searched_provider_id",
    "priority",
    "rule_no",
    "condition_no",
    "match_kind",
    "match_value",
    "is_negated",
    "provider_id",
    "model_id",
)


def library_version() -> str:
    return f"genai-prices {version('genai-prices')}"


def sync(seeds_dir: Path = SEEDS_DIR) -> dict[str, int]:
    """Write both seeds from the installed library; returns the row counts."""
    prices, rules = price_rows(), rule_rows()
    (seeds_dir / PRICES_SEED).write_text(_csv(PRICE_COLUMNS, prices), encoding="utf-8")
    (seeds_dir / RULES_SEED).write_text(_csv(RULE_COLUMNS, rules), encoding="utf-8")
    return {PRICES_SEED: len(prices), RULES_SEED: len(rules)}


def seeds_as_synced() -> dict[str, str]:
    """The seeds' text as `sync` would write it with the installed library (for the staleness test)."""
    return {PRICES_SEED: _csv(PRICE_COLUMNS, price_rows()), RULES_SEED: _csv(RULE_COLUMNS, rule_rows())}


def _providers():
    from genai_prices.data import providers  # 1.6 MB of data: imported when syncing, not at import

    return providers


def _synced(providers):
    by_id = {p.id: p for p in providers}
    missing = [p for p in SYNCED_PROVIDERS if p not in by_id]
    if missing:
        raise LookupError(f"genai-prices has no provider {missing}")
    return [by_id[p] for p in SYNCED_PROVIDERS]


# -- prices ----------------------------------------------------------------------------------------------------


def price_rows() -> list[dict[str, str]]:
    rows = []
    for provider in _synced(_providers()):
        for model in provider.models:
            for valid_from, valid_to, price in _price_intervals(model):
                row = _rates(price)
                if row is None:
                    continue  # priced by audio, images or requests only: nothing to price tokens with
                rows.append(
                    {
                        "provider_id": provider.id,
                        "model_id": model.id,
                        "model_name": model.name or "",
                        "valid_from": _date(valid_from),
                        "valid_to": _date(valid_to),
                        **row,
                        "price_library": library_version(),
                    }
                )
    return rows


def _price_intervals(model) -> list[tuple[dt.date | None, dt.date | None, object]]:
    """(valid_from, valid_to exclusive, ModelPrice) intervals, chosen by the library's own get_prices at every
    date a constraint starts (the last active ConditionalPrice wins; before any, the first): exact whatever the
    order of the list."""
    from genai_prices import types

    if isinstance(model.prices, types.ModelPrice):
        return [(None, None, model.prices)]
    starts = set()
    for conditional in model.prices:
        constraint = conditional.constraint
        if isinstance(constraint, types.StartDateConstraint):
            starts.add(constraint.start_date)
        elif constraint is not None:
            raise ValueError(f"{model.id}: a {type(constraint).__name__} cannot be an effective-dated price row")
    boundaries = [None, *sorted(starts)]
    intervals = []
    for start in boundaries:
        at = dt.datetime.combine(start or dt.date(1970, 1, 1), dt.time(), tzinfo=dt.UTC)
        price = model.get_prices(at)
        if intervals and intervals[-1][2] is price:
            intervals[-1] = (intervals[-1][0], None, price)
        else:
            if intervals:
                intervals[-1] = (intervals[-1][0], start, intervals[-1][2])
            intervals.append((start, None, price))
    return intervals


def _rates(price) -> dict[str, str] | None:
    from genai_prices import types

    values = {key: value for key, value in price.__dict__.items() if value is not None}
    if "input_mtok" not in values and "output_mtok" not in values:
        return None
    base, long_context, thresholds = {}, {}, set()
    for token_type in TOKEN_TYPES:
        value = next((values[k] for k in PRICE_KEYS[token_type] if k in values), Decimal(0))
        if isinstance(value, types.TieredPrices):
            if len(value.tiers) != 1:
                raise ValueError(f"{len(value.tiers)} tiers: the seed holds one long-context tier")
            thresholds.add(value.tiers[0].start)
            base[token_type], long_context[token_type] = value.base, value.tiers[0].price
        else:
            base[token_type] = long_context[token_type] = value
    if len(thresholds) > 1:
        raise ValueError(f"token types tiered at different thresholds {sorted(thresholds)}")
    row = {f"{t}_usd_per_mtok": _number(base[t]) for t in TOKEN_TYPES}
    row["long_context_threshold_tokens"] = str(thresholds.pop()) if thresholds else ""
    row.update(
        {
            f"long_context_{t}_usd_per_mtok": _number(long_context[t]) if row["long_context_threshold_tokens"] else ""
            for t in TOKEN_TYPES
        }
    )
    return row


# -- matching --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    kind: str  # equals, starts_with, ends_with, contains, regex (SQL compares the lower-cased id)
    value: str
    negated: bool = False


def rule_rows() -> list[dict[str, str]]:
    providers = _providers()
    by_id = {p.id: p for p in providers}
    rows: list[dict[str, str]] = []

    def add(level, searched, priority, clause, owner="", model_id=""):
        for rule_no, conjunction in enumerate(_disjunctive_form(clause)):
            for condition_no, condition in enumerate(conjunction):
                rows.append(
                    {
                        "rule_level": level,
                        "searched_provider_id": searched,
                        "priority": str(priority),
                        "rule_no": str(rule_no),
                        "condition_no": str(condition_no),
                        "match_kind": condition.kind,
                        "match_value": condition.value,
                        "is_negated": str(condition.negated).lower(),
                        "provider_id": owner,
                        "model_id": model_id,
                    }
                )

    from genai_prices import types

    add("provider", BEDROCK_PROVIDER, -1, types.ClauseRegex(regex=BEDROCK_ID_REGEX))
    for order, provider in enumerate(providers):
        if provider.id in SYNCED_PROVIDERS and provider.model_match is not None:
            add("provider", provider.id, order, provider.model_match)
    for provider in _synced(providers):
        # a provider's own models first, then (one step, as the library) its fallback providers' models
        searched = [provider] + [by_id[p] for p in provider.fallback_model_providers or () if p in by_id]
        priority = 0
        for owner in searched:
            for model in owner.models:
                add("model", provider.id, priority, model.match, owner.id, model.id)
                priority += 1
    return rows


def _disjunctive_form(clause) -> list[list[Condition]]:
    """A match clause as OR of ANDs of simple conditions (SQL then needs no recursion)."""
    from genai_prices import types

    if isinstance(clause, types.ClauseOr):
        return [conjunction for sub in clause.or_ for conjunction in _disjunctive_form(sub)]
    if isinstance(clause, types.ClauseAnd):
        product: list[list[Condition]] = [[]]
        for sub in clause.and_:
            product = [left + right for left in product for right in _disjunctive_form(sub)]
        return product
    if isinstance(clause, types.ClauseRegex):
        return [_regex_conditions(clause.regex)]
    for kind in ("equals", "starts_with", "ends_with", "contains"):
        if hasattr(clause, kind):
            # the library lower-cases both sides of these clauses
            return [[Condition(kind, getattr(clause, kind).lower())]]
    raise ValueError(f"unknown match clause {clause!r}")


_LEADING_NEGATIVE_LOOKAHEAD = re.compile(r"^\^\(\?!")


def _regex_conditions(regex: str) -> list[Condition]:
    """A Python regex as conditions RE2 (DuckDB) and Java (Spark) both read: `^(?!A)B` becomes `not ^A` and `^B`.
    Any other look-around has no portable form and fails the sync loudly."""
    if _LEADING_NEGATIVE_LOOKAHEAD.match(regex):
        end = _closing_paren(regex, 1)
        rest = regex[end + 1 :]
        conditions = [Condition("regex", "^" + regex[4:end], negated=True)]
        if rest:
            conditions.append(Condition("regex", "^" + rest))
        return [c for c in conditions if _portable(c.value)]
    return [Condition("regex", regex)] if _portable(regex) else []


def _closing_paren(text: str, opening: int) -> int:
    depth, index = 0, opening
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        depth += char == "("
        depth -= char == ")"
        if depth == 0:
            return index
        index += 1
    raise ValueError(f"unbalanced regex {text!r}")


def _portable(regex: str) -> bool:
    if re.search(r"\(\?<?[=!]", regex):
        raise ValueError(f"regex {regex!r} has a look-around that RE2 cannot read")
    return True


# -- the Python reference of the SQL matching (tests compare the two) ----------------------------------------


def library_resolution(model_ref: str) -> tuple[str, str] | None:
    """(provider_id, model_id) as genai-prices' own lookup resolves a request's model id, with our Bedrock rule;
    None when it knows no model for it (or gives it to a provider we do not sync)."""
    from genai_prices import data_snapshot

    provider_id = BEDROCK_PROVIDER if re.search(BEDROCK_ID_REGEX, model_ref.lower()) else None
    try:
        provider, model = data_snapshot.get_snapshot().find_provider_model(model_ref, None, provider_id, None)
    except LookupError:
        return None
    return (provider.id, model.id) if provider.id in SYNCED_PROVIDERS else None


# -- CSV -------------------------------------------------------------------------------------------------------


def _csv(columns, rows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""
