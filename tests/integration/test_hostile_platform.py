"""Hostile and extreme platform events (issue 12): each is quarantined with its reason, file and line, the good
lines beside it are loaded, and a warehouse built over such values succeeds.

Every line here starts with `{` and ends with `}`, so the typed fast path reads it first (typed_read.py) and
the exact path gives the reason; the parity test at the end holds both paths to the same verdicts."""

import json
import os
import stat
import tempfile
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest import lake, platform
from orchestration.ingest.lines import read_lines
from orchestration.ingest.typed_read import read_typed
from tests.fixtures.platform_events import event, quarantine
from tests.fixtures.warehouse import build_warehouse, test_paths, write_delivery, write_directory

DAY = "2026-11-20"
FILE = f"platform/{DAY}/mixed.jsonl"
WINDOW = "2000-01-01T00:00:00Z to 2099-12-31T23:59:59Z"
CONTROL = "a control, format or separator character, or a space at either end"
USAGE = {"input_tokens": 10, "output_tokens": 20, "cache_creation_input_tokens": 30, "cache_read_input_tokens": 40}
SPLIT = {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20}


def request(event_id="r", **usage):
    """A model request whose usage has `usage` changed (a value of None removes the field)."""
    body = {k: v for k, v in ({**USAGE, **usage}).items() if v is not None}
    return event(event_id, "model_request", usage=body)


def loaded_events(paths):
    """{event_id: org_id} of the loaded events."""
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        return dict(conn.execute("select event_id, org_id from raw.platform_events").fetchall())


def load_between_good_lines(tmp_path, line):
    """Load one delivery file: a good event, `line`, another good event; (quarantine, loaded events)."""
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "mixed", [event("good-1"), line, event("good-2", "model_request")])
    result = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)
    assert result.lines_read == result.blank_lines + result.loaded_lines + result.quarantined_lines == 3
    return quarantine(paths), loaded_events(paths)


# -- 1. identifiers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ascii_only", [True, False], ids=["escaped", "utf8"])
@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"org_id": "acme\r\nBcc: x"}, f"invalid identifier org_id: {CONTROL}"),
        ({"org_id": "acme\u202egnp.exe"}, f"invalid identifier org_id: {CONTROL}"),
        ({"org_id": "a" * 129}, "invalid identifier org_id: longer than 128 characters (129)"),
        ({"org_id": "é" * 129}, "invalid identifier org_id: longer than 128 characters (129)"),
        ({"org_id": ""}, "invalid identifier org_id: empty"),
        ({"org_id": " acme"}, f"invalid identifier org_id: {CONTROL}"),
        ({"event_id": "e\x00"}, f"invalid identifier event_id: {CONTROL}"),
        ({"session_id": "s\t1"}, f"invalid identifier session_id: {CONTROL}"),
        ({"event_type": "session_started\u200b"}, f"invalid identifier event_type: {CONTROL}"),
        ({"user_id": "u1\n"}, f"invalid identifier user_id: {CONTROL}"),
        ({"agent": "claude\x7fcode"}, f"invalid identifier agent: {CONTROL}"),
        ({"project_id": "p" * 200}, "invalid identifier project_id: longer than 128 characters (200)"),
        ({"repository": "acme/\u2028api"}, f"invalid identifier repository: {CONTROL}"),
        (
            {"event_type": "model_request", "request_id": "r ", "model": "m", "usage": USAGE},
            f"invalid identifier request_id: {CONTROL}",
        ),
        (
            {"event_type": "model_request", "request_id": "r", "model": "\u202dsonnet", "usage": USAGE},
            f"invalid identifier model: {CONTROL}",
        ),
        ({"event_type": "heartbeat", "user_id": "\x1b[31m"}, f"invalid identifier user_id: {CONTROL}"),
    ],
)
def test_an_identifier_that_breaks_the_rule_is_quarantined(tmp_path, fields, reason, ascii_only):
    line = json.dumps(event("hostile") | fields, ensure_ascii=ascii_only)

    bad, loaded = load_between_good_lines(tmp_path, line)

    assert bad == [(FILE, 2, reason)]
    assert set(loaded) == {"good-1", "good-2"}


@pytest.mark.parametrize("ascii_only", [True, False], ids=["escaped", "utf8"])
@pytest.mark.parametrize(
    "org_id",
    ["/etc/cron.d", "../../x", "C:\\Windows", "a" * 128, "é" * 128, "Ünïcödé Org", "acme corp", "日本の組織", "x"],
)
def test_an_identifier_within_the_rule_is_loaded_as_it_is(tmp_path, org_id, ascii_only):
    """Paths and odd names are data: reports/weekly/paths.py maps them to safe file names, the loader keeps them."""
    bad, loaded = load_between_good_lines(tmp_path, json.dumps(event("odd", org_id=org_id), ensure_ascii=ascii_only))

    assert bad == []
    assert loaded == {"good-1": "acme", "odd": org_id, "good-2": "acme"}


# -- 2. token counts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            request(input_tokens=2**63 - 1),
            "token count out of range usage.input_tokens: 9223372036854775807 (at most 1000000000)",
        ),
        (
            request(output_tokens=10**12),
            "token count out of range usage.output_tokens: 1000000000000 (at most 1000000000)",
        ),
        (
            request(cache_read_input_tokens=2**64 - 1),
            "token count out of range usage.cache_read_input_tokens: 18446744073709551615 (at most 1000000000)",
        ),
        (
            request(cache_creation_input_tokens=10**9 + 1),
            "token count out of range usage.cache_creation_input_tokens: 1000000001 (at most 1000000000)",
        ),
        (
            request(input_tokens=10**40),
            f"token count out of range usage.input_tokens: 1{'0' * 40} (at most 1000000000)",
        ),
        (request(input_tokens=-(2**63) - 1), "negative token count usage.input_tokens"),
        (
            request(cache_creation={"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 2**63}),
            "token count out of range usage.cache_creation.ephemeral_1h_input_tokens: 9223372036854775808 "
            "(at most 1000000000)",
        ),
    ],
)
def test_a_token_count_out_of_range_is_quarantined(tmp_path, line, reason):
    bad, loaded = load_between_good_lines(tmp_path, json.dumps(line))

    assert bad == [(FILE, 2, reason)]
    assert set(loaded) == {"good-1", "good-2"}


def test_the_largest_token_count_is_loaded(tmp_path):
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "a", [request("max", input_tokens=10**9, cache_creation=SPLIT)])

    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        stored = conn.execute("select input_tokens, cache_creation_1h_input_tokens from raw.platform_events").fetchall()
    assert stored == [(10**9, 20)]


# -- 3. timestamps ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1999-12-31T23:59:59Z",
        "2100-01-01T00:00:00Z",
        "2000-01-01T00:30:00+01:00",
        "2099-12-31T23:30:00-01:00",
    ],
)
def test_a_timestamp_outside_the_window_is_quarantined(tmp_path, timestamp):
    bad, loaded = load_between_good_lines(tmp_path, json.dumps(event("far", timestamp=timestamp)))

    assert bad == [(FILE, 2, f"timestamp outside {WINDOW}: {timestamp}")]
    assert set(loaded) == {"good-1", "good-2"}


@pytest.mark.parametrize("timestamp", ["2000-01-01T00:00:00Z", "2099-12-31T23:59:59.999Z", "1999-12-31T23:30:00-01:00"])
def test_a_timestamp_at_the_edges_of_the_window_is_loaded(tmp_path, timestamp):
    bad, loaded = load_between_good_lines(tmp_path, json.dumps(event("edge", timestamp=timestamp)))

    assert bad == []
    assert set(loaded) == {"good-1", "edge", "good-2"}


# -- 2 and 3 in a real build ---------------------------------------------------------------------------------

EXTREME_LINES = [
    request("huge-input", input_tokens=2**63 - 1),
    request("huge-output", output_tokens=2**64 - 1),
    request("huge-split", cache_creation={"ephemeral_5m_input_tokens": 2**63 - 1, "ephemeral_1h_input_tokens": 0}),
    request("tera", cache_read_input_tokens=10**12),
    event("year-1", timestamp="0001-01-01T00:00:00Z"),
    request("year-9999") | {"timestamp": "9999-12-31T23:59:59Z"},
    event("last-second", "session_ended", timestamp="1999-12-31T23:59:59Z", status="completed"),
]


@pytest.fixture(scope="module")
def extreme_warehouse(tmp_path_factory):
    """One warehouse built by a real dbt build over a delivery of good events and the extreme values."""
    paths = test_paths(tmp_path_factory.mktemp("extreme"))
    write_directory(
        paths.directory,
        orgs=[("acme", "Acme", "UTC")],
        users=[("acme", "u1", "u1@acme.example", "U One", "Core", "", "member")],
        projects=[("acme", "p1", "P1", "single")],
    )
    good = [
        event("start", timestamp="2026-11-20T09:00:00Z"),
        request("req", cache_creation=SPLIT) | {"timestamp": "2026-11-20T09:01:00Z"},
        event("end", "session_ended", timestamp="2026-11-20T09:30:00Z", status="completed"),
    ]
    write_delivery(paths.raw_dir, DAY, "extreme", [good[0], *EXTREME_LINES, good[1], good[2]])
    build_warehouse(paths)
    return paths


def test_a_build_over_extreme_values_succeeds_with_the_good_events_only(extreme_warehouse):
    with duckdb.connect(str(extreme_warehouse.warehouse), read_only=True) as conn:
        requests = conn.execute(
            "select event_id, uncached_input_tokens, output_tokens, cache_read_input_tokens, "
            "total_tokens from analytics.fct_model_requests"
        ).fetchall()
        sessions = conn.execute("select session_id, status, model_requests from analytics.fct_sessions").fetchall()
        days = conn.execute("select min(date_day), max(date_day) from analytics.dim_date").fetchall()
        bad = conn.execute("select line_number, reason from raw.quarantined_lines order by line_number").fetchall()
    assert requests == [("req", 10, 20, 40, 100)]
    assert sessions == [("s1", "completed", 1)]
    assert days[0][0].year >= 2000 and days[0][1].year < 2100
    assert [number for number, _ in bad] == list(range(2, 2 + len(EXTREME_LINES)))
    assert [reason.split(":")[0] for _, reason in bad] == (
        [
            "token count out of range usage.input_tokens",
            "token count out of range usage.output_tokens",
            "token count out of range usage.cache_creation.ephemeral_5m_input_tokens",
            "token count out of range usage.cache_read_input_tokens",
        ]
        + ["timestamp outside 2000-01-01T00"] * 3
    )


# -- 4. duplicate keys ---------------------------------------------------------------------------------------


def with_extra(line: dict, text: str, inside: str = "") -> str:
    """The JSON of `line` with `text` added as a member of its object `inside` ('' the event, 'usage' or
    'usage.cache_creation'), written as it is: the way to repeat a key."""
    encoded = json.dumps(line)
    depth = inside.count(".") + 1 if inside else 0
    return encoded[: len(encoded) - depth - 1] + ", " + text + "}" * (depth + 1)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (with_extra(event("dup"), '"org_id": "other-org"'), "duplicate key org_id"),
        (with_extra(event("dup"), '"org\\u005fid": "other-org"'), "duplicate key org_id"),  # an escaped key
        (with_extra(event("dup"), '"schema_version": 1'), "duplicate key schema_version"),
        (with_extra(request("dup"), '"usage": {}'), "duplicate key usage"),
        (with_extra(request("dup"), '"input_tokens": 999', "usage"), "duplicate key usage.input_tokens"),
        (with_extra(request("dup"), '"input\\u005ftokens": 999', "usage"), "duplicate key usage.input_tokens"),
        (
            with_extra(request("dup", cache_creation=SPLIT), '"ephemeral_5m_input_tokens": 5', "usage.cache_creation"),
            "duplicate key usage.cache_creation.ephemeral_5m_input_tokens",
        ),
    ],
)
def test_a_repeated_key_is_quarantined(tmp_path, line, reason):
    assert json.loads(line)  # valid JSON: Python keeps the last value, DuckDB the first
    bad, loaded = load_between_good_lines(tmp_path, line)

    assert bad == [(FILE, 2, reason)]
    assert set(loaded) == {"good-1", "good-2"}


def test_a_repeated_key_outside_the_contract_is_loaded(tmp_path):
    bad, loaded = load_between_good_lines(tmp_path, with_extra(event("extra"), '"seq": 1, "seq": 2'))

    assert bad == []
    assert set(loaded) == {"good-1", "extra", "good-2"}


def test_repeated_keys_in_many_files_of_many_deliveries_cost_no_good_line(tmp_path):
    """Each refused line fails a read of the batch; after a few failures files are read one at a time. Every
    good line of every file must still load, with its own line number."""
    paths = test_paths(tmp_path)
    days = ["2026-11-18", "2026-11-19", "2026-11-20"]
    expected_bad, expected_good = [], set()
    for day in days:
        for shard in range(3):
            lines = [event(f"{day}-{shard}-{n}") for n in range(1, 6)]
            dup_at = shard + 2
            lines[dup_at - 1] = with_extra(event("dup"), f'"session_id": "{day}"')
            write_delivery(paths.raw_dir, day, f"shard-{shard}", lines, gz=shard == 1)
            name = f"platform/{day}/shard-{shard}.jsonl" + (".gz" if shard == 1 else "")
            expected_bad.append((name, dup_at, "duplicate key session_id"))
            expected_good |= {(name, n, f"{day}-{shard}-{n}") for n in range(1, 6) if n != dup_at}
    write_delivery(paths.raw_dir, days[0], "clean", [event("clean-1"), event("clean-2")])
    expected_good |= {(f"platform/{days[0]}/clean.jsonl", n, f"clean-{n}") for n in (1, 2)}

    results = platform.load_deliveries(paths.raw_dir, paths.lake_dir, days)

    assert sorted(quarantine(paths)) == sorted(expected_bad)
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        good = set(conn.execute("select source_file, line_number, event_id from raw.platform_events").fetchall())
    assert good == expected_good
    assert [r.quarantined_lines for r in results] == [3, 3, 3]


# -- 5. very long lines ----------------------------------------------------------------------------------------


def capped(text: str) -> str:
    return text[:1000] + f" [... cut: {len(text)} characters, {len(text.encode())} bytes in all]"


def test_a_50_mb_line_is_quarantined_with_its_text_capped_and_the_file_loads(tmp_path):
    paths = test_paths(tmp_path)
    huge_event = json.dumps(event("huge", org_id="é" * 25_000_000), ensure_ascii=False)
    junk = "x" * 50_000_000
    write_delivery(paths.raw_dir, DAY, "mixed", [event("good-1"), huge_event, junk, event("good-2")])
    write_delivery(paths.raw_dir, DAY, "other", [event("good-3")])

    result = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        bad = conn.execute(
            "select source_file, line_number, reason, line from raw.quarantined_lines order by line_number"
        ).fetchall()
    assert bad == [
        (FILE, 2, "invalid identifier org_id: longer than 128 characters (25000000)", capped(huge_event)),
        (FILE, 3, "invalid JSON", capped(junk)),
    ]
    assert set(loaded_events(paths)) == {"good-1", "good-2", "good-3"}
    assert (result.lines_read, result.loaded_lines, result.quarantined_lines) == (5, 3, 2)


def test_a_line_just_over_the_typed_read_limit_is_read_exactly(tmp_path):
    """Between the typed read's own limit (8 MiB) and DuckDB's (16 MiB): the line goes to the exact path."""
    paths = test_paths(tmp_path)
    big = event("big", agent="a" * 9_000_000)
    write_delivery(paths.raw_dir, DAY, "mixed", [event("good-1"), big, event("good-2")])

    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    assert quarantine(paths) == [(FILE, 2, "invalid identifier agent: longer than 128 characters (9000000)")]
    assert set(loaded_events(paths)) == {"good-1", "good-2"}


# -- 6. entries that are not read ------------------------------------------------------------------------------

LINK = "skipped: symbolic link (links are not followed)"
SPECIAL = "skipped: not a regular file (FIFO, socket or device)"


def file_summary(paths):
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        return conn.execute(
            "select source_file, lines_read, blank_lines, loaded_lines, quarantined_lines, "
            "ignored_event_lines from raw.load_file_summary order by source_file"
        ).fetchall()


def test_links_and_special_files_are_never_read_and_each_leaves_a_row(tmp_path):
    paths = test_paths(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jsonl").write_text(json.dumps(event("secret", org_id="TOP-SECRET")) + "\n")
    write_delivery(paths.raw_dir, DAY, "good", [event("good-1")])
    folder = paths.raw_dir / "platform" / DAY
    (folder / "link.jsonl").symlink_to(outside / "secret.jsonl")
    (folder / "broken.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    os.mkfifo(folder / "pipe.jsonl")
    (paths.raw_dir / "platform" / "2026-11-21").symlink_to(outside, target_is_directory=True)

    assert platform.delivery_dates(paths.raw_dir) == [DAY, "2026-11-21"]
    results = platform.load_deliveries(paths.raw_dir, paths.lake_dir, [DAY, "2026-11-21"])

    skipped = {
        f"platform/{DAY}/broken.jsonl": LINK,
        f"platform/{DAY}/link.jsonl": LINK,
        f"platform/{DAY}/pipe.jsonl": SPECIAL,
        "platform/2026-11-21": LINK,
    }
    assert file_summary(paths) == sorted(
        [(name, 1, 0, 0, 1, 0) for name in skipped] + [(f"platform/{DAY}/good.jsonl", 1, 0, 1, 0, 0)]
    )
    assert sorted(quarantine(paths)) == sorted((name, 0, reason) for name, reason in skipped.items())
    assert loaded_events(paths) == {"good-1": "acme"}
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        assert conn.execute("select count(*) from raw.quarantined_lines where line is not null").fetchall() == [(0,)]
    assert [(r.lines_read, r.loaded_lines, r.quarantined_lines) for r in results] == [(4, 1, 3), (1, 0, 1)]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_a_sub_folder_that_cannot_be_read_leaves_a_row(tmp_path):
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "good", [event("good-1")])
    locked = paths.raw_dir / "platform" / DAY / "locked"
    locked.mkdir()
    (locked / "hidden.jsonl").write_text(json.dumps(event("hidden")) + "\n")
    locked.chmod(0)
    try:
        platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)
    finally:
        locked.chmod(stat.S_IRWXU)

    [(name, line, reason)] = quarantine(paths)
    assert (name, line) == (f"platform/{DAY}/locked", 0) and reason.startswith("skipped: folder cannot be read")
    assert (f"platform/{DAY}/locked", 1, 0, 0, 1, 0) in file_summary(paths)


def test_a_sub_folder_too_deep_to_be_read_leaves_a_row(tmp_path):
    """A folder whose path is longer than PATH_MAX cannot be listed, by root too: built with relative mkdirs."""
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "good", [event("good-1")])
    descriptor = os.open(paths.raw_dir / "platform" / DAY, os.O_RDONLY)
    for _ in range(24):  # 24 * 201 characters: past PATH_MAX (4096)
        os.mkdir("d" * 200, dir_fd=descriptor)
        inner = os.open("d" * 200, os.O_RDONLY, dir_fd=descriptor)
        os.close(descriptor)
        descriptor = inner
    with open(os.open("deep.jsonl", os.O_WRONLY | os.O_CREAT, dir_fd=descriptor), "w") as deep:
        deep.write(json.dumps(event("deep")) + "\n")
    os.close(descriptor)

    result = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    [(name, line, reason)] = quarantine(paths)
    assert name.startswith(f"platform/{DAY}/ddd") and line == 0 and reason.startswith("skipped: ")
    assert (name, 1, 0, 0, 1, 0) in file_summary(paths)
    assert loaded_events(paths) == {"good-1": "acme"}
    assert (result.lines_read, result.loaded_lines, result.quarantined_lines) == (2, 1, 1)


def test_a_newly_skipped_entry_changes_the_delivery_and_reloads_it(tmp_path):
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "good", [event("good-1")])
    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    (paths.raw_dir / "platform" / DAY / "late.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    reloaded = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)
    unchanged = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    assert (reloaded.skipped, reloaded.lines_read, reloaded.quarantined_lines) == (False, 2, 1)
    assert (unchanged.skipped, unchanged.lines_read, unchanged.quarantined_lines) == (True, 2, 1)
    assert quarantine(paths) == [(f"platform/{DAY}/late.jsonl", 0, LINK)]


# -- the two paths agree ---------------------------------------------------------------------------------------

HOSTILE_LINES = [
    json.dumps(event("plain")),
    json.dumps(event("nan-user", user_id=float("nan"))),  # DuckDB reads NaN as a number, into a VARCHAR as 'NaN'
    json.dumps(event("inf-agent", agent=float("-inf"))),
    json.dumps(event("lower-nan")).replace('"repository": "acme/api"', '"repository": nan'),  # not a null
    json.dumps(event("upper-inf")).replace('"project_id": "p1"', '"project_id": INF'),
    json.dumps(event("string-nan", user_id="NaN")),
    json.dumps(event("numeric-string", project_id="1501")),
    json.dumps(event("uuid-like", session_id="12e45-6789")),
    json.dumps(event("number-id", session_id=12)),
    json.dumps(event("object-id", project_id={"a": 1})),
    json.dumps(event("array-id", project_id=["a"])),
    json.dumps(event("bool-id", project_id=True)),
    json.dumps(event("null-repo", repository=None)),
    json.dumps(event("heartbeat-number-user", "heartbeat", user_id=7)),
    json.dumps(event("heartbeat-object-user", "heartbeat", user_id={"k": "v" * 200})),
    json.dumps(event("unicode-ok", org_id="Ørg ünïcode", user_id="日本"), ensure_ascii=False),
    json.dumps(event("unicode-ok-escaped", org_id="Ørg ünïcode", user_id="日本")),
    json.dumps(event("emoji", org_id="🚀" * 128), ensure_ascii=False),
    json.dumps(event("emoji-long", org_id="🚀" * 129), ensure_ascii=False),
    json.dumps(event("bidi", org_id="a\u202eb"), ensure_ascii=False),
    json.dumps(event("zwj", org_id="a\u200db"), ensure_ascii=False),
    json.dumps(event("nbsp", org_id="a\u00a0b"), ensure_ascii=False),
    json.dumps(event("private-use", org_id="a\ue000b"), ensure_ascii=False),
    json.dumps(event("del", org_id="a\x7fb"), ensure_ascii=False),
    json.dumps(event("nul", org_id="a\x00b")),
    json.dumps(event("space-end", org_id="acme ")),
    json.dumps(event("space-inside", org_id="ac me")),
    json.dumps(event("empty", org_id="")),
    '{"schema_version": 1, "event_id": "lone-surrogate", "event_type": "x", "org_id": "a\\ud800", '
    '"session_id": "s", "timestamp": "2026-11-20T09:00:00Z"}',
    json.dumps(request("max", input_tokens=10**9)),
    json.dumps(request("max+1", input_tokens=10**9 + 1)),
    json.dumps(request("int64", input_tokens=2**63 - 1)),
    json.dumps(request("uint64", input_tokens=2**64 - 1)),
    json.dumps(request("float-token", input_tokens=1.0)),
    json.dumps(request("exp-token", input_tokens=1e3)),
    json.dumps(request("string-token", input_tokens="12")),
    json.dumps(request("nan-token", input_tokens=float("nan"))),
    json.dumps(request("negative-zero", input_tokens=-0)),
    json.dumps(request("negative-zero-text")).replace('"output_tokens": 20', '"output_tokens": -0'),
    json.dumps(request("split-null", cache_creation=None)),
    json.dumps(request("split-empty", cache_creation={})),
    json.dumps(
        request("split-huge", cache_creation={"ephemeral_5m_input_tokens": 10**9 + 1, "ephemeral_1h_input_tokens": 0})
    ),
    json.dumps(
        request("split-string", cache_creation={"ephemeral_5m_input_tokens": "1", "ephemeral_1h_input_tokens": 0})
    ),
    json.dumps(event("usage-number", "model_request", usage=7)),
    json.dumps(event("usage-null", "model_request", usage=None)),
    json.dumps(event("heartbeat-usage-string", "heartbeat", usage="n/a")),
    json.dumps(event("split-number", "model_request", usage=USAGE | {"cache_creation": 5})),
    json.dumps(event("year-1", timestamp="0001-01-01T00:00:00Z")),
    json.dumps(event("year-2100", timestamp="2100-01-01T00:00:00Z")),
    json.dumps(event("edge-2000", timestamp="2000-01-01T00:00:00Z")),
    json.dumps(event("offset-out", timestamp="2000-01-01T00:30:00+01:00")),
    json.dumps(event("big-schema", schema_version=10**30)),
    with_extra(event("dup-org"), '"org_id": "b"'),
    with_extra(event("dup-escaped"), '"org\\u005fid": "b"'),
    with_extra(request("dup-usage"), '"input_tokens": 1', "usage"),
    with_extra(event("dup-extra"), '"seq": 1, "seq": 2'),
    with_extra(event("extra-field"), '"agent_version": "1.2", "nested": {"org_id": "x"}'),
    '{"schema_version": 1, "event_id": "two"}{"event_id": "objects"}',
    '{"schema_version": 1, "event_id": tru}',
    '{"trailing": "comma",}',
]


def test_fast_and_exact_paths_agree_on_hostile_lines(tmp_path):
    """Each line is judged by the exact path alone (lines.py + _checked_sql) and by the loader (typed fast path
    first): a line the fast path vouches for must be good for the exact path, with the same values, and the
    loader's verdict on every line -- loaded, or quarantined with a reason -- must be the exact path's."""
    paths = test_paths(tmp_path)
    path = write_delivery(paths.raw_dir, DAY, "mixed", HOSTILE_LINES)
    columns = [c for c in lake.DATASETS["platform_events"]["columns"] if c != "source_file"]
    with tempfile.TemporaryDirectory() as scratch, duckdb.connect() as conn:
        assert read_lines(conn, [path], paths.raw_dir, Path(scratch)) == {}
        conn.execute(f"create temp table exact_checked as {platform._checked_sql()}")
        exact = dict(conn.execute("select line_number, reason from exact_checked").fetchall())
        exact_events = {
            row[0]: row
            for row in conn.execute(f"select {', '.join(columns)} from ({platform._events_projection()})").fetchall()
        }
    with tempfile.TemporaryDirectory() as scratch, duckdb.connect() as conn:
        read_typed(
            conn,
            [path],
            paths.raw_dir,
            Path(scratch),
            platform.TYPED_COLUMNS,
            platform._fast_checked_sql(),
            platform._full_identifier_check_sql(),
        )
        vouched = {
            row[0]: row
            for row in conn.execute(
                f"select {', '.join(columns)} from typed_rows where not needs_exact_check"
            ).fetchall()
        }

    assert len(exact) == len(HOSTILE_LINES)
    assert {n: exact[n] for n in vouched if exact[n] is not None} == {}
    assert {n: row for n, row in vouched.items() if row != exact_events[n]} == {}
    vouched_ids = {row[columns.index("event_id")] for row in vouched.values()}
    assert {
        "plain",
        "null-repo",
        "unicode-ok",
        "unicode-ok-escaped",
        "space-inside",
        "split-null",
        "edge-2000",
        "extra-field",
    } <= vouched_ids  # the fast path judged the good lines itself

    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)
    assert quarantine(paths) == [(FILE, n, reason) for n, reason in sorted(exact.items()) if reason is not None]
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        loaded = {
            row[0]: row for row in conn.execute(f"select {', '.join(columns)} from raw.platform_events").fetchall()
        }
    assert loaded == {n: row for n, row in exact_events.items()}


def test_a_file_whose_name_is_a_pattern_is_read_once_as_itself(tmp_path):
    """DuckDB reads a path holding * ? [ ] { } as a glob: `a*.jsonl` must not read `ab.jsonl` a second time."""
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "a*", [event("star")])
    write_delivery(paths.raw_dir, DAY, "ab", [event("plain")])
    write_delivery(paths.raw_dir, DAY, "[x]", [event("brackets")], gz=True)
    write_delivery(paths.raw_dir, DAY, "x", [event("x")], gz=True)

    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        rows = conn.execute("select source_file, event_id from raw.platform_events order by all").fetchall()
    assert rows == [
        (f"platform/{DAY}/[x].jsonl.gz", "brackets"),
        (f"platform/{DAY}/a*.jsonl", "star"),
        (f"platform/{DAY}/ab.jsonl", "plain"),
        (f"platform/{DAY}/x.jsonl.gz", "x"),
    ]


def test_a_file_whose_name_is_not_utf8_is_reported_unreadable(tmp_path):
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "good", [event("good-1")])
    folder = os.fsencode(paths.raw_dir / "platform" / DAY)
    with open(os.path.join(folder, b"bad-\xff.jsonl"), "w") as bad:
        bad.write(json.dumps(event("hidden")) + "\n")

    result = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    assert quarantine(paths) == [
        (f"platform/{DAY}/bad-\\uDCFF.jsonl", 0, "unreadable file: its name is not valid UTF-8")
    ]
    assert loaded_events(paths) == {"good-1": "acme"}
    assert (result.lines_read, result.loaded_lines, result.quarantined_lines) == (2, 1, 1)


# -- state files cut by a killed run -------------------------------------------------------------------------


def test_a_state_file_cut_mid_write_makes_the_next_load_read_again_not_fail(tmp_path):
    """A refresh killed while it wrote a state file left half a JSON document, and every later load failed on it.
    State files are now replaced atomically, and one that cannot be read is not trusted: the next load reads the
    delivery again (and the pending changes ask for a full rebuild)."""
    from orchestration.ingest import changes

    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "events", [event("good-1"), event("good-2", "model_request")])
    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)
    state_files = sorted((paths.lake_dir / "_state").rglob("*.json"))
    assert state_files and not list(paths.lake_dir.rglob("*.tmp"))  # written by rename: no temporary left
    for state_file in state_files:
        state_file.write_text(state_file.read_text()[:7])  # what a kill in the middle of a write leaves
    again = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)
    assert not again.skipped and again.loaded_lines == 2
    assert set(loaded_events(paths)) == {"good-1", "good-2"}
    assert changes.pending(paths.lake_dir).full_rebuild
