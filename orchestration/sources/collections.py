"""Incremental loading of a *collection* of files into one lake partition per dataset.

Transcripts and OpenTelemetry exports are not deliveries: the same files are collected again and again, some
grow (a session goes on, a resumed session rewrites its file), and Claude Code deletes transcripts after 30
days. So a collection is loaded file by file: only new or changed files (by size and modification time) are
read; rows of unchanged files, and of files that have disappeared from the source folder, are carried over
from the previous partition. History is never lost, and a reload of unchanged files reads nothing. The
changed files of all collections of a refresh are read, parsed and written together (one partitioned write
per dataset): one collection per person, each loaded on its own, was mostly fixed costs.
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
from orchestration.sources.lines import WHOLE_FILE, insert_rows, read_lines, reported_name

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


def load_collections(
    *,
    source: str,
    collections: dict[str, list[Path]],
    raw_dir: Path,
    lake_dir: Path,
    parse: Callable[[duckdb.DuckDBPyConnection], ParsedQueries],
    force: bool = False,
) -> list[CollectionLoad]:
    """Load the new and changed files of several collections, one partition per collection and dataset.

    The changed files of many collections are read together, in batches of about lake.LOAD_BATCH_BYTES: one
    read, one parse and one Parquet write per dataset for the whole batch, since each of them has a fixed cost
    that one collection per person would pay over and over."""
    results: dict[str, CollectionLoad] = {}
    pending: list[tuple[str, list[Path], dict, dict, list[Path]]] = []
    for collection, files in collections.items():
        state_file = _state_file(lake_dir, source, collection)
        previous: dict[str, list[int]] = json.loads(state_file.read_text())["files"] if state_file.exists() else {}
        current = {reported_name(p, raw_dir): [p.stat().st_size, p.stat().st_mtime_ns] for p in files}
        changed = [p for p in files if force or previous.get(reported_name(p, raw_dir)) != current[reported_name(p, raw_dir)]]
        if not changed and state_file.exists():
            log.info("%s collection %s unchanged", source, collection)
            carried = len(set(previous) | set(current))
            results[collection] = CollectionLoad(source, collection, 0, carried, 0, 0, 0, 0, 0)
            continue
        pending.append((collection, files, previous, current, changed))

    for batch in lake.file_batches(pending, lambda item: item[4]):
        totals = _load_changed(source, {item[0]: item[4] for item in batch}, raw_dir, lake_dir, parse)
        for collection, _, previous, current, changed in batch:
            changes.record_batch(lake_dir, source, collection)
            state_file = _state_file(lake_dir, source, collection)
            state_file.parent.mkdir(parents=True, exist_ok=True)
            kept_history = {name: fingerprint for name, fingerprint in previous.items() if name not in current}
            state_file.write_text(json.dumps({"files": {**kept_history, **current}}, sort_keys=True))
            carried = len(set(previous) | set(current)) - len(changed)
            result = CollectionLoad(source, collection, len(changed), carried, *totals[collection])
            log.info("%s collection %s: %s", source, collection, asdict(result))
            results[collection] = result
    return [results[collection] for collection in collections]


def _state_file(lake_dir: Path, source: str, collection: str) -> Path:
    return lake_dir / "_state" / source / f"{collection}.json"


def _load_changed(
    source: str,
    changed: dict[str, list[Path]],
    raw_dir: Path,
    lake_dir: Path,
    parse: Callable[[duckdb.DuckDBPyConnection], ParsedQueries],
) -> dict[str, tuple[int, ...]]:
    """Read the changed files of some collections in one pass and rewrite their partitions, merged with the
    rows of their other files; {collection: (lines_read, blank, loaded, quarantined, ignored)}."""
    names = list(changed)
    all_files = [path for files in changed.values() for path in files]
    data_partitions = [{"collection": name} for name in names]
    ingestion_partitions = [{"source": source, "batch": name} for name in names]
    with tempfile.TemporaryDirectory(prefix=f"{source}-load-") as scratch, duckdb.connect() as conn:
        unreadable = read_lines(conn, all_files, raw_dir, Path(scratch))
        # Unreadable files are reported by the rows added below, not by the parser's per-file summary.
        conn.execute("delete from source_files where list_contains(?, source_file)", [list(unreadable)])
        # The files read now, each with its collection's position in `names` (the partition written).
        conn.execute("create temp table refreshed (source_file varchar, partition_index integer)")
        insert_rows(conn, "refreshed",
                    [(reported_name(p, raw_dir), index) for index, name in enumerate(names) for p in changed[name]])
        queries = parse(conn)
        unreadable_rows = " union all ".join(
            f"select '{_quote(name)}', {WHOLE_FILE}, '{_quote(reason)}', null" for name, reason in unreadable.items()
        )
        quarantine = queries.quarantine + (f" union all {unreadable_rows}" if unreadable else "")
        summary = _summary_with_unreadable(queries.summary, unreadable)
        outputs = [(dataset, query, data_partitions) for dataset, query in queries.datasets.items()]
        outputs += [("quarantined_lines", quarantine, ingestion_partitions)]
        outputs += [("load_file_summary", summary, ingestion_partitions)]
        for dataset, query, partitions in outputs:
            lake.write_partitions(conn, _merged(lake_dir, dataset, partitions, query), lake_dir, dataset, partitions)
        totals = {
            row[0]: tuple(int(value) for value in row[1:])
            for row in conn.execute(
                "select partition_index, coalesce(sum(lines_read), 0), coalesce(sum(blank_lines), 0), "
                "coalesce(sum(loaded_lines), 0), coalesce(sum(quarantined_lines), 0), "
                f"coalesce(sum(ignored_event_lines), 0) from ({summary}) join refreshed using (source_file) "
                "group by partition_index"
            ).fetchall()
        }
    return {name: totals.get(index, (0,) * 5) for index, name in enumerate(names)}


def _merged(lake_dir: Path, dataset: str, partitions: list[dict[str, str]], fresh_query: str) -> str:
    """The fresh rows of the files read now, plus the previous partitions' rows of every other file, each with
    its partition's index."""
    columns = ", ".join(lake.DATASETS[dataset]["columns"])
    fresh = f"select {columns}, partition_index from ({fresh_query}) join refreshed using (source_file)"
    previous = {
        str(lake.partition_dir(lake_dir, dataset, **keys) / lake.PART_FILE): index for index, keys in enumerate(partitions)
    }
    previous = {path: index for path, index in previous.items() if Path(path).exists()}
    if not previous:
        return fresh
    listed = ", ".join(f"'{_quote(path)}'" for path in previous)
    indexes = ", ".join(f"('{_quote(path)}', {index})" for path, index in previous.items())
    return (
        f"select {columns}, partition_index from read_parquet([{listed}], filename = true) "
        f"join (values {indexes}) as previous(filename, partition_index) using (filename) "
        "where source_file not in (select source_file from refreshed) "
        f"union all by name {fresh}"
    )


def _summary_with_unreadable(summary: str, unreadable: dict[str, str]) -> str:
    if not unreadable:
        return summary
    rows = " union all ".join(f"select '{_quote(name)}', 1, 0, 0, 1, 0" for name in unreadable)
    return f"{summary} union all {rows}"


def _quote(text: str) -> str:
    return text.replace("'", "''")
