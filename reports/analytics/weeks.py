"""Report weeks: ISO weeks (Monday to Sunday) of local dates in the org's time zone.

The marts hold local dates (`activity_date`), so a week is simply seven local dates; the org's time zone only
matters when deciding which week is the latest complete one.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

# The local dates any answer, report or asked range can cover: the input contract's timestamp window
# [2000-01-01Z, 2100-01-01Z) with a day of margin either side for time zones, both ends included. The same
# values as orchestration/ingest/contract.py (reports/ never imports orchestration/; tests hold them equal).
# Outside it no data exists, and near year 1 or 9999 date arithmetic overflows.
DATE_WINDOW_START = dt.date(1999, 12, 31)
DATE_WINDOW_END = dt.date(2100, 1, 1)


@dataclass(frozen=True, order=True)
class ReportWeek:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> ReportWeek:
        """`2026-W46` (ISO 8601 week)."""
        match = _ISO_WEEK.match(text.strip())
        if not match:
            raise ValueError(f"not an ISO week (YYYY-Www, e.g. 2026-W46): {text!r}")
        year, number = int(match[1]), int(match[2])
        try:
            start = dt.date.fromisocalendar(year, number, 1)
        except ValueError:
            raise ValueError(f"{year} has no ISO week {number}") from None
        if not DATE_WINDOW_START <= start <= DATE_WINDOW_END - dt.timedelta(days=6):
            raise ValueError(
                f"week {text.strip()} is outside the dates the warehouse can hold "
                f"({DATE_WINDOW_START}..{DATE_WINDOW_END})"
            )
        return cls(year, number)

    @classmethod
    def containing(cls, day: dt.date) -> ReportWeek:
        year, number, _ = day.isocalendar()
        return cls(year, number)

    @classmethod
    def latest_complete(cls, time_zone: str | None, now: dt.datetime | None = None) -> ReportWeek:
        """The last week that has ended in the org's time zone (UTC when unknown)."""
        zone = _zone(time_zone)
        today = (now or dt.datetime.now(dt.UTC)).astimezone(zone).date()
        return cls.containing(today - dt.timedelta(days=7))

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def start(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, 1)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=offset) for offset in range(7)]

    def shifted(self, weeks: int) -> ReportWeek:
        return ReportWeek.containing(self.start + dt.timedelta(weeks=weeks))

    @property
    def previous(self) -> ReportWeek:
        return self.shifted(-1)

    def date_range_text(self) -> str:
        """`16–22 November 2026`, `30 November – 6 December 2026`, `29 December 2025 – 4 January 2026`."""
        start, end = self.start, self.end
        if start.year != end.year:
            return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"
        if start.month != end.month:
            return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
        return f"{start.day}–{end.day} {end:%B %Y}"

    def __str__(self) -> str:
        return self.label


def _zone(time_zone: str | None) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(time_zone) if time_zone else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC
