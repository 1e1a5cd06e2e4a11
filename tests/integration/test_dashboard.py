"""The dashboard in a real headless Chromium (Playwright on Debian's chromium) against `session-analytics serve` in
a subprocess on loopback, over a real warehouse (real dbt build) of the small org below. One server, one warehouse
and one browser for the whole file.

acme (Europe/Berlin): Ava Quartzfield (admin) <- Milo Brandtner (manager) <- Una Fjordsen, Ugo Łarkspur (members);
Zia Pemberton (member) reports to Ava, so Milo's team is {Milo, Una, Ugo}. Some sessions never get their start
(unknown user). globex has Gus Whitcombe. Zia alone uses the project "Zeta Vault" and the repository acme/zeta-vault.
Expected figures come from the independent oracle (tests/fixtures/oracle.py) over the events written here, and the
page must also equal the API's JSON (and CSV) for the same filters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import os
import random
import re
import sqlite3
import zoneinfo
from collections import Counter
from contextlib import closing
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError

from orchestration.bench import dashboard as dashboard_bench
from reports.analytics.query import Filters
from reports.api.app import ApiSettings
from reports.api.tokens import TokenStore
from reports.web import routes
from reports.web.app import create_app as served_app
from reports.web.sessions import sessions_file_for
from tests.fixtures import oracle
from tests.fixtures.browser import DashboardServer, DashboardSite, chromium, sign_in
from tests.fixtures.servers import LiveServer
from tests.fixtures.warehouse import build_warehouse, test_paths, write_delivery, write_directory

ORGS = [("acme", "Acme Robotics", "Europe/Berlin"), ("globex", "Globex", "America/New_York")]
USERS = [
    ("acme", "adm-ava-q", "ava.quartzfield@acme.example", "Ava Quartzfield", "Exec", "", "admin"),
    ("acme", "mgr-milo-b", "milo.brandtner@acme.example", "Milo Brandtner", "Platform", "adm-ava-q", "manager"),
    ("acme", "mem-una-f", "una.fjordsen@acme.example", "Una Fjordsen", "Platform", "mgr-milo-b", "member"),
    ("acme", "mem-ugo-l", "ugo.larkspur@acme.example", "Ugo Łarkspur", "Platform", "mgr-milo-b", "member"),
    ("acme", "mem-zia-p", "zia.pemberton@acme.example", "Zia Pemberton", "Sales", "adm-ava-q", "member"),
    ("globex", "glx-gus-w", "gus.whitcombe@globex.example", "Gus Whitcombe", "Core", "", "admin"),
]
PROJECTS = [
    ("acme", "p-webshop", "Webshop", "single"),
    ("acme", "p-payments", "Payments API", "single"),
    ("acme", "p-zeta", "Zeta Vault", "single"),
    ("globex", "p-globex", "Globex Core", "single"),
]
AGENTS = ["claude-code", "codex", "cursor-agent"]
MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001", "gpt-5-codex"]
FIRST_DAY = dt.date(2026, 11, 2)
DAYS = 21
TEAM = {"adm-ava-q": None, "mgr-milo-b": {"mgr-milo-b", "mem-una-f", "mem-ugo-l"}, "mem-una-f": {"mem-una-f"}}
READERS = {"admin": "adm-ava-q", "manager": "mgr-milo-b", "member": "mem-una-f"}
SCREENSHOTS_ENV = "SESSION_ANALYTICS_SCREENSHOTS"  # a folder: the README's screenshots are written there
# A few budgets, so the overview shows its budget bars (their figures are tested in test_dashboard_budgets.py)
BUDGETS = """org_id,scope,scope_id,period,amount_usd,warn_at
acme,team,Platform,month,4,
acme,user,mem-ugo-l,week,0.5,
acme,org,acme,month,10,
"""


def generate_events(seed: int = 16) -> list[dict]:
    rng = random.Random(seed)
    events: list[dict] = []
    counter = iter(range(1_000_000))

    def event(event_type, session_id, at, org_id, **fields):
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        events.append(
            {
                "schema_version": 1,
                "event_id": f"e{next(counter)}",
                "event_type": event_type,
                "org_id": org_id,
                "session_id": session_id,
                "timestamp": stamp,
                **fields,
            }
        )

    def session(number, org_id, user, project, repository):
        start = dt.datetime.combine(FIRST_DAY, dt.time(), dt.UTC) + dt.timedelta(
            days=rng.randrange(DAYS), hours=rng.choice([7, 9, 11, 14, 16, 21]), minutes=rng.randrange(60)
        )
        sid = f"{org_id}-s{number}"
        if user is not None:
            event(
                "session_started",
                sid,
                start,
                org_id,
                user_id=user,
                agent=rng.choice(AGENTS),
                project_id=project,
                repository=repository,
            )
        at = start
        for request in range(rng.randint(1, 3)):
            at += dt.timedelta(minutes=rng.randint(1, 40))
            usage = {
                "input_tokens": rng.randrange(8_000),
                "output_tokens": rng.randrange(2_000),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": rng.randrange(30_000),
            }
            event(
                "model_request", sid, at, org_id, request_id=f"{sid}-r{request}", model=rng.choice(MODELS), usage=usage
            )
        event("session_ended", sid, at + dt.timedelta(minutes=rng.randint(0, 15)), org_id, status="completed")

    team = ["adm-ava-q", "mgr-milo-b", "mem-una-f", "mem-ugo-l"]
    for number in range(90):
        user = rng.choice(team)
        project = rng.choice(["p-webshop", "p-payments"])
        session(number, "acme", user, project, rng.choice(["acme/webshop", "acme/payments", None]))
    for number in range(90, 100):
        session(number, "acme", "mem-zia-p", "p-zeta", "acme/zeta-vault")
    for number in range(100, 104):
        session(number, "acme", None, None, None)  # the start never arrives
    for number in range(6):
        session(number, "globex", "glx-gus-w", "p-globex", "globex/core")
    return events


EVENTS = generate_events()


def scope_of(reader: str) -> frozenset | None:
    team = TEAM[reader]
    return None if team is None else frozenset(team)


def expected(question: str, filters: Filters, reader: str, **options) -> dict:
    args = (EVENTS, ORGS, USERS, PROJECTS, "acme", filters)
    function = {
        "summary": oracle.expected_summary,
        "timeseries": oracle.expected_timeseries,
        "by-agent": oracle.expected_by_agent,
        "cost-breakdown": oracle.expected_cost_breakdown,
    }[question]
    return function(*args, scope_user_ids=scope_of(reader), **options)


def approx(actual, wanted) -> bool:
    if wanted is None or actual is None:
        return actual == wanted
    return abs(actual - wanted) <= 1.1e-6


# -- the shared server, warehouse and browser --------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("dashboard")
    paths = test_paths(root)
    write_directory(paths.directory, ORGS, USERS, PROJECTS)
    (paths.directory / "budgets.csv").write_text(BUDGETS, encoding="utf-8")
    write_delivery(paths.raw_dir, "2026-11-23", "events", EVENTS)
    build_warehouse(paths, dbt_tests=False)
    tokens = TokenStore(root / "api_tokens.sqlite3")
    secrets = {role: tokens.create("acme", user)[1] for role, user in READERS.items()}
    secrets["globex"] = tokens.create("globex", "glx-gus-w")[1]
    with DashboardServer(paths.warehouse, tokens.path, root / "server.log") as server, chromium() as (_, browser):
        yield Site(server.url, secrets, browser, tokens, server, paths.warehouse)


class Site(DashboardSite):
    def __init__(self, url, secrets, browser, tokens, server, warehouse):
        super().__init__(url, secrets, browser)
        self.tokens, self.server, self.warehouse = tokens, server, warehouse


def value_of(element) -> float | int | None:
    text = element.get_attribute("data-value")
    return None if text in (None, "") else json.loads(text)


def kpis_on(page) -> dict:
    return {card.get_attribute("data-kpi"): value_of(card) for card in page.locator("[data-kpi]").all()}


def table_values(page, selector: str) -> list[list]:
    """Each row of a table: its first cell's text and the data-value of the other cells."""
    rows = []
    for row in page.locator(f"{selector} tbody tr").all():
        cells = row.locator("td").all()
        if len(cells) < 2:
            continue
        rows.append([cells[0].text_content().strip(), *[value_of(cell) for cell in cells[1:]]])
    return rows


def query_of(page) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(page.url).query)


def assert_overview_matches(site: Site, page, role: str) -> None:
    """Every figure of the overview equals the API's JSON for the URL's filters, and the oracle's."""
    query = query_of(page)
    filters_query = [(k, v) for k, v in query if k not in ("interval", "metric")]
    asked = dict(query)
    filters = Filters(
        date_from=dt.date.fromisoformat(asked["from"]) if "from" in asked else None,
        date_to=dt.date.fromisoformat(asked["to"]) if "to" in asked else None,
        projects=tuple(v for k, v in query if k == "project"),
        repositories=tuple(v for k, v in query if k == "repository"),
        agents=tuple(v for k, v in query if k == "agent"),
        users=tuple(v for k, v in query if k == "user"),
    )
    reader = READERS[role]
    api_summary = site.api("summary", role, filters_query)
    oracle_summary = expected("summary", filters, reader)
    shown = kpis_on(page)
    for key, value in shown.items():
        assert value == api_summary[key], key
        assert approx(value, oracle_summary[key]), key
    assert set(shown) == {
        "total_sessions",
        "total_cost_usd",
        "total_tokens",
        "avg_session_duration_seconds",
        "avg_cost_per_session_usd",
        "unique_users",
    }

    interval, metric = asked.get("interval", "day"), asked.get("metric", "sessions")
    api_series = site.api("timeseries", role, [*filters_query, ("interval", interval), ("metric", metric)])
    table = page.locator("#timeseries-table")
    assert (table.get_attribute("data-interval"), table.get_attribute("data-metric")) == (interval, metric)
    shown_series = [[day, value] for day, value in table_values(page, "#timeseries-table")]
    assert shown_series == [[p["period_start"], p["value"]] for p in api_series["points"]]
    oracle_series = expected("timeseries", filters, reader, interval=interval, metric=metric)["points"]
    assert [p["period_start"] for p in oracle_series] == [day for day, _ in shown_series]
    assert all(approx(value, p["value"]) for (_, value), p in zip(shown_series, oracle_series))

    api_agents = site.api("by-agent", role, filters_query)["agents"]
    fields = ["sessions", "avg_cost_usd", "avg_duration_seconds", "total_tokens", "total_cost_usd", "unpriced_requests"]
    assert table_values(page, "#agents-table") == [
        [a["agent"] or "Unknown", *[a[f] for f in fields]] for a in api_agents
    ]
    assert [a["agent"] for a in api_agents] == [a["agent"] for a in expected("by-agent", filters, reader)["agents"]]

    breakdown = site.api("cost-breakdown", role, filters_query)
    oracle_breakdown = expected("cost-breakdown", filters, reader)
    for key, section, id_field in (
        ("model", "by_model", "model_family"),
        ("vendor", "by_vendor", "vendor"),
        ("project", "by_project", "project_id"),
        ("user", "by_user", "user_id"),
    ):
        rows = page.locator(f'table[data-breakdown="{key}"] tbody tr[data-id]').all()
        if key == "user" and role == "member":
            assert rows == [] and page.locator('table[data-breakdown="user"]').count() == 0
            continue
        shown_rows = [(row.get_attribute("data-id") or None, value_of(row.locator("td").nth(1))) for row in rows]
        assert shown_rows == [(r[id_field], r["cost_usd"]) for r in breakdown[section]], key
        assert [(r[id_field], r["cost_usd"]) for r in oracle_breakdown[section]] == [
            (i, pytest.approx(c, abs=1.1e-6)) for i, c in shown_rows
        ]
    # cost by repository: each repository's cost is the summary's cost with that repository as the filter
    for row in page.locator('table[data-breakdown="repository"] tbody tr[data-id]').all():
        repository = row.get_attribute("data-id")
        if repository:
            narrowed = Filters(
                filters.date_from, filters.date_to, filters.projects, (repository,), filters.agents, filters.users
            )
            if filters.repositories and repository not in filters.repositories:
                raise AssertionError(f"{repository} shown although the filter is {filters.repositories}")
            assert approx(value_of(row.locator("td").nth(1)), expected("summary", narrowed, reader)["total_cost_usd"])


# -- the tests ---------------------------------------------------------------------------------------------


def test_sign_in_sets_a_strict_http_only_session_and_sign_out_ends_it(site):
    context, page, _ = site.page()
    page.goto(f"{site.url}/acme/dashboard")
    assert page.get_by_label("API token").is_visible()  # not signed in: the sign-in form, answered 401
    sign_in(page, site.url, site.secrets["manager"])
    assert urlsplit(page.url).path == "/acme/dashboard"
    assert page.locator("#reader-name").inner_text() == "Milo Brandtner"
    [cookie] = [c for c in context.cookies() if c["name"] == "sa_dashboard"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["expires"] > dt.datetime.now().timestamp() + 3600  # an expiry, hours away
    assert site.secrets["manager"] not in cookie["value"]

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == "/" and page.get_by_label("API token").is_visible()
    replayed = httpx.get(f"{site.url}/acme/dashboard", cookies={"sa_dashboard": cookie["value"]})
    assert replayed.status_code == 401 and "API token" in replayed.text
    context.close()


def test_a_wrong_token_is_refused_and_a_weekly_report_link_opens_after_sign_in(site):
    context, page, _ = site.page()
    link = f"{site.url}/acme/dashboard?from=2026-11-09&to=2026-11-15"
    page.goto(link)
    page.get_by_label("API token").fill("sa_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("#signin-message").inner_text() == "That token is not valid."
    page.get_by_label("API token").fill(site.secrets["admin"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    assert page.url == link  # the link's own view, after sign-in
    context.close()


def test_overview_figures_equal_the_api_and_the_oracle_for_each_role(site):
    for role in ("admin", "manager", "member"):
        context, page, _ = site.page(role)
        for query in (
            "",
            "?from=2026-11-05&to=2026-11-18",
            "?from=2026-11-02&to=2026-11-22&agent=codex&agent=claude-code&project=p-webshop",
            "?repository=acme/payments&interval=week&metric=cost",
        ):
            page.goto(f"{site.url}/acme/dashboard{query}")
            assert_overview_matches(site, page, role)
        context.close()


def test_each_filter_and_toggle_changes_the_url_and_the_figures_and_back_works(site):
    context, page, _ = site.page("admin")
    page.goto(f"{site.url}/acme/dashboard")
    page.get_by_label("From", exact=True).fill("2026-11-04")
    page.get_by_label("To", exact=True).fill("2026-11-19")
    for name, value in (
        ("agent", "codex"),
        ("agent", "cursor-agent"),
        ("project", "p-payments"),
        ("repository", "acme/payments"),
        ("user", "mem-ugo-l"),
    ):
        if page.locator(f'details[data-filter="{name}"]').get_attribute("open") is None:
            page.locator(f'details[data-filter="{name}"] > summary').click()
        page.locator(f'input[name="{name}"][value="{value}"]').check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"user=mem-ugo-l"))
    assert sorted(query_of(page)) == sorted(
        [
            ("from", "2026-11-04"),
            ("to", "2026-11-19"),
            ("project", "p-payments"),
            ("repository", "acme/payments"),
            ("agent", "codex"),
            ("agent", "cursor-agent"),
            ("user", "mem-ugo-l"),
        ]
    )
    assert_overview_matches(site, page, "admin")

    page.locator('[data-toggle="metric-tokens"]').click()
    page.wait_for_url(re.compile(r"metric=tokens"))
    page.locator('[data-toggle="interval-week"]').click()
    page.wait_for_url(re.compile(r"interval=week"))
    page.wait_for_selector('#timeseries-table[data-interval="week"][data-metric="tokens"]', state="attached")
    assert_overview_matches(site, page, "admin")

    # the toggles are a fragment of the page (htmx) that keeps the URL current: a copied link shows the same
    chart_url = page.url
    assert dict(query_of(page))["metric"] == "tokens" and dict(query_of(page))["interval"] == "week"

    page.go_back()  # to the overview before the filters; forward again to the filtered view, toggles and all
    page.wait_for_url(f"{site.url}/acme/dashboard")
    assert kpis_on(page)["total_sessions"] == site.api("summary", "admin", [])["total_sessions"]
    page.go_forward()
    page.wait_for_url(chart_url)
    page.wait_for_selector('#timeseries-table[data-interval="week"][data-metric="tokens"]', state="attached")
    assert_overview_matches(site, page, "admin")

    today = dt.datetime.now(zoneinfo.ZoneInfo("Europe/Berlin")).date()
    page.get_by_role("link", name="Last 7 days").click()
    page.wait_for_url(re.compile(f"from={today - dt.timedelta(days=6)}"))
    assert dict(query_of(page))["to"] == today.isoformat()
    first_of_month = today.replace(day=1)
    page.get_by_role("link", name="Last month").click()
    last_month_end = first_of_month - dt.timedelta(days=1)
    page.wait_for_url(re.compile(f"from={last_month_end.replace(day=1)}&to={last_month_end}"))
    assert_overview_matches(site, page, "admin")
    context.close()


def test_filters_work_from_the_keyboard_and_every_control_has_a_label(site):
    context, page, _ = site.page("manager")
    page.goto(f"{site.url}/acme/dashboard?from=2026-11-02&to=2026-11-22")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, button, summary, a[href]')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.textContent.trim())
            .map(el => el.outerHTML)"""
    )
    assert unlabelled == []
    page.locator('details[data-filter="agent"] > summary').focus()
    page.keyboard.press("Enter")  # opens the agent choices
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the first agent
    first_agent = page.locator('input[name="agent"]').first.get_attribute("value")
    page.locator("#apply").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"agent={first_agent}"))
    assert_overview_matches(site, page, "manager")
    context.close()


def test_the_palette_has_enough_contrast(site):
    context, page, _ = site.page("admin")
    page.goto(f"{site.url}/acme/dashboard")
    pairs = page.evaluate(
        """() => {
            const bg = el => { while (el) { const c = getComputedStyle(el).backgroundColor;
                if (c !== 'rgba(0, 0, 0, 0)') return c; el = el.parentElement; } return 'rgb(255, 255, 255)'; };
            return ['.kpi .label', '.kpi .value', '.kpi .change', 'h1 .range', 'th', 'td', 'header.top .role',
                    'header.top nav a', '#apply', '.presets a', 'details.as-table summary', 'p.muted']
                .map(s => document.querySelector(s)).filter(Boolean)
                .map(el => [el.tagName + '.' + el.className, getComputedStyle(el).color, bg(el)]);
        }"""
    )
    assert len(pairs) >= 10

    def luminance(css: str) -> float:
        red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css)[:3])
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for name, colour, background in pairs:
        lighter, darker = sorted((luminance(colour), luminance(background)), reverse=True)
        assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (name, colour, background)
    context.close()


def test_people_view_and_person_page_for_a_manager(site):
    context, page, _ = site.page("manager")
    page.goto(f"{site.url}/acme/dashboard/people?from=2026-11-02&to=2026-11-22")
    rows = page.locator("#people-table tbody tr[data-user]").all()
    team = TEAM["mgr-milo-b"]
    shown = {row.get_attribute("data-user") for row in rows}
    assert shown == team  # everyone of the team has sessions here; nobody else
    filters = Filters(dt.date(2026, 11, 2), dt.date(2026, 11, 22))
    for row in rows:
        user = row.get_attribute("data-user")
        mine = Filters(filters.date_from, filters.date_to, users=(user,))
        wanted = expected("summary", mine, "mgr-milo-b")
        assert value_of(row.locator('[data-field="sessions"]')) == wanted["total_sessions"]
        assert approx(value_of(row.locator('[data-field="total_cost_usd"]')), wanted["total_cost_usd"])
        assert value_of(row.locator('[data-field="total_tokens"]')) == wanted["total_tokens"]
        assert approx(
            value_of(row.locator('[data-field="avg_duration_seconds"]')), wanted["avg_session_duration_seconds"]
        )
        agents = expected("by-agent", mine, "mgr-milo-b")["agents"]
        top = min((a for a in agents if a["agent"]), key=lambda a: (-a["sessions"], a["agent"]))["agent"]
        assert row.locator('[data-field="top_agent"]').inner_text() == top

    # sortable: by cost, most first, then least first
    cost_heading = page.locator("#people-table th").nth(2)
    for order in ("descending", "ascending"):
        cost_heading.get_by_role("button").click()
        assert cost_heading.get_attribute("aria-sort") == order
        costs = [value_of(cell) for cell in page.locator('#people-table [data-field="total_cost_usd"]').all()]
        assert costs == sorted(costs, reverse=order == "descending") and len(set(costs)) == 3

    page.get_by_role("link", name="Ugo Łarkspur").click()
    page.wait_for_url(re.compile(r"/acme/dashboard/person\?"))
    assert dict(query_of(page))["user"] == "mem-ugo-l"
    assert page.locator("#person-name").inner_text() == "Ugo Łarkspur"
    ugo = Filters(filters.date_from, filters.date_to, users=("mem-ugo-l",))
    api = site.api("summary", "manager", [("from", "2026-11-02"), ("to", "2026-11-22"), ("user", "mem-ugo-l")])
    for key, value in kpis_on(page).items():
        assert value == api[key] and approx(value, expected("summary", ugo, "mgr-milo-b")[key]), key
    sessions = table_values(page, 'table[data-series="sessions"]')
    assert sessions == [[p["period_start"], p["value"]] for p in expected("timeseries", ugo, "mgr-milo-b")["points"]]
    agents = {
        row.get_attribute("data-agent"): value_of(row.locator("td").nth(1))
        for row in page.locator("#person-agents tbody tr").all()
    }
    assert agents == {a["agent"]: a["sessions"] for a in expected("by-agent", ugo, "mgr-milo-b")["agents"]}
    durations = sum(value for _, value in table_values(page, "#person-durations"))
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    starts = [
        oracle.parse_timestamp(e["timestamp"]).astimezone(berlin)
        for e in EVENTS
        if e["event_type"] == "session_started" and e["user_id"] == "mem-ugo-l"
    ]
    slots = Counter(
        (start.isoweekday(), start.hour) for start in starts if ugo.date_from <= start.date() <= ugo.date_to
    )
    shown_slots = {
        (day, hour): int(cell.text_content())
        for day, row in enumerate(page.locator("#person-weekday-hour tbody tr").all(), start=1)
        for hour, cell in enumerate(row.locator("td").all())
        if int(cell.text_content())
    }
    assert shown_slots == dict(slots) and durations == sum(slots.values()) == api["total_sessions"]
    assert page.locator("canvas").count() >= 5  # the charts were drawn (ECharts from the app's own static files)
    context.close()


def test_csv_downloads_equal_the_api_csv(site):
    context, page, _ = site.page("manager")
    query = "from=2026-11-03&to=2026-11-20&agent=claude-code&agent=codex&interval=week&metric=cost"
    page.goto(f"{site.url}/acme/dashboard?{query}")
    pairs = parse_qsl(query)
    filters_only = [(k, v) for k, v in pairs if k not in ("interval", "metric")]
    for link, question, api_query in (
        ("summary.csv", "summary", filters_only),
        ("timeseries.csv", "timeseries", pairs),
        ("by-agent.csv", "by-agent", filters_only),
        ("cost-breakdown.csv", "cost-breakdown", filters_only),
    ):
        with page.expect_download() as download:
            page.get_by_role("link", name=link).click()
        text = Path(download.value.path()).read_bytes().decode("utf-8")
        assert text == site.api(question, "manager", api_query, fmt="csv"), question
    page.goto(f"{site.url}/acme/dashboard/people?from=2026-11-03&to=2026-11-20")
    with page.expect_download() as download:
        page.get_by_role("link", name="people.csv").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "user_id,name,sessions,total_cost_usd,total_tokens,avg_duration_seconds,avg_cost_usd,top_agent"
    assert {line.split(",")[0] for line in lines[1:]} == TEAM["mgr-milo-b"]
    context.close()


def out_of_scope(reader: str) -> list[str]:
    """The ids, names and emails of everyone the reader may not see (the other org's people always)."""
    team = TEAM[reader]
    hidden = []
    for org_id, user_id, email, name, *_ in USERS:
        if org_id != "acme" or (team is not None and user_id not in team):
            hidden += [user_id, email, name, json.dumps(name)[1:-1]]
    return hidden


def test_each_role_sees_exactly_its_scope_in_the_dom_and_in_every_response(site):
    for role in ("admin", "manager", "member"):
        reader = READERS[role]
        context, page, guard = site.page(role)
        visits = [
            "/acme/dashboard",
            "/acme/dashboard?interval=week&metric=cost",
            f"/acme/dashboard/person?user={reader}",
        ]
        if role != "member":
            visits += ["/acme/dashboard/people"] + [
                f"/acme/dashboard/person?user={user}" for user in sorted(TEAM[reader] or ["mem-zia-p"])
            ]
        doms, offered = [], set()
        for visit in visits:
            page.goto(site.url + visit)
            for summary in page.locator("details > summary").all():
                summary.click()  # open every filter and table
            if visit == "/acme/dashboard":
                offered = set(page.locator('input[name="user"]').evaluate_all("els => els.map(e => e.value)"))
                page.locator('[data-toggle="metric-tokens"]').click()  # a fragment response too
                page.wait_for_selector('#timeseries-table[data-metric="tokens"]', state="attached")
            doms.append(page.content())
        everything = "\n".join(doms) + "\n".join(body.decode("utf-8", "replace") for _, _, body in guard.bodies)
        for secret in out_of_scope(reader):
            assert secret not in everything, (role, secret)
        visible = {user for _, user, *_ in USERS if TEAM[reader] is None or user in TEAM[reader]} - {"glx-gus-w"}
        names = {name for _, user, _, name, *_ in USERS if user in visible}
        assert all(name in everything for name in names), role  # the check can fail: the scope's names are there
        assert offered == (visible if role != "member" else set())
        if role == "manager":
            assert "Zeta Vault" not in everything and "acme/zeta-vault" not in everything  # only Zia's project
        if role == "admin":
            assert {"Zia Pemberton", "Zeta Vault", "Unknown (session start not yet received)"} <= set(
                re.findall(r"Zia Pemberton|Zeta Vault|Unknown \(session start not yet received\)", everything)
            )
        if role == "member":
            assert page.get_by_role("link", name="People").count() == 0
            assert "Milo Brandtner" not in everything and "Cost by person" not in everything
        context.close()


def test_a_tampered_url_or_cookie_is_refused(site):
    member = httpx.Client(base_url=site.url)
    signin_page = member.get("/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', signin_page.text).group(1)
    assert member.post("/signin", data={"token": site.secrets["member"], "csrf_token": "forged"}).status_code == 403
    signed = member.post("/signin", data={"token": site.secrets["member"], "csrf_token": csrf})
    assert signed.status_code == 303 and signed.headers["location"] == "/acme/dashboard"
    for url, status in (
        ("/acme/dashboard", 200),
        ("/acme/dashboard/person?user=mem-una-f", 200),
        ("/acme/dashboard/person?user=mem-ugo-l", 403),
        ("/acme/dashboard?user=mem-zia-p", 403),
        ("/acme/dashboard?user=mem-una-f&user=mgr-milo-b", 403),
        ("/acme/dashboard/people", 403),
        ("/acme/dashboard/csv/people", 403),
        ("/acme/dashboard/csv/summary?user=mem-ugo-l", 403),
        ("/acme/dashboard/fragment/timeseries?user=adm-ava-q", 403),
        ("/globex/dashboard", 403),
        ("/acme/dashboard?from=2026-02-30", 422),
        ("/acme/dashboard?bogus=1", 422),
    ):
        response = member.get(url)
        assert response.status_code == status, url
        if status == 403:
            assert not any(secret in response.text for secret in out_of_scope("mem-una-f")), url
    cookie = member.cookies["sa_dashboard"]
    tampered = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    for bad in (tampered, "", "x" * 500):
        response = httpx.get(f"{site.url}/acme/dashboard", cookies={"sa_dashboard": bad})
        assert response.status_code == 401 and "API token" in response.text
    assert httpx.get(f"{site.url}/acme/dashboard/csv/summary", cookies={"sa_dashboard": tampered}).status_code == 401
    assert member.post("/signout", data={"csrf_token": "forged"}).status_code == 403  # no CSRF token, no sign-out
    assert member.get("/acme/dashboard").status_code == 200

    # a revoked token ends its sessions at once
    manager = httpx.Client(base_url=site.url)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', manager.get("/").text).group(1)
    record = site.tokens.authenticate(site.secrets["globex"])
    assert manager.post("/signin", data={"token": site.secrets["globex"], "csrf_token": csrf}).status_code == 303
    assert manager.get("/globex/dashboard").status_code == 200
    site.tokens.revoke(record.token_id)
    assert manager.get("/globex/dashboard").status_code == 401


def signed_in_client(url: str, secret: str) -> httpx.Client:
    client = httpx.Client(base_url=url)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    assert client.post("/signin", data={"token": secret, "csrf_token": csrf}).status_code == 303
    return client


def test_an_expired_session_is_signed_out(site):
    client = signed_in_client(site.url, site.secrets["admin"])
    assert client.get("/acme/dashboard").status_code == 200
    session_hash = hashlib.sha256(client.cookies["sa_dashboard"].encode()).hexdigest()
    with closing(sqlite3.connect(sessions_file_for(site.tokens.path))) as store, store:
        expired = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()
        changed = store.execute(
            "update dashboard_sessions set expires_at = ? where session_hash = ?", [expired, session_hash]
        ).rowcount
    assert changed == 1
    response = client.get("/acme/dashboard")
    assert response.status_code == 401 and "API token" in response.text


def test_without_the_vendored_libraries_the_dashboard_says_so_and_the_api_keeps_working(site, monkeypatch):
    monkeypatch.setattr(routes, "VENDOR_FILES", ("vendor/not-installed.js",))
    with LiveServer(ApiSettings(site.warehouse, site.tokens.path), app_factory=served_app) as server:
        client = signed_in_client(server.url, site.secrets["admin"])
        page = client.get("/acme/dashboard")
        assert page.status_code == 200
        assert "libraries are not installed (vendor/not-installed.js missing" in page.text
        assert "echarts.min.js" not in page.text and 'id="agents-table"' in page.text  # the tables still show
        api = client.get(
            "/acme/sessions/analytics/summary", headers={"Authorization": f"Bearer {site.secrets['admin']}"}
        )
        assert (
            api.status_code == 200
            and api.json()["total_sessions"] == expected("summary", Filters(), "adm-ava-q")["total_sessions"]
        )
    assert "not installed" not in signed_in_client(site.url, site.secrets["admin"]).get("/acme/dashboard").text


def test_no_request_leaves_loopback(site):
    context, page, guard = site.page("admin")
    page.goto(f"{site.url}/acme/dashboard")
    assert page.evaluate("() => typeof window.echarts === 'object' && typeof window.htmx === 'object'")
    # the page's own policy stops a script's request elsewhere before it is made (Content-Security-Policy) ...
    refused = page.evaluate("() => fetch('http://192.0.2.1/beacon').then(() => 'sent', () => 'refused')")
    assert refused == "refused" and guard.blocked == []
    # ... and the guard (which must be able to fail) aborts a navigation elsewhere
    with pytest.raises(PlaywrightError):
        page.goto("http://192.0.2.1/beacon")
    assert guard.blocked == ["http://192.0.2.1/beacon"]
    context.close()
    # every page every test opened loaded only the server's own URLs, the vendored libraries among them
    everything = [url for g in site.guards for url in g.allowed]
    assert any(url.endswith("/dashboard-static/vendor/echarts.min.js") for url in everything)
    assert [url for g in site.guards if g is not guard for url in g.blocked] == []


def test_the_benchmark_times_every_view_for_every_reader(site):
    connection = http.client.HTTPConnection("127.0.0.1", urlsplit(site.url).port, timeout=30)
    readers = [
        dashboard_bench.SignedIn(
            READERS[role], role, tuple(sorted(TEAM[READERS[role]] or {u for _, u, *_ in USERS[:5]})), cookie
        )
        for role in READERS
        for cookie in [dashboard_bench.sign_in(connection, site.secrets[role])]
    ]

    def random_query(rng, reader):
        start = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        query = {"from": start.isoformat(), "to": (start + dt.timedelta(days=rng.randrange(7))).isoformat()}
        if rng.random() < 0.5:
            query["user"] = [rng.choice(reader.team)]
        return {**query, "interval": rng.choice(("day", "week")), "metric": rng.choice(("sessions", "cost"))}

    latencies = dashboard_bench.page_latencies(connection, "acme", readers, random_query, pages=4)
    assert {view: len(samples) for view, samples in latencies.items()} == dict.fromkeys(dashboard_bench.VIEWS, 4)
    assert all(0 < seconds < 30 for samples in latencies.values() for seconds in samples)


@pytest.mark.skipif(not os.environ.get(SCREENSHOTS_ENV), reason=f"{SCREENSHOTS_ENV} names a folder for screenshots")
def test_screenshots_for_the_readme(site):
    folder = Path(os.environ[SCREENSHOTS_ENV])
    folder.mkdir(parents=True, exist_ok=True)
    context, page, _ = site.page("admin")
    query = urlencode({"from": "2026-11-02", "to": "2026-11-22"})
    for name, path in (
        ("dashboard-overview.png", f"/acme/dashboard?{query}"),
        ("dashboard-people.png", f"/acme/dashboard/people?{query}"),
        ("dashboard-person.png", f"/acme/dashboard/person?{query}&user=mem-ugo-l"),
    ):
        page.goto(site.url + path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=folder / name, full_page=True)
        assert (folder / name).stat().st_size > 10_000
    context.close()
