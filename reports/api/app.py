"""The analytics HTTP API: the four analytics answers over HTTP, for a bearer token's reader, within their scope.

    GET /{org_id}/sessions/analytics/summary | timeseries | by-agent | cost-breakdown

Each answer is the JSON object `session-analytics analytics ...` prints — both call the same
`reports.analytics.query.AnalyticsQueries` — limited to what the token's user may see (`reports.analytics.scope`);
`?format=csv` gives the CSV form (`reports.api.answer_csv`). Every request reads the published warehouse file as it
is at that moment (`reports.analytics.published`), so a refresh that replaces the file never makes a request fail.

Order of checks: token (401), org (403), parameters (422), users asked for (403). Every denial is logged on the
`reports.api` logger with who asked, for what and why.

The work of one request is bounded: dates lie in the date window (`reports.analytics.query.DATE_WINDOW_START/END`), an
asked range spans at most SESSION_ANALYTICS_API_MAX_RANGE_DAYS days, and a timeseries has at most
SESSION_ANALYTICS_API_MAX_PERIODS points, also when no dates are given (the org's whole history): more is a
422 naming `from`, never a silently shortened answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from reports.analytics.answers import ANSWER_SHAPES, Interval, TimeseriesMetric
from reports.analytics.published import PublishedWarehouse, WarehouseGeneration, WarehouseUnavailable
from reports.analytics.query import (
    DATE_WINDOW_END,
    DATE_WINDOW_START,
    AnalyticsQueries,
    Filters,
    QueryError,
    Scope,
    checked_date,
    period_count,
)
from reports.analytics.scope import Directory, ScopeError
from reports.api.answer_csv import answer_csv
from reports.api.budgets import budget_router
from reports.api.tokens import TokenRecord, TokenStore, TokenStoreError

log = logging.getLogger("reports.api")  # the package's logger, as before the move

MAX_RANGE_DAYS_ENV = "SESSION_ANALYTICS_API_MAX_RANGE_DAYS"
DEFAULT_MAX_RANGE_DAYS = 366
# Points of one timeseries answer: ten years of days (about 150 kB of JSON), whatever the range.
MAX_PERIODS_ENV = "SESSION_ANALYTICS_API_MAX_PERIODS"
DEFAULT_MAX_PERIODS = 3660
# Where `app_from_environment` (uvicorn workers) finds the paths that `session-analytics serve` resolved.
WAREHOUSE_ENV, TOKENS_ENV = "SESSION_ANALYTICS_WAREHOUSE", "SESSION_ANALYTICS_TOKENS"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FILTER_PARAMETERS = ("from", "to", "project", "repository", "agent", "user", "format")
_TIMESERIES_PARAMETERS = ("interval", "metric")


# -- errors -------------------------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    detail: str


class ParameterErrorBody(BaseModel):
    detail: str
    parameter: str


class ApiError(Exception):
    def __init__(self, status: int, detail: str, parameter: str | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.parameter, self.headers = status, detail, parameter, headers

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"detail": self.detail}
        if self.parameter is not None:
            body["parameter"] = self.parameter
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def _denied(status: int, request: Request, reason: str, token: TokenRecord | None = None) -> ApiError:
    """A 401/403, logged with who asked (token, user, client), for what (the URL) and why."""
    who = f"token {token.token_id} (user {token.user_id} of {token.org_id})" if token else "an unauthenticated client"
    client = request.client.host if request.client else "?"
    log.warning("denied %d: %s from %s asked %s: %s", status, who, client, request.url.path + _query(request), reason)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return ApiError(status, reason, headers=headers)


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


# -- settings and the app -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiSettings:
    warehouse: Path
    tokens: Path
    max_range_days: int = DEFAULT_MAX_RANGE_DAYS
    max_periods: int = DEFAULT_MAX_PERIODS

    @staticmethod
    def limits_from_environment() -> dict[str, int]:
        """The request limits set by environment variables (ValueError names a bad one)."""
        return {
            "max_range_days": _positive_whole_number(MAX_RANGE_DAYS_ENV, DEFAULT_MAX_RANGE_DAYS, "days"),
            "max_periods": _positive_whole_number(MAX_PERIODS_ENV, DEFAULT_MAX_PERIODS, "periods"),
        }


def _positive_whole_number(env_var: str, default: int, unit: str) -> int:
    text = os.environ.get(env_var, str(default))
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{env_var} must be a whole number of {unit} >= 1, got {text!r}")
    return int(text)


def app_from_environment() -> FastAPI:
    """The app for `uvicorn --factory` (one per worker process), configured by environment variables."""
    return create_app(
        ApiSettings(
            warehouse=Path(os.environ[WAREHOUSE_ENV]),
            tokens=Path(os.environ[TOKENS_ENV]),
            **ApiSettings.limits_from_environment(),
        )
    )


def create_app(settings: ApiSettings) -> FastAPI:
    app = FastAPI(
        title="Session analytics API",
        version="1",
        description=(
            "Usage and cost of AI coding assistant sessions, per org. Authenticate with a bearer token from "
            "`session-analytics tokens create --user ID`. A member sees their own data, a manager their team "
            "(direct and indirect reports, and themselves), an admin the whole org. Filters repeat: values of "
            "one filter are ORed, different filters are ANDed. Dates are local dates of the org's time zone, "
            f"both ends inclusive, from {DATE_WINDOW_START} to {DATE_WINDOW_END}; without them the range is the "
            "org's first to last activity date. A timeseries has at most SESSION_ANALYTICS_API_MAX_PERIODS points "
            f"(default {DEFAULT_MAX_PERIODS}), with or without dates."
        ),
    )
    app.state.settings = settings
    app.state.warehouse = PublishedWarehouse(settings.warehouse)
    app.state.tokens = TokenStore(settings.tokens)

    app.add_exception_handler(ApiError, lambda request, error: error.response())
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(WarehouseUnavailable, _unavailable)
    app.add_exception_handler(TokenStoreError, _unavailable)

    for question in ANSWER_SHAPES:
        app.add_api_route(
            f"/{{org_id}}/sessions/analytics/{question}",
            _endpoint(question),
            methods=["GET"],
            name=question,
            summary=_SUMMARIES[question],
            response_model=None,
            responses=_responses(question),
            tags=["analytics"],
        )
    app.add_api_route(
        "/health",
        _health,
        methods=["GET"],
        tags=["operations"],
        response_model=None,
        summary="Whether the warehouse can be read (no token needed, no data shown)",
        responses={503: {"model": ErrorBody}},
    )
    app.include_router(  # reports.api.budgets
        budget_router(authenticated_reader, _scope, _date, _denied, ApiError, (ErrorBody, ParameterErrorBody))
    )
    return app


_SUMMARIES = {
    "summary": "Totals: sessions, cost, tokens, average duration and cost per session, unique users",
    "timeseries": "One figure (sessions, cost or tokens) per day or ISO week, every period of the range",
    "by-agent": "Sessions, cost, tokens and averages per agent, most sessions first",
    "cost-breakdown": "Cost by model family, vendor, project and user, and the count of unpriced requests",
}


def _responses(question: str) -> dict:
    return {
        200: {
            "model": ANSWER_SHAPES[question],
            "description": "The answer; with `format=csv`, its CSV form (see the README for the columns)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        401: {"model": ErrorBody, "description": "No token, or a token that is unknown or revoked"},
        403: {"model": ErrorBody, "description": "Another org, or users outside the reader's scope"},
        422: {"model": ParameterErrorBody, "description": "A bad parameter; `parameter` names it"},
        503: {"model": ErrorBody, "description": "The warehouse or the token store cannot be read"},
    }


def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    first = error.errors()[0]
    # loc is ("query", name) or, for a repeatable parameter, ("query", name, index): name the parameter, not the index
    names = [part for part in first.get("loc", ())[1:] if isinstance(part, str)]
    parameter = names[-1] if names else "request"
    return ApiError(422, f"{parameter}: {first['msg']}", parameter).response()


def _unavailable(request: Request, error: Exception) -> JSONResponse:
    log.error("service unavailable: %s", error)
    return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "5"})


def _health(request: Request) -> dict:
    request.app.state.warehouse.current()
    return {"status": "ok"}


# -- the request pipeline -----------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="A token from `session-analytics tokens create`")


def authenticated_reader(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> TokenRecord:
    if credentials is None:
        raise _denied(401, request, "no bearer token (send `Authorization: Bearer <token>`)")
    token = request.app.state.tokens.authenticate(credentials.credentials)
    if token is None:
        raise _denied(401, request, "unknown token")
    if not token.active:
        raise _denied(401, request, f"token {token.token_id} was revoked at {token.revoked_at}", token)
    return token


@dataclass(frozen=True)
class _Parameters:
    """The query parameters shared by the four questions, as given."""

    date_from: str | None
    date_to: str | None
    projects: list[str]
    repositories: list[str]
    agents: list[str]
    users: list[str]
    format: Literal["json", "csv"]


def _parameters(
    date_from: Annotated[
        str | None,
        Query(
            alias="from",
            description="First local date, YYYY-MM-DD",
            json_schema_extra={"format": "date"},
            examples=["2026-11-01"],
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(
            alias="to",
            description="Last local date, YYYY-MM-DD, inclusive",
            json_schema_extra={"format": "date"},
            examples=["2026-11-30"],
        ),
    ] = None,
    project: Annotated[list[str], Query(description="Project id; repeat for several")] = [],
    repository: Annotated[list[str], Query(description="Repository; repeat for several")] = [],
    agent: Annotated[list[str], Query(description="Agent (e.g. claude-code); repeat for several")] = [],
    user: Annotated[
        list[str],
        Query(description="User id; repeat for several. Members may name only themselves, managers their team"),
    ] = [],
    format: Annotated[Literal["json", "csv"], Query(description="`csv` for the CSV form")] = "json",
) -> _Parameters:
    return _Parameters(date_from, date_to, project, repository, agent, user, format)


def _endpoint(question: str):
    """The route function of one question; timeseries adds `interval` and `metric`."""
    if question == "timeseries":

        def timeseries(
            request: Request,
            org_id: Annotated[str, PathParam(description="The org, as in the directory")],
            reader: Annotated[TokenRecord, Depends(authenticated_reader)],
            parameters: Annotated[_Parameters, Depends(_parameters)],
            interval: Annotated[Interval, Query(description="Period length (weeks start on Monday)")] = "day",
            metric: Annotated[TimeseriesMetric, Query(description="The figure per period")] = "sessions",
        ) -> Response:
            return _answer(request, question, org_id, reader, parameters, interval=interval, metric=metric)

        return timeseries

    def answer(
        request: Request,
        org_id: Annotated[str, PathParam(description="The org, as in the directory")],
        reader: Annotated[TokenRecord, Depends(authenticated_reader)],
        parameters: Annotated[_Parameters, Depends(_parameters)],
    ) -> Response:
        return _answer(request, question, org_id, reader, parameters)

    answer.__name__ = question.replace("-", "_")
    return answer


def _answer(
    request: Request, question: str, org_id: str, reader: TokenRecord, parameters: _Parameters, **options: str
) -> Response:
    if org_id != reader.org_id:
        raise _denied(403, request, f"the token is for org {reader.org_id!r}, not {org_id!r}", reader)
    _reject_unknown_parameters(request, question)
    settings: ApiSettings = request.app.state.settings
    warehouse: WarehouseGeneration = request.app.state.warehouse.current()
    queries = AnalyticsQueries(warehouse)  # type: ignore[arg-type]  # a generation hands out cursors
    try:
        filters = _filters(parameters)
        _check_range(queries, org_id, filters, settings, options.get("interval"))
        scope = _scope(request, warehouse, reader, filters)
        method = getattr(queries, question.replace("-", "_"))
        answer = method(org_id, filters, scope, **options)
    except QueryError as error:
        raise ApiError(422, str(error), error.parameter) from None
    if parameters.format == "csv":
        return Response(
            answer_csv(answer, ANSWER_SHAPES[question]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="{question}.csv"'},
        )
    return JSONResponse(answer)


def _reject_unknown_parameters(request: Request, question: str) -> None:
    known = _FILTER_PARAMETERS + (_TIMESERIES_PARAMETERS if question == "timeseries" else ())
    for name in request.query_params:
        if name not in known:
            raise ApiError(422, f"{name}: unknown parameter; known: {', '.join(known)}", name)


def _filters(parameters: _Parameters) -> Filters:
    return Filters(
        date_from=_date("from", parameters.date_from),
        date_to=_date("to", parameters.date_to),
        projects=tuple(parameters.projects),
        repositories=tuple(parameters.repositories),
        agents=tuple(parameters.agents),
        users=tuple(parameters.users),
    )


def _date(parameter: str, text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text) if _ISO_DATE.match(text) else None
    except ValueError:
        day = None
    if day is None:
        raise QueryError(parameter, f"not a date (YYYY-MM-DD): {text!r}")
    return checked_date(parameter, day)


def _check_range(
    queries: AnalyticsQueries, org_id: str, filters: Filters, settings: ApiSettings, interval: str | None
) -> None:
    """The range of the answer (a missing end is the org's first or last activity date) must fit the limits:
    at most `max_range_days` when dates are asked (the org's own activity needs no such limit), and for a
    timeseries (`interval` given) at most `max_periods` points, with or without dates."""
    asked = filters.date_from is not None or filters.date_to is not None
    if not asked and interval is None:
        return
    first, last = queries.date_range(org_id, filters)
    if first is None or last is None:
        return
    days = (last - first).days + 1
    if asked and days > settings.max_range_days:
        parameter = "to" if filters.date_to is not None else "from"
        raise QueryError(
            parameter,
            f"the range {first}..{last} spans {days} days; at most {settings.max_range_days} may be asked at once "
            f"({MAX_RANGE_DAYS_ENV})",
        )
    periods = 0 if interval is None else period_count(first, last, interval)
    if periods > settings.max_periods:
        raise QueryError(
            "from",
            f"the range {first}..{last} has {periods} {interval}s; a timeseries has at most "
            f"{settings.max_periods} points ({MAX_PERIODS_ENV}): give a later from (or an earlier to), "
            "or interval=week",
        )


def _scope(request: Request, warehouse: WarehouseGeneration, reader: TokenRecord, filters: Filters) -> Scope:
    """What the reader may see, by their role in the directory now; 403 when they ask for more."""
    directory: Directory = warehouse.memoized(
        ("directory", reader.org_id),
        lambda: Directory.load(warehouse, reader.org_id),  # type: ignore[arg-type]
    )
    try:
        scope = directory.visible_scope(reader.user_id)
    except ScopeError as error:
        raise _denied(403, request, str(error), reader) from None
    if scope.user_ids is not None:
        outside = sorted(set(filters.users) - scope.user_ids)
        if outside:
            role = directory.get(reader.user_id).role
            raise _denied(
                403, request, f"user {', '.join(outside)} is outside what a {role} ({reader.user_id}) may see", reader
            )
    return scope
