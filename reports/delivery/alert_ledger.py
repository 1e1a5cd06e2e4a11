"""The alert ledger: which budget or anomaly alert went to whom, and how it went (reports/delivery/budget_alerts.py).

A table of its own (`alert_deliveries`) in the delivery ledger's SQLite file, beside the weekly reports' table, with
the same lock: one row per (org, alert, recipient). An alert's key names what it is about and when, e.g.
`budget|team|Platform|month|2026-11-01|projected_over` (a budget, its period, the threshold crossed) or
`anomaly|user|pat|2026-11-18`: an alert already sent is never sent again, a failed one is tried again by the next
run. Rows are written right after each message (a run that stops half-way keeps what it sent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from reports.delivery.ledger import FAILED, SENT, Ledger

_SCHEMA = f"""
create table if not exists alert_deliveries (
    org_id            text not null,
    alert_key         text not null,     -- budget|<scope>|<scope_id>|<period>|<period_start>|<status>, or anomaly|...
    recipient_user_id text not null,
    recipient_email   text not null,
    status            text not null check (status in ('{SENT}', '{FAILED}')),
    message_id        text,
    attempts          integer not null,  -- SMTP attempts over all runs
    last_error        text,
    first_tried_at    text not null,     -- UTC, ISO 8601
    last_tried_at     text not null,
    sent_at           text,
    primary key (org_id, alert_key, recipient_user_id)
)
"""


@dataclass(frozen=True)
class AlertEntry:
    org_id: str
    alert_key: str
    recipient_user_id: str
    recipient_email: str
    status: str
    message_id: str | None
    attempts: int
    last_error: str | None
    first_tried_at: str
    last_tried_at: str
    sent_at: str | None


class AlertLedger(Ledger):
    """The delivery ledger's file, its lock (`exclusive()`), and the alerts' table."""

    def __init__(self, path: Path):
        super().__init__(path)
        with self._connect() as conn:
            conn.execute(_SCHEMA)

    def alert_entries(self, org_id: str) -> dict[tuple[str, str], AlertEntry]:
        """The org's rows by (alert key, recipient user id)."""
        with self._connect() as conn:
            rows = conn.execute("select * from alert_deliveries where org_id = ?", [org_id]).fetchall()
        return {(row["alert_key"], row["recipient_user_id"]): AlertEntry(**dict(row)) for row in rows}

    def record_alert(
        self,
        previous: AlertEntry | None,
        *,
        org_id: str,
        alert_key: str,
        recipient_user_id: str,
        recipient_email: str,
        message_id: str | None,
        attempts: int,
        error: str | None,
    ) -> AlertEntry:
        """Record one message's outcome (sent when `error` is None)."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        entry = AlertEntry(
            org_id=org_id,
            alert_key=alert_key,
            recipient_user_id=recipient_user_id,
            recipient_email=recipient_email,
            status=SENT if error is None else FAILED,
            message_id=message_id,
            attempts=attempts + (previous.attempts if previous else 0),
            last_error=error,
            first_tried_at=previous.first_tried_at if previous else now,
            last_tried_at=now,
            sent_at=now if error is None else None,
        )
        columns = list(entry.__dict__)
        with self._connect() as conn:
            conn.execute(
                f"insert or replace into alert_deliveries ({', '.join(columns)}) "
                f"values ({', '.join('?' * len(columns))})",
                [getattr(entry, column) for column in columns],
            )
        return entry
