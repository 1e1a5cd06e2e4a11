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
    from reports.analytics.query import connect_read_only

    if not warehouse.exists():
        return []
    with connect_read_only(warehouse) as conn:
        rows = conn.execute(
            "select distinct lower(email) from analytics.dim_users "
            "where role = 'admin' and email is not null order by 1"
        ).fetchall()
    return [email for (email,) in rows]


def alert_recipients(warehouse: Path) -> list[str]:
    """The admins' addresses, or without a valid one those of SESSION_ANALYTICS_ALERT_TO (comma-separated)."""
    return _valid_addresses(admin_emails(warehouse), "admin email in the directory") or _valid_addresses(
        os.environ.get(FALLBACK_RECIPIENTS_ENV, "").split(","), FALLBACK_RECIPIENTS_ENV
    )


def _valid_addresses(candidates: list[str], source: str) -> list[str]:
    """Each candidate that is exactly one bare address (reports.delivery.mailer.parse_address), once; the others
    are logged and left out."""
    from reports.delivery.mailer import InvalidAddress, parse_address

    addresses = []
    for candidate in filter(str.strip, candidates):
        try:
            address = parse_address(candidate)
        except InvalidAddress as error:
            log.warning("not alerting an invalid %s: %s", source, error)
            continue
        if address not in addresses:
            addresses.append(address)
    return addresses


def send_failure_email(
    paths: Paths, *, run_id: str, job_name: str, failure: str, failed_steps: list[str], details: list[str]
) -> list[str]:
    """One message per admin (admins of one org never see another org's addresses); returns the recipients
    reached. One recipient's failure (refused, unreachable) never stops the others."""
    from reports.delivery.mailer import Mailer

    recipients = alert_recipients(paths.warehouse)
    if not recipients:
        log.warning(
            "refresh %s failed but there is no admin to tell (no valid admin address in the directory nor in %s)",
            run_id,
            FALLBACK_RECIPIENTS_ENV,
        )
        return []
    mailer = Mailer.from_env()
    subject = f"[session-analytics] {job_name} run failed ({run_id[:8]})"
    body = "\n".join(
        [
            f"The {job_name} run {run_id} failed. The published warehouse still holds the last successful refresh;",
            "analysts and reports are not affected, but they do not see the new data yet.",
            "",
            f"Failure: {failure}",
            f"Failed steps: {', '.join(failed_steps) or '-'}",
            "",
            *[detail[:MAX_DETAIL_CHARS] for detail in details],
            "",
            "Open the run in the Dagster UI for the full logs.",
        ]
    )
    delivered = []
    for address in recipients:
        try:
            mailer.send(mailer.compose([address], subject, body))
            delivered.append(address)
        except Exception as error:  # noqa: BLE001 -- the next admins must still hear of the failure
            log.error("could not tell %s about failed run %s: %s", address, run_id, error)
    return delivered
