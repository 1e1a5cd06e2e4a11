"""Raw events -> real dbt build -> marts -> query code, on a small scenario whose figures are worked by hand.

Org acme is in Europe/Berlin (UTC+1 in November). Prices per million tokens: sonnet 4.5 3/15 (long context
6/22.50, cache read 0.60), haiku 4.5 1/5, cache write 5m 1.25, 1h 2, cache read 0.10.

Session A (u1, claude-code, p-api, acme/api): starts 2026-11-16 22:30Z = 23:30 local on the 16th, one sonnet
  request at 23:10Z = 00:10 local on the 17th (1,000 in + 500 out = $0.003 + $0.0075 = $0.0105), ends 23:40Z:
  duration 70 min = 4,200 s. Session on the 16th, tokens and cost on the 17th.
Session B (u1, cursor-agent, p-web, acme/web): its start (09:55Z on the 17th) is delivered a day after its
  request (10:00Z, redelivered twice): haiku 100 in, 200 out, cache writes 400 (5m) + 600 (1h), 10,000 read
  = (100*1 + 200*5 + 400*1.25 + 600*2 + 10,000*0.1) / 1e6 = $0.0038; no end event: duration 10:00-09:55 = 300 s.
Session C (m1, claude-code, p-api, no repository) on the 18th: a sonnet request with 150,000 in + 60,000 cache
  read = 210,000 > 200,000 input tokens, so every token at long-context rates:
  (150,000*6 + 60,000*0.60 + 1,000*22.50) / 1e6 = $0.9585; plus an unpriced acme-internal-llm request (10 in, 10
  out); ends as failed after 1,800 s.
Org globex has one session that must never show up in acme's figures.
"""

import datetime as dt
import functools
import json
import subprocess
import sys

import duckdb
import pytest

from orchestration.refresh import run_refresh
from reports.analytics.query import AnalyticsQueries, Filters, Scope, connect_read_only
from tests.fixtures.warehouse import build_warehouse, test_paths, usage, write_delivery, write_directory

# Answers round costs to micro-dollars and durations to milliseconds.
approx = functools.partial(pytest.approx, abs=1e-6)

COST_A, COST_B, COST_C = 0.0105, 0.0038, 0.9585
TOKENS_A, TOKENS_B, TOKENS_C = 1_500, 11_300, 211_020


def ev(event_id, event_type, session_id, timestamp, org_id="acme", **fields):
    return {
        "schema_version": 1,
        "event_id": event_id,
        "event_type": event_type,
        "org_id": org_id,
        "session_id": session_id,
        "timestamp": timestamp,
        **fields,
    }


SONNET, HAIKU = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"

EARLY_DELIVERIES = {
    "2026-11-16": [
        ev(
            "a1",
            "session_started",
            "A",
            "2026-11-16T22:30:00Z",
            user_id="u1",
            agent="claude-code",
            project_id="p-api",
            repository="acme/api",
        ),
        ev(
            "g1",
            "session_started",
            "G",
            "2026-11-16T15:00:00Z",
            org_id="globex",
            user_id="g1",
            agent="claude-code",
            project_id="p-g",
            repository=None,
        ),
        ev(
            "g2",
            "model_request",
            "G",
            "2026-11-16T15:01:00Z",
            org_id="globex",
            request_id="rg",
            model=SONNET,
            usage=usage(1000, 0),
        ),
    ],
    "2026-11-17": [
        ev(
            "a2",
            "model_request",
            "A",
            "2026-11-17T00:10:00+01:00",
            request_id="ra",
            model=SONNET,
            usage=usage(1000, 500),
        ),
        ev("a3", "session_ended", "A", "2026-11-16T23:40:00Z", status="completed"),
        ev(
            "b2",
            "model_request",
            "B",
            "2026-11-17T10:00:00Z",
            request_id="rb",
            model=HAIKU,
            usage=usage(100, 200, 1000, 10_000, split=(400, 600)),
        ),
        ev(
            "b2",
            "model_request",
            "B",
            "2026-11-17T10:00:00Z",
            request_id="rb",
            model=HAIKU,
            usage=usage(100, 200, 1000, 10_000, split=(400, 600)),
        ),
    ],
}
LATE_DELIVERY = {
    "2026-11-18": [
        ev(
            "b1",
            "session_started",
            "B",
            "2026-11-17T09:55:00Z",
            user_id="u1",
            agent="cursor-agent",
            project_id="p-web",
            repository="acme/web",
        ),
        ev(
            "b2",
            "model_request",
            "B",
            "2026-11-17T10:00:00Z",
            request_id="rb",
            model=HAIKU,
            usage=usage(100, 200, 1000, 10_000, split=(400, 600)),
        ),
        ev(
            "c1",
            "session_started",
            "C",
            "2026-11-18T08:00:00Z",
            user_id="m1",
            agent="claude-code",
            project_id="p-api",
            repository=None,
        ),
        ev(
            "c2",
            "model_request",
            "C",
            "2026-11-18T08:05:00Z",
            request_id="rc",
            model=SONNET,
            usage=usage(150_000, 1_000, 0, 60_000),
        ),
        ev(
            "c3",
            "model_request",
            "C",
            "2026-11-18T08:06:00Z",
            request_id="rc2",
            model="acme-internal-llm",
            usage=usage(10, 10),
        ),
        ev("c4", "session_ended", "C", "2026-11-18T08:30:00Z", status="failed"),
        ev("c5", "tool_call", "C", "2026-11-18T08:07:00Z"),
    ],
}


def write_deliveries(paths, deliveries):
    for day, events in deliveries.items():
        write_delivery(paths.raw_dir, day, "events", events)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    paths = test_paths(tmp_path_factory.mktemp("pipeline"))
    write_directory(
        paths.directory,
        orgs=[("acme", "Acme Robotics", "Europe/Berlin"), ("globex", "Globex", "America/New_York")],
        users=[
            ("acme", "m1", "m1@acme.example", "Mia Manager", "Platform", "", "manager"),
            ("acme", "u1", "u1@acme.example", "Zoë Åkesson", "Platform", "m1", "member"),
            ("globex", "g1", "g1@globex.example", "Gus", "Core", "", "admin"),
        ],
        projects=[
            ("acme", "p-api", "API", "single"),
            ("acme", "p-web", "Web App", "workspace"),
            ("globex", "p-g", "G", "single"),
        ],
    )
    write_deliveries(paths, EARLY_DELIVERIES)
    build_warehouse(paths)
    with connect_read_only(paths.warehouse) as conn:
        before_start = AnalyticsQueries(conn).summary("acme"), AnalyticsQueries(conn).cost_breakdown("acme")
    write_deliveries(paths, LATE_DELIVERY)
    first = run_refresh(paths)
    snapshot = warehouse_snapshot(paths.warehouse)
    second = run_refresh(paths)
    return {
        "paths": paths,
        "before_start": before_start,
        "refreshes": (first, second),
        "snapshots": (snapshot, warehouse_snapshot(paths.warehouse)),
    }


def warehouse_snapshot(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'analytics' order by 1"
            ).fetchall()
        ]
        return {t: conn.execute(f"select * from analytics.{t} order by all").fetchall() for t in tables}


@pytest.fixture
def queries(scenario):
    with connect_read_only(scenario["paths"].warehouse) as conn:
        yield AnalyticsQueries(conn)


def test_summary_of_the_whole_org(queries):
    assert queries.summary("acme") == approx(
        {
            "total_sessions": 3,
            "total_cost_usd": COST_A + COST_B + COST_C,
            "total_tokens": TOKENS_A + TOKENS_B + TOKENS_C,
            "input_tokens": 1_000 + 11_100 + 210_010,
            "output_tokens": 500 + 200 + 1_010,
            "avg_session_duration_seconds": (4_200 + 300 + 1_800) / 3,
            "avg_cost_per_session_usd": (COST_A + COST_B + COST_C) / 3,
            "unique_users": 2,
        }
    )


def test_cross_midnight_session_counts_on_its_start_date_and_its_cost_on_the_request_date(queries):
    day16 = Filters(date_from=dt.date(2026, 11, 16), date_to=dt.date(2026, 11, 16))
    day17 = Filters(date_from=dt.date(2026, 11, 17), date_to=dt.date(2026, 11, 17))
    assert queries.summary("acme", day16)["total_sessions"] == 1
    assert queries.summary("acme", day16)["total_cost_usd"] == 0
    assert queries.summary("acme", day17) == approx(
        {
            "total_sessions": 1,
            "total_cost_usd": COST_A + COST_B,
            "total_tokens": TOKENS_A + TOKENS_B,
            "input_tokens": 1_000 + 11_100,
            "output_tokens": 700,
            "avg_session_duration_seconds": 300,
            "avg_cost_per_session_usd": COST_A + COST_B,
            "unique_users": 1,
        }
    )


def test_late_start_counts_in_org_totals_as_unknown_then_is_attributed(scenario, queries):
    summary_before, breakdown_before = scenario["before_start"]
    assert summary_before["total_sessions"] == 2
    assert summary_before["unique_users"] == 1
    assert summary_before["total_cost_usd"] == approx(COST_A + COST_B)
    assert {row["user_id"]: row["cost_usd"] for row in breakdown_before["by_user"]} == approx(
        {"u1": COST_A, None: COST_B}
    )
    after = queries.cost_breakdown("acme")["by_user"]
    assert after == [
        {"user_id": "m1", "name": "Mia Manager", "cost_usd": approx(COST_C)},
        {"user_id": "u1", "name": "Zoë Åkesson", "cost_usd": approx(COST_A + COST_B)},
    ]


def test_filters_combine_or_within_and_across_dimensions(queries):
    assert queries.summary("acme", Filters(agents=("claude-code",)))["total_cost_usd"] == approx(COST_A + COST_C)
    assert queries.summary("acme", Filters(repositories=("acme/web",)))["total_sessions"] == 1
    assert queries.summary("acme", Filters(repositories=("acme/web", "acme/api")))["total_sessions"] == 2
    only_a = queries.summary("acme", Filters(users=("u1",), projects=("p-api",)))
    assert (only_a["total_sessions"], only_a["total_tokens"]) == (1, TOKENS_A)
    assert queries.summary("acme", Filters(agents=("no-such-agent",)))["total_sessions"] == 0
    assert queries.summary("acme", Filters(users=("' or 1=1 --",)))["total_sessions"] == 0


def test_scope_limits_to_the_readers_users(queries):
    assert queries.summary("acme", scope=Scope(frozenset({"m1"})))["total_cost_usd"] == approx(COST_C)


def test_timeseries_has_every_period_of_the_range(queries):
    days = queries.timeseries("acme", interval="day", metric="cost")
    assert days["points"] == [
        {"period_start": "2026-11-16", "value": 0},
        {"period_start": "2026-11-17", "value": approx(COST_A + COST_B)},
        {"period_start": "2026-11-18", "value": approx(COST_C)},
    ]
    weeks = queries.timeseries(
        "acme",
        Filters(date_from=dt.date(2026, 11, 10), date_to=dt.date(2026, 11, 18)),
        interval="week",
        metric="sessions",
    )
    assert weeks["points"] == [{"period_start": "2026-11-09", "value": 0}, {"period_start": "2026-11-16", "value": 3}]


def test_by_agent(queries):
    assert queries.by_agent("acme")["agents"] == [
        {
            "agent": "claude-code",
            "sessions": 2,
            "total_cost_usd": approx(COST_A + COST_C),
            "total_tokens": TOKENS_A + TOKENS_C,
            "avg_cost_usd": approx((COST_A + COST_C) / 2),
            "avg_duration_seconds": approx(3_000),
            "unpriced_requests": 1,
        },  # C's acme-internal-llm request
        {
            "agent": "cursor-agent",
            "sessions": 1,
            "total_cost_usd": approx(COST_B),
            "total_tokens": TOKENS_B,
            "avg_cost_usd": approx(COST_B),
            "avg_duration_seconds": approx(300),
            "unpriced_requests": 0,
        },
    ]


def test_cost_breakdown_prices_long_context_cache_splits_and_counts_unpriced(queries):
    breakdown = queries.cost_breakdown("acme")
    assert breakdown["by_model"] == [
        {"model_family": "sonnet", "cost_usd": approx(COST_A + COST_C)},
        {"model_family": "haiku", "cost_usd": approx(COST_B)},
        {"model_family": "opus", "cost_usd": 0},
        {"model_family": "other", "cost_usd": 0},
    ]
    assert breakdown["by_vendor"] == [  # the unpriced acme-internal-llm is "other", at $0
        {"vendor": "anthropic", "cost_usd": approx(COST_A + COST_B + COST_C)},
        {"vendor": "openai", "cost_usd": 0},
        {"vendor": "google", "cost_usd": 0},
        {"vendor": "other", "cost_usd": 0},
    ]
    assert breakdown["by_project"] == [
        {"project_id": "p-api", "name": "API", "cost_usd": approx(COST_A + COST_C)},
        {"project_id": "p-web", "name": "Web App", "cost_usd": approx(COST_B)},
    ]
    assert breakdown["unpriced_requests"] == 1


def test_other_orgs_never_leak(queries):
    assert queries.summary("globex")["total_sessions"] == 1
    assert queries.summary("globex")["total_cost_usd"] == approx(0.003)
    names = json.dumps(queries.cost_breakdown("acme"))
    assert "g1" not in names and "Gus" not in names


def test_refresh_summary_names_every_unpriced_model_with_its_request_count(scenario):
    first, _ = scenario["refreshes"]
    assert first["unpriced_requests"] == 1 and first["unpriced_models"] == {"acme-internal-llm": 1}


def test_refresh_twice_gives_the_same_warehouse(scenario):
    first, second = scenario["refreshes"]
    assert first["success"] and second["success"]
    assert first["lines_read"] == first["lines_loaded"] == 3 + 4 + 7
    before, after = scenario["snapshots"]
    assert before == after
    assert len(before["fct_model_requests"]) == 5  # 6 request lines, b2 delivered three times


def test_cli_prints_the_same_answer_as_the_query_code(scenario, queries):
    warehouse = str(scenario["paths"].warehouse)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "analytics",
            "summary",
            "--org",
            "acme",
            "--warehouse",
            warehouse,
            "--agent",
            "claude-code",
            "--agent",
            "cursor-agent",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(completed.stdout) == queries.summary("acme", Filters(agents=("claude-code", "cursor-agent")))
    table = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "analytics",
            "by-agent",
            "--org",
            "acme",
            "--warehouse",
            warehouse,
            "--format",
            "table",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "claude-code" in table and "cursor-agent" in table


def test_cli_rejects_a_reversed_date_range(scenario):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "analytics",
            "summary",
            "--org",
            "acme",
            "--warehouse",
            str(scenario["paths"].warehouse),
            "--from",
            "2026-11-18",
            "--to",
            "2026-11-01",
        ],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert "from" in completed.stderr
