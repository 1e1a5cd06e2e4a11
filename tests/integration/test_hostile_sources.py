"""Hostile and extreme values in transcripts, OpenTelemetry exports and the org directory (issue 12): each is
quarantined at load with its reason, file and line (never the text of a transcript or OTel line), the good lines
beside it are loaded, every entry that is not read leaves a row, and a real dbt build succeeds with the good
figures unchanged.

The module's warehouse holds, beside the hostile values, the good figures of org acme (Zoë, Europe/Berlin):
  transcripts: S1 msg_A sonnet 100 in + 300 out = (300 + 4,500) / 1e6 = $0.0048,
               S1 msg_B sonnet 1,000 in + 500 out = (3,000 + 7,500) / 1e6 = $0.0105,
               S2 msg_C sonnet (in the file named `S*.jsonl`) 10 + 10 = (30 + 150) / 1e6 = $0.00018;
               S1 runs from 08:00 to 09:00 UTC on 2026-11-20 (a year-9999 line would stretch it to 9999)
  OTel: session S9, req_O 100 + 100 reported $0.0018 and req_P 10 + 10 reported $0.0002.
Org beta has one user, a=b@beta.example (a collection folder name with "="): S5 msg_D sonnet 1 + 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import os
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest import claude_code, directory, otel
from orchestration.ingest.contract import QUARANTINED_TEXT_MAX_CHARS
from reports.analytics.query import AnalyticsQueries, connect_read_only
from tests.fixtures.platform_events import registered
from tests.fixtures.warehouse import build_warehouse, test_paths, write_directory

approx = functools.partial(pytest.approx, abs=1e-9)
SONNET = "claude-sonnet-4-5-20250929"
ZOE = "zoe@acme.example"
WINDOW = "2000-01-01T00:00:00Z to 2099-12-31T23:59:59Z"
U64_MAX = 2**64 - 1
CONTENT_SECRETS = (
    "SECRET-RESPONSE",
    "SECRET-PROMPT",
    "SECRET-OUTSIDE-FILE",
    "SECRET-OUTSIDE-FOLDER",
    "SECRET-SESSION-OBJECT",
    "SECRET-JUNK",
    "SECRET-BAD-FOLDER",
    "SECRET-OTEL-PROMPT",
)
PROJECT = f"claude_code/{ZOE}/projects/-home-zoe-src-api"
CONTROL = "a control, format or separator character, or a space at either end"


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def usage_line(
    session="S1",
    ts="2026-11-20T08:30:00.000Z",
    msg="msg_X",
    req="req_X",
    model=SONNET,
    inp=1,
    out=1,
    usage_extra=None,
    **extra,
) -> dict:
    usage = {
        "input_tokens": inp,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": out,
        **(usage_extra or {}),
    }
    line = {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/zoe/src/api",
        "sessionId": session,
        "version": "2.0.14",
        "gitBranch": "main",
        "type": "assistant",
        "timestamp": ts,
        "requestId": req,
        "message": {
            "id": msg,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "SECRET-RESPONSE"}],
            "usage": usage,
        },
    }
    line.update(extra)
    return line


def user_line(session="S1", ts="2026-11-20T08:30:00.000Z", **extra) -> dict:
    return {
        "type": "user",
        "sessionId": session,
        "timestamp": ts,
        "cwd": "/home/zoe/src/api",
        "gitBranch": "main",
        "message": {"role": "user", "content": "SECRET-PROMPT"},
        **extra,
    }


def with_duplicate(line: dict, key: str, value, spelled: str | None = None) -> str:
    """The line's JSON with `key` written a second time (as `spelled`, e.g. escaped) right after the first."""
    text = compact(line)
    first = f'"{key}":{compact(line[key])}'
    assert text.count(first) == 1
    return text.replace(first, f'{first},"{spelled or key}":{compact(value)}')


# (line text, expected reason or None when the line is loaded), in file order: S1.jsonl
S1_LINES = [
    (compact(user_line(ts="2026-11-20T08:00:00.000Z")), None),
    (compact(usage_line(ts="2026-11-20T08:00:05.000Z", msg="msg_A", req="req_A", inp=100, out=300)), None),
    (
        compact(usage_line(out=U64_MAX)),
        f"token count out of range message.usage.output_tokens: {U64_MAX} (expected 0 to 1000000000)",
    ),
    (
        compact(
            usage_line(
                usage_extra={"cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": U64_MAX}}
            )
        ),
        f"token count out of range message.usage.cache_creation.ephemeral_1h_input_tokens: {U64_MAX} "
        "(expected 0 to 1000000000)",
    ),
    (
        compact(usage_line(inp=10**9 + 1)),
        "token count out of range message.usage.input_tokens: 1000000001 (expected 0 to 1000000000)",
    ),
    (
        compact(usage_line(inp=2**70)),  # beyond 64 bits: a JSON double, still an integer literal
        f"token count out of range message.usage.input_tokens: {2**70} (expected 0 to 1000000000)",
    ),
    (compact(usage_line(ts="0001-01-01T00:00:00Z")), f"timestamp outside {WINDOW}: 0001-01-01T00:00:00Z"),
    (compact(user_line(ts="9999-12-31T23:59:59Z")), f"timestamp outside {WINDOW}: 9999-12-31T23:59:59Z"),
    (with_duplicate(usage_line(), "sessionId", "S-other"), "duplicate key sessionId"),
    (with_duplicate(usage_line(), "sessionId", "S-other", spelled="session\\u0049d"), "duplicate key sessionId"),
    (
        compact(usage_line()).replace('"input_tokens":1,', '"input_tokens":1,"input_tokens":900,'),
        "duplicate key message.usage.input_tokens",
    ),
    (compact(usage_line(session="S1\nx")), f"invalid identifier sessionId: {CONTROL}"),
    (compact(usage_line(msg="m" * 200)), "invalid identifier message.id: longer than 128 characters (200)"),
    (compact(usage_line(req="req\u202eX")), f"invalid identifier requestId: {CONTROL}"),
    (compact(usage_line(model="claude\x00")), f"invalid identifier message.model: {CONTROL}"),
    (compact(usage_line(agentId="a" * 129)), "invalid identifier agentId: longer than 128 characters (129)"),
    (compact(user_line(cwd="/" + "d" * 4999)), "invalid cwd: longer than 4096 characters (5000)"),
    (compact(user_line(cwd="/home/zoe/\u202esrc/api")), "invalid cwd: a control or format character"),
    (
        compact(user_line(cwd="/home/zoe/" + "p" * 200 + "/")),
        "invalid identifier cwd (last component): longer than 128 characters (200)",
    ),
    (compact(usage_line(isSidechain="maybe")), "mistyped field isSidechain: expected true or false"),
    (compact(user_line(sessionId={"leak": "SECRET-SESSION-OBJECT"})), "mistyped field sessionId: expected a string"),
    (compact(usage_line(ts="2026-11-20T09:00:00.000Z", msg="msg_B", req="req_B", inp=1_000, out=500)), None),
]


def otel_record(name="api_request", ts="2026-11-21T12:00:00+00:00", **attributes) -> dict:
    def value(v):
        if isinstance(v, float):
            return {"doubleValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        return {"stringValue": v}

    return {
        "timeUnixNano": str(int(dt.datetime.fromisoformat(ts).timestamp() * 10**9)),
        "body": {"stringValue": f"claude_code.{name}"},
        "attributes": [{"key": k, "value": value(v)} for k, v in attributes.items()],
    }


def otel_line(record: dict | str) -> str:
    records = record if isinstance(record, str) else compact(record)
    return (
        '{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"claude-code"}}]},'
        '"scopeLogs":[{"scope":{"name":"com.anthropic.claude_code.events"},"logRecords":[' + records + "]}]}]}"
    )


def request(**changes) -> dict:
    attributes = {
        "session.id": "S9",
        "user.email": ZOE,
        "organization.id": "anthropic-org",
        "model": SONNET,
        "input_tokens": 1,
        "output_tokens": 1,
        "cache_read_tokens": 0,
        "cache_creation_tokens": 0,
        "cost_usd": 0.0001,
        "duration_ms": 1_000,
        "request_id": "req_Q",
    }
    attributes.update(changes)
    return attributes


COST = "(expected a finite number from 0 to 1000000)"
OTEL_LINES = [
    (otel_line(otel_record(**request(request_id="req_O", input_tokens=100, output_tokens=100, cost_usd=0.0018))), None),
    (otel_line(otel_record(**request(cost_usd="NaN"))), f"cost out of range cost_usd: nan {COST}"),
    (otel_line(otel_record(**request(cost_usd="Infinity"))), f"cost out of range cost_usd: inf {COST}"),
    (otel_line(otel_record(**request(cost_usd=1e30))), f"cost out of range cost_usd: 1e+30 {COST}"),
    (otel_line(otel_record(**request(cost_usd=-0.5))), f"cost out of range cost_usd: -0.5 {COST}"),
    (otel_line(otel_record(**request(cost_usd="cheap"))), "mistyped attribute cost_usd: expected a number"),
    (
        otel_line(otel_record(**request(input_tokens=str(U64_MAX)))),
        f"token count out of range input_tokens: {U64_MAX} (expected 0 to 1000000000)",
    ),
    (
        otel_line(otel_record(**request(duration_ms=-1))),
        "duration out of range duration_ms: -1 (expected 0 to 1000000000)",
    ),
    (
        otel_line(otel_record(**request(duration_ms=10**10))),
        "duration out of range duration_ms: 10000000000 (expected 0 to 1000000000)",
    ),
    (
        otel_line(otel_record(**request(**{"event.timestamp": "0001-01-01T00:00:00Z"}))),
        f"timestamp outside {WINDOW}: 0001-01-01T00:00:00Z",
    ),
    (otel_line(otel_record(**request(**{"session.id": "S9\nx"}))), f"invalid identifier session.id: {CONTROL}"),
    (
        otel_line(otel_record(**request(**{"user.email": "u" * 290 + "@x.example"}))),
        "invalid identifier user.email: longer than 128 characters (300)",
    ),
    (
        otel_line(otel_record(**request(**{"organization.id": "org\u202e"}))),
        f"invalid identifier organization.id: {CONTROL}",
    ),
    (
        otel_line(otel_record(**request(request_id="r" * 129))),
        "invalid identifier request_id: longer than 128 characters (129)",
    ),
    (otel_line(otel_record(**request(model="claude\x00"))), f"invalid identifier model: {CONTROL}"),
    (otel_line(with_duplicate(otel_record(**request()), "timeUnixNano", "1")), "duplicate key timeUnixNano"),
    (
        otel_line(with_duplicate(otel_record(**request()), "timeUnixNano", "1", spelled="time\\u0055nixNano")),
        "duplicate key timeUnixNano",
    ),
    (
        otel_line({key: value for key, value in otel_record(**request()).items() if key != "body"}),
        "missing event name (body or attribute event.name)",
    ),
    (
        otel_line(otel_record("user_prompt", prompt="SECRET-OTEL-PROMPT", **{"session.id": "S9", "user.email": ZOE})),
        None,
    ),
    (
        otel_line(
            otel_record(
                ts="2026-11-21T12:05:00+00:00",
                **request(request_id="req_P", input_tokens=10, output_tokens=10, cost_usd=0.0002),
            )
        ),
        None,
    ),
]
COSTS = {"msg_A": 0.0048, "msg_B": 0.0105, "msg_C": 0.00018, "req_O": 0.0018, "req_P": 0.0002}


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def path_too_long_to_list(folder: Path) -> Path:
    """A folder nested deeper than PATH_MAX (4096 bytes): listing it fails even for root, whom permissions do
    not stop (made with relative steps, each below the limit)."""
    folder.mkdir(parents=True)
    descriptor = os.open(folder, os.O_RDONLY)
    name = "d" * 250
    for _ in range(17):
        os.mkdir(name, dir_fd=descriptor)
        inner = os.open(name, os.O_RDONLY, dir_fd=descriptor)
        os.close(descriptor)
        descriptor = inner
    os.close(descriptor)
    return folder / name


def write_hostile_raw(root: Path) -> None:
    """The hostile raw dir of the module, beside the good lines; files outside it are under root/outside."""
    raw = root / "raw"
    project = raw / PROJECT
    write(project / "S1.jsonl", [text for text, _ in S1_LINES])
    write(
        project / "S*.jsonl",
        [compact(usage_line(session="S2", ts="2026-11-21T10:00:00.000Z", msg="msg_C", req="req_C", inp=10, out=10))],
    )
    outside = write(
        root / "outside" / "secret.jsonl",
        [compact(usage_line(msg="msg_OUT", req="req_OUT", content="SECRET-OUTSIDE-FILE"))],
    )
    (project / "link.jsonl").symlink_to(outside)
    (project / "broken.jsonl").symlink_to(root / "outside" / "missing.jsonl")
    os.mkfifo(project / "pipe.jsonl")
    path_too_long_to_list(project / "deep")
    outside_folder = root / "outside" / "collection"
    write(
        outside_folder / "projects" / "p" / "S7.jsonl",
        [compact(usage_line(session="S7", msg="msg_OUT2", req="req_OUT2", content="SECRET-OUTSIDE-FOLDER"))],
    )
    (raw / "claude_code" / "link@acme.example").symlink_to(outside_folder, target_is_directory=True)
    write(
        raw / "claude_code" / "bad\u202e@acme.example" / "projects" / "p" / "S8.jsonl",
        [compact(usage_line(session="S8", msg="msg_BAD", req="req_BAD", content="SECRET-BAD-FOLDER"))],
    )
    write(raw / "claude_code" / "stray.jsonl", [compact(usage_line(session="S6", msg="msg_STRAY", req="req_STRAY"))])
    write(
        raw / "claude_code" / "a=b@beta.example" / "projects" / "-srv-x" / "S5.jsonl",
        [compact(usage_line(session="S5", ts="2026-11-22T10:00:00.000Z", msg="msg_D", req="req_D", cwd="/srv/x"))],
    )
    write(
        raw / "claude_code" / "__HIVE_DEFAULT_PARTITION__" / "projects" / "-srv-y" / "S4.jsonl",
        [compact(usage_line(session="S4", ts="2026-11-22T11:00:00.000Z", msg="msg_E", req="req_E", cwd="/srv/y"))],
    )
    write(raw / "otel" / "2026-11-21" / "logs.jsonl", [text for text, _ in OTEL_LINES])


def write_hostile_directory(directory_dir: Path) -> None:
    write_directory(
        directory_dir,
        orgs=[("acme", "Acme Robotics", "Europe/Berlin"), ("beta", "Beta", "UTC")],
        users=[
            ("acme", "u-zoe", ZOE, "Zoë Åkesson", "Platform", "", "admin"),
            ("beta", "u-ab", "a=b@beta.example", "A B", "Ops", "", "admin"),
        ],
        projects=[("acme", "p-api", "API", "single")],
    )
    with open(directory_dir / "users.csv", "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(
            [
                ("acme", "u" * 300, "long@acme.example", "Long Id", "Platform", "", "member"),
                ("acme", "u-lf", "lf@acme.example", "Mallory\r\nBcc: x@evil.example", "Platform", "", "member"),
            ]
        )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-sources")
    paths = test_paths(root)
    write_hostile_raw(root)
    write_hostile_directory(paths.directory)
    build_warehouse(paths)
    return paths


def fetch(paths, sql: str, parameters=()):
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return conn.execute(sql, list(parameters)).fetchall()


def test_hostile_transcript_lines_are_quarantined_with_their_reason_file_and_line(warehouse):
    rows = fetch(
        warehouse,
        "select line_number, reason, line from raw.quarantined_lines "
        "where source = 'claude_code' and source_file = ? order by line_number",
        [f"{PROJECT}/S1.jsonl"],
    )
    expected = [(number, reason, None) for number, (_, reason) in enumerate(S1_LINES, start=1) if reason]
    assert rows == expected


def test_hostile_otel_records_are_quarantined_with_their_reason_file_and_line(warehouse):
    rows = fetch(
        warehouse,
        "select line_number, reason, line from raw.quarantined_lines where source = 'otel' order by line_number",
    )
    expected = [
        (number, f"log record 1: {reason}", None) for number, (_, reason) in enumerate(OTEL_LINES, start=1) if reason
    ]
    assert rows == expected


def test_every_entry_that_is_not_read_leaves_a_summary_row_and_a_quarantine_row(warehouse):
    deep_prefix = f"{PROJECT}/deep/" + "d" * 250
    skipped = fetch(
        warehouse,
        "select q.source_file, q.reason, s.lines_read, s.blank_lines, s.loaded_lines, "
        "s.quarantined_lines, s.ignored_event_lines from raw.quarantined_lines as q "
        "join raw.load_file_summary as s using (source, batch, source_file) "
        "where q.line_number = 0 order by q.source_file",
    )
    by_name = {
        ("<deep>" if name.startswith(deep_prefix) else name): (reason, counts) for name, reason, *counts in skipped
    }
    link = "skipped: symbolic link (links are not followed)"
    assert by_name == {
        f"{PROJECT}/broken.jsonl": (link, [1, 0, 0, 1, 0]),
        f"{PROJECT}/link.jsonl": (link, [1, 0, 0, 1, 0]),
        f"{PROJECT}/pipe.jsonl": ("skipped: not a regular file (FIFO, socket or device)", [1, 0, 0, 1, 0]),
        "<deep>": ("skipped: folder cannot be read (File name too long)", [1, 0, 0, 1, 0]),
        "claude_code/link@acme.example": (link, [1, 0, 0, 1, 0]),
        "claude_code/bad\\u202E@acme.example": (
            "skipped: the collection folder's name is not a valid identifier (contains the character U+202E (Cf))",
            [1, 0, 0, 1, 0],
        ),
        "claude_code/stray.jsonl": ("skipped: not in a collection folder", [1, 0, 0, 1, 0]),
    }


def test_every_line_read_is_blank_loaded_or_quarantined(warehouse):
    rows = fetch(
        warehouse,
        "select source_file, lines_read, blank_lines + loaded_lines + quarantined_lines "
        "from raw.load_file_summary where source in ('claude_code', 'otel')",
    )
    assert rows and all(read == accounted for _, read, accounted in rows)
    by_file = {name: read for name, read, _ in rows}
    # the file named S*.jsonl is read once, and S1.jsonl is not read a second time through its pattern
    assert (by_file[f"{PROJECT}/S1.jsonl"], by_file[f"{PROJECT}/S*.jsonl"]) == (len(S1_LINES), 1)


def test_the_good_figures_beside_the_hostile_values_are_unchanged(warehouse):
    requests = fetch(
        warehouse,
        "select split_part(request_key, ':', 1), cost_usd from analytics.fct_model_requests "
        "where org_id = 'acme' order by 1",
    )
    assert {key: float(cost) for key, cost in requests} == approx(COSTS)
    with connect_read_only(warehouse.warehouse) as conn:
        summary = AnalyticsQueries(conn).summary("acme")
    assert summary["total_cost_usd"] == approx(sum(COSTS.values()))
    assert summary["total_sessions"] == 3  # S1, S2 and S9
    assert summary["output_tokens"] == 300 + 500 + 10 + 100 + 10
    (span,) = fetch(
        warehouse,
        "select last_event_at_utc, duration_seconds from analytics.fct_sessions "
        "where org_id = 'acme' and session_id = 'S1'",
    )
    assert span == (dt.datetime(2026, 11, 20, 9, 0), 3600)


def test_collection_folders_named_with_hive_escapes_load_under_their_own_name(warehouse):
    """DuckDB's hive reader splits on "=", decodes %XX and reads __HIVE_DEFAULT_PARTITION__ as NULL."""
    rows = fetch(
        warehouse,
        "select split_part(request_key, ':', 1) as message_id, org_id, user_id "
        "from analytics.fct_model_requests where message_id in ('msg_D', 'msg_E') order by 1",
    )
    assert rows == [("msg_D", "beta", "u-ab"), ("msg_E", "unassigned", "__hive_default_partition__")]


def test_bad_directory_rows_are_quarantined_and_the_build_succeeds(warehouse):
    rows = fetch(
        warehouse,
        "select source_file, line_number, reason from raw.quarantined_lines where source = 'directory' order by all",
    )
    assert rows == [
        ("users.csv", 4, "invalid identifier user_id: longer than 128 characters (300)"),
        ("users.csv", 6, "invalid text name: contains the control character U+000D"),
    ]
    assert fetch(warehouse, "select user_id from analytics.dim_users where in_directory order by 1") == [
        ("u-ab",),
        ("u-zoe",),
    ]


def test_no_content_and_nothing_outside_the_raw_dir_reaches_the_warehouse_or_the_lake(warehouse):
    for path in [warehouse.warehouse, *warehouse.lake_dir.rglob("*.parquet")]:
        data = path.read_bytes()
        for secret in CONTENT_SECRETS:
            assert secret.encode() not in data, f"{secret} found in {path}"
    messages = {row[0] for row in fetch(warehouse, "select message_id from raw.claude_code_requests")}
    assert {"msg_OUT", "msg_OUT2", "msg_BAD", "msg_STRAY"}.isdisjoint(messages)
    assert {"msg_A", "msg_B", "msg_C", "msg_D", "msg_E"} <= messages


# -- loader-only cases ---------------------------------------------------------------------------------------


def test_token_counts_are_loaded_up_to_the_limit_and_quarantined_above_it(tmp_path):
    paths = test_paths(tmp_path)
    write(
        paths.raw_dir / PROJECT / "S1.jsonl",
        [
            compact(usage_line(msg="m1", inp=10**9, out=0)),
            compact(usage_line(msg="m2", inp=-1)),
            compact(usage_line(msg="m3", usage_extra={"cache_creation": {"ephemeral_5m_input_tokens": "5"}})),
            compact(usage_line(msg="m4", usage_extra={"cache_creation": {"ephemeral_5m_input_tokens": 10**9 + 1}})),
        ],
    )
    claude_code.load_all(paths.raw_dir, paths.lake_dir)
    assert registered(paths.lake_dir, "select message_id, input_tokens from raw.claude_code_requests") == [
        ("m1", 10**9)
    ]
    assert registered(paths.lake_dir, "select line_number, reason from raw.quarantined_lines order by 1") == [
        (2, "negative token count message.usage.input_tokens"),
        (3, "mistyped field message.usage.cache_creation.ephemeral_5m_input_tokens: expected integer"),
        (
            4,
            "token count out of range message.usage.cache_creation.ephemeral_5m_input_tokens: 1000000001 "
            "(expected 0 to 1000000000)",
        ),
    ]


def test_a_50_mb_junk_line_is_quarantined_without_its_text(tmp_path):
    paths = test_paths(tmp_path)
    junk = "SECRET-JUNK" + "x" * (50 * 2**20)
    good_otel = OTEL_LINES[0][0]
    write(paths.raw_dir / PROJECT / "S1.jsonl", [compact(usage_line(msg="m1")), junk, compact(usage_line(msg="m2"))])
    write(paths.raw_dir / "otel" / "a" / "logs.jsonl", [junk, good_otel])
    claude_code.load_all(paths.raw_dir, paths.lake_dir)
    otel.load_all(paths.raw_dir, paths.lake_dir)
    assert registered(
        paths.lake_dir, "select source, line_number, reason, line from raw.quarantined_lines order by all"
    ) == [
        ("claude_code", 2, "invalid JSON (line content not kept)", None),
        ("otel", 1, "invalid JSON (line content not kept)", None),
    ]
    assert registered(paths.lake_dir, "select count(*) from raw.claude_code_requests") == [(2,)]
    assert registered(paths.lake_dir, "select count(*) from raw.otel_events") == [(1,)]
    assert sum(path.stat().st_size for path in paths.lake_dir.rglob("*.parquet")) < 2**20


def test_skipped_entries_are_reported_once_and_their_rows_follow_what_becomes_of_them(tmp_path):
    paths = test_paths(tmp_path)
    folder = paths.raw_dir / PROJECT
    write(folder / "S1.jsonl", [compact(usage_line(msg="m1"))])
    (folder / "S2.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    (folder / "S3.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    stray = write(paths.raw_dir / "claude_code" / "stray.jsonl", [compact(usage_line(msg="m9"))])

    first = claude_code.load_all(paths.raw_dir, paths.lake_dir)
    again = claude_code.load_all(paths.raw_dir, paths.lake_dir)
    quarantined = "select source_file, line_number, reason from raw.quarantined_lines order by all"
    link = "skipped: symbolic link (links are not followed)"
    assert registered(paths.lake_dir, quarantined) == [
        ("claude_code/stray.jsonl", 0, "skipped: not in a collection folder"),
        (f"{PROJECT}/S2.jsonl", 0, link),
        (f"{PROJECT}/S3.jsonl", 0, link),
    ]
    loads = [(load.collection, load.files_read, load.lines_read, load.quarantined_lines) for load in first]
    assert loads == [("_uncollected", 1, 1, 1), (ZOE, 3, 3, 2)]
    assert [(load.files_read, load.files_carried_over) for load in again] == [(0, 1), (0, 3)]

    (folder / "S2.jsonl").unlink()  # the link is replaced by the file it stood for
    write(folder / "S2.jsonl", [compact(usage_line(session="S2", msg="m2"))])
    (folder / "S3.jsonl").unlink()  # and this one removed: nothing is left to report
    stray.unlink()  # nor here, where no collection is left at all
    after = claude_code.load_all(paths.raw_dir, paths.lake_dir)
    assert [(load.collection, load.files_read, load.files_carried_over, load.loaded_lines) for load in after] == [
        (ZOE, 1, 1, 1)
    ]
    assert registered(paths.lake_dir, quarantined) == []
    assert registered(paths.lake_dir, "select message_id from raw.claude_code_requests order by 1") == [
        ("m1",),
        ("m2",),
    ]
    assert registered(paths.lake_dir, "select source_file from raw.load_file_summary order by 1") == [
        (f"{PROJECT}/S1.jsonl",),
        (f"{PROJECT}/S2.jsonl",),
    ]


def test_a_collection_folder_name_too_long_for_the_lake_is_skipped(tmp_path):
    paths = test_paths(tmp_path)
    name = "é" * 120 + "@x.example"  # 130 characters: breaks the rule already
    short_enough = "é" * 122 + "@x"  # 124 characters, but 246 bytes: the lake's collection=<name> is 257
    fits = "é" * 100 + "@x"
    for collection in (name, short_enough, fits):
        write(paths.raw_dir / "claude_code" / collection / "projects" / "p" / "S.jsonl", [compact(usage_line())])
    loads = claude_code.load_all(paths.raw_dir, paths.lake_dir)
    assert [load.collection for load in loads] == ["_uncollected", fits]
    assert registered(paths.lake_dir, "select source_file, reason from raw.quarantined_lines order by 1") == [
        (
            f"claude_code/{name}",
            "skipped: the collection folder's name is not a valid identifier (longer than 128 characters (130))",
        ),
        (f"claude_code/{short_enough}", "skipped: the collection folder's name is too long for the lake (257 bytes)"),
    ]


def test_directory_ids_and_names_breaking_the_contract_are_quarantined_with_capped_text(tmp_path):
    paths = test_paths(tmp_path)
    write_directory(paths.directory, orgs=[("acme", "Acme", "UTC")], users=[], projects=[])
    long_team = "T" * 5000
    rows = [
        ("acme", "u1", "u1@x", "Ann", "Ops", "", "admin"),
        ("acme", "u" * 300, "u2@x", "Bob", "Ops", "", "member"),
        ("acme", "u3", "u3@x", "Cy\nLine", "Ops", "u1", "member"),
        ("acme", "u4", "u4@x", "Di", "Ops\x00", "u1", "member"),
        ("acme", "u5", "u5@x", "Ed", "Ops", "boss\u202e", "member"),
        ("acme\x07", "u6", "u6@x", "Flo", "Ops", "u1", "member"),
        ("acme", "u7", "u7@x", "Gus", long_team + "\rX", "u1", "member"),
        ("acme", "u8", "u8@x", "Hal", "x" * 200_000, "u1", "member"),  # over the csv module's field limit
        ("acme", "u9", "u9@x", "Ivy", "Ops", "u1", "member"),
    ]
    with open(paths.directory / "users.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(["org_id", "user_id", "email", "name", "team", "manager_id", "role"])
        writer.writerows(rows)
    with open(paths.directory / "users.csv", "ab") as handle:
        handle.write(b"acme,u10,u10@x,Jo\xe9,Ops,u1,member\n")  # Latin-1, not UTF-8
    (paths.directory / "projects.csv").write_text("org_id,project_id,name,kind\nacme,p/\u200b,P,single\n")
    (paths.directory / "claude_code_projects.csv").write_text("path_prefix" + "x" * 200_000 + "\n")

    result = directory.load_directory(paths.directory, paths.lake_dir)

    rejected = registered(
        paths.lake_dir, "select source_file, line_number, reason, line from raw.quarantined_lines order by all"
    )
    reasons = [(name, number, reason) for name, number, reason, _ in rejected]
    assert reasons == [
        ("claude_code_projects.csv", 1, "unreadable CSV header: field larger than field limit (131072)"),
        ("projects.csv", 2, "invalid identifier project_id: contains the character U+200B (Cf)"),
        ("users.csv", 3, "invalid identifier user_id: longer than 128 characters (300)"),
        ("users.csv", 5, "invalid text name: contains the control character U+000A"),  # the record spans 2 lines
        ("users.csv", 6, "invalid text team: contains the control character U+0000"),
        ("users.csv", 7, "invalid identifier manager_id: contains the character U+202E (Cf)"),
        ("users.csv", 8, "invalid identifier org_id: contains the character U+0007 (Cc)"),
        ("users.csv", 10, "invalid text team: contains the control character U+000D"),
        ("users.csv", 11, "unreadable CSV row: field larger than field limit (131072)"),
        ("users.csv", 13, "not valid UTF-8"),
    ]
    texts = {number: text for _, number, _, text in rejected}
    assert texts[3] == ",".join(rows[1])
    cut = texts[10]
    assert len(cut) < QUARANTINED_TEXT_MAX_CHARS + 100 and cut.startswith("acme,u7,u7@x,Gus,TTT")
    assert cut.endswith(f" [... cut: {len(','.join(rows[6]))} characters, {len(','.join(rows[6]))} bytes in all]")
    assert texts[13] == "acme,u10,u10@x,Jo\ufffd,Ops,u1,member"
    assert (result.users, result.projects) == (2, 0)
    assert registered(paths.lake_dir, "select user_id from raw.directory_users order by 1") == [("u1",), ("u9",)]


def test_files_named_with_undecodable_bytes_or_control_characters_are_reported_by_a_printable_name(tmp_path):
    paths = test_paths(tmp_path)
    folder = paths.raw_dir / PROJECT
    write(folder / "S1.jsonl", [compact(usage_line(msg="m1"))])
    write(folder / "S\n\u202e2.jsonl", [compact(usage_line(session="S2", msg="m2"))])
    with open(os.fsencode(folder) + b"/S\xff3.jsonl", "w") as handle:  # not UTF-8: a lone surrogate in Python
        handle.write(compact(usage_line(session="S3", msg="m3")) + "\n")

    claude_code.load_all(paths.raw_dir, paths.lake_dir)

    assert registered(paths.lake_dir, "select source_file, message_id from raw.claude_code_requests order by 2") == [
        (f"{PROJECT}/S1.jsonl", "m1"),
        (f"{PROJECT}/S\\u000A\\u202E2.jsonl", "m2"),
    ]
    assert registered(paths.lake_dir, "select source_file, line_number, reason from raw.quarantined_lines") == [
        (f"{PROJECT}/S\\uDCFF3.jsonl", 0, "unreadable file: its name is not valid UTF-8")
    ]


def test_a_directory_file_that_is_a_fifo_or_a_link_is_not_read_and_says_why(tmp_path):
    """users.csv as a FIFO blocked the directory load (and so every refresh) for ever; projects.csv as a link to a
    file outside the directory was read. Neither is opened now: each is one quarantine row at line 0, and the
    other directory files load."""
    directory_dir = tmp_path / "directory"
    write_directory(directory_dir, orgs=[("acme", "Acme", "UTC")], users=[], projects=[])
    outside = tmp_path / "outside.csv"
    outside.write_text("org_id,project_id,name,kind\nacme,p-secret,Secret Project,single\n", encoding="utf-8")
    (directory_dir / "users.csv").unlink()
    os.mkfifo(directory_dir / "users.csv")
    (directory_dir / "projects.csv").unlink()
    os.symlink(outside, directory_dir / "projects.csv")
    lake_dir = tmp_path / "lake"
    result = directory.load_directory(directory_dir, lake_dir)  # returns at once: the FIFO is never opened
    assert (result.orgs, result.users, result.projects, result.quarantined_rows) == (1, 0, 0, 2)
    assert registered(
        lake_dir, "select source_file, line_number, reason, line from raw.quarantined_lines order by 1"
    ) == [
        ("projects.csv", 0, "skipped: symbolic link (links are not followed)", ""),
        ("users.csv", 0, "skipped: not a regular file (FIFO, socket or device)", ""),
    ]
