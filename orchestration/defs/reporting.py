"""Reporting: the weekly HTML/PDF reports of every org and their emails, one partition per ISO week (Monday to
Sunday).

Partitions: weekly, starting on Mondays (`WeeklyPartitionsDefinition(day_offset=1)`); the partition key is the
week's Monday (`2026-11-16` is ISO week 2026-W47). Only complete weeks are partitions. One run renders the
week's reports of every org in the warehouse (user, manager and org reports, in parallel worker processes);
orgs are not a partition dimension because they come from the directory, which a refresh can change.
The assets read the warehouse read-only, so they do not take the warehouse writer pool. `reports/weekly_delivery`
emails the rendered reports (SMTP settings from the environment, see reports/delivery/mailer.py); its ledger
makes a re-run send nothing twice.

Every org is tried even when an earlier one fails, and every report of an org even when one fails; failures are
logged and listed in the metadata, and fail the run once all orgs are done. When `weekly_delivery` runs after
`weekly_reports` in the same run (the weekly job), the reports asset leaves that to the delivery, which renders the
missing reports once more and counts those that still fail: a bad report of one org must not hold up the emails
of the others.
"""

import datetime as dt

import dagster as dg

from orchestration.config import Paths
from orchestration.defs.resources import SessionAnalyticsPaths
from reports.analytics.query import AnalyticsQueries, connect_read_only
from reports.analytics.weeks import ReportWeek
from reports.delivery.weekly import deliver_week
from reports.weekly.paths import safe_name
from reports.weekly.render import render_reports

WEEKLY_DELIVERY = dg.AssetKey(["reports", "weekly_delivery"])

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
    failures = []
    for org_id in orgs:
        key = safe_name(org_id)  # metadata keys: readable and bounded, whatever the org id holds
        try:
            outcome = render_reports(resolved.warehouse, resolved.reports_dir, org_id, week)
        except Exception as error:  # noqa: BLE001 -- one org's failure must not stop the next orgs
            context.log.exception(f"{org_id!r} {week.label}: no reports rendered: {error}")
            metadata[f"{key}_error"] = str(error)
            failures.append(f"{org_id!r}: {error}")
            continue
        reports = len({(file.audience, file.recipient_user_id) for file in outcome.files})
        context.log.info("%s %s: %d reports in %s", org_id, week.label, reports, outcome.week_dir)
        metadata[f"{key}_reports"] = reports
        metadata[f"{key}_manifest"] = dg.MetadataValue.path(str(outcome.manifest))
        if outcome.failed:
            metadata[f"{key}_failed_reports"] = len(outcome.failed)
            for failed in outcome.failed:
                context.log.error(
                    f"{org_id!r} {week.label}: the {failed.audience} report of "
                    f"{failed.recipient_user_id!r} was not rendered: {failed.error}"
                )
                failures.append(f"{org_id!r}: {failed.audience} report of {failed.recipient_user_id!r}")
    if failures and WEEKLY_DELIVERY not in context.job_def.asset_layer.selected_asset_keys:
        raise dg.Failure(
            f"{len(failures)} org(s) or report(s) not rendered: {'; '.join(failures)[:2000]}", metadata=metadata
        )
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=WEEKLY_DELIVERY,
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
    failed_emails, failed_orgs = 0, []
    for org_id in orgs:
        key = safe_name(org_id)
        # Every org is tried even when an earlier one had failures: one bad address must not hold up the rest.
        try:
            summary = deliver_week(
                resolved.warehouse, resolved.reports_dir, resolved.ledger, org_id, week, outbox=resolved.outbox
            )
        except Exception as error:  # noqa: BLE001 -- one org's failure must not stop the next orgs
            context.log.exception(f"{org_id!r} {week.label}: nothing delivered: {error}")
            metadata[f"{key}_error"] = str(error)
            failed_orgs.append(org_id)
            continue
        context.log.info(summary.text())
        metadata.update(
            {f"{key}_{outcome.replace(' ', '_').replace(',', '')}": count for outcome, count in summary.counts.items()}
        )
        failed_emails += len(summary.failed)
    if failed_emails or failed_orgs:
        # Fails the run (visible in the UI, retried by a re-run, which sends only what is still unsent).
        raise dg.Failure(
            f"{failed_emails} report email(s) not delivered, {len(failed_orgs)} org(s) not delivered at all"
            + (f" ({', '.join(map(repr, failed_orgs))[:2000]})" if failed_orgs else "")
            + "; see the log",
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata=metadata)


weekly_reports_job = dg.define_asset_job(
    "weekly_reports",
    selection=[weekly_reports, weekly_delivery],
    description="Render the reports of one ISO week for every org, then email them.",
)

# Mondays at 07:00 (UTC): render and send the week that ended on Sunday.
weekly_reports_schedule = dg.build_schedule_from_partitioned_job(weekly_reports_job, hour_of_day=7)
