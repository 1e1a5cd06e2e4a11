"""Codex CLI rollout logs (orchestration/ingest/codex.py): the parser on the fixture homes, hostile lines, the
collector's content-free copy, and the real pipeline with a real dbt build, held to ccusage 20.0.24.

The fixture (tests/fixtures/codex, real format, compact JSON as Codex writes it) is two Codex homes. Figures by
hand; "in" is the uncached input (input_tokens - cached_input_tokens), "cached" the cached part.

ana (ana@acme.example):
  A sessions/2026/03/10/rollout-...0a.jsonl, gpt-5.3-codex then /model gpt-5.2, resumed late the same day:
    line 8  R1 09:00:20Z gpt-5.3-codex total=last 12,000 in (8,000 cached) 900 out (400 reasoning)
            -> in 4,000, cached 8,000, out 900, reasoning 400
    line 9  the same cumulative total again (a re-emit): not a request; line 10 info null (rate limits only)
    line 11 an mcp_tool_call_end whose result has a "token_count" key: content, read and ignored
    line 13 R2 09:05Z gpt-5.2 last 18,000 in (12,000 cached) 600 out (100 reasoning) -> in 6,000, cached 12,000
    line 14 truncated: quarantined (invalid JSON)
    line 18 R3 23:10Z gpt-5.2, totals restarted by the resume (5,000 / 200), last = total -> in 5,000, out 200
            (00:10 on 03-11 in Europe/Berlin)
  archived_sessions/2026/03/10/ the same relative path: an earlier copy (A's first 13 lines) -> its R1 and R2
    are copies (same request keys); ccusage skips the file because the active copy wins
  C archived_sessions/2025/09/20/rollout-...0c.jsonl, an early log: no turn_context, totals only
    R4 15:00:30Z total 2,000 (500 cached) 300 (100 reasoning) -> in 1,500, cached 500, out 300, gpt-5 assumed
    the same total again: not a request
    R5 15:02Z total 2,600 (500) 420 (100) -> delta in 600, cached 0, out 120, reasoning 0, gpt-5 assumed
  D sessions/2026/03/10/rollout-...0d.jsonl, a fork of A (forked_from_id): replays R1 (and its re-emit) and R2
    within 15 ms of the fork instant (not counted again), then its own
    R6 10:00:12Z gpt-5.2 last 9,000 (6,000 cached) 300 (50) -> in 3,000, cached 6,000, out 300, reasoning 50
  E sessions/2026/03/11/rollout-...0e.jsonl, a subagent of D (thread_spawn) with D's session_meta copied on
    line 2: replays R6 twice in 1 ms, then its own
    R7 08:00:15Z model gpt-5.3-codex from the token_count's info: last 4,000 (1,000) 250 -> in 3,000, cached 1,000
bo (bo@acme.example):
  F sessions/2026/03/11/rollout-...0f.jsonl
    R8  12:00:30Z gpt-5.3-codex 7,000 (6,000 cached) 100 (60) -> in 1,000, cached 6,000, out 100, reasoning 60
    R9  12:01Z last 100 in with 150 "cached" (more than the input): cached capped at 100 -> in 0, cached 100, out 10
    R10 12:02Z turn model codex-auto-review -> priced as gpt-5.4 (the Codex model of 2026-03-11, ccusage's
        table), assumed: in 500, out 50
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path, PurePosixPath

import duckdb
import pytest

from orchestration.ingest import agent_logs, codex
from tests.fixtures import FIXTURES_DIR
from tests.fixtures.warehouse import assert_no_content_stored, build_warehouse, test_paths, write_directory

FIXTURES = FIXTURES_DIR / "codex"
ANA, BO = "ana@acme.example", "bo@acme.example"
A = "0199a1b2-0000-7000-8000-00000000000a"
C = "0199a1b2-0000-7000-8000-00000000000c"
D = "0199a1b2-0000-7000-8000-00000000000d"
E = "0199a1b2-0000-7000-8000-00000000000e"
F = "0199b0b0-0000-7000-8000-00000000000f"
FILE_A = f"sessions/2026/03/10/rollout-2026-03-10T09-00-00-{A}.jsonl"
ARCHIVED_A = f"archived_sessions/2026/03/10/rollout-2026-03-10T09-00-00-{A}.jsonl"
FILE_C = f"archived_sessions/2025/09/20/rollout-2025-09-20T15-00-00-{C}.jsonl"
FILE_D = f"sessions/2026/03/10/rollout-2026-03-10T10-00-00-{D}.jsonl"
FILE_E = f"sessions/2026/03/11/rollout-2026-03-11T08-00-00-{E}.jsonl"
FILE_F = f"sessions/2026/03/11/rollout-2026-03-11T12-00-00-{F}.jsonl"
SECRETS = (
    "SECRET-PROMPT-codex-1",
    "SECRET-PROMPT-codex-3",
    "SECRET-PROMPT-codex-5",
    "SECRET-PROMPT-codex-6",
    "SECRET-PROMPT-codex-7",
    "SECRET-RESPONSE-codex-1",
    "SECRET-RESPONSE-codex-2",
    "SECRET-REASONING-codex",
    "SECRET-TOOL-codex",
    "SECRET-INSTRUCTIONS-codex",
    "SECRET-TOKEN-codex",
)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# (file, line, session, time, model, assumed, in, cached, out, reasoning), worked by hand above
REQUESTS = {
    "R1": (FILE_A, 8, A, at("2026-03-10 09:00:20"), "gpt-5.3-codex", False, 4_000, 8_000, 900, 400),
    "R2": (FILE_A, 13, A, at("2026-03-10 09:05:00"), "gpt-5.2", False, 6_000, 12_000, 600, 100),
    "R3": (FILE_A, 18, A, at("2026-03-10 23:10:00"), "gpt-5.2", False, 5_000, 0, 200, 0),
    "R4": (FILE_C, 4, C, at("2025-09-20 15:00:30"), "gpt-5", True, 1_500, 500, 300, 100),
    "R5": (FILE_C, 9, C, at("2025-09-20 15:02:00"), "gpt-5", True, 600, 0, 120, 0),
    "R6": (FILE_D, 11, D, at("2026-03-10 10:00:12"), "gpt-5.2", False, 3_000, 6_000, 300, 50),
    "R7": (FILE_E, 9, E, at("2026-03-11 08:00:15"), "gpt-5.3-codex", False, 3_000, 1_000, 250, 0),
    "R8": (FILE_F, 5, F, at("2026-03-11 12:00:30"), "gpt-5.3-codex", False, 1_000, 6_000, 100, 60),
    "R9": (FILE_F, 6, F, at("2026-03-11 12:01:00"), "gpt-5.3-codex", False, 0, 100, 10, 0),
    "R10": (FILE_F, 8, F, at("2026-03-11 12:02:00"), "gpt-5.4", True, 500, 0, 50, 0),
}


def framework_lines(text: str) -> agent_logs.Lines:
    """The lines as the framework hands them over: blank ones left out; a valid JSON line without a marker
    without its text."""
    lines = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            json.loads(line)
            valid = True
        except ValueError:
            valid = False
        lines.append((number, line if not valid or any(m in line for m in codex.LINE_MARKERS) else None))
    return lines


def parse(home: str, relative: str, text: str | None = None) -> agent_logs.ParsedFile:
    path = FIXTURES / home / relative
    return codex.parse_file(f"codex/{home}/{relative}", framework_lines(path.read_text() if text is None else text))


def figures(request: agent_logs.Request) -> tuple:
    return (
        request.line_number,
        request.session_id,
        request.event_at_utc,
        request.model,
        request.is_fallback_model,
        request.input_tokens,
        request.cache_read_input_tokens,
        request.output_tokens,
        request.reasoning_output_tokens,
    )


def expected(*names: str) -> list[tuple]:
    return [REQUESTS[name][1:] for name in names]


# -- the parser -------------------------------------------------------------------------------------------------


def test_cumulative_counters_re_emits_a_resume_and_a_model_switch():
    parsed = parse("ana", FILE_A)
    assert [figures(r) for r in parsed.requests] == expected("R1", "R2", "R3")
    assert all(r.cache_creation_input_tokens == 0 and r.client_version == "0.98.0" for r in parsed.requests)
    assert parsed.quarantined == [(14, "invalid JSON")]
    [session] = parsed.sessions
    assert session == agent_logs.Session(
        line_number=1,
        session_id=A,
        first_at_utc=at("2026-03-10 09:00:00"),
        last_at_utc=at("2026-03-10 23:10:00"),
        cwd="/home/ana/src/payments",
        git_branch="main",
        repository="acme/payments",
        client_version="0.98.0",
    )


def test_an_archived_copy_of_the_same_session_has_the_same_request_keys():
    active, archived = parse("ana", FILE_A), parse("ana", ARCHIVED_A)
    assert [figures(r)[1:] for r in archived.requests] == [row[1:] for row in expected("R1", "R2")]
    assert [r.request_key for r in archived.requests] == [r.request_key for r in active.requests[:2]]
    assert len({r.request_key for r in active.requests}) == 3


def test_an_early_log_without_turn_context_assumes_gpt_5_and_counts_deltas_of_totals():
    parsed = parse("ana", FILE_C)
    assert [figures(r) for r in parsed.requests] == expected("R4", "R5")
    assert parsed.sessions[0].repository == "acme/legacy" and parsed.sessions[0].git_branch == "fix/login"


def test_a_fork_and_a_subagent_do_not_count_the_history_they_replay():
    fork, subagent = parse("ana", FILE_D), parse("ana", FILE_E)
    assert [figures(r) for r in fork.requests] == expected("R6")
    assert [figures(r) for r in subagent.requests] == expected("R7")
    # The subagent file names its own session (line 1), not the parent's copied session_meta (line 2).
    assert [(s.line_number, s.session_id) for s in subagent.sessions] == [(1, E)]


def test_cached_input_is_capped_and_the_auto_review_model_is_priced_by_date():
    parsed = parse("bo", FILE_F)
    assert [figures(r) for r in parsed.requests] == expected("R8", "R9", "R10")
    assert parsed.sessions[0].repository == "acme/payments" and parsed.sessions[0].cwd == "/Users/bo/work/payments"


def test_identical_requests_in_distinct_sessions_are_distinct_only_by_time_model_or_counts():
    key = codex.request_key
    usage = (100, 10, 0, 20, 0, 120)
    assert key(at("2026-03-10 09:00:00.123456"), "gpt-5.2", usage) == key(
        at("2026-03-10 09:00:00.123"), "gpt-5.2", usage
    )
    assert (
        len(
            {
                key(at("2026-03-10 09:00:00.123"), "gpt-5.2", usage),
                key(at("2026-03-10 09:00:00.124"), "gpt-5.2", usage),
                key(at("2026-03-10 09:00:00.123"), "gpt-5.1", usage),
                key(at("2026-03-10 09:00:00.123"), "gpt-5.2", (100, 10, 0, 21, 0, 121)),
            }
        )
        == 4
    )


def test_wanted_files_are_rollouts_under_sessions_or_archived_sessions():
    wanted = codex.FORMAT.wanted
    assert wanted(PurePosixPath(FILE_A)) and wanted(PurePosixPath(ARCHIVED_A))
    assert not wanted(PurePosixPath("history.jsonl"))  # the prompt history: content, never read
    assert not wanted(PurePosixPath("log/codex-tui.log"))
    assert not wanted(PurePosixPath("sessions/2026/03/10/notes.json"))


def hostile_text() -> str:
    good = {
        "timestamp": "2026-03-12T10:00:00.000Z",
        "type": "event_msg",
        "payload": {
            "type": "token_count",
            "info": {
                "last_token_usage": {
                    "input_tokens": 100,
                    "cached_input_tokens": 40,
                    "output_tokens": 10,
                    "reasoning_output_tokens": 0,
                    "total_tokens": 110,
                }
            },
        },
    }

    def token_line(ts="2026-03-12T10:01:00.000Z", **usage):
        base = {"input_tokens": 100, "cached_input_tokens": 0, "output_tokens": 10}
        return json.dumps(
            {
                "timestamp": ts,
                "type": "event_msg",
                "payload": {"type": "token_count", "info": {"last_token_usage": {**base, **usage}}},
            },
            separators=(",", ":"),
        )

    lines = [
        json.dumps(
            {
                "timestamp": "2026-03-12T09:59:00.000Z",
                "type": "session_meta",
                "payload": {
                    "id": "0199c0c0-0000-7000-8000-000000000001",
                    "cwd": 42,
                    "cli_version": "0.98.0",
                    "instructions": "SECRET-INSTRUCTIONS-codex",
                    "git": {"branch": "main", "repository_url": "https://x:SECRET-TOKEN-codex@github.com/acme/x.git"},
                },
            }
        ),  # 1
        json.dumps(
            {
                "timestamp": "2026-03-12T09:59:01.000Z",
                "type": "turn_context",
                "payload": {"model": {"name": "SECRET-PROMPT-codex-1"}},
            }
        ),  # 2
        json.dumps(good, separators=(",", ":")),  # 3: kept beside the bad ones, model gpt-5 assumed
        token_line(ts=None),  # 4
        token_line(ts="yesterday SECRET-PROMPT-codex-1"),  # 5
        token_line(input_tokens="100"),  # 6
        token_line(output_tokens=-5),  # 7
        token_line(output_tokens=1.5),  # 8
        token_line(input_tokens=2_000_000_000),  # 9: the framework's value contract
        json.dumps(
            {
                "timestamp": "2026-03-12T10:02:00.000Z",
                "type": "event_msg",
                "payload": {"type": "token_count", "info": "SECRET-TOOL-codex"},
            }
        ),  # 10
        '["token_count", "SECRET-TOOL-codex"]',  # 11
        '{"timestamp":"2026-03-12T10:03:00.000Z","type":"event_msg",'  # 12
        '"payload":{"type":"token_count","info":{"last_token_usage":{"input_tokens":5,',
        "",  # 13 blank
        '{"type":"response_item","payload":{"type":"message",'  # 14
        '"content":[{"type":"input_text","text":"SECRET-PROMPT-codex-1"}]}}',
        token_line(ts="2026-03-12T10:05:00.000Z", reasoning_output_tokens=50),  # 15: reasoning above output
        json.dumps(
            {"timestamp": "2026-03-12T10:06:00.000Z", "type": "session_meta", "payload": "SECRET-PROMPT-codex-1"}
        ),  # 16: a second one, not read
    ]
    return "\n".join(line if line is not None else "" for line in lines) + "\n"


def test_hostile_lines_are_quarantined_with_their_line_and_a_reason_without_content():
    parsed = codex.parse_file("codex/x@acme.example/sessions/h.jsonl", framework_lines(hostile_text()))
    checked = agent_logs.check(parsed)
    assert [
        (r.line_number, r.model, r.is_fallback_model, r.input_tokens, r.cache_read_input_tokens)
        for r in checked.requests
    ] == [(3, "gpt-5", True, 60, 40)]
    assert sorted(checked.quarantined) == [
        (1, "session_meta: cwd is not a string"),
        (2, "turn_context: model is not a string"),
        (4, "token_count: timestamp is missing or not an ISO 8601 time"),
        (5, "token_count: timestamp is missing or not an ISO 8601 time"),
        (6, "token_count: info.last_token_usage.input_tokens is not a non-negative integer"),
        (7, "token_count: info.last_token_usage.output_tokens is not a non-negative integer"),
        (8, "token_count: info.last_token_usage.output_tokens is not a non-negative integer"),
        (9, "input_tokens is not a token count between 0 and 1,000,000,000"),
        (10, "token_count: info is not an object"),
        (11, "not a JSON object"),
        (12, "invalid JSON"),
        (15, "reasoning_output_tokens is more than output_tokens"),
    ]
    assert not any("SECRET" in reason for _, reason in checked.quarantined)
    [session] = checked.sessions
    assert (session.cwd, session.repository) == (None, "acme/x")


def test_a_file_without_session_meta_takes_its_session_from_the_file_name():
    text = "\n".join(line for line in (FIXTURES / "ana" / FILE_A).read_text().split("\n")[1:])
    parsed = codex.parse_file(f"codex/ana/{FILE_A}", framework_lines(text))
    assert {r.session_id for r in parsed.requests} == {A}
    assert [(s.line_number, s.cwd) for s in parsed.sessions] == [(0, None)]


# -- the collector's copy ---------------------------------------------------------------------------------------

FIXTURE_FILES = [
    ("ana", FILE_A),
    ("ana", ARCHIVED_A),
    ("ana", FILE_C),
    ("ana", FILE_D),
    ("ana", FILE_E),
    ("bo", FILE_F),
]


@pytest.mark.parametrize("home,relative", FIXTURE_FILES)
def test_the_stripped_copy_parses_to_the_same_records_and_holds_no_content(tmp_path, home, relative):
    original = FIXTURES / home / relative
    stripped = codex.strip_file(original)
    assert stripped is not None
    for secret in SECRETS:
        assert secret.encode() not in stripped
    assert b"ana:" not in stripped  # the remote's user and token
    assert parse(home, relative, stripped.decode()) == parse(home, relative)
    assert stripped.count(b"\n") == original.read_bytes().count(b"\n")  # the same line numbers


def test_the_stripped_copy_of_hostile_lines_keeps_every_quarantine_row(tmp_path):
    path = tmp_path / "rollout.jsonl"
    path.write_text(hostile_text())
    stripped = codex.strip_file(path).decode()
    assert "SECRET" not in stripped
    name = "codex/x@acme.example/sessions/h.jsonl"
    assert agent_logs.check(codex.parse_file(name, framework_lines(stripped))) == agent_logs.check(
        codex.parse_file(name, framework_lines(hostile_text()))
    )


def test_an_empty_file_has_nothing_to_send(tmp_path):
    path = tmp_path / "rollout.jsonl"
    path.write_text("\n\n")
    assert codex.strip_file(path) is None


# -- the real pipeline ------------------------------------------------------------------------------------------


def copy_homes(raw_dir: Path) -> None:
    for home, email in (("ana", ANA), ("bo", BO)):
        shutil.copytree(FIXTURES / home, raw_dir / "codex" / email)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    paths = test_paths(tmp_path_factory.mktemp("codex"))
    write_directory(
        paths.directory,
        orgs=[("acme", "Acme Robotics", "Europe/Berlin")],
        users=[
            ("acme", "u-ana", ANA, "Ana", "Payments", "", "member"),
            ("acme", "u-bo", BO, "Bo", "Payments", "", "member"),
        ],
        projects=[("acme", "payments", "Payments", "single")],
    )
    copy_homes(paths.raw_dir)
    build_warehouse(paths)
    return paths


def fetch(paths, sql, params=()):
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return conn.execute(sql, params).fetchall()


def test_each_request_is_counted_once_across_files_and_homes(warehouse):
    rows = fetch(
        warehouse,
        "select session_id, requested_at_utc, model, uncached_input_tokens, "
        "cache_read_input_tokens, cache_creation_input_tokens, output_tokens "
        "from analytics.fct_model_requests where source = 'codex' order by requested_at_utc",
    )
    want = sorted((r[2], r[3], r[4], r[6], r[7], 0, r[8]) for r in REQUESTS.values())
    assert sorted(rows, key=lambda row: row[1]) == sorted(want, key=lambda row: row[1])


def test_sessions_are_codex_cli_sessions_with_project_and_repository(warehouse):
    rows = fetch(
        warehouse,
        "select session_id, agent, repository from analytics.fct_sessions where source = 'codex' order by session_id",
    )
    assert rows == [
        (A, "codex-cli", "acme/payments"),
        (C, "codex-cli", "acme/legacy"),
        (D, "codex-cli", "acme/payments"),
        (E, "codex-cli", "acme/payments"),
        (F, "codex-cli", "acme/payments"),
    ]


def test_malformed_lines_are_quarantined_with_file_and_line_without_content(warehouse):
    rows = fetch(
        warehouse,
        "select source_file, line_number, reason, line from raw.quarantined_lines where source = 'codex' order by all",
    )
    assert [(file, line, reason.startswith("invalid JSON"), text) for file, line, reason, text in rows] == [
        (f"codex/{ANA}/{FILE_A}", 14, True, None)
    ]


def test_no_content_of_the_rollouts_reaches_the_warehouse_or_the_lake(warehouse):
    assert_no_content_stored(warehouse, SECRETS)


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin"])
def test_token_totals_per_local_day_and_model_equal_ccusage(warehouse, timezone):
    """ccusage 20.0.24 itself (installed by `make`), CODEX_HOME at the collected homes."""
    from orchestration.bench.ccusage_parity import agent_ccusage_daily, agent_warehouse_daily, ccusage_command, compare

    theirs = agent_ccusage_daily("codex", warehouse.raw_dir, timezone, ccusage_command())
    ours = agent_warehouse_daily("codex", warehouse.warehouse, timezone)
    rows, identical = compare(ours, theirs, tuple(codex.CCUSAGE.kinds))
    assert identical, rows
    days = {
        "UTC": {"2025-09-20", "2026-03-10", "2026-03-11"},
        "Europe/Berlin": {"2025-09-20", "2026-03-10", "2026-03-11"},
    }
    assert {day for day, _ in theirs} == days[timezone]
    berlin_0311_gpt52 = theirs.get(("2026-03-11", "gpt-5.2"))
    assert (berlin_0311_gpt52 is not None) == (timezone == "Europe/Berlin")  # R3 at 00:10 local on 03-11
    if timezone == "UTC":  # the hand figures, per (day, model)
        assert theirs[("2026-03-10", "gpt-5.2")] == {
            "inputTokens": 14_000,
            "cacheReadTokens": 18_000,
            "cacheCreationTokens": 0,
            "outputTokens": 1_100,
            "reasoningOutputTokens": 150,
        }
        assert theirs[("2025-09-20", "gpt-5")]["inputTokens"] == 2_100
        assert theirs[("2026-03-11", "gpt-5.3-codex")]["inputTokens"] == 3_000 + 1_000 + 0


def test_the_loader_quarantines_hostile_lines_with_file_and_line_and_is_incremental(tmp_path):
    paths = test_paths(tmp_path)
    folder = paths.raw_dir / "codex" / "x@acme.example" / "sessions" / "2026" / "03" / "12"
    folder.mkdir(parents=True)
    (folder / "rollout-h.jsonl").write_text(hostile_text())
    (folder / "notes.md").write_text("SECRET-PROMPT-codex-1")  # not a rollout: never read
    [first] = agent_logs.load_all(codex.FORMAT, paths.raw_dir, paths.lake_dir)
    assert (first.files_read, first.lines_read, first.blank_lines, first.quarantined_lines) == (1, 16, 1, 12)
    [again] = agent_logs.load_all(codex.FORMAT, paths.raw_dir, paths.lake_dir)
    assert again.files_read == 0
    with duckdb.connect() as conn:
        from orchestration.ingest import lake

        lake.register_views(conn, paths.lake_dir)
        rows = conn.execute(
            "select source_file, line_number, line from raw.quarantined_lines "
            "where source = 'codex' order by line_number"
        ).fetchall()
        requests = conn.execute("select line_number, input_tokens from raw.codex_requests").fetchall()
    name = "codex/x@acme.example/sessions/2026/03/12/rollout-h.jsonl"
    assert [(file, line, text) for file, line, text in rows] == [
        (name, line, None) for line in (1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15)
    ]
    assert requests == [(3, 60)]
    data = b"".join(p.read_bytes() for p in paths.lake_dir.rglob("*.parquet"))
    assert b"SECRET" not in data


def ccusage_report(homes: list[Path], timezone: str = "UTC") -> dict:
    import os
    import subprocess

    from orchestration.bench.ccusage_parity import ccusage_command

    env = {**os.environ, **codex.CCUSAGE.env(homes)}
    completed = subprocess.run(
        [*ccusage_command().split(), "codex", "daily", "--json", "--offline", "--timezone", timezone],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return codex.CCUSAGE.rows(json.loads(completed.stdout))


def test_ccusage_reads_the_stripped_copies_as_the_originals(tmp_path):
    """What the collector sends is read by ccusage to the same figures as the laptop's own files."""
    for home in ("ana", "bo"):
        for path in (FIXTURES / home).rglob("*.jsonl"):
            target = tmp_path / home / path.relative_to(FIXTURES / home)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(codex.strip_file(path))
    originals = ccusage_report([FIXTURES / "ana", FIXTURES / "bo"])
    assert len(originals) == 5  # ana's and bo's gpt-5.3-codex requests of 2026-03-11 in one row
    assert ccusage_report([tmp_path / "ana", tmp_path / "bo"]) == originals


# -- the sample for `make run` ----------------------------------------------------------------------------------


def sample_users():
    from orchestration.sample.agents import SampleUser

    people = [
        ("ana", "Europe/Berlin", 0.9),
        ("bo", "America/New_York", 0.5),
        ("chen", "Asia/Tokyo", 0.7),
        ("dee", "UTC", 0.3),
        ("eli", "Europe/Berlin", 0.6),
    ]
    return [
        SampleUser(
            f"{name}@acme.example",
            zone,
            (f"/home/{name}/src/api", "/workspaces/web"),
            ("acme/api", "acme/web"),
            activity,
        )
        for name, zone, activity in people
    ]


def write_sample(raw_dir: Path, seed: str = "seed:codex") -> int:
    import random

    from orchestration.sample.agents import codex as sample

    dates = [dt.date(2026, 10, 20) + dt.timedelta(days=i) for i in range(30)]
    return sample.write_sample(raw_dir, sample_users(), dates, random.Random(seed))


def test_the_sample_is_deterministic_and_has_the_traps(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert write_sample(first) == write_sample(second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
    texts = {f: (first / f).read_text() for f in files}
    everything = "".join(texts.values())
    assert {f.parts[0] for f in files} == {"codex"} and len({f.parts[1] for f in files}) == 5
    assert any(f.parts[2] == "archived_sessions" for f in files)
    assert any(
        Path("codex", *f.parts[1:2], "sessions", *f.parts[3:]) in texts
        for f in files
        if f.parts[2] == "archived_sessions"
    )  # an earlier copy beside the active one
    assert '"forked_from_id"' in everything and '"info":null' in everything
    assert any('"turn_context"' not in text and '"token_count"' in text for text in texts.values())  # old CLI
    assert "https://" in everything and "SECRET-PROMPT-codex-" in everything


def test_the_sample_reads_as_ccusage_reads_it(tmp_path):
    """Every sample request through the parser (one per request key, across files and people) per UTC day and
    model equals ccusage on the same homes; the count is what write_sample says."""
    written = write_sample(tmp_path)
    root = tmp_path / "codex"
    kept: dict[str, agent_logs.Request] = {}
    for path in sorted(root.rglob("*.jsonl")):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if codex.FORMAT.wanted(PurePosixPath(*relative.parts[1:])):
            parsed = agent_logs.check(codex.parse_file(f"codex/{relative}", framework_lines(path.read_text())))
            for request in parsed.requests:
                kept.setdefault(request.request_key, request)
    assert len(kept) == written and 300 <= written <= 3000
    ours: dict[tuple[str, str], dict[str, int]] = {}
    for request in kept.values():
        row = ours.setdefault(
            (request.event_at_utc.date().isoformat(), request.model), dict.fromkeys(codex.CCUSAGE.kinds, 0)
        )
        for kind, column in codex.CCUSAGE.kinds.items():
            row[kind] += getattr(request, column)
    assert ours == ccusage_report(sorted(root.iterdir()))
    assert {model for _, model in ours} <= {"gpt-5", "gpt-5.3-codex", "gpt-5.4", "gpt-5.5", "gpt-5.4-mini"}


# The text fields the copy keeps as they are: what the warehouse keeps (a hostile producer can put anything there,
# and the warehouse would hold it as well, if it passes the identifier rule).
KEPT_TEXT = {"id", "cwd", "cli_version", "forked_from_id", "branch", "parent_thread_id", "model", "model_name"}


def mutations(seed: int = 14, count: int = 400):
    """Fixture lines with one value (anywhere in the line) replaced by a value of another type."""
    import random

    rng = random.Random(seed)
    lines = [
        line
        for home, relative in FIXTURE_FILES
        for line in (FIXTURES / home / relative).read_text().splitlines()
        if any(marker in line for marker in codex.LINE_MARKERS) and line.startswith("{")
    ]
    hostile = [
        None,
        True,
        -1,
        1.5,
        2**70,
        "",
        "SECRET-PROMPT-codex-1",
        [],
        {},
        [1, 2],
        {"a": "SECRET-TOOL-codex"},
        "2026-03-10T09:00:00Z",
        1_777_629_600,
    ]
    for _ in range(count):
        record = json.loads(rng.choice(lines))
        paths, stack = [], [((), record)]
        while stack:
            path, value = stack.pop()
            paths.append(path)
            if isinstance(value, dict):
                stack += [((*path, key), item) for key, item in value.items()]
        path = rng.choice(paths[1:])
        target = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = rng.choice(hostile)
        yield json.dumps(record, separators=(",", ":")), path[-1] in KEPT_TEXT


def test_no_hostile_value_crashes_the_parser_and_the_copy_keeps_its_records(tmp_path):
    name = "codex/x@acme.example/sessions/m.jsonl"
    for number, (line, kept_text) in enumerate(mutations()):
        text = FIXTURES.joinpath("ana", FILE_A).read_text().splitlines()[0] + "\n" + line + "\n"
        original = agent_logs.check(codex.parse_file(name, framework_lines(text)))
        path = tmp_path / f"{number}.jsonl"
        path.write_text(text)
        stripped = codex.strip_file(path).decode()
        assert kept_text or "SECRET" not in stripped, line
        assert agent_logs.check(codex.parse_file(name, framework_lines(stripped))) == original, line
