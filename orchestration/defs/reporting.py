"""Reporting: the weekly HTML/PDF reports of every org and their emails, one partition per ISO week (Monday to
Sunday).

Partitions: weekly, starting on Mondays (`WeeklyPartitionsDefinition(day_offset=1)`); the partition key is the
week's Monday (`2026-11-16` is ISO week 2026-W47). Only complete weeks are partitions. One run renders the
week's reports of every org in the warehouse (user, manager and org reports, in parallel worker processes);
orgs are not a partition dimension because they come from the directory, which a refresh can change.
The assets read the warehouse read-only, so they do not take the warehouse writer pool. `reports/weekly_delivery`
emails the rendered reports (SMTP settings from the environment, see reports/delivery/mailer.py); its ledger
makes a re-run send nothing twice.
"""

import datetime as dt

import dagster as dg

from orchestration.config import Paths
from orchestration.defs.resources import SessionAnalyticsPaths
from reports.delivery.weekly import deliver_week
from reports.query import AnalyticsQueries, connect_read_only
from reports.render import render_reports
from reports.weeks import ReportWeek

report_weeks = dg.WeeklyPartitionsDefinition(start_date="2025-01-06", day_offset=1)

# The marts and dimensions the reports read (keys, not asset objects: see STACK-NOTES on duplicate keys).
REPORT_INPUTS = [
    dg.AssetKey(["analytics", name])
    for name in ("mart_daily_activity", "mart_daily_model_costs", "mart_session_starts", "dim_users", "dim_orgs")
]


def _partition_week_and_orgs(
    context: dg.AssetExecutionContext, paths: SessionAnalyticsPaths
) -> tuple[Paths, ReportWeek, list[str]]:
    """The resolved paths, the partition's ISO week, and every org of the warehouse."""
    resolved = paths.resolve()
    week = ReportWeek.containing(dt.date.fromisoformat(context.partition_key))
    with connect_read_only(resolved.warehouse) as conn:
        orgs = AnalyticsQueries(conn).org_ids()
    return resolved, week, orgs


@dg.asset(
    key=dg.AssetKey(["reports", "weekly_reports"]),
    deps=REPORT_INPUTS,
    partitions_def=report_weeks,
    group_name="reporting",
    kinds={"html", "pdf"},
    description="Weekly user, manager and org reports (HTML + PDF + manifest.json) of every org under "
    "<reports-dir>/<org>/<ISO week>/.",
)
def weekly_reports(context: dg.AssetExecutionContext, paths: SessionAnalyticsPaths) -> dg.MaterializeResult:
    resolved, week, orgs = _partition_week_and_orgs(context, paths)
    metadata: dict = {"week": week.label}
    for org_id in orgs:
        outcome = render_reports(resolved.warehouse, resolved.reports_dir, org_id, week)
        reports = len({(file.audience, file.recipient_user_id) for file in outcome.files})
        context.log.info("%s %s: %d reports in %s", org_id, week.label, reports, outcome.week_dir)
        metadata[f"{org_id}_reports"] = reports
        metadata[f"{org_id}_manifest"] = dg.MetadataValue.path(str(outcome.manifest))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=dg.AssetKey(["reports", "weekly_delivery"]),
    deps=[weekly_reports],
    partitions_def=report_weeks,
    group_name="reporting",
    kinds={"email"},
    description="The week's reports emailed to their recipients (user, manager and org reports; opted-out users "
    "skipped); each report is sent once, recorded in the delivery ledger.",
)
def weekly_delivery(context: dg.AssetExecutionContext, paths: SessionAnalyticsPaths) -> dg.MaterializeResult:
    resolved, week, orgs = _partition_week_and_orgs(context, paths)
    metadata: dict = {"week": week.label, "ledger": dg.MetadataValue.path(str(resolved.ledger))}
    failures = []
    for org_id in orgs:
        # Every org is tried even when an earlier one had failures: one bad address must not hold up the rest.
        summary = deliver_week(resolved.warehouse, resolved.reports_dir, resolved.ledger, org_id, week,
                               outbox=resolved.outbox)  # fmt: skip
        context.log.info(summary.text())
        metadata.update({f"{org_id}_{outcome.replace(' ', '_').replace(',', '')}": count
                         for outcome, count in summary.counts.items()})  # fmt: skip
        failures += summary.failed
    if failures:
        # Fails the run (visible in the UI, retried by a re-run, which sends only what is still unsent).
        raise dg.Failure(f"{len(failures)} report email(s) not delivered; see the log", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


weekly_reports_job = dg.define_asset_job(
    "weekly_reports", selection=[weekly_reports, weekly_delivery],
    description="Render the reports of one ISO week for every org, then email them.",
)

# Mondays at 07:00 (UTC): render and send the week that ended on Sunday.
weekly_reports_schedule = dg.build_schedule_from_partitioned_job(weekly_reports_job, hour_of_day=7)
