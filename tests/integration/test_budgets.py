"""Budgets, forecasts and anomalies end to end on a small org (tests/fixtures/budget_scenario.py): a real dbt build,
the API over HTTP, the reports, and the alert emails over a real SMTP server.

The figures, by hand. A "unit" is 100,000 input tokens of acme-coder: $1 until 2026-11-15, $2 from 2026-11-16 (the
price changes mid-period). acme's latest day is Wednesday 2026-11-18, in November's month budget period (which
starts mid-history: the history begins 2026-09-21) and the week of 11-16.

November so far (days 1-18; weekdays 2-13 at $1, 16-18 at $2):
- pat: 10 x 1 + 3 x 2 + the $120 spike (10 requests x 3 units x $4, long context) = 136;
- max: 10 x 2 + 3 x 4 = 32;
- val: Mon/Wed/Fri 2, 4, 6, 9, 11, 13 at 1 + 16, 18 at 2 + the quiet Saturday 11-14's 3 = 13.
  (The quiet spend is at 23:30 UTC on Friday 11-13: 00:30 on Saturday in Berlin, priced at the UTC date's $1.)

Trailing four weeks (10-22 .. 11-18), Platform (pat + max) a day: 3 before 11-16, 6 from 11-16, 126 on 11-18. Weekday
rates: Thu 3, Fri 3, Sat 0, Sun 0, Mon (3+3+3+6)/4 = 3.75, Tue 3.75, Wed (3+3+3+126)/4 = 33.75. The days left,
11-19 .. 11-30: Thu x2, Fri x2, Sat x2, Sun x2, Mon x2, Tue, Wed: 6 + 6 + 0 + 0 + 7.5 + 3.75 + 33.75 = 57.
These figures are EXPECTED_BUDGETS of tests/fixtures/budget_scenario.py (the dashboard's tests check them too).
"""

import datetime as dt
import email.policy
import json
import re
import shutil
from decimal import Decimal

import duckdb
import httpx
import pytest

from reports.api.app import ApiSettings
from reports.weekly.render import render_reports
from tests.fixtures.budget_scenario import EXPECTED_BUDGETS as EXPECTED
from tests.fixtures.budget_scenario import move_max_to_web
from tests.fixtures.servers import LiveServer, run_cli
from tests.fixtures.warehouse import test_paths

LATEST = dt.date(2026, 11, 18)
W47 = "2026-W47"
ACME_PEOPLE = ("ada", "mia", "pat", "max", "wes", "val")


@pytest.fixture(scope="module")
def world(tmp_path_factory, budget_warehouse):
    root = tmp_path_factory.mktemp("budgets")
    # a copy: the team move's test rebuilds the warehouse
    shutil.copytree(budget_warehouse.warehouse.parent, root / "scenario")
    paths = test_paths(root / "scenario")
    tokens = root / "tokens.sqlite3"
    secrets = {}
    for user in (*ACME_PEOPLE, "gil"):
        code, out = run_cli(
            "tokens", "create", "--user", user, "--warehouse", str(paths.warehouse), "--tokens", str(tokens)
        )
        assert code == 0, out
        secrets[user] = out.strip()
    settings = ApiSettings(warehouse=paths.warehouse, tokens=tokens)
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield {"paths": paths, "root": root, "client": client, "secrets": secrets}


def _get(world, reader, path, **params):
    headers = {"Authorization": f"Bearer {world['secrets'][reader]}"}
    return world["client"].get(path, params=params, headers=headers)


def _latest_statuses(warehouse, org_id="acme"):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select budget_scope, scope_id, period, spend_usd, forecast_usd, status from analytics.mart_budget_status "
            "where org_id = ? and is_latest",
            [org_id],
        ).fetchall()
    return {
        (scope, scope_id, period): (spend, forecast, status)
        for scope, scope_id, period, spend, forecast, status in rows
    }


def test_spend_forecast_and_status_of_each_budget_match_the_hand_computed_figures(world):
    statuses = _latest_statuses(world["paths"].warehouse)
    assert statuses.keys() == EXPECTED.keys()
    for key, (spend, forecast, status) in EXPECTED.items():
        got_spend, got_forecast, got_status = statuses[key]
        assert got_spend == Decimal(spend), key  # exact money
        assert float(got_forecast) == pytest.approx(forecast, abs=1e-9), key
        assert got_status == status, key
    # globex is on its own: 13 weekdays at $1 against 10 (five days left at 1: Thu, Fri, Mon, Mon... = 8)
    globex = _latest_statuses(world["paths"].warehouse, "globex")
    assert globex == {("org", "globex", "month"): (Decimal(13), pytest.approx(Decimal(13 + 8)), "over")}


def test_a_budget_period_that_starts_mid_history_counts_only_its_own_days(world):
    """The month of October began after the history (09-21): on its last day its spend is October's alone, and
    it is complete (the forecast is the spend)."""
    with duckdb.connect(str(world["paths"].warehouse), read_only=True) as conn:
        row = conn.execute(
            "select period_start, spend_usd, forecast_usd, is_period_complete from analytics.mart_budget_status "
            "where scope_id = 'Platform' and as_of_date = '2026-10-31'"
        ).fetchall()
    october_weekdays = 22  # Oct 2026: Thursday 1st to Saturday 31st
    assert row == [(dt.date(2026, 10, 1), Decimal(3 * october_weekdays), Decimal(3 * october_weekdays), True)]


def test_bad_budget_rows_are_quarantined_with_their_line(world):
    with duckdb.connect(str(world["paths"].warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select source_file, line_number, reason from staging.stg_ingestion__quarantined_lines "
            "where source_file = 'budgets.csv' order by line_number"
        ).fetchall()
    assert rows == [
        ("budgets.csv", 9, "invalid scope 'division': expected one of org/team/user/project"),
        ("budgets.csv", 10, "invalid amount_usd '-5': expected 0.01 to 1000000000000 with at most 6 decimals"),
    ]


def test_the_planted_spike_is_flagged_and_explained_and_the_quiet_day_is_not(world):
    with duckdb.connect(str(world["paths"].warehouse), read_only=True) as conn:
        flagged = conn.execute(
            "select entity_kind, entity_id, anomaly_date, cost_usd, baseline_median_usd, sessions, model_requests, "
            "top_model from analytics.mart_cost_anomalies where org_id = 'acme' order by entity_kind"
        ).fetchall()
        quiet = conn.execute(
            "select cost_usd, baseline_median_usd, baseline_weeks, is_anomaly "
            "from intermediate.int_cost_anomalies_scored "
            "where entity_kind = 'user' and entity_id = 'val' and cost_date = '2026-11-14'"
        ).fetchall()
    # pat: 2 + 120 against 1 on each of the 8 Wednesdays before; p-api adds max's 4 (usual 1 + 2); the agent val's 2
    assert flagged == [
        ("agent", "claude-code", LATEST, Decimal(128), Decimal(4), 4, 13, "acme-coder-max"),
        ("project", "p-api", LATEST, Decimal(126), Decimal(3), 3, 12, "acme-coder-max"),
        ("user", "pat", LATEST, Decimal(122), Decimal(1), 2, 11, "acme-coder-max"),
    ]
    # 3 on a Saturday, usually 0 (seven Saturdays since val's first day): far above usual, but under $100
    assert quiet == [(Decimal(3), 0.0, 7, False)]


def test_each_reader_sees_the_budgets_and_anomalies_of_their_scope_only(world):
    def budgets(user, **params):
        answer = _get(world, user, "/acme/sessions/analytics/budgets", **params)
        assert answer.status_code == 200, answer.text
        return {(b["scope"], b["scope_id"]) for b in answer.json()["budgets"]}

    def anomalies(user):
        answer = _get(world, user, "/acme/sessions/analytics/anomalies")
        assert answer.status_code == 200, answer.text
        return {(a["kind"], a["id"]) for a in answer.json()["anomalies"]}

    everything = {(scope, scope_id) for scope, scope_id, _ in EXPECTED}
    assert budgets("ada") == everything
    assert budgets("mia") == {("user", "pat"), ("team", "Platform")}  # her team, all of it hers
    assert budgets("wes") == {("user", "val"), ("team", "Web")}
    assert budgets("pat") == {("user", "pat")}
    assert budgets("val") == {("user", "val")}
    assert budgets("max") == set()
    assert anomalies("ada") == {("user", "pat"), ("project", "p-api"), ("agent", "claude-code")}
    assert anomalies("mia") == anomalies("pat") == {("user", "pat")}
    assert anomalies("wes") == anomalies("val") == set()

    platform = _get(world, "mia", "/acme/sessions/analytics/budgets", team="Platform").json()["budgets"]
    assert [(c["id"], c["cost_usd"]) for c in platform[0]["top_contributors"]] == [("pat", 136.0), ("max", 32.0)]
    assert platform[0]["status"] == "projected_over" and platform[0]["forecast_usd"] == 225.0
    spike = _get(world, "mia", "/acme/sessions/analytics/anomalies").json()["anomalies"][0]
    assert spike["explanation"] == (
        "122.0x usual ($122.00 against $1.00 on Wednesdays); 98% from acme-coder-max, 98% from long-context "
        "requests, 100% of input tokens uncached; 2 sessions, 11 requests"
    )
    answers = json.dumps(
        [
            _get(world, u, p).json()
            for u in ("mia", "pat")
            for p in ("/acme/sessions/analytics/budgets", "/acme/sessions/analytics/anomalies")
        ]
    )
    for outsider in ('"val"', '"wes"', "Val Web", "Wes Web", "val@acme.example", "Web App", "p-web"):
        assert outsider not in answers


def test_asking_outside_the_scope_is_refused(world):
    assert _get(world, "mia", "/acme/sessions/analytics/budgets", user="val").status_code == 403
    assert _get(world, "mia", "/acme/sessions/analytics/budgets", team="Web").status_code == 403
    assert _get(world, "mia", "/acme/sessions/analytics/anomalies", user="val").status_code == 403
    assert _get(world, "gil", "/acme/sessions/analytics/budgets").status_code == 403
    assert world["client"].get("/acme/sessions/analytics/budgets").status_code == 401
    bad = _get(world, "ada", "/acme/sessions/analytics/anomalies", since="2026-11-01")
    assert (bad.status_code, bad.json()["parameter"]) == (422, "since")
    assert _get(world, "ada", "/acme/sessions/analytics/budgets", as_of="2026-11-31").status_code == 422
    # a repeatable parameter's bad value names the parameter (not its position in the list)
    for path, parameter, values in (("budgets", "scope", ["team", "division"]), ("anomalies", "kind", ["team"])):
        bad = _get(world, "ada", f"/acme/sessions/analytics/{path}", **{parameter: values})
        assert (bad.status_code, bad.json()["parameter"]) == (422, parameter), path
        assert bad.json()["detail"].startswith(f"{parameter}: "), bad.json()


def test_budgets_as_of_an_earlier_day_and_as_csv(world):
    """On Friday 11-13 the Platform month stood at 10 weekdays x 3 = 30 (November 2-13), pat's week of 11-09 at 5."""
    answer = _get(world, "mia", "/acme/sessions/analytics/budgets", as_of="2026-11-13").json()["budgets"]
    figures = {(b["scope"], b["scope_id"]): (b["period_start"], b["spend_usd"], b["status"]) for b in answer}
    assert figures == {("team", "Platform"): ("2026-11-01", 30.0, "ok"), ("user", "pat"): ("2026-11-09", 5.0, "ok")}
    csv = _get(world, "mia", "/acme/sessions/analytics/anomalies", format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    header, *rows = csv.text.strip().splitlines()
    assert (
        header.startswith("kind,id,name,date,cost_usd,usual_cost_usd")
        and len(rows) == 1
        and rows[0].startswith("user,pat,")
    )


def test_team_and_org_reports_say_what_changed_and_personal_reports_do_not(world, tmp_path):
    render_reports(world["paths"].warehouse, tmp_path, "acme", week=_week(W47), workers=1)
    week_dir = tmp_path / "acme" / W47

    def section(path):
        html = (week_dir / path).read_text(encoding="utf-8")
        start = html.find("What changed this week")
        if start < 0:
            return None
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start : html.find("This week by day", start)]))

    mia = section("managers/mia.html")
    assert "Pat Platform" in mia and "Platform" in mia and "projected over" in mia and "over budget" in mia
    assert "122.0x usual" in mia and "Val" not in mia and "Web" not in mia
    org = section("org/ada.html")
    assert "Auth API (project)" in org and "claude-code (agent)" in org
    assert section("managers/wes.html") is None  # Web and val are fine, no anomaly: no section
    assert all(section(f"users/{user}.html") is None for user in ACME_PEOPLE)


def test_alerts_go_once_to_the_right_people_and_follow_a_team_move(world, smtp, monkeypatch):
    """Build one: pat's week is over (to pat), Platform is projected over (to its manager mia), the spike is
    emailed to pat's manager mia and the project's and agent's to the admin ada (the large-anomaly minimum set to
    $100 here), globex's month is over (to its admin gil). A second run sends nothing. Then max moves to Web: his
    spend counts for Web now, on every day (the directory is a snapshot). Platform: pat's 136, forecast 136 +
    Thu 2 + Fri 2 + Mon 2 x 1.25 + Tue 1.25 + Wed (1+1+1+122)/4 = 175, ok (136 < 160). Web: 13 + 32 = 45 >= 30,
    forecast 20.25 + 32 + max's Thu 4 + Fri 4 + Mon 2 x 2.5 + Tue 2.5 + Wed 2.5 = 70.25 > 60: projected over,
    to Web's manager wes, whose scope now has max. Nothing else is sent again."""
    handler = smtp()
    monkeypatch.setenv("SESSION_ANALYTICS_ANOMALY_EMAIL_MIN_USD", "100")
    paths = world["paths"]
    ledger = world["root"] / "ledger.sqlite3"
    flags = ("--warehouse", str(paths.warehouse), "--ledger", str(ledger), "--outbox", str(world["root"] / "outbox"))

    code, out = run_cli("alerts", *flags)
    assert code == 0, out
    sent = [(to, _subject(message)) for to, message in _parsed(handler.messages)]
    assert sorted(sent) == sorted(
        [
            (["pat@acme.example"], "[Acme Robotics] Budget over: user Pat Platform, week 2026-W47 (16 Nov to 22 Nov)"),
            (["mia@acme.example"], "[Acme Robotics] Budget projected over: team Platform, November 2026"),
            (["mia@acme.example"], "[Acme Robotics] Unusual cost: Pat Platform on Wednesday 18 November 2026"),
            (["ada@acme.example"], "[Acme Robotics] Unusual cost: project Auth API on Wednesday 18 November 2026"),
            (["ada@acme.example"], "[Acme Robotics] Unusual cost: agent claude-code on Wednesday 18 November 2026"),
            (["gil@globex.example"], "[Globex] Budget over: the organisation (Globex), November 2026"),
        ]
    )
    bodies = {(tuple(to), _subject(message)): message.get_content() for to, message in _parsed(handler.messages)}
    platform = bodies[(("mia@acme.example",), "[Acme Robotics] Budget projected over: team Platform, November 2026")]
    assert "$168.00 spent of $200.00 (84%)" in platform and "$225.00 (112% of the budget)" in platform
    assert "Pat Platform: $136.00" in platform and "Max Mover: $32.00" in platform
    mia_text = " ".join(body for (to, _), body in bodies.items() if to == ("mia@acme.example",))
    assert "Val" not in mia_text and "Web" not in mia_text

    code, out = run_cli("alerts", *flags)
    assert code == 0 and len(handler.messages) == 6, out  # each alert once

    move_max_to_web(paths)
    statuses = _latest_statuses(paths.warehouse)
    assert statuses[("team", "Platform", "month")] == (Decimal(136), pytest.approx(Decimal(175)), "ok")
    assert statuses[("team", "Web", "month")] == (Decimal(45), pytest.approx(Decimal("70.25")), "projected_over")
    code, out = run_cli("alerts", *flags)
    assert code == 0, out
    new = _parsed(handler.messages[6:])
    assert [(to, _subject(message)) for to, message in new] == [
        (["wes@acme.example"], "[Acme Robotics] Budget projected over: team Web, November 2026")
    ]
    body = new[0][1].get_content()
    assert "Max Mover: $32.00" in body and "Val Web: $13.00" in body and "Pat" not in body


def _parsed(messages):
    return [(to, email.message_from_bytes(message.as_bytes(), policy=email.policy.default)) for to, message in messages]


def _subject(message) -> str:
    return " ".join(str(message["Subject"]).split())  # unfolded


def _week(label):
    from reports.analytics.weeks import ReportWeek

    return ReportWeek.parse(label)
