"""Incremental loading of a *collection* of files into one lake partition per dataset.

Transcripts and OpenTelemetry exports are not deliveries: the same files are collected again and again, some
grow (a session goes on, a resumed session rewrites its file), and Claude Code deletes transcripts after 30
days. So a collection is loaded file by file: only new or changed files (by size and modification time) are
read; rows of unchanged files, and of files that have disappeared from the source folder, are carried over
from the previous partition. History is never lost, and a reload of unchanged files reads nothing. The
changed files of all collections of a refresh are read, parsed and written together (one partitioned write
per dataset): one collection per person, each loaded on its own, was mostly fixed costs.

Links are never followed, and every entry that is not read (a link, a FIFO, a folder that cannot be listed, a
collection folder whose name breaks the identifier rule) is reported as a file that could not be read: one line
read, quarantined at line 0 with the reason.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from orchestration.ingest import changes, lake
from orchestration.ingest.contract import RawFiles, find_raw_files, identifier_problem
from orchestration.ingest.lines import WHOLE_FILE, insert_rows, read_lines, reported_name, unglobbed

log = logging.getLogger(__name__)

QUARANTINE_COLUMNS = "source_file, line_number, reason, line"
# The collection that reports the entries of a source's folder that belong to no collection it reads.
UNCOLLECTED = "_uncollected"


def find_collections(
    root: Path, loose_files_collection: str | None = None, suffixes: tuple[str, ...] = (".jsonl", ".jsonl.gz")
) -> dict[str, RawFiles]:
    """The raw files under `root` (a source's folder) by collection: the first folder under `root`. Files
    directly in `root` form `loose_files_collection` (OTel's `_root`) or, without one, are not read.

    A collection's name is a lake partition (and a transcript collection's, a user's email): a folder whose
    name breaks the identifier rule is not read at all. Every entry that is not read is in the `skipped` of its
    collection; entries that belong to no valid collection, in that of `loose_files_collection` or UNCOLLECTED."""
    found = find_raw_files(root, suffixes)
    loose = loose_files_collection or UNCOLLECTED
    grouped: dict[str, RawFiles] = {}

    def collection_of(path: Path) -> RawFiles:
        parts = path.relative_to(root).parts
        return grouped.setdefault(parts[0] if len(parts) > 1 else loose, RawFiles())

    for path in found.files:
        if len(path.relative_to(root).parts) > 1 or loose_files_collection:
            collection_of(path).files.append(path)
        else:
            collection_of(path).skipped[path] = "skipped: not in a collection folder"
    for path, reason in found.skipped.items():
        collection_of(path).skipped[path] = reason
    for name in [name for name in grouped if name != loose]:
        problem = identifier_problem(name)
        if problem:
            reason = f"skipped: the collection folder's name is not a valid identifier ({problem})"
        elif _folder_name_bytes(name) > NAME_MAX_BYTES:
            reason = (
                f"skipped: the collection folder's name is too long for the lake ({_folder_name_bytes(name)} bytes)"
            )
        else:
            continue
        del grouped[name]
        grouped.setdefault(loose, RawFiles()).skipped[root / name] = reason
    return dict(sorted(grouped.items()))


# A collection's name names two folders of the lake, its partitions (collection=<name>, escaped) and its load
# state (<name>.json): each at most NAME_MAX bytes, or writing them fails.
NAME_MAX_BYTES = 255


def _folder_name_bytes(collection: str) -> int:
    partition = lake.partition_dir(Path(), "claude_code_requests", collection=collection).name
    return max(len(partition.encode()), len(_state_file(Path(), "", collection).name.encode()))


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
    collections: dict[str, RawFiles],
    raw_dir: Path,
    lake_dir: Path,
    parse: Callable[[duckdb.DuckDBPyConnection], ParsedQueries],
    force: bool = False,
) -> list[CollectionLoad]:
    """Load the new and changed files of several collections, one partition per collection and dataset.

    The changed files of many collections are read together, in batches of about lake.LOAD_BATCH_BYTES: one
    read, one parse and one Parquet write per dataset for the whole batch, since each of them has a fixed cost
    that one collection per person would pay over and over. A skipped entry has a fingerprint like a file (its
    own size and time, and the reason): it is reported again only when it changes."""
    results: dict[str, CollectionLoad] = {}
    pending: list[_Pending] = []
    # A collection gone from the raw dir keeps its rows (history), but not the rows of its skipped entries.
    gone = {name: RawFiles() for name in _loaded_collections(lake_dir, source) if name not in collections}
    for collection, found in {**collections, **gone}.items():
        state_file = _state_file(lake_dir, source, collection)
        state = lake.read_state(state_file)
        previous: dict[str, list] = state.get("files", {}) if state else {}
        current, entries = _fingerprints(found, raw_dir)
        changed = RawFiles()
        for name, (path, reason) in entries.items():
            if force or previous.get(name) != current[name]:
                if reason is None:
                    changed.files.append(path)
                else:
                    changed.skipped[path] = reason
        # An entry that was skipped and is gone is forgotten: its row said why it was not read.
        forgotten = [name for name, fingerprint in previous.items() if name not in current and len(fingerprint) == 3]
        if not (changed.files or changed.skipped or forgotten) and state is not None:
            log.info("%s collection %s unchanged", source, collection)
            carried = len(set(previous) | set(current))
            results[collection] = CollectionLoad(source, collection, 0, carried, 0, 0, 0, 0, 0)
            continue
        pending.append(_Pending(collection, previous, current, changed, forgotten))

    for batch in lake.file_batches(pending, lambda item: item.changed.files):
        totals = _load_changed(source, batch, raw_dir, lake_dir, parse)
        for item in batch:
            changes.record_batch(lake_dir, source, item.collection)
            kept_history = {
                name: fingerprint
                for name, fingerprint in item.previous.items()
                if name not in item.current and name not in item.forgotten
            }
            lake.write_state(
                _state_file(lake_dir, source, item.collection), {"files": {**kept_history, **item.current}}
            )
            read_now = len(item.changed.files) + len(item.changed.skipped)
            carried = len(set(kept_history) | set(item.current)) - read_now
            result = CollectionLoad(source, item.collection, read_now, carried, *totals[item.collection])
            log.info("%s collection %s: %s", source, item.collection, asdict(result))
            results[item.collection] = result
    return [results[collection] for collection in collections]


@dataclass(frozen=True)
class _Pending:
    """A collection to load: its previous and current fingerprints, what changed, what is forgotten."""

    collection: str
    previous: dict[str, list]
    current: dict[str, list]
    changed: RawFiles
    forgotten: list[str]


def _loaded_collections(lake_dir: Path, source: str) -> list[str]:
    folder = _state_file(lake_dir, source, "_").parent
    return sorted(path.name.removesuffix(".json") for path in folder.glob("*.json")) if folder.is_dir() else []


def _fingerprints(found: RawFiles, raw_dir: Path) -> tuple[dict[str, list], dict[str, tuple[Path, str | None]]]:
    """({reported name: fingerprint}, {reported name: (path, reason it is skipped or None)}) of a collection's
    files and skipped entries. A file that vanished or cannot be examined since it was found is skipped."""
    fingerprints: dict[str, list] = {}
    entries: dict[str, tuple[Path, str | None]] = {}
    for path in found.files:
        name = reported_name(path, raw_dir)
        try:
            status = path.stat()
        except OSError as error:
            fingerprints[name] = [0, 0, f"skipped: cannot be examined ({error.strerror})"]
            entries[name] = (path, fingerprints[name][2])
            continue
        fingerprints[name] = [status.st_size, status.st_mtime_ns]
        entries[name] = (path, None)
    for path, reason in found.skipped.items():
        name = reported_name(path, raw_dir)
        try:
            status = path.lstat()
            fingerprints[name] = [status.st_size, status.st_mtime_ns, reason]
        except OSError:
            fingerprints[name] = [0, 0, reason]
        entries[name] = (path, reason)
    return fingerprints, entries


def _state_file(lake_dir: Path, source: str, collection: str) -> Path:
    return lake_dir / "_state" / source / f"{collection}.json"


def _load_changed(
    source: str,
    batch: list[_Pending],
    raw_dir: Path,
    lake_dir: Path,
    parse: Callable[[duckdb.DuckDBPyConnection], ParsedQueries],
) -> dict[str, tuple[int, ...]]:
    """Read the changed files of some collections in one pass, report their changed skipped entries, and
    rewrite their partitions, merged with the rows of their other files (less the forgotten ones);
    {collection: (lines_read, blank, loaded, quarantined, ignored)}."""
    names = [item.collection for item in batch]
    all_files = [path for item in batch for path in item.changed.files]
    data_partitions = [{"collection": name} for name in names]
    ingestion_partitions = [{"source": source, "batch": name} for name in names]
    with tempfile.TemporaryDirectory(prefix=f"{source}-load-") as scratch, duckdb.connect() as conn:
        unreadable = read_lines(conn, all_files, raw_dir, Path(scratch))
        # Unreadable files are reported by the rows of `not_read`, not by the parser's per-file summary.
        conn.execute("delete from source_files where list_contains(?, source_file)", [list(unreadable)])
        not_read = {
            reported_name(path, raw_dir): reason for item in batch for path, reason in item.changed.skipped.items()
        }
        not_read.update(unreadable)
        conn.execute("create temp table not_read (source_file varchar, reason varchar)")
        insert_rows(conn, "not_read", list(not_read.items()))
        # The files read now, the entries reported now and the entries forgotten, each with its collection's
        # position in `names` (the partition written): their previous rows are replaced.
        conn.execute("create temp table refreshed (source_file varchar, partition_index integer)")
        insert_rows(
            conn,
            "refreshed",
            [
                (name, index)
                for index, item in enumerate(batch)
                for name in (
                    *(reported_name(path, raw_dir) for path in (*item.changed.files, *item.changed.skipped)),
                    *item.forgotten,
                )
            ],
        )
        queries = parse(conn)
        quarantine = f"{queries.quarantine} union all select source_file, {WHOLE_FILE}, reason, null from not_read"
        # A file that is not read counts as one line read, and quarantined (as lines_read = blank + loaded +
        # quarantined must hold).
        summary = f"{queries.summary} union all select source_file, 1, 0, 0, 1, 0 from not_read"
        outputs = [(dataset, query, data_partitions) for dataset, query in queries.datasets.items()]
        outputs += [("quarantined_lines", quarantine, ingestion_partitions)]
        outputs += [("load_file_summary", summary, ingestion_partitions)]
        for dataset, query, partitions in outputs:
            merged = _merged(lake_dir, dataset, partitions, query, Path(scratch))
            lake.write_partitions(conn, merged, lake_dir, dataset, partitions)
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


def _merged(lake_dir: Path, dataset: str, partitions: list[dict[str, str]], fresh_query: str, scratch: Path) -> str:
    """The fresh rows of the files read now, plus the previous partitions' rows of every other file, each with
    its partition's index. A partition's path with glob characters (a collection named a*@x) is read through a
    link in `scratch`: read_parquet would read every partition it matches."""
    columns = ", ".join(lake.DATASETS[dataset]["columns"])
    fresh = f"select {columns}, partition_index from ({fresh_query}) join refreshed using (source_file)"
    previous = {}
    for index, keys in enumerate(partitions):
        part = lake.partition_dir(lake_dir, dataset, **keys) / lake.PART_FILE
        if part.exists():
            previous[str(unglobbed(part, scratch / f"previous-{dataset}-{index}.parquet"))] = index
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


def _quote(text: str) -> str:
    return text.replace("'", "''")
