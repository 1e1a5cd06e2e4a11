"""An independent, pure-Python statement of the four analytics answers (summary, timeseries, by-agent, cost
breakdown), computed straight from raw events and the directory.

Written from the metric specification only (not from the dbt SQL or reports/analytics/metrics.py), so that a property
test can hold the real warehouse + query code against it. Everything is computed exactly (Fractions); only the
returned figures are rounded the way the product presents them (costs to 6 decimals, durations to 3).

Inputs
  events    list of event dicts as delivered (duplicates included), or tuples whose last item is the event dict
            (e.g. (delivery_date, file_name, line_number, event)).
  orgs      [(org_id, name, iana_tz)]
  users     [(org_id, user_id, email, name, team, manager_id, role)]
  projects  [(org_id, project_id, name, kind)]
  filters   reports.analytics.query.Filters
  scope_user_ids  frozenset of user ids the reader may see, or None (everyone)
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from reports.analytics.query import Filters

COST_DECIMALS = 6
DURATION_DECIMALS = 3
LONG_CONTEXT_THRESHOLD = 200_000
FAMILIES = ("opus", "sonnet", "haiku", "other")
KNOWN_TYPES = ("session_started", "model_request", "session_ended")

# model -> price periods, oldest first: (valid from this UTC date, normal rates, long-context rates or None).
# Rates are USD per million tokens, typed from the vendors' pricing pages (not read from the seed):
# (input, output, cache write 5m, cache write 1h, cache read). OpenAI has no cache-write price: written tokens
# are input tokens. Claude Opus 4.6's long-context premium ended on 2026-03-13.
PRICES: dict[str, tuple[tuple[dt.date, tuple[str, ...], tuple[str, ...] | None], ...]] = {
    "claude-opus-4-1-20250805": ((dt.date.min, ("15", "75", "18.75", "30", "1.50"), None),),
    "claude-opus-4-5-20251101": ((dt.date.min, ("5", "25", "6.25", "10", "0.50"), None),),
    "claude-opus-4-6": (
        (dt.date.min, ("5", "25", "6.25", "10", "0.50"), ("10", "37.50", "12.50", "20", "1")),
        (dt.date(2026, 3, 13), ("5", "25", "6.25", "10", "0.50"), None),
    ),
    "claude-sonnet-4-5-20250929": (
        (dt.date.min, ("3", "15", "3.75", "6", "0.30"), ("6", "22.50", "7.50", "12", "0.60")),
    ),
    "claude-haiku-4-5-20251001": ((dt.date.min, ("1", "5", "1.25", "2", "0.10"), None),),
    "gpt-5-codex": ((dt.date.min, ("1.25", "10", "1.25", "1.25", "0.125"), None),),
}
UNPRICED_MODEL = "acme-internal-llm"  # in no price list


# -- parsing -------------------------------------------------------------------------------------------------


def parse_timestamp(text: str) -> dt.datetime:
    """RFC 3339 (Z or numeric offset, optional fraction) -> aware UTC datetime."""
    value = text.strip()
    if value[-1] in "Zz":
        value = value[:-1] + "+00:00"
    date_part, time_part = value[:10], value[11:]
    offset_at = max(time_part.rfind("+"), time_part.rfind("-"))
    clock, offset = time_part[:offset_at], time_part[offset_at:]
    micro = 0
    if "." in clock:
        clock, fraction = clock.split(".")
        micro = int((fraction + "000000")[:6])  # sub-microsecond digits are dropped
    hh, mm, ss = (int(x) for x in clock.split(":"))
    y, mo, d = (int(x) for x in date_part.split("-"))
    sign = 1 if offset[0] == "+" else -1
    off = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])) * sign
    local = dt.datetime(y, mo, d, hh, mm, ss, micro, tzinfo=dt.timezone(off))
    return local.astimezone(dt.UTC)


VENDORS = ("anthropic", "openai", "google", "other")


def vendor_of(model: str | None) -> str:
    text = (model or "").lower()
    if "claude" in text:
        return "anthropic"
    if "gemini" in text:
        return "google"
    if text.startswith("gpt-") or "openai." in text or "codex" in text or text[:2] in ("o1", "o3", "o4"):
        return "openai"
    return "other"


def family_of(model: str | None) -> str:
    for family in ("opus", "sonnet", "haiku"):
        if model and family in model:
            return family
    return "other"


def request_cost(model: str, at_utc: dt.datetime, usage: dict) -> Fraction | None:
    """Exact cost in USD, or None when the model has no price valid at the request's UTC date."""
    periods = [period for period in PRICES.get(model, ()) if period[0] <= at_utc.date()]
    if not periods:
        return None
    valid_from, normal, long_context = periods[-1]
    inp = int(usage.get("input_tokens") or 0)
    out = int(usage.get("output_tokens") or 0)
    write = int(usage.get("cache_creation_input_tokens") or 0)
    read = int(usage.get("cache_read_input_tokens") or 0)
    split = usage.get("cache_creation")
    if isinstance(split, dict):
        write_5m = int(split.get("ephemeral_5m_input_tokens") or 0)
        write_1h = int(split.get("ephemeral_1h_input_tokens") or 0)
    else:
        write_5m, write_1h = write, 0
    rates = normal
    if long_context is not None and inp + write + read > LONG_CONTEXT_THRESHOLD:
        rates = long_context
    r_in, r_out, r_5m, r_1h, r_read = (Fraction(r) for r in rates)
    total = inp * r_in + out * r_out + write_5m * r_5m + write_1h * r_1h + read * r_read
    return total / 1_000_000


# -- the model of one org ------------------------------------------------------------------------------------


@dataclass
class Session:
    session_id: str
    date: dt.date
    duration: Fraction  # seconds
    user: str | None
    agent: str | None
    project: str | None
    repository: str | None


@dataclass
class Request:
    session_id: str
    date: dt.date
    input_tokens: int
    output_tokens: int
    cost: Fraction | None
    family: str
    vendor: str
    model: str
    user: str | None
    agent: str | None
    project: str | None
    repository: str | None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class OrgModel:
    org_id: str
    tz: ZoneInfo
    sessions: list[Session]
    requests: list[Request]
    project_names: dict[str, str]
    user_names: dict[str, str]


def _event_dicts(events: Iterable[Any]) -> list[dict]:
    out = []
    for item in events:
        out.append(item[-1] if isinstance(item, tuple) else item)
    return out


def _seconds(delta: dt.timedelta) -> Fraction:
    return Fraction(delta.days * 86_400 + delta.seconds) + Fraction(delta.microseconds, 1_000_000)


def build_model(events, orgs, users, projects, org_id: str) -> OrgModel:
    tz_name = next((row[2] for row in orgs if row[0] == org_id), None)
    tz = ZoneInfo(tz_name or "UTC")

    unique: dict[str, dict] = {}
    for event in _event_dicts(events):
        unique.setdefault(event["event_id"], event)  # redeliveries of the same event count once

    by_session: dict[str, list[tuple[dt.datetime, dict]]] = {}
    for event in unique.values():
        if event.get("org_id") != org_id or event.get("event_type") not in KNOWN_TYPES:
            continue
        by_session.setdefault(event["session_id"], []).append((parse_timestamp(event["timestamp"]), event))

    def local_date(at: dt.datetime) -> dt.date:
        return at.astimezone(tz).date()

    sessions, requests = [], []
    for session_id, timed in by_session.items():
        times = [t for t, _ in timed]
        starts = sorted(((t, e) for t, e in timed if e["event_type"] == "session_started"), key=lambda pair: pair[0])
        ends = [t for t, e in timed if e["event_type"] == "session_ended"]
        if starts:
            start_at, start = starts[0]
            user, agent = start.get("user_id"), start.get("agent")
            project, repository = start.get("project_id"), start.get("repository")
        else:
            start_at, start = min(times), None
            user = agent = project = repository = None
        if ends:
            duration = _seconds(max(ends) - start_at)
        else:
            duration = _seconds(max(times) - min(times))
        sessions.append(Session(session_id, local_date(start_at), duration, user, agent, project, repository))
        for at, event in timed:
            if event["event_type"] != "model_request":
                continue
            usage = event.get("usage") or {}
            inp = sum(
                int(usage.get(k) or 0)
                for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
            )
            requests.append(
                Request(
                    session_id,
                    local_date(at),
                    inp,
                    int(usage.get("output_tokens") or 0),
                    request_cost(event["model"], at, usage),
                    family_of(event["model"]),
                    vendor_of(event["model"]),
                    event["model"],
                    user,
                    agent,
                    project,
                    repository,
                )
            )

    project_names = {row[1]: row[2] for row in projects if row[0] == org_id}
    user_names = {row[1]: row[3] for row in users if row[0] == org_id}
    return OrgModel(org_id, tz, sessions, requests, project_names, user_names)


# -- filtering -----------------------------------------------------------------------------------------------


def _matches(item: Session | Request, filters: Filters, scope_user_ids: frozenset | None) -> bool:
    if filters.date_from is not None and item.date < filters.date_from:
        return False
    if filters.date_to is not None and item.date > filters.date_to:
        return False
    for values, attribute in (
        (filters.projects, item.project),
        (filters.repositories, item.repository),
        (filters.agents, item.agent),
        (filters.users, item.user),
    ):
        if values and (attribute is None or attribute not in values):
            return False
    if scope_user_ids is not None and (item.user is None or item.user not in scope_user_ids):
        return False
    return True


def _selected(model: OrgModel, filters: Filters, scope_user_ids):
    sessions = [s for s in model.sessions if _matches(s, filters, scope_user_ids)]
    requests = [r for r in model.requests if _matches(r, filters, scope_user_ids)]
    return sessions, requests


def _cost_sum(requests: Iterable[Request]) -> Fraction:
    return sum((r.cost for r in requests if r.cost is not None), Fraction(0))


def _cost_out(value: Fraction | None) -> float | None:
    """Half-up to COST_DECIMALS, on the exact fraction (the specification of a shown cost)."""
    if value is None:
        return None
    scale = 10**COST_DECIMALS
    return math.floor(value * scale + Fraction(1, 2)) / scale


def _duration_out(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), DURATION_DECIMALS)


def _mean(values: list[Fraction]) -> Fraction | None:
    return sum(values, Fraction(0)) / len(values) if values else None


# -- the four answers ----------------------------------------------------------------------------------------


def expected_summary(
    events, orgs, users, projects, org_id: str, filters: Filters = Filters(), scope_user_ids: frozenset | None = None
) -> dict:
    model = build_model(events, orgs, users, projects, org_id)
    sessions, requests = _selected(model, filters, scope_user_ids)
    cost = _cost_sum(requests)
    input_tokens = sum(r.input_tokens for r in requests)
    output_tokens = sum(r.output_tokens for r in requests)
    return {
        "total_sessions": len(sessions),
        "total_cost_usd": _cost_out(cost),
        "total_tokens": input_tokens + output_tokens,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "avg_session_duration_seconds": _duration_out(_mean([s.duration for s in sessions])),
        "avg_cost_per_session_usd": _cost_out(cost / len(sessions)) if sessions else None,
        "unique_users": len({s.user for s in sessions if s.user is not None}),
    }


def activity_bounds(events, orgs, users, projects, org_id: str) -> tuple[dt.date | None, dt.date | None]:
    """First and last local activity date over all the org's sessions and requests, unfiltered."""
    model = build_model(events, orgs, users, projects, org_id)
    dates = [s.date for s in model.sessions] + [r.date for r in model.requests]
    return (min(dates), max(dates)) if dates else (None, None)


def period_start(day: dt.date, interval: str) -> dt.date:
    if interval == "day":
        return day
    if interval == "week":
        return day - dt.timedelta(days=day.isoweekday() - 1)
    raise ValueError(interval)


def expected_timeseries(
    events,
    orgs,
    users,
    projects,
    org_id: str,
    filters: Filters = Filters(),
    interval: str = "day",
    metric: str = "sessions",
    scope_user_ids: frozenset | None = None,
) -> dict:
    """Periods from the one containing `from` to the one containing `to` (defaults: the org's unfiltered
    first/last activity date). No periods when a bound is unknown or the range is empty."""
    model = build_model(events, orgs, users, projects, org_id)
    sessions, requests = _selected(model, filters, scope_user_ids)
    first, last = activity_bounds(events, orgs, users, projects, org_id)
    low = filters.date_from if filters.date_from is not None else first
    high = filters.date_to if filters.date_to is not None else last
    points = []
    if low is not None and high is not None and low <= high:
        step = dt.timedelta(days=1 if interval == "day" else 7)
        period, end = period_start(low, interval), period_start(high, interval)
        while period <= end:
            if metric == "sessions":
                value: Any = sum(1 for s in sessions if period_start(s.date, interval) == period)
            elif metric == "cost":
                value = _cost_out(_cost_sum(r for r in requests if period_start(r.date, interval) == period))
            elif metric == "tokens":
                value = sum(r.total_tokens for r in requests if period_start(r.date, interval) == period)
            else:
                raise ValueError(metric)
            points.append({"period_start": period.isoformat(), "value": value})
            period += step
    return {"interval": interval, "metric": metric, "points": points}


def _none_last(key):
    return (key is None, "" if key is None else key)


def expected_by_agent(
    events, orgs, users, projects, org_id: str, filters: Filters = Filters(), scope_user_ids: frozenset | None = None
) -> dict:
    model = build_model(events, orgs, users, projects, org_id)
    sessions, requests = _selected(model, filters, scope_user_ids)
    agents = {s.agent for s in sessions} | {r.agent for r in requests}
    rows = []
    for agent in agents:
        mine = [s for s in sessions if s.agent == agent]
        reqs = [r for r in requests if r.agent == agent]
        cost = _cost_sum(reqs)
        rows.append(
            {
                "agent": agent,
                "sessions": len(mine),
                "total_cost_usd": _cost_out(cost),
                "total_tokens": sum(r.total_tokens for r in reqs),
                "avg_cost_usd": _cost_out(cost / len(mine)) if mine else None,
                "avg_duration_seconds": _duration_out(_mean([s.duration for s in mine])),
                "unpriced_requests": sum(1 for r in reqs if r.cost is None),
            }
        )
    rows.sort(key=lambda row: (-row["sessions"], *_none_last(row["agent"])))
    return {"agents": rows}


def expected_cost_breakdown(
    events, orgs, users, projects, org_id: str, filters: Filters = Filters(), scope_user_ids: frozenset | None = None
) -> dict:
    model = build_model(events, orgs, users, projects, org_id)
    _, requests = _selected(model, filters, scope_user_ids)

    exact_by_family = {f: _cost_sum(r for r in requests if r.family == f) for f in FAMILIES}
    by_model = [
        {"model_family": f, "cost_usd": _cost_out(exact_by_family[f])}
        for f in sorted(FAMILIES, key=lambda f: (-exact_by_family[f], FAMILIES.index(f)))
    ]
    exact_by_vendor = {v: _cost_sum(r for r in requests if r.vendor == v) for v in VENDORS}
    by_vendor = [
        {"vendor": v, "cost_usd": _cost_out(exact_by_vendor[v])}
        for v in sorted(VENDORS, key=lambda v: (-exact_by_vendor[v], VENDORS.index(v)))
    ]

    def by(attribute: str, id_field: str, names: dict[str, str]) -> list[dict]:
        keys = {getattr(r, attribute) for r in requests}
        exact = {k: _cost_sum(r for r in requests if getattr(r, attribute) == k) for k in keys}
        ordered = sorted(keys, key=lambda k: (-exact[k], *_none_last(k)))
        return [
            {id_field: k, "name": names.get(k) if k is not None else None, "cost_usd": _cost_out(exact[k])}
            for k in ordered
        ]

    return {
        "by_model": by_model,
        "by_vendor": by_vendor,
        "by_project": by("project", "project_id", model.project_names),
        "by_user": by("user", "user_id", model.user_names),
        "unpriced_requests": sum(1 for r in requests if r.cost is None),
        "unpriced_models": [
            {"model": model, "requests": count}
            for model, count in sorted(
                Counter(r.model for r in requests if r.cost is None).items(), key=lambda item: (-item[1], item[0])
            )
        ],
    }
