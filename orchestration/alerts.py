"""Tell the org admins when a refresh fails (sent by the Dagster run-failure sensor)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from orchestration.config import Paths

log = logging.getLogger(__name__)

# Addresses to alert when the published warehouse has no admins yet (e.g. the very first refresh failed).
FALLBACK_RECIPIENTS_ENV = "SESSION_ANALYTICS_ALERT_TO"
MAX_DETAIL_CHARS = 2000


def admin_emails(warehouse: Path) -> list[str]:
    """Every admin's email in the org directory, as the published warehouse has it."""
    from reports.query import connect_read_only

    if not warehouse.exists():
        return []
    with connect_read_only(warehouse) as conn:
        rows = conn.execute(
            "select distinct lower(email) from analytics.dim_users "
            "where role = 'admin' and email is not null order by 1"
        ).fetchall()
    return [email for (email,) in rows]


def send_failure_email(
    paths: Paths, *, run_id: str, job_name: str, failure: str, failed_steps: list[str], details: list[str]
) -> list[str]:
    """One message per admin (admins of one org never see another org's addresses); returns the recipients."""
    from reports.delivery.mailer import Mailer, MailDeliveryError

    recipients = admin_emails(paths.warehouse)
    if not recipients:
        recipients = [a.strip() for a in os.environ.get(FALLBACK_RECIPIENTS_ENV, "").split(",") if a.strip()]
    if not recipients:
        log.warning("refresh %s failed but there is no admin to tell (no admins in the directory and no %s)",
                    run_id, FALLBACK_RECIPIENTS_ENV)
        return []
    mailer = Mailer.from_env()
    subject = f"[session-analytics] {job_name} run failed ({run_id[:8]})"
    body = "\n".join([
        f"The {job_name} run {run_id} failed. The published warehouse still holds the last successful refresh;",
        "analysts and reports are not affected, but they do not see the new data yet.",
        "",
        f"Failure: {failure}",
        f"Failed steps: {', '.join(failed_steps) or '-'}",
        "",
        *[detail[:MAX_DETAIL_CHARS] for detail in details],
        "",
        "Open the run in the Dagster UI for the full logs.",
    ])
    delivered = []
    for address in recipients:
        try:
            mailer.send(mailer.compose([address], subject, body))
            delivered.append(address)
        except MailDeliveryError as error:
            log.error("could not tell %s about failed run %s: %s", address, run_id, error)
    return delivered
