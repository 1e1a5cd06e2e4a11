"""Email budget and anomaly alerts after a refresh (docs/budgets.md): each alert once, to the people it concerns.

Alerts, from the published warehouse as of the org's latest day:
- a budget whose status is warning, projected_over or over: once per (budget, period, status). To the user for a
  user budget; to the team's managers (directory role manager, team = the budget's team) who may see the team's
  budget (`reports.analytics.budgets.visible_budget`), else the org's admins, for a team budget; to the admins for
  org and project budgets. The message has the spend, the forecast and the top three contributors within the
  recipient's scope.
- a large anomaly (cost at least SESSION_ANALYTICS_ANOMALY_EMAIL_MIN_USD, default $200) of the last seven days:
  once per anomaly. A user's goes to their manager (directory manager_id), or to the admins when they have none;
  a project's or agent's to the admins.

The ledger (`alert_ledger.py`) makes it idempotent: what was sent is never sent again, what failed is tried by the
next run. Recipients without exactly one bare address are skipped and counted. `email_reports` in users.csv is about
the weekly reports only: alerts go to whom they concern.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from reports.analytics import formatting as fmt
from reports.analytics.budgets import (
    STATUS_LABELS,
    AnomalyFilters,
    BudgetFilters,
    BudgetQueries,
    visible_anomaly,
    visible_budget,
)
from reports.analytics.query import AnalyticsQueries, Scope, connect_read_only
from reports.analytics.scope import Directory, Person, ScopeError
from reports.delivery.alert_ledger import AlertLedger
from reports.delivery.ledger import SENT
from reports.delivery.mailer import InvalidAddress, Mailer, parse_address

log = logging.getLogger(__name__)

ANOMALY_EMAIL_MIN_ENV = "SESSION_ANALYTICS_ANOMALY_EMAIL_MIN_USD"
DEFAULT_ANOMALY_EMAIL_MIN_USD = 200.0
RECENT_DAYS = 7  # anomalies of the org's latest seven days are emailed (older ones were, or are history)

SENT_NOW, ALREADY_SENT, NO_ADDRESS, INVALID_ADDRESS, FAILED = (
    "sent",
    "already sent",
    "no email address",
    "invalid email address",
    "failed",
)
OUTCOMES = (SENT_NOW, ALREADY_SENT, NO_ADDRESS, INVALID_ADDRESS, FAILED)


@dataclass(frozen=True)
class AlertOutcome:
    alert_key: str
    user_id: str
    email: str | None
    outcome: str
    error: str | None = None


@dataclass(frozen=True)
class AlertSummary:
    org_id: str
    alerts: int  # alerts due (before looking at the ledger)
    outcomes: list[AlertOutcome]

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(outcome.outcome for outcome in self.outcomes)
        return {outcome: counted[outcome] for outcome in OUTCOMES}

    @property
    def failed(self) -> list[AlertOutcome]:
        return [outcome for outcome in self.outcomes if outcome.outcome == FAILED]

    def text(self) -> str:
        counts = self.counts
        lines = [f"{self.org_id}: {self.alerts} alert(s) due; " + "; ".join(f"{counts[o]} {o}" for o in OUTCOMES)]
        for outcome in self.outcomes:
            if outcome.outcome in (FAILED, INVALID_ADDRESS):
                lines.append(f"  {outcome.outcome}: {outcome.alert_key} to {outcome.user_id!r}: {outcome.error}")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Alert:
    key: str
    recipients: list[Person]
    compose: object  # (person) -> (subject, text), with the figures of the person's scope


def anomaly_email_min_usd(environ=None) -> float:
    """The smallest anomaly cost that is emailed (SESSION_ANALYTICS_ANOMALY_EMAIL_MIN_USD, default 200)."""
    text = (os.environ if environ is None else environ).get(ANOMALY_EMAIL_MIN_ENV) or str(DEFAULT_ANOMALY_EMAIL_MIN_USD)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{ANOMALY_EMAIL_MIN_ENV} must be an amount in USD, not {text!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{ANOMALY_EMAIL_MIN_ENV} must be an amount of 0 or more, not {text!r}")
    return float(value)


def send_alerts(
    warehouse: Path,
    ledger_path: Path,
    org_id: str,
    *,
    mailer: Mailer | None = None,
    outbox: Path | None = None,
    anomaly_min_usd: float | None = None,
) -> AlertSummary:
    """Send the org's due alerts not sent yet (see the module docstring)."""
    mailer = mailer or Mailer.from_env()
    if outbox is not None:
        mailer = dataclasses.replace(mailer, settings=dataclasses.replace(mailer.settings, outbox_dir=Path(outbox)))
    anomaly_min_usd = anomaly_email_min_usd() if anomaly_min_usd is None else anomaly_min_usd
    ledger = AlertLedger(ledger_path)
    outcomes = []
    # The connection stays open while sending: each message's figures are read in its recipient's scope.
    with connect_read_only(warehouse) as conn:
        org = AnalyticsQueries(conn).org(org_id)
        if org is None:
            raise ScopeError(f"no org {org_id!r} in the warehouse")
        directory = Directory.load(conn, org_id)
        alerts = _due_alerts(BudgetQueries(conn), org_id, fmt.display_text(org["name"]), directory, anomaly_min_usd)
        with ledger.exclusive():
            before = ledger.alert_entries(org_id)
            for alert in alerts:
                for person in alert.recipients:
                    previous = before.get((alert.key, person.user_id))
                    outcomes.append(_send_one(mailer, ledger, previous, org_id, alert, person))
    return AlertSummary(org_id, len(alerts), outcomes)


def _due_alerts(queries: BudgetQueries, org_id: str, org_name: str, directory: Directory, anomaly_min: float):
    everyone = Scope.everyone()
    admins = directory.recipients("org")
    alerts: list[_Alert] = []
    for budget in queries.budgets(org_id, directory, everyone)["budgets"]:
        if budget["status"] == "ok":
            continue
        key = "|".join(
            ("budget", budget["scope"], budget["scope_id"], budget["period"], budget["period_start"], budget["status"])
        )
        alerts.append(
            _Alert(
                key,
                _budget_recipients(budget, org_id, directory, admins),
                _budget_message(queries, org_id, org_name, directory, budget),
            )
        )
    latest = queries.latest_day(org_id)
    if latest is not None:
        recent = AnomalyFilters(date_from=latest - dt.timedelta(days=RECENT_DAYS - 1), date_to=latest)
        for anomaly in queries.anomalies(org_id, directory, everyone, recent)["anomalies"]:
            if anomaly["cost_usd"] < anomaly_min:
                continue
            key = "|".join(("anomaly", anomaly["kind"], anomaly["id"], anomaly["date"]))
            alerts.append(
                _Alert(key, _anomaly_recipients(anomaly, directory, admins), _anomaly_message(org_name, anomaly))
            )
    return alerts


def _budget_recipients(budget: dict, org_id: str, directory: Directory, admins: list[Person]) -> list[Person]:
    if budget["scope"] == "user":
        person = directory.people.get(budget["scope_id"])
        return [person] if person else []
    if budget["scope"] == "team":
        managers = [
            person
            for person in directory.recipients("manager")
            if person.team == budget["scope_id"]
            and visible_budget("team", budget["scope_id"], org_id, directory, directory.visible_scope(person.user_id))
        ]
        return managers or admins
    return admins


def _anomaly_recipients(anomaly: dict, directory: Directory, admins: list[Person]) -> list[Person]:
    if anomaly["kind"] == "user":
        person = directory.people.get(anomaly["id"])
        manager = directory.people.get(person.manager_id) if person and person.manager_id else None
        if manager and manager.role in ("manager", "admin"):
            if visible_anomaly("user", anomaly["id"], directory.visible_scope(manager.user_id)):
                return [manager]
    return admins


def _budget_message(queries: BudgetQueries, org_id: str, org_name: str, directory: Directory, budget: dict):
    def compose(person: Person) -> tuple[str, str]:
        # The figures again in the recipient's scope: their contributors only.
        scope = directory.visible_scope(person.user_id)
        filters = BudgetFilters(as_of=dt.date.fromisoformat(budget["as_of_date"]))
        mine = next(
            b
            for b in queries.budgets(org_id, directory, scope, filters)["budgets"]
            if (b["scope"], b["scope_id"], b["period"]) == (budget["scope"], budget["scope_id"], budget["period"])
        )
        subject_of = _budget_subject(mine)
        period = _period_text(mine)
        as_of = dt.date.fromisoformat(mine["as_of_date"])
        lines = [
            f"Hello {person.display_name},",
            "",
            f"The {period} budget of {subject_of} is {STATUS_LABELS[mine['status']]}: "
            f"{fmt.usd(mine['spend_usd'])} spent of {fmt.usd(mine['amount_usd'])} "
            f"({fmt.percent(mine['spend_share'], 0)}) "
            f"by {as_of:%A} {as_of.day} {as_of:%B %Y}, day {mine['days_elapsed']} of {mine['days_in_period']}.",
            f"Forecast for the {mine['period']}: {fmt.usd(mine['forecast_usd'])} "
            f"({fmt.percent(mine['forecast_share'], 0)} of the budget): the spend so far plus each remaining day at "
            "the average of its weekday over the last four weeks.",
        ]
        if mine["top_contributors"]:
            lines += ["", "Top contributors so far:"]
            lines += [f"  {c['name']}: {fmt.usd(c['cost_usd'])}" for c in mine["top_contributors"]]
        lines += ["", f"This alert is sent once for this {mine['period']} and status; budgets are in budgets.csv."]
        subject = f"[{org_name}] Budget {mine['status'].replace('_', ' ')}: {subject_of}, {period}"
        return subject, "\n".join(lines)

    return compose


def _anomaly_message(org_name: str, anomaly: dict):
    def compose(person: Person) -> tuple[str, str]:
        day = dt.date.fromisoformat(anomaly["date"])
        what = _anomaly_subject(anomaly)
        when = f"{day:%A} {day.day} {day:%B %Y}"
        text = "\n".join(
            [
                f"Hello {person.display_name},",
                "",
                f"The cost of {what} on {when} was far above its usual level: {anomaly['explanation']}.",
                "",
                "Usual level: the median cost of the same weekday over the last weeks. This alert is sent once.",
            ]
        )
        return f"[{org_name}] Unusual cost: {what} on {when}", text

    return compose


def _send_one(
    mailer: Mailer, ledger: AlertLedger, previous, org_id: str, alert: _Alert, person: Person
) -> AlertOutcome:
    def outcome(name: str, error: str | None = None) -> AlertOutcome:
        return AlertOutcome(alert.key, person.user_id, person.email, name, error)

    if previous is not None and previous.status == SENT:
        return outcome(ALREADY_SENT)
    if not person.email:
        return outcome(NO_ADDRESS)
    try:
        address = parse_address(person.email)
    except InvalidAddress as error:
        log.warning("alert %s to %r not sent: invalid email address %s", alert.key, person.user_id, error)
        return outcome(INVALID_ADDRESS, str(error))
    record = dict(org_id=org_id, alert_key=alert.key, recipient_user_id=person.user_id, recipient_email=address)
    message_id = None
    try:
        subject, text = alert.compose(person)
        message = mailer.compose([address], subject, text)
        message_id = message["Message-ID"]
        result = mailer.send(message)
    except Exception as error:  # noqa: BLE001 -- one recipient's failure never stops the others
        attempts = getattr(error, "attempts", 1)
        log.error("alert %s to %r <%s> not delivered: %s", alert.key, person.user_id, address, error)
        ledger.record_alert(previous, **record, message_id=message_id, attempts=attempts, error=str(error))
        return outcome(FAILED, str(error))
    ledger.record_alert(previous, **record, message_id=message_id, attempts=result.attempts, error=None)
    return outcome(SENT_NOW)


def _budget_subject(budget: dict) -> str:
    if budget["scope"] == "org":
        return f"the organisation ({budget['name']})"
    return f"{budget['scope']} {budget['name']}"


def _anomaly_subject(anomaly: dict) -> str:
    return {"user": "", "project": "project ", "agent": "agent "}[anomaly["kind"]] + anomaly["name"]


def _period_text(budget: dict) -> str:
    start = dt.date.fromisoformat(budget["period_start"])
    if budget["period"] == "month":
        return f"{start:%B %Y}"
    end = dt.date.fromisoformat(budget["period_end"])
    year, week, _ = start.isocalendar()
    return f"week {year}-W{week:02d} ({start.day} {start:%b} to {end.day} {end:%b})"
