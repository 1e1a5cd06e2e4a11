"""Jobs, schedules and sensors: the refresh job (nightly, backfills, the CLI) and failure emails to admins."""

import datetime as dt
import os
import zoneinfo

import dagster as dg

from orchestration.config import Paths
from orchestration.defs.ingest import (
    agent_logs_raw,
    claude_code_raw,
    org_directory_raw,
    otel_raw,
    platform_events_raw,
)
from orchestration.defs.partitions import PARTITION_RANGE_END, PARTITION_RANGE_START, delivery_range
from orchestration.defs.publish import published_warehouse
from orchestration.defs.transform import warehouse_models

SCHEDULE_TIMEZONE_ENV = "SESSION_ANALYTICS_SCHEDULE_TIMEZONE"
NIGHTLY_TIME_ENV = "SESSION_ANALYTICS_NIGHTLY_TIME"

# Load the delivery partitions asked for, reload the directory, build the dbt models incrementally, publish.
refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.assets(
        platform_events_raw,
        claude_code_raw,
        otel_raw,
        agent_logs_raw,
        org_directory_raw,
        warehouse_models,
        published_warehouse,
    ),
    description="Load platform delivery folders (a partition range), new Claude Code transcripts, OTel "
    "exports and Codex, Gemini and Copilot logs, the org directory, then dbt build (incremental) and publish "
    "the warehouse for readers.",
)


def _schedule_timezone() -> str:
    name = os.environ.get(SCHEDULE_TIMEZONE_ENV) or "UTC"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{SCHEDULE_TIMEZONE_ENV}={name!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    return name


def _nightly_cron() -> str:
    text = os.environ.get(NIGHTLY_TIME_ENV) or "02:00"
    try:
        at = dt.time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{NIGHTLY_TIME_ENV}={text!r} is not a time of day (HH:MM)") from None
    return f"{at.minute} {at.hour} * * *"


@dg.schedule(
    name="refresh_schedule",
    job=refresh_job,
    cron_schedule=_nightly_cron(),
    execution_timezone=_schedule_timezone(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night (default 02:00 in SESSION_ANALYTICS_SCHEDULE_TIMEZONE, default UTC): load what "
    "arrived and rebuild the marts incrementally. Asks for every delivery folder present: unchanged ones are "
    "skipped by the loader, so late folders for old dates are picked up too.",
)
def nightly_refresh_schedule(context: dg.ScheduleEvaluationContext):
    start, end = delivery_range(Paths.resolve(), today=context.scheduled_execution_time.date())
    return dg.RunRequest(
        run_key=f"nightly-{context.scheduled_execution_time.date().isoformat()}",
        tags={PARTITION_RANGE_START: start, PARTITION_RANGE_END: end},
    )


@dg.run_failure_sensor(
    name="refresh_failure_email",
    monitored_jobs=[refresh_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Emails the org admins (dim_users role = admin) when a refresh run fails.",
)
def refresh_failure_email(context: dg.RunFailureSensorContext):
    from orchestration.alerts import send_failure_email

    steps = [event.step_key or "" for event in context.get_step_failure_events()]
    details = [
        str(event.event_specific_data.error.message).strip()
        for event in context.get_step_failure_events()
        if getattr(event.event_specific_data, "error", None)
    ]
    sent = send_failure_email(
        Paths.resolve(),
        run_id=context.dagster_run.run_id,
        job_name=context.dagster_run.job_name,
        failure=context.failure_event.message or "run failed",
        failed_steps=steps,
        details=details,
    )
    context.log.info("failure email: %s", sent)
