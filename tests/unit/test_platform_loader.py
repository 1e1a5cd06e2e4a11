"""The platform loader: every line ends up loaded, quarantined (with file, line and reason) or counted blank."""

import gzip
import json

import duckdb
import pytest

from orchestration.ingest import lake, platform
from tests.fixtures.platform_events import event, quarantine
from tests.fixtures.warehouse import test_paths, write_delivery

DAY = "2026-11-20"


def read_lake(paths, dataset):
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        return conn.execute(f"select * from raw.{dataset} order by all").fetchall()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"schema_version": 1, "event_id": "x"', "invalid JSON"),
        ("[1, 2, 3]", "not a JSON object"),
        ('"just a string"', "not a JSON object"),
        (json.dumps({k: v for k, v in event().items() if k != "session_id"}), "missing field session_id"),
        (json.dumps({k: v for k, v in event().items() if k != "user_id"}), "missing field user_id"),
        (json.dumps(event(session_id=42)), "mistyped field session_id: expected string, got integer"),
        (json.dumps(event(schema_version=2)), "unsupported schema_version 2"),
        (json.dumps(event(schema_version="1")), "mistyped field schema_version: expected integer, got string"),
        (json.dumps(event(timestamp="yesterday")), "unparseable timestamp: yesterday"),
        (json.dumps(event(timestamp="2026-13-45T00:00:00Z")), "unparseable timestamp: 2026-13-45T00:00:00Z"),
        (json.dumps(event(timestamp="2026-11-20 09:00:00")), "unparseable timestamp: 2026-11-20 09:00:00"),
        (
            json.dumps(
                event(
                    "e2",
                    "model_request",
                    usage={"input_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
                )
            ),
            "missing field usage.output_tokens",
        ),
        (
            json.dumps(
                event(
                    "e2",
                    "model_request",
                    usage={
                        "input_tokens": "12",
                        "output_tokens": 1,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                    },
                )
            ),
            "mistyped field usage.input_tokens: expected integer, got string",
        ),
        (
            json.dumps(
                event(
                    "e2",
                    "model_request",
                    usage={
                        "input_tokens": 1,
                        "output_tokens": -5,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                    },
                )
            ),
            "negative token count usage.output_tokens",
        ),
        (json.dumps(event("e2", "model_request", usage=7)), "mistyped field usage: expected object, got integer"),
        (
            json.dumps(event("e3", "session_ended", status="exploded")),
            "mistyped field status: expected one of completed/failed/cancelled, got exploded",
        ),
    ],
)
def test_bad_line_is_quarantined_with_file_line_and_reason_and_neighbours_are_kept(tmp_path, line, reason):
    paths = test_paths(tmp_path)
    good_before, good_after = event("good-1"), event("good-2", "model_request")
    write_delivery(paths.raw_dir, DAY, "mixed", [good_before, line, good_after])

    result = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    assert quarantine(paths) == [(f"platform/{DAY}/mixed.jsonl", 2, reason)]
    loaded = {row[3] for row in read_lake(paths, "platform_events")}  # event_id column
    assert loaded == {"good-1", "good-2"}
    assert (result.lines_read, result.loaded_lines, result.quarantined_lines) == (3, 2, 1)


def test_line_numbers_are_physical_lines_with_crlf_bom_blank_lines_and_gzip(tmp_path):
    paths = test_paths(tmp_path)
    folder = paths.raw_dir / "platform" / DAY
    folder.mkdir(parents=True)
    good = json.dumps(event("good"))
    # line 1 good (after a BOM), line 2 blank, line 3 bad, line 4 blank, line 5 bad, no final newline
    text = "\ufeff" + good + "\r\n\r\nnot json\r\n   \r\n[1]"
    (folder / "windows.jsonl").write_bytes(text.encode("utf-8"))
    (folder / "packed.jsonl.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    (folder / "empty.jsonl").write_bytes(b"")

    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    expected_bad = [(3, "invalid JSON"), (5, "not a JSON object")]
    assert quarantine(paths) == [
        (f"platform/{DAY}/{name}", number, reason)
        for name in ("packed.jsonl.gz", "windows.jsonl")
        for number, reason in expected_bad
    ]
    summary = {row[0]: row[1:6] for row in read_lake(paths, "load_file_summary")}
    # lines_read, blank, loaded, quarantined, ignored
    assert summary == {
        f"platform/{DAY}/empty.jsonl": (0, 0, 0, 0, 0),
        f"platform/{DAY}/packed.jsonl.gz": (5, 2, 1, 2, 0),
        f"platform/{DAY}/windows.jsonl": (5, 2, 1, 2, 0),
    }


def test_unknown_event_types_are_loaded_and_counted_as_ignored(tmp_path):
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "a", [event("e1"), event("e2", "heartbeat"), event("e3", "tool_call")])

    result = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    assert (result.loaded_lines, result.ignored_event_lines, result.quarantined_lines) == (3, 2, 0)


def test_timestamps_with_offsets_are_stored_as_utc(tmp_path):
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "a", [event("e1", timestamp="2026-11-20T01:30:00.250+02:00")])

    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        ((stored,),) = conn.execute("select cast(event_at_utc as varchar) from raw.platform_events").fetchall()
    assert stored == "2026-11-19 23:30:00.25"


def test_corrupt_gzip_file_is_quarantined_whole_and_other_files_load(tmp_path):
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "good", [event("e1")])
    (paths.raw_dir / "platform" / DAY / "broken.jsonl.gz").write_bytes(b"this is not gzip")

    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    [(file, line, reason)] = quarantine(paths)
    assert (file, line) == (f"platform/{DAY}/broken.jsonl.gz", 0)
    assert reason.startswith("unreadable file")
    assert len(read_lake(paths, "platform_events")) == 1


def test_loading_the_same_folder_twice_gives_identical_partitions(tmp_path):
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "a", [event("e1"), "garbage", event("e2", "model_request")])
    write_delivery(paths.raw_dir, DAY, "b", [event("e1")], gz=True)

    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)
    first = {name: read_lake(paths, name) for name in ("platform_events", "quarantined_lines", "load_file_summary")}
    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY, force=True)
    second = {name: read_lake(paths, name) for name in ("platform_events", "quarantined_lines", "load_file_summary")}

    assert first == second
    assert len(first["platform_events"]) == 3  # the redelivered e1 is kept in raw; staging deduplicates


def test_unchanged_delivery_is_not_read_again_and_a_changed_one_is(tmp_path):
    paths = test_paths(tmp_path)
    write_delivery(paths.raw_dir, DAY, "a", [event("e1")])
    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)
    part = lake.partition_dir(paths.lake_dir, "platform_events", delivery_date=DAY) / lake.PART_FILE
    written_at = part.stat().st_mtime_ns

    platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)
    assert part.stat().st_mtime_ns == written_at

    write_delivery(paths.raw_dir, DAY, "late-file", [event("e2", "session_ended", status="completed")])
    result = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)
    assert result.loaded_lines == 2
    assert {row[3] for row in read_lake(paths, "platform_events")} == {"e1", "e2"}


def test_long_files_keep_physical_line_numbers_around_bad_blank_and_doubtful_lines(tmp_path):
    """The typed fast path numbers rows by position: bad, blank and doubtful lines deep inside long files (plain
    and gzip) must not shift the line numbers of the good lines around them."""
    paths = test_paths(tmp_path)
    lines = [json.dumps(event(f"e{n}", "model_request" if n % 2 else "session_started")) for n in range(1, 2001)]
    lines[699] = json.dumps(event("e700"))[:-5]  # truncated: reported by read_json on the line after it
    lines[1199] = "  "
    lines[1499] = json.dumps(event("e1500", session_id=1500))  # read as VARCHAR '1500': doubtful, checked exactly
    lines[1500] = json.dumps(event("e1501", project_id="1501"))  # a string that looks like a number: loaded
    lines[1998] = "[1]"
    text = "\r\n".join(lines) + "\r\n"
    folder = paths.raw_dir / "platform" / DAY
    folder.mkdir(parents=True)
    (folder / "long.jsonl").write_text(text, encoding="utf-8")
    (folder / "long.jsonl.gz").write_bytes(gzip.compress(text.encode("utf-8")))

    result = platform.load_delivery(paths.raw_dir, paths.lake_dir, DAY)

    expected_bad = [
        (700, "invalid JSON"),
        (1500, "mistyped field session_id: expected string, got integer"),
        (1999, "not a JSON object"),
    ]
    assert quarantine(paths) == [
        (f"platform/{DAY}/{name}", n, reason) for name in ("long.jsonl", "long.jsonl.gz") for n, reason in expected_bad
    ]
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        numbered = conn.execute(
            "select source_file, line_number, event_id, project_id from raw.platform_events"
        ).fetchall()
    assert len(numbered) == 2 * 1996
    assert all(event_id == f"e{line_number}" for _, line_number, event_id, _ in numbered)
    assert {project for _, n, _, project in numbered if n == 1501} == {"1501"}
    assert (result.lines_read, result.blank_lines, result.loaded_lines) == (4000, 2, 3992)


def test_deliveries_loaded_together_keep_their_own_partitions_counts_and_quarantine(tmp_path):
    """One refresh reads all new deliveries in one scan and one partitioned write: each delivery must still get
    exactly its own rows, bad lines, summary and result, an unchanged one is skipped and an empty one cleared."""
    paths = test_paths(tmp_path)
    days = ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]
    write_delivery(paths.raw_dir, days[0], "a", [event("old")])
    platform.load_delivery(paths.raw_dir, paths.lake_dir, days[0])
    write_delivery(paths.raw_dir, days[1], "a", [event("e1"), '{"truncated": ', event("e2", "heartbeat")])
    (paths.raw_dir / "platform" / days[1] / "latin1.jsonl").write_bytes(b'{"name": "caf\xe9"}\n')
    write_delivery(paths.raw_dir, days[2], "b", [event("e3"), "   ", event("e4", "model_request")], gz=True)
    (paths.raw_dir / "platform" / days[3]).mkdir(parents=True)

    results = platform.load_deliveries(paths.raw_dir, paths.lake_dir, days)

    # (files, lines_read, blank, loaded, quarantined, ignored, skipped)
    assert [
        (
            r.delivery_date,
            r.files,
            r.lines_read,
            r.blank_lines,
            r.loaded_lines,
            r.quarantined_lines,
            r.ignored_event_lines,
            r.skipped,
        )
        for r in results
    ] == [
        (days[0], 1, 1, 0, 1, 0, 0, True),
        (days[1], 2, 4, 0, 2, 2, 1, False),
        (days[2], 1, 3, 1, 2, 0, 0, False),
        (days[3], 0, 0, 0, 0, 0, 0, False),
    ]
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        events = conn.execute(
            "select cast(delivery_date as varchar), event_id, line_number from raw.platform_events order by all"
        ).fetchall()
        bad = conn.execute(
            "select batch, source_file, line_number, reason from raw.quarantined_lines order by all"
        ).fetchall()
    assert events == [
        (days[0], "old", 1),
        (days[1], "e1", 1),
        (days[1], "e2", 3),
        (days[2], "e3", 1),
        (days[2], "e4", 3),
    ]
    assert [(batch, file, line) for batch, file, line, _ in bad] == [
        (days[1], f"platform/{days[1]}/a.jsonl", 2),
        (days[1], f"platform/{days[1]}/latin1.jsonl", 0),
    ]
    assert bad[0][3] == "invalid JSON" and bad[1][3].startswith("unreadable file")
