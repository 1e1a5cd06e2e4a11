"""Budgets and cost anomalies as a reader may see them: the queries behind the API's `budgets` and `anomalies`
answers, the reports' "What changed this week" section and the alert emails (docs/budgets.md).

The figures come from the marts (`analytics.mart_budget_status`, `analytics.mart_cost_anomalies`); who may see
which comes from the directory, as for every other answer (`reports.analytics.scope`):

- a member sees their own user budget and their own anomalies;
- a manager sees the user budgets and anomalies of the people in their scope (themselves and their direct and
  indirect reports) and the budget of every team whose members (as the directory lists them now) are all in it;
- an admin sees every budget (org, team, user, project) and every anomaly (user, project, agent).

Project and agent anomalies, and org and project budgets, add up everyone's cost: only admins see them. A budget's
top contributors are always limited to the reader's scope, so no answer names anyone outside it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from reports.analytics import formatting as fmt
from reports.analytics.query import Scope, _cost
from reports.analytics.scope import Directory

BUDGETS_MART = "analytics.mart_budget_status"
ANOMALIES_MART = "analytics.mart_cost_anomalies"
ACTIVITY_MART = "analytics.mart_daily_activity"
BUDGET_SCOPES = ("org", "team", "user", "project")
ENTITY_KINDS = ("user", "project", "agent")
STATUSES = ("ok", "warning", "projected_over", "over")
STATUS_LABELS = {"ok": "on track", "warning": "warning", "projected_over": "projected over", "over": "over budget"}
TOP_CONTRIBUTORS = 3
WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")

_BUDGET_COLUMNS = (
    "budget_key",
    "budget_scope",
    "scope_id",
    "period",
    "period_start",
    "period_end",
    "as_of_date",
    "days_elapsed",
    "days_in_period",
    "amount_usd",
    "warn_at",
    "spend_usd",
    "forecast_usd",
    "spend_share",
    "forecast_share",
    "status",
)
_ANOMALY_COLUMNS = (
    "anomaly_key",
    "entity_kind",
    "entity_id",
    "anomaly_date",
    "iso_day_of_week",
    "cost_usd",
    "baseline_median_usd",
    "baseline_weeks",
    "cost_ratio",
    "model_requests",
    "sessions",
    "top_model",
    "top_model_cost_share",
    "long_context_cost_share",
    "uncached_input_share",
)


@dataclass(frozen=True)
class BudgetFilters:
    """What a reader asks for: the day the figures stand at (None = the latest), and budgets of these scopes,
    users, teams and projects only (empty = all they may see)."""

    as_of: dt.date | None = None
    budget_scopes: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnomalyFilters:
    """Anomalies on local dates date_from..date_to (None = no bound) of these kinds and entities (empty = all)."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kinds: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()


class BudgetQueries:
    """Budget and anomaly answers over one open warehouse connection (read-only is enough)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection):
        self.conn = conn

    # -- budgets ---------------------------------------------------------------------------------------------

    def budgets(
        self, org_id: str, directory: Directory, scope: Scope, filters: BudgetFilters = BudgetFilters()
    ) -> dict:
        """Each visible budget's period as of `filters.as_of` (its latest day on or before it; the org's latest
        day without one), most spent share first, with its top contributors within `scope`."""
        date_clause = "is_latest" if filters.as_of is None else "as_of_date <= ?"
        rows = self._rows(
            f"""
            select {", ".join(_BUDGET_COLUMNS)}
            from {BUDGETS_MART}
            where org_id = ? and {date_clause}
            qualify row_number() over (partition by budget_key order by as_of_date desc) = 1
            """,
            [org_id] + ([] if filters.as_of is None else [filters.as_of]),
        )
        budgets = []
        for row in rows:
            budget = dict(zip(_BUDGET_COLUMNS, row))
            if not visible_budget(budget["budget_scope"], budget["scope_id"], org_id, directory, scope):
                continue
            if not _selected(budget, filters):
                continue
            budgets.append(budget)
        budgets.sort(key=lambda b: (-b["spend_share"], BUDGET_SCOPES.index(b["budget_scope"]), b["scope_id"]))
        return {"budgets": [self._budget_answer(org_id, directory, scope, budget) for budget in budgets]}

    def _budget_answer(self, org_id: str, directory: Directory, scope: Scope, budget: dict) -> dict:
        return {
            "scope": budget["budget_scope"],
            "scope_id": budget["scope_id"],
            "name": self._scope_name(org_id, directory, budget["budget_scope"], budget["scope_id"]),
            "period": budget["period"],
            "period_start": budget["period_start"].isoformat(),
            "period_end": budget["period_end"].isoformat(),
            "as_of_date": budget["as_of_date"].isoformat(),
            "days_elapsed": int(budget["days_elapsed"]),
            "days_in_period": int(budget["days_in_period"]),
            "amount_usd": _cost(budget["amount_usd"]),
            "warn_at": float(budget["warn_at"]),
            "spend_usd": _cost(budget["spend_usd"]),
            "forecast_usd": _cost(budget["forecast_usd"]),
            "spend_share": round(float(budget["spend_share"]), 6),
            "forecast_share": round(float(budget["forecast_share"]), 6),
            "status": budget["status"],
            "top_contributors": self._contributors(org_id, directory, scope, budget),
        }

    def _contributors(self, org_id: str, directory: Directory, scope: Scope, budget: dict) -> list[dict]:
        """The budget's biggest spenders in the period so far, within the reader's scope: a user budget's projects,
        the people of the other budgets."""
        kind, scope_id = budget["budget_scope"], budget["scope_id"]
        clauses = ["facts.org_id = ?", "facts.activity_date between ? and ?"]
        params: list[Any] = [org_id, budget["period_start"], budget["as_of_date"]]
        if kind == "user":
            clauses.append("facts.user_id = ?")
            params.append(scope_id)
        elif kind == "project":
            clauses.append("facts.project_id = ?")
            params.append(scope_id)
        elif kind == "team":
            members = sorted(p.user_id for p in directory.people.values() if p.team == scope_id)
            clauses.append("list_contains(cast(? as varchar[]), facts.user_id)")
            params.append(members)
        if scope.user_ids is not None:
            clauses.append("list_contains(cast(? as varchar[]), facts.user_id)")
            params.append(sorted(scope.user_ids))
        column = "project_id" if kind == "user" else "user_id"
        rows = self._rows(
            f"""
            select facts.{column}, sum(facts.cost_usd) as cost_usd
            from {ACTIVITY_MART} as facts
            where {" and ".join(clauses)} and facts.{column} is not null
            group by facts.{column}
            having sum(facts.cost_usd) > 0
            order by 2 desc, 1
            limit {TOP_CONTRIBUTORS}
            """,
            params,
        )
        contributor_kind = "project" if kind == "user" else "user"
        return [
            {
                "kind": contributor_kind,
                "id": key,
                "name": self._scope_name(org_id, directory, contributor_kind, key),
                "cost_usd": _cost(cost),
            }
            for key, cost in rows
        ]

    # -- anomalies -------------------------------------------------------------------------------------------

    def anomalies(
        self, org_id: str, directory: Directory, scope: Scope, filters: AnomalyFilters = AnomalyFilters()
    ) -> dict:
        """The visible anomalies of the dates, latest first (then the largest cost), each with its explanation."""
        clauses, params = ["org_id = ?"], [org_id]
        if filters.date_from:
            clauses.append("anomaly_date >= ?")
            params.append(filters.date_from)
        if filters.date_to:
            clauses.append("anomaly_date <= ?")
            params.append(filters.date_to)
        rows = self._rows(
            f"select {', '.join(_ANOMALY_COLUMNS)} from {ANOMALIES_MART} where {' and '.join(clauses)} "
            "order by anomaly_date desc, cost_usd desc, entity_kind, entity_id",
            params,
        )
        answers = []
        for row in rows:
            anomaly = dict(zip(_ANOMALY_COLUMNS, row))
            kind, entity_id = anomaly["entity_kind"], anomaly["entity_id"]
            if not visible_anomaly(kind, entity_id, scope):
                continue
            wanted = {"user": filters.users, "project": filters.projects, "agent": filters.agents}[kind]
            if (filters.kinds and kind not in filters.kinds) or (wanted and entity_id not in wanted):
                continue
            if any((filters.users, filters.projects, filters.agents)) and not wanted:
                continue  # asked for some entities: other kinds' anomalies are not theirs
            answers.append(self._anomaly_answer(org_id, directory, anomaly))
        return {"anomalies": answers}

    def _anomaly_answer(self, org_id: str, directory: Directory, anomaly: dict) -> dict:
        answer = {
            "kind": anomaly["entity_kind"],
            "id": anomaly["entity_id"],
            "name": self._scope_name(org_id, directory, anomaly["entity_kind"], anomaly["entity_id"]),
            "date": anomaly["anomaly_date"].isoformat(),
            "cost_usd": _cost(anomaly["cost_usd"]),
            "usual_cost_usd": _cost(anomaly["baseline_median_usd"]),
            "baseline_weeks": int(anomaly["baseline_weeks"]),
            "cost_ratio": None if anomaly["cost_ratio"] is None else round(float(anomaly["cost_ratio"]), 2),
            "model_requests": int(anomaly["model_requests"]),
            "sessions": int(anomaly["sessions"]),
            "top_model": anomaly["top_model"],
            "top_model_share": _share(anomaly["top_model_cost_share"]),
            "long_context_share": _share(anomaly["long_context_cost_share"]),
            "uncached_input_share": _share(anomaly["uncached_input_share"]),
        }
        answer["explanation"] = explanation(answer, WEEKDAYS[int(anomaly["iso_day_of_week"]) - 1])
        return answer

    # -- shared --------------------------------------------------------------------------------------------

    def latest_day(self, org_id: str) -> dt.date | None:
        """The org's latest activity date: the day the current budget figures stand at."""
        rows = self._rows(f"select max(activity_date) from {ACTIVITY_MART} where org_id = ?", [org_id])
        return rows[0][0] if rows else None

    def _scope_name(self, org_id: str, directory: Directory, kind: str, key: str) -> str:
        """What to call a budget's or anomaly's subject: a person's or project's name, a team's, the org's."""
        if kind == "user":
            person = directory.people.get(key)
            return person.display_name if person else fmt.display_text(key)
        if kind == "project":
            rows = self._rows(
                "select project_name from analytics.dim_projects where org_id = ? and project_id = ?", [org_id, key]
            )
            return fmt.display_text((rows[0][0] if rows else None) or key)
        if kind == "org":
            rows = self._rows("select org_name from analytics.dim_orgs where org_id = ?", [org_id])
            return fmt.display_text((rows[0][0] if rows else None) or key)
        return fmt.display_text(key)  # a team's name, an agent

    def _rows(self, sql: str, params: list[Any]) -> list[tuple]:
        return self.conn.cursor().execute(sql, params).fetchall()


def team_members(directory: Directory, team: str) -> frozenset[str]:
    """The people the directory lists in `team` now."""
    return frozenset(person.user_id for person in directory.people.values() if person.team == team)


def visible_budget(kind: str, scope_id: str, org_id: str, directory: Directory, scope: Scope) -> bool:
    """Whether a reader of `scope` may see a budget (see the module docstring)."""
    if scope.user_ids is None:
        return True
    if kind == "user":
        return scope_id in scope.user_ids
    if kind == "team":
        members = team_members(directory, scope_id)
        return bool(members) and members <= scope.user_ids
    return False  # org and project budgets add up everyone's spend


def visible_anomaly(kind: str, entity_id: str, scope: Scope) -> bool:
    """Whether a reader of `scope` may see an anomaly: admins all, others the user anomalies of their scope."""
    if scope.user_ids is None:
        return True
    return kind == "user" and entity_id in scope.user_ids


def explanation(anomaly: dict, weekdays: str) -> str:
    """One sentence from the anomaly's figures, e.g. "62.0x usual ($62.00 against $1.00 on Wednesdays); 97% from
    acme-coder-max, 97% from long-context requests, 100% of input tokens uncached; 2 sessions, 6 requests"."""
    usual = anomaly["usual_cost_usd"]
    if anomaly["cost_ratio"] is not None:
        cost = fmt.usd(anomaly["cost_usd"])
        level = f"{anomaly['cost_ratio']:.1f}x usual ({cost} against {fmt.usd(usual)} on {weekdays})"
    else:
        level = f"{fmt.usd(anomaly['cost_usd'])}, usually nothing on {weekdays}"
    causes = []
    if anomaly["top_model"]:
        causes.append(f"{fmt.percent(anomaly['top_model_share'], 0)} from {fmt.display_text(anomaly['top_model'])}")
    if anomaly["long_context_share"]:
        causes.append(f"{fmt.percent(anomaly['long_context_share'], 0)} from long-context requests")
    if anomaly["uncached_input_share"] is not None:
        causes.append(f"{fmt.percent(anomaly['uncached_input_share'], 0)} of input tokens uncached")
    activity = (
        f"{anomaly['sessions']} session{'s' if anomaly['sessions'] != 1 else ''}, "
        f"{anomaly['model_requests']} request{'s' if anomaly['model_requests'] != 1 else ''}"
    )
    return "; ".join(part for part in (level, ", ".join(causes), activity) if part)


def _selected(budget: dict, filters: BudgetFilters) -> bool:
    if filters.budget_scopes and budget["budget_scope"] not in filters.budget_scopes:
        return False
    asked = {"user": filters.users, "team": filters.teams, "project": filters.projects}
    if any(asked.values()):
        return budget["scope_id"] in asked.get(budget["budget_scope"], ())
    return True


def _share(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)
