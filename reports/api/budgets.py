"""The budget and anomaly answers over HTTP (docs/budgets.md), on the analytics app:

    GET /{org_id}/sessions/analytics/budgets     ?as_of&scope&user&team&project&format
    GET /{org_id}/sessions/analytics/anomalies   ?from&to&kind&user&project&agent&format

The same token, org check, scope rules and errors as the four questions of `reports.api.app`, which passes its
request pipeline in (`budget_router(...)`: this module cannot import the app, which includes it). What a reader
sees: `reports.analytics.budgets`. Asking for a user outside the reader's scope, or a team whose budget they may
not see, is a 403, as in the other answers.
"""

# No `from __future__ import annotations`: the routes' parameter types are built inside budget_router, where
# FastAPI could not resolve them from strings.
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from reports.analytics.budgets import (
    AnomalyFilters,
    BudgetFilters,
    BudgetQueries,
    team_members,
)
from reports.analytics.query import Filters, QueryError, Scope
from reports.analytics.scope import Directory
from reports.api.answer_csv import answer_csv

BudgetScope = Literal["org", "team", "user", "project"]
EntityKind = Literal["user", "project", "agent"]
Status = Literal["ok", "warning", "projected_over", "over"]
_PARAMETERS = {
    "budgets": ("as_of", "scope", "user", "team", "project", "format"),
    "anomalies": ("from", "to", "kind", "user", "project", "agent", "format"),
}


class Contributor(BaseModel):
    kind: Literal["user", "project"] = Field(description="a user budget's projects; the people of the others")
    id: str
    name: str
    cost_usd: float


class BudgetFigures(BaseModel):
    scope: BudgetScope
    scope_id: str = Field(description="the org id, team name, user id or project id")
    name: str
    period: Literal["month", "week"]
    period_start: str
    period_end: str
    as_of_date: str = Field(description="the local date the figures stand at (whole day counted)")
    days_elapsed: int
    days_in_period: int
    amount_usd: float
    warn_at: float
    spend_usd: float
    forecast_usd: float = Field(description="spend + each remaining day at its weekday's trailing-four-week average")
    spend_share: float
    forecast_share: float
    status: Status
    top_contributors: list[Contributor] = Field(description="at most three, within the reader's scope")


class Budgets(BaseModel):
    budgets: list[BudgetFigures]


class AnomalyFigures(BaseModel):
    kind: EntityKind
    id: str
    name: str
    date: str
    cost_usd: float
    usual_cost_usd: float = Field(description="median of the same weekday over the trailing weeks")
    baseline_weeks: int
    cost_ratio: float | None = Field(description="cost / usual; null when the usual cost is 0")
    model_requests: int
    sessions: int
    top_model: str | None
    top_model_share: float | None
    long_context_share: float | None
    uncached_input_share: float | None
    explanation: str


class Anomalies(BaseModel):
    anomalies: list[AnomalyFigures]


SHAPES: dict[str, type[BaseModel]] = {"budgets": Budgets, "anomalies": Anomalies}
_SUMMARIES = {
    "budgets": "Each budget's spend so far, forecast to the period's end and status, within the reader's scope",
    "anomalies": "Days whose cost was far above the usual level of a user (project, agent: admins), explained",
}


def budget_router(
    authenticated_reader: Callable,
    scope_of: Callable[[Request, object, object, Filters], Scope],
    parse_date: Callable[[str, str | None], dt.date | None],
    denied: Callable[..., Exception],
    api_error: Callable[..., Exception],
    error_bodies: tuple[type[BaseModel], type[BaseModel]],
) -> APIRouter:
    """The two routes, with the app's pipeline: `authenticated_reader` (a dependency giving the token's record),
    `scope_of(request, warehouse, reader, filters)` (the reader's scope, 403 for users outside it),
    `parse_date(parameter, text)` (a date of the date window, QueryError otherwise), `denied(status, request,
    reason, reader)`, `api_error(status, detail, parameter)` and the app's error bodies (plain, and with the
    parameter) for the documented responses."""
    router = APIRouter(tags=["budgets"])
    error_body, parameter_error_body = error_bodies

    def responses(shape: type[BaseModel]) -> dict:
        return {
            200: {
                "model": shape,
                "description": "The answer; with `format=csv`, its CSV form",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            },
            401: {"model": error_body, "description": "No token, or a token that is unknown or revoked"},
            403: {"model": error_body, "description": "Another org, or users or teams outside the reader's scope"},
            422: {"model": parameter_error_body, "description": "A bad parameter; `parameter` names it"},
            503: {"model": error_body, "description": "The warehouse or the token store cannot be read"},
        }

    Reader = Annotated[object, Depends(authenticated_reader)]
    OrgId = Annotated[str, PathParam(description="The org, as in the directory")]
    Format = Annotated[Literal["json", "csv"], Query(description="`csv` for the CSV form")]

    def context(request: Request, question: str, org_id: str, reader, users: list[str]):
        if org_id != reader.org_id:
            raise denied(403, request, f"the token is for org {reader.org_id!r}, not {org_id!r}", reader)
        for name in request.query_params:
            if name not in _PARAMETERS[question]:
                known = ", ".join(_PARAMETERS[question])
                raise api_error(422, f"{name}: unknown parameter; known: {known}", name)
        warehouse = request.app.state.warehouse.current()
        scope = scope_of(request, warehouse, reader, Filters(users=tuple(users)))
        directory: Directory = warehouse.memoized(
            ("directory", reader.org_id), lambda: Directory.load(warehouse, reader.org_id)
        )
        return warehouse, scope, directory

    def respond(question: str, answer: dict, format: str) -> Response:
        if format == "csv":
            return Response(
                answer_csv(answer, SHAPES[question]),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'inline; filename="{question}.csv"'},
            )
        return JSONResponse(answer)

    @router.get(
        "/{org_id}/sessions/analytics/budgets",
        name="budgets",
        summary=_SUMMARIES["budgets"],
        response_model=None,
        responses=responses(Budgets),
    )
    def budgets(
        request: Request,
        org_id: OrgId,
        reader: Reader,
        as_of: Annotated[
            str | None, Query(description="Local date YYYY-MM-DD the figures stand at (default: the latest day)")
        ] = None,
        scope: Annotated[list[BudgetScope], Query(description="org, team, user or project; repeat")] = [],
        user: Annotated[list[str], Query(description="User budgets of these user ids; repeat")] = [],
        team: Annotated[list[str], Query(description="Team budgets of these teams; repeat")] = [],
        project: Annotated[list[str], Query(description="Project budgets of these project ids; repeat")] = [],
        format: Format = "json",
    ) -> Response:
        warehouse, reader_scope, directory = context(request, "budgets", org_id, reader, user)
        if reader_scope.user_ids is not None:
            for name in team:
                members = team_members(directory, name)
                if not members or not members <= reader_scope.user_ids:
                    raise denied(403, request, f"the budget of team {name!r} is outside what they may see", reader)
        try:
            filters = BudgetFilters(
                as_of=parse_date("as_of", as_of),
                budget_scopes=tuple(scope),
                users=tuple(user),
                teams=tuple(team),
                projects=tuple(project),
            )
        except QueryError as error:
            raise api_error(422, str(error), error.parameter) from None
        answer = BudgetQueries(warehouse).budgets(org_id, directory, reader_scope, filters)
        return respond("budgets", answer, format)

    @router.get(
        "/{org_id}/sessions/analytics/anomalies",
        name="anomalies",
        summary=_SUMMARIES["anomalies"],
        response_model=None,
        responses=responses(Anomalies),
    )
    def anomalies(
        request: Request,
        org_id: OrgId,
        reader: Reader,
        date_from: Annotated[str | None, Query(alias="from", description="First local date, YYYY-MM-DD")] = None,
        date_to: Annotated[str | None, Query(alias="to", description="Last local date, inclusive")] = None,
        kind: Annotated[list[EntityKind], Query(description="user, project or agent; repeat")] = [],
        user: Annotated[list[str], Query(description="Anomalies of these user ids; repeat")] = [],
        project: Annotated[list[str], Query(description="Anomalies of these project ids; repeat")] = [],
        agent: Annotated[list[str], Query(description="Anomalies of these agents; repeat")] = [],
        format: Format = "json",
    ) -> Response:
        warehouse, reader_scope, directory = context(request, "anomalies", org_id, reader, user)
        try:
            first, last = parse_date("from", date_from), parse_date("to", date_to)
            if first and last and first > last:
                raise QueryError("from", f"{first} is after to={last}")
        except QueryError as error:
            raise api_error(422, str(error), error.parameter) from None
        filters = AnomalyFilters(first, last, tuple(kind), tuple(user), tuple(project), tuple(agent))
        answer = BudgetQueries(warehouse).anomalies(org_id, directory, reader_scope, filters)
        return respond("anomalies", answer, format)

    return router
