"""Run the `refresh` Dagster job in-process: the same job the nightly schedule runs.

One refresh at a time writes a working warehouse and a lake (`publish.refresh_lock`); before it starts, it
removes what a killed or failed run left (`publish.remove_leftovers`) and checks that the lake is its own.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import duckdb

from orchestration import engines
from orchestration.config import Paths
from orchestration.defs.partitions import PARTITION_RANGE_END, PARTITION_RANGE_START, delivery_range
from orchestration.engines import spark
from orchestration.ingest import changes, lake
from orchestration.publish import RefreshRunning, refresh_lock, remove_leftovers

# In the lake: the raw dir whose deliveries it holds and the warehouse built from it.
LAKE_OWNER_FILE = "_state/owner.json"


class LakeOfAnotherRawDir(RuntimeError):
    """The lake holds the deliveries of another raw dir: loading this one would mix them."""


def run_refresh(
    paths: Paths,
    full: bool = False,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
    partition_range: tuple[str, str] | None = None,
    engine: str = engines.DUCKDB,
) -> dict[str, Any]:
    """Run the refresh job: the delivery partitions of `partition_range` (a backfill), or of every delivery
    folder present. On success the working warehouse is published; on failure nothing is. With the Spark engine,
    dbt builds the marts as Spark tables (docs/spark.md) and the DuckDB warehouse is left as it was."""
    paths.export_to_environment()
    engines.export_to_environment(engine)
    try:
        with refresh_lock(paths):
            return _run_locked(paths, full, instance, log_level, partition_range, engine)
    except (RefreshRunning, LakeOfAnotherRawDir) as error:
        return {"success": False, "lake": str(paths.lake_dir), "failures": [str(error)]}


def _run_locked(
    paths: Paths,
    full: bool,
    instance: dg.DagsterInstance | None,
    log_level: str,
    partition_range: tuple[str, str] | None,
    engine: str,
) -> dict[str, Any]:
    removed = remove_leftovers(paths)
    lake_note = _claim_lake(paths, engine)
    if full:
        _forget_load_state(paths)
    from orchestration.definitions import defs

    start, end = partition_range or delivery_range(paths)
    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags={PARTITION_RANGE_START: start, PARTITION_RANGE_END: end},
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=False,
    )
    outcome: dict[str, Any] = {
        "success": result.success,
        "run_id": result.run_id,
        "lake": str(paths.lake_dir),
        "deliveries": f"{start}..{end}",
        "deliveries_loaded": _loaded_delivery_dates(result),
    }
    if lake_note:
        outcome["lake_note"] = lake_note
    if removed:
        outcome["leftovers_removed"] = [str(path) for path in removed]
    if result.success and engine == engines.SPARK:
        outcome.update({"engine": engine, "spark_dir": str(spark.spark_dir(paths))})
    elif result.success:
        outcome.update(warehouse_counts(paths))
    else:
        outcome["failures"] = [event.message for event in result.all_events if event.is_failure and event.message][:5]
    return outcome


def _loaded_delivery_dates(result: dg.ExecuteInProcessResult) -> list[str]:
    """Delivery folders the run actually read (unchanged folders are skipped)."""
    dates: set[str] = set()
    for event in result.get_asset_materialization_events():
        value = event.materialization.metadata.get("loaded_delivery_dates")
        if value is not None and value.value:
            dates.update(value.value.split(", "))
    return sorted(dates)


def warehouse_counts(paths: Paths) -> dict[str, Any]:
    """The run summary printed after a refresh: what the warehouse now holds and what was rejected."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        ((lines_read, loaded, quarantined, blank, ignored),) = conn.execute(
            "select sum(lines_read), sum(loaded_lines), sum(quarantined_lines), sum(blank_lines), "
            "sum(ignored_event_lines) from raw.load_file_summary"
        ).fetchall()
        ((sessions,),) = conn.execute("select count(*) from analytics.fct_sessions").fetchall()
        ((requests, unpriced),) = conn.execute(
            "select count(*), count(*) filter (where not is_priced) from analytics.fct_model_requests"
        ).fetchall()
        orgs = [row[0] for row in conn.execute("select org_id from analytics.dim_orgs order by 1").fetchall()]
        # Loud: every model id whose requests have no price (an internal model, or one genai-prices does not
        # know yet: add it to the directory's model_prices.csv, or upgrade genai-prices and run `prices sync`).
        unpriced_models = conn.execute(
            "select model, count(*) from analytics.fct_model_requests where not is_priced "
            "group by model order by 2 desc, 1"
        ).fetchall()
    return {
        "warehouse": str(paths.warehouse),
        "lines_read": int(lines_read or 0),
        "lines_loaded": int(loaded or 0),
        "lines_quarantined": int(quarantined or 0),
        "blank_lines": int(blank or 0),
        "ignored_event_lines": int(ignored or 0),
        "sessions": int(sessions),
        "model_requests": int(requests),
        "unpriced_requests": int(unpriced),
        "unpriced_models": {model: int(count) for model, count in unpriced_models},
        "orgs": orgs,
    }


def _claim_lake(paths: Paths, engine: str = engines.DUCKDB) -> str | None:
    """Make sure the lake is this run's: it holds the deliveries of this raw dir only (another raw dir's is
    refused: its data would mix with this one's), and its pending changes are those this warehouse has not built
    (a lake last built into another warehouse, or by the other engine, asks for a full rebuild). A lake without a
    record (new, or from before the record existed) becomes this run's. Returns a note for the run summary."""
    record = paths.lake_dir / LAKE_OWNER_FILE
    built_into = spark.spark_dir(paths) if engine == engines.SPARK else paths.warehouse
    owner = {"raw_dir": str(paths.raw_dir), "warehouse": str(built_into)}
    previous = lake.read_state(record)
    if previous == owner:
        return None
    note = None
    if previous is not None:
        if previous["raw_dir"] != owner["raw_dir"]:
            raise LakeOfAnotherRawDir(
                f"the lake {paths.lake_dir} holds the deliveries of the raw dir {previous['raw_dir']}, not "
                f"{paths.raw_dir}: give this raw dir a lake of its own (--lake-dir or SESSION_ANALYTICS_LAKE_DIR), "
                f"or, if that raw dir was moved here, delete {record}"
            )
        changes.record_full_rebuild(paths.lake_dir)
        note = f"the lake was last built into {previous['warehouse']}: every model is rebuilt"
    lake.write_state(record, owner)
    return note


def _forget_load_state(paths: Paths) -> None:
    """Everything is reloaded, and with no record of pending changes every dbt model is rebuilt in full."""
    state = paths.lake_dir / "_state"
    owner = paths.lake_dir / LAKE_OWNER_FILE
    for file in state.rglob("*.json") if state.exists() else []:
        if file != owner:
            file.unlink()
