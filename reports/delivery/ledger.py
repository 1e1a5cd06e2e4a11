"""The delivery ledger: which weekly report went to whom, with which content, and how it went.

A small SQLite file (`SESSION_ANALYTICS_LEDGER`, default `data/delivery_ledger.sqlite3`) beside, not inside,
the warehouse, which every refresh replaces. One row per (org, week, audience, recipient): the content hash of
the report last tried, whether it was sent, the message id, the SMTP attempts for that content over all runs,
and the last error. It is what makes delivery idempotent: a report already sent with the same hash is never
sent again, and a failed one is tried again by the next run.

Rows are written right after each message, so a run that stops half-way keeps what it sent. A crash between
the SMTP server's acceptance and the ledger write would send that one message again (at least once, never
lost). Runs take an exclusive lock (a lock file beside the ledger), so a scheduled and a manual delivery never
send the same report at the same time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SENT, FAILED = "sent", "failed"

_SCHEMA = f"""
create table if not exists report_deliveries (
    org_id            text not null,
    week              text not null,     -- ISO week, e.g. 2026-W46
    audience          text not null,     -- user, manager or org
    recipient_user_id text not null,
    recipient_email   text not null,
    report_sha256     text not null,     -- the report (HTML and PDF) last tried
    status            text not null check (status in ('{SENT}', '{FAILED}')),
    message_id        text,              -- Message-ID of the last message tried
    attempts          integer not null,  -- SMTP attempts for this report_sha256, over all runs
    times_sent        integer not null,  -- deliveries of any version of the report (a --resend adds one)
    last_error        text,
    first_tried_at    text not null,     -- UTC, ISO 8601
    last_tried_at     text not null,
    sent_at           text,
    primary key (org_id, week, audience, recipient_user_id)
)
"""


@dataclass(frozen=True)
class LedgerEntry:
    org_id: str
    week: str
    audience: str
    recipient_user_id: str
    recipient_email: str
    report_sha256: str
    status: str
    message_id: str | None
    attempts: int
    times_sent: int
    last_error: str | None
    first_tried_at: str
    last_tried_at: str
    sent_at: str | None


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(_SCHEMA)

    def _connect(self) -> contextlib.closing[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)  # autocommit: one row, one write
        conn.row_factory = sqlite3.Row
        return contextlib.closing(conn)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the ledger's lock file for a whole delivery run (another run waits)."""
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def entries(self, org_id: str, week: str) -> dict[tuple[str, str], LedgerEntry]:
        """The week's rows by (audience, recipient user id)."""
        with self._connect() as conn:
            rows = conn.execute(
                "select * from report_deliveries where org_id = ? and week = ?", [org_id, week]
            ).fetchall()
        return {(row["audience"], row["recipient_user_id"]): LedgerEntry(**dict(row)) for row in rows}

    def record(
        self,
        previous: LedgerEntry | None,
        *,
        org_id: str,
        week: str,
        audience: str,
        recipient_user_id: str,
        recipient_email: str,
        report_sha256: str,
        message_id: str | None,
        attempts: int,
        error: str | None,
    ) -> LedgerEntry:
        """Record one message's outcome (sent when `error` is None); attempts add up while the content is
        the same and start again for a changed report."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        same_content = previous is not None and previous.report_sha256 == report_sha256
        sent = error is None
        entry = LedgerEntry(
            org_id=org_id,
            week=week,
            audience=audience,
            recipient_user_id=recipient_user_id,
            recipient_email=recipient_email,
            report_sha256=report_sha256,
            status=SENT if sent else FAILED,
            message_id=message_id,
            attempts=attempts + (previous.attempts if same_content else 0),
            times_sent=(previous.times_sent if previous else 0) + (1 if sent else 0),
            last_error=error,
            first_tried_at=previous.first_tried_at if previous else now,
            last_tried_at=now,
            sent_at=now if sent else (previous.sent_at if previous else None),
        )
        columns = list(entry.__dict__)
        with self._connect() as conn:
            conn.execute(
                f"insert or replace into report_deliveries ({', '.join(columns)}) "
                f"values ({', '.join('?' * len(columns))})",
                [getattr(entry, column) for column in columns],
            )
        return entry
