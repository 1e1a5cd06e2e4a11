"""Hostile and extreme input on the reading side (issue 12): the API and the CLI never answer 500 or crash, and
one request's work is bounded; a killed refresh leaves no process behind and the next one succeeds; two runs
from one folder never share a lake unasked.

The warehouse is built for real (loaders and dbt) from three orgs: acme (ten days of November 2026), longco
(a session on the first and one on the last day the input contract accepts, 2000-01-01 and 2099-12-31) and
multiyear (a session on 2021-01-04 and one on 2026-11-29: a real org's multi-year history). The loaders now
quarantine timestamps outside 2000-2100, so the "hostile" copy gets its year-1 and year-9999 rows the way an
older warehouse had them: written straight into the marts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import psutil
import pytest

from orchestration.ingest import contract
from reports.analytics import query, weeks
from reports.api.app import DEFAULT_MAX_PERIODS, ApiSettings
from tests.fixtures import REPO
from tests.fixtures.report_scenario import SONNET, session
from tests.fixtures.servers import LiveServer, run_cli
from tests.fixtures.warehouse import analytics_tables, build_warehouse, test_paths, write_delivery, write_directory

QUESTIONS = ("summary", "timeseries", "by-agent", "cost-breakdown")
ORGS = [("acme", "Acme", "Europe/Berlin"), ("longco", "Long Co", "UTC"), ("multiyear", "Multi Year", "UTC")]
USERS = [
    ("acme", "ada", "ada@acme.example", "Ada", "Core", "", "admin"),
    ("acme", "una", "una@acme.example", "Una", "Core", "ada", "member"),
    ("longco", "lee", "lee@longco.example", "Lee", "Core", "", "admin"),
    ("multiyear", "mia", "mia@multiyear.example", "Mia", "Core", "", "admin"),
]
PROJECTS = [("acme", "p", "P", "single"), ("longco", "p", "P", "single"), ("multiyear", "p", "P", "single")]
ACME_DAYS = [dt.date(2026, 11, 2) + dt.timedelta(days=offset) for offset in range(10)]
LONG_DAYS = (dt.date(2000, 1, 1), dt.date(2099, 12, 31))
MULTIYEAR_DAYS = (dt.date(2021, 1, 4), dt.date(2026, 11, 29))


def events() -> list[dict]:
    """One noon session per day listed (noon UTC: the same local date in Berlin and UTC)."""
    days = [("acme", user, day) for day in ACME_DAYS for user in ("ada", "una")]
    days += [("longco", "lee", day) for day in LONG_DAYS] + [("multiyear", "mia", day) for day in MULTIYEAR_DAYS]
    return [
        event
        for number, (org, user, day) in enumerate(days)
        for event in session(
            f"{org}-{number}",
            user,
            "claude-code",
            "p",
            f"{day}T12:00:00Z",
            f"{day}T12:20:00Z",
            SONNET,
            1_000 + number,
            100,
            org_id=org,
        )
    ]


# Rows a warehouse built before the loaders checked the timestamp window could hold: dates that Python cannot
# represent as a date (year 0, year 10000) and the extremes it can.
HOSTILE_DATES = (
    "date '0001-01-01' - interval 1 day",
    "date '0001-01-01'",
    "date '9999-12-31'",
    "date '9999-12-31' + interval 1 day",
)
MARTS = ("mart_daily_activity", "mart_daily_model_costs", "mart_session_starts")


def add_hostile_rows(warehouse) -> None:
    with duckdb.connect(str(warehouse)) as conn:
        for day in HOSTILE_DATES:
            for mart in MARTS:
                conn.execute(f"""
                    insert into analytics.{mart}
                    select * replace (cast({day} as date) as activity_date)
                    from analytics.{mart} where org_id in ('acme', 'longco') and activity_date in (
                        select min(activity_date) from analytics.{mart} group by org_id)
                """)
        conn.execute("""
            insert into analytics.fct_sessions
            select * replace (
                session_id || '-hostile' as session_id, timestamp '9999-12-31 23:59:00' as last_event_at_utc
            )
            from analytics.fct_sessions where org_id = 'acme' limit 1
        """)


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """The warehouse as built ("clean") and a copy with out-of-window rows ("hostile"), tokens for both."""
    root = tmp_path_factory.mktemp("hostile-api")
    paths = test_paths(root)
    write_directory(paths.directory, ORGS, USERS, PROJECTS)
    write_delivery(paths.raw_dir, "2026-11-12", "events", events())
    build_warehouse(paths)
    hostile = root / "hostile.duckdb"
    shutil.copy(paths.warehouse, hostile)
    add_hostile_rows(hostile)
    tokens = root / "tokens.sqlite3"
    issued = {}
    for user in ("ada", "una", "lee", "mia"):
        code, out = run_cli(
            "tokens", "create", "--user", user, "--warehouse", str(paths.warehouse), "--tokens", str(tokens)
        )
        assert code == 0
        issued[user] = out.strip()
    return {"clean": paths.warehouse, "hostile": hostile, "tokens": tokens, "issued": issued}


@pytest.fixture(scope="module")
def servers(warehouses):
    """A live API server on each warehouse (default limits)."""
    with (
        LiveServer(ApiSettings(warehouse=warehouses["clean"], tokens=warehouses["tokens"])) as clean,
        LiveServer(ApiSettings(warehouse=warehouses["hostile"], tokens=warehouses["tokens"])) as hostile,
    ):
        yield {"clean": clean.url, "hostile": hostile.url}


def ask(warehouses, base: str, reader: str, question: str, org: str = "acme", **params) -> httpx.Response:
    return httpx.get(
        f"{base}/{org}/sessions/analytics/{question}",
        params=params,
        timeout=60,
        headers={"Authorization": f"Bearer {warehouses['issued'][reader]}"},
    )


# -- A: dates outside the window never reach the answers --------------------------------------------------------


def test_the_reading_side_date_window_is_the_input_contracts():
    assert (weeks.DATE_WINDOW_START, weeks.DATE_WINDOW_END) == (contract.DATE_WINDOW_START, contract.DATE_WINDOW_END)
    assert (query.DATE_WINDOW_START, query.DATE_WINDOW_END) == (contract.DATE_WINDOW_START, contract.DATE_WINDOW_END)


DATE_PARAMETERS = {"no dates": {}, "from": {"from": "2026-11-05"}, "to": {"to": "2026-11-08"}}
WEEKLY_PARAMETERS = {"weekly": {"interval": "week"}, "weekly from": {"from": "2026-11-01", "interval": "week"}}


@pytest.mark.parametrize(
    "question, params",
    [
        pytest.param(question, params, id=f"{question}-{name}")
        for question in QUESTIONS
        for name, params in {**DATE_PARAMETERS, **(WEEKLY_PARAMETERS if question == "timeseries" else {})}.items()
    ],
)
@pytest.mark.parametrize("reader", ["ada", "una"])
def test_rows_outside_the_date_window_neither_fail_nor_change_an_answer(warehouses, servers, question, reader, params):
    """Year-0, year-1, year-9999 and year-10000 rows in the marts: every answer is 200 and the same as on the
    warehouse without them (today: 500 on timeseries and on summary?from=...)."""
    hostile = ask(warehouses, servers["hostile"], reader, question, **params)
    assert hostile.status_code == 200, hostile.text
    assert hostile.json() == ask(warehouses, servers["clean"], reader, question, **params).json()
    if question == "timeseries":
        starts = [dt.date.fromisoformat(point["period_start"]) for point in hostile.json()["points"]]
        first = dt.date.fromisoformat(params.get("from", str(ACME_DAYS[0])))
        last = dt.date.fromisoformat(params.get("to", str(ACME_DAYS[-1])))
        if params.get("interval") == "week":
            first -= dt.timedelta(days=first.weekday())
        assert starts[0] == first and starts[-1] <= last < starts[-1] + dt.timedelta(days=7)


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize(
    "parameter, value",
    [
        ("from", "0001-01-01"),
        ("to", "9999-12-31"),
        ("from", "1999-12-30"),
        ("to", "2100-01-02"),
        ("from", "9999-12-31"),
        ("to", "0001-01-01"),
    ],
)
def test_dates_outside_the_window_are_422_naming_the_parameter(warehouses, servers, question, parameter, value):
    response = ask(warehouses, servers["hostile"], "ada", question, **{parameter: value})
    assert response.status_code == 422, response.text
    assert response.json()["parameter"] == parameter
    assert response.json()["detail"] == (
        f"{parameter}: {value} is outside the dates the warehouse can hold (1999-12-31..2100-01-01)"
    )


def test_the_window_ends_themselves_may_be_asked(warehouses, servers):
    for params in ({"from": "1999-12-31", "to": "2000-01-02"}, {"from": "2099-12-30", "to": "2100-01-01"}):
        response = ask(warehouses, servers["hostile"], "lee", "timeseries", org="longco", **params)
        assert response.status_code == 200, response.text
        assert [point["value"] for point in response.json()["points"]] == [0, 1, 0]


def test_cli_timeseries_on_out_of_window_rows_answers_and_out_of_window_dates_are_exit_2(warehouses, capsys):
    flags = ("--org", "acme", "--warehouse")
    code, hostile = run_cli("analytics", "timeseries", *flags, str(warehouses["hostile"]))
    assert code == 0  # today: TypeError (a year-10000 date arrives from DuckDB as text)
    assert hostile == run_cli("analytics", "timeseries", *flags, str(warehouses["clean"]))[1]
    from orchestration import cli

    for flag, value in (("--from", "0001-01-01"), ("--to", "9999-12-31")):
        capsys.readouterr()
        assert cli.main(["analytics", "summary", *flags, str(warehouses["hostile"]), flag, value]) == 2
        error = capsys.readouterr().err
        assert error == f"error: {flag}: {value} is outside the dates the warehouse can hold (1999-12-31..2100-01-01)\n"


def test_the_latest_event_time_ignores_events_outside_the_window(warehouses):
    """The reports' data-quality note: a year-9999 event time would overflow turning it into local time."""
    with query.connect_read_only(warehouses["hostile"]) as conn:
        latest = query.AnalyticsQueries(conn).data_quality("acme")["latest_event_at_utc"]
    assert latest == f"{ACME_DAYS[-1]}T12:20:00"


@pytest.mark.parametrize("text", ["0001-W01", "9999-W52", "1999-W52", "2099-W53"])
def test_report_weeks_outside_the_window_are_refused(text):
    with pytest.raises(ValueError, match="outside the dates the warehouse can hold"):
        weeks.ReportWeek.parse(text)
    assert weeks.ReportWeek.parse("2000-W01").start == dt.date(2000, 1, 3)
    assert weeks.ReportWeek.parse("2099-W52").end == dt.date(2099, 12, 27)


# -- A: the work of one request is bounded ------------------------------------------------------------------------


def test_a_century_of_history_without_dates_is_422_naming_from_not_a_huge_answer(warehouses, servers):
    """longco's history spans 36,525 days (2000-01-01..2099-12-31): more than the default maximum of points,
    daily or weekly. Today the answer has 36,525 points (and with a year-1 event, 29.6 MB)."""
    days = [LONG_DAYS[0] + dt.timedelta(days=offset) for offset in range((LONG_DAYS[1] - LONG_DAYS[0]).days + 1)]
    iso_weeks = {day.isocalendar()[:2] for day in days}
    assert len(iso_weeks) > DEFAULT_MAX_PERIODS
    for interval, count in (("day", len(days)), ("week", len(iso_weeks))):
        response = ask(warehouses, servers["clean"], "lee", "timeseries", org="longco", interval=interval)
        assert response.status_code == 422, response.text[:200]
        assert response.json()["parameter"] == "from"
        assert response.json()["detail"] == (
            f"from: the range 2000-01-01..2099-12-31 has {count} {interval}s; a timeseries has at most "
            f"{DEFAULT_MAX_PERIODS} points (SESSION_ANALYTICS_API_MAX_PERIODS): give a later from (or an earlier "
            "to), or interval=week"
        )
    # The other questions have no points: the whole history is one answer.
    summary = ask(warehouses, servers["clean"], "lee", "summary", org="longco")
    assert summary.status_code == 200 and summary.json()["total_sessions"] == 2
    recent = ask(warehouses, servers["clean"], "lee", "timeseries", org="longco", **{"from": "2099-06-01"})
    assert recent.status_code == 200 and len(recent.json()["points"]) == 214  # June..December 2099


def test_a_multi_year_daily_history_still_works_without_dates(warehouses, servers):
    response = ask(warehouses, servers["clean"], "mia", "timeseries", org="multiyear")
    assert response.status_code == 200, response.text
    first, last = MULTIYEAR_DAYS
    wanted = [
        {"period_start": str(first + dt.timedelta(days=offset)), "value": int(offset in (0, (last - first).days))}
        for offset in range((last - first).days + 1)
    ]
    assert response.json()["points"] == wanted and len(wanted) == 2156


def test_the_maximum_of_points_is_configurable_and_counts_weeks_as_points(warehouses):
    settings = ApiSettings(warehouse=warehouses["clean"], tokens=warehouses["tokens"], max_periods=10)
    with LiveServer(settings) as server:

        def status(**params):
            return ask(warehouses, server.url, "ada", "timeseries", **params).status_code

        assert status() == 200  # acme: ten days of history
        assert status(**{"from": "2026-11-01", "to": "2026-11-10"}) == 200
        assert status(**{"from": "2026-11-01", "to": "2026-11-11"}) == 422
        # Mondays 7 Sep .. 9 Nov 2026: 10 weeks; from Tuesday 1 Sep the week of 31 Aug makes 11.
        assert status(**{"from": "2026-09-07", "to": "2026-11-09", "interval": "week"}) == 200
        assert status(**{"from": "2026-09-01", "to": "2026-11-09", "interval": "week"}) == 422


@pytest.mark.parametrize(
    "first, last",
    [
        ("2026-11-02", "2026-11-02"),
        ("2026-11-02", "2026-11-08"),
        ("2026-11-08", "2026-11-09"),
        ("2026-11-03", "2026-11-01"),
        ("2026-12-30", "2027-01-05"),
        ("1999-12-31", "2100-01-01"),
    ],
)
@pytest.mark.parametrize("interval", ["day", "week"])
def test_period_count_is_the_number_of_points_of_the_timeseries(first, last, interval):
    first, last = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    days = [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]
    count = len(days) if interval == "day" else len({day.isocalendar()[:2] for day in days})
    assert query.period_count(first, last, interval) == count == len(query._periods(first, last, interval))


# -- B and C: refreshes run as the command does, in a process of their own ---------------------------------------


def refresh_command(*flags: str) -> list[str]:
    return [str(Path(sys.executable).parent / "session-analytics"), "refresh", *flags]


def command_environment() -> dict[str, str]:
    """This environment without the path settings that in-process refreshes of the test session exported."""
    return {key: value for key, value in os.environ.items() if not key.startswith("SESSION_ANALYTICS_")}


def run_refresh_command(cwd: Path, *flags: str) -> tuple[int, dict]:
    completed = subprocess.run(
        refresh_command(*flags), cwd=cwd, env=command_environment(), capture_output=True, text=True, timeout=600
    )
    return completed.returncode, run_summary(completed.stdout)


def run_summary(printed: str) -> dict:
    """The JSON object a refresh prints last (after dbt's log lines)."""
    return json.loads(printed[printed.rfind("\n{") + 1 :] if "\n{" in printed else printed)


def sessions_of(day: dt.date, prefix: str, count: int = 3) -> list[dict]:
    """`count` acme sessions on `day`, ids starting with `prefix`."""
    return [
        event
        for number in range(count)
        for event in session(
            f"{prefix}-{number}",
            "una" if number % 2 else "ada",
            "claude-code",
            "p",
            f"{day}T{9 + number:02d}:00:00Z",
            f"{day}T{9 + number:02d}:30:00Z",
            SONNET,
            2_000 + number,
            200,
            org_id="acme",
        )
    ]


def write_raw(root: Path, deliveries: dict[str, list[dict]]) -> None:
    write_directory(root / "directory", ORGS[:1], USERS[:2], PROJECTS[:1])
    for delivery_date, delivered in deliveries.items():
        write_delivery(root / "raw", delivery_date, "events", delivered)


FIRST_DELIVERY = {"2026-11-10": sessions_of(dt.date(2026, 11, 10), "a10") + sessions_of(dt.date(2026, 11, 9), "a09")}
SECOND_DELIVERY = {"2026-11-11": sessions_of(dt.date(2026, 11, 11), "a11")}
OTHER_RAW_DIR = {"2026-11-10": sessions_of(dt.date(2026, 11, 10), "b10", count=5)}


def session_ids(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return {row[0] for row in conn.execute("select session_id from analytics.fct_sessions").fetchall()}


def raw_session_ids(deliveries: dict[str, list[dict]]) -> set[str]:
    return {event["session_id"] for delivered in deliveries.values() for event in delivered}


def folder_flags(folder: Path) -> tuple[str, ...]:
    return (
        "--raw-dir",
        str(folder / "raw"),
        "--directory",
        str(folder / "directory"),
        "--warehouse",
        str(folder / "warehouse.duckdb"),
    )


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Refreshes started from one folder at the same time, each with its own raw dir and warehouse and no lake
    named: `a` has both deliveries, `b` another raw dir's, `killed` the first delivery (the kill test goes on
    from there)."""
    root = tmp_path_factory.mktemp("two-runs")
    write_raw(root / "a", {**FIRST_DELIVERY, **SECOND_DELIVERY})
    write_raw(root / "b", OTHER_RAW_DIR)
    write_raw(root / "killed", FIRST_DELIVERY)
    started_in = root / "operator"
    started_in.mkdir()
    running = {
        name: subprocess.Popen(
            refresh_command(*folder_flags(root / name)),
            cwd=started_in,
            env=command_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for name in ("a", "b", "killed")
    }
    summaries = {}
    for name, process in running.items():
        summaries[name] = run_summary(process.communicate(timeout=600)[0])
        assert process.returncode == 0 and summaries[name]["success"], summaries[name]
    return {"root": root, "started_in": started_in, "summaries": summaries}


def test_two_refreshes_from_one_folder_keep_their_data_apart(two_runs):
    """Today both use <working directory>/data/lake and each warehouse gets the other's sessions too."""
    root = two_runs["root"]
    assert session_ids(root / "a" / "warehouse.duckdb") == raw_session_ids({**FIRST_DELIVERY, **SECOND_DELIVERY})
    assert session_ids(root / "b" / "warehouse.duckdb") == raw_session_ids(OTHER_RAW_DIR)
    for name in ("a", "b"):
        assert two_runs["summaries"][name]["lake"] == str(root / name / "lake")  # the summary says which lake
    assert list(two_runs["started_in"].iterdir()) == []  # nothing written where the commands were started


def test_a_lake_that_holds_another_raw_dirs_deliveries_is_refused(two_runs):
    root = two_runs["root"]
    code, summary = run_refresh_command(
        two_runs["started_in"],
        "--raw-dir",
        str(root / "b" / "raw"),
        "--directory",
        str(root / "b" / "directory"),
        "--warehouse",
        str(root / "mixed.duckdb"),
        "--lake-dir",
        str(root / "a" / "lake"),
    )
    assert code == 1 and not summary["success"]
    assert summary["failures"] == [
        f"the lake {root / 'a' / 'lake'} holds the deliveries of the raw dir {root / 'a' / 'raw'}, not "
        f"{root / 'b' / 'raw'}: give this raw dir a lake of its own (--lake-dir or SESSION_ANALYTICS_LAKE_DIR), or, "
        f"if that raw dir was moved here, delete {root / 'a' / 'lake' / '_state' / 'owner.json'}"
    ]
    assert not (root / "mixed.duckdb").exists()
    assert session_ids(root / "a" / "warehouse.duckdb") == raw_session_ids({**FIRST_DELIVERY, **SECOND_DELIVERY})


def test_a_lake_last_built_into_another_warehouse_asks_for_a_full_rebuild(tmp_path):
    """Its pending changes were cleared by the other warehouse's builds: an incremental build would miss them."""
    from orchestration import refresh
    from orchestration.config import Paths
    from orchestration.ingest import changes

    first = Paths.resolve(raw_dir=tmp_path / "raw", warehouse=tmp_path / "one.duckdb", lake_dir=tmp_path / "lake")
    second = Paths.resolve(raw_dir=tmp_path / "raw", warehouse=tmp_path / "two.duckdb", lake_dir=tmp_path / "lake")
    assert refresh._claim_lake(first) is None
    changes.mark_built(first.lake_dir, changes.pending(first.lake_dir))  # as a published build does
    assert not changes.pending(first.lake_dir).full_rebuild
    assert refresh._claim_lake(first) is None and not changes.pending(first.lake_dir).full_rebuild
    assert refresh._claim_lake(second) == f"the lake was last built into {first.warehouse}: every model is rebuilt"
    assert changes.pending(second.lake_dir).full_rebuild


def test_the_lake_follows_the_warehouse_unless_named(tmp_path, monkeypatch):
    from orchestration.config import Paths

    monkeypatch.chdir(tmp_path)
    for name in ("WAREHOUSE", "LAKE_DIR", "WORKING_WAREHOUSE"):
        monkeypatch.delenv(f"SESSION_ANALYTICS_{name}", raising=False)
    assert Paths.resolve().lake_dir == tmp_path / "data" / "lake"  # the default warehouse keeps data/lake
    assert Paths.resolve(warehouse="w/x.duckdb").lake_dir == tmp_path / "w" / "lake"
    monkeypatch.setenv("SESSION_ANALYTICS_WAREHOUSE", str(tmp_path / "env" / "x.duckdb"))
    assert Paths.resolve().lake_dir == tmp_path / "env" / "lake"
    monkeypatch.setenv("SESSION_ANALYTICS_LAKE_DIR", str(tmp_path / "configured"))
    assert Paths.resolve().lake_dir == tmp_path / "configured"  # the variable overrides the derived default
    # ... but a warehouse named on the command line brings its own lake (the variable is the environment's).
    assert Paths.resolve(warehouse="w/x.duckdb").lake_dir == tmp_path / "w" / "lake"
    assert Paths.resolve(warehouse="w/x.duckdb", lake_dir="elsewhere").lake_dir == tmp_path / "elsewhere"


def command_line(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:  # gone meanwhile
        return []


def is_dbt_build(process: psutil.Process) -> bool:
    words = command_line(process)
    return "build" in words and any(Path(word).name in ("dbt", "session-analytics-dbt") for word in words)


def descendants_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_a_refresh_killed_while_dbt_runs_leaves_no_process_and_the_next_one_recovers(two_runs):
    """SIGKILL a nightly `session-analytics refresh` while its dbt builds: no child survives it (today dbt keeps
    writing the working warehouse and the next refresh fails on its lock). The next refresh removes what the
    killed one left, whatever state the working file was left in, and gives the warehouse a clean run gives."""
    folder = two_runs["root"] / "killed"  # refreshed once, with the first delivery
    flags = folder_flags(folder)
    write_raw(folder, SECOND_DELIVERY)

    refresh = subprocess.Popen(
        refresh_command(*flags),
        cwd=two_runs["started_in"],
        env=command_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    parent = psutil.Process(refresh.pid)
    descendants: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 300
        while not any(is_dbt_build(process) for process in descendants_running(descendants)):
            assert time.monotonic() < deadline and refresh.poll() is None, "the refresh never started dbt build"
            time.sleep(0.05)
            with contextlib.suppress(psutil.NoSuchProcess):
                descendants = parent.children(recursive=True)
        time.sleep(1.0)  # dbt is parsing or building (it takes several seconds here)
        descendants = parent.children(recursive=True)
        assert any(is_dbt_build(process) for process in descendants_running(descendants))
        refresh.kill()
        refresh.wait()
        deadline = time.monotonic() + 10
        while descendants_running(descendants) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [" ".join(command_line(process)) for process in descendants_running(descendants)]
        assert survivors == []
    finally:
        for process in descendants_running(descendants):
            process.kill()  # today's orphans: do not leave them writing

    # What else a run killed elsewhere leaves: copies cut short, the lake's scratch and files being replaced;
    # and the working file is not to be trusted, whatever it holds (here a day's rows are gone).
    working = folder / ".build" / "warehouse.duckdb"
    with duckdb.connect(str(working)) as conn:
        conn.execute("delete from analytics.mart_daily_activity where activity_date = '2026-11-09'")
    partition = next((folder / "lake" / "platform_events").iterdir())
    leftovers = [
        working,
        folder / ".build" / ".warehouse.duckdb.x1.copying",
        folder / ".warehouse.duckdb.x2.copying",
        folder / "lake" / "_writing",
        partition / "part-0.parquet.tmp",
        folder / "lake" / "_state" / "pending_changes.tmp",
    ]
    not_ours = folder / ".other.duckdb.x3.copying"  # another warehouse's copy in progress in the same folder
    for path in [*leftovers[1:], not_ours]:
        if path.name == "_writing":
            (path / "platform_events").mkdir(parents=True)
            (path / "platform_events" / "part-0.parquet").write_bytes(b"half a file")
        else:
            path.write_bytes(b"half a file")

    code, recovered = run_refresh_command(two_runs["started_in"], *flags)
    assert code == 0 and recovered["success"], recovered
    assert sorted(recovered["leftovers_removed"]) == sorted(str(path) for path in leftovers)
    assert not any(path.exists() for path in leftovers) and not_ours.exists()
    clean = two_runs["root"] / "a" / "warehouse.duckdb"  # the same deliveries, refreshed once, never killed
    assert analytics_tables(folder / "warehouse.duckdb") == analytics_tables(clean)


def test_a_second_refresh_while_one_runs_is_refused_and_touches_nothing(tmp_path):
    from orchestration.config import Paths
    from orchestration.publish import refresh_lock

    write_raw(tmp_path, FIRST_DELIVERY)
    paths = Paths.resolve(
        raw_dir=tmp_path / "raw", directory=tmp_path / "directory", warehouse=tmp_path / "warehouse.duckdb"
    )
    working = paths.working_warehouse
    working.parent.mkdir(parents=True)
    working.write_bytes(b"the running refresh's working file")
    with refresh_lock(paths):
        code, summary = run_refresh_command(
            tmp_path,
            "--raw-dir",
            str(paths.raw_dir),
            "--directory",
            str(paths.directory),
            "--warehouse",
            str(paths.warehouse),
        )
    assert code == 1 and summary["failures"] == [
        f"another refresh (pid {os.getpid()}) is writing {working.parent}; wait for it to finish"
    ]
    assert working.read_bytes() == b"the running refresh's working file" and not paths.warehouse.exists()


CHILD_OF_A_DYING_PARENT = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import os, time; from orchestration.dbt_child import die_with_parent; "
                          "die_with_parent(os.getppid()); print('armed', flush=True); time.sleep(60)"],
                         stdout=subprocess.PIPE, text=True)
assert child.stdout.readline() == "armed\\n"
print(child.pid, flush=True)
time.sleep(60)
"""


def test_the_dbt_wrapper_dies_with_its_parent_even_by_sigkill():
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD_OF_A_DYING_PARENT],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    child = psutil.Process(int(parent.stdout.readline()))
    parent.kill()
    parent.wait()
    try:
        child.wait(timeout=10)  # not our child: returns once it is gone (or a zombie of init)
    except psutil.TimeoutExpired:
        child.kill()
        pytest.fail("the child outlived its parent")


def test_the_dbt_wrapper_exits_at_once_when_its_parent_is_already_gone():
    """The parent may die before the death signal is asked for: then the wrapper has another parent already."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from orchestration.dbt_child import die_with_parent; die_with_parent(1); print('still here')",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert completed.returncode == 137 and completed.stdout == ""


def test_serve_refuses_a_bad_maximum_of_points(monkeypatch, capsys):
    from orchestration import cli

    monkeypatch.setenv("SESSION_ANALYTICS_API_MAX_PERIODS", "0")
    assert cli.main(["serve", "--warehouse", "nowhere.duckdb", "--tokens", "nowhere.sqlite3"]) == 2
    assert capsys.readouterr().err.endswith(
        "error: SESSION_ANALYTICS_API_MAX_PERIODS must be a whole number of periods >= 1, got '0'\n"
    )
