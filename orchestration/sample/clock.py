"""Epoch days and RFC 3339 timestamps of epoch milliseconds, formatted fast (per-day prefixes cached)."""

from __future__ import annotations

import datetime

DAY_MS = 86_400_000
EPOCH = datetime.date(1970, 1, 1)


def day_prefix(prefixes: dict[int, str]):
    """`YYYY-MM-DDT` of an epoch day, cached: formatting dates is the slow part of a timestamp."""

    def prefix(day: int) -> str:
        text = prefixes.get(day)
        if text is None:
            text = prefixes[day] = f"{from_epoch_day(day).isoformat()}T"
        return text

    return prefix


def utc_formatter(prefixes: dict[int, str] | None = None):
    """RFC 3339 UTC timestamp of epoch milliseconds, as Claude Code writes them: `...T09:14:03.120Z`."""
    prefix = day_prefix({} if prefixes is None else prefixes)

    def utc(ms: int) -> str:
        day, rest = divmod(ms, DAY_MS)
        seconds, millis = divmod(rest, 1000)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{prefix(day)}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"

    return utc


def epoch_day(day: datetime.date) -> int:
    return (day - EPOCH).days


def from_epoch_day(epoch_day: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=epoch_day)
