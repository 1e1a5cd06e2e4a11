"""Email a week's reports: each user their personal report, each manager their team report, each admin the org
report; the HTML report is the message body and the PDF is attached.

Who gets what comes from the directory in the warehouse (the same plan the renderer follows); reports of the
week that are not rendered yet are rendered first. The ledger (`ledger.py`) decides what still needs sending:
a report already sent with the same content is skipped, a changed report is sent again only when asked
(`resend`), a failed one is tried again. Users with `email_reports = false` in the directory get no email
(their reports are still rendered), nor do users whose address is not exactly one bare address
(`mailer.parse_address`: counted as `invalid email address`). One recipient's failure (a report that could not be
rendered, a message that could not be composed or sent) never stops the others: it is counted as failed and
recorded in the ledger.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from reports.analytics.formatting import display_text
from reports.analytics.query import AnalyticsQueries, connect_read_only
from reports.analytics.scope import Directory, Person
from reports.analytics.weeks import ReportWeek
from reports.delivery.ledger import SENT, Ledger, LedgerEntry
from reports.delivery.mailer import InvalidAddress, Mailer, parse_address
from reports.weekly.paths import safe_name
from reports.weekly.render import (
    ReportTask,
    org_identity,
    plan_reports,
    read_manifest,
    render_reports,
    report_file,
    report_path,
    report_week_dir,
    require_warehouse,
)

log = logging.getLogger(__name__)

# What each audience's message calls its report.
REPORT_TITLES = {"user": "Your weekly report", "manager": "Your team's weekly report", "org": "Org-wide weekly report"}

# Outcomes of one recipient's report in one run.
SENT_NOW = "sent"
ALREADY_SENT = "already sent"
CHANGED_NOT_RESENT = "changed, not resent"
OPTED_OUT = "opted out"
NO_ADDRESS = "no email address"
INVALID_ADDRESS = "invalid email address"
FAILED = "failed"
OUTCOMES = (SENT_NOW, ALREADY_SENT, CHANGED_NOT_RESENT, OPTED_OUT, NO_ADDRESS, INVALID_ADDRESS, FAILED)


@dataclass(frozen=True)
class RecipientOutcome:
    audience: str
    user_id: str
    email: str | None
    outcome: str
    attempts: int = 0
    error: str | None = None


@dataclass(frozen=True)
class DeliverySummary:
    org_id: str
    week: ReportWeek
    rendered: int  # reports rendered by this run because they were missing
    destination: str  # SMTP server or outbox folder
    recipients: list[RecipientOutcome]

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(outcome.outcome for outcome in self.recipients)
        return {outcome: counted[outcome] for outcome in OUTCOMES}

    @property
    def failed(self) -> list[RecipientOutcome]:
        return [outcome for outcome in self.recipients if outcome.outcome == FAILED]

    def text(self) -> str:
        counts = self.counts
        lines = [
            f"{self.org_id} {self.week.label}: "
            + "; ".join(f"{counts[outcome]} {outcome}" for outcome in OUTCOMES)
            + f" ({self.destination}; {self.rendered} report(s) rendered first)"
        ]
        for outcome in self.recipients:
            if outcome.outcome == CHANGED_NOT_RESENT:
                lines.append(f"  changed, not resent (use --resend): {outcome.audience} report of {outcome.user_id}")
            elif outcome.outcome == INVALID_ADDRESS:
                lines.append(
                    f"  invalid email address, not sent: {outcome.audience} report of {outcome.user_id!r}: "
                    f"{outcome.error}"
                )
            elif outcome.outcome == FAILED:
                lines.append(
                    f"  failed after {outcome.attempts} attempt(s): {outcome.audience} report of {outcome.user_id} "
                    f"<{outcome.email}>: {outcome.error}"
                )
        return "\n".join(lines)


@dataclass(frozen=True)
class _Report:
    """One rendered report as the week's manifest lists it."""

    html: Path
    pdf: Path
    sha256: str  # of the HTML and PDF together: either changing means a changed report


def deliver_week(
    warehouse: Path,
    reports_dir: Path,
    ledger_path: Path,
    org_id: str,
    week: ReportWeek | None = None,
    *,
    mailer: Mailer | None = None,
    outbox: Path | None = None,
    resend: bool = False,
    workers: int | None = None,
) -> DeliverySummary:
    """Render the week's missing reports, then send every report not sent yet (see the module docstring).

    `mailer` defaults to the SMTP settings of the environment; `outbox` overrides where `.eml` files go when no
    SMTP host is set. Raises ReportError for an unknown org (nothing is sent)."""
    mailer = mailer or Mailer.from_env()
    if outbox is not None:
        mailer = dataclasses.replace(mailer, settings=dataclasses.replace(mailer.settings, outbox_dir=Path(outbox)))
    require_warehouse(warehouse)
    with connect_read_only(warehouse) as conn:
        org_name, time_zone = org_identity(AnalyticsQueries(conn), org_id)
        directory = Directory.load(conn, org_id)
    org = {"org_id": org_id, "name": org_name}
    week = week or ReportWeek.latest_complete(time_zone)
    tasks = plan_reports(directory)

    week_dir = report_week_dir(reports_dir, org_id, week)
    reports = _rendered_reports(week_dir)
    missing = [task for task in tasks if (task.audience, task.user_id) not in reports]
    if missing:
        log.info("%s %s: rendering %d missing report(s)", org_id, week.label, len(missing))
        # No manifest yet: render the whole week (one folder swap); otherwise only what is missing.
        render_reports(warehouse, reports_dir, org_id, week, workers=workers, tasks=missing if reports else None)
        reports = _rendered_reports(week_dir)
    not_rendered = {(f.audience, f.recipient_user_id): f.error for f in read_manifest(week_dir).failed}

    ledger = Ledger(ledger_path)
    outcomes = []
    with ledger.exclusive():
        sent_before = ledger.entries(org_id, week.label)
        for task in tasks:
            key = (task.audience, task.user_id)
            report = reports.get(key) or not_rendered.get(key, "the report was not rendered")
            outcomes.append(
                _deliver_one(
                    mailer, ledger, sent_before.get(key), org, week, task, directory.get(task.user_id), report, resend
                )
            )
    destination = (
        f"SMTP {mailer.settings.host}:{mailer.settings.port}"
        if mailer.settings.host
        else f"outbox {mailer.settings.outbox_dir}"
    )
    return DeliverySummary(org_id, week, len(missing), destination, outcomes)


def _deliver_one(
    mailer: Mailer,
    ledger: Ledger,
    previous: LedgerEntry | None,
    org: dict,
    week: ReportWeek,
    task: ReportTask,
    person: Person,
    report: _Report | str,
    resend: bool,
) -> RecipientOutcome:
    """What happens to one report: skipped (opted out, no or an invalid address, already sent), failed or sent.
    `report` is the rendered report, or why it could not be rendered."""

    def outcome(name: str, **details) -> RecipientOutcome:
        return RecipientOutcome(task.audience, task.user_id, person.email, name, **details)

    if person.email_reports is False:
        return outcome(OPTED_OUT)
    if not person.email:
        return outcome(NO_ADDRESS)
    try:
        address = parse_address(person.email)
    except InvalidAddress as error:
        log.warning("%s report of %r not sent: invalid email address %s", task.audience, task.user_id, error)
        return outcome(INVALID_ADDRESS, error=str(error))
    record = dict(
        org_id=org["org_id"],
        week=week.label,
        audience=task.audience,
        recipient_user_id=task.user_id,
        recipient_email=address,
    )

    if isinstance(report, str):
        error = f"report not rendered: {report}"
        log.error("%s report of %r not delivered: %s", task.audience, task.user_id, error)
        if previous is None or previous.status != SENT:  # an earlier version that went out stays recorded as sent
            ledger.record(previous, **record, report_sha256="", message_id=None, attempts=0, error=error)
        return outcome(FAILED, error=error)
    if previous is not None and previous.status == SENT:
        if previous.report_sha256 == report.sha256:
            return outcome(ALREADY_SENT)
        if not resend:
            return outcome(CHANGED_NOT_RESENT)

    message_id = None
    try:
        message = compose(mailer, org, week, task, person, report)
        message_id = message["Message-ID"]
        result = mailer.send(message)
    except Exception as error:  # noqa: BLE001 -- whatever went wrong, the next recipients still get theirs
        attempts = getattr(error, "attempts", 1)
        log.error("%s report of %r <%s> not delivered: %s", task.audience, task.user_id, address, error)
        ledger.record(
            previous, **record, report_sha256=report.sha256, message_id=message_id, attempts=attempts, error=str(error)
        )
        return outcome(FAILED, attempts=attempts, error=str(error))
    ledger.record(
        previous, **record, report_sha256=report.sha256, message_id=message_id, attempts=result.attempts, error=None
    )
    return outcome(SENT_NOW, attempts=result.attempts)


def compose(mailer: Mailer, org: dict, week: ReportWeek, task: ReportTask, person: Person, report: _Report):
    """One recipient's message: only their own address, their report as HTML body and as PDF attachment. Names
    are plain one-line text (`display_text`, as `Person.display_name` gives it); the attachment is named by the
    safe names of the org and recipient ids."""
    title = REPORT_TITLES[task.audience]
    org_name = display_text(org["name"])
    subject = f"[{org_name}] {title}, {week.label} ({week.date_range_text()})"
    text = "\n".join(
        [
            f"Hello {person.display_name},",
            "",
            f"{title} on AI coding assistant use at {org_name} for {week.date_range_text()} (ISO week "
            f"{week.label}) is attached as a PDF; the same report is this message's HTML part.",
            "",
            "To stop these emails, ask the people who maintain the org directory to set email_reports to false "
            "for you in users.csv.",
        ]
    )
    attachment = f"{safe_name(org['org_id'])}-{week.label}-{task.audience}-{safe_name(task.user_id)}.pdf"
    return mailer.compose(
        [person.email],
        subject,
        text,
        html=report.html.read_text(encoding="utf-8"),
        attachments=[(attachment, report.pdf.read_bytes(), "application/pdf")],
    )


def _rendered_reports(week_dir: Path) -> dict[tuple[str, str], _Report]:
    """The week's reports whose HTML and PDF the manifest lists, at the path of their recipient, on disk with the
    listed content. Anything else (a manifest of an older naming, where two users could share a file; a file
    changed since) counts as missing, to be rendered again: a report is only ever sent to its own recipient."""
    files: dict[tuple[str, str], dict[str, tuple[Path, str]]] = {}
    for entry in read_manifest(week_dir).files:
        expected = report_path(entry.audience, entry.recipient_user_id, entry.format)
        path = report_file(week_dir, expected)
        if entry.file == expected and path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256:
            files.setdefault((entry.audience, entry.recipient_user_id), {})[entry.format] = (path, entry.sha256)
    return {
        key: _Report(
            html=formats["html"][0],
            pdf=formats["pdf"][0],
            sha256=hashlib.sha256(f"{formats['html'][1]} {formats['pdf'][1]}".encode()).hexdigest(),
        )
        for key, formats in files.items()
        if {"html", "pdf"} <= formats.keys()
    }
