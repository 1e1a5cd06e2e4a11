"""What each dashboard view shows, as plain data for its template: every figure from the shared query code
(`reports.analytics`), for the reader's scope, with the filters of the URL. No SQL here.

The URL's parameters are the API's (`from`, `to`, `project`, `repository`, `agent`, `user`, repeated for several
values; the timeseries' `interval` and `metric`), so a dashboard URL and an API URL with the same query string
show the same figures.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from pydantic import BaseModel

from reports.analytics import formatting as fmt
from reports.analytics import metrics as m
from reports.analytics.budgets import STATUS_LABELS, AnomalyFilters, BudgetFilters, BudgetQueries
from reports.analytics.dashboard import DashboardQueries
from reports.analytics.query import DATE_WINDOW_START, Filters, QueryError, Scope, checked_date, period_count
from reports.analytics.scope import Directory

FILTER_PARAMETERS = ("from", "to", "project", "repository", "agent", "user")
TIMESERIES_PARAMETERS = ("interval", "metric")
_MULTI = {"project": "projects", "repository": "repositories", "agent": "agents", "user": "users"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UNKNOWN_USER = "Unknown (session start not yet received)"
UNKNOWN = "Unknown"
METRIC_LABELS = {"sessions": "Sessions", "cost": "Cost", "tokens": "Tokens"}
METRIC_UNITS = {"sessions": "count", "cost": "usd", "tokens": "tokens"}
INTERVAL_LABELS = {"day": "Per day", "week": "Per week"}
VENDOR_NAMES = {"anthropic": "Anthropic", "openai": "OpenAI", "google": "Google", "other": "Other"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Forbidden(Exception):
    """The reader asked for more than their scope (403)."""


@dataclass(frozen=True)
class Limits:
    max_range_days: int
    max_periods: int


@dataclass(frozen=True)
class Asked:
    """A view's query string, checked: the filters, the timeseries toggles, and the pairs to rebuild URLs."""

    filters: Filters
    interval: str
    metric: str
    pairs: tuple[tuple[str, str], ...]  # the filter parameters as given (without interval/metric)

    def query(self, drop: tuple[str, ...] = (), **replace: str | list[str]) -> str:
        """The query string with some parameters dropped or replaced (a list repeats the parameter)."""
        pairs = [(k, v) for k, v in self.pairs if k not in drop and k not in replace]
        for key, value in replace.items():
            pairs += [(key, item) for item in value] if isinstance(value, list) else [(key, value)]
        return urlencode(pairs)

    def with_toggles(self, **replace: str) -> str:
        """The query string with the timeseries toggles (left out at their defaults) and some replacements."""
        defaults = {"interval": "day", "metric": "sessions"}
        values = {"interval": self.interval, "metric": self.metric, **replace}
        return self.query(**{k: v for k, v in values.items() if defaults.get(k) != v})


def parse_query(items: list[tuple[str, str]], allowed: tuple[str, ...]) -> Asked:
    """The filters of a view from its query string; QueryError names a bad or unknown parameter."""
    values: dict[str, list[str]] = {}
    for key, value in items:
        if key not in allowed:
            raise QueryError(key, f"unknown parameter; known: {', '.join(allowed)}")
        values.setdefault(key, []).append(value)
    for single in ("from", "to", "interval", "metric"):
        if len(values.get(single, [])) > 1:
            raise QueryError(single, "give it once")
    interval = values.get("interval", ["day"])[0]
    metric = values.get("metric", ["sessions"])[0]
    if interval not in m.INTERVALS:
        raise QueryError("interval", f"must be one of {', '.join(m.INTERVALS)}, got {interval!r}")
    if metric not in m.TIMESERIES_METRICS:
        raise QueryError("metric", f"must be one of {', '.join(m.TIMESERIES_METRICS)}, got {metric!r}")
    filters = Filters(
        date_from=_date("from", values.get("from", [None])[0]),
        date_to=_date("to", values.get("to", [None])[0]),
        **{_MULTI[key]: tuple(dict.fromkeys(values.get(key, []))) for key in _MULTI},
    )
    pairs = tuple((k, v) for k, v in items if k in FILTER_PARAMETERS and v != "")
    return Asked(filters, interval, metric, pairs)


def _date(parameter: str, text: str | None) -> dt.date | None:
    if text is None or text == "":
        return None  # an empty date field of the form: no bound
    try:
        day = dt.date.fromisoformat(text) if _ISO_DATE.match(text) else None
    except ValueError:
        day = None
    if day is None:
        raise QueryError(parameter, f"not a date (YYYY-MM-DD): {text!r}")
    return checked_date(parameter, day)


# -- the reader ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    user_id: str
    name: str
    role: str
    scope: Scope
    org_id: str
    org_name: str
    time_zone: str

    @property
    def sees_others(self) -> bool:
        return self.role in ("manager", "admin")


def check_users(reader: Reader, users: tuple[str, ...]) -> None:
    if reader.scope.user_ids is not None:
        outside = set(users) - reader.scope.user_ids
        if outside:
            raise Forbidden(f"{len(outside)} of the users asked for are outside what a {reader.role} may see")


def check_range(queries: DashboardQueries, org_id: str, filters: Filters, limits: Limits, interval: str) -> None:
    """The API's limits: an asked range of at most `max_range_days`, a timeseries of at most `max_periods`."""
    first, last = queries.date_range(org_id, filters)
    if first is None or last is None:
        return
    days = (last - first).days + 1
    if (filters.date_from or filters.date_to) and days > limits.max_range_days:
        raise QueryError("from", f"the range {first}..{last} spans {days} days; at most {limits.max_range_days}")
    periods = period_count(first, last, interval)
    if periods > limits.max_periods:
        raise QueryError("from", f"the range {first}..{last} has {periods} {interval}s; at most {limits.max_periods}")


# -- filters: options and presets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class FilterOptions:
    projects: tuple[Option, ...]
    repositories: tuple[Option, ...]
    agents: tuple[Option, ...]
    users: tuple[Option, ...]


def filter_options(queries: DashboardQueries, directory: Directory, org_id: str, scope: Scope) -> FilterOptions:
    """What the filters offer: the projects, repositories and agents with activity in the reader's scope over the
    whole history, and the people of the scope (directory people, and ids seen only in events for an admin)."""
    everything = Filters()
    projects = queries.by_project(org_id, everything, scope)["projects"]
    repositories = queries.by_repository(org_id, everything, scope)["repositories"]
    agents = queries.by_agent(org_id, everything, scope)["agents"]
    people = {person.user_id: person.display_name for person in directory.members(scope)}
    for row in queries.by_person(org_id, everything, scope)["people"]:
        if row["user_id"] is not None and row["user_id"] not in people:
            people[row["user_id"]] = fmt.display_text(row["name"] or row["user_id"])
    return FilterOptions(
        projects=tuple(
            sorted(
                (
                    Option(p["project_id"], fmt.display_text(p["name"] or p["project_id"]))
                    for p in projects
                    if p["project_id"]
                ),
                key=lambda o: o.label.casefold(),
            )
        ),
        repositories=tuple(
            sorted(
                (Option(r["repository"], r["repository"]) for r in repositories if r["repository"]),
                key=lambda o: o.value,
            )
        ),
        agents=tuple(sorted((Option(a["agent"], a["agent"]) for a in agents if a["agent"]), key=lambda o: o.value)),
        users=tuple(sorted((Option(k, v) for k, v in people.items()), key=lambda o: (o.label.casefold(), o.value))),
    )


@dataclass(frozen=True)
class Preset:
    label: str
    date_from: dt.date
    date_to: dt.date


def presets(time_zone: str) -> list[Preset]:
    """Last 7/30/90 days (today included), this month and last month, in the org's local dates."""
    today = dt.datetime.now(zoneinfo.ZoneInfo(time_zone)).date()
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - dt.timedelta(days=1)
    return [
        Preset("Last 7 days", today - dt.timedelta(days=6), today),
        Preset("Last 30 days", today - dt.timedelta(days=29), today),
        Preset("Last 90 days", today - dt.timedelta(days=89), today),
        Preset("This month", first_of_month, today),
        Preset(
            "Last month",
            last_month_end.replace(day=1),
            last_month_end.replace(day=calendar.monthrange(last_month_end.year, last_month_end.month)[1]),
        ),
    ]


# -- the views -------------------------------------------------------------------------------------------------


@dataclass
class Chart:
    """A chart for dashboard.js: `kind` line|bar|hbar|heatmap, labels, series of values, and the values' unit."""

    chart_id: str
    title: str
    kind: str
    labels: list
    series: list[dict]
    unit: str
    extra: dict = field(default_factory=dict)

    def spec(self) -> dict:
        return {"kind": self.kind, "labels": self.labels, "series": self.series, "unit": self.unit, **self.extra}


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: float | int | None
    text: str
    change: str
    relative: str
    trend: str


_KPI_FIELDS = (
    ("total_sessions", "Sessions", fmt.integer, "count"),
    ("total_cost_usd", "Cost", fmt.usd, "usd"),
    ("total_tokens", "Tokens", fmt.compact, "tokens"),
    ("avg_session_duration_seconds", "Avg session duration", fmt.duration, "duration"),
    ("avg_cost_per_session_usd", "Avg cost per session", fmt.usd, "usd"),
    ("unique_users", "Active users", fmt.integer, "count"),
)


def previous_period(queries: DashboardQueries, org_id: str, filters: Filters) -> Filters | None:
    """The same filters over the period of the same length just before (None without a range, or before the
    date window)."""
    first, last = queries.date_range(org_id, filters)
    if first is None or last is None or first > last:
        return None
    length = (last - first).days + 1
    previous_first = first - dt.timedelta(days=length)
    if previous_first < DATE_WINDOW_START:
        return None
    return Filters(
        previous_first,
        first - dt.timedelta(days=1),
        filters.projects,
        filters.repositories,
        filters.agents,
        filters.users,
    )


def kpis(summary: dict, previous: dict | None) -> list[Kpi]:
    cards = []
    for key, label, formatter, kind in _KPI_FIELDS:
        value = summary[key]
        before = previous[key] if previous else None
        if value is None or before is None:
            cards.append(Kpi(key, label, value, formatter(value), fmt.DASH, fmt.DASH, "none"))
            continue
        change = value - before
        relative = change / before if before else None
        trend = "flat" if abs(change) < 1e-9 else "up" if change > 0 else "down"
        cards.append(
            Kpi(key, label, value, formatter(value), fmt.signed(change, kind), fmt.signed_percent(relative), trend)
        )
    return cards


def timeseries_chart(
    answer: dict, chart_id: str = "timeseries", title: str | None = None, flagged: Sequence[dict] = ()
) -> Chart:
    """The chart of a timeseries answer; `flagged` (anomalies) marks the periods that hold a flagged day."""
    metric, interval = answer["metric"], answer["interval"]
    labels = [point["period_start"] for point in answer["points"]]
    return Chart(
        chart_id,
        title or f"{METRIC_LABELS[metric]} {INTERVAL_LABELS[interval].lower()}",
        "line" if interval == "day" else "bar",
        labels,
        [{"name": METRIC_LABELS[metric], "values": [point["value"] for point in answer["points"]]}],
        METRIC_UNITS[metric],
        {"flagged": flagged_periods(flagged, interval, labels)} if flagged else {},
    )


def flagged_periods(anomalies: Sequence[dict], interval: str, labels: list[str]) -> list[dict]:
    """One mark per period of the chart that holds flagged days: its label and who was flagged."""
    names: dict[str, list[str]] = {}
    for anomaly in anomalies:
        day = dt.date.fromisoformat(anomaly["date"])
        period = day if interval == "day" else day - dt.timedelta(days=day.weekday())  # ISO weeks start on Monday
        names.setdefault(period.isoformat(), []).append(f"{anomaly['name']} {anomaly['date']}")
    return [{"label": label, "text": "Flagged: " + ", ".join(names[label])} for label in labels if label in names]


def overview(queries: DashboardQueries, reader: Reader, asked: Asked, flagged: Sequence[dict] = ()) -> dict:
    org_id, filters, scope = reader.org_id, asked.filters, reader.scope
    summary = queries.summary(org_id, filters, scope)
    before = previous_period(queries, org_id, filters)
    previous = queries.summary(org_id, before, scope) if before else None
    series = queries.timeseries(org_id, filters, scope, interval=asked.interval, metric=asked.metric)
    agents = queries.by_agent(org_id, filters, scope)["agents"]
    breakdown = queries.cost_breakdown(org_id, filters, scope)
    repositories = queries.by_repository(org_id, filters, scope)["repositories"]
    first, last = queries.date_range(org_id, filters)
    breakdowns = [
        _cost_table(
            "model",
            "Cost by model family",
            "Model family",
            [(r["model_family"], r["model_family"].title(), r["cost_usd"]) for r in breakdown["by_model"]],
        ),
        _cost_table(
            "vendor",
            "Cost by vendor",
            "Vendor",
            [(r["vendor"], VENDOR_NAMES.get(r["vendor"], r["vendor"]), r["cost_usd"]) for r in breakdown["by_vendor"]],
        ),
        _cost_table(
            "project",
            "Cost by project",
            "Project",
            [
                (r["project_id"], fmt.display_text(r["name"] or r["project_id"] or UNKNOWN), r["cost_usd"])
                for r in breakdown["by_project"]
            ],
        ),
        _cost_table(
            "repository",
            "Cost by repository",
            "Repository",
            [
                (r["repository"], r["repository"] or "No repository", r["total_cost_usd"])
                for r in repositories
                if r["total_cost_usd"] is not None
            ],
        ),
    ]
    if reader.sees_others:
        breakdowns.append(
            _cost_table(
                "user",
                "Cost by person",
                "Person",
                [
                    (r["user_id"], fmt.display_text(r["name"] or r["user_id"] or UNKNOWN_USER), r["cost_usd"])
                    for r in breakdown["by_user"]
                ],
            )
        )
    return {
        "range": (first, last),
        "kpis": kpis(summary, previous),
        "previous": (before.date_from, before.date_to) if before else None,
        "timeseries": series,
        "timeseries_chart": timeseries_chart(series, flagged=flagged),
        "agents": agents,
        "agents_chart": Chart(
            "agents",
            "Sessions by agent",
            "hbar",
            [a["agent"] or UNKNOWN for a in agents],
            [{"name": "Sessions", "values": [a["sessions"] for a in agents]}],
            "count",
        ),
        "breakdowns": breakdowns,
        "unpriced_requests": breakdown["unpriced_requests"],
        "unpriced_models": breakdown["unpriced_models"],
    }


CHART_ROWS = 15  # a ranked chart shows the first rows; its table has them all


def _cost_table(key: str, title: str, column: str, rows: list[tuple]) -> dict:
    shown = rows[:CHART_ROWS]
    return {
        "key": key,
        "title": title,
        "column": column,
        "rows": [{"id": ident, "label": label, "cost_usd": cost} for ident, label, cost in rows],
        "chart": Chart(
            f"cost-{key}",
            title if len(rows) <= CHART_ROWS else f"{title} (top {CHART_ROWS} of {len(rows)})",
            "hbar",
            [label for _, label, _ in shown],
            [{"name": "Cost", "values": [cost for _, _, cost in shown]}],
            "usd",
        ),
    }


def people(queries: DashboardQueries, directory: Directory, reader: Reader, asked: Asked) -> dict:
    org_id, filters, scope = reader.org_id, asked.filters, reader.scope
    answer = queries.people(org_id, filters, scope, interval="week")
    first, last = queries.date_range(org_id, filters)
    table = []
    for row in answer["people"]:
        known = directory.people.get(row["user_id"]) if row["user_id"] is not None else None
        name = known.name if known else None
        table.append(
            {
                **row,
                "name": name,
                "label": fmt.display_text(name or row["user_id"] or UNKNOWN_USER),
                "sparkline": sparkline(row["trend"]),
            }
        )
    return {"range": (first, last), "people": table, "periods": answer["periods"]}


class PersonRow(BaseModel):
    user_id: str | None
    name: str | None
    sessions: int
    total_cost_usd: float
    total_tokens: int
    avg_duration_seconds: float | None
    avg_cost_usd: float | None
    top_agent: str | None


class PeopleAnswer(BaseModel):
    """The people view's CSV columns (the same CSV rules as the API's answers)."""

    people: list[PersonRow]


def person(
    queries: DashboardQueries, reader: Reader, asked: Asked, person_id: str, label: str, flagged: Sequence[dict] = ()
) -> dict:
    org_id, scope = reader.org_id, reader.scope
    filters = asked.filters  # users == (person_id,), checked by the route
    summary = queries.summary(org_id, filters, scope)
    before = previous_period(queries, org_id, filters)
    previous = queries.summary(org_id, before, scope) if before else None
    sessions = queries.timeseries(org_id, filters, scope, interval=asked.interval, metric="sessions")
    cost = queries.timeseries(org_id, filters, scope, interval=asked.interval, metric="cost")
    agents = queries.agent_shares(org_id, filters, scope)["agents"]
    pattern = queries.session_pattern(org_id, filters, scope)
    projects = queries.by_project(org_id, filters, scope)["projects"]
    first, last = queries.date_range(org_id, filters)
    heat = [[slot["hour"], slot["weekday"] - 1, slot["sessions"]] for slot in pattern["weekday_hour"]]
    return {
        "range": (first, last),
        "person_id": person_id,
        "label": label,
        "kpis": kpis(summary, previous)[:5],
        "sessions": sessions,
        "cost": cost,
        "sessions_chart": timeseries_chart(sessions, "person-sessions"),
        "cost_chart": timeseries_chart(cost, "person-cost", flagged=flagged),
        "agents": agents,
        "agents_chart": Chart(
            "person-agents",
            "Agent preferences (share of sessions)",
            "hbar",
            [a["agent"] or UNKNOWN for a in agents],
            [{"name": "Sessions", "values": [a["sessions"] for a in agents]}],
            "count",
        ),
        "durations": pattern["durations"],
        "durations_chart": Chart(
            "person-durations",
            "Session durations",
            "bar",
            [d["bucket"] for d in pattern["durations"]],
            [{"name": "Sessions", "values": [d["sessions"] for d in pattern["durations"]]}],
            "count",
        ),
        "weekday_hour": pattern["weekday_hour"],
        "weekday_hour_rows": [
            {
                "weekday": WEEKDAYS[day - 1],
                "hours": [s["sessions"] for s in pattern["weekday_hour"] if s["weekday"] == day],
            }
            for day in range(1, 8)
        ],
        "heatmap_chart": Chart(
            "person-heatmap",
            "Sessions by weekday and start hour (local time)",
            "heatmap",
            [f"{hour:02d}" for hour in range(24)],
            [{"name": "Sessions", "values": heat}],
            "count",
            {"rows": list(WEEKDAYS)},
        ),
        "projects": [{**p, "label": fmt.display_text(p["name"] or p["project_id"] or UNKNOWN)} for p in projects],
    }


# -- budgets and flagged days ----------------------------------------------------------------------------------


def budget_filters(asked: Asked) -> BudgetFilters:
    """The page's filters as the API's budget parameters: the figures as of the page's `to` (the latest day
    without it), the user and project budgets of the `user` and `project` filters (everything the reader may see
    without them). So the budgets CSV is the API's `budgets?as_of=TO&user=..&project=..&format=csv`."""
    filters = asked.filters
    return BudgetFilters(as_of=filters.date_to, users=filters.users, projects=filters.projects)


def anomaly_filters(asked: Asked) -> AnomalyFilters:
    """The page's filters as the API's anomaly parameters (`from`, `to`, `user`, `project`, `agent`; an anomaly
    has no repository)."""
    filters = asked.filters
    return AnomalyFilters(
        filters.date_from, filters.date_to, users=filters.users, projects=filters.projects, agents=filters.agents
    )


def flagged_days(queries: BudgetQueries, directory: Directory, reader: Reader, asked: Asked) -> list[dict]:
    """The anomalies of the page's filters within the reader's scope, as the API answers them."""
    return queries.anomalies(reader.org_id, directory, reader.scope, anomaly_filters(asked))["anomalies"]


def budgets(queries: BudgetQueries, directory: Directory, reader: Reader, asked: Asked) -> list[dict]:
    """The budgets of the page's filters within the reader's scope, as the API answers them, each with its status
    in words and its bar: spend and forecast as widths, the amount and the warning threshold as marks, all in
    percent of a track as long as the amount, the spend or the forecast, whichever is largest."""
    rows = []
    for budget in queries.budgets(reader.org_id, directory, reader.scope, budget_filters(asked))["budgets"]:
        amount = budget["amount_usd"]
        warn_usd = amount * budget["warn_at"]
        track = max(amount, budget["spend_usd"], budget["forecast_usd"])
        rows.append(
            {
                **budget,
                "status_label": STATUS_LABELS[budget["status"]],
                "warn_usd": warn_usd,
                "bar": {
                    name: round(100 * value / track, 2)
                    for name, value in (
                        ("spend", budget["spend_usd"]),
                        ("forecast", budget["forecast_usd"]),
                        ("amount", amount),
                        ("warn", warn_usd),
                    )
                },
            }
        )
    return rows


def sparkline(values: list[int], width: int = 96, height: int = 24) -> str:
    """SVG polyline points of a small trend (drawn by the template; no script needed)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{index * step:.0f},{height - 2 - (value / top) * (height - 4):.0f}" for index, value in enumerate(values)
    )
