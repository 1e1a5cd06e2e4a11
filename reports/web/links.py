"""Links into the dashboard from elsewhere (the weekly report and its email): only when the dashboard's base URL is
configured (SESSION_ANALYTICS_DASHBOARD_URL, e.g. https://analytics.example.com); unset, there is no link and the
reports are byte-identical to those without a dashboard."""

from __future__ import annotations

import datetime as dt
import os
from urllib.parse import quote, urlencode

DASHBOARD_URL_ENV = "SESSION_ANALYTICS_DASHBOARD_URL"


def week_link(org_id: str, first_day: dt.date, last_day: dt.date, base_url: str | None = None) -> str | None:
    """The overview of one week (`from`/`to` as in the API); the reader signs in first, then lands on it."""
    base = os.environ.get(DASHBOARD_URL_ENV, "") if base_url is None else base_url
    if not base.strip():
        return None
    query = urlencode({"from": first_day.isoformat(), "to": last_day.isoformat()})
    return f"{base.strip().rstrip('/')}/{quote(org_id, safe='')}/dashboard?{query}"
