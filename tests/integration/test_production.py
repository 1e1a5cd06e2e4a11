"""Production run on the seeded sample org: a nightly refresh after N days processes only the new delivery and
gives the same warehouse as a full rebuild; analysts with the published file open are never blocked and never
see half a refresh; a failed run publishes nothing and emails the org admins through a real SMTP server."""

import csv
import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import dagster as dg
import duckdb
import pytest

from orchestration.config import Paths
from orchestration.ingest import platform
from orchestration.refresh import run_refresh
from orchestration.sample.generator import generate_sample
from tests.fixtures.claude_code_lines import SONNET, assistant, otel_line, write
from tests.fixtures.servers import free_port
from tests.fixtures.warehouse import analytics_tables

SAMPLE_END = dt.date(2026, 11, 20)
# An old session gets a late request (and so a new cost on an old day) in the nightly delivery.
LATE_EVENT_ID = "late-request-for-an-old-session"


def sample_paths(root):
    return Paths.resolve(
        raw_dir=root / "raw", directory=root / "directory", warehouse=root / "warehouse.duckdb", lake_dir=root / "lake"
    )


def delivery_sessions(raw_dir, delivery_date):
    """Every (event) session id in a delivery folder, read independently of the loader."""
    sessions, events = set(), []
    for path in platform.delivery_files(raw_dir, delivery_date):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as handle:
            for line in handle:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and isinstance(event.get("session_id"), str):
                    sessions.add(event["session_id"])
                    events.append(event)
    return sessions, events


ANALYST = textwrap.dedent("""
    import sys, duckdb
    conn = duckdb.connect(sys.argv[1], read_only=True)
    query = "select count(*), sum(model_requests), cast(round(sum(cost_usd), 9) as double) from analytics.fct_sessions"
    print(list(conn.execute(query).fetchall()[0]), flush=True)
    sys.stdin.readline()  # the refresh runs now, while this connection stays open
    print(list(conn.execute(query).fetchall()[0]), flush=True)
""")


def fresh_reader_state(warehouse):
    """What a new analyst process sees."""
    completed = subprocess.run(
        [sys.executable, "-c", ANALYST, str(warehouse)], input="\n", capture_output=True, text=True, check=True
    )
    return completed.stdout.splitlines()[0]


def write_transcripts(paths):
    """Session S1 of an acme user's Claude Code transcripts now; returns what arrives the next night: S2
    resumes S1 and replays its request msg_A with a bigger final count (so the request moves from S1 to S2),
    and an OTel export repeats S2's new request and adds session S9 that only OTel saw."""
    with open(paths.directory / "users.csv", encoding="utf-8") as handle:
        email = next(
            row["email"] for row in csv.DictReader(handle) if row.get("org_id", "acme") == "acme" and row["email"]
        )
    project = paths.raw_dir / "claude_code" / email / "projects" / "-home-zoe-src-api"
    write(
        project / "S1.jsonl",
        [
            assistant("S1", "2026-11-15T08:00:05.000Z", "msg_A", "req_A", SONNET, 100, 10),
            assistant("S1", "2026-11-15T08:00:06.000Z", "msg_A", "req_A", SONNET, 100, 300),
            assistant("S1", "2026-11-15T08:20:00.000Z", "msg_C", "req_C", SONNET, 2_000, 100),
        ],
    )

    def next_night():
        write(
            project / "S2.jsonl",
            [
                assistant("S2", "2026-11-15T08:00:06.000Z", "msg_A", "req_A", SONNET, 100, 400),
                assistant("S2", "2026-11-19T09:00:00.000Z", "msg_F", "req_F", SONNET, 1_000, 500),
            ],
        )
        common = {
            "user.email": email,
            "session.id": "S2",
            "model": SONNET,
            "cache_read_tokens": 0,
            "cache_creation_tokens": 0,
            "duration_ms": 1_000,
        }
        write(
            paths.raw_dir / "otel" / "2026-11-19" / "logs.jsonl",
            [
                otel_line(
                    [
                        (
                            "api_request",
                            "2026-11-19T09:00:00+00:00",
                            {
                                **common,
                                "input_tokens": 1_000,
                                "output_tokens": 500,
                                "cost_usd": 0.0105,
                                "request_id": "req_F",
                            },
                        ),
                        (
                            "api_request",
                            "2026-11-19T12:00:00+00:00",
                            {
                                **common,
                                "session.id": "S9",
                                "input_tokens": 100,
                                "output_tokens": 100,
                                "cost_usd": 0.0018,
                                "request_id": "req_O",
                            },
                        ),
                    ]
                )
            ],
        )

    return next_night


TRANSCRIPT_SESSIONS = {"S1", "S2", "S9"}


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    root = tmp_path_factory.mktemp("nightly")
    paths = sample_paths(root)
    generate_sample(
        paths.raw_dir, paths.directory, users=10, days=10, seed=11, end_date=SAMPLE_END, sources=("platform",)
    )  # the transcripts and OTel lines are written below, by hand
    dates = platform.delivery_dates(paths.raw_dir)
    new_day = dates[-1]
    held_back = root / "held_back"
    shutil.move(paths.raw_dir / "platform" / new_day, held_back)

    # A late request of a session that started five deliveries ago arrives with the new day.
    old_sessions, old_events = delivery_sessions(paths.raw_dir, dates[-6])
    old_start = next(e for e in old_events if e.get("event_type") == "session_started" and e.get("org_id") == "acme")
    late_at = dt.datetime.fromisoformat(old_start["timestamp"].replace("Z", "+00:00")) + dt.timedelta(minutes=3)
    late_request = {
        "schema_version": 1,
        "event_id": LATE_EVENT_ID,
        "event_type": "model_request",
        "org_id": "acme",
        "session_id": old_start["session_id"],
        "timestamp": late_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request_id": LATE_EVENT_ID,
        "model": "claude-sonnet-4-5-20250929",
        "usage": {
            "input_tokens": 1000,
            "output_tokens": 1000,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    (held_back / "late.jsonl").write_text(json.dumps(late_request) + "\n", encoding="utf-8")

    transcripts = write_transcripts(paths)

    first = run_refresh(paths, log_level="WARNING")
    assert first["success"], first
    before = analytics_tables(paths.warehouse)

    # An analyst opens the published warehouse and keeps the connection open during the nightly refresh.
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(paths.warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    analyst_before = analyst.stdout.readline().strip()
    shutil.move(held_back, paths.raw_dir / "platform" / new_day)
    transcripts()  # the same night, a resumed transcript session and an OTel export arrive
    started = time.perf_counter()
    second = run_refresh(paths, log_level="WARNING")
    nightly_seconds = time.perf_counter() - started
    analyst_after, _ = analyst.communicate("\n", timeout=60)

    # Publishing moved the working file over the published one: the run's intermediate tables are there.
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        affected_sessions = {
            r[0] for r in conn.execute("select session_id from intermediate.int_sessions_affected").fetchall()
        }
        affected_days = conn.execute("select org_id, activity_date from intermediate.int_days_affected").fetchall()
        delta_sessions = conn.execute("select count(*) from intermediate.int_sessions_assembled").fetchall()[0][0]

    # The same raw data, rebuilt from scratch in another folder.
    full_root = tmp_path_factory.mktemp("full")
    full_paths = sample_paths(full_root)
    shutil.copytree(paths.raw_dir, full_paths.raw_dir)
    shutil.copytree(paths.directory, full_paths.directory)
    full = run_refresh(full_paths, full=True, log_level="WARNING")
    assert full["success"], full
    return {
        "paths": paths,
        "new_day": new_day,
        "old_start": old_start,
        "first": first,
        "second": second,
        "before": before,
        "after": analytics_tables(paths.warehouse),
        "full": analytics_tables(full_paths.warehouse),
        "analyst": (analyst_before, analyst_after.strip()),
        "affected_sessions": affected_sessions,
        "affected_days": affected_days,
        "delta_sessions": delta_sessions,
        "nightly_seconds": nightly_seconds,
    }


def test_nightly_run_reads_only_the_new_delivery(nightly):
    assert nightly["second"]["success"], nightly["second"]
    assert len(nightly["first"]["deliveries_loaded"]) >= 9
    assert nightly["second"]["deliveries_loaded"] == [nightly["new_day"]]


def test_nightly_run_rebuilds_only_the_sessions_and_days_it_touches(nightly):
    paths = nightly["paths"]
    in_new_delivery, events = delivery_sessions(paths.raw_dir, nightly["new_day"])
    affected = nightly["affected_sessions"]
    # Platform sessions have no cross-session copies: the affected sessions are those of the new delivery
    # (less any whose only lines there were quarantined).
    assert nightly["old_start"]["session_id"] in affected
    # S1 is rebuilt although none of its files changed: its request msg_A now counts in S2.
    assert TRANSCRIPT_SESSIONS <= affected
    affected = affected - TRANSCRIPT_SESSIONS
    assert affected <= in_new_delivery
    assert len(affected) >= len(in_new_delivery) - 3
    all_sessions = sum(1 for _ in nightly["after"]["fct_sessions"])
    assert nightly["delta_sessions"] <= len(nightly["affected_sessions"]) < all_sessions / 3

    # Days: the late request's old day, and otherwise only days of the new delivery's events (local dates,
    # so a day either side of the UTC date).
    old_day = dt.date.fromisoformat(nightly["old_start"]["timestamp"][:10])
    affected_days = {day for org, day in nightly["affected_days"]}
    assert any(abs((day - old_day).days) <= 1 for day in affected_days)
    event_days = {
        dt.date.fromisoformat(e["timestamp"][:10]) + dt.timedelta(days=shift)
        for e in events
        if isinstance(e.get("timestamp"), str)
        for shift in (-1, 0, 1)
    }
    assert affected_days <= event_days
    all_days = {row[2] for row in nightly["after"]["mart_daily_activity"]}
    assert affected_days < all_days


def test_nightly_run_gives_the_same_warehouse_as_a_full_rebuild(nightly):
    after, full = nightly["after"], nightly["full"]
    assert set(after) == set(full)
    for table in after:
        assert after[table] == full[table], table
    # ... and the nightly run did change things: the late request is in the facts, on its old session.
    requests = [row for row in after["fct_model_requests"] if LATE_EVENT_ID in row]
    assert len(requests) == 1
    transcript_requests = {row[4]: row for row in after["fct_model_requests"] if row[2] == "claude_code"}
    assert set(transcript_requests) == {"msg_A:req_A", "msg_C:req_C", "msg_F:req_F"}
    assert "S2" in transcript_requests["msg_A:req_A"]  # moved from S1 to S2 by the bigger replay
    assert after["fct_sessions"] != nightly["before"]["fct_sessions"]


def test_analyst_connection_open_during_refresh_keeps_the_old_state(nightly):
    before, during = nightly["analyst"]
    assert before == during  # the open connection still reads the state published before the refresh
    now = fresh_reader_state(nightly["paths"].warehouse)
    assert now != before  # a new connection sees the new state
    sessions = len(nightly["after"]["fct_sessions"])
    assert json.loads(now)[0] == sessions


def test_backfill_command_reloads_a_date_range_and_keeps_the_marts(nightly, capsys):
    from orchestration.cli import main

    paths = nightly["paths"]
    old_day = platform.delivery_dates(paths.raw_dir)[-4]
    for file in (paths.raw_dir / "platform" / old_day).rglob("*.jsonl*"):
        os.utime(file, None)  # re-delivered unchanged: the backfill reads it again
    code = main(
        [
            "backfill",
            "--from",
            old_day,
            "--to",
            old_day,
            "--raw-dir",
            str(paths.raw_dir),
            "--directory",
            str(paths.directory),
            "--warehouse",
            str(paths.warehouse),
            "--lake-dir",
            str(paths.lake_dir),
        ]
    )
    outcome = json.loads(capsys.readouterr().out)  # stdout is the run summary alone; dbt's log lines go to stderr
    assert code == 0 and outcome["success"], outcome
    assert outcome["deliveries"] == f"{old_day}..{old_day}" and outcome["deliveries_loaded"] == [old_day]
    assert analytics_tables(paths.warehouse) == nightly["after"]


def test_failed_run_publishes_nothing_and_emails_the_admins(nightly, tmp_path):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    from orchestration.definitions import defs

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    paths = nightly["paths"]
    published_before = fresh_reader_state(paths.warehouse)
    # Another process holds the working warehouse open for writing: the loaders cannot write, the run fails.
    blocker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('open', flush=True); sys.stdin.readline()",
            str(paths.working_warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert blocker.stdout.readline().strip() == "open"
    for file in (paths.raw_dir / "platform" / nightly["new_day"]).rglob("*.jsonl*"):
        os.utime(file, None)  # a changed delivery, so the run has something to write
    instance = dg.DagsterInstance.ephemeral()
    try:
        failed = run_refresh(paths, instance=instance, log_level="CRITICAL")
    finally:
        blocker.communicate("\n", timeout=30)
    assert not failed["success"]
    assert fresh_reader_state(paths.warehouse) == published_before

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        environment = {
            "SESSION_ANALYTICS_SMTP_HOST": "127.0.0.1",
            "SESSION_ANALYTICS_SMTP_PORT": str(port),
            "SESSION_ANALYTICS_SMTP_SECURITY": "none",
            "SESSION_ANALYTICS_SMTP_FROM": "pipeline@acme.example",
        }
        saved = {key: os.environ.get(key) for key in environment}
        os.environ.update(environment)
        run = instance.get_run_by_id(failed["run_id"])
        failure = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0].dagster_event
        sensor = defs.resolve_sensor_def("refresh_failure_email")
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name, dagster_instance=instance, dagster_run=run, dagster_event=failure
        ).for_run_failure()
        sensor(context)
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
        controller.stop()

    with open(paths.directory / "users.csv", encoding="utf-8") as handle:
        admins = sorted(
            row["email"].lower() for row in csv.DictReader(handle) if row["role"] == "admin" and row["email"]
        )
    assert admins
    assert sorted(message["To"] for message in received) == admins  # one message each, nobody else
    for message in received:
        assert message["From"] == "pipeline@acme.example"
        assert message["Subject"].startswith("[session-analytics] refresh run failed")
        assert failed["run_id"] in message.get_payload()


def test_publishing_moves_the_working_file_and_the_next_run_writes_a_copy(tmp_path):
    """Publishing renames the working file over the published one instead of copying the whole warehouse;
    the next writer starts from a copy, so the file a reader has open is never written in place."""
    from orchestration.publish import publish_warehouse, working_warehouse_ready

    paths = Paths.resolve(warehouse=str(tmp_path / "warehouse.duckdb"))
    with duckdb.connect(str(working_warehouse_ready(paths))) as first_build:
        first_build.execute("create table t as select 1 as v")
    publish_warehouse(paths)
    assert not paths.working_warehouse.exists()
    first_published = paths.warehouse.stat().st_ino

    with duckdb.connect(str(paths.warehouse), read_only=True) as analyst:
        with duckdb.connect(str(working_warehouse_ready(paths))) as nightly:
            assert nightly.execute("select sum(v) from t").fetchall() == [(1,)]  # the published state
            nightly.execute("insert into t values (2)")
        assert analyst.execute("select sum(v) from t").fetchall() == [(1,)]
        publish_warehouse(paths)
        assert analyst.execute("select sum(v) from t").fetchall() == [(1,)]

    assert paths.warehouse.stat().st_ino != first_published
    with duckdb.connect(str(paths.warehouse), read_only=True) as next_reader:
        assert next_reader.execute("select sum(v) from t").fetchall() == [(3,)]
    assert publish_warehouse(paths) == paths.warehouse  # nothing written since: already published
