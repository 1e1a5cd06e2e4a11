"""The one metric registry: every analytics figure's name, SQL over the daily marts, unit and description.

The marts (`analytics.mart_daily_activity`, `analytics.mart_daily_model_costs`) hold additive columns at a
grain fine enough for any filter; ratios and distinct counts are defined here, once, and used by the CLI,
the reports and the API alike. The glossary of `docs/metrics.md` is generated from `METRICS` by
`docs/generate.py`, and `tests/unit/test_docs.py` fails when the page and the registry drift. The constants below
(`SESSIONS`, `COST_USD`, ...) are each metric's SQL, taken from the registry, for the query layer's use.
"""

from __future__ import annotations

from dataclasses import dataclass

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

# Rounding of figures in answers: cents are not enough for per-request costs, so micro-dollars.
COST_DECIMALS = 6
DURATION_DECIMALS = 3


@dataclass(frozen=True)
class Metric:
    """One figure: `name` (its constant is `name.upper()`), its SQL aggregate over mart_daily_activity rows,
    the unit it is counted in and what it means (Markdown, shown in the docs' glossary)."""

    name: str
    sql: str
    unit: str
    description: str

    @property
    def constant(self) -> str:
        return self.name.upper()


def _sum(column: str) -> str:
    return f"coalesce(sum({column}), 0)"


def _per(numerator: str, denominator: str) -> str:
    return f"{numerator} / nullif({denominator}, 0)"


METRICS: tuple[Metric, ...] = (
    Metric(
        "sessions",
        _sum("sessions"),
        "count",
        "Sessions (one `session_id` within an org), each counted on its session date.",
    ),
    Metric(
        "cost_usd",
        _sum("cost_usd"),
        f"USD, `decimal(38, 12)`, shown to {COST_DECIMALS} decimals (`COST_DECIMALS`)",
        "Tokens × the model's price valid at the request's UTC date ([Prices](#prices)), on the request's local"
        " date. Money is exact: stored and summed as `decimal(38, 12)` USD and shown rounded half-up, so a total"
        " is the same in the CLI, a report and the API. A request of a model without a price has a null cost"
        " and counts as an unpriced request, never as zero.",
    ),
    Metric(
        "input_tokens",
        _sum("input_tokens"),
        "tokens",
        "`input_tokens + cache_creation_input_tokens + cache_read_input_tokens`: uncached input + cache writes"
        " + cache reads.",
    ),
    Metric("output_tokens", _sum("output_tokens"), "tokens", "`output_tokens` of the requests."),
    Metric("total_tokens", _sum("total_tokens"), "tokens", "Input tokens + output tokens."),
    Metric(
        "session_duration_seconds",
        _sum("session_duration_seconds"),
        "seconds",
        "Sum of the sessions' durations, on their session dates.",
    ),
    Metric(
        "unpriced_requests",
        _sum("unpriced_requests"),
        "count",
        "Requests whose model has no price (a null cost). The refresh summary, the reports' data-quality note"
        " and the cost-breakdown answer (`unpriced_models`) name every unpriced model id.",
    ),
    Metric(
        "cache_read_tokens", _sum("cache_read_input_tokens"), "tokens", "`cache_read_input_tokens` of the requests."
    ),
    Metric(
        "cache_read_savings_usd",
        _sum("cache_read_savings_usd"),
        "USD",
        "Cache-read saving: cache-read tokens × (input price − cache-read price).",
    ),
    Metric(
        "unique_users",
        "count(distinct case when sessions > 0 then user_id end)",
        "count of known users",
        "Distinct known users with at least one session in the range (a user is unknown while the session's"
        " start has not yet arrived).",
    ),
    Metric(
        "avg_session_duration_seconds",
        _per(_sum("session_duration_seconds"), _sum("sessions")),
        f"seconds, shown to {DURATION_DECIMALS} decimals (`DURATION_DECIMALS`)",
        "Average duration: the mean over the sessions in the range; null when there are none. Divided in"
        " floating point (last decimal ±1).",
    ),
    Metric(
        "avg_cost_per_session_usd",
        _per(_sum("cost_usd"), _sum("sessions")),
        "USD",
        "Average cost per session: cost in the range / sessions in the range; null when there are none."
        " Divided in floating point (last decimal ±1).",
    ),
    Metric(
        "cache_read_share",
        _per(_sum("cache_read_input_tokens"), _sum("input_tokens")),
        "fraction of input tokens",
        "The reports' cache efficiency: cache-read tokens / input tokens; null without input.",
    ),
)
REGISTRY: dict[str, Metric] = {metric.name: metric for metric in METRICS}

# Each metric's SQL under its constant name, as the query layer uses them.
SESSIONS = REGISTRY["sessions"].sql
COST_USD = REGISTRY["cost_usd"].sql
INPUT_TOKENS = REGISTRY["input_tokens"].sql
OUTPUT_TOKENS = REGISTRY["output_tokens"].sql
TOTAL_TOKENS = REGISTRY["total_tokens"].sql
SESSION_DURATION_SECONDS = REGISTRY["session_duration_seconds"].sql
UNPRICED_REQUESTS = REGISTRY["unpriced_requests"].sql
CACHE_READ_TOKENS = REGISTRY["cache_read_tokens"].sql
CACHE_READ_SAVINGS_USD = REGISTRY["cache_read_savings_usd"].sql
UNIQUE_USERS = REGISTRY["unique_users"].sql
AVG_SESSION_DURATION_SECONDS = REGISTRY["avg_session_duration_seconds"].sql
AVG_COST_PER_SESSION_USD = REGISTRY["avg_cost_per_session_usd"].sql
CACHE_READ_SHARE = REGISTRY["cache_read_share"].sql

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
