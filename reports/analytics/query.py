"""The four analytics questions (summary, timeseries, by-agent, cost breakdown) with filters and scope.

Every caller (CLI, reports, HTTP API) answers through this module, so a figure means the same everywhere.
Filter values reach SQL only as bound parameters. A `Scope` limits the users a reader may see (None = the
whole org); it is applied on top of the filters, never instead of them. Every answer reads only the local dates
of the date window (DATE_WINDOW_START..DATE_WINDOW_END): the loaders quarantine timestamps outside it, and a
row outside it (a warehouse built before they did) could not even be turned into a Python date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb

from reports.analytics import metrics as m
from reports.analytics import vocabulary
from reports.analytics.weeks import DATE_WINDOW_END, DATE_WINDOW_START


class QueryError(ValueError):
    """A bad parameter; `parameter` names it."""

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


@dataclass(frozen=True)
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    projects: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QueryError("from", f"{self.date_from} is after to={self.date_to}")


def checked_date(parameter: str, day: dt.date | None) -> dt.date | None:
    """A date a reader asked for (the API's `from`/`to`, the CLI's `--from`/`--to`), refused outside the date
    window: no data lies there, and dates near year 1 or 9999 overflow date arithmetic."""
    if day is not None and not DATE_WINDOW_START <= day <= DATE_WINDOW_END:
        raise QueryError(
            parameter, f"{day} is outside the dates the warehouse can hold ({DATE_WINDOW_START}..{DATE_WINDOW_END})"
        )
    return day


@dataclass(frozen=True)
class Scope:
    """The users whose data a reader may see; None means every user of the org (admins)."""

    user_ids: frozenset[str] | None = None

    @classmethod
    def everyone(cls) -> Scope:
        return cls(None)


@dataclass
class _Where:
    sql: str
    params: list[Any] = field(default_factory=list)


def connect_read_only(warehouse: Path | str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(warehouse), read_only=True)


class AnalyticsQueries:
    """Answers over one open warehouse connection (read-only is enough)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection):
        self.conn = conn
        self._org_facts: dict[str, tuple[int, Any, str | None]] = {}
        self._activity_bounds: dict[str, tuple[dt.date | None, dt.date | None]] = {}

    # -- the four questions -------------------------------------------------------------------------------

    def summary(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        where = self._where(org_id, filters, scope)
        row = self._rows(
            f"""
            select {m.SESSIONS}, {m.COST_USD}, {m.TOTAL_TOKENS}, {m.INPUT_TOKENS}, {m.OUTPUT_TOKENS},
                   {m.AVG_SESSION_DURATION_SECONDS}, {m.AVG_COST_PER_SESSION_USD}, {m.UNIQUE_USERS}
            from {m.ACTIVITY_MART} where {where.sql}
            """,
            where.params,
        )[0]
        sessions, cost, tokens, input_tokens, output_tokens, avg_duration, avg_cost, users = row
        return {
            "total_sessions": int(sessions),
            "total_cost_usd": _cost(cost),
            "total_tokens": int(tokens),
            "input_tokens": int(input_tokens),
            "output_tokens": int(output_tokens),
            "avg_session_duration_seconds": _duration(avg_duration),
            "avg_cost_per_session_usd": _cost(avg_cost),
            "unique_users": int(users),
        }

    def timeseries(
        self,
        org_id: str,
        filters: Filters = Filters(),
        scope: Scope = Scope(),
        interval: str = "day",
        metric: str = "sessions",
    ) -> dict:
        if interval not in m.INTERVALS:
            raise QueryError("interval", f"must be one of {', '.join(m.INTERVALS)}, got {interval!r}")
        if metric not in m.TIMESERIES_METRICS:
            raise QueryError("metric", f"must be one of {', '.join(m.TIMESERIES_METRICS)}, got {metric!r}")
        date_from, date_to = self.date_range(org_id, filters)
        where = self._where(org_id, filters, scope)
        period = "activity_date" if interval == "day" else "date_trunc('week', activity_date)"
        values = {
            _as_date(period_start): value
            for period_start, value in self._rows(
                f"""
                select cast({period} as date) as period_start, {m.TIMESERIES_METRICS[metric]}
                from {m.ACTIVITY_MART} where {where.sql}
                group by 1
                """,
                where.params,
            )
        }
        points = [
            {"period_start": start.isoformat(), "value": _metric_value(metric, values.get(start, 0))}
            for start in _periods(date_from, date_to, interval)
        ]
        return {"interval": interval, "metric": metric, "points": points}

    def by_agent(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        where = self._where(org_id, filters, scope)
        rows = self._rows(
            f"""
            select agent, {m.SESSIONS}, {m.COST_USD}, {m.TOTAL_TOKENS},
                   {m.AVG_COST_PER_SESSION_USD}, {m.AVG_SESSION_DURATION_SECONDS}, {m.UNPRICED_REQUESTS}
            from {m.ACTIVITY_MART} where {where.sql}
            group by agent
            having {m.SESSIONS} > 0 or sum(model_requests) > 0
            order by 2 desc, agent nulls last
            """,
            where.params,
        )
        return {
            "agents": [
                {
                    "agent": agent,
                    "sessions": int(sessions),
                    "total_cost_usd": _cost(cost),
                    "total_tokens": int(tokens),
                    "avg_cost_usd": _cost(avg_cost),
                    "avg_duration_seconds": _duration(avg_duration),
                    "unpriced_requests": int(unpriced),
                }
                for agent, sessions, cost, tokens, avg_cost, avg_duration, unpriced in rows
            ]
        }

    def cost_breakdown(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        where = self._where(org_id, filters, scope)

        # One scan of the model-cost mart gives the family, the vendor and the unpriced-model splits.
        split = self._rows(
            f"select grouping(model_family), grouping(vendor), coalesce(model_family, vendor, model), "
            f"{m.COST_USD}, {m.UNPRICED_REQUESTS} from {m.MODEL_COSTS_MART} where {where.sql} "
            "group by grouping sets ((model_family), (vendor), (model))",
            where.params,
        )
        costs_by = {
            "model_family": {key: cost for by_family, _, key, cost, _ in split if by_family == 0},
            "vendor": {key: cost for by_family, by_vendor, key, cost, _ in split if by_family and by_vendor == 0},
        }
        unpriced_models = sorted(
            (
                (key, int(unpriced))
                for by_family, by_vendor, key, _, unpriced in split
                if by_family and by_vendor and unpriced
            ),
            key=lambda item: (-item[1], item[0]),
        )

        def by_category(column: str, categories: tuple[str, ...]) -> list[dict]:
            # every category, most cost first (ties in the categories' order)
            cost = costs_by[column]
            return sorted(
                ({column: category, "cost_usd": _cost(cost.get(category, 0))} for category in categories),
                key=lambda item: (-item["cost_usd"], categories.index(item[column])),
            )

        facts_where = self._where(org_id, filters, scope, alias="facts")

        def by(column: str, dimension: str, name_column: str) -> list[tuple]:
            # The activity mart has the same cost per (day, user, agent, project, repository) without the model
            # split, in about half the rows; groups without a request are left out, as in the model-cost mart.
            # Sum first, then name the few groups: joining the names to every mart row first costs twice as much.
            return self._rows(
                f"""
                select grouped.{column}, names.{name_column}, grouped.cost_usd
                from (
                    select facts.{column}, {m.COST_USD} as cost_usd
                    from {m.ACTIVITY_MART} as facts
                    where {facts_where.sql}
                    group by facts.{column}
                    having sum(facts.model_requests) > 0
                ) as grouped
                left join analytics.{dimension} as names
                    on names.org_id = ? and names.{column} = grouped.{column}
                order by 3 desc, grouped.{column} nulls last
                """,
                [*facts_where.params, org_id],
            )

        return {
            "by_model": by_category("model_family", vocabulary.MODEL_FAMILIES),
            "by_vendor": by_category("vendor", vocabulary.VENDORS),
            "by_project": [
                {"project_id": key, "name": name, "cost_usd": _cost(cost)}
                for key, name, cost in by("project_id", "dim_projects", "project_name")
            ],
            "by_user": [
                {"user_id": key, "name": name, "cost_usd": _cost(cost)}
                for key, name, cost in by("user_id", "dim_users", "user_name")
            ],
            "unpriced_requests": self._unpriced_requests(where),
            "unpriced_models": [{"model": model, "requests": requests} for model, requests in unpriced_models],
        }

    # -- report figures (the reports and the API share them) ---------------------------------------------

    def cache_efficiency(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        """Cache-read share of input tokens and the saving against paying the uncached input price."""
        where = self._where(org_id, filters, scope)
        input_tokens, cache_read, share, savings = self._rows(
            f"""
            select {m.INPUT_TOKENS}, {m.CACHE_READ_TOKENS}, {m.CACHE_READ_SHARE}, {m.CACHE_READ_SAVINGS_USD}
            from {m.ACTIVITY_MART} where {where.sql}
            """,
            where.params,
        )[0]
        return {
            "input_tokens": int(input_tokens),
            "cache_read_tokens": int(cache_read),
            "cache_read_share": None if share is None else float(share),
            "cache_read_savings_usd": _cost(savings),
        }

    def session_pattern(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        """Sessions by local weekday x start hour, and the session-duration distribution."""
        where = self._where(org_id, filters, scope)
        by_slot = {
            (int(isodow), int(hour)): int(sessions)
            for isodow, hour, sessions in self._rows(
                f"""
                select start_isodow, start_hour, count(*) from {m.SESSION_STARTS_MART}
                where {where.sql} group by 1, 2
                """,
                where.params,
            )
        }
        by_bucket = dict(
            self._rows(
                f"select {m.DURATION_BUCKET}, count(*) from {m.SESSION_STARTS_MART} where {where.sql} group by 1",
                where.params,
            )
        )
        return {
            "weekday_hour": [
                {"weekday": weekday, "hour": hour, "sessions": by_slot.get((weekday, hour), 0)}
                for weekday in range(1, 8)
                for hour in range(24)
            ],
            "durations": [
                {"bucket": label, "sessions": int(by_bucket.get(index, 0))}
                for index, (label, _) in enumerate(m.DURATION_BUCKETS)
            ],
        }

    def agent_shares(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        """Each agent's share of the sessions (the by-agent answer plus `session_share`)."""
        agents = self.by_agent(org_id, filters, scope)["agents"]
        total = sum(agent["sessions"] for agent in agents)
        return {
            "agents": [{**agent, "session_share": agent["sessions"] / total if total else None} for agent in agents]
        }

    def by_project(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        """Projects by sessions (most used first), with tokens and cost."""
        rows = self._grouped(
            org_id,
            filters,
            scope,
            key="facts.project_id",
            label="projects.project_name",
            join="left join analytics.dim_projects as projects "
            "on projects.org_id = facts.org_id and projects.project_id = facts.project_id",
        )
        return {"projects": [{"project_id": key, "name": label, **figures} for key, label, figures in rows]}

    def by_person(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        """Per-person figures of the people with activity in the range (managers' and org reports)."""
        rows = self._grouped(
            org_id,
            filters,
            scope,
            key="facts.user_id",
            label="users.user_name",
            join=_USERS_JOIN,
        )
        return {"people": [{"user_id": key, "name": label, **figures} for key, label, figures in rows]}

    def by_team(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        """Per-team figures (team from the directory; null = users without a team or not in the directory)."""
        rows = self._grouped(org_id, filters, scope, key="users.team", label="null", join=_USERS_JOIN)
        return {"teams": [{"team": key, **figures} for key, _, figures in rows]}

    def data_quality(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        """What a reader should know about the data behind the figures.

        Unpriced requests follow the filters and scope. Quarantined lines cannot be attributed to an org or a
        person (they did not parse), so they are the warehouse total; the latest event time is the org's
        (how fresh the data is), which reveals nobody's activity.
        """
        quarantined, latest_utc, time_zone = self._org_data_quality(org_id)
        where = self._where(org_id, filters, scope)
        return {
            "unpriced_requests": self._unpriced_requests(where),
            "unpriced_models": self._unpriced_models(where),
            "quarantined_lines": int(quarantined),
            "latest_event_at_utc": None if latest_utc is None else latest_utc.isoformat(),
            "time_zone": time_zone,
        }

    def _unpriced_requests(self, where: _Where) -> int:
        """Model requests in the filtered rows whose model had no price (counted, not in any cost)."""
        return int(
            self._rows(f"select {m.UNPRICED_REQUESTS} from {m.ACTIVITY_MART} where {where.sql}", where.params)[0][0]
        )

    def _unpriced_models(self, where: _Where) -> list[dict]:
        """The model ids of those requests, most requests first: a reader can tell which price is missing."""
        rows = self._rows(
            f"select model, {m.UNPRICED_REQUESTS} from {m.MODEL_COSTS_MART} where {where.sql} "
            "group by model having sum(unpriced_requests) > 0 order by 2 desc, 1",
            where.params,
        )
        return [{"model": model, "requests": int(requests)} for model, requests in rows]

    def _org_data_quality(self, org_id: str) -> tuple[int, Any, str | None]:
        """Quarantined lines, the org's latest event and its zone: the same for every reader, so asked once per
        AnalyticsQueries (a report worker renders hundreds of reports over one)."""
        if org_id not in self._org_facts:
            quarantined = self._rows(f"select count(*) from {m.QUARANTINED_LINES}", [])[0][0]
            latest_utc, time_zone = self._rows(
                f"""
                select max(sessions.last_event_at_utc), any_value(orgs.time_zone)
                from analytics.dim_orgs as orgs
                left join {m.SESSIONS_FACT} as sessions on sessions.org_id = orgs.org_id
                    and cast(sessions.last_event_at_utc as date) between ? and ?
                where orgs.org_id = ?
                """,
                [DATE_WINDOW_START, DATE_WINDOW_END, org_id],
            )[0]
            self._org_facts[org_id] = (quarantined, latest_utc, time_zone)
        return self._org_facts[org_id]

    def org(self, org_id: str) -> dict | None:
        """The org's name and IANA time zone, or None when the warehouse does not know the org."""
        rows = self._rows("select org_id, org_name, time_zone from analytics.dim_orgs where org_id = ?", [org_id])
        return dict(zip(("org_id", "name", "time_zone"), rows[0])) if rows else None

    def org_ids(self) -> list[str]:
        return [row[0] for row in self._rows("select org_id from analytics.dim_orgs order by org_id", [])]

    # -- shared pieces ------------------------------------------------------------------------------------

    def activity_bounds(self, org_id: str) -> tuple[dt.date | None, dt.date | None]:
        """First and last activity date of the org within the date window (the default date range); asked once
        per AnalyticsQueries (the API makes one per request, so a refresh shows at the next request)."""
        if org_id not in self._activity_bounds:
            first, last = self._rows(
                f"""
                select min(activity_date), max(activity_date) from {m.ACTIVITY_MART}
                where org_id = ? and activity_date between ? and ?
                """,
                [org_id, DATE_WINDOW_START, DATE_WINDOW_END],
            )[0]
            self._activity_bounds[org_id] = (_as_date(first), _as_date(last))
        return self._activity_bounds[org_id]

    def date_range(self, org_id: str, filters: Filters) -> tuple[dt.date | None, dt.date | None]:
        """The range an answer covers: the filters' dates, a missing end being the org's first or last
        activity date (None when the org has no activity)."""
        if filters.date_from and filters.date_to:
            return filters.date_from, filters.date_to  # a report's charts: no need to ask the marts
        first, last = self.activity_bounds(org_id)
        return filters.date_from or first, filters.date_to or last

    def _grouped(
        self, org_id: str, filters: Filters, scope: Scope, *, key: str, label: str, join: str
    ) -> list[tuple[Any, Any, dict]]:
        """Activity figures grouped by one key (with a display label), busiest first; keys without any
        session or request are left out. The metric SQL of metrics.py runs unchanged over the joined rows."""
        where = self._where(org_id, filters, scope, alias="facts")
        rows = self._rows(
            f"""
            select group_key, any_value(group_label), {m.SESSIONS}, {m.COST_USD}, {m.TOTAL_TOKENS},
                   {m.AVG_SESSION_DURATION_SECONDS}, {m.AVG_COST_PER_SESSION_USD}, {m.UNIQUE_USERS}
            from (
                select facts.*, {key} as group_key, {label} as group_label
                from {m.ACTIVITY_MART} as facts
                {join}
                where {where.sql}
            ) as grouped
            group by group_key
            having {m.SESSIONS} > 0 or sum(model_requests) > 0
            order by 3 desc, 4 desc, group_key nulls last
            """,
            where.params,
        )
        return [
            (
                group,
                name,
                {
                    "sessions": int(sessions),
                    "total_cost_usd": _cost(cost),
                    "total_tokens": int(tokens),
                    "avg_duration_seconds": _duration(avg_duration),
                    "avg_cost_usd": _cost(avg_cost),
                    "active_users": int(users),
                },
            )
            for group, name, sessions, cost, tokens, avg_duration, avg_cost, users in rows
        ]

    def _where(self, org_id: str, filters: Filters, scope: Scope, alias: str = "") -> _Where:
        """The rows of a daily mart that the filters and the scope select; `alias` qualifies the columns."""
        prefix = f"{alias}." if alias else ""
        clauses = [f"{prefix}org_id = ?", f"{prefix}activity_date between ? and ?"]
        params: list[Any] = [
            org_id,
            max(filters.date_from or DATE_WINDOW_START, DATE_WINDOW_START),
            min(filters.date_to or DATE_WINDOW_END, DATE_WINDOW_END),
        ]
        for attribute, column in m.FILTER_COLUMNS.items():
            values = getattr(filters, attribute)
            if values:
                # OR within a dimension, AND across dimensions; rows with an unknown value never match.
                clauses.append(f"list_contains(cast(? as varchar[]), {prefix}{column})")
                params.append(list(values))
        if scope.user_ids is not None:
            clauses.append(f"list_contains(cast(? as varchar[]), {prefix}user_id)")
            params.append(sorted(scope.user_ids))
        return _Where(" and ".join(clauses), params)

    def _rows(self, sql: str, params: Iterable[Any]) -> list[tuple]:
        return self.conn.cursor().execute(sql, list(params)).fetchall()


_USERS_JOIN = "left join analytics.dim_users as users on users.org_id = facts.org_id and users.user_id = facts.user_id"


def period_count(first: dt.date | None, last: dt.date | None, interval: str) -> int:
    """How many points a timeseries of the range has (the days, or the ISO weeks it touches)."""
    if first is None or last is None or first > last:
        return 0  # an empty range (e.g. `from` after the last activity) has no periods, weekly or daily
    if interval == "week":
        first_monday, last_monday = (day - dt.timedelta(days=day.weekday()) for day in (first, last))
        return (last_monday - first_monday).days // 7 + 1
    return (last - first).days + 1


def _periods(first: dt.date | None, last: dt.date | None, interval: str) -> list[dt.date]:
    """Every period start from the period containing `first` to the one containing `last`."""
    count = period_count(first, last, interval)
    if not count:
        return []
    step = 1 if interval == "day" else 7
    start = first if interval == "day" else first - dt.timedelta(days=first.weekday())
    return [start + dt.timedelta(days=step * index) for index in range(count)]


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _cost(value: Any) -> float | None:
    """USD rounded half-up to COST_DECIMALS. Sums arrive as exact decimals from the marts, so a total is the
    same wherever it is shown; averages arrive as doubles and may differ from exact by one last unit."""
    if value is None:
        return None
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return float(exact.quantize(_COST_QUANTUM, rounding=ROUND_HALF_UP))


_COST_QUANTUM = Decimal(1).scaleb(-m.COST_DECIMALS)


def _duration(value: Any) -> float | None:
    return None if value is None else round(float(value), m.DURATION_DECIMALS)


def _metric_value(metric: str, value: Any) -> float | int:
    return _cost(value) if metric == "cost" else int(value)
