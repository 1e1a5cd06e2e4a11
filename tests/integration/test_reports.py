"""Weekly reports on a small real warehouse whose figures are worked by hand.

Org acme (Europe/Berlin, UTC+1 in November). Report week 2026-W46 = Monday 9 to Sunday 15 November 2026.
Prices per million tokens: sonnet 4.5 3 in / 15 out / 0.30 cache read, haiku 4.5 1 / 5, opus 4.5 5 / 25.

People: ada-admin (admin) > zoe-mgr "Zoë Åkesson" (manager) > li-lei "李雷", jose-nunez "José Núñez" (members);
ada-admin > bjorn-mgr2 "Bjørn Brekke" (manager) > olsen-out "Oskar Olsen" (member). Globex: gina-g (member).

W46 sessions:
  S1 li-lei, claude-code, p-api, Tue 10 Nov 09:00Z (10:00 local), 1,800 s: sonnet 50,000 in + 100,000 cache
     read + 10,000 out = 0.15 + 0.03 + 0.15 = $0.33; cache-read saving 100,000 x (3 - 0.30) / 1e6 = $0.27.
  S2 li-lei, aider, p-web, Thu 12 Nov 14:00Z (15:00 local), 600 s: haiku 20,000 in + 2,000 out = $0.03.
  S3 jose-nunez, claude-code, p-api, Wed 11 Nov 08:00Z, 3,600 s: opus 10,000 in + 4,000 out = $0.15.
  S4 olsen-out, claude-code, p-web, Mon 9 Nov 10:00Z, 1,200 s: sonnet 100,000 in + 20,000 out = $0.60.
  S5 zoe-mgr, claude-code, p-api, Fri 13 Nov 16:00Z, 900 s: an unpriced model, 5,000 in + 500 out.
W45: S6 li-lei, claude-code, p-api, Tue 3 Nov 09:00Z, 1,200 s: sonnet 10,000 in + 1,000 out = $0.045.
Globex: one session of gina-g in W46. One malformed line is quarantined. W47 has no activity at all.

So for W46: li-lei 2 sessions, $0.36, 182,000 tokens, 20m 00s average; zoe-mgr's team (zoe, li, jose)
4 sessions, $0.51, 201,500 tokens, 3 active users; the org 5 sessions, $1.11, 321,500 tokens, 4 active users.
"""

import functools
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from reports.analytics import formatting as fmt
from reports.analytics.query import AnalyticsQueries, Filters, connect_read_only
from reports.analytics.scope import Directory
from reports.weekly import charts
from reports.weekly.render import render_reports
from tests.fixtures.report_scenario import PEOPLE, W46, W47

# (audience, recipient) -> hand-worked headline figures of W46 and the people in scope.
EXPECTED = {
    ("user", "li-lei"): {"sessions": 2, "cost": 0.36, "tokens": 182_000, "avg_duration": 1_200, "scope": {"li-lei"}},
    ("manager", "zoe-mgr"): {
        "sessions": 4,
        "cost": 0.51,
        "tokens": 201_500,
        "active_users": 3,
        "scope": {"zoe-mgr", "li-lei", "jose-nunez"},
    },
    ("org", "ada-admin"): {
        "sessions": 5,
        "cost": 1.11,
        "tokens": 321_500,
        "active_users": 4,
        "scope": {p[1] for p in PEOPLE if p[0] == "acme"},
    },
}


@pytest.fixture(scope="module")
def warehouse(report_warehouse):
    return report_warehouse


@pytest.fixture(scope="module")
def rendered(rendered_reports):
    """acme's W46 reports (conftest.py renders every org's with the real Dagster asset)."""
    return rendered_reports / "acme" / W46.label


@pytest.fixture(scope="module")
def directory(warehouse):
    with connect_read_only(warehouse.warehouse) as conn:
        return Directory.load(conn, "acme")


@functools.cache
def pdf_text(path: Path) -> list[str]:
    """The text of each page (cached: several tests read the same PDFs, and extraction is slow)."""
    return [page.extract_text() for page in PdfReader(path).pages]


def squeeze(text: str) -> str:
    """Text without whitespace: PDF extraction may break a name across lines or drop spaces."""
    return re.sub(r"\s+", "", text)


def html_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def report_files(week_dir: Path) -> list[tuple[str, str, Path]]:
    return [
        (audience, path.stem, path)
        for audience, folder in (("user", "users"), ("manager", "managers"), ("org", "org"))
        for path in sorted((week_dir / folder).glob("*.*"))
    ]


# -- what gets rendered ---------------------------------------------------------------------------------------


def test_every_person_with_a_role_gets_their_reports(rendered):
    names = {(audience, stem, path.suffix) for audience, stem, path in report_files(rendered)}
    users = {p[1] for p in PEOPLE if p[0] == "acme"}
    expected = (
        {("user", u, ext) for u in users for ext in (".html", ".pdf")}
        | {("manager", m, ext) for m in ("zoe-mgr", "bjorn-mgr2") for ext in (".html", ".pdf")}
        | {("org", "ada-admin", ext) for ext in (".html", ".pdf")}
    )
    assert names == expected
    assert (rendered.parent.parent / "globex" / W46.label / "users" / "gina-g.pdf").exists()


def test_manifest_lists_every_file_with_audience_recipient_and_hash(rendered):
    manifest = json.loads((rendered / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["org_id"], manifest["week"]) == ("acme", "2026-W46")
    on_disk = {str(p.relative_to(rendered)) for p in rendered.rglob("*.*") if p.name != "manifest.json"}
    assert {entry["file"] for entry in manifest["files"]} == on_disk
    emails = {p[1]: p[2] for p in PEOPLE}
    for entry in manifest["files"]:
        data = (rendered / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
        assert entry["recipient_email"] == emails[entry["recipient_user_id"]]
        assert entry["file"].startswith({"user": "users/", "manager": "managers/", "org": "org/"}[entry["audience"]])


# -- figures ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("audience, recipient", list(EXPECTED))
def test_headline_figures_equal_the_query_output_and_the_hand_worked_figures(
    rendered, warehouse, directory, audience, recipient
):
    expected = EXPECTED[(audience, recipient)]
    with connect_read_only(warehouse.warehouse) as conn:
        summary = AnalyticsQueries(conn).summary(
            "acme", Filters(date_from=W46.start, date_to=W46.end), directory.scope_for(audience, recipient)
        )
    # The query answers what was worked out by hand ...
    assert summary["total_sessions"] == expected["sessions"]
    assert summary["total_cost_usd"] == pytest.approx(expected["cost"], abs=1e-6)
    assert summary["total_tokens"] == expected["tokens"]
    if "avg_duration" in expected:
        assert summary["avg_session_duration_seconds"] == pytest.approx(expected["avg_duration"])
    if "active_users" in expected:
        assert summary["unique_users"] == expected["active_users"]
    # ... and the report shows exactly those figures, in the HTML and on the PDF's first page.
    shown = [
        ("Sessions", fmt.integer(summary["total_sessions"])),
        ("Cost", fmt.usd(summary["total_cost_usd"])),
        ("Tokens", fmt.compact(summary["total_tokens"])),
        ("Avg session duration", fmt.duration(summary["avg_session_duration_seconds"])),
        ("Avg cost per session", fmt.usd(summary["avg_cost_per_session_usd"])),
    ]
    if audience != "user":
        shown.append(("Active users", fmt.integer(summary["unique_users"])))
    folder = {"user": "users", "manager": "managers", "org": "org"}[audience]
    html = html_text(rendered / folder / f"{recipient}.html")
    cards = dict(re.findall(r'<div class="label">([^<]+)</div>\s*<div class="value">([^<]+)</div>', html))
    assert cards == dict(shown)
    first_page = squeeze(pdf_text(rendered / folder / f"{recipient}.pdf")[0])
    for label, value in shown:
        assert squeeze(f"{label.upper()}{value}") in first_page, (label, value)


def test_hand_worked_strings_of_the_personal_report(rendered):
    html = html_text(rendered / "users" / "li-lei.html")
    assert '<div class="value">$0.36</div>' in html and '<div class="value">182K</div>' in html
    assert '<div class="value">20m 00s</div>' in html
    # Against W45 (1 session, $0.045): one more session, +100%.
    assert "+1 (+100.0%) vs 2026-W45" in html
    # Cache: 100,000 of 170,000 input tokens were cache reads, saving $0.27.
    assert "58.8% of input tokens were cache reads" in html and "$0.27" in html


def test_costs_that_leave_out_unpriced_requests_say_so(rendered):
    # S5 (zoe-mgr, claude-code) used an unpriced model: her reports mark claude-code's cost as leaving it out;
    # li-lei's own claude-code cost is complete, so his report has no mark.
    for path in (rendered / "users" / "zoe-mgr.html", rendered / "managers" / "zoe-mgr.html"):
        html = html_text(path)
        # the claude-code row's average and total cost, and nothing else
        assert html.count('<span class="unpriced">*</span>') == 2
        assert "* Cost without 1 model request of models that have no" in squeeze_spaces(html)
        assert "These costs leave out 1 model request of models with no price" in squeeze_spaces(html)
        assert "price table (mystery-model-1: 1): they are counted" in squeeze_spaces(html)  # named
        assert "* Cost without" in squeeze_spaces(pdf_page_text(path.with_suffix(".pdf")))
    # her own week has only the unpriced session: a known $0.00 would be a lie, so it is marked
    assert '$0.00<span class="unpriced">*</span>' in html_text(rendered / "users" / "zoe-mgr.html")
    li = html_text(rendered / "users" / "li-lei.html")
    assert 'class="unpriced"' not in li and "These costs leave out" not in li


def squeeze_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def pdf_page_text(path: Path) -> str:
    return " ".join(pdf_text(path))


def test_new_report_figures_of_the_query_code(warehouse, directory):
    week = Filters(date_from=W46.start, date_to=W46.end)
    li = directory.scope_for("user", "li-lei")
    team = directory.scope_for("manager", "zoe-mgr")
    with connect_read_only(warehouse.warehouse) as conn:
        queries = AnalyticsQueries(conn)
        cache = queries.cache_efficiency("acme", week, li)
        pattern = queries.session_pattern("acme", week, li)
        shares = queries.agent_shares("acme", week, li)["agents"]
        projects = queries.by_project("acme", week, li)["projects"]
        people = queries.by_person("acme", week, team)["people"]
        teams = queries.by_team("acme", week)["teams"]
        quality = queries.data_quality("acme", week, team)
    assert cache == {
        "input_tokens": 170_000,
        "cache_read_tokens": 100_000,
        "cache_read_share": pytest.approx(100_000 / 170_000),
        "cache_read_savings_usd": pytest.approx(0.27),
    }
    busy = {(c["weekday"], c["hour"]): c["sessions"] for c in pattern["weekday_hour"] if c["sessions"]}
    assert busy == {(2, 10): 1, (4, 15): 1}  # Tuesday 10:00 and Thursday 15:00 local time
    assert {d["bucket"]: d["sessions"] for d in pattern["durations"] if d["sessions"]} == {"5–15m": 1, "30–60m": 1}
    assert sorted((a["agent"], a["session_share"]) for a in shares) == [("aider", 0.5), ("claude-code", 0.5)]
    assert [(p["project_id"], p["sessions"]) for p in projects] == [("p-api", 1), ("p-web", 1)]
    assert {p["user_id"]: p["total_cost_usd"] for p in people} == pytest.approx(
        {"li-lei": 0.36, "jose-nunez": 0.15, "zoe-mgr": 0.0}
    )
    assert {t["team"]: (t["active_users"], t["sessions"]) for t in teams} == {"Platform": (3, 4), "Web": (1, 1)}
    assert quality["unpriced_requests"] == 1 and quality["quarantined_lines"] == 1
    assert quality["latest_event_at_utc"].startswith("2026-11-13T16:15")


# -- scope --------------------------------------------------------------------------------------------------


def test_no_report_shows_anyone_outside_its_scope(rendered, directory):
    """Every rendered report, HTML and PDF: no id, name or email of anyone its reader may not see."""
    checked = 0
    for audience, recipient, path in report_files(rendered):
        scope = directory.scope_for(audience, recipient).user_ids
        outsiders = [p for p in PEOPLE if p[0] != "acme" or (scope is not None and p[1] not in scope)]
        text = html_text(path) if path.suffix == ".html" else "\n".join(pdf_text(path))
        for _, user_id, email, name, *_ in outsiders:
            for needle in (user_id, email, name):
                assert squeeze(needle) not in squeeze(text), f"{path.name} ({audience}) shows {needle!r}"
        checked += 1
    assert checked == 18  # 6 user, 2 manager and 1 org report, HTML and PDF each
    # Globex's project never appears in acme's org report.
    assert "Globex Secret Project" not in html_text(rendered / "org" / "ada-admin.html")


def test_manager_report_lists_the_whole_team_and_only_the_team(rendered):
    html = html_text(rendered / "managers" / "zoe-mgr.html")
    people_table = html[html.index("<h2>People</h2>") :]
    for name in ("Zoë Åkesson", "李雷", "José Núñez"):
        assert name in people_table
    assert "Team total" in people_table


def test_a_chart_that_fails_half_way_leaves_nothing_in_the_next_chart():
    """Charts of one kind share a figure within a process; a chart that fails after drawing its bars must not
    leave them in the next one (someone else's figures in a report)."""
    shown = charts.Bars("Sessions per day", "sessions", ["Mon", "Tue", "Wed"], [1, 2, 3], fmt.integer)
    clean = charts.period_bars("salt", shown)
    calls = []

    def fails_at_the_value_labels(value: float) -> str:
        calls.append(value)  # tick labels first (one per bar and one more), then the value labels
        if len(calls) > 6:
            raise RuntimeError("formatter failed")
        return str(value)

    broken = charts.Bars("Sessions per day", "sessions", list("ABCDE"), [9, 8, 7, 6, 5], fails_at_the_value_labels)
    with pytest.raises(RuntimeError):
        charts.period_bars("salt", broken)
    assert charts.period_bars("salt", shown) == clean
    assert clean.svg.count('fill="#2563eb"') == 3


def test_a_share_axis_stops_at_one_hundred_percent():
    """The bars keep room for their labels past 100%, but no tick may claim a share above it."""
    share = charts.Bars(
        "Share of your sessions by agent",
        "share of sessions",
        ["claude-code"],
        [1.0],
        lambda value: fmt.percent(value, 0),
        highest_tick=1.0,
    )
    ticks = re.findall(r">(\d+)%</text>", charts.ranked_bars("salt", share).svg)
    assert ticks.count("100") == 2  # the top tick and the bar's own label
    assert max(int(tick) for tick in ticks) == 100 and "0" in ticks


# -- form ---------------------------------------------------------------------------------------------------


def test_html_is_self_contained(rendered):
    html = html_text(rendered / "users" / "li-lei.html")
    assert "<style>" in html and "@page" in html and html.count("<svg") == 11
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html and "<script" not in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "charts must not repeat element ids within a page"


# Page 1 always holds the KPIs and the trend charts; the breakdowns start page 2. The scenario's breakdowns
# are short (two projects, two agents, three people, two teams), so the rest fits on page 2.
@pytest.mark.parametrize(
    "folder, recipient, pages",
    [
        ("users", "li-lei", 2),  # KPIs + trends | money, agents, projects, working pattern, footnote
        ("managers", "zoe-mgr", 2),  # KPIs + trends | money, agents, projects, people, footnote
        ("org", "ada-admin", 2),  # KPIs + trends | money, agents, projects, teams, footnote
    ],
)
def test_pdf_page_count_and_running_header(rendered, folder, recipient, pages):
    texts = pdf_text(rendered / folder / f"{recipient}.pdf")
    assert len(texts) == pages
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {pages}" in text
        assert "Acme Robotics" in text and "2026-W46" in text


def embedded_font_coverage(path: Path) -> set[int]:
    """Code points that the fonts embedded in a PDF can draw (their cmap tables)."""
    covered: set[int] = set()
    for page in PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is None:
                    continue
                for key in ("/FontFile2", "/FontFile3", "/FontFile"):
                    if key in descriptor.get_object():
                        data = descriptor.get_object()[key].get_object().get_data()
                        cmap = TTFont(io.BytesIO(data)).getBestCmap() or {}
                        covered |= set(cmap)
    return covered


def test_non_ascii_names_have_no_missing_glyphs(rendered):
    path = rendered / "managers" / "zoe-mgr.pdf"
    text = "".join(pdf_text(path))
    for name in ("李雷", "Zoë Åkesson", "José Núñez"):
        assert squeeze(name) in squeeze(text)
    covered = embedded_font_coverage(path)
    missing = {
        ch
        for ch in "".join(p[3] for p in PEOPLE if p[1] in EXPECTED[("manager", "zoe-mgr")]["scope"])
        if not ch.isspace() and ord(ch) not in covered
    }
    assert not missing, f"no embedded font draws {sorted(missing)}"


def test_an_empty_week_gets_a_friendly_no_activity_report(warehouse, tmp_path):
    outcome = render_reports(warehouse.warehouse, tmp_path, "acme", W47, user_id="li-lei")
    html = html_text(outcome.week_dir / "users" / "li-lei.html")
    assert "No activity this week" in html and "<svg" not in html
    assert "The week before (2026-W46) had 2 sessions costing $0.36" in " ".join(html.split())
    texts = pdf_text(outcome.week_dir / "users" / "li-lei.pdf")
    assert len(texts) == 1 and "No activity this week" in texts[0]
    manifest = json.loads(outcome.manifest.read_text(encoding="utf-8"))
    assert [entry["file"] for entry in manifest["files"]] == ["users/li-lei.html", "users/li-lei.pdf"]


# -- command line -------------------------------------------------------------------------------------------


def run_cli(*args):
    command = [str(Path(sys.executable).parent / "session-analytics"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_cli_renders_one_manager_report_end_to_end(warehouse, tmp_path):
    completed = run_cli(
        "report",
        "--org",
        "acme",
        "--week",
        "2026-W46",
        "--manager",
        "zoe-mgr",
        "--warehouse",
        str(warehouse.warehouse),
        "--output-dir",
        str(tmp_path),
    )
    assert completed.returncode == 0, completed.stderr
    week_dir = tmp_path / "acme" / "2026-W46"
    assert sorted(p.name for p in (week_dir / "managers").iterdir()) == ["zoe-mgr.html", "zoe-mgr.pdf"]
    assert "1 report(s), 2 files" in completed.stdout
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {entry["recipient_email"] for entry in manifest["files"]} == {"zoe.akesson@acme.example"}


@pytest.mark.parametrize(
    "args, message",
    [
        (("--org", "nope"), "unknown org 'nope'"),
        (("--org", "acme", "--user", "nobody"), "no user 'nobody' in org 'acme'"),
        (("--org", "acme", "--manager", "li-lei"), "li-lei has role member; a manager report needs manager"),
        (("--org", "acme", "--week", "2026-W99"), "2026 has no ISO week 99"),
    ],
)
def test_cli_explains_bad_requests(warehouse, tmp_path, args, message):
    completed = run_cli("report", *args, "--warehouse", str(warehouse.warehouse), "--output-dir", str(tmp_path))
    assert completed.returncode == 2
    assert message in completed.stderr and "Traceback" not in completed.stderr


# -- formatting ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function, value, text",
    [
        (fmt.usd, 1234.56, "$1,234.56"),
        (fmt.usd, 0.0042, "$0.0042"),
        (fmt.usd, None, "–"),
        (fmt.compact, 1_234_567, "1.2M"),
        (fmt.compact, 999_960, "1M"),
        (fmt.compact, 343_900_000, "344M"),
        (fmt.tokens, 1_200_000, "1.2M tokens"),
        (fmt.duration, 750, "12m 30s"),
        (fmt.duration, 7_530, "2h 05m"),
        (fmt.duration, 42.4, "42s"),
        (fmt.signed_percent, 0.1234, "+12.3%"),
        (fmt.percent, 0.5, "50.0%"),
    ],
)
def test_numbers_are_formatted_for_people(function, value, text):
    assert function(value) == text


def test_with_a_dashboard_url_each_report_links_its_week_in_the_dashboard(warehouse, rendered, tmp_path, monkeypatch):
    """SESSION_ANALYTICS_DASHBOARD_URL set: the HTML and the PDF link the overview of the report's week (the API's
    from/to); unset (the rendered fixture): no link at all, so the reports stay as they were."""
    monkeypatch.setenv("SESSION_ANALYTICS_DASHBOARD_URL", "https://analytics.acme.example/")
    render_reports(warehouse.warehouse, tmp_path, "acme", W46, manager_id="zoe-mgr", workers=1)
    url = "https://analytics.acme.example/acme/dashboard?from=2026-11-09&to=2026-11-15"
    manager = tmp_path / "acme" / W46.label / "managers" / "zoe-mgr"
    assert f'<a href="{url.replace("&", "&amp;")}">Open this week in the dashboard</a>' in html_text(
        manager.with_suffix(".html")
    )
    links = [
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(manager.with_suffix(".pdf")).pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    ]
    assert url in links
    assert "dashboard" not in html_text(rendered / "managers" / "zoe-mgr.html")
