"""The data of one report: every figure comes from `AnalyticsQueries` with the week's dates and the reader's scope.

`ReportContent` is plain data (numbers, names, chart titles and SVG strings) that the templates only lay out. Headline
figures are exactly `AnalyticsQueries.summary(org, Filters(date_from=week.start, date_to=week.end), scope)`,
i.e. what `session-analytics analytics summary --org ORG --from <start> --to <end> [--user ...]` prints.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reports.analytics import formatting as fmt
from reports.analytics.budgets import STATUS_LABELS, AnomalyFilters, BudgetFilters, BudgetQueries
from reports.analytics.query import AnalyticsQueries, Filters, Scope
from reports.analytics.scope import Directory, Person
from reports.analytics.vocabulary import MODEL_FAMILY_LABELS
from reports.analytics.weeks import ReportWeek
from reports.weekly import charts

TREND_WEEKS = 8  # the report week and the seven before it
TOP_ROWS = 10  # ranked charts show this many rows, the rest summed as "others"
UNKNOWN_USER = "Unknown (session start not yet received)"
UNKNOWN_PROJECT = "Unknown project"
NO_TEAM = "No team"
SCOPE_SUBJECTS = {"user": "you", "manager": "you and your team", "org": "the organisation"}
AUDIENCE_TITLES = {"user": "Personal report", "manager": "Team report", "org": "Organisation report"}


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    change_absolute: str
    change_percent: str
    trend: str  # up | down | flat | none: the direction against the previous week, for the arrow and colour


@dataclass
class ReportContent:
    org_id: str
    org_name: str
    audience: str
    audience_title: str
    recipient: Person
    week: ReportWeek
    previous_week: ReportWeek
    scope_description: str
    scope_subject: str  # who the figures are about, inside a sentence: "you", "you and your team", ...
    time_zone: str
    empty: bool
    summary: dict
    previous_summary: dict
    kpis: list[Kpi]
    charts: dict[str, charts.Chart] = field(default_factory=dict)
    tables: dict[str, list[dict]] = field(default_factory=dict)
    cache: dict = field(default_factory=dict)
    data_quality: dict = field(default_factory=dict)
    # "What changed this week" (team and org reports): budgets not on track and the week's anomalies, in scope;
    # empty (no section) when there is nothing to say.
    changes: dict = field(default_factory=dict)

    @property
    def header_text(self) -> str:
        return f"{self.org_name} · {self.audience_title} · {self.week.label}"


def build_report(
    queries: AnalyticsQueries,
    directory: Directory,
    org_name: str,
    time_zone: str,
    week: ReportWeek,
    audience: str,
    recipient_id: str,
) -> ReportContent:
    """Assemble one report; raises ScopeError when the recipient may not get a report of this audience."""
    scope = directory.scope_for(audience, recipient_id)
    recipient = directory.get(recipient_id)
    org_id = directory.org_id
    this_week = Filters(date_from=week.start, date_to=week.end)
    last_week = Filters(date_from=week.previous.start, date_to=week.previous.end)

    summary = queries.summary(org_id, this_week, scope)
    previous = queries.summary(org_id, last_week, scope)
    quality = queries.data_quality(org_id, this_week, scope)
    quality["latest_event_local"] = fmt.local_time(quality["latest_event_at_utc"], time_zone)
    empty = summary["total_sessions"] == 0 and summary["total_tokens"] == 0
    content = ReportContent(
        org_id=org_id,
        org_name=org_name,
        audience=audience,
        audience_title=AUDIENCE_TITLES[audience],
        recipient=recipient,
        week=week,
        previous_week=week.previous,
        scope_description=_scope_description(audience, directory, scope),
        scope_subject=SCOPE_SUBJECTS[audience],
        time_zone=time_zone,
        empty=empty,
        summary=summary,
        previous_summary=previous,
        kpis=_kpis(audience, summary, previous),
        data_quality=quality,
    )
    if empty:
        return content

    salt = f"{org_id}-{week.label}-{audience}-{recipient_id}"
    if audience in ("manager", "org"):
        content.changes = _changes(queries, directory, org_id, week, scope)
    _add_trends(content, queries, org_id, week, scope, salt)
    _add_breakdowns(content, queries, org_id, this_week, scope, salt)
    if audience == "user":
        _add_personal_patterns(content, queries, org_id, this_week, scope, salt)
    if audience == "manager":
        content.tables["people"] = _people_table(queries, directory, org_id, this_week, scope)
    if audience == "org":
        content.tables["teams"] = [
            {**team, "team": team["team"] or NO_TEAM} for team in queries.by_team(org_id, this_week, scope)["teams"]
        ]
    return content


# -- KPIs -------------------------------------------------------------------------------------------------

# (summary key, label, formatter for the value, unit kind for the change)
_KPI_FIELDS = (
    ("total_sessions", "Sessions", fmt.integer, "count"),
    ("total_cost_usd", "Cost", fmt.usd, "usd"),
    ("total_tokens", "Tokens", fmt.compact, "tokens"),
    ("avg_session_duration_seconds", "Avg session duration", fmt.duration, "duration"),
    ("avg_cost_per_session_usd", "Avg cost per session", fmt.usd, "usd"),
)
_ACTIVE_USERS = ("unique_users", "Active users", fmt.integer, "count")


def _kpis(audience: str, summary: dict, previous: dict) -> list[Kpi]:
    fields = _KPI_FIELDS + ((_ACTIVE_USERS,) if audience in ("manager", "org") else ())
    return [_kpi(label, summary[key], previous[key], formatter, kind) for key, label, formatter, kind in fields]


def _kpi(label: str, value: float | None, previous: float | None, formatter, kind: str) -> Kpi:
    if value is None or previous is None:
        return Kpi(label, formatter(value), fmt.DASH, fmt.DASH, "none")
    change = value - previous
    relative = change / previous if previous else None
    trend = "flat" if abs(change) < 1e-9 else "up" if change > 0 else "down"
    return Kpi(label, formatter(value), fmt.signed(change, kind), fmt.signed_percent(relative), trend)


def _scope_description(audience: str, directory: Directory, scope: Scope) -> str:
    if audience == "user":
        return "Your own sessions"
    if audience == "manager":
        people = len(directory.members(scope))
        return f"You and your team: {people} {'person' if people == 1 else 'people'}, direct and indirect reports"
    return "The whole organisation"


# -- what changed -----------------------------------------------------------------------------------------


def _changes(queries, directory: Directory, org_id: str, week: ReportWeek, scope: Scope) -> dict:
    """The budgets in scope that are not on track as of the week's last day (their figures of a day of the week),
    and the week's anomalies in scope; {} when there are none."""
    budget_queries = BudgetQueries(queries.conn)
    budgets = [
        {**budget, "status_label": STATUS_LABELS[budget["status"]]}
        for budget in budget_queries.budgets(org_id, directory, scope, BudgetFilters(as_of=week.end))["budgets"]
        if budget["status"] != "ok" and budget["as_of_date"] >= week.start.isoformat()
    ]
    anomalies = budget_queries.anomalies(
        org_id, directory, scope, AnomalyFilters(date_from=week.start, date_to=week.end)
    )["anomalies"]
    for anomaly in anomalies:
        anomaly["day"] = dt.date.fromisoformat(anomaly["date"]).strftime("%A %-d %B")
    if not budgets and not anomalies:
        return {}
    return {"budgets": budgets, "anomalies": anomalies}


# -- charts and tables ------------------------------------------------------------------------------------

_TREND_METRICS = (
    ("sessions", "Sessions", "sessions"),
    ("cost", "Cost", "USD"),
    ("tokens", "Tokens", "tokens"),
)


def _add_trends(content: ReportContent, queries, org_id: str, week: ReportWeek, scope: Scope, salt: str) -> None:
    """Per day of the week and per week over the last eight weeks, for sessions, cost and tokens; the weekly
    chart marks the report week."""
    periods = (
        ("daily", "day", Filters(date_from=week.start, date_to=week.end), charts.day_labels),
        (
            "weekly",
            "week",
            Filters(date_from=week.shifted(1 - TREND_WEEKS).start, date_to=week.end),
            charts.week_labels,
        ),
    )
    for metric, title, unit in _TREND_METRICS:
        for name, interval, filters, labeller in periods:
            points = queries.timeseries(org_id, filters, scope, interval=interval, metric=metric)["points"]
            bars = charts.Bars(
                f"{title} per {interval}",
                unit,
                labeller([dt.date.fromisoformat(p["period_start"]) for p in points]),
                [p["value"] for p in points],
                charts.UNIT_FORMATTERS[metric],
                integer=metric == "sessions",
            )
            highlight = len(points) - 1 if interval == "week" else None
            content.charts[f"{name}_{metric}"] = charts.period_bars(f"{salt}-{name}-{metric}", bars, highlight)


def _add_breakdowns(content: ReportContent, queries, org_id: str, filters: Filters, scope: Scope, salt: str) -> None:
    costs = queries.cost_breakdown(org_id, filters, scope)
    families = costs["by_model"]
    content.tables["models"] = [
        {"family": MODEL_FAMILY_LABELS[row["model_family"]], "cost_usd": row["cost_usd"]} for row in families
    ]
    content.charts["cost_by_model"] = charts.ranked_bars(
        f"{salt}-models",
        charts.Bars(
            "Cost by model family",
            "USD",
            [MODEL_FAMILY_LABELS[row["model_family"]] for row in families],
            [row["cost_usd"] for row in families],
            fmt.usd_short,
        ),
    )
    projects = [(row["name"] or row["project_id"] or UNKNOWN_PROJECT, row["cost_usd"]) for row in costs["by_project"]]
    labels, values = _top(projects)
    content.charts["cost_by_project"] = charts.ranked_bars(
        f"{salt}-projects", charts.Bars("Cost by project", "USD", labels, values, fmt.usd_short)
    )
    if content.audience in ("manager", "org"):
        people = [(row["name"] or row["user_id"] or UNKNOWN_USER, row["cost_usd"]) for row in costs["by_user"]]
        # One "others" bar would dwarf everyone: the title carries the rest instead.
        title = "Cost by person"
        if len(people) > TOP_ROWS:
            rest = sum(cost for _, cost in people[TOP_ROWS:])
            title += f": top {TOP_ROWS} of {len(people)} (the other {len(people) - TOP_ROWS}: {fmt.usd(rest)})"
        content.charts["cost_by_person"] = charts.ranked_bars(
            f"{salt}-people",
            charts.Bars(
                title,
                "USD",
                [label for label, _ in people[:TOP_ROWS]],
                [cost for _, cost in people[:TOP_ROWS]],
                fmt.usd_short,
            ),
            width=charts.FULL_WIDTH_IN,
        )
    content.tables["agents"] = queries.agent_shares(org_id, filters, scope)["agents"]
    content.tables["projects"] = queries.by_project(org_id, filters, scope)["projects"]
    for row in content.tables["projects"]:
        row["label"] = row["name"] or row["project_id"] or UNKNOWN_PROJECT
    content.cache = queries.cache_efficiency(org_id, filters, scope)


def _add_personal_patterns(
    content: ReportContent, queries, org_id: str, filters: Filters, scope: Scope, salt: str
) -> None:
    agents = content.tables["agents"]
    content.charts["agent_shares"] = charts.ranked_bars(
        f"{salt}-agents",
        charts.Bars(
            "Share of your sessions by agent",
            "share of sessions",
            [row["agent"] or "unknown" for row in agents],
            [row["session_share"] or 0 for row in agents],
            lambda share: fmt.percent(share, 0),
            highest_tick=1.0,
        ),
        color=charts.SERIES[1],
    )
    pattern = queries.session_pattern(org_id, filters, scope)
    durations = pattern["durations"]
    content.charts["durations"] = charts.ranked_bars(
        f"{salt}-durations",
        charts.Bars(
            "How long your sessions last",
            "sessions",
            [row["bucket"] for row in durations],
            [row["sessions"] for row in durations],
            fmt.integer,
            integer=True,
        ),
    )
    content.charts["weekday_hour"] = charts.weekday_hour_heatmap(
        f"{salt}-heatmap", "When your sessions start (local time)", pattern["weekday_hour"]
    )


def _people_table(queries, directory: Directory, org_id: str, filters: Filters, scope: Scope) -> list[dict]:
    """Every person of the team, including those without activity this week (zeros)."""
    active = {row["user_id"]: row for row in queries.by_person(org_id, filters, scope)["people"]}
    rows = []
    for person in directory.members(scope):
        figures = active.get(person.user_id)
        rows.append(
            {
                "user_id": person.user_id,
                "name": person.display_name,
                "team": person.team or NO_TEAM,
                "sessions": figures["sessions"] if figures else 0,
                "total_cost_usd": figures["total_cost_usd"] if figures else 0.0,
                "total_tokens": figures["total_tokens"] if figures else 0,
                "avg_duration_seconds": figures["avg_duration_seconds"] if figures else None,
                "avg_cost_usd": figures["avg_cost_usd"] if figures else None,
            }
        )
    return sorted(rows, key=lambda row: (-row["total_cost_usd"], -row["sessions"], row["name"].casefold()))


def _top(rows: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    """The first TOP_ROWS rows, the rest summed as one "others" row."""
    shown = rows[:TOP_ROWS]
    rest = rows[TOP_ROWS:]
    if rest:
        shown = shown + [(f"{len(rest)} others", sum(value for _, value in rest))]
    return [label for label, _ in shown], [value for _, value in shown]
