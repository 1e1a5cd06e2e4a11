"""Claude Code transcripts and OpenTelemetry exports through the real loaders and a real dbt build.

The fixture is written in the real formats (compact JSON, one content block per line). Org acme is in
Europe/Berlin; every figure below is worked by hand from the price table (USD per million tokens).

Zoë's session S1 on 2026-11-20:
  msg_A/req_A sonnet: three lines (a streamed partial with 10 output tokens, then two content blocks with the
    final 300) plus a bigger sidechain copy (999) in a subagent file and a replay in resumed session S2:
    counted once, from the main copy, as 100 in + 300 out = (300 + 4,500) / 1e6 = $0.0048
  msg_B (no requestId) haiku 50 in + 20 out = (50 + 100) / 1e6 = $0.00015
  a <synthetic> stub (not a request) and a summary line (no timestamp)
  msg_C sonnet 150,000 in + 60,000 cache read + 1,000 out > 200K input: all at long-context rates
    (900,000 + 36,000 + 22,500) / 1e6 = $0.9585
  msg_D opus 4.5: 10 in, 100 out, cache writes 500 (5m) + 1,500 (1h):
    (50 + 2,500 + 3,125 + 15,000) / 1e6 = $0.020675
  msg_E haiku in a subagent file (sidechain only): 5 + 5 -> (5 + 25) / 1e6 = $0.00003
  a truncated last line: quarantined with file and line
S2 (resumed, 2026-11-21): replays msg_A, then msg_F sonnet 1,000 in + 500 out = $0.0105
S3 (1.x, inline sidechain, 2026-11-21): msg_G sonnet 10 + 10 = $0.00018; sidechain msg_H haiku 1 + 1 = $0.000006
S4 (freelancer@outside.example, not in the directory, 2026-11-22): msg_I sonnet 10 + 10 = $0.00018
OTel (2026-11-21): req_F again (counted once, from the transcript) and req_O of session S9 that only OTel saw:
  sonnet 100 + 100 with reported cost_usd $0.0018; a user_prompt record carrying a prompt; a truncated line.
"""

import datetime as dt
import functools
import os

import duckdb
import pytest

from orchestration.ingest import claude_code, otel
from reports.analytics.query import AnalyticsQueries, Filters, connect_read_only
from tests.fixtures.claude_code_lines import HAIKU, OPUS, SONNET, assistant, compact, otel_line, user, write
from tests.fixtures.platform_events import registered
from tests.fixtures.warehouse import assert_no_content_stored, build_warehouse, test_paths, write_directory

approx = functools.partial(pytest.approx, abs=1e-6)
ZOE = "zoe@acme.example"
SECRETS = ("SECRET-PROMPT-1", "SECRET-RESPONSE-A", "SECRET-CODE-D", "SECRET-SUMMARY", "SECRET-PROMPT-OTEL")


def write_fixture(raw):
    project = raw / "claude_code" / ZOE / "projects" / "-home-zoe-src-api"
    write(
        project / "S1.jsonl",
        [
            user("S1", "2026-11-20T08:00:00.000Z", "SECRET-PROMPT-1"),
            assistant("S1", "2026-11-20T08:00:05.000Z", "msg_A", "req_A", SONNET, 100, 10),
            assistant("S1", "2026-11-20T08:00:06.000Z", "msg_A", "req_A", SONNET, 100, 300),
            assistant(
                "S1",
                "2026-11-20T08:00:06.000Z",
                "msg_A",
                "req_A",
                SONNET,
                100,
                300,
                block={"type": "tool_use", "id": "t1", "name": "Write", "input": {"content": "SECRET-CODE-D"}},
            ),
            assistant("S1", "2026-11-20T08:10:00.000Z", "msg_B", None, HAIKU, 50, 20),
            assistant("S1", "2026-11-20T08:11:00.000Z", "msg_S", "req_S", "<synthetic>", 0, 0, isApiErrorMessage=True),
            compact({"type": "summary", "summary": "SECRET-SUMMARY", "leafUuid": "u-x"}),
            assistant("S1", "2026-11-20T08:20:00.000Z", "msg_C", "req_C", SONNET, 150_000, 1_000, 0, 60_000),
            assistant("S1", "2026-11-20T08:30:00.000Z", "msg_D", "req_D", OPUS, 10, 100, 2_000, 0, split=(500, 1_500)),
            '{"parentUuid":"u-9","isSidechain":false,"type":"assistant","message":{"content":[{"type":"text","text":"SECRET-RESP',
        ],
    )
    write(
        project / "S1" / "subagents" / "agent-x.jsonl",
        [
            assistant("S1", "2026-11-20T08:15:00.000Z", "msg_E", "req_E", HAIKU, 5, 5, sidechain=True, agentId="x"),
            assistant(
                "S1", "2026-11-20T08:00:07.000Z", "msg_A", "req_A", SONNET, 100, 999, sidechain=True, agentId="x"
            ),
        ],
    )
    write(
        project / "S2.jsonl",
        [
            assistant("S2", "2026-11-20T08:00:06.000Z", "msg_A", "req_A", SONNET, 100, 300),
            assistant("S2", "2026-11-21T09:00:00.000Z", "msg_F", "req_F", SONNET, 1_000, 500),
        ],
    )
    write(
        project / "S3.jsonl",
        [
            assistant("S3", "2026-11-21T10:00:00.000Z", "msg_G", "req_G", SONNET, 10, 10, version="1.0.61"),
            assistant(
                "S3", "2026-11-21T10:01:00.000Z", "msg_H", "req_H", HAIKU, 1, 1, sidechain=True, version="1.0.61"
            ),
        ],
    )
    write(
        raw / "claude_code" / "freelancer@outside.example" / "projects" / "-tmp-x" / "S4.jsonl",
        [
            assistant("S4", "2026-11-22T10:00:00.000Z", "msg_I", "req_I", SONNET, 10, 10, cwd="/tmp/x"),
        ],
    )
    common = {"user.email": ZOE, "organization.id": "7d3c9f1e-anthropic-org"}
    write(
        raw / "otel" / "2026-11-21" / "logs-1.jsonl",
        [
            otel_line(
                [
                    (
                        "api_request",
                        "2026-11-21T09:00:00+00:00",
                        {
                            **common,
                            "session.id": "S2",
                            "model": SONNET,
                            "input_tokens": 1_000,
                            "output_tokens": 500,
                            "cache_read_tokens": 0,
                            "cache_creation_tokens": 0,
                            "cost_usd": 0.0105,
                            "duration_ms": 4_000,
                            "request_id": "req_F",
                        },
                    ),
                    (
                        "user_prompt",
                        "2026-11-21T11:59:00+00:00",
                        {**common, "session.id": "S9", "prompt_length": 18, "prompt": "SECRET-PROMPT-OTEL"},
                    ),
                    (
                        "api_request",
                        "2026-11-21T12:00:00+00:00",
                        {
                            **common,
                            "session.id": "S9",
                            "model": SONNET,
                            "input_tokens": 100,
                            "output_tokens": 100,
                            "cache_read_tokens": 0,
                            "cache_creation_tokens": 0,
                            "cost_usd": 0.0018,
                            "duration_ms": 2_000,
                            "request_id": "req_O",
                        },
                    ),
                ]
            ),
            '{"resourceLogs":[{"resource":',
        ],
    )


COSTS = {
    "A": 0.0048,
    "B": 0.00015,
    "C": 0.9585,
    "D": 0.020675,
    "E": 0.00003,
    "F": 0.0105,
    "G": 0.00018,
    "H": 0.000006,
    "I": 0.00018,
    "O": 0.0018,
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    paths = test_paths(tmp_path_factory.mktemp("claude-code"))
    write_directory(
        paths.directory,
        orgs=[("acme", "Acme Robotics", "Europe/Berlin")],
        users=[("acme", "u-zoe", "Zoe@acme.example", "Zoë Åkesson", "Platform", "", "admin")],
        projects=[("acme", "p-api", "API", "single")],
    )
    (paths.directory / "claude_code_projects.csv").write_text(
        "path_prefix,project_id,repository\n/home/zoe/src/api,p-api,acme/api\n"
    )
    write_fixture(paths.raw_dir)
    build_warehouse(paths)
    return paths


@pytest.fixture
def queries(warehouse):
    with connect_read_only(warehouse.warehouse) as conn:
        yield AnalyticsQueries(conn)


def fetch(paths, sql):
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_each_request_is_counted_once_with_the_ccusage_rules(warehouse):
    rows = fetch(
        warehouse,
        "select request_key, source, uncached_input_tokens, output_tokens, cost_usd "
        "from analytics.fct_model_requests order by request_key",
    )
    assert [(key, source, inp, out) for key, source, inp, out, _ in rows] == [
        ("msg_A:req_A", "claude_code", 100, 300),
        ("msg_B:", "claude_code", 50, 20),
        ("msg_C:req_C", "claude_code", 150_000, 1_000),
        ("msg_D:req_D", "claude_code", 10, 100),
        ("msg_E:req_E", "claude_code", 5, 5),
        ("msg_F:req_F", "claude_code", 1_000, 500),
        ("msg_G:req_G", "claude_code", 10, 10),
        ("msg_H:req_H", "claude_code", 1, 1),
        ("msg_I:req_I", "claude_code", 10, 10),
        ("req_O", "otel", 100, 100),
    ]
    assert {
        key.split(":")[0].removeprefix("msg_").removeprefix("req_"): float(cost) for key, _, _, _, cost in rows
    } == approx(COSTS)


def test_org_summary_mixes_transcripts_and_otel(queries):
    summary = queries.summary("acme")
    assert summary["total_cost_usd"] == approx(sum(COSTS.values()))
    assert summary["total_sessions"] == 5  # S1, S2, S3, S4 (freelancer), S9 (OTel only)
    assert summary["unique_users"] == 2
    assert summary["output_tokens"] == 300 + 20 + 1_000 + 100 + 5 + 500 + 10 + 1 + 10 + 100


def test_unknown_email_is_kept_as_an_unknown_user_of_the_default_org(queries):
    by_user = {row["user_id"]: row for row in queries.cost_breakdown("acme")["by_user"]}
    assert by_user["freelancer@outside.example"] == {
        "user_id": "freelancer@outside.example",
        "name": None,
        "cost_usd": approx(COSTS["I"]),
    }
    assert by_user["u-zoe"]["name"] == "Zoë Åkesson"


def test_project_and_repository_come_from_the_working_directory(queries):
    by_project = {row["project_id"]: row["cost_usd"] for row in queries.cost_breakdown("acme")["by_project"]}
    assert set(by_project) == {"p-api", "x", None}  # mapped prefix, last path component, OTel-only session
    assert queries.summary("acme", Filters(repositories=("acme/api",)))["total_sessions"] == 3


def test_per_day_and_model_token_totals(warehouse):
    rows = fetch(
        warehouse,
        "select request_date, model, sum(total_tokens) from analytics.fct_model_requests group by all order by all",
    )
    assert rows == [
        (dt.date(2026, 11, 20), HAIKU, 50 + 20 + 5 + 5),
        (dt.date(2026, 11, 20), OPUS, 10 + 100 + 2_000),
        (dt.date(2026, 11, 20), SONNET, 400 + 211_000),
        (dt.date(2026, 11, 21), HAIKU, 2),
        (dt.date(2026, 11, 21), SONNET, 1_500 + 20 + 200),
        (dt.date(2026, 11, 22), SONNET, 20),
    ]


def test_malformed_lines_are_quarantined_with_file_and_line_but_without_content(warehouse):
    rows = fetch(
        warehouse,
        "select source, source_file, line_number, reason, line from raw.quarantined_lines "
        "where source in ('claude_code', 'otel') order by all",
    )
    assert rows == [
        (
            "claude_code",
            f"claude_code/{ZOE}/projects/-home-zoe-src-api/S1.jsonl",
            10,
            "invalid JSON (line content not kept)",
            None,
        ),
        ("otel", "otel/2026-11-21/logs-1.jsonl", 2, "invalid JSON (line content not kept)", None),
    ]


def test_no_content_from_the_input_reaches_the_warehouse_or_the_lake(warehouse):
    assert_no_content_stored(warehouse, SECRETS)


def test_loading_is_incremental_and_keeps_history_deleted_from_the_source(tmp_path):
    paths = test_paths(tmp_path)
    write_fixture(paths.raw_dir)
    first = claude_code.load_all(paths.raw_dir, paths.lake_dir)
    assert [load.files_read for load in first] == [1, 4]

    again = claude_code.load_all(paths.raw_dir, paths.lake_dir)
    assert [load.files_read for load in again] == [0, 0]

    session_file = paths.raw_dir / "claude_code" / ZOE / "projects" / "-home-zoe-src-api" / "S3.jsonl"
    session_file.unlink()  # Claude Code's 30-day clean-up
    grown = session_file.with_name("S2.jsonl")
    grown.write_text(
        grown.read_text() + assistant("S2", "2026-11-21T09:30:00.000Z", "msg_J", "req_J", SONNET, 1, 1) + "\n"
    )
    os.utime(grown, ns=(grown.stat().st_atime_ns, grown.stat().st_mtime_ns + 1_000_000_000))
    after = claude_code.load_all(paths.raw_dir, paths.lake_dir)
    assert [load.files_read for load in after] == [0, 1]
    with duckdb.connect() as conn:
        from orchestration.ingest import lake

        lake.register_views(conn, paths.lake_dir)
        messages = {row[0] for row in conn.execute("select message_id from raw.claude_code_requests").fetchall()}
    assert {"msg_G", "msg_H", "msg_J"} <= messages  # S3's requests survive the deletion; S2's new line is in


def test_otel_attributes_arrive_as_strings_or_int_values(tmp_path):
    paths = test_paths(tmp_path)
    record = {
        "timeUnixNano": "1763715600000000000",
        "body": {"stringValue": "claude_code.api_request"},
        "attributes": [
            {"key": "session.id", "value": {"stringValue": "S"}},
            {"key": "user.email", "value": {"stringValue": ZOE}},
            {"key": "model", "value": {"stringValue": SONNET}},
            {"key": "input_tokens", "value": {"stringValue": "123"}},
            {"key": "output_tokens", "value": {"intValue": 45}},
            {"key": "cache_read_tokens", "value": {"intValue": "6"}},
            {"key": "cost_usd", "value": {"stringValue": "0.5"}},
        ],
    }
    write(paths.raw_dir / "otel" / "a.jsonl", [compact({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]})])
    otel.load_all(paths.raw_dir, paths.lake_dir)
    with duckdb.connect() as conn:
        from orchestration.ingest import lake

        lake.register_views(conn, paths.lake_dir)
        assert conn.execute(
            "select input_tokens, output_tokens, cache_read_tokens, cost_usd, cast(event_at_utc as varchar) "
            "from raw.otel_events"
        ).fetchall() == [(123, 45, 6, 0.5, "2025-11-21 09:00:00")]


def test_token_totals_per_local_day_and_model_equal_ccusage(warehouse):
    """The peer tool, run for real on the same folder and time zone (installed by `make test`)."""
    from orchestration.bench.ccusage_parity import ccusage_command, ccusage_daily, compare, warehouse_daily

    theirs = ccusage_daily(warehouse.raw_dir, "Europe/Berlin", ccusage_command())
    ours = warehouse_daily(warehouse.warehouse, "Europe/Berlin")
    rows, identical = compare(ours, theirs)
    assert identical, rows
    assert len(theirs) == 6  # the same six (day, model) rows as test_per_day_and_model_token_totals


def progress(session, ts, msg, req, agent_id, usage: str, model=HAIKU):
    """A 2.1.x agent_progress record embedding a subagent response; `usage` is the usage object's JSON text
    (so that a test can give it a duplicate key)."""
    return (
        f'{{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/home/zoe/src/api",'
        f'"sessionId":"{session}","version":"2.1.39","gitBranch":"main","type":"progress","data":{{"message":'
        f'{{"type":"assistant","timestamp":"{ts}","message":{{"model":"{model}","id":"{msg}","type":"message",'
        f'"role":"assistant","content":[{{"type":"text","text":"SECRET-RESPONSE-A"}}],"usage":{usage}}},'
        f'"requestId":"{req}","uuid":"u-{msg}"}},"normalizedMessages":[],"type":"agent_progress",'
        f'"agentId":"{agent_id}"}},"toolUseID":"agent_{msg}","uuid":"p-{msg}","timestamp":"{ts[:-4]}999Z"}}'
    )


def test_a_progress_copy_is_read_and_checked_as_its_embedded_entry(tmp_path):
    """Its timestamp, message, requestId and usage are the embedded entry's (as ccusage reads it), its agent
    the record's data.agentId; it is a sidechain line; the contract checks name the embedded fields' paths."""

    paths = test_paths(tmp_path)
    good = '{"input_tokens":2,"cache_creation_input_tokens":30,"cache_read_input_tokens":400,"output_tokens":5}'
    write(
        paths.raw_dir / "claude_code" / ZOE / "projects" / "-home-zoe-src-api" / "S7.jsonl",
        [
            progress("S7", "2026-11-20T10:00:00.000Z", "msg_P1", "req_P1", "a1b2c3d", good),
            progress(
                "S7",
                "2026-11-20T10:00:01.000Z",
                "msg_P2",
                "req_P2",
                "a1b2c3d",
                '{"input_tokens":2,"output_tokens":5,"output_tokens":900}',
            ),
            progress(
                "S7", "2026-11-20T10:00:02.000Z", "msg_P3", "req_P3", "a1b2c3d", '{"input_tokens":-3,"output_tokens":5}'
            ),
            progress("S7", "2026-11-20T10:00:03.000Z", "msg_P4", "req_P4", "a1b2c3d", '{"input_tokens":2}'),
            progress("S7", "2026-11-20T10:00:04.000Z", "msg_P5", "req_P5", " a1b2c3d", good),
            progress("S7", "2026-11-20T10:00:05.000Z", "msg_P6", "req_P6", "a1b2c3d", good).replace(
                '"timestamp":"2026-11-20T10:00:05.000Z"', '"timestamp":"soon"'
            ),
            compact(
                {
                    "type": "progress",
                    "sessionId": "S7",
                    "timestamp": "2026-11-20T10:00:06.000Z",
                    "data": {"type": "hook_progress", "hookName": "PostToolUse"},
                    "uuid": "h1",
                }
            ),
        ],
    )
    claude_code.load_all(paths.raw_dir, paths.lake_dir)
    assert registered(
        paths.lake_dir,
        """
        select message_id, request_id, model, agent_id, is_sidechain, cast(event_at_utc as varchar), input_tokens,
               output_tokens, cache_creation_input_tokens, cache_read_input_tokens
        from raw.claude_code_requests""",
    ) == [("msg_P1", "req_P1", HAIKU, "a1b2c3d", True, "2026-11-20 10:00:00", 2, 5, 30, 400)]
    assert registered(paths.lake_dir, "select line_number, reason from raw.quarantined_lines order by 1") == [
        (2, "duplicate key data.message.message.usage.output_tokens"),
        (3, "negative token count data.message.message.usage.input_tokens"),
        (4, "missing field data.message.message.usage.output_tokens"),
        (5, "invalid identifier data.agentId: a control, format or separator character, or a space at either end"),
        (6, "unparseable timestamp on a usage line"),
    ]
    assert registered(
        paths.lake_dir, "select lines_read, loaded_lines, ignored_event_lines from raw.load_file_summary"
    ) == [(7, 2, 1)]
