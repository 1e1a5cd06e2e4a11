"""The analytics HTTP API, served by a real uvicorn on loopback from a real warehouse (real dbt build), called
over HTTP with tokens issued by the real CLI.

The org acme (Europe/Berlin) has a management chain: ada (admin) <- max (manager) <- mo (manager) <- una
(member); uli (member) reports to max, zed (member) to ada, nora has no role. So max's team is {max, mo, una,
uli}, mo's is {mo, una}. "ghost" has sessions but is not in the directory. globex is another org.
Expected figures come from the independent oracle (tests/fixtures/oracle.py) computed from the raw events written here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.analytics.answers import CostBreakdown
from reports.analytics.query import Filters
from reports.api.answer_csv import answer_csv
from reports.api.app import ApiSettings
from tests.fixtures import oracle
from tests.fixtures.servers import LiveServer, run_cli
from tests.fixtures.warehouse import build_warehouse, test_paths, write_delivery, write_directory

ORGS = [("acme", "Acme Robotics", "Europe/Berlin"), ("globex", "Globex", "America/New_York")]
USERS = [
    ("acme", "ada", "ada@acme.example", "Ada Admin", "Exec", "", "admin"),
    ("acme", "max", "max@acme.example", "Max Manager", "Platform", "ada", "manager"),
    ("acme", "mo", "mo@acme.example", "Mo Lead", "Platform", "max", "manager"),
    ("acme", "una", "una@acme.example", "Una Ünal", "Platform", "mo", "member"),
    ("acme", "uli", "uli@acme.example", "Uli", "Platform", "max", "member"),
    ("acme", "zed", "zed@acme.example", "Zed", "Sales", "ada", "member"),
    ("acme", "nora", "nora@acme.example", "Nora", "Sales", "ada", ""),
    ("globex", "gus", "gus@globex.example", "Gus", "Core", "", "admin"),
    ("globex", "gina", "gina@globex.example", "Gina", "Core", "gus", "member"),
]
PROJECTS = [
    ("acme", "p-api", "API", "single"),
    ("acme", "p-web", "Web App", "workspace"),
    ("acme", "p-ml", "ML", "single"),
    ("globex", "p-g", "G", "single"),
]
AGENTS = ["claude-code", "cursor-agent", "codex"]
REPOSITORIES = ["acme/api", "acme/web", None]
MODELS = list(oracle.PRICES) + [oracle.UNPRICED_MODEL]  # the last one has no price
TEAM = {
    "ada": None,
    "max": {"max", "mo", "una", "uli"},
    "mo": {"mo", "una"},
    "una": {"una"},
    "uli": {"uli"},
    "zed": {"zed"},
}  # worked out by hand from USERS: what each reader may see (None = the whole org)
FIRST_DAY = dt.date(2026, 11, 2)
QUESTIONS = ("summary", "timeseries", "by-agent", "cost-breakdown")


def generate_events(seed: int = 20261102) -> list[dict]:
    """Sessions of every acme user (and ghost) over ten days, some without a start or an end, some across
    midnight, some redelivered; and a few globex sessions."""
    rng = random.Random(seed)
    events: list[dict] = []
    counter = iter(range(1_000_000))

    def event(event_type, session_id, at, org_id, **fields):
        events.append(
            {
                "schema_version": 1,
                "event_id": f"e{next(counter)}",
                "event_type": event_type,
                "org_id": org_id,
                "session_id": session_id,
                "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                **fields,
            }
        )

    def session(number, org_id, user, projects):
        start = dt.datetime.combine(FIRST_DAY, dt.time(), dt.UTC) + dt.timedelta(
            days=rng.randrange(10), hours=rng.choice([6, 9, 13, 16, 22, 23]), minutes=rng.randrange(60)
        )
        sid = f"{org_id}-s{number}"
        if rng.random() > 0.08:  # some starts never arrive: unknown user, agent, project
            event(
                "session_started",
                sid,
                start,
                org_id,
                user_id=user,
                agent=rng.choice(AGENTS),
                project_id=rng.choice(projects),
                repository=rng.choice(REPOSITORIES),
            )
        at = start
        for request in range(rng.randint(1, 3)):
            at += dt.timedelta(minutes=rng.randint(1, 50))
            model = rng.choice(MODELS)
            big = model.startswith("claude-sonnet") and rng.random() < 0.2  # long context: > 200k input
            usage = {
                "input_tokens": rng.randrange(250_000 if big else 5_000),
                "output_tokens": rng.randrange(2_000),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": rng.randrange(40_000),
            }
            if rng.random() < 0.5:
                five, hour = rng.randrange(2_000), rng.randrange(2_000)
                usage["cache_creation_input_tokens"] = five + hour
                usage["cache_creation"] = {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour}
            event("model_request", sid, at, org_id, request_id=f"{sid}-r{request}", model=model, usage=usage)
        if rng.random() < 0.85:
            event(
                "session_ended",
                sid,
                at + dt.timedelta(minutes=rng.randint(0, 20)),
                org_id,
                status=rng.choice(["completed", "failed", "cancelled"]),
            )

    acme_users = ["ada", "max", "mo", "una", "uli", "zed", "ghost"]
    for number in range(70):
        session(number, "acme", rng.choice(acme_users), ["p-api", "p-web", "p-ml"])
    for number in range(8):
        session(number, "globex", rng.choice(["gus", "gina"]), ["p-g"])
    redelivered = [dict(e) for e in rng.sample(events, 15)]  # at-least-once delivery: exact repeats
    return events + redelivered


EVENTS = generate_events()


def expected(
    question: str,
    org_id: str,
    filters: Filters = Filters(),
    reader: str | None = None,
    interval: str = "day",
    metric: str = "sessions",
) -> dict:
    """The oracle's answer for `reader` (None: the whole org)."""
    scope = None if reader is None or TEAM.get(reader) is None else frozenset(TEAM[reader])
    args = (EVENTS, ORGS, USERS, PROJECTS, org_id, filters)
    if question == "timeseries":
        return oracle.expected_timeseries(*args, interval=interval, metric=metric, scope_user_ids=scope)
    function = {
        "summary": oracle.expected_summary,
        "by-agent": oracle.expected_by_agent,
        "cost-breakdown": oracle.expected_cost_breakdown,
    }[question]
    return function(*args, scope_user_ids=scope)


def assert_same(actual, wanted, path="answer"):
    """Equal, with figures rounded to micro-dollars / milliseconds allowed one unit of difference."""
    if isinstance(wanted, dict):
        assert isinstance(actual, dict) and actual.keys() == wanted.keys(), f"{path}: {actual} != {wanted}"
        for key in wanted:
            assert_same(actual[key], wanted[key], f"{path}.{key}")
    elif isinstance(wanted, list):
        assert isinstance(actual, list) and len(actual) == len(wanted), f"{path}: {actual} != {wanted}"
        for index, (a, w) in enumerate(zip(actual, wanted)):
            assert_same(a, w, f"{path}[{index}]")
    elif isinstance(wanted, float) and not isinstance(actual, bool):
        assert actual == pytest.approx(wanted, abs=1.1e-6), f"{path}: {actual} != {wanted}"
    else:
        assert actual == wanted and type(actual) is type(wanted), f"{path}: {actual!r} != {wanted!r}"


# -- the real server -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    paths = test_paths(root)
    write_directory(paths.directory, ORGS, USERS, PROJECTS)
    half = len(EVENTS) // 2
    write_delivery(paths.raw_dir, "2026-11-06", "events", EVENTS[:half])
    write_delivery(paths.raw_dir, "2026-11-12", "events", EVENTS[half:], gz=True)
    build_warehouse(paths, dbt_tests=False)
    tokens = root / "tokens.sqlite3"
    store_flags = ("--warehouse", str(paths.warehouse), "--tokens", str(tokens))

    def token(user: str, *extra: str) -> str:
        code, out = run_cli("tokens", "create", "--user", user, *extra, *store_flags)
        assert code == 0
        return out.strip()

    issued = {user: token(user) for user in ("ada", "max", "mo", "una", "uli", "zed", "gus")}
    settings = ApiSettings(warehouse=paths.warehouse, tokens=tokens)
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield {
            "paths": paths,
            "tokens": tokens,
            "token": token,
            "issued": issued,
            "url": server.url,
            "client": client,
            "flags": store_flags,
        }


def get(world, reader: str | None, path: str, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {world['issued'][reader]}"} if reader else {}
    return world["client"].get(path, params=params, headers=headers)


def url(question: str, org_id: str = "acme") -> str:
    return f"/{org_id}/sessions/analytics/{question}"


# -- answers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("question", QUESTIONS)
def test_each_endpoint_gives_the_admin_what_the_cli_prints_and_the_oracle_computes(world, question):
    response = get(world, "ada", url(question))
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    code, printed = run_cli("analytics", question, "--org", "acme", "--warehouse", str(world["paths"].warehouse))
    assert code == 0 and response.json() == json.loads(printed)
    assert_same(response.json(), expected(question, "acme"))


FILTERS = {
    "dates": (
        {"from": "2026-11-04", "to": "2026-11-07"},
        Filters(date_from=dt.date(2026, 11, 4), date_to=dt.date(2026, 11, 7)),
    ),
    "from only": ({"from": "2026-11-09"}, Filters(date_from=dt.date(2026, 11, 9))),
    "to only": ({"to": "2026-11-03"}, Filters(date_to=dt.date(2026, 11, 3))),
    "projects": ({"project": ["p-api", "p-ml"]}, Filters(projects=("p-api", "p-ml"))),
    "repository": ({"repository": ["acme/web"]}, Filters(repositories=("acme/web",))),
    "agents": ({"agent": ["codex", "cursor-agent"]}, Filters(agents=("codex", "cursor-agent"))),
    "users": ({"user": ["una", "ghost"]}, Filters(users=("una", "ghost"))),
    "all together": (
        {
            "from": "2026-11-03",
            "to": "2026-11-10",
            "project": ["p-api", "p-web"],
            "agent": ["claude-code", "codex"],
            "repository": ["acme/api", "acme/web"],
            "user": ["max", "una", "zed"],
        },
        Filters(
            date_from=dt.date(2026, 11, 3),
            date_to=dt.date(2026, 11, 10),
            projects=("p-api", "p-web"),
            agents=("claude-code", "codex"),
            repositories=("acme/api", "acme/web"),
            users=("max", "una", "zed"),
        ),
    ),
}


@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("question", QUESTIONS)
def test_every_filter_selects_what_the_oracle_selects(world, question, name):
    params, filters = FILTERS[name]
    response = get(world, "ada", url(question), **params)
    assert response.status_code == 200, response.text
    assert_same(response.json(), expected(question, "acme", filters))
    assert response.json() != get(world, "ada", url(question)).json()  # the filter did narrow the answer


@pytest.mark.parametrize("interval", ["day", "week"])
@pytest.mark.parametrize("metric", ["sessions", "cost", "tokens"])
def test_timeseries_interval_and_metric(world, interval, metric):
    params = {"from": "2026-11-01", "to": "2026-11-12", "interval": interval, "metric": metric}
    response = get(world, "max", url("timeseries"), **params)
    filters = Filters(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 12))
    assert_same(response.json(), expected("timeseries", "acme", filters, "max", interval, metric))
    assert len(response.json()["points"]) == (12 if interval == "day" else 3)  # weeks of 26 Oct, 2 and 9 Nov


def test_unknown_agent_gives_zeros(world):
    response = get(world, "ada", url("summary"), agent="no-such-agent")
    assert response.status_code == 200
    assert response.json()["total_sessions"] == 0 and response.json()["total_cost_usd"] == 0


@pytest.mark.parametrize(
    "value", ["' or '1'='1", "x'); drop table analytics.mart_daily_activity; --", "%", "*", "acme/api' --", '" or ""="']
)
def test_filter_values_full_of_sql_match_nothing(world, value):
    for parameter in ("project", "repository", "agent", "user"):
        response = get(world, "ada", url("summary"), **{parameter: value})
        assert response.status_code == 200
        assert response.json()["total_sessions"] == 0 and response.json()["total_tokens"] == 0
    assert get(world, "ada", url("summary")).json()["total_sessions"] == expected("summary", "acme")["total_sessions"]


# -- the CSV form ----------------------------------------------------------------------------------------------


def read_csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.text)))


def cell(value) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def test_csv_of_summary_is_one_row_of_its_figures(world):
    answer = get(world, "max", url("summary")).json()
    header, *rows = read_csv(get(world, "max", url("summary"), format="csv"))
    assert header == list(answer) and rows == [[cell(v) for v in answer.values()]]


def test_csv_of_timeseries_has_a_row_per_period(world):
    params = {"interval": "week", "metric": "cost", "project": "p-api"}
    answer = get(world, "ada", url("timeseries"), **params).json()
    header, *rows = read_csv(get(world, "ada", url("timeseries"), format="csv", **params))
    assert header == ["period_start", "value", "interval", "metric"]
    assert rows == [[p["period_start"], cell(p["value"]), "week", "cost"] for p in answer["points"]]


def test_csv_of_by_agent_has_a_row_per_agent_and_a_header_even_when_empty(world):
    answer = get(world, "una", url("by-agent")).json()
    header, *rows = read_csv(get(world, "una", url("by-agent"), format="csv"))
    assert header == [
        "agent",
        "sessions",
        "total_cost_usd",
        "total_tokens",
        "avg_cost_usd",
        "avg_duration_seconds",
        "unpriced_requests",
    ]
    assert rows == [[cell(agent[c]) for c in header] for agent in answer["agents"]] and rows
    assert read_csv(get(world, "una", url("by-agent"), format="csv", agent="nobody")) == [header]


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted():
    # Names come from the directory and ids from raw events: anyone can write "=HYPERLINK(...)" there.
    answer = {
        "by_model": [{"model_family": "opus", "cost_usd": 1.5}],
        "by_vendor": [{"vendor": "anthropic", "cost_usd": 1.5}],
        "by_project": [{"project_id": "@sum(a1)", "name": '=HYPERLINK("http://x")', "cost_usd": 0.25}],
        "by_user": [
            {"user_id": "u-1", "name": "-2+3", "cost_usd": 0.0},
            {"user_id": "u-2", "name": "Ann", "cost_usd": 1},
        ],
        "unpriced_requests": 1,
        "unpriced_models": [{"model": "=cmd|' /C calc'!A0", "requests": 1}],
    }
    header, *rows = list(csv.reader(io.StringIO(answer_csv(answer, CostBreakdown))))
    project, first_user, second_user, unpriced_model = rows[2], rows[3], rows[4], rows[5]
    assert unpriced_model[header.index("model")] == "'=cmd|' /C calc'!A0"
    assert project[header.index("project_id")] == "'@sum(a1)"
    assert project[header.index("name")] == '\'=HYPERLINK("http://x")'
    assert first_user[header.index("name")] == "'-2+3" and second_user[header.index("name")] == "Ann"
    assert project[header.index("cost_usd")] == "0.25"


def test_csv_of_cost_breakdown_has_a_section_per_list(world):
    answer = get(world, "ada", url("cost-breakdown")).json()
    header, *rows = read_csv(get(world, "ada", url("cost-breakdown"), format="csv"))
    assert header == [
        "section",
        "model_family",
        "cost_usd",
        "vendor",
        "project_id",
        "name",
        "user_id",
        "model",
        "requests",
        "unpriced_requests",
    ]
    unpriced = str(answer["unpriced_requests"])
    wanted = (
        [
            ["by_model", m["model_family"], cell(m["cost_usd"]), "", "", "", "", "", "", unpriced]
            for m in answer["by_model"]
        ]
        + [
            ["by_vendor", "", cell(v["cost_usd"]), v["vendor"], "", "", "", "", "", unpriced]
            for v in answer["by_vendor"]
        ]
        + [
            ["by_project", "", cell(p["cost_usd"]), "", cell(p["project_id"]), cell(p["name"]), "", "", "", unpriced]
            for p in answer["by_project"]
        ]
        + [
            ["by_user", "", cell(u["cost_usd"]), "", "", cell(u["name"]), cell(u["user_id"]), "", "", unpriced]
            for u in answer["by_user"]
        ]
        + [
            ["unpriced_models", "", "", "", "", "", "", u["model"], str(u["requests"]), unpriced]
            for u in answer["unpriced_models"]
        ]
    )
    assert rows == wanted and int(unpriced) > 0 and answer["unpriced_models"]


def test_cli_prints_the_same_csv(world):
    code, printed = run_cli(
        "analytics", "cost-breakdown", "--org", "acme", "--format", "csv", "--warehouse", str(world["paths"].warehouse)
    )
    assert code == 0 and printed == get(world, "ada", url("cost-breakdown"), format="csv").text


# -- roles and scope ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["una", "zed", "mo", "max"])
@pytest.mark.parametrize("question", QUESTIONS)
def test_without_a_user_filter_a_reader_sees_exactly_their_scope(world, reader, question):
    response = get(world, reader, url(question))
    assert response.status_code == 200
    assert_same(response.json(), expected(question, "acme", reader=reader))
    assert response.json() != expected(question, "acme")


@pytest.mark.parametrize(
    "reader, users",
    [
        ("una", ["una"]),
        ("max", ["una"]),
        ("max", ["uli", "max"]),
        ("mo", ["una"]),
        ("ada", ["zed", "ghost"]),
    ],
)
def test_readers_may_name_users_in_their_scope(world, reader, users):
    response = get(world, reader, url("cost-breakdown"), user=users)
    assert response.status_code == 200
    assert_same(response.json(), expected("cost-breakdown", "acme", Filters(users=tuple(users)), reader))


@pytest.mark.parametrize(
    "reader, users",
    [
        ("una", ["uli"]),
        ("una", ["una", "mo"]),
        ("zed", ["ghost"]),
        ("mo", ["max"]),
        ("mo", ["uli"]),
        ("max", ["zed"]),
        ("max", ["ada"]),
        ("max", ["una", "nobody"]),
    ],
)
def test_asking_for_users_outside_the_scope_is_forbidden_and_logged(world, caplog, reader, users):
    with caplog.at_level(logging.WARNING, logger="reports.api"):
        for question in QUESTIONS:
            response = get(world, reader, url(question), user=users)
            assert response.status_code == 403, response.text
            assert set(response.json()) == {"detail"}
    denials = [r.getMessage() for r in caplog.records if r.name == "reports.api"]
    assert len(denials) == 4 and all(f"user {reader} of acme" in d and "outside" in d for d in denials)


@pytest.mark.parametrize("user, reason", [("ghost", "no role"), ("nora", "no user 'nora'")])
def test_users_without_a_role_get_no_token_and_an_old_token_of_theirs_sees_nothing(world, user, reason):
    """ghost is known from events only (no role); nora's directory row has no valid role (quarantined)."""
    code, _ = run_cli("tokens", "create", "--user", user, *world["flags"])
    assert code == 2
    # A token issued while they had a role (written to the store directly here) no longer shows anything.
    from reports.api.tokens import TokenStore

    _, secret = TokenStore(world["tokens"]).create("acme", user)
    response = world["client"].get(url("summary"), headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403 and reason in response.json()["detail"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_another_orgs_data_is_never_visible(world, caplog, question):
    with caplog.at_level(logging.WARNING, logger="reports.api"):
        for reader in ("ada", "una"):
            response = get(world, reader, url(question, "globex"), user=["gus"])
            assert response.status_code == 403 and set(response.json()) == {"detail"}
        assert get(world, "ada", url(question, "no-such-org")).status_code == 403
    assert sum("not 'globex'" in r.getMessage() for r in caplog.records) == 2
    # globex's own admin sees globex, and only globex
    response = get(world, "gus", url(question, "globex"))
    assert_same(response.json(), expected(question, "globex"))
    assert get(world, "gus", url(question)).status_code == 403


def test_token_creation_needs_a_known_user_and_resolves_their_org(world):
    assert run_cli("tokens", "create", "--user", "nobody", *world["flags"])[0] == 2
    assert run_cli("tokens", "create", "--user", "gus", "--org", "acme", *world["flags"])[0] == 2
    token = world["token"]("gina")
    assert get(world, None, url("summary", "globex")).status_code == 401
    response = world["client"].get(url("summary", "globex"), headers={"Authorization": f"Bearer {token}"})
    gina_only = oracle.expected_summary(EVENTS, ORGS, USERS, PROJECTS, "globex", scope_user_ids=frozenset({"gina"}))
    assert_same(response.json(), gina_only)
    assert 0 < gina_only["total_sessions"] < expected("summary", "globex")["total_sessions"]


# -- authentication ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer sa_not-a-real-token"},
        {"Authorization": "Basic YWRhOnNlY3JldA=="},
        {"Authorization": "Bearer ' or 1=1 --"},
    ],
)
def test_no_token_or_a_bad_token_is_401_and_logged(world, caplog, headers):
    with caplog.at_level(logging.WARNING, logger="reports.api"):
        response = world["client"].get(url("summary"), headers=headers)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert set(response.json()) == {"detail"}
    assert any("denied 401" in r.getMessage() for r in caplog.records)


def test_revoked_tokens_are_refused_at_once(world, caplog):
    listing = ("tokens", "list", "--format", "json", "--tokens", str(world["tokens"]))
    earlier = {t["token_id"] for t in json.loads(run_cli(*listing)[1])["tokens"]}
    first, second, third = world["token"]("gina"), world["token"]("gina"), world["token"]("gina")
    ask = lambda token: world["client"].get(url("summary", "globex"), headers={"Authorization": f"Bearer {token}"})
    assert [ask(t).status_code for t in (first, second, third)] == [200, 200, 200]

    code, listed = run_cli(*listing)
    new = [t for t in json.loads(listed)["tokens"] if t["token_id"] not in earlier]
    assert code == 0 and len(new) == 3 and {t["user_id"] for t in new} == {"gina"}
    assert all(secret not in listed for secret in (first, second, third))  # ids only, never the secrets
    code, out = run_cli("tokens", "revoke", new[0]["token_id"], "--tokens", str(world["tokens"]))
    assert code == 0 and new[0]["token_id"] in out
    assert sorted(ask(t).status_code for t in (first, second, third)) == [200, 200, 401]

    code, out = run_cli("tokens", "revoke", "--user", "gina", "--tokens", str(world["tokens"]))
    assert code == 0 and new[1]["token_id"] in out and new[2]["token_id"] in out
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="reports.api"):
        assert [ask(t).status_code for t in (first, second, third)] == [401, 401, 401]
    assert sum("was revoked" in r.getMessage() and "gina" in r.getMessage() for r in caplog.records) == 3
    assert get(world, "gus", url("summary", "globex")).status_code == 200  # other users' tokens still work
    assert run_cli("tokens", "revoke", "tok_nope", "--tokens", str(world["tokens"]))[0] == 2
    assert "revoked_at" in run_cli(*listing, "--all")[1] and new[0]["token_id"] not in run_cli(*listing)[1]


def test_tokens_are_stored_only_as_hashes(world):
    secret = world["issued"]["ada"]
    raw = Path(world["tokens"]).read_bytes()
    assert secret.encode() not in raw and secret[3:].encode() not in raw


# -- bad parameters ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question, params, parameter",
    [
        ("summary", {"from": "2026-13-01"}, "from"),
        ("summary", {"from": "yesterday"}, "from"),
        ("by-agent", {"to": "20261105"}, "to"),
        ("by-agent", {"to": "1700000000"}, "to"),
        ("cost-breakdown", {"from": "2026-11-10", "to": "2026-11-01"}, "from"),
        ("timeseries", {"interval": "month"}, "interval"),
        ("timeseries", {"metric": "revenue"}, "metric"),
        ("summary", {"from": "2025-01-01", "to": "2026-11-10"}, "to"),
        ("timeseries", {"from": "0001-01-01"}, "from"),
        ("summary", {"format": "xml"}, "format"),
        ("summary", {"agents": "codex"}, "agents"),
        ("summary", {"interval": "week"}, "interval"),  # only timeseries has it
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(world, question, params, parameter):
    response = get(world, "ada", url(question), **params)
    assert response.status_code == 422
    assert response.json()["parameter"] == parameter and response.json()["detail"].startswith(f"{parameter}:")


# -- the documentation and the fuzzing ---------------------------------------------------------------------------


def test_openapi_documents_every_endpoint_and_its_parameters(world):
    document = world["client"].get("/openapi.json").json()
    for question in QUESTIONS:
        operation = document["paths"][f"/{{org_id}}/sessions/analytics/{question}"]["get"]
        parameters = {p["name"]: p for p in operation["parameters"]}
        wanted = {"org_id", "from", "to", "project", "repository", "agent", "user", "format"}
        assert set(parameters) == wanted | ({"interval", "metric"} if question == "timeseries" else set())
        for repeatable in ("project", "repository", "agent", "user"):
            assert parameters[repeatable]["schema"]["type"] == "array"
        assert parameters["from"]["schema"]["format"] == parameters["to"]["schema"]["format"] == "date"
        assert set(operation["responses"]) == {"200", "401", "403", "422", "503"}
        assert operation["security"] == [{"HTTPBearer": []}]
    timeseries = document["paths"]["/{org_id}/sessions/analytics/timeseries"]["get"]
    assert {p["name"]: p["schema"] for p in timeseries["parameters"]}["interval"]["enum"] == ["day", "week"]


def test_fuzzing_the_openapi_document_finds_no_server_error(world):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(f"{world['url']}/openapi.json")
    auth = {"Authorization": f"Bearer {world['issued']['max']}"}
    cases = st.one_of(
        *(
            schema.as_strategy(generation_mode=mode, path_parameters={"org_id": "acme"}, headers=auth)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        )
    )
    statuses = []

    @settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def no_server_error(case):
        response = case.call(base_url=world["url"])
        statuses.append(response.status_code)
        # No 5xx, and every answer and error is what the document says (status, content type, body schema).
        case.validate_response(
            response,
            checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        )
        assert response.status_code < 500, response.text

    no_server_error()
    assert 200 in statuses and 422 in statuses  # the fuzzing reached the answers and the validation


# -- the property: any filters, any reader -----------------------------------------------------------------------

DAYS = [FIRST_DAY + dt.timedelta(days=offset) for offset in range(-2, 12)]


@st.composite
def requests(draw):
    question = draw(st.sampled_from(QUESTIONS))
    reader = draw(st.sampled_from(sorted(TEAM)))
    date_from = draw(st.none() | st.sampled_from(DAYS))
    date_to = draw(st.none() | st.sampled_from(DAYS))
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    subset = lambda values: st.lists(st.sampled_from(values), max_size=2, unique=True)
    filters = Filters(
        date_from=date_from,
        date_to=date_to,
        projects=tuple(draw(subset(["p-api", "p-web", "p-ml", "p-none"]))),
        repositories=tuple(draw(subset(["acme/api", "acme/web", "other/repo"]))),
        agents=tuple(draw(subset(AGENTS + ["nobody"]))),
        users=tuple(draw(subset(sorted(TEAM[reader] or set(TEAM) | {"ghost"})))),
    )
    options = (
        {
            "interval": draw(st.sampled_from(["day", "week"])),
            "metric": draw(st.sampled_from(["sessions", "cost", "tokens"])),
        }
        if question == "timeseries"
        else {}
    )
    return question, reader, filters, options


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
def test_api_figures_equal_the_oracle_for_any_filters_and_reader(world, request):
    question, reader, filters, options = request
    params = {
        "from": filters.date_from and filters.date_from.isoformat(),
        "to": filters.date_to and filters.date_to.isoformat(),
        "project": list(filters.projects),
        "repository": list(filters.repositories),
        "agent": list(filters.agents),
        "user": list(filters.users),
        **options,
    }
    response = get(world, reader, url(question), **{k: v for k, v in params.items() if v is not None})
    assert response.status_code == 200, response.text
    assert_same(response.json(), expected(question, "acme", filters, reader, **options))


# -- serving while a refresh replaces the warehouse ---------------------------------------------------------------


def test_a_refresh_replacing_the_warehouse_never_fails_a_request(world, tmp_path):
    """Publish two different warehouse files alternately (copy to a temp name, then os.replace) while four
    clients keep asking: every request succeeds, with the answer of one file or the other, never a mix."""
    served = tmp_path / "warehouse.duckdb"
    old, new = tmp_path / "old.duckdb", tmp_path / "new.duckdb"
    shutil.copy(world["paths"].warehouse, old)
    shutil.copy(world["paths"].warehouse, new)
    with duckdb.connect(str(new)) as conn:  # the rebuilt file: zed's activity is gone
        conn.execute("delete from analytics.mart_daily_activity where user_id = 'zed'")
    shutil.copy(old, served)
    everyone = expected("summary", "acme")["total_sessions"]
    answers = {everyone, everyone - expected("summary", "acme", Filters(users=("zed",)))["total_sessions"]}
    assert len(answers) == 2

    failures, seen, stop = [], [], threading.Event()
    with LiveServer(ApiSettings(warehouse=served, tokens=world["tokens"])) as server:

        def client_loop():
            with httpx.Client(base_url=server.url, timeout=30) as client:
                while not stop.is_set():
                    response = client.get(url("summary"), headers={"Authorization": f"Bearer {world['issued']['ada']}"})
                    if response.status_code != 200:
                        failures.append(response.text)
                    else:
                        seen.append(response.json()["total_sessions"])

        clients = [threading.Thread(target=client_loop) for _ in range(4)]
        for thread in clients:
            thread.start()
        for publish in range(12):
            source = new if publish % 2 == 0 else old
            staging = tmp_path / f"publishing-{publish}.duckdb"
            shutil.copy(source, staging)
            os.replace(staging, served)
            answered = len(seen) + len(failures)
            deadline = time.monotonic() + 10
            while len(seen) + len(failures) < answered + 4 and time.monotonic() < deadline:
                time.sleep(0.005)  # let requests run on this file (and finish on the previous one)
        stop.set()
        for thread in clients:
            thread.join()
        with httpx.Client(base_url=server.url) as client:  # the last publish was `old`: served from now on
            final = client.get(url("summary"), headers={"Authorization": f"Bearer {world['issued']['ada']}"})
    assert failures == []
    assert set(seen) == answers and len(seen) >= 12 * 4
    assert final.json()["total_sessions"] == expected("summary", "acme")["total_sessions"]


def test_before_the_first_refresh_the_api_answers_503_then_serves_once_the_file_is_published(world, tmp_path):
    served = tmp_path / "warehouse.duckdb"
    with (
        LiveServer(ApiSettings(warehouse=served, tokens=world["tokens"])) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        auth = {"Authorization": f"Bearer {world['issued']['una']}"}
        assert client.get("/health").status_code == 503
        response = client.get(url("summary"), headers=auth)
        assert response.status_code == 503 and "no warehouse" in response.json()["detail"]
        assert response.headers["retry-after"]
        staging = tmp_path / "staging.duckdb"
        shutil.copy(world["paths"].warehouse, staging)
        os.replace(staging, served)
        assert client.get("/health").status_code == 200
        assert_same(client.get(url("summary"), headers=auth).json(), expected("summary", "acme", reader="una"))


def test_an_unreadable_token_store_is_503_not_a_crash(world, tmp_path):
    broken = tmp_path / "tokens.sqlite3"
    broken.write_text("not a database")
    with LiveServer(ApiSettings(warehouse=world["paths"].warehouse, tokens=broken)) as server:
        response = httpx.get(f"{server.url}{url('summary')}", headers={"Authorization": "Bearer sa_whatever"})
    assert response.status_code == 503 and "token store" in response.json()["detail"]


# -- the command ---------------------------------------------------------------------------------------------------


def test_serve_command_runs_the_api_with_a_configurable_maximum_range(world):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "SESSION_ANALYTICS_API_MAX_RANGE_DAYS": "5"}
    command = [str(Path(sys.executable).parent / "session-analytics"), "serve", "--port", str(port), *world["flags"]]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "serve did not start"
            time.sleep(0.1)
        auth = {"Authorization": f"Bearer {world['issued']['zed']}"}
        ok = httpx.get(f"{base}{url('by-agent')}", params={"from": "2026-11-02", "to": "2026-11-06"}, headers=auth)
        filters = Filters(date_from=dt.date(2026, 11, 2), date_to=dt.date(2026, 11, 6))
        assert_same(ok.json(), expected("by-agent", "acme", filters, "zed"))
        too_long = httpx.get(
            f"{base}{url('by-agent')}", params={"from": "2026-11-02", "to": "2026-11-07"}, headers=auth
        )
        assert too_long.status_code == 422 and "at most 5" in too_long.json()["detail"]
        assert httpx.get(f"{base}{url('summary')}").status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=15)[0]
    assert "denied 401" in output  # denials reach the server's log
