"""Ingest: raw files -> lake partitions -> `raw` views in the warehouse (the dbt sources)."""

import dataclasses

import dagster as dg

from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, SessionAnalyticsPaths, publish_lake_views
from orchestration.sources import directory, platform

# One partition per delivery folder date (<raw-dir>/platform/YYYY-MM-DD). end_offset=1 lets today's folder be
# loaded before the day is over.
delivery_date_partitions = dg.DailyPartitionsDefinition(start_date="2020-01-01", end_offset=1)

PLATFORM_EVENTS = dg.AssetKey(["raw", "platform_events"])
QUARANTINED_LINES = dg.AssetKey(["raw", "quarantined_lines"])
LOAD_FILE_SUMMARY = dg.AssetKey(["raw", "load_file_summary"])
DIRECTORY_TABLES = [dg.AssetKey(["raw", f"directory_{name}"]) for name in ("orgs", "users", "projects")]


@dg.multi_asset(
    name="platform_events_raw",
    specs=[
        dg.AssetSpec(PLATFORM_EVENTS, description="Valid platform event lines (one row per copy delivered).",
                     kinds={"parquet"}),
        dg.AssetSpec(QUARANTINED_LINES, description="Lines that broke the input contract, with file, line and "
                     "reason.", kinds={"parquet"}),
        dg.AssetSpec(LOAD_FILE_SUMMARY, description="Per file: lines read = blank + loaded + quarantined.",
                     kinds={"parquet"}),
    ],
    partitions_def=delivery_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_WRITER_POOL,
    group_name="ingest",
)
def platform_events_raw(context: dg.AssetExecutionContext, paths: SessionAnalyticsPaths):
    """Validates each delivery folder of the requested partitions line by line into the lake."""
    resolved = paths.resolve()
    present = set(platform.delivery_dates(resolved.raw_dir))
    requested = [key for key in context.partition_keys if key in present]
    loads = [platform.load_delivery(resolved.raw_dir, resolved.lake_dir, key) for key in requested]
    publish_lake_views(resolved)
    for load in loads:
        context.log.info("delivery %s", dataclasses.asdict(load))
    totals = {
        name: sum(getattr(load, name) for load in loads)
        for name in ("files", "lines_read", "blank_lines", "loaded_lines", "quarantined_lines", "ignored_event_lines")
    }
    context.log.info("loaded %d delivery folder(s): %s", len(loads), totals)
    metadata = {"deliveries_loaded": len(loads), **totals}
    for key in (PLATFORM_EVENTS, QUARANTINED_LINES, LOAD_FILE_SUMMARY):
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)


@dg.multi_asset(
    name="org_directory_raw",
    specs=[dg.AssetSpec(key, kinds={"parquet"}, description=f"{key.path[-1]} from the org directory CSV files.")
           for key in DIRECTORY_TABLES],
    pool=WAREHOUSE_WRITER_POOL,
    group_name="ingest",
)
def org_directory_raw(context: dg.AssetExecutionContext, paths: SessionAnalyticsPaths):
    """Loads orgs.csv, users.csv and projects.csv; bad rows are quarantined with file and line."""
    resolved = paths.resolve()
    result = directory.load_directory(resolved.directory, resolved.lake_dir)
    publish_lake_views(resolved)
    context.log.info("directory: %s", result)
    for key in DIRECTORY_TABLES:
        yield dg.MaterializeResult(asset_key=key, metadata=dataclasses.asdict(result))
