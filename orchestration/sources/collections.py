"""Incremental loading of a *collection* of files into one lake partition per dataset.

Transcripts and OpenTelemetry exports are not deliveries: the same files are collected again and again, some
grow (a session goes on, a resumed session rewrites its file), and Claude Code deletes transcripts after 30
days. So a collection is loaded file by file: only new or changed files (by size and modification time) are
read; rows of unchanged files, and of files that have disappeared from the source folder, are carried over
from the previous partition. History is never lost, and a reload of unchanged files reads nothing.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import duckdb

from orchestration import changes, lake
from orchestration.sources.lines import WHOLE_FILE, read_lines, reported_name

log = logging.getLogger(__name__)

QUARANTINE_COLUMNS = "source_file, line_number, reason, line"


@dataclass(frozen=True)
class CollectionLoad:
    source: str
    collection: str
    files_read: int
    files_carried_over: int
    lines_read: int
    blank_lines: int
    loaded_lines: int
    quarantined_lines: int
    ignored_event_lines: int


@dataclass(frozen=True)
class ParsedQueries:
    """SQL over the temp table `lines` (and anything `parse` created) for the files read in this load."""

    datasets: dict[str, str]  # lake dataset -> query giving its columns, source_file included
    quarantine: str  # source_file, line_number, reason, line (null where content must not be kept)
    summary: str  # source_file, lines_read, blank_lines, loaded_lines, quarantined_lines, ignored_event_lines


def load_collection(
    *,
    source: str,
    collection: str,
    files: list[Path],
    raw_dir: Path,
    lake_dir: Path,
    parse: Callable[[duckdb.DuckDBPyConnection], ParsedQueries],
    force: bool = False,
) -> CollectionLoad:
    state_file = lake_dir / "_state" / source / f"{collection}.json"
    previous: dict[str, list[int]] = json.loads(state_file.read_text())["files"] if state_file.exists() else {}
    current = {reported_name(p, raw_dir): [p.stat().st_size, p.stat().st_mtime_ns] for p in files}
    changed = [p for p in files if force or previous.get(reported_name(p, raw_dir)) != current[reported_name(p, raw_dir)]]
    carried = len(set(previous) | set(current)) - len(changed)
    if not changed and state_file.exists():
        log.info("%s collection %s unchanged", source, collection)
        return CollectionLoad(source, collection, 0, carried, 0, 0, 0, 0, 0)

    partition = {"collection": collection}
    ingestion_partition = {"source": source, "batch": collection}
    with tempfile.TemporaryDirectory(prefix=f"{source}-load-") as scratch, duckdb.connect() as conn:
        unreadable = read_lines(conn, changed, raw_dir, Path(scratch))
        # Unreadable files are reported by the rows added below, not by the parser's per-file summary.
        conn.execute("delete from source_files where list_contains(?, source_file)", [list(unreadable)])
        conn.execute("create temp table refreshed (source_file varchar)")
        conn.executemany("insert into refreshed values (?)", [[reported_name(p, raw_dir)] for p in changed])
        queries = parse(conn)
        unreadable_rows = " union all ".join(
            f"select '{_quote(name)}', {WHOLE_FILE}, '{_quote(reason)}', null" for name, reason in unreadable.items()
        )
        quarantine = queries.quarantine + (f" union all {unreadable_rows}" if unreadable else "")
        outputs = [(dataset, query, partition) for dataset, query in queries.datasets.items()]
        outputs += [("quarantined_lines", quarantine, ingestion_partition)]
        outputs += [("load_file_summary", _summary_with_unreadable(queries.summary, unreadable), ingestion_partition)]
        for dataset, query, keys in outputs:
            lake.write_partition(conn, _merged(lake_dir, dataset, keys, query), lake_dir, dataset, **keys)
        totals = conn.execute(
            "select coalesce(sum(lines_read), 0), coalesce(sum(blank_lines), 0), coalesce(sum(loaded_lines), 0), "
            f"coalesce(sum(quarantined_lines), 0), coalesce(sum(ignored_event_lines), 0) "
            f"from ({_summary_with_unreadable(queries.summary, unreadable)})"
        ).fetchall()[0]

    changes.record_batch(lake_dir, source, collection)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    kept_history = {name: fingerprint for name, fingerprint in previous.items() if name not in current}
    state_file.write_text(json.dumps({"files": {**kept_history, **current}}, sort_keys=True))
    result = CollectionLoad(source, collection, len(changed), carried, *(int(v) for v in totals))
    log.info("%s collection %s: %s", source, collection, asdict(result))
    return result


def _merged(lake_dir: Path, dataset: str, keys: dict[str, str], fresh_query: str) -> str:
    """The fresh rows of the files read now, plus the previous partition's rows of every other file."""
    previous = lake.partition_dir(lake_dir, dataset, **keys) / lake.PART_FILE
    if not previous.exists():
        return fresh_query
    columns = ", ".join(lake.DATASETS[dataset]["columns"])
    return (
        f"select {columns} from read_parquet('{_quote(str(previous))}') "
        "where source_file not in (select source_file from refreshed) "
        f"union all by name select {columns} from ({fresh_query})"
    )


def _summary_with_unreadable(summary: str, unreadable: dict[str, str]) -> str:
    if not unreadable:
        return summary
    rows = " union all ".join(f"select '{_quote(name)}', 1, 0, 0, 1, 0" for name in unreadable)
    return f"{summary} union all {rows}"


def _quote(text: str) -> str:
    return text.replace("'", "''")
