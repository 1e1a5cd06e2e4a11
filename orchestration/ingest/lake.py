"""The loaded raw layer ("lake"): Parquet files partitioned by dataset and delivery date.

Parquet with Hive-style partition folders is what both DuckDB and Spark read natively, so the same dbt
sources work on either engine. Partition columns live only in folder names (Spark refuses a column that is
both in the file and in the path). Each partition is replaced atomically: a reader never sees half a file.

In the DuckDB warehouse every dataset is exposed as a view in the `raw` schema; dbt's sources point there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import duckdb

PART_FILE = "part-0.parquet"
# What a write in progress is called: a run killed mid-write leaves only these, which the next refresh removes.
SCRATCH_DIR = "_writing"
TEMPORARY_SUFFIX = ".tmp"
log = logging.getLogger(__name__)
T = TypeVar("T")

# The other agents' local logs (orchestration/ingest/agent_logs.py): the same columns for every agent, one
# partition per collected home (the user's email).
AGENT_LOG_SOURCES = ("codex", "gemini", "copilot")
AGENT_LOG_COLUMNS = {
    "requests": {
        "source_file": "VARCHAR",
        "line_number": "BIGINT",
        "session_id": "VARCHAR",
        "request_key": "VARCHAR",
        "event_at_utc": "TIMESTAMP",
        "model": "VARCHAR",
        "is_fallback_model": "BOOLEAN",
        "input_tokens": "BIGINT",
        "output_tokens": "BIGINT",
        "cache_read_input_tokens": "BIGINT",
        "cache_creation_input_tokens": "BIGINT",
        "reasoning_output_tokens": "BIGINT",
        "client_version": "VARCHAR",
    },
    "sessions": {
        "source_file": "VARCHAR",
        "line_number": "BIGINT",
        "session_id": "VARCHAR",
        "first_at_utc": "TIMESTAMP",
        "last_at_utc": "TIMESTAMP",
        "cwd": "VARCHAR",
        "git_branch": "VARCHAR",
        "repository": "VARCHAR",
        "client_version": "VARCHAR",
    },
}

# Column types of each lake dataset; partition columns are listed separately because they come from paths.
DATASETS: dict[str, dict[str, object]] = {
    "platform_events": {
        "partitions": {"delivery_date": "DATE"},
        "columns": {
            "source_file": "VARCHAR",
            "line_number": "BIGINT",
            "schema_version": "INTEGER",
            "event_id": "VARCHAR",
            "event_type": "VARCHAR",
            "org_id": "VARCHAR",
            "session_id": "VARCHAR",
            "event_at_utc": "TIMESTAMP",
            "user_id": "VARCHAR",
            "agent": "VARCHAR",
            "project_id": "VARCHAR",
            "repository": "VARCHAR",
            "request_id": "VARCHAR",
            "model": "VARCHAR",
            "input_tokens": "BIGINT",
            "output_tokens": "BIGINT",
            "cache_creation_input_tokens": "BIGINT",
            "cache_read_input_tokens": "BIGINT",
            "cache_creation_5m_input_tokens": "BIGINT",
            "cache_creation_1h_input_tokens": "BIGINT",
            "status": "VARCHAR",
        },
    },
    # batch: what one load replaces at once (a platform delivery date, a transcript collection, "directory").
    # Claude Code transcripts: one partition per collected config folder (the user's email).
    "claude_code_requests": {
        "partitions": {"collection": "VARCHAR"},
        "columns": {
            "source_file": "VARCHAR",
            "line_number": "BIGINT",
            "session_id": "VARCHAR",
            "event_at_utc": "TIMESTAMP",
            "is_sidechain": "BOOLEAN",
            "agent_id": "VARCHAR",
            "message_id": "VARCHAR",
            "request_id": "VARCHAR",
            "model": "VARCHAR",
            "input_tokens": "BIGINT",
            "output_tokens": "BIGINT",
            "cache_creation_input_tokens": "BIGINT",
            "cache_read_input_tokens": "BIGINT",
            "cache_creation_5m_input_tokens": "BIGINT",
            "cache_creation_1h_input_tokens": "BIGINT",
            "is_api_error": "BOOLEAN",
            "client_version": "VARCHAR",
        },
    },
    "claude_code_session_spans": {
        "partitions": {"collection": "VARCHAR"},
        "columns": {
            "source_file": "VARCHAR",
            "session_id": "VARCHAR",
            "first_at_utc": "TIMESTAMP",
            "last_at_utc": "TIMESTAMP",
            "timestamped_lines": "BIGINT",
            "cwd": "VARCHAR",
            "git_branch": "VARCHAR",
        },
    },
    # Claude Code OpenTelemetry log records (only analytics attributes; never prompts).
    "otel_events": {
        "partitions": {"collection": "VARCHAR"},
        "columns": {
            "source_file": "VARCHAR",
            "line_number": "BIGINT",
            "record_index": "BIGINT",
            "event_name": "VARCHAR",
            "event_at_utc": "TIMESTAMP",
            "session_id": "VARCHAR",
            "user_email": "VARCHAR",
            "organization_id": "VARCHAR",
            "request_id": "VARCHAR",
            "model": "VARCHAR",
            "input_tokens": "BIGINT",
            "output_tokens": "BIGINT",
            "cache_read_tokens": "BIGINT",
            "cache_creation_tokens": "BIGINT",
            "cost_usd": "DOUBLE",
            "duration_ms": "BIGINT",
        },
    },
    **{
        f"{source}_{kind}": {"partitions": {"collection": "VARCHAR"}, "columns": columns}
        for source in AGENT_LOG_SOURCES
        for kind, columns in AGENT_LOG_COLUMNS.items()
    },
    "quarantined_lines": {
        "partitions": {"source": "VARCHAR", "batch": "VARCHAR"},
        "columns": {
            "source_file": "VARCHAR",
            "line_number": "BIGINT",
            "reason": "VARCHAR",
            "line": "VARCHAR",
        },
    },
    "load_file_summary": {
        "partitions": {"source": "VARCHAR", "batch": "VARCHAR"},
        "columns": {
            "source_file": "VARCHAR",
            "lines_read": "BIGINT",
            "blank_lines": "BIGINT",
            "loaded_lines": "BIGINT",
            "quarantined_lines": "BIGINT",
            "ignored_event_lines": "BIGINT",
        },
    },
    "directory_orgs": {
        "partitions": {},
        "columns": {"org_id": "VARCHAR", "name": "VARCHAR", "timezone": "VARCHAR"},
    },
    "directory_users": {
        "partitions": {},
        "columns": {
            "org_id": "VARCHAR",
            "user_id": "VARCHAR",
            "email": "VARCHAR",
            "name": "VARCHAR",
            "team": "VARCHAR",
            "manager_id": "VARCHAR",
            "role": "VARCHAR",
            "email_reports": "VARCHAR",  # 'true' or 'false' (normalised by the loader)
        },
    },
    "directory_projects": {
        "partitions": {},
        "columns": {"org_id": "VARCHAR", "project_id": "VARCHAR", "name": "VARCHAR", "kind": "VARCHAR"},
    },
    "directory_path_mappings": {
        "partitions": {},
        "columns": {"path_prefix": "VARCHAR", "org_id": "VARCHAR", "project_id": "VARCHAR", "repository": "VARCHAR"},
    },
    # The org's own prices (directory model_prices.csv), as text: validated by the loader, typed in staging.
    "directory_model_prices": {
        "partitions": {},
        "columns": {
            column: "VARCHAR"
            for column in (
                "org_id",
                "model_id",
                "valid_from",
                "valid_to",
                "input_usd_per_mtok",
                "output_usd_per_mtok",
                "cache_write_5m_usd_per_mtok",
                "cache_write_1h_usd_per_mtok",
                "cache_read_usd_per_mtok",
                "long_context_threshold_tokens",
                "long_context_input_usd_per_mtok",
                "long_context_output_usd_per_mtok",
                "long_context_cache_write_5m_usd_per_mtok",
                "long_context_cache_write_1h_usd_per_mtok",
                "long_context_cache_read_usd_per_mtok",
            )
        },
    },
    # Spend budgets (directory budgets.csv), as text: validated and normalised by the loader, typed in staging.
    "directory_budgets": {
        "partitions": {},
        "columns": {column: "VARCHAR" for column in ("org_id", "scope", "scope_id", "period", "amount_usd", "warn_at")},
    },
}


def partition_dir(lake_dir: Path, dataset: str, **partition_values: str) -> Path:
    """Folder of one partition, e.g. lake/platform_events/delivery_date=2026-11-20."""
    keys = DATASETS[dataset]["partitions"]
    if set(partition_values) != set(keys):
        raise ValueError(f"{dataset} is partitioned by {list(keys)}, got {sorted(partition_values)}")
    path = lake_dir / dataset
    for key in keys:
        path = path / f"{key}={_partition_text(partition_values[key])}"
    return path


# DuckDB's hive reader decodes %XX in folder names, fails a whole dataset on a value with "=", and reads this one
# as NULL: escaped so that every value (a collection is a folder name from the raw dir) reads back as written.
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def _partition_text(value: str) -> str:
    text = value.replace("%", "%25").replace("=", "%3D").replace("/", "%2F")
    return "%5F" + text[1:] if text == _HIVE_NULL else text


def write_partition(
    conn: duckdb.DuckDBPyConnection, query: str, lake_dir: Path, dataset: str, **partition_values: str
) -> Path:
    """Write the query's rows (in the dataset's column order) as the partition's only file, atomically."""
    columns = DATASETS[dataset]["columns"]
    folder = partition_dir(lake_dir, dataset, **partition_values)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / PART_FILE
    temporary = folder / (PART_FILE + TEMPORARY_SUFFIX)
    select_list = ", ".join(f"cast({name} as {sql_type}) as {name}" for name, sql_type in columns.items())
    conn.execute(
        f"copy (select {select_list} from ({query})) to '{_sql_path(temporary)}' "
        "(format parquet, compression zstd, compression_level 1)"
    )
    os.replace(temporary, target)
    return target


def write_partitions(
    conn: duckdb.DuckDBPyConnection,
    query: str,
    lake_dir: Path,
    dataset: str,
    partitions: list[dict[str, str]],
) -> None:
    """Write the rows of several partitions in ONE Parquet write, each partition's file replaced atomically.

    `query` gives the dataset's columns plus `partition_index`, the row's position in `partitions`. Writing
    partitions one by one costs a query plan, a scan and a file set-up each, which many small partitions
    (daily deliveries, one transcript folder per person) pay over and over. A partition without rows gets an
    empty file, as write_partition gives it."""
    columns = DATASETS[dataset]["columns"]
    scratch = lake_dir / SCRATCH_DIR / dataset
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    select_list = ", ".join(f"cast({name} as {sql_type}) as {name}" for name, sql_type in columns.items())
    try:
        # Folders are named by index, not value: DuckDB escapes some characters of hive values (e.g. in emails).
        conn.execute(
            f"copy (select {select_list}, partition_index from ({query})) to '{_sql_path(scratch)}' "
            "(format parquet, compression zstd, compression_level 1, partition_by (partition_index), "
            "filename_pattern 'part-{i}')"
        )
        empty: Path | None = None
        for index, values in enumerate(partitions):
            written = sorted((scratch / f"partition_index={index}").glob("*.parquet"))
            if len(written) > 1:  # DuckDB split a large partition into several files: the lake keeps one
                listed = ", ".join(f"'{_sql_path(path)}'" for path in written)
                write_partition(conn, f"select * from read_parquet([{listed}])", lake_dir, dataset, **values)
            elif written:
                folder = partition_dir(lake_dir, dataset, **values)
                folder.mkdir(parents=True, exist_ok=True)
                os.replace(written[0], folder / PART_FILE)
            elif empty is None:
                empty = write_partition(
                    conn, f"select {', '.join(columns)} from ({query}) where false", lake_dir, dataset, **values
                )
            else:  # the same empty file: planning the query again per partition would cost more than the write
                folder = partition_dir(lake_dir, dataset, **values)
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(empty, folder / (PART_FILE + TEMPORARY_SUFFIX))
                os.replace(folder / (PART_FILE + TEMPORARY_SUFFIX), folder / PART_FILE)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(OSError):
            scratch.parent.rmdir()


# Bytes of raw files (as stored, gzip compressed or not) one load reads in a batch: the lines are held as text,
# so this bounds one load's memory whatever the history.
LOAD_BATCH_BYTES = 192 * 2**20


def file_batches(
    items: list[T], files_of: Callable[[T], list[Path]], budget: int = LOAD_BATCH_BYTES
) -> Iterator[list[T]]:
    """Consecutive runs of `items` (deliveries, collections) whose files add up to at most `budget` bytes (an
    item larger than it goes alone): loads read many partitions at once, but not so many that one load's memory
    grows with the history."""
    batch: list[T] = []
    total = 0
    for item in items:
        item_size = sum(path.stat().st_size for path in files_of(item))
        if batch and total + item_size > budget:
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += item_size
    if batch:
        yield batch


def write_state(path: Path, value: dict) -> None:
    """Write a state file (what was loaded, what is pending) atomically: a run killed mid-write leaves the old
    file or the new one, never half of one that would fail every later refresh."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    temporary.write_text(json.dumps(value, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def read_state(path: Path) -> dict | None:
    """A state file's content; None when it is missing or unreadable, so that what it describes is loaded or
    built again rather than trusted."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        log.warning("ignoring the unreadable state file %s: %s", path, error)
        return None
    return value if isinstance(value, dict) else None


def remove_partition(lake_dir: Path, dataset: str, **partition_values: str) -> None:
    shutil.rmtree(partition_dir(lake_dir, dataset, **partition_values), ignore_errors=True)


def register_views(warehouse: duckdb.DuckDBPyConnection, lake_dir: Path) -> None:
    """(Re)create `raw.<dataset>` views over the lake; a dataset with no files yet is an empty typed view."""
    warehouse.execute("create schema if not exists raw")
    for dataset, spec in DATASETS.items():
        partitions: dict[str, str] = spec["partitions"]  # type: ignore[assignment]
        columns: dict[str, str] = spec["columns"]  # type: ignore[assignment]
        depth = "/".join(["*"] * len(partitions))
        pattern = lake_dir / dataset / (f"{depth}/{PART_FILE}" if depth else PART_FILE)
        all_columns = {**columns, **partitions}
        if list(lake_dir.glob(str(pattern.relative_to(lake_dir)))):
            hive = ", ".join(f"'{key}': {sql_type}" for key, sql_type in partitions.items())
            options = f", hive_partitioning = true, hive_types = {{{hive}}}" if partitions else ""
            body = f"select * from read_parquet('{_sql_path(pattern)}'{options})"
        else:
            nulls = ", ".join(f"cast(null as {sql_type}) as {name}" for name, sql_type in all_columns.items())
            body = f"select {nulls} where false"
        warehouse.execute(f"create or replace view raw.{dataset} as {body}")


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
