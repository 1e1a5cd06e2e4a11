"""Gemini CLI chat recordings: the parser on hand-written fixtures in the real formats, the collector's
content-free copy, the real pipeline (lake, dbt) and parity with the real ccusage 20.0.24 binary.

Fixtures (tests/fixtures/gemini/homes/<user email>/tmp/<project folder>/chats/...), figures worked by hand with
ccusage's rules (input includes cached when total = input + output + thoughts + tool; tool is input; thoughts
are billed as output; a remainder of total with output 0 is the output):

ana, legacy .json (Gemini CLI < 0.39, pretty-printed, sha256-named project folder: no project), 2026-03-02:
  g-0001 pro  input 12000 cached 8000 output 300 thoughts 150 total 12450 = 12000+300+150 -> in 4000,
              cache read 8000, out 300 + 150 = 450 (reasoning 150); message starts on line 17
  g-0002 pro  input 15500 cached 12000 output 120 tool 40 total 15660 = 15500+120+40 -> in 3500 + 40 = 3540,
              cache read 12000, out 120; line 39
  g-0003 pro  tokens null (no usage recorded): not a request
  g-0004 flash input 900 output 0 total 1000 at 23:59:30 -> in 900, out 1000 - 900 = 100; line 95
ana, .jsonl (slug-named project folder "webshop"), 2026-04-20:
  g-1001 3-pro appended three times (tokens null, with tokens, with tool calls): counted once, the copy on
         line 6: input 20000 cached 15000 output 500 thoughts 700 total 21200 -> in 5000, cache read 15000,
         out 1200 (reasoning 700)
  g-1002 no model: 3-pro, the file's last model (fallback): in 3000, out 200; then rewound ($rewindTo), still
         billed. A $set.messages re-sync repeats g-1001: not read.
  g-1003 3-flash input 1000 cached 400 output 50 total 1450 (= input + output + cached: input is uncached)
         -> in 1000, cache read 400, out 50
  line 14: a half-written line -> quarantined
ana, subagent .jsonl: g-2001 flash input 6000 output 80 thoughts 20 total 6100 -> in 6000, out 100 (reasoning 20)
ben, a legacy .json that Gemini CLI copied into a .jsonl on resume (the .json stays):
  g-3001 flash (both files) input 8000 cached 6000 output 400 thoughts 100 tool 10 total 8510
         -> in 2000 + 10 = 2010, cache read 6000, out 500 (reasoning 100), counted once (ccusage: twice)
  g-3002 flash 2026-03-11 input 9000 cached 8000 output 250 total 9250 -> in 1000, cache read 8000, out 250
eve: hostile files (quarantine rows at their lines; one good request g-4006 pro in 100 out 5, 2026-04-01, and
  g-5001 flash in 700 out 70, 2026-04-02, beside bad ones); a .json broken on line 7.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import duckdb
import pytest

from orchestration.bench import ccusage_parity
from orchestration.ingest import agent_logs, gemini
from tests.fixtures import FIXTURES_DIR
from tests.fixtures.warehouse import assert_no_content_stored, build_warehouse, test_paths, write_directory

FIXTURES = FIXTURES_DIR / "gemini" / "homes"
ANA, BEN, EVE = "ana@acme.example", "ben@acme.example", "eve@acme.example"
ANA_HASH = "dbc31b1465ce4e4031c677be7a94e736b1297baabf00bbf1f3b1c97f906dab97"
BEN_HASH = "7d870069265514ed594d2ea944a894f0a5ecea6dc1595c9e56993b5c1b34bb80"
LEGACY = f"{ANA}/tmp/{ANA_HASH}/chats/session-2026-03-02T09-15-3f2a9c1e.json"
CURRENT = f"{ANA}/tmp/webshop/chats/session-2026-04-20T14-02-7c9d11aa.jsonl"
S1, S2 = "3f2a9c1e-4b5d-4e6f-8a7b-9c0d1e2f3a4b", "7c9d11aa-1111-4222-8333-944455556666"
SUB = "9e8d7c6b-aaaa-4bbb-8ccc-ddddeeeeffff"
SUBAGENT = f"{ANA}/tmp/webshop/chats/{S2}/{SUB}.jsonl"
S3 = "5b6e0f1a-2222-4333-8444-555566667777"
BEN_JSON = f"{BEN}/tmp/{BEN_HASH}/chats/session-2026-03-10T08-00-5b6e0f1a.json"
BEN_JSONL = BEN_JSON + "l"
EVE_LINES = f"{EVE}/tmp/evilproj/chats/session-2026-04-01T10-00-e0000000.jsonl"
EVE_MIXED = f"{EVE}/tmp/evilproj/chats/session-2026-04-02T09-00-e0000000.json"
EVE_BROKEN = f"{EVE}/tmp/evilproj/chats/session-2026-04-03T08-00-e0000000.json"
PRO, FLASH, PRO3, FLASH3 = "gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-pro-preview", "gemini-3-flash-preview"
SECRETS = (
    "SECRET-PROMPT-gemini",
    "SECRET-RESPONSE-gemini",
    "SECRET-THOUGHT-gemini",
    "SECRET-TOOL-gemini",
    "SECRET-FILE-gemini",
    "SECRET-INFO-gemini",
)
HOSTILE_SECRETS = (
    "SECRET-TOKENS-gemini",
    "SECRET-MODEL-gemini",
    "SECRET-TOKENS2-gemini",
    "SECRET-BROKEN-gemini",
    "SECRET-STRAY-gemini",
)


def lines_of(text: str) -> list[tuple[int, str]]:
    """The framework's view of a file: its non-blank physical lines, numbered from 1."""
    return [(number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]


def parse(relative: str, text: str | None = None) -> agent_logs.ParsedFile:
    path = FIXTURES / relative
    return gemini.parse_file(f"gemini/{relative}", lines_of(path.read_text() if text is None else text))


def figures(parsed: agent_logs.ParsedFile) -> dict[str, tuple]:
    return {
        r.request_key.split("/", 1)[1]: (
            r.line_number,
            r.model,
            r.is_fallback_model,
            r.input_tokens,
            r.output_tokens,
            r.cache_read_input_tokens,
            r.cache_creation_input_tokens,
            r.reasoning_output_tokens,
        )
        for r in parsed.requests
    }


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# -- the parser -------------------------------------------------------------------------------------------------


def test_legacy_json_document_counts_each_message_with_tokens_at_the_line_where_it_starts():
    parsed = parse(LEGACY)
    assert figures(parsed) == {
        "g-0001": (17, PRO, False, 4000, 450, 8000, 0, 150),
        "g-0002": (39, PRO, False, 3540, 120, 12000, 0, 0),
        "g-0004": (95, FLASH, False, 900, 100, 0, 0, 0),
    }
    assert {r.request_key for r in parsed.requests} == {f"{S1}/g-0001", f"{S1}/g-0002", f"{S1}/g-0004"}
    assert {r.session_id for r in parsed.requests} == {S1}
    assert [r.event_at_utc for r in parsed.requests] == [
        at("2026-03-02T09:15:20"),
        at("2026-03-02T09:16:05"),
        at("2026-03-02T23:59:30"),
    ]
    # The project folder is the sha256 of the project's path: no project from it.
    assert parsed.sessions == [
        agent_logs.Session(
            line_number=1,
            session_id=S1,
            first_at_utc=at("2026-03-02T09:15:00"),
            last_at_utc=at("2026-03-02T23:59:31"),
            cwd=None,
        )
    ]
    assert parsed.quarantined == []


def test_jsonl_counts_a_reappended_message_once_falls_back_to_the_last_model_and_quarantines_a_torn_line():
    parsed = parse(CURRENT)
    assert figures(parsed) == {
        "g-1001": (6, PRO3, False, 5000, 1200, 15000, 0, 700),
        "g-1002": (8, PRO3, True, 3000, 200, 0, 0, 0),
        "g-1003": (12, FLASH3, False, 1000, 50, 400, 0, 0),
    }
    # Bounds: startTime, and the last lastUpdated ($set on line 11, 14:05:01)... and no later one: g-1003 at
    # 14:05:40 is not in a lastUpdated, so the session's records end at 14:05:01; dbt widens it by its requests.
    assert parsed.sessions == [
        agent_logs.Session(
            line_number=1,
            session_id=S2,
            first_at_utc=at("2026-04-20T14:02:00"),
            last_at_utc=at("2026-04-20T14:05:01"),
            cwd="webshop",
        )
    ]
    assert parsed.quarantined == [(14, gemini.INVALID_JSON)]


def test_subagent_file_is_its_own_session():
    parsed = parse(SUBAGENT)
    assert figures(parsed) == {"g-2001": (3, FLASH, False, 6000, 100, 0, 0, 20)}
    assert [(s.session_id, s.first_at_utc, s.last_at_utc, s.cwd) for s in parsed.sessions] == [
        (SUB, at("2026-04-20T14:04:00"), at("2026-04-20T14:04:11"), "webshop")
    ]


def test_a_json_and_its_jsonl_migration_give_the_same_request_keys():
    legacy, migrated = parse(BEN_JSON), parse(BEN_JSONL)
    assert figures(legacy) == {"g-3001": (17, FLASH, False, 2010, 500, 6000, 0, 100)}
    assert figures(migrated) == {
        "g-3001": (3, FLASH, False, 2010, 500, 6000, 0, 100),
        "g-3002": (6, FLASH, False, 1000, 250, 8000, 0, 0),
    }
    assert {r.request_key for r in legacy.requests} < {r.request_key for r in migrated.requests}


def test_hostile_lines_are_quarantined_by_line_with_field_names_only():
    parsed = parse(EVE_LINES)
    assert parsed.quarantined == [
        (2, "not a JSON object"),
        (3, "tokens.input is not a whole number of at least 0"),
        (4, "tokens.output is not a whole number of at least 0"),
        (5, "timestamp is missing or not an ISO 8601 time with an offset"),
        (6, "model is not a string"),
        (7, "tokens is not an object"),
        (11, "invalid JSON"),
        (12, "id is not a string"),
        (13, "duplicate key tokens.output"),  # parsers disagree on which value counts
        (14, "duplicate key id"),
        (15, "invalid JSON"),  # NaN is not JSON
        (16, "tokens.input is not a whole number of at least 0"),  # 1e400
        (17, "duplicate key type"),
    ]
    # The parser keeps lines 8, 9 and 10; the framework's value contract then quarantines 9 (1999) and 10
    # (2,000,000,000 input tokens).
    assert sorted(figures(parsed)) == ["g-4006", "g-4007", "g-4008"]
    checked = agent_logs.check(parsed)
    assert figures(checked) == {"g-4006": (8, PRO, False, 100, 5, 0, 0, 0)}
    assert sorted(line for line, _ in checked.quarantined) == [2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    # The session's bounds are its own (startTime), not the hostile request times.
    assert [(s.first_at_utc, s.last_at_utc, s.cwd) for s in checked.sessions] == [
        (at("2026-04-01T00:00:00"), at("2026-04-01T00:00:00"), "evilproj")
    ]
    reasons = " ".join(reason for _, reason in checked.quarantined)
    assert "SECRET" not in reasons


def test_a_bad_message_of_a_json_document_is_quarantined_at_its_line_beside_good_ones():
    parsed = parse(EVE_MIXED)
    assert figures(parsed) == {"g-5001": (6, FLASH, False, 700, 70, 0, 0, 0)}
    assert parsed.quarantined == [(22, "tokens.cached is not a whole number of at least 0")]


def test_a_broken_json_document_is_one_quarantine_row_at_the_line_where_it_breaks():
    parsed = parse(EVE_BROKEN)
    assert parsed.requests == [] and parsed.sessions == []
    assert parsed.quarantined == [(7, gemini.INVALID_DOCUMENT)]


def test_token_rules_follow_ccusage():
    usage = gemini.usage_of
    # Gemini CLI's own total (input includes cached): cached is taken out of input.
    assert vars(usage({"input": 100, "output": 10, "cached": 60, "thoughts": 5, "tool": 2, "total": 117})) == {
        "input_tokens": 42,
        "output_tokens": 15,
        "cache_read_input_tokens": 60,
        "reasoning_output_tokens": 5,
    }
    # A total that counts cached apart: input is already uncached.
    assert vars(usage({"input": 100, "output": 10, "cached": 60, "total": 170})) == {
        "input_tokens": 100,
        "output_tokens": 10,
        "cache_read_input_tokens": 60,
        "reasoning_output_tokens": 0,
    }
    # No total: nothing missing. Cached larger than input: input 0.
    assert vars(usage({"input": 10, "output": 1, "cached": 50, "total": 11})) == {
        "input_tokens": 0,
        "output_tokens": 1 + 0,
        "cache_read_input_tokens": 50,
        "reasoning_output_tokens": 0,
    }
    # Only a total: it is the output. A total above the parts with output > 0: the rest is reasoning.
    assert vars(usage({"total": 654})) == {
        "input_tokens": 0,
        "output_tokens": 654,
        "cache_read_input_tokens": 0,
        "reasoning_output_tokens": 0,
    }
    assert vars(usage({"input": 100, "output": 10, "total": 130})) == {
        "input_tokens": 100,
        "output_tokens": 30,
        "cache_read_input_tokens": 0,
        "reasoning_output_tokens": 20,
    }
    assert usage({"input": 0, "output": 0, "cached": 0, "total": 0}) is None
    assert usage({"input": True}) == "tokens.input is not a whole number of at least 0"


def test_single_line_document_and_a_message_without_id_or_model():
    doc = {
        "sessionId": "s-1",
        "startTime": "2026-05-01T00:00:00Z",
        "messages": [
            {"type": "gemini", "timestamp": "2026-05-01T00:00:01Z", "tokens": {"input": 5, "output": 1, "total": 6}},
            {
                "id": "m2",
                "type": "gemini",
                "timestamp": "2026-05-01T00:00:02+02:00",
                "model": "gemini-2.5-flash",
                "tokens": {"input": 5, "output": 1},
            },
            {"type": "gemini", "timestamp": "2026-05-01T00:00:03Z", "tokens": {"input": 7, "output": 2}},
        ],
    }
    parsed = gemini.parse_file("gemini/a@b.example/tmp/p/chats/x.json", [(1, json.dumps(doc))])
    assert [(r.request_key, r.line_number, r.model, r.is_fallback_model, r.event_at_utc) for r in parsed.requests] == [
        ("s-1/#0", 1, None, False, at("2026-05-01T00:00:01")),
        ("s-1/m2", 1, "gemini-2.5-flash", False, at("2026-04-30T22:00:02")),
        ("s-1/#2", 1, "gemini-2.5-flash", True, at("2026-05-01T00:00:03")),
    ]
    # Without sessionId, the file's stem names the session (as ccusage).
    parsed = gemini.parse_file(
        "gemini/a@b.example/tmp/p/chats/session-x.jsonl",
        [
            (
                1,
                json.dumps(
                    {
                        "id": "m",
                        "type": "gemini",
                        "timestamp": "2026-05-01T00:00:01Z",
                        "model": "gemini-2.5-pro",
                        "tokens": {"input": 1, "output": 1},
                    }
                ),
            )
        ],
    )
    assert [r.request_key for r in parsed.requests] == ["session-x/m"]


def test_duplicate_keys_in_a_document_quarantine_their_message_or_the_document(tmp_path):
    message = (
        '{"id":"m1","type":"gemini","timestamp":"2026-05-01T00:00:01Z","model":"gemini-2.5-pro",'
        '"content":"SECRET-RESPONSE-gemini","tokens":{"input":10,"output":2,"cached":0,"cached":9}}'
    )
    good = '{"id":"m2","type":"gemini","timestamp":"2026-05-01T00:00:02Z","tokens":{"input":1,"output":1}}'
    text = '{\n "sessionId": "s-dup",\n "messages": [\n  ' + message + ",\n  " + good + "\n ]\n}"
    parsed = gemini.parse_file("gemini/a@b.example/tmp/p/chats/x.json", gemini.loader_lines(text))
    assert parsed.quarantined == [(4, "duplicate key tokens.cached")]
    assert [(r.request_key, r.line_number, r.model) for r in parsed.requests] == [("s-dup/m2", 5, None)]
    whole = '{"sessionId": "a", "sessionId": "b", "messages": [' + good + "]}"
    assert gemini.parse_file("gemini/a@b.example/tmp/p/chats/x.json", [(1, whole)]).quarantined == [
        (1, "duplicate key sessionId")
    ]
    for body in (text, whole):
        path = tmp_path / "x.json"
        path.write_text(body)
        stripped = gemini.strip_file(path).decode()
        assert "SECRET" not in stripped
        assert gemini.parse_file(
            "gemini/a@b.example/tmp/p/chats/x.json", gemini.loader_lines(stripped)
        ) == gemini.parse_file("gemini/a@b.example/tmp/p/chats/x.json", gemini.loader_lines(body))


def test_wanted_files():
    wanted = [
        "tmp/abc/chats/session-2026-01-01T00-00-abcdef12.json",
        "tmp/abc/chats/session-2026-01-01T00-00-abcdef12.jsonl",
        "tmp/abc/chats/parent-id/child-id.jsonl",
        "tmp/abc/chats/session-x.jsonl.gz",
    ]
    unwanted = [
        "tmp/abc/logs.json",
        "tmp/abc/checkpoint-tag.json",
        "settings.json",
        "projects.json",
        "history/abc/chats/x.jsonl",
        "tmp/abc/chats/session-x.jsonl.unreadable-1",
        "tmp/chats/x.json",
    ]
    assert all(gemini.wanted(PurePosixPath(p)) for p in wanted)
    assert not any(gemini.wanted(PurePosixPath(p)) for p in unwanted)


# -- the collector's copy ------------------------------------------------------------------------------------------

ALL_FILES = (LEGACY, CURRENT, SUBAGENT, BEN_JSON, BEN_JSONL, EVE_LINES, EVE_MIXED, EVE_BROKEN)


@pytest.mark.parametrize("relative", ALL_FILES)
def test_stripped_copy_parses_the_same_and_holds_no_content(relative):
    stripped = gemini.strip_file(FIXTURES / relative)
    assert stripped is not None
    for secret in (*SECRETS, *HOSTILE_SECRETS, "SECRET"):
        assert secret.encode() not in stripped
    assert parse(relative, stripped.decode()) == parse(relative)


def test_stripped_copy_of_a_gzip_file_is_gzip(tmp_path):
    path = tmp_path / "session-x.jsonl.gz"
    path.write_bytes(gzip.compress((FIXTURES / CURRENT).read_bytes()))
    stripped = gzip.decompress(gemini.strip_file(path)).decode()
    assert parse(CURRENT, stripped) == parse(CURRENT)


def framework_lines(tmp_path: Path, name: str, data: bytes) -> list[tuple[int, str | None]]:
    """The lines the real framework hands to parse_file for a file with these bytes."""
    from orchestration.ingest.lines import read_lines

    raw = tmp_path / "raw"
    path = raw / "gemini" / "a@b.example" / "tmp" / "p" / "chats" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    with duckdb.connect() as conn:
        assert read_lines(conn, [path], raw, tmp_path) == {}
        return [pair for _, _, _, lines in agent_logs._file_lines(conn, gemini.FORMAT.line_markers) for pair in lines]


ODD_LINES = (
    "\ufeff"
    + json.dumps({"sessionId": "s-odd", "startTime": "2026-05-01T00:00:00Z"})
    + "\r\n"
    + "\u00a0 \u3000\n"  # blank to the loader (DuckDB's trim), not JSON whitespace
    + "\t\n"  # not blank to the loader: not JSON
    + json.dumps(
        {
            "id": "m1",
            "type": "gemini",
            "timestamp": "2026-05-01T00:00:01Z",
            "model": "gemini-2.5-pro",
            "content": "SECRET-RESPONSE-gemini",
            "tokens": {"input": 10, "output": 2},
        }
    )
    + "\r\n"
    + "\n\n"
)


def test_loader_lines_are_the_frameworks(tmp_path):
    assert gemini.loader_lines(ODD_LINES) == framework_lines(tmp_path, "x.jsonl", ODD_LINES.encode())


@pytest.mark.parametrize("name", ["x.jsonl", "x.json"])
def test_stripped_copy_of_odd_whitespace_reads_the_same_through_the_framework(tmp_path, name):
    text = (
        ODD_LINES
        if name.endswith(".jsonl")
        else (
            '\ufeff{\r\n "sessionId": "s-odd",\r\n\u00a0\n "messages": [\r\n  '
            + json.dumps(
                {
                    "id": "m1",
                    "type": "gemini",
                    "timestamp": "2026-05-01T00:00:01Z",
                    "model": "gemini-2.5-pro",
                    "content": "SECRET-RESPONSE-gemini",
                    "tokens": {"input": 10, "output": 2},
                }
            )
            + "\r\n ]\r\n}\r\n"
        )
    )
    original = tmp_path / "original" / name
    original.parent.mkdir()
    original.write_text(text, encoding="utf-8")
    stripped = gemini.strip_file(original)
    assert b"SECRET" not in stripped
    source = f"gemini/a@b.example/tmp/p/chats/{name}"
    before = gemini.parse_file(source, framework_lines(tmp_path / "a", name, text.encode()))
    after = gemini.parse_file(source, framework_lines(tmp_path / "b", name, stripped))
    assert before == after
    assert [(r.request_key, r.input_tokens, r.output_tokens) for r in before.requests] == [("s-odd/m1", 10, 2)]
    if name.endswith(".jsonl"):
        assert before.quarantined == [(3, gemini.INVALID_JSON)]


def test_a_file_that_is_not_utf8_stays_unreadable(tmp_path):
    path = tmp_path / "session-x.jsonl"
    path.write_bytes(b'{"sessionId":"s"}\n{"content":"SECRET-\xff"}\n')
    copy = gemini.strip_file(path)
    assert b"SECRET" not in copy
    with pytest.raises(UnicodeDecodeError):
        copy.decode("utf-8")


def test_a_json_document_that_cannot_be_read_is_sent_unreadable_at_the_same_line():
    stripped = gemini.strip_file(FIXTURES / EVE_BROKEN)
    assert b"SECRET" not in stripped
    assert parse(EVE_BROKEN, stripped.decode()).quarantined == [(7, gemini.INVALID_DOCUMENT)]
    truncated = (FIXTURES / LEGACY).read_text()[:2000]  # caught while Gemini CLI rewrote it
    broken = gemini.parse_file("gemini/x.json", gemini.loader_lines(truncated))
    copy = gemini.strip_text("x.json", truncated)
    assert "SECRET" not in copy
    assert broken.quarantined == [(max(gemini.loader_lines(truncated))[0], gemini.INVALID_DOCUMENT)]
    assert gemini.parse_file("gemini/x.json", gemini.loader_lines(copy)) == broken


def test_a_gzip_file_that_is_not_gzip_stays_unreadable(tmp_path):
    path = tmp_path / "session-x.jsonl.gz"
    path.write_bytes(b"SECRET-PROMPT-gemini")
    copy = gemini.strip_file(path)
    assert b"SECRET" not in copy
    with pytest.raises(OSError):
        gzip.decompress(copy)


# -- the real pipeline ----------------------------------------------------------------------------------------------


def copy_homes(raw_dir: Path, emails=(ANA, BEN, EVE)) -> None:
    for email in emails:
        shutil.copytree(FIXTURES / email, raw_dir / "gemini" / email)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    paths = test_paths(tmp_path_factory.mktemp("gemini"))
    copy_homes(paths.raw_dir)
    write_directory(
        paths.directory,
        [("acme", "Acme", "UTC")],
        [
            ("acme", "u-ana", ANA, "Ana", "web", "", "member"),
            ("acme", "u-ben", BEN, "Ben", "billing", "", "member"),
            ("acme", "u-eve", EVE, "Eve", "web", "", "member"),
        ],
        [],
    )
    build_warehouse(paths)
    return paths


def fetch(paths, sql: str, params=()):
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return conn.execute(sql, params).fetchall()


def test_pipeline_counts_each_request_once(warehouse):
    rows = fetch(
        warehouse,
        """
        select cast(requested_at_utc as date)::varchar, model, count(*), sum(uncached_input_tokens),
               sum(output_tokens), sum(cache_read_input_tokens), sum(cache_creation_input_tokens)
        from analytics.fct_model_requests where source = 'gemini' group by all order by 1, 2""",
    )
    assert rows == [
        ("2026-03-02", FLASH, 1, 900, 100, 0, 0),
        ("2026-03-02", PRO, 2, 4000 + 3540, 450 + 120, 8000 + 12000, 0),
        ("2026-03-10", FLASH, 1, 2010, 500, 6000, 0),  # in the .json and its .jsonl copy: once
        ("2026-03-11", FLASH, 1, 1000, 250, 8000, 0),
        ("2026-04-01", PRO, 1, 100, 5, 0, 0),
        ("2026-04-02", FLASH, 1, 700, 70, 0, 0),
        ("2026-04-20", FLASH, 1, 6000, 100, 0, 0),
        ("2026-04-20", FLASH3, 1, 1000, 50, 400, 0),
        ("2026-04-20", PRO3, 2, 5000 + 3000, 1200 + 200, 15000, 0),
    ]


def test_pipeline_sessions_are_gemini_cli_with_the_project_folder_name(warehouse):
    rows = fetch(
        warehouse,
        """
        select session_id, user_id, agent, project_id, model_requests, cast(round(cost_usd, 9) as double)
        from analytics.fct_sessions where source = 'gemini' order by session_id""",
    )
    # Session 7c9d11aa at the gemini-3-pro-preview rates ($2 in, $12 out, $0.20 cache read per million) and
    # gemini-3-flash-preview ($0.50, $3, $0.05), thoughts billed as output:
    #   g-1001 5000 * 2 + 1200 * 12 + 15000 * 0.2 = 27,400; g-1002 3000 * 2 + 200 * 12 = 8,400;
    #   g-1003 1000 * 0.5 + 50 * 3 + 400 * 0.05 = 670 -> $0.03647
    assert rows[2] == (S2, "u-ana", "gemini-cli", "webshop", 3, pytest.approx(0.03647))
    assert [row[:5] for row in rows] == [
        (S1, "u-ana", "gemini-cli", None, 3),  # sha256-named project folder: no project
        (S3, "u-ben", "gemini-cli", None, 2),  # the .json and its .jsonl copy: one session, two requests
        (S2, "u-ana", "gemini-cli", "webshop", 3),
        (SUB, "u-ana", "gemini-cli", "webshop", 1),
        ("e0000000-0000-4000-8000-000000000001", "u-eve", "gemini-cli", "evilproj", 1),
        ("e0000000-0000-4000-8000-000000000002", "u-eve", "gemini-cli", "evilproj", 1),
    ]


def test_pipeline_quarantines_with_file_and_line_and_stores_no_content(warehouse):
    rows = fetch(
        warehouse,
        """
        select source_file, line_number, reason, line from raw.quarantined_lines
        where source = 'gemini' order by source_file, line_number""",
    )
    found = sorted((file.rsplit("/", 1)[-1], line, reason) for file, line, reason, _ in rows)
    assert [(name, line) for name, line, _ in found] == [
        ("session-2026-04-01T10-00-e0000000.jsonl", line)
        for line in (2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17)
    ] + [
        ("session-2026-04-02T09-00-e0000000.json", 22),
        ("session-2026-04-03T08-00-e0000000.json", 7),
        ("session-2026-04-20T14-02-7c9d11aa.jsonl", 14),
    ]
    assert all(line is None for *_, line in rows)
    assert all(file.startswith("gemini/") for file, *_ in rows)
    assert_no_content_stored(warehouse, (*SECRETS, *HOSTILE_SECRETS))


# -- parity with ccusage ----------------------------------------------------------------------------------------------


def ccusage_bin() -> str:
    command = ccusage_parity.ccusage_command()
    if not Path(command).exists():
        pytest.skip("ccusage 20.0.24 is not installed (make .tools/node_modules/.bin/ccusage)")
    version = subprocess.run([command, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert version.endswith(ccusage_parity.CCUSAGE_VERSION), version
    return command


def test_parity_with_ccusage_per_day_and_model(warehouse, tmp_path):
    """ccusage over the good homes (ana and ben; eve's hostile files are read differently: ccusage counts a
    malformed count as 0 where we quarantine the message), with the .json that Gemini CLI migrated to .jsonl
    left out of ccusage's copy: ccusage counts a migrated message twice (checked below), we count it once."""
    command = ccusage_bin()
    homes = tmp_path / "homes"
    copy_homes(homes, (ANA, BEN))
    (homes / "gemini" / BEN_JSON).unlink()
    theirs = ccusage_parity.agent_ccusage_daily("gemini", homes, "UTC", command)
    ours = ccusage_parity.agent_warehouse_daily("gemini", warehouse.warehouse, "UTC")
    ours = {key: value for key, value in ours.items() if key[0] not in ("2026-04-01", "2026-04-02")}  # eve's days
    assert theirs == ours
    # and by hand, ccusage's kinds (output without thoughts):
    assert theirs[("2026-04-20", PRO3)] == {
        "inputTokens": 8000,
        "outputTokens": 700,
        "cacheReadTokens": 15000,
        "cacheCreationTokens": 0,
    }
    assert theirs[("2026-03-02", PRO)] == {
        "inputTokens": 7540,
        "outputTokens": 420,
        "cacheReadTokens": 20000,
        "cacheCreationTokens": 0,
    }
    # The day totals (input + output + cache read + thoughts) agree too.
    env = {**gemini.ccusage_env([homes / "gemini" / ANA, homes / "gemini" / BEN])}
    report = json.loads(
        subprocess.run(
            [command, "gemini", "daily", "--json", "--offline", "--timezone", "UTC"],
            capture_output=True,
            text=True,
            check=True,
            env={**__import__("os").environ, **env},
        ).stdout
    )
    day_totals = {day["date"]: day["totalTokens"] for day in report["daily"]}
    warehouse_totals = dict(
        fetch(
            warehouse,
            """
        select cast(requested_at_utc as date)::varchar,
               sum(uncached_input_tokens + output_tokens + cache_read_input_tokens)
        from analytics.fct_model_requests where source = 'gemini' group by 1""",
        )
    )
    assert day_totals == {
        day: int(total) for day, total in warehouse_totals.items() if day not in ("2026-04-01", "2026-04-02")
    }


def test_known_difference_ccusage_counts_a_migrated_json_twice(tmp_path):
    command = ccusage_bin()
    homes = tmp_path / "homes"
    copy_homes(homes, (BEN,))
    theirs = ccusage_parity.agent_ccusage_daily("gemini", homes, "UTC", command)
    assert theirs[("2026-03-10", FLASH)] == {
        "inputTokens": 2 * 2010,
        "outputTokens": 2 * 400,
        "cacheReadTokens": 2 * 6000,
        "cacheCreationTokens": 0,
    }
    assert theirs[("2026-03-11", FLASH)] == {
        "inputTokens": 1000,
        "outputTokens": 250,
        "cacheReadTokens": 8000,
        "cacheCreationTokens": 0,
    }


# -- the sample -------------------------------------------------------------------------------------------------


def test_the_sample_is_deterministic_counts_what_it_says_and_reads_as_ccusage_reads_it(tmp_path):
    import random

    from orchestration.sample.agents import SampleUser
    from orchestration.sample.agents import gemini as sample

    users = [
        SampleUser(
            f"u{i}@acme.example",
            zone,
            (f"/home/u{i}/src/webshop", f"/home/u{i}/src/Billing_API"),
            ("acme/webshop", "acme/billing-api"),
            activity,
        )
        for i, (zone, activity) in enumerate([("Europe/Berlin", 0.9), ("Asia/Tokyo", 0.4), ("America/New_York", 0.7)])
    ]
    dates = [dt.date(2026, 11, 2) + dt.timedelta(days=i) for i in range(20)]
    written = sample.write_sample(tmp_path / "a", users, dates, random.Random("seed:gemini"))
    assert written == sample.write_sample(tmp_path / "b", users, dates, random.Random("seed:gemini"))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert all(gemini.wanted(PurePosixPath(*f.parts[2:])) for f in files)
    # Both eras: legacy .json in sha256-named folders (the user who has not upgraded), .jsonl in slug folders.
    assert {f.suffix for f in files} == {".json", ".jsonl"}
    assert any(len(f.parts[3]) == 64 for f in files) and any(f.parts[3] == "billing-api" for f in files)
    first: dict[str, tuple] = {}
    for f in files:
        parsed = agent_logs.check(gemini.parse_file(str(f), gemini.loader_lines((tmp_path / "a" / f).read_text())))
        assert {reason for _, reason in parsed.quarantined} <= {gemini.INVALID_JSON, gemini.INVALID_DOCUMENT}
        for r in parsed.requests:
            first.setdefault(r.request_key, r)  # files in order, as dbt keeps the first copy
    assert len(first) == written > 300
    assert any(r.is_fallback_model for r in first.values())
    ours: dict = {}
    for r in first.values():
        row = ours.setdefault((r.event_at_utc.date().isoformat(), r.model), dict.fromkeys(gemini.CCUSAGE_KINDS, 0))
        row["inputTokens"] += r.input_tokens
        row["outputTokens"] += r.output_tokens - r.reasoning_output_tokens
        row["cacheReadTokens"] += r.cache_read_input_tokens
    command = ccusage_bin()
    assert ccusage_parity.agent_ccusage_daily("gemini", tmp_path / "a", "UTC", command) == ours


# -- hostile values everywhere ---------------------------------------------------------------------------------------

FUZZ = "SECRET-FUZZ-gemini"
REPLACEMENTS = (FUZZ, "", 1.5, -1, 0, 10**30, True, None, [], {}, [FUZZ], {"text": FUZZ}, "2026-05-01T00:00:00Z")


def _paths(value, prefix=()):
    """Every (path, value) of a JSON value, to a depth of 4 (a .json message's token counts)."""
    if isinstance(value, dict) and len(prefix) < 4:
        for key, item in value.items():
            yield (*prefix, key), item
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list) and len(prefix) < 4:
        for index, item in enumerate(value[:3]):
            yield (*prefix, index), item
            yield from _paths(item, (*prefix, index))


def _replaced(value, path, new):
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


def test_any_value_of_another_type_never_crashes_and_its_copy_reads_the_same():
    """Each fixture record (a .jsonl line, a message of a .json) with one value replaced by one of another type:
    the parser and the value contract never raise, and the collector's copy gives the same records and
    quarantine rows, without the text (unless it is in a field the warehouse stores: ids and the model)."""
    variants = 0
    for relative in (CURRENT, SUBAGENT, BEN_JSON, LEGACY):
        text = (FIXTURES / relative).read_text()
        name = f"gemini/{relative}"
        if relative.endswith(".jsonl"):
            lines = text.split("\n")
            cases = []
            for index, line in enumerate(lines):
                try:
                    cases.append((index, json.loads(line)))
                except ValueError:
                    continue  # the torn line
        else:
            document = json.loads(text)
            cases = [(None, document)]
        for index, record in cases:
            for path, _ in _paths(record):
                for new in REPLACEMENTS:
                    changed = _replaced(record, path, new)
                    if index is None:
                        body = json.dumps(changed, indent=2)
                    else:
                        body = "\n".join(json.dumps(changed) if i == index else line for i, line in enumerate(lines))
                    parsed = agent_logs.check(gemini.parse_file(name, gemini.loader_lines(body)))
                    copy = gemini.strip_text(relative, body)
                    assert agent_logs.check(gemini.parse_file(name, gemini.loader_lines(copy))) == parsed, (path, new)
                    stored = path[-1] in gemini.STORED_TEXT_FIELDS or (
                        len(path) == 1 and path[0] in gemini.STORED_TEXT_FIELDS
                    )
                    if FUZZ in json.dumps(new) and not stored:
                        assert FUZZ not in copy, (path, new)
                    variants += 1
    assert variants > 2000
