"""Ingest: raw files -> lake partitions -> `raw` views in the warehouse (the dbt sources)."""

import dataclasses

import dagster as dg

from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, SessionAnalyticsPaths, publish_lake_views
from orchestration.ingest import agent_logs, claude_code, directory, otel, platform

# One partition per delivery folder date (<raw-dir>/platform/YYYY-MM-DD). end_offset=1 lets today's folder be
# loaded before the day is over.
delivery_date_partitions = dg.DailyPartitionsDefinition(start_date="2020-01-01", end_offset=1)

PLATFORM_EVENTS = dg.AssetKey(["raw", "platform_events"])
QUARANTINED_LINES = dg.AssetKey(["raw", "quarantined_lines"])
LOAD_FILE_SUMMARY = dg.AssetKey(["raw", "load_file_summary"])
DIRECTORY_TABLES = [
    dg.AssetKey(["raw", f"directory_{name}"])
    for name in ("orgs", "users", "projects", "path_mappings", "model_prices", "budgets")
]


@dg.multi_asset(
    name="platform_events_raw",
    specs=[
        dg.AssetSpec(
            PLATFORM_EVENTS, description="Valid platform event lines (one row per copy delivered).", kinds={"parquet"}
        ),
        dg.AssetSpec(
            QUARANTINED_LINES,
            description="Lines that broke the input contract, with file, line and reason.",
            kinds={"parquet"},
        ),
        dg.AssetSpec(
            LOAD_FILE_SUMMARY, description="Per file: lines read = blank + loaded + quarantined.", kinds={"parquet"}
        ),
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
    loads = platform.load_deliveries(resolved.raw_dir, resolved.lake_dir, requested)
    publish_lake_views(resolved)
    for load in loads:
        context.log.info("delivery %s", dataclasses.asdict(load))
    totals = {
        name: sum(getattr(load, name) for load in loads)
        for name in ("files", "lines_read", "blank_lines", "loaded_lines", "quarantined_lines", "ignored_event_lines")
    }
    loaded = [load.delivery_date for load in loads if not load.skipped]
    context.log.info("loaded %d delivery folder(s) (%d unchanged): %s", len(loaded), len(loads) - len(loaded), totals)
    metadata = {
        "deliveries_loaded": len(loaded),
        "deliveries_unchanged": len(loads) - len(loaded),
        "loaded_delivery_dates": ", ".join(loaded),
        **totals,
    }
    for key in (PLATFORM_EVENTS, QUARANTINED_LINES, LOAD_FILE_SUMMARY):
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)


@dg.multi_asset(
    name="org_directory_raw",
    specs=[
        dg.AssetSpec(key, kinds={"parquet"}, description=f"{key.path[-1]} from the org directory CSV files.")
        for key in DIRECTORY_TABLES
    ],
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


CLAUDE_CODE_TABLES = [dg.AssetKey(["raw", "claude_code_requests"]), dg.AssetKey(["raw", "claude_code_session_spans"])]
OTEL_EVENTS = dg.AssetKey(["raw", "otel_events"])


def _collection_metadata(loads) -> dict:
    totals = {
        name: sum(getattr(load, name) for load in loads)
        for name in ("files_read", "files_carried_over", "lines_read", "loaded_lines", "quarantined_lines")
    }
    return {"collections": len(loads), **totals}


@dg.multi_asset(
    name="claude_code_raw",
    specs=[
        dg.AssetSpec(
            key,
            kinds={"parquet"},
            description=f"{key.path[-1]} from Claude Code transcripts (usage and timing fields only; no content).",
        )
        for key in CLAUDE_CODE_TABLES
    ],
    pool=WAREHOUSE_WRITER_POOL,
    group_name="ingest",
)
def claude_code_raw(context: dg.AssetExecutionContext, paths: SessionAnalyticsPaths):
    """Loads new and changed transcript files of every collected Claude config folder; keeps the history of
    files that Claude Code has since deleted."""
    resolved = paths.resolve()
    loads = claude_code.load_all(resolved.raw_dir, resolved.lake_dir)
    publish_lake_views(resolved)
    metadata = _collection_metadata(loads)
    context.log.info("claude code transcripts: %s", metadata)
    for key in CLAUDE_CODE_TABLES:
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)


@dg.multi_asset(
    name="otel_raw",
    specs=[
        dg.AssetSpec(
            OTEL_EVENTS,
            kinds={"parquet"},
            description="Claude Code OpenTelemetry log records (analytics attributes only).",
        )
    ],
    pool=WAREHOUSE_WRITER_POOL,
    group_name="ingest",
)
def otel_raw(context: dg.AssetExecutionContext, paths: SessionAnalyticsPaths):
    """Loads new and changed OpenTelemetry Collector export files."""
    resolved = paths.resolve()
    loads = otel.load_all(resolved.raw_dir, resolved.lake_dir)
    publish_lake_views(resolved)
    metadata = _collection_metadata(loads)
    context.log.info("otel exports: %s", metadata)
    yield dg.MaterializeResult(asset_key=OTEL_EVENTS, metadata=metadata)


AGENT_LOG_TABLES = [
    dg.AssetKey(["raw", f"{source}_{kind}"]) for source in agent_logs.SOURCES for kind in ("requests", "sessions")
]


@dg.multi_asset(
    name="agent_logs_raw",
    specs=[
        dg.AssetSpec(
            key,
            kinds={"parquet"},
            description=f"{key.path[-1]} from the collected local logs of "
            "Codex CLI, Gemini CLI and Copilot CLI (usage and timing fields only; no content).",
        )
        for key in AGENT_LOG_TABLES
    ],
    pool=WAREHOUSE_WRITER_POOL,
    group_name="ingest",
)
def agent_logs_raw(context: dg.AssetExecutionContext, paths: SessionAnalyticsPaths):
    """Loads new and changed log files of every collected Codex, Gemini and Copilot home."""
    resolved = paths.resolve()
    loads = agent_logs.load_every_format(resolved.raw_dir, resolved.lake_dir)
    publish_lake_views(resolved)
    metadata = {source: _collection_metadata(source_loads) for source, source_loads in loads.items()}
    context.log.info("agent logs: %s", metadata)
    for key in AGENT_LOG_TABLES:
        source = key.path[-1].rsplit("_", 1)[0]
        yield dg.MaterializeResult(asset_key=key, metadata=metadata[source])
