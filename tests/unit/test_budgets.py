"""Budgets without a build: budgets.csv's checks, the anomaly sentence, the email threshold, the sample's budget
arithmetic (the warehouse's own figures are tested in tests/integration/test_budgets.py)."""

import datetime as dt

import duckdb
import pytest

from orchestration.ingest import directory, lake
from orchestration.sample.budgets import _figures
from reports.analytics.budgets import explanation
from reports.delivery.budget_alerts import anomaly_email_min_usd
from tests.fixtures.warehouse import test_paths, write_directory


def test_budget_rows_are_checked_normalised_and_bad_ones_quarantined(tmp_path):
    paths = test_paths(tmp_path)
    write_directory(paths.directory, [("acme", "Acme", "UTC")], [("acme", "u1", "u1@x", "A", "T", "", "admin")], [])
    (paths.directory / "budgets.csv").write_text(
        "org_id,scope,scope_id,period,amount_usd,warn_at\n"
        "acme,team,Motion Control,month,1500.50,\n"  # 2: a team's name is free text; warn_at defaults to 0.8
        "acme,user,u1,week,20,0.90\n"  # 3
        "acme,org,globex,month,10,\n"  # 4: an org budget is for its own org
        "acme,user,u1,quarter,10,\n"  # 5
        "acme,project,p1,month,0,\n"  # 6
        "acme,project,p3,month,12.1234567,\n"  # 7
        "acme,project,p2,month,12,1.5\n"  # 8
        "acme,user,u1,week,30,\n"  # 9: the same budget again
        "acme,team,Bad\x01Team,month,10,\n",  # 10
        encoding="utf-8",
    )

    result = directory.load_directory(paths.directory, paths.lake_dir)

    assert result.quarantined_rows == 7
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        budgets = conn.execute(
            "select scope, scope_id, period, amount_usd, warn_at from raw.directory_budgets order by 1"
        ).fetchall()
        reasons = conn.execute(
            "select line_number, reason from raw.quarantined_lines where source_file = 'budgets.csv' order by 1"
        ).fetchall()
    assert budgets == [("team", "Motion Control", "month", "1500.50", "0.8"), ("user", "u1", "week", "20", "0.90")]
    assert reasons == [
        (4, "an org budget's scope_id must be its org_id 'acme', got 'globex'"),
        (5, "invalid period 'quarter': expected one of month/week"),
        (6, "invalid amount_usd '0': expected 0.01 to 1000000000000 with at most 6 decimals"),
        (7, "invalid amount_usd '12.1234567': expected 0.01 to 1000000000000 with at most 6 decimals"),
        (8, "invalid warn_at '1.5': expected a fraction above 0 and at most 1, at most 6 decimals"),
        (9, "duplicate org_id/scope/scope_id/period acme/user/u1/week"),
        (10, "invalid text scope_id: contains the control character U+0001"),
    ]


def test_a_budget_edit_does_not_ask_for_a_full_rebuild(tmp_path):
    paths = test_paths(tmp_path)
    write_directory(paths.directory, [("acme", "Acme", "UTC")], [("acme", "u1", "u1@x", "A", "T", "", "admin")], [])
    directory.load_directory(paths.directory, paths.lake_dir)
    state = paths.lake_dir / "_state" / "directory" / "content.json"
    before = state.read_text()
    (paths.directory / "budgets.csv").write_text("org_id,scope,scope_id,period,amount_usd\nacme,org,acme,month,9\n")
    directory.load_directory(paths.directory, paths.lake_dir)
    assert state.read_text() == before


def test_the_anomaly_sentence_says_how_far_above_usual_and_why():
    anomaly = {
        "cost_usd": 412.1,
        "usual_cost_usd": 121.0,
        "cost_ratio": 3.41,
        "top_model": "claude-opus-4-6",
        "top_model_share": 0.82,
        "long_context_share": 0.64,
        "uncached_input_share": 0.125,
        "sessions": 1,
        "model_requests": 40,
    }
    assert explanation(anomaly, "Tuesdays") == (
        "3.4x usual ($412.10 against $121.00 on Tuesdays); 82% from claude-opus-4-6, 64% from long-context requests, "
        "12% of input tokens uncached; 1 session, 40 requests"
    )
    quiet = {**anomaly, "usual_cost_usd": 0.0, "cost_ratio": None, "long_context_share": 0.0}
    assert explanation(quiet, "Saturdays").startswith(
        "$412.10, usually nothing on Saturdays; 82% from claude-opus-4-6, 12%"
    )


def test_the_large_anomaly_threshold_comes_from_the_environment():
    assert anomaly_email_min_usd({}) == 200.0
    assert anomaly_email_min_usd({"SESSION_ANALYTICS_ANOMALY_EMAIL_MIN_USD": "75.5"}) == 75.5
    for bad in ("lots", "-1", "nan"):
        with pytest.raises(ValueError, match="SESSION_ANALYTICS_ANOMALY_EMAIL_MIN_USD"):
            anomaly_email_min_usd({"SESSION_ANALYTICS_ANOMALY_EMAIL_MIN_USD": bad})


def test_the_samples_budget_arithmetic_is_the_warehouses_forecast():
    """Monday 2026-11-30 with history from Monday 11-16 at 10 a weekday: November has nothing left (eleven
    weekdays, the 30th included: spend = forecast = 110); its ISO week 11-30..12-06 has Tuesday to Friday ahead at
    10 each (the weekend's rate is 0)."""
    days = [dt.date(2026, 11, 16) + dt.timedelta(days=d) for d in range(15)]
    daily = {day: 10.0 for day in days if day.weekday() < 5}
    assert _figures(daily, dt.date(2026, 11, 30), "month") == (110.0, 110.0)
    assert _figures(daily, dt.date(2026, 11, 30), "week") == (10.0, 50.0)
