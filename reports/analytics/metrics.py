"""The one definition of every analytics figure, as SQL over the daily marts.

The marts (`analytics.mart_daily_activity`, `analytics.mart_daily_model_costs`) hold additive columns at a
grain fine enough for any filter; ratios and distinct counts are defined here, once, and used by the CLI,
the reports and the API alike. The README glossary documents the same definitions in words.
"""

from __future__ import annotations

ACTIVITY_MART = "analytics.mart_daily_activity"
MODEL_COSTS_MART = "analytics.mart_daily_model_costs"
SESSION_STARTS_MART = "analytics.mart_session_starts"
SESSIONS_FACT = "analytics.fct_sessions"
QUARANTINED_LINES = "staging.stg_ingestion__quarantined_lines"

# Columns of mart_daily_activity that every filter can apply to.
FILTER_COLUMNS = {
    "projects": "project_id",
    "repositories": "repository",
    "agents": "agent",
    "users": "user_id",
}

# Aggregates over mart_daily_activity rows.
SESSIONS = "coalesce(sum(sessions), 0)"
COST_USD = "coalesce(sum(cost_usd), 0)"
INPUT_TOKENS = "coalesce(sum(input_tokens), 0)"  # input + cache writes + cache reads
OUTPUT_TOKENS = "coalesce(sum(output_tokens), 0)"
TOTAL_TOKENS = "coalesce(sum(total_tokens), 0)"  # input tokens + output tokens
SESSION_DURATION_SECONDS = "coalesce(sum(session_duration_seconds), 0)"
UNPRICED_REQUESTS = "coalesce(sum(unpriced_requests), 0)"
CACHE_READ_TOKENS = "coalesce(sum(cache_read_input_tokens), 0)"
CACHE_READ_SAVINGS_USD = "coalesce(sum(cache_read_savings_usd), 0)"
# Distinct known users with at least one session in the range (unknown = session start not yet arrived).
UNIQUE_USERS = "count(distinct case when sessions > 0 then user_id end)"
# Mean over the sessions in the range; null when there are none.
AVG_SESSION_DURATION_SECONDS = f"{SESSION_DURATION_SECONDS} / nullif({SESSIONS}, 0)"
# Cost in the range / sessions in the range; null when there are no sessions.
AVG_COST_PER_SESSION_USD = f"{COST_USD} / nullif({SESSIONS}, 0)"
# Share of input tokens (input + cache writes + cache reads) that were cache reads; null without input.
CACHE_READ_SHARE = f"{CACHE_READ_TOKENS} / nullif({INPUT_TOKENS}, 0)"

# Session-duration distribution (over mart_session_starts rows): (label, upper bound in seconds, exclusive).
DURATION_BUCKETS = (
    ("<1m", 60),
    ("1–5m", 5 * 60),
    ("5–15m", 15 * 60),
    ("15–30m", 30 * 60),
    ("30–60m", 60 * 60),
    ("1–2h", 2 * 60 * 60),
    ("≥2h", None),
)
DURATION_BUCKET = (
    "case "
    + " ".join(
        f"when coalesce(duration_seconds, 0) < {upper} then {index}"
        for index, (_, upper) in enumerate(DURATION_BUCKETS)
        if upper is not None
    )
    + f" else {len(DURATION_BUCKETS) - 1} end"
)
# ISO weekday (Monday = 1) and local hour of a session's start.
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# What `--metric` can chart in a timeseries.
TIMESERIES_METRICS = {"sessions": SESSIONS, "cost": COST_USD, "tokens": TOTAL_TOKENS}
INTERVALS = ("day", "week")
MODEL_FAMILIES = ("opus", "sonnet", "haiku", "other")
# Who made the model (dbt macro model_vendor): Codex spend is OpenAI's, Bedrock's Claude is Anthropic's.
VENDORS = ("anthropic", "openai", "google", "other")

# Rounding of figures in answers: cents are not enough for per-request costs, so micro-dollars.
COST_DECIMALS = 6
DURATION_DECIMALS = 3
