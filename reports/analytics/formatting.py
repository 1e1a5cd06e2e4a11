"""Numbers and names for people: `$1,234.56`, `1.2M tokens`, `12m 30s`, `+12.3%`, and names from the data as
plain one-line text. Used by the templates, the charts and the report emails."""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo

DASH = "–"  # shown where a figure does not exist (no sessions, no previous week)
_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))

# Bidi embeddings, overrides, isolates and marks: in a name they would reorder the text around it (U+202E makes
# "Evil\u202eeman" read "Evilnamee"); names in any script display correctly without them.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# Control characters (CR, LF, tab, NUL, C1) and the Unicode line and paragraph separators: a name is one line.
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def display_text(value: str) -> str:
    """A name (person, org, team, project) as plain one-line text for a page, a chart, a PDF or an email:
    without bidi controls, and with each run of control characters or line breaks as one space (so never a
    line break in a mail header)."""
    return _LINE_BREAKING.sub(" ", value.translate(_BIDI_CONTROLS))


def usd(value: float | None) -> str:
    """Dollars with cents; amounts under a cent keep their first significant digits ($0.0042)."""
    if value is None:
        return DASH
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if 0 < amount < 0.01:
        return f"{sign}${amount:.2g}" if amount >= 0.001 else f"{sign}<$0.001"
    return f"{sign}${amount:,.2f}"


def usd_short(value: float | None) -> str:
    """Compact dollars for chart labels and axes: $950, $1.2K, $3.4M."""
    if value is None:
        return DASH
    if abs(value) < 1000:
        return f"${value:,.0f}" if abs(value) >= 10 or value == 0 else f"${value:,.2f}"
    return "$" + compact(value)


def compact(value: float | None) -> str:
    """1.2M, 34.5K, 344M, 999: three significant digits (one decimal below 100), no trailing `.0`."""
    if value is None:
        return DASH
    ascending = _SCALES[::-1]
    for index, (scale, suffix) in enumerate(ascending):
        larger = ascending[index + 1][0] if index + 1 < len(ascending) else math.inf
        if abs(value) < scale or abs(value) >= larger:
            continue
        scaled = value / scale
        decimals = 0 if abs(scaled) >= 99.95 else 1
        if abs(round(scaled, decimals)) >= 1000 and larger != math.inf:  # 999.6K reads better as 1M
            scale, suffix = ascending[index + 1]
            scaled, decimals = value / scale, 1
        return f"{scaled:,.{decimals}f}".removesuffix(".0") + suffix
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def tokens(value: float | None) -> str:
    return DASH if value is None else f"{compact(value)} tokens"


def integer(value: float | None) -> str:
    return DASH if value is None else f"{value:,.0f}"


def duration(seconds: float | None) -> str:
    """45s, 12m 30s, 2h 05m; rounded to the second."""
    if seconds is None:
        return DASH
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def percent(share: float | None, decimals: int = 1) -> str:
    """A share (0.123) as `12.3%`."""
    return DASH if share is None or math.isnan(share) else f"{share * 100:.{decimals}f}%"


def signed_percent(change: float | None) -> str:
    """A relative change (0.123) as `+12.3%`."""
    if change is None:
        return DASH
    return f"{change * 100:+.1f}%"


def signed(value: float | None, kind: str) -> str:
    """An absolute change with its sign, in the unit of `kind` (usd, tokens, duration, count)."""
    if value is None:
        return DASH
    sign = "+" if value > 0 else "-" if value < 0 else "±"
    magnitude = abs(value)
    text = {
        "usd": usd,
        "tokens": compact,
        "duration": duration,
        "count": integer,
    }[kind](magnitude)
    return f"{sign}{text}"


def local_time(utc_iso: str | None, time_zone: str | None) -> str:
    """An ISO UTC timestamp as `Sun 22 Nov 2026, 18:04 CET` in the org's time zone."""
    if not utc_iso:
        return DASH
    moment = dt.datetime.fromisoformat(utc_iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    zone = zoneinfo.ZoneInfo(time_zone) if time_zone else dt.UTC
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"
