"""Jobs and schedules: the refresh job that the CLI runs in-process and the nightly schedule runs."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingest import claude_code_raw, org_directory_raw, otel_raw, platform_events_raw
from orchestration.defs.transform import warehouse_models

# Load the delivery partitions asked for, reload the directory, rebuild and test the dbt models.
refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.assets(
        platform_events_raw, claude_code_raw, otel_raw, org_directory_raw, warehouse_models
    ),
    description="Load platform delivery folders (a partition range), new Claude Code transcripts and OTel "
    "exports, the org directory, then dbt build.",
)

# 02:00 each night: the previous day's delivery partition, then the marts.
nightly_refresh_schedule = dg.build_schedule_from_partitioned_job(refresh_job, hour_of_day=2)
