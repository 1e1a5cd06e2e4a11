"""GitHub Copilot CLI source (orchestration/ingest/copilot.py): its OpenTelemetry file export read as ccusage 20.0.24
reads it. Expected figures are worked out by hand from the fixtures (tests/fixtures/copilot, see NOTICE.md)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import duckdb
import pytest

from orchestration.ingest import agent_logs, copilot
from tests.fixtures import FIXTURES_DIR
from tests.fixtures.warehouse import assert_no_content_stored, build_warehouse, test_paths, write_directory

FIXTURES = FIXTURES_DIR / "copilot"
ANA, BEN = "ana@acme.example", "ben@acme.example"
FILE_A = FIXTURES / ANA / "otel" / "copilot-otel-20261120-090000.jsonl"
FILE_B = FIXTURES / ANA / "otel" / "sub" / "copilot-otel-20261121.jsonl"
FILE_C = FIXTURES / BEN / "otel" / "copilot-otel-20261120-140000.jsonl"
SESSION_A1 = "3f2c9a1e-5b7d-4e0a-9c1f-ana000000001"
SESSION_A2 = "3f2c9a1e-5b7d-4e0a-9c1f-ana000000002"
SESSION_B1 = "7c0d2e4f-1a3b-4c5d-8e9f-ben000000001"
SECRETS = [
    "SECRET-PROMPT-copilot",
    "SECRET-RESPONSE-copilot",
    "SECRET-SYSTEM-copilot",
    "SECRET-TOOL-copilot",
    "SECRET-TOOL-RESULT-copilot",
    "SECRET-PROMPT-copilot-truncated",
    "ghp_SECRETTOKENcopilot",
]
T1, T2 = "4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"


def lines_of(text: str) -> agent_logs.Lines:
    """The lines as the framework hands them to a parser (its DuckDB verdicts): blank lines left out, a valid JSON
    line without the marker without its text."""
    pieces = [piece.rstrip("\r") for piece in text.removeprefix("\ufeff").split("\n")]
    if pieces and pieces[-1] == "":
        pieces.pop()
    verdicts = copilot.loader_verdicts(pieces)  # the same DuckDB calls as the loader's (lines.py, agent_logs.py)
    return [
        (number, piece if copilot.MARKER in piece or not valid else None)
        for number, (piece, (blank, valid)) in enumerate(zip(pieces, verdicts), start=1)
        if not blank
    ]


def parse(path: Path, name: str = "f.jsonl") -> agent_logs.ParsedFile:
    return copilot.parse_file(name, lines_of(path.read_text(encoding="utf-8")))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def figures(request: agent_logs.Request) -> tuple:
    return (
        request.line_number,
        request.request_key,
        request.model,
        request.input_tokens,
        request.output_tokens,
        request.cache_read_input_tokens,
        request.cache_creation_input_tokens,
        request.reasoning_output_tokens,
    )


# -- the parser ------------------------------------------------------------------------------------------------


def test_chat_spans_are_the_requests_with_the_cached_input_taken_out_of_the_input():
    parsed = parse(FILE_A)
    assert [figures(r) for r in parsed.requests] == [
        # input 12,000 of which 10,000 read from the cache; 1,500 written to it
        (1, f"{T1}:c1000000000000a1", "claude-sonnet-4.5", 2_000, 300, 10_000, 1_500, 0),
        # counts written as strings; no model on the span: the first the trace names (line 1's)
        (3, f"{T1}:c1000000000000a3", "claude-sonnet-4.5", 1_000, 420, 14_000, 0, 0),
        # the agent span of the trace (line 5) names gpt-5; the reasoning is part of the output
        (6, f"{T2}:c2000000000000b1", "gpt-5", 8_000, 900, 0, 0, 200),
    ]  # the agent spans (lines 5 and 7) sum their chat spans: not requests; line 2 is a tool span, line 4 a metric
    assert {r.session_id for r in parsed.requests} == {SESSION_A1}
    assert {r.client_version for r in parsed.requests} == {"1.0.70-0"}
    # endTime [seconds, nanoseconds], to the millisecond as ccusage reads it
    assert [r.event_at_utc for r in parsed.requests] == [
        at("2026-11-20T09:00:05.250"),
        at("2026-11-20T09:00:12"),
        at("2026-11-20T23:30:00.123"),
    ]
    assert parsed.quarantined == [(8, "invalid JSON")]  # the line the exporter was still writing


def test_a_session_has_its_first_and_last_request_and_the_repository_without_credentials():
    [session] = parse(FILE_A).sessions
    assert session == agent_logs.Session(
        line_number=1,
        session_id=SESSION_A1,
        first_at_utc=at("2026-11-20T09:00:05.250"),
        last_at_utc=at("2026-11-20T23:30:00.123"),
        cwd=None,
        git_branch="feature/billing",
        repository="acme/api",
        client_version="1.0.70-0",
    )


def test_the_fallback_records_count_only_where_a_trace_has_no_chat_span():
    parsed = parse(FILE_B)
    assert [figures(r) for r in parsed.requests] == [
        (1, "b1" * 16 + ":b100000000000001", "gpt-5-mini-2025-08-07", 5_000 - 4_096, 150, 4_096, 0, 64),
        # line 2, the inference log of the same trace (and response): not counted again
        (3, "b2" * 16 + ":b200000000000001", "gpt-5-mini", 0, 777, 0, 0, 0),  # only total_tokens: output
        (4, "b3" * 16 + ":b300000000000001", "claude-haiku-4.5", 3_000, 100, 0, 0, 0),  # an agent span, no chat
        # an inference log of a trace whose only chat span (line 6) failed with no tokens
        (5, "log:" + "b4" * 16 + ":b400000000000001", "gpt-5-mini", 400, 40, 0, 0, 0),
        (7, "b5" * 16 + ":b500000000000001", "claude-sonnet-4.5", 0, 20, 150, 0, 0),  # cache read above input
    ]
    assert parsed.quarantined == []
    assert [(s.session_id, s.first_at_utc, s.last_at_utc, s.client_version) for s in parsed.sessions] == [
        (SESSION_A2, at("2026-11-21T10:00:03"), at("2026-11-21T10:30:04"), "1.0.71-0")
    ]


def test_cache_writes_and_a_model_without_a_price():
    parsed = parse(FILE_C)
    assert [figures(r)[2:] for r in parsed.requests] == [
        ("claude-haiku-4.5", 200, 80, 2_000, 100, 0),  # cache_write.input_tokens
        ("gpt-4.1", 900, 60, 0, 0, 0),
        ("grok-code-fast-1", 700, 70, 0, 0, 0),
    ]
    assert {r.session_id for r in parsed.requests} == {SESSION_B1}


GOOD = {
    "gen_ai.operation.name": "chat",
    "gen_ai.response.model": "gpt-5",
    "gen_ai.conversation.id": "S",
    "gen_ai.usage.input_tokens": 10,
    "gen_ai.usage.output_tokens": 5,
}


def chat(span_id: str, end=(1_795_000_000, 0), **attributes) -> str:
    record = {
        "type": "span",
        "traceId": "t",
        "spanId": span_id,
        "name": "chat gpt-5",
        "endTime": end and list(end),
        "attributes": {**GOOD, **attributes},
    }
    return json.dumps({key: value for key, value in record.items() if value is not None})


HOSTILE = [
    chat("s1", **{"gen_ai.usage.output_tokens": 5.0}),
    chat("s2", **{"gen_ai.usage.input_tokens": -1}),
    chat("s3", **{"gen_ai.usage.cache_read.input_tokens": True}),
    chat("s4", end=None),
    '{"type":"span","traceId":"t","spanId":"s5","name":"chat x","endTime":[1795000000,0],"attributes":{"a":1,"a":2}}',
    '["attributes", "SECRET-PROMPT-copilot"]',
    '{"type":"span","attributes":{"gen_ai.input.messages":"SECRET-PROMPT-copilot',
    chat("s8", end=(4_200_000_000, 0)),
    chat("s9", **{"gen_ai.conversation.id": "S\u0007"}),
    '{"type":"span","traceId":"t","spanId":"s10","name":"chat gpt-5","endTime":[1795000000,0],"attributes":["x"]}',
    chat("s11", **{"gen_ai.usage.input_tokens": str(2**64)}),
    chat("s12", **{"gen_ai.usage.output_tokens": "12", "gen_ai.input.messages": "SECRET-PROMPT-copilot"}),
]


def test_hostile_lines_are_quarantined_with_their_line_and_the_good_one_beside_them_is_kept():
    checked = agent_logs.check(copilot.parse_file("f.jsonl", lines_of("\n".join(HOSTILE) + "\n")))
    assert sorted(set(checked.quarantined)) == [  # line 9: its request and its session
        (1, "gen_ai.usage.output_tokens is not a non-negative integer"),
        (2, "gen_ai.usage.input_tokens is not a non-negative integer"),
        (3, "gen_ai.usage.cache_read.input_tokens is not a non-negative integer"),
        (4, copilot.NO_TIMESTAMP),
        (5, "duplicate key a"),
        (6, "not a JSON object"),
        (7, "invalid JSON"),
        (8, "timestamp outside 2000-01-01T00:00:00Z to 2099-12-31T23:59:59Z"),
        (9, "session_id is not a valid identifier (contains the character U+0007 (Cc))"),  # the value contract
        (10, "a chat span whose attributes are not an object"),
        (11, "gen_ai.usage.input_tokens is not a non-negative integer"),
    ]
    assert [(r.line_number, r.request_key, r.input_tokens, r.output_tokens) for r in checked.requests] == [
        (12, "t:s12", 10, 12)
    ]
    assert not any(secret in reason for _, reason in checked.quarantined for secret in SECRETS)


def test_a_span_exported_twice_is_one_request_key():
    text = FILE_C.read_text()
    first, second = parse(FILE_C, "a.jsonl"), copilot.parse_file("b.jsonl", lines_of(text))
    assert [r.request_key for r in first.requests] == [r.request_key for r in second.requests]
    doubled = copilot.parse_file("a.jsonl", lines_of(text + text))
    assert [r.request_key for r in doubled.requests] == [r.request_key for r in first.requests] * 2


def test_only_the_otel_jsonl_files_are_read():
    assert copilot.FORMAT.source == "copilot" and copilot.FORMAT.agent == "copilot-cli"
    assert copilot.FORMAT.home_env == "COPILOT_HOME" and copilot.FORMAT.local_home == "~/.copilot"
    for path, read in (
        ("otel/a.jsonl", True),
        ("otel/2026/11/b.jsonl", True),
        ("otel/a.json", False),
        ("otel/a.jsonl.gz", False),
        ("a.jsonl", False),
        ("session-state/x/events.jsonl", False),
        ("logs/otel.jsonl", False),
    ):
        assert copilot.wanted(PurePosixPath(path)) is read, path


# -- the collector's copy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [FILE_A, FILE_B, FILE_C], ids=["a", "b", "c"])
def test_the_stripped_copy_reads_as_the_original_and_has_no_content(path, tmp_path):
    stripped = copilot.strip_file(path)
    assert stripped is not None
    for secret in SECRETS:
        assert secret.encode() not in stripped
        assert secret.encode() in FILE_A.read_bytes()
    assert b"gen_ai.input.messages" not in stripped and b"gen_ai.tool.call.arguments" not in stripped
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(stripped)
    assert parse(copy) == parse(path)
    assert len(stripped) < len(path.read_bytes())


def test_the_stripped_copy_of_hostile_lines_quarantines_them_as_the_original(tmp_path):
    original = tmp_path / "original.jsonl"
    edge = [
        '{"type":"span","kind":1e400,"traceId":"t","spanId":"e1","name":"chat x","endTime":[1795000000,0],'
        '"attributes":{"gen_ai.usage.input_tokens":3}}',  # a number Python reads as infinity
        '{"a":NaN}',
        "[1,]",
        "\t",
        "\u00a0",
        '{"events":[],"events":[],"attributes":{}}',
        '{"a":1,"a":2}',
        chat("e2", **{"gen_ai.usage.input_tokens": "9" * 5000}),
    ]
    original.write_text("\ufeff" + "\n".join(HOSTILE + edge) + '\n\n   \n{"type":"metric","dataPoints":[]}\r\n')
    stripped = copilot.strip_file(original)
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(stripped)
    assert agent_logs.check(parse(copy)) == agent_logs.check(parse(original))
    assert b"SECRET" not in stripped
    assert stripped.count(b"\n") == original.read_text().count("\n")  # line for line


def test_a_file_with_nothing_the_warehouse_reads_is_not_sent(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text('{"type":"metric","name":"gen_ai.client.token.usage","dataPoints":[]}\n')
    assert copilot.strip_file(metrics) is None


# -- ccusage, the real binary ------------------------------------------------------------------------------------


def ccusage_command() -> str:
    from orchestration.bench.ccusage_parity import ccusage_command as command

    return command()


def ccusage_report(home: Path, timezone: str = "UTC") -> dict:
    env = {**os.environ, **copilot.CCUSAGE.env([home])}
    completed = subprocess.run(
        [*ccusage_command().split(), "copilot", "daily", "--json", "--offline", "--timezone", timezone],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=600,
    )
    return json.loads(completed.stdout)


EXPECTED_BERLIN = {  # worked out from the fixtures by hand (see the parser tests)
    ("2026-11-20", "claude-sonnet-4.5"): (2_000 + 1_000, 300 + 420, 10_000 + 14_000, 1_500),
    ("2026-11-20", "claude-haiku-4.5"): (200, 80, 2_000, 100),
    ("2026-11-20", "gpt-4.1"): (900, 60, 0, 0),
    ("2026-11-20", "grok-code-fast-1"): (700, 70, 0, 0),
    ("2026-11-21", "gpt-5"): (8_000, 900, 0, 0),  # 23:30 UTC is 00:30 in Berlin
    ("2026-11-21", "gpt-5-mini-2025-08-07"): (904, 150, 4_096, 0),
    ("2026-11-21", "gpt-5-mini"): (400, 777 + 40, 0, 0),
    ("2026-11-21", "claude-haiku-4.5"): (3_000, 100, 0, 0),
    ("2026-11-21", "claude-sonnet-4.5"): (0, 20, 150, 0),
}
KINDS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens")


def as_tuples(rows: dict) -> dict:
    return {key: tuple(int(row[kind]) for kind in KINDS) for key, row in rows.items()}


def ccusage_rows(homes: list[Path], timezone: str) -> dict:
    totals: dict = {}
    for home in homes:
        for key, row in copilot.CCUSAGE.rows(ccusage_report(home, timezone)).items():
            totals[key] = tuple(a + b for a, b in zip(totals.get(key, (0,) * 4), as_tuples({key: row})[key]))
    return totals


def test_ccusage_reads_the_fixtures_as_worked_out_by_hand():
    assert ccusage_rows([FIXTURES / ANA, FIXTURES / BEN], "Europe/Berlin") == EXPECTED_BERLIN


def test_ccusage_reads_the_stripped_copies_as_the_originals(tmp_path):
    for user in (ANA, BEN):
        for path in (FIXTURES / user).rglob("*.jsonl"):
            copy = tmp_path / user / path.relative_to(FIXTURES / user)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(copilot.strip_file(path))
    assert ccusage_rows([tmp_path / ANA, tmp_path / BEN], "Europe/Berlin") == EXPECTED_BERLIN


def test_ccusage_counts_a_span_exported_twice_twice(tmp_path):
    """The one difference on real files: a copy of an exported file (or a span written twice) is counted again
    by ccusage; the warehouse keeps one request per traceId:spanId (see the integration test)."""
    home = tmp_path / BEN
    (home / "otel").mkdir(parents=True)
    shutil.copy(FILE_C, home / "otel" / "a.jsonl")
    shutil.copy(FILE_C, home / "otel" / "copy-of-a.jsonl")
    rows = ccusage_rows([home], "UTC")
    assert rows[("2026-11-20", "gpt-4.1")] == (2 * 900, 2 * 60, 0, 0)


# -- through the pipeline ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    paths = test_paths(tmp_path_factory.mktemp("copilot"))
    write_directory(
        paths.directory,
        orgs=[("acme", "Acme Robotics", "Europe/Berlin")],
        users=[
            ("acme", "u-ana", ANA, "Ana", "Platform", "", "member"),
            ("acme", "u-ben", BEN, "Ben", "Platform", "", "member"),
        ],
        projects=[("acme", "p-api", "API", "single")],
    )
    for user in (ANA, BEN):
        shutil.copytree(FIXTURES / user, paths.raw_dir / "copilot" / user)
    build_warehouse(paths)
    return paths


def fetch(paths, sql, *parameters):
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return conn.execute(sql, list(parameters)).fetchall()


def test_the_requests_arrive_as_facts_of_the_copilot_agent(warehouse):
    rows = fetch(
        warehouse,
        "select user_id, agent, model, uncached_input_tokens, output_tokens, "
        "cache_read_input_tokens, cache_creation_input_tokens from analytics.fct_model_requests "
        "where source = 'copilot' order by requested_at_utc",
    )
    assert rows == [
        ("u-ana", "copilot-cli", "claude-sonnet-4.5", 2_000, 300, 10_000, 1_500),
        ("u-ana", "copilot-cli", "claude-sonnet-4.5", 1_000, 420, 14_000, 0),
        ("u-ben", "copilot-cli", "claude-haiku-4.5", 200, 80, 2_000, 100),
        ("u-ben", "copilot-cli", "gpt-4.1", 900, 60, 0, 0),
        ("u-ben", "copilot-cli", "grok-code-fast-1", 700, 70, 0, 0),
        ("u-ana", "copilot-cli", "gpt-5", 8_000, 900, 0, 0),
        ("u-ana", "copilot-cli", "gpt-5-mini-2025-08-07", 904, 150, 4_096, 0),
        ("u-ana", "copilot-cli", "gpt-5-mini", 0, 777, 0, 0),
        ("u-ana", "copilot-cli", "claude-haiku-4.5", 3_000, 100, 0, 0),
        ("u-ana", "copilot-cli", "gpt-5-mini", 400, 40, 0, 0),
        ("u-ana", "copilot-cli", "claude-sonnet-4.5", 0, 20, 150, 0),
    ]
    unpriced = fetch(
        warehouse, "select distinct model from analytics.fct_model_requests where source = 'copilot' and not is_priced"
    )
    assert unpriced == [("grok-code-fast-1",)]


def test_the_sessions_carry_the_repository_and_the_branch(warehouse):
    rows = fetch(
        warehouse, "select session_id, git_branch, repository from staging.stg_copilot__sessions order by session_id"
    )
    assert rows == [(SESSION_A1, "feature/billing", "acme/api"), (SESSION_A2, None, None), (SESSION_B1, None, None)]


def test_sessions_are_copilot_cli_sessions_with_the_repository_as_project_and_a_cost_worked_out_by_hand(warehouse):
    rows = fetch(
        warehouse,
        "select session_id, user_id, agent, project_id, repository, model_requests, "
        "cast(round(cost_usd, 9) as double) from analytics.fct_sessions "
        "where source = 'copilot' order by session_id",
    )
    # claude-sonnet-4.5 per million: input 3, output 15, cache read 0.30, cache write 3.75; gpt-5: 1.25 and 10
    sonnet = (2_000 * 3 + 300 * 15 + 10_000 * 0.3 + 1_500 * 3.75) + (1_000 * 3 + 420 * 15 + 14_000 * 0.3)
    gpt5 = 8_000 * 1.25 + 900 * 10
    assert rows[0] == (SESSION_A1, "u-ana", "copilot-cli", "api", "acme/api", 3, pytest.approx((sonnet + gpt5) / 1e6))
    assert [row[:3] + row[5:6] for row in rows[1:]] == [
        (SESSION_A2, "u-ana", "copilot-cli", 5),
        (SESSION_B1, "u-ben", "copilot-cli", 3),
    ]


def test_the_cut_off_line_is_quarantined_with_file_and_line_and_without_content(warehouse):
    rows = fetch(
        warehouse, "select source_file, line_number, reason, line from raw.quarantined_lines where source = 'copilot'"
    )
    assert rows == [(f"copilot/{ANA}/otel/copilot-otel-20261120-090000.jsonl", 8, "invalid JSON", None)]


def test_no_content_reaches_the_lake_or_the_warehouse(warehouse):
    assert_no_content_stored(warehouse, SECRETS)


@pytest.mark.parametrize("timezone", ["Europe/Berlin", "UTC", "America/Los_Angeles"])
def test_token_totals_per_local_day_and_model_equal_ccusage(warehouse, timezone):
    from orchestration.bench.ccusage_parity import agent_ccusage_daily, agent_warehouse_daily, compare

    theirs = agent_ccusage_daily("copilot", warehouse.raw_dir, timezone, ccusage_command())
    ours = agent_warehouse_daily("copilot", warehouse.warehouse, timezone)
    rows, identical = compare(ours, theirs, tuple(copilot.CCUSAGE.kinds))
    assert identical, rows
    if timezone == "Europe/Berlin":
        assert as_tuples(ours) == EXPECTED_BERLIN


def test_a_copy_of_an_exported_file_is_counted_once(tmp_path):
    paths = test_paths(tmp_path)
    write_directory(
        paths.directory,
        orgs=[("acme", "Acme Robotics", "Europe/Berlin")],
        users=[("acme", "u-ben", BEN, "Ben", "Platform", "", "member")],
        projects=[],
    )
    home = paths.raw_dir / "copilot" / BEN / "otel"
    home.mkdir(parents=True)
    shutil.copy(FILE_C, home / "a.jsonl")
    shutil.copy(FILE_C, home / "copy-of-a.jsonl")
    build_warehouse(paths)
    rows = fetch(
        paths,
        "select model, count(*), sum(uncached_input_tokens) from analytics.fct_model_requests "
        "where source = 'copilot' group by all order by all",
    )
    assert rows == [("claude-haiku-4.5", 1, 200), ("gpt-4.1", 1, 900), ("grok-code-fast-1", 1, 700)]


# -- the sample ---------------------------------------------------------------------------------------------------


def test_the_sample_is_deterministic_reads_as_written_and_as_ccusage_reads_it(tmp_path):
    import random

    from orchestration.sample.agents import SampleUser
    from orchestration.sample.agents import copilot as sample

    users = [
        SampleUser("ana@acme.example", "Europe/Berlin", ("/home/ana/src/api",), ("acme/api",), 0.9),
        SampleUser("kai@acme.example", "Asia/Tokyo", ("/home/kai/src/web",), ("acme/web",), 0.3),
    ]
    dates = [dt.date(2026, 11, 2) + dt.timedelta(days=i) for i in range(10)]
    written = sample.write_sample(tmp_path / "a", users, dates, random.Random("seed:copilot"))
    again = sample.write_sample(tmp_path / "b", users, dates, random.Random("seed:copilot"))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.jsonl"))
    assert written == again
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.jsonl"))
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    homes = {("copilot", user.email, "otel") for user in users}
    assert all(f.parts[:3] in homes and copilot.wanted(PurePosixPath(*f.parts[2:])) for f in files)
    ours: dict = {}
    requests = 0
    for f in files:
        parsed = agent_logs.check(copilot.parse_file(str(f), lines_of((tmp_path / "a" / f).read_text())))
        assert all(reason == "invalid JSON" for _, reason in parsed.quarantined)  # a cut-off last line
        requests += len(parsed.requests)
        for r in parsed.requests:
            key = (r.event_at_utc.date().isoformat(), r.model)
            ours[key] = tuple(
                a + b
                for a, b in zip(
                    ours.get(key, (0,) * 4),
                    (r.input_tokens, r.output_tokens, r.cache_read_input_tokens, r.cache_creation_input_tokens),
                )
            )
    assert requests == written > 50
    assert ccusage_rows([tmp_path / "a" / "copilot" / u.email for u in users], "UTC") == ours


# -- any value of any type, anywhere -----------------------------------------------------------------------------

REPLACEMENTS = (
    None,
    True,
    False,
    -1,
    0,
    2**70,
    1.5,
    1e300,
    "",
    " ",
    "12",
    "x\u0000y",
    "an-identifier",
    [],
    [1],
    {},
    {"a": "SECRET-FUZZ-copilot"},
)


def leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    if path:
        yield path


def replaced(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(copy[path[0]], path[1:], new)
    return copy


def test_a_value_of_another_type_anywhere_never_crashes_and_the_copy_reads_the_same(tmp_path):
    import random

    rng = random.Random(14)
    variants = []
    for path in (FILE_A, FILE_B, FILE_C):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            for leaf in leaves(record):
                new = rng.choice(REPLACEMENTS)
                variants.append(lines[:number] + [json.dumps(replaced(record, leaf, new))] + lines[number + 1 :])
    assert len(variants) > 300
    original, copy = tmp_path / "original.jsonl", tmp_path / "copy.jsonl"
    for variant in variants:
        text = "\n".join(variant) + "\n"
        parsed = agent_logs.check(copilot.parse_file("f.jsonl", lines_of(text)))
        assert not any("SECRET" in reason for _, reason in parsed.quarantined)
        original.write_text(text)
        stripped = copilot.strip_file(original)
        assert b"SECRET" not in (stripped or b"")
        copy.write_bytes(stripped or b"")
        assert agent_logs.check(copilot.parse_file("f.jsonl", lines_of(copy.read_text()))) == parsed, variant


def test_loading_counts_every_line_and_is_incremental(tmp_path):
    from orchestration.ingest import lake

    paths = test_paths(tmp_path)
    for user in (ANA, BEN):
        shutil.copytree(FIXTURES / user, paths.raw_dir / "copilot" / user)
    first = agent_logs.load_all(copilot.FORMAT, paths.raw_dir, paths.lake_dir)
    assert [(load.collection, load.files_read) for load in first] == [(ANA, 2), (BEN, 1)]
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        summary = conn.execute(
            "select source_file, lines_read, blank_lines, loaded_lines, quarantined_lines, ignored_event_lines "
            "from raw.load_file_summary where source = 'copilot' order by source_file"
        ).fetchall()
    assert summary == [
        # 8 lines: the cut-off line 8 quarantined; 3 requests (lines 1, 3, 6), the rest ignored (a tool span,
        # a metric, two agent spans)
        (f"copilot/{ANA}/otel/copilot-otel-20261120-090000.jsonl", 8, 0, 7, 1, 4),
        # 7 lines: 5 requests; the inference log beside its chat span and the failed chat span ignored
        (f"copilot/{ANA}/otel/sub/copilot-otel-20261121.jsonl", 7, 0, 7, 0, 2),
        (f"copilot/{BEN}/otel/copilot-otel-20261120-140000.jsonl", 4, 0, 4, 0, 1),  # and a metric
    ]
    assert [load.files_read for load in agent_logs.load_all(copilot.FORMAT, paths.raw_dir, paths.lake_dir)] == [0, 0]
    grown = paths.raw_dir / "copilot" / BEN / "otel" / "copilot-otel-20261120-140000.jsonl"
    grown.write_text(grown.read_text() + chat("later", end=(1_795_100_000, 0)) + "\n")
    os.utime(grown, ns=(grown.stat().st_atime_ns, grown.stat().st_mtime_ns + 1_000_000_000))
    assert [load.files_read for load in agent_logs.load_all(copilot.FORMAT, paths.raw_dir, paths.lake_dir)] == [0, 1]
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        keys = conn.execute("select request_key from raw.copilot_requests order by all").fetchall()
    assert len(keys) == 3 + 5 + 3 + 1 and ("t:later",) in keys
