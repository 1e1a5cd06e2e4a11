"""The dashboard's budget bars and flagged days in a real headless Chromium, against `session-analytics serve` over
the budget scenario's warehouse (tests/fixtures/budget_scenario.py: a real dbt build; one warehouse, server and
browser for the file).

What the scenario gives by hand (tests/integration/test_budgets.py works it out): on the latest day, Wednesday
2026-11-18, each budget's spend, forecast and status (EXPECTED_BUDGETS), and one user anomaly, pat's $122 against
the usual $1 that Wednesday (the project p-api's and the agent claude-code's the same day, seen by admins only).
Readers: ada (admin), mia (manager of Platform: pat, max), wes (manager of Web: val), pat and max (members).
Every figure on a page must also equal the API's JSON (and CSV) for the same reader and the page's filters.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import httpx
import pytest

from reports.api.tokens import TokenStore
from tests.fixtures.browser import DashboardServer, DashboardSite, chromium
from tests.fixtures.budget_scenario import BUDGETS, EXPECTED_BUDGETS

READERS = ("ada", "mia", "wes", "pat", "max")
SPIKE = "2026-11-18"
SPIKE_WEEK = "2026-11-16"
PAT_EXPLANATION = (
    "122.0x usual ($122.00 against $1.00 on Wednesdays); 98% from acme-coder-max, 98% from long-context "
    "requests, 100% of input tokens uncached; 2 sessions, 11 requests"
)
SCREENSHOTS_ENV = "SESSION_ANALYTICS_SCREENSHOTS"  # a folder: docs/dashboard.md's budget screenshot is written there
STATUS_WORDS = {"ok": "on track", "warning": "warning", "projected_over": "projected over", "over": "over budget"}


def budgets_of_the_directory() -> dict[tuple[str, str], tuple[float, float]]:
    """(scope, scope_id) -> (amount, warn_at) of the valid acme rows of budgets.csv (a known scope, a positive
    amount; warn_at 0.8 when empty)."""
    rows = csv.DictReader(io.StringIO(BUDGETS))
    return {
        (row["scope"], row["scope_id"]): (float(row["amount_usd"]), float(row["warn_at"] or 0.8))
        for row in rows
        if row["org_id"] == "acme"
        and row["scope"] in ("org", "team", "user", "project")
        and float(row["amount_usd"]) > 0
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory, budget_warehouse):
    root = tmp_path_factory.mktemp("dashboard-budgets")
    warehouse = budget_warehouse.warehouse
    tokens = TokenStore(root / "api_tokens.sqlite3")
    secrets = {user: tokens.create("acme", user)[1] for user in READERS}
    with DashboardServer(warehouse, tokens.path, root / "server.log") as server, chromium() as (_, browser):
        yield DashboardSite(server.url, secrets, browser)


def budget_table(page) -> list[tuple]:
    """The budgets table's rows: (scope, scope_id, spend, forecast, amount, warn_at, status), in page order."""
    rows = []
    for row in page.locator("#budgets-table tbody tr").all():
        scope, scope_id = row.get_attribute("data-budget").split(":", 1)
        figures = [
            json.loads(row.locator(f'[data-field="{name}"]').get_attribute("data-value"))
            for name in ("spend_usd", "forecast_usd", "amount_usd", "warn_at")
        ]
        rows.append((scope, scope_id, *figures, row.locator('[data-field="status"]').get_attribute("data-value")))
    return rows


def api_budget_rows(answer: dict) -> list[tuple]:
    return [
        (b["scope"], b["scope_id"], b["spend_usd"], b["forecast_usd"], b["amount_usd"], b["warn_at"], b["status"])
        for b in answer["budgets"]
    ]


def flagged_table(page) -> list[tuple]:
    """The flagged days' rows: (kind, id, date, cost, usual cost, explanation)."""
    rows = []
    for row in page.locator("#flagged-table tbody tr").all():
        kind, ident, date = row.get_attribute("data-anomaly").split(":")
        cost, usual = (
            json.loads(row.locator(f'[data-field="{name}"]').get_attribute("data-value"))
            for name in ("cost_usd", "usual_cost_usd")
        )
        rows.append((kind, ident, date, cost, usual, row.locator('[data-field="explanation"]').inner_text()))
    return rows


def api_flagged_rows(answer: dict) -> list[tuple]:
    return [
        (a["kind"], a["id"], a["date"], a["cost_usd"], a["usual_cost_usd"], a["explanation"])
        for a in answer["anomalies"]
    ]


def marked_periods(page, chart_id: str) -> list[str]:
    """The categories ECharts marks as flagged on a chart (its markLine), read from the drawn chart."""
    return page.evaluate(
        """id => {
            const chart = echarts.getInstanceByDom(document.getElementById(id));
            const marks = chart.getOption().series[0].markLine;
            return marks && marks.data ? marks.data.map(mark => mark.xAxis) : [];
        }""",
        chart_id,
    )


def width_percent(element) -> float:
    return float(re.search(r"(?:width|left): ([\d.]+)%", element.get_attribute("style")).group(1))


# -- the tests ---------------------------------------------------------------------------------------------


def test_the_budget_bars_and_table_equal_the_api_and_the_hand_computed_figures(site):
    context, page, _ = site.page("ada")
    page.goto(f"{site.url}/acme/dashboard")
    shown = budget_table(page)
    assert shown == api_budget_rows(site.api("budgets", "ada", []))
    directory = budgets_of_the_directory()
    assert {(scope, scope_id) for scope, scope_id, *_ in shown} == set(directory)
    expected = {(scope, scope_id): figures for (scope, scope_id, _), figures in EXPECTED_BUDGETS.items()}
    for scope, scope_id, spend, forecast, amount, warn_at, status in shown:
        hand_spend, hand_forecast, hand_status = expected[(scope, scope_id)]
        assert (spend, status) == (hand_spend, hand_status), scope_id
        assert forecast == pytest.approx(hand_forecast, abs=1e-6), scope_id
        assert (amount, warn_at) == directory[(scope, scope_id)], scope_id

    # one bar per budget, with its status in words; Platform: 168 spent, 225 forecast, 200 budget, warning at 160
    bars = page.locator("li.budget")
    assert bars.count() == len(shown)
    for scope, scope_id, *_, status in shown:
        bar = page.locator(f'li.budget[data-budget="{scope}:{scope_id}"]')
        assert bar.locator(".status").inner_text() == STATUS_WORDS[status]
    platform = page.locator('li.budget[data-budget="team:Platform"]')
    track = 225
    for part, value in (("spend", 168), ("forecast", 225), ("amount", 200), ("warn", 160)):
        assert width_percent(platform.locator(f".bar .{part}")) == pytest.approx(100 * value / track, abs=0.01), part
    drawn = platform.locator(".bar .spend").bounding_box()["width"] / platform.locator(".bar").bounding_box()["width"]
    assert drawn == pytest.approx(168 / 225, abs=0.01)
    assert "$168.00 spent of $200.00 (84%)" in platform.inner_text()
    assert platform.locator(".contributors").inner_text() == "Most so far: Pat Platform $136.00, Max Mover $32.00"
    context.close()


def test_budgets_follow_the_pages_last_date(site):
    """As of Friday 11-13 (all of it at $1 a unit): Platform's month at 10 weekdays x 3 = 30, forecast 30 + the 11
    weekdays left in November at 3 (weekends 0) = 63; pat's week of 11-09 at 5 x 1, nothing ahead on the weekend."""
    context, page, _ = site.page("mia")
    page.goto(f"{site.url}/acme/dashboard?from=2026-11-02&to=2026-11-13")
    shown = budget_table(page)
    assert shown == api_budget_rows(site.api("budgets", "mia", [("as_of", "2026-11-13")]))
    assert {row[:2]: row[2:] for row in shown} == {
        ("team", "Platform"): (30.0, 63.0, 200.0, 0.8, "ok"),
        ("user", "pat"): (5.0, 5.0, 20.0, 0.8, "ok"),
    }
    assert page.locator("#budgets-heading").inner_text() == "Budgets as of 2026-11-13"
    assert page.locator("#no-flagged-days").is_visible()  # the spike is on 11-18, after the page's dates
    assert marked_periods(page, "timeseries") == []
    context.close()


def test_flagged_days_are_listed_with_the_apis_explanation_and_marked_on_the_timeseries(site):
    context, page, _ = site.page("ada")
    page.goto(f"{site.url}/acme/dashboard?from=2026-11-02&to=2026-11-18&metric=cost")
    shown = flagged_table(page)
    assert shown == api_flagged_rows(site.api("anomalies", "ada", [("from", "2026-11-02"), ("to", "2026-11-18")]))
    # pat: 2 + 120 against 1; p-api adds max's 4 (usual 1 + 2); the agent's adds val's 2 (usual 4)
    assert [row[:5] for row in shown] == [
        ("agent", "claude-code", SPIKE, 128.0, 4.0),
        ("project", "p-api", SPIKE, 126.0, 3.0),
        ("user", "pat", SPIKE, 122.0, 1.0),
    ]
    assert shown[2][5] == PAT_EXPLANATION
    assert marked_periods(page, "timeseries") == [SPIKE]
    # the week toggle reloads the chart's panel (htmx): the band moves to the spike's ISO week
    page.locator('[data-toggle="interval-week"]').click()
    page.wait_for_selector('#timeseries-table[data-interval="week"]', state="attached")
    page.wait_for_function("() => echarts.getInstanceByDom(document.getElementById('timeseries'))")
    assert marked_periods(page, "timeseries") == [SPIKE_WEEK]
    # the page's filters are the API's: only agents asked for, only the agent's day
    page.goto(f"{site.url}/acme/dashboard?agent=claude-code")
    assert [row[:2] for row in flagged_table(page)] == [("agent", "claude-code")]
    context.close()


def test_a_persons_page_shows_their_own_budget_and_flagged_days(site):
    context, page, _ = site.page("mia")
    page.goto(f"{site.url}/acme/dashboard/person?user=pat")
    assert budget_table(page) == api_budget_rows(site.api("budgets", "mia", [("user", "pat")]))
    assert [row[:2] for row in budget_table(page)] == [("user", "pat")]
    assert page.locator('li.budget[data-budget="user:pat"] .status').inner_text() == "over budget"
    assert flagged_table(page) == [("user", "pat", SPIKE, 122.0, 1.0, PAT_EXPLANATION)]
    assert marked_periods(page, "person-cost") == [SPIKE]
    page.goto(f"{site.url}/acme/dashboard/person?user=max")  # max has no budget and no unusual day
    assert page.locator("#no-budgets").inner_text() == "No budgets set."
    assert page.locator("#no-flagged-days").is_visible() and marked_periods(page, "person-cost") == []
    context.close()


def test_each_reader_sees_only_the_budgets_and_flagged_days_of_their_scope(site):
    pages = ["/acme/dashboard", "/acme/dashboard?interval=week&metric=cost"]
    people = {"ada": ["pat", "val"], "mia": ["mia", "pat", "max"], "wes": ["wes", "val"], "pat": ["pat"]}
    seen = {}
    for reader, persons in people.items():
        context, page, guard = site.page(reader)
        doms = []
        for path in pages + [f"/acme/dashboard/person?user={person}" for person in persons]:
            page.goto(site.url + path)
            doms.append(page.content())
        downloads = [
            site.api("budgets", reader, [], fmt="csv"),
            page.request.get(f"{site.url}/acme/dashboard/csv/budgets").text(),
            page.request.get(f"{site.url}/acme/dashboard/csv/anomalies").text(),
        ]
        everything = "\n".join(doms + downloads + [body.decode("utf-8", "replace") for _, _, body in guard.bodies])
        seen[reader] = (
            set(re.findall(r'data-budget="([^"]+)"', everything)),
            set(re.findall(r'data-anomaly="([^:"]+:[^:"]+)', everything)),
            everything,
        )
        context.close()

    budgets, anomalies, everything = seen["ada"]  # the checks can fail: an admin sees all of it
    assert budgets == {"org:acme", "project:p-api", "team:Platform", "team:Web", "user:pat", "user:val"}
    assert anomalies == {"agent:claude-code", "project:p-api", "user:pat"}
    budgets, anomalies, everything = seen["mia"]
    assert (budgets, anomalies) == ({"team:Platform", "user:pat"}, {"user:pat"})
    for outsider in ("Val Web", "Wes Web", "val@acme.example", "Web App", "$1,000.00", "$500.00"):
        assert outsider not in everything, outsider
    budgets, anomalies, everything = seen["wes"]
    assert (budgets, anomalies) == ({"team:Web", "user:val"}, set())
    for outsider in ("Pat Platform", "Max Mover", "pat@acme.example", "122.0x", "$122.00"):
        assert outsider not in everything, outsider
    budgets, anomalies, everything = seen["pat"]
    assert (budgets, anomalies) == ({"user:pat"}, {"user:pat"})
    assert "Max Mover" not in everything and "team,Platform" not in everything


def test_budget_and_anomaly_csv_downloads_equal_the_api_csv(site):
    for reader, query, budget_query, downloads in (
        ("mia", "", [], ("budgets", "anomalies")),
        ("ada", "from=2026-11-02&to=2026-11-18", [("as_of", "2026-11-18")], ("budgets", "anomalies")),
        (
            "ada",
            "to=2026-11-13&user=pat&project=p-api",
            [("as_of", "2026-11-13"), ("user", "pat"), ("project", "p-api")],
            ("budgets",),  # no flagged day before 11-18: no table, no download
        ),
    ):
        context, page, _ = site.page(reader)
        page.goto(f"{site.url}/acme/dashboard?{query}")
        anomaly_query = list(httpx.QueryParams(query).multi_items())
        for question, api_query in (("budgets", budget_query), ("anomalies", anomaly_query)):
            link = page.get_by_role("link", name=f"{question}.csv")
            if question not in downloads:
                assert link.count() == 0
                continue
            with page.expect_download() as download:
                link.click()
            text = Path(download.value.path()).read_bytes().decode("utf-8")
            assert text == site.api(question, reader, api_query, fmt="csv"), (reader, query, question)
            assert len(text.strip().splitlines()) > 1, (reader, query, question)  # a header and some rows
        context.close()


@pytest.mark.skipif(not os.environ.get(SCREENSHOTS_ENV), reason=f"{SCREENSHOTS_ENV} names a folder for screenshots")
def test_screenshot_for_the_docs(site):
    folder = Path(os.environ[SCREENSHOTS_ENV])
    folder.mkdir(parents=True, exist_ok=True)
    context, page, _ = site.page("ada")
    page.goto(f"{site.url}/acme/dashboard?from=2026-10-19&to=2026-11-18&metric=cost")
    page.wait_for_load_state("networkidle")
    panels = page.locator("#timeseries-panel, #flagged-panel, #budgets-panel")
    box = [panels.nth(i).bounding_box() for i in range(panels.count())]
    top, bottom = min(b["y"] for b in box), max(b["y"] + b["height"] for b in box)
    page.screenshot(
        path=folder / "dashboard-budgets.png",
        full_page=True,
        clip={"x": 0, "y": top - 8, "width": 1280, "height": bottom - top + 16},
    )
    assert (folder / "dashboard-budgets.png").stat().st_size > 10_000
    context.close()
