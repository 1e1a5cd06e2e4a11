"""Prices from genai-prices: the synced seeds, id matching in SQL against the library's own, and one request of
each current family priced by a real dbt build, its expected cost worked by hand below.

Rates, USD per million tokens (input / output / cache write 5m / cache write 1h / cache read), as published by
the vendors' pricing pages and recorded in genai-prices 0.2.3 (the version the seed is synced from):
- Anthropic (anthropic.com/pricing): Opus 4.6 5 / 25 / 6.25 / 10 / 0.50; until 2026-03-12 a request over 200K
  input tokens 10 / 37.50 / 12.50 / 20 / 1 (from 2026-03-13 the 1M context has no premium). Sonnet 4.6
  3 / 15 / 3.75 / 6 / 0.30. Sonnet 5.5 2 / 10 / 2.50 / 4 / 0.10. Haiku 4.5 1 / 5 / 1.25 / 2 / 0.10.
  Haiku 5.5 0.10 / 0.50 / 0.125 / 0.20 / 0.01 (over 100K input: 0.50 / 2.50 / 0.625 / 1 / 0.05).
- AWS Bedrock regional endpoints (aws.amazon.com/bedrock/pricing), Claude Opus 4.6: 10% over Anthropic's,
  5.50 / 27.50 / 6.875 / 11 / 0.55.
- OpenAI (openai.com/api/pricing): gpt-5-codex is priced as GPT-5: 1.25 in / 10 out / 0.125 cached input.
- Google (ai.google.dev/pricing): Gemini 2.5 Pro up to 200K input 1.25 / 10 / cache read 0.125; over 200K
  2.50 / 15 / 0.25. (Gemini has no cache-write price: cache writes are input tokens.)
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal

import duckdb
import pytest

from orchestration import prices
from tests.fixtures.warehouse import build_warehouse, test_paths, usage, write_delivery, write_directory

exact = functools.partial(pytest.approx, abs=Decimal("1e-12"))


def ev(event_id, event_type, timestamp, org_id="acme", **fields):
    return {
        "schema_version": 1,
        "event_id": event_id,
        "event_type": event_type,
        "org_id": org_id,
        "session_id": "S",
        "timestamp": timestamp,
        **fields,
    }


M = Decimal(1_000_000)
# request id -> (model id, UTC timestamp, usage, expected cost in USD worked by hand)
PRICED = {
    # 10,000 in + 2,000 out + 100,000 read: (10,000*5 + 2,000*25 + 100,000*0.50) / 1e6
    "opus-4-6": (
        "claude-opus-4-6",
        "2026-11-16T10:00:00Z",
        usage(10_000, 2_000, 0, 100_000),
        (10_000 * 5 + 2_000 * 25 + 100_000 * Decimal("0.50")) / M,
    ),
    # Vertex's id for the same model: the same price
    "opus-4-6-vertex": (
        "claude-opus-4-6@20260205",
        "2026-11-16T10:00:00Z",
        usage(10_000, 2_000),
        (10_000 * 5 + 2_000 * 25) / M,
    ),
    # Bedrock's regional id: AWS's price, 10% over Anthropic's
    "opus-4-6-bedrock": (
        "us.anthropic.claude-opus-4-6-v1:0",
        "2026-11-16T10:00:00Z",
        usage(10_000, 2_000),
        (10_000 * Decimal("5.50") + 2_000 * Decimal("27.50")) / M,
    ),
    # a 1h cache write: 1,000 in + 100 out + 4,000 written for 5 minutes + 6,000 for an hour
    "sonnet-4-6-1h": (
        "claude-sonnet-4-6",
        "2026-11-16T10:00:00Z",
        usage(1_000, 100, 10_000, 0, split=(4_000, 6_000)),
        (1_000 * 3 + 100 * 15 + 4_000 * Decimal("3.75") + 6_000 * 6) / M,
    ),
    "sonnet-5-5": (
        "claude-sonnet-5-5",
        "2026-11-16T10:00:00Z",
        usage(1_000, 1_000, 0, 10_000),
        (1_000 * 2 + 1_000 * 10 + 10_000 * Decimal("0.10")) / M,
    ),
    # a dated snapshot id resolves to its model
    "haiku-4-5": (
        "claude-haiku-4-5-20251001",
        "2026-11-16T10:00:00Z",
        usage(1_000, 1_000, 2_000),
        (1_000 * 1 + 1_000 * 5 + 2_000 * Decimal("1.25")) / M,
    ),
    "haiku-5-5": (
        "claude-haiku-5-5",
        "2026-11-16T10:00:00Z",
        usage(1_000, 1_000, 0, 10_000),
        (1_000 * Decimal("0.10") + 1_000 * Decimal("0.50") + 10_000 * Decimal("0.01")) / M,
    ),
    # long context: 50,000 in + 60,000 read = 110,000 > 100,000: every token at Haiku 5.5's long-context rates
    "haiku-5-5-long": (
        "claude-haiku-5-5",
        "2026-11-16T10:00:00Z",
        usage(50_000, 1_000, 0, 60_000),
        (50_000 * Decimal("0.50") + 1_000 * Decimal("2.50") + 60_000 * Decimal("0.05")) / M,
    ),
    # 10,000 in (of which the transcript counts none cached) + 1,000 out + 40,000 cached
    "gpt-5-codex": (
        "gpt-5-codex",
        "2026-11-16T10:00:00Z",
        usage(10_000, 1_000, 0, 40_000),
        (10_000 * Decimal("1.25") + 1_000 * 10 + 40_000 * Decimal("0.125")) / M,
    ),
    # Gemini 2.5 Pro over 200K input (150,000 in + 60,000 read): the >200K rates for every token
    "gemini-long": (
        "gemini-2.5-pro",
        "2026-11-16T10:00:00Z",
        usage(150_000, 1_000, 0, 60_000),
        (150_000 * Decimal("2.50") + 1_000 * 15 + 60_000 * Decimal("0.25")) / M,
    ),
    # the day Opus 4.6's long-context premium ended: 12 March at the long-context rates, 13 March at the base
    "opus-4-6-long-before": (
        "claude-opus-4-6",
        "2026-03-12T23:59:59Z",
        usage(150_000, 1_000, 0, 60_000),
        (150_000 * 10 + 1_000 * Decimal("37.50") + 60_000 * 1) / M,
    ),
    "opus-4-6-long-on-change": (
        "claude-opus-4-6",
        "2026-03-13T00:00:00Z",
        usage(150_000, 1_000, 0, 60_000),
        (150_000 * 5 + 1_000 * 25 + 60_000 * Decimal("0.50")) / M,
    ),
}
UNPRICED = {"internal": ("acme-internal-llm", "2026-11-16T10:00:00Z", usage(1_000, 1_000), None)}

# globex's directory model_prices.csv: a negotiated Sonnet 4.6 rate from 2026-11-01 (no cache rates: cache
# reads at its input rate), an internal model, and rows the loader must quarantine.
OVERRIDES_CSV = """org_id,model_id,valid_from,valid_to,input_usd_per_mtok,output_usd_per_mtok,cache_read_usd_per_mtok
globex,claude-sonnet-4-6,2026-11-01,,2.4,12,
globex,globex-llm,2026-01-01,2026-12-01,0.5,1.5,0.05
globex,globex-llm,2026-11-20,,9,9,
globex,claude-opus-4-6,2026-13-01,,1,1,
globex,claude-haiku-4-5,2026-01-01,,-1,1,
"""
# request id -> (model, timestamp, usage, cost by hand)
GLOBEX = {
    # the negotiated rate: (1,000*2.4 + 100*12 + 10,000*2.4) / 1e6
    "g-sonnet-override": (
        "claude-sonnet-4-6",
        "2026-11-16T10:00:00Z",
        usage(1_000, 100, 0, 10_000),
        (1_000 * Decimal("2.4") + 100 * 12 + 10_000 * Decimal("2.4")) / M,
    ),
    # before the negotiated rate starts: the library's (1,000*3 + 100*15 + 10,000*0.30) / 1e6
    "g-sonnet-before": (
        "claude-sonnet-4-6",
        "2026-10-31T23:59:00Z",
        usage(1_000, 100, 0, 10_000),
        (1_000 * 3 + 100 * 15 + 10_000 * Decimal("0.30")) / M,
    ),
    # the internal model: (1,000*0.5 + 1,000*1.5 + 2,000*0.05) / 1e6
    "g-internal": (
        "globex-llm",
        "2026-11-16T10:00:00Z",
        usage(1_000, 1_000, 0, 2_000),
        (1_000 * Decimal("0.5") + 1_000 * Decimal("1.5") + 2_000 * Decimal("0.05")) / M,
    ),
}

SAMPLE_MODELS = [
    "claude-sonnet-4-5-20250929",
    "claude-sonnet-4-20250514",
    "claude-opus-4-1-20250805",
    "claude-opus-4-5-20251101",
    "claude-haiku-4-5-20251001",
    "claude-3-5-haiku-20241022",
    "gpt-5-codex",
]
UNKNOWN_MODELS = [
    "acme-internal-llm",
    "<synthetic>",
    "deepseek-chat",
    "gpt-unknown-9",
    "gemini-nope",
    "claude-nonexistent-1",
    "llama-3.1-70b",
]


def candidate_model_ids() -> list[str]:
    """Every library model id of the synced providers, the literal values of their match rules with dated,
    Bedrock and Vertex forms of them, the sample's models and unknown ids."""
    ids = set(SAMPLE_MODELS + UNKNOWN_MODELS + [m for m, *_ in PRICED.values()])
    for rule in prices.rule_rows():
        value = rule["match_value"]
        if rule["rule_level"] != "model" or rule["match_kind"] == "regex":
            ids.add(rule["model_id"])
            continue
        ids.update({rule["model_id"], value, value + "-20251001", value + "@20260205", "x" + value})
        if rule["provider_id"] == "anthropic":
            ids.update({f"us.anthropic.{value}-v1:0", f"anthropic.{value}-v1:0", f"global.anthropic.{value}-v1:0"})
    return sorted(i for i in ids if i and i.strip() == i and len(i) <= 128)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    paths = test_paths(tmp_path_factory.mktemp("prices"))
    write_directory(
        paths.directory,
        orgs=[("acme", "Acme", "UTC"), ("globex", "Globex", "UTC")],
        users=[
            ("acme", "u1", "u1@acme.example", "U", "T", "", "member"),
            ("globex", "g1", "g1@globex.example", "G", "T", "", "member"),
        ],
        projects=[("acme", "p", "P", "single"), ("globex", "p", "P", "single")],
    )
    (paths.directory / "model_prices.csv").write_text(OVERRIDES_CSV, encoding="utf-8")
    events = [
        ev(
            "start",
            "session_started",
            "2026-01-01T00:00:00Z",
            user_id="u1",
            agent="claude-code",
            project_id="p",
            repository=None,
        ),
        ev(
            "g-start",
            "session_started",
            "2026-01-01T00:00:00Z",
            org_id="globex",
            user_id="g1",
            agent="claude-code",
            project_id="p",
            repository=None,
        ),
    ]
    for request_id, (model, at, body, _) in GLOBEX.items():
        events.append(
            ev(request_id, "model_request", at, org_id="globex", request_id=request_id, model=model, usage=body)
        )
    for request_id, (model, at, body, _) in {**PRICED, **UNPRICED}.items():
        events.append(ev(request_id, "model_request", at, request_id=request_id, model=model, usage=body))
    for number, model in enumerate(candidate_model_ids()):
        events.append(
            ev(
                f"id{number}",
                "model_request",
                "2026-11-16T12:00:00Z",
                request_id=f"id{number}",
                model=model,
                usage=usage(1, 1),
            )
        )
    write_delivery(paths.raw_dir, "2026-11-16", "events", events)
    build_warehouse(paths, dbt_tests=False)
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        yield conn


def test_the_committed_seeds_are_what_prices_sync_writes_with_the_installed_library():
    # a genai-prices upgrade without `session-analytics prices sync` fails here
    for name, text in prices.seeds_as_synced().items():
        assert (prices.SEEDS_DIR / name).read_text(encoding="utf-8") == text, f"{name} is stale: run prices sync"
    assert prices.library_version() in (prices.SEEDS_DIR / prices.PRICES_SEED).read_text(encoding="utf-8")


def test_sql_resolves_every_model_id_as_genai_prices_does(warehouse):
    rows = warehouse.execute(
        "select distinct model, price_provider_id, price_model_id from analytics.fct_model_requests"
    ).fetchall()
    got = {model: (provider, model_id) if model_id else None for model, provider, model_id in rows}
    ids = candidate_model_ids()
    assert set(got) >= set(ids)
    differ = {i: (got[i], prices.library_resolution(i)) for i in ids if got[i] != prices.library_resolution(i)}
    assert differ == {}
    resolved = sum(1 for i in ids if got[i])
    assert resolved > 500 and len(ids) - resolved >= len(UNKNOWN_MODELS)  # both outcomes are exercised


@pytest.mark.parametrize("request_id", sorted(PRICED))
def test_one_request_of_each_current_family_costs_what_the_published_rates_say(warehouse, request_id):
    ((cost, is_priced),) = warehouse.execute(
        "select cost_usd, is_priced from analytics.fct_model_requests where request_id = ?", [request_id]
    ).fetchall()
    assert is_priced and cost == exact(PRICED[request_id][3])


def test_a_model_genai_prices_knows_is_never_unpriced(warehouse):
    unpriced = warehouse.execute(
        "select distinct model from analytics.fct_model_requests where not is_priced order by 1"
    ).fetchall()
    unpriced = [m for (m,) in unpriced]
    assert "acme-internal-llm" in unpriced
    # the only library models left unpriced are those it prices by audio hours or characters, not tokens
    assert [m for m in unpriced if library_prices_tokens(m)] == []
    assert "tts-1" in unpriced and not library_prices_tokens("tts-1")


def library_prices_tokens(model_id: str) -> bool:
    from genai_prices import data_snapshot

    if prices.library_resolution(model_id) is None:
        return False
    provider = prices.BEDROCK_PROVIDER if re.search(prices.BEDROCK_ID_REGEX, model_id.lower()) else None
    _, model = data_snapshot.get_snapshot().find_provider_model(model_id, None, provider, None)
    price = model.get_prices(dt.datetime(2026, 11, 16, 12, tzinfo=dt.UTC))
    return price.input_mtok is not None or price.output_mtok is not None


def test_dim_models_names_vendor_and_price_source(warehouse):
    rows = warehouse.execute(
        "select model_id, vendor, model_family, has_price, price_provider_id, price_model_id, price_source, "
        "price_library from analytics.dim_models where model_id in "
        "('gpt-5-codex', 'us.anthropic.claude-opus-4-6-v1:0', 'gemini-2.5-pro', 'acme-internal-llm') order by 1"
    ).fetchall()
    library = prices.library_version()
    assert rows == [
        ("acme-internal-llm", "other", "other", False, None, None, None, None),
        ("gemini-2.5-pro", "google", "other", True, "google", "gemini-2.5-pro", "genai-prices", library),
        ("gpt-5-codex", "openai", "other", True, "openai", "gpt-5", "genai-prices", library),
        (
            "us.anthropic.claude-opus-4-6-v1:0",
            "anthropic",
            "opus",
            True,
            "aws",
            "regional.anthropic.claude-opus-4-6-v1:0",
            "genai-prices",
            library,
        ),
    ]
    ((dupes,),) = warehouse.execute("select count(*) - count(distinct model_id) from analytics.dim_models").fetchall()
    assert dupes == 0


@pytest.mark.parametrize("request_id", sorted(GLOBEX))
def test_an_orgs_own_price_wins_for_its_requests_from_its_start_date(warehouse, request_id):
    ((cost, source),) = warehouse.execute(
        "select cost_usd, price_source from analytics.fct_model_requests where request_id = ?", [request_id]
    ).fetchall()
    assert cost == exact(GLOBEX[request_id][3])
    assert source == ("genai-prices" if request_id == "g-sonnet-before" else "override")


def test_overrides_are_for_their_org_only_and_marked_in_dim_models(warehouse):
    # acme's Sonnet 4.6 request keeps the library price (it is in PRICED, checked above)
    ((source,),) = warehouse.execute(
        "select price_source from analytics.fct_model_requests where request_id = 'sonnet-4-6-1h'"
    ).fetchall()
    assert source == "genai-prices"
    rows = warehouse.execute(
        "select model_id, has_price, price_source, override_orgs from analytics.dim_models "
        "where model_id in ('claude-sonnet-4-6', 'globex-llm') order by 1"
    ).fetchall()
    assert rows == [("claude-sonnet-4-6", True, "override", "globex"), ("globex-llm", True, "override", "globex")]


def test_bad_override_rows_are_quarantined_with_their_line(warehouse):
    rows = warehouse.execute(
        "select line_number, reason from raw.quarantined_lines where source_file = 'model_prices.csv' order by 1"
    ).fetchall()
    assert [line for line, _ in rows] == [4, 5, 6]
    reasons = [reason for _, reason in rows]
    assert "overlaps" in reasons[0] and "valid_from" in reasons[1] and "input_usd_per_mtok" in reasons[2]
