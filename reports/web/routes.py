"""The dashboard's routes on the analytics app (`session-analytics serve`): sign-in, the three views, their
fragments and CSV downloads.

    GET  /                                  sign-in page (one field: an API token)
    POST /signin, /signout                  CSRF-protected forms
    GET  /{org_id}/dashboard                overview            (?from&to&project&repository&agent&user&interval&metric)
    GET  /{org_id}/dashboard/people         people (managers: their team; admins: everyone)
    GET  /{org_id}/dashboard/person?user=ID a person's page (members: only their own)
    GET  /{org_id}/dashboard/fragment/timeseries   the overview's chart panel (htmx)
    GET  /{org_id}/dashboard/csv/{question} the API's CSV of summary|timeseries|by-agent|cost-breakdown|budgets|
                                            anomalies, or `people`
    GET  /dashboard-static/...              CSS, JS and the vendored libraries (reports/web/static)

A signed-in request carries only a session cookie (HttpOnly, SameSite=Strict, `Secure` over HTTPS); the session
lives on the server (`reports.web.sessions`). Order of checks, as the API's: session (401, with the sign-in page),
org (403), parameters (422), users asked for (403). Scope comes from the directory at each request, exactly as for
the API, and every figure from `reports.analytics`.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports.analytics import formatting as fmt
from reports.analytics.answers import ANSWER_SHAPES
from reports.analytics.budgets import BudgetQueries
from reports.analytics.dashboard import DashboardQueries
from reports.analytics.query import QueryError
from reports.analytics.scope import Directory, ScopeError
from reports.api.answer_csv import answer_csv
from reports.api.budgets import SHAPES as BUDGET_SHAPES
from reports.api.tokens import TokenStore
from reports.web import views
from reports.web.sessions import SessionStore, sessions_file_for

log = logging.getLogger("reports.web")

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
VENDOR_FILES = ("vendor/htmx.min.js", "vendor/echarts.min.js")
STATIC_PREFIX = "/dashboard-static"
SESSION_COOKIE = "sa_dashboard"
SIGNIN_COOKIE = "sa_signin"  # the sign-in form's CSRF token (double submit), before there is a session
_FORM_MAX_BYTES = 4096

router = APIRouter(include_in_schema=False)


def add_dashboard(app: FastAPI) -> FastAPI:
    """Mount the dashboard on the analytics app; it shares the app's warehouse, token store and limits."""
    app.state.dashboard_sessions = SessionStore(sessions_file_for(app.state.tokens.path))
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR, check_dir=False), name="dashboard-static")
    return app


def assets_missing() -> list[str]:
    return [name for name in VENDOR_FILES if not (STATIC_DIR / name).is_file()]


# -- templates -------------------------------------------------------------------------------------------------

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters.update(
    usd=fmt.usd,
    integer=fmt.integer,
    compact=fmt.compact,
    duration=fmt.duration,
    percent=fmt.percent,
    num=lambda value: "" if value is None else json.dumps(value),
)


def _chart_json(chart: views.Chart) -> Markup:
    # JSON inside <script type="application/json">: `<`, `>` and `&` escaped, so no name can close the element.
    text = json.dumps(chart.spec(), ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


_templates.globals.update(chart_json=_chart_json, static=STATIC_PREFIX)


def _page(template: str, status: int = 200, **context) -> HTMLResponse:
    body = _templates.get_template(template).render(assets_missing=assets_missing(), **context)
    return HTMLResponse(body, status_code=status, headers=_PAGE_HEADERS)


_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


# -- sessions --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """A signed-in request: the reader (role and scope from the directory now) and the session's CSRF token."""

    reader: views.Reader
    csrf_token: str
    queries: DashboardQueries
    directory: Directory

    @property
    def budget_queries(self) -> BudgetQueries:
        return BudgetQueries(self.queries.conn)


class _Denied(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def _signed_in(request: Request, org_id: str) -> Signed:
    sessions: SessionStore = request.app.state.dashboard_sessions
    session = sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise _Denied(401, "not signed in (or the session expired)")
    tokens: TokenStore = request.app.state.tokens
    token = tokens.get(session.token_id)
    if token is None or not token.active:
        sessions.delete(request.cookies.get(SESSION_COOKIE, ""))
        raise _Denied(401, f"token {session.token_id} was revoked")
    if org_id != session.org_id:
        raise _Denied(403, f"the session is for org {session.org_id!r}, not {org_id!r}")
    warehouse = request.app.state.warehouse.current()
    directory: Directory = warehouse.memoized(("directory", org_id), lambda: Directory.load(warehouse, org_id))
    try:
        scope = directory.visible_scope(session.user_id)
    except ScopeError as error:
        raise _Denied(403, str(error)) from None
    queries = DashboardQueries(warehouse)  # type: ignore[arg-type]  # a generation hands out cursors
    org = warehouse.memoized(("org", org_id), lambda: queries.org(org_id)) or {}
    person = directory.get(session.user_id)
    reader = views.Reader(
        session.user_id,
        person.display_name,
        person.role or "",
        scope,
        org_id,
        fmt.display_text(org.get("name") or org_id),
        org.get("time_zone") or "UTC",
    )
    return Signed(reader, session.csrf_token, queries, directory)


def _denied_response(request: Request, denied: _Denied, page: bool) -> Response:
    client = request.client.host if request.client else "?"
    log.warning("dashboard denied %d from %s for %s: %s", denied.status, client, request.url.path, denied.reason)
    if not page:
        return Response(denied.reason, status_code=denied.status, media_type="text/plain; charset=utf-8")
    if denied.status == 401:
        response = _signin_page(request, status=401, message="Please sign in.", next_url=_this_url(request))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return _page("error.html.j2", status=denied.status, title="Not allowed", message=denied.reason)


def _this_url(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _safe_next(next_url: str | None, org_id: str) -> str:
    """Where to go after signing in: a dashboard path of the reader's org, else the overview."""
    default = f"/{quote(org_id, safe='')}/dashboard"
    if not next_url or not next_url.startswith(default) or "\\" in next_url or "//" in next_url:
        return default
    rest = next_url[len(default) :]
    return next_url if rest == "" or rest[0] in "/?" else default


# -- sign-in and sign-out --------------------------------------------------------------------------------------


def _signin_page(request: Request, status: int = 200, message: str | None = None, next_url: str = "") -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    response = _page("signin.html.j2", status=status, csrf_token=csrf, message=message, next_url=next_url)
    response.set_cookie(SIGNIN_COOKIE, csrf, httponly=True, samesite="strict", secure=_https(request), path="/")
    return response


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > _FORM_MAX_BYTES:
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


@router.get("/", response_class=HTMLResponse)
def signin_form(request: Request, next: str = "") -> Response:
    sessions: SessionStore = request.app.state.dashboard_sessions
    session = sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        return RedirectResponse(_safe_next(next, session.org_id), status_code=303)
    return _signin_page(request, next_url=next)


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await _form(request)
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, form.get("csrf_token", "")):
        log.warning("dashboard sign-in refused: CSRF token missing or wrong")
        return _page("error.html.j2", status=403, title="Sign-in refused", message="The form expired; reload the page.")
    tokens: TokenStore = request.app.state.tokens
    token = tokens.authenticate(form.get("token", "").strip())
    if token is None or not token.active:
        log.warning("dashboard sign-in refused: %s token", "revoked" if token else "unknown")
        return _signin_page(request, status=401, message="That token is not valid.", next_url=form.get("next", ""))
    warehouse = request.app.state.warehouse.current()
    try:
        Directory.load(warehouse, token.org_id).visible_scope(token.user_id)
    except ScopeError as error:
        log.warning("dashboard sign-in refused for token %s: %s", token.token_id, error)
        return _signin_page(request, status=403, message="This account may not see any data.")
    secret, session = request.app.state.dashboard_sessions.create(token.token_id, token.org_id, token.user_id)
    log.info("dashboard sign-in: token %s (user %s of %s)", token.token_id, token.user_id, token.org_id)
    response = RedirectResponse(_safe_next(form.get("next"), token.org_id), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(request.app.state.dashboard_sessions.lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_https(request),
        path="/",
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    form = await _form(request)
    sessions: SessionStore = request.app.state.dashboard_sessions
    cookie = request.cookies.get(SESSION_COOKIE, "")
    session = sessions.get(cookie)
    if session is None:
        return RedirectResponse("/", status_code=303)
    if not hmac.compare_digest(session.csrf_token, form.get("csrf_token", "")):
        log.warning("dashboard sign-out refused: CSRF token missing or wrong (user %s)", session.user_id)
        return _page(
            "error.html.j2", status=403, title="Sign-out refused", message="The form expired; reload the page."
        )
    sessions.delete(cookie)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- the views -------------------------------------------------------------------------------------------------


def _limits(request: Request) -> views.Limits:
    settings = request.app.state.settings
    return views.Limits(settings.max_range_days, settings.max_periods)


def _view(request: Request, org_id: str, allowed: tuple[str, ...], page: bool = True):
    """The signed-in reader and the checked query string, or the response that refuses them."""
    try:
        signed = _signed_in(request, org_id)
    except _Denied as denied:
        return None, None, _denied_response(request, denied, page)
    try:
        asked = views.parse_query(list(request.query_params.multi_items()), allowed)
        views.check_range(signed.queries, org_id, asked.filters, _limits(request), asked.interval)
    except QueryError as error:
        return signed, None, _bad_parameter(signed, error, page)
    try:
        views.check_users(signed.reader, asked.filters.users)
    except views.Forbidden as error:
        return signed, None, _denied_response(request, _Denied(403, str(error)), page)
    return signed, asked, None


def _bad_parameter(signed: Signed, error: QueryError, page: bool) -> Response:
    if not page:
        return Response(str(error), status_code=422, media_type="text/plain; charset=utf-8")
    return _page(
        "error.html.j2", status=422, title="That filter cannot be shown", message=str(error), **_chrome(signed)
    )


def _chrome(signed: Signed) -> dict:
    reader = signed.reader
    base = f"/{quote(reader.org_id, safe='')}/dashboard"
    return {"reader": reader, "csrf_token": signed.csrf_token, "base": base}


def _options(signed: Signed) -> views.FilterOptions:
    reader = signed.reader
    warehouse = signed.queries.conn
    key = ("dashboard-options", reader.org_id, reader.scope.user_ids)
    return warehouse.memoized(  # type: ignore[attr-defined]
        key, lambda: views.filter_options(signed.queries, signed.directory, reader.org_id, reader.scope)
    )


def _filter_context(signed: Signed, asked: views.Asked, action: str, user_filter: bool = True) -> dict:
    options = _options(signed)
    return {
        "asked": asked,
        "action": action,
        "options": options,
        "user_filter": user_filter and signed.reader.sees_others,
        "presets": views.presets(signed.reader.time_zone),
    }


@router.get("/{org_id}/dashboard", response_class=HTMLResponse)
def overview(request: Request, org_id: str) -> Response:
    signed, asked, refusal = _view(request, org_id, views.FILTER_PARAMETERS + views.TIMESERIES_PARAMETERS)
    if refusal is not None:
        return refusal
    chrome = _chrome(signed)
    flagged = views.flagged_days(signed.budget_queries, signed.directory, signed.reader, asked)
    data = views.overview(signed.queries, signed.reader, asked, flagged)
    return _page(
        "overview.html.j2",
        view="overview",
        data=data,
        watch=_watch(signed, asked, flagged),
        csv=_csv_links(chrome["base"], asked),
        **chrome,
        **_filter_context(signed, asked, chrome["base"]),
    )


@router.get("/{org_id}/dashboard/fragment/timeseries", response_class=HTMLResponse)
def timeseries_fragment(request: Request, org_id: str) -> Response:
    signed, asked, refusal = _view(request, org_id, views.FILTER_PARAMETERS + views.TIMESERIES_PARAMETERS, page=False)
    if refusal is not None:
        return refusal
    answer = signed.queries.timeseries(
        org_id, asked.filters, signed.reader.scope, interval=asked.interval, metric=asked.metric
    )
    flagged = views.flagged_days(signed.budget_queries, signed.directory, signed.reader, asked)
    return _page(
        "timeseries_panel.html.j2",
        asked=asked,
        timeseries=answer,
        ts_chart=views.timeseries_chart(answer, flagged=flagged),
        **_chrome(signed),
    )


@router.get("/{org_id}/dashboard/people", response_class=HTMLResponse)
def people(request: Request, org_id: str) -> Response:
    signed, asked, refusal = _view(request, org_id, views.FILTER_PARAMETERS)
    if refusal is not None:
        return refusal
    if not signed.reader.sees_others:
        return _denied_response(request, _Denied(403, "the people view is for managers and admins"), True)
    chrome = _chrome(signed)
    data = views.people(signed.queries, signed.directory, signed.reader, asked)
    return _page(
        "people.html.j2",
        view="people",
        data=data,
        csv_people=f"{chrome['base']}/csv/people" + (f"?{asked.query()}" if asked.query() else ""),
        **chrome,
        **_filter_context(signed, asked, chrome["base"] + "/people"),
    )


@router.get("/{org_id}/dashboard/person", response_class=HTMLResponse)
def person(request: Request, org_id: str) -> Response:
    signed, asked, refusal = _view(request, org_id, views.FILTER_PARAMETERS + ("interval",))
    if refusal is not None:
        return refusal
    users = asked.filters.users
    if len(users) != 1:
        return _bad_parameter(signed, QueryError("user", "the person page shows one user: give user=ID once"), True)
    person_id = users[0]
    known = signed.directory.people.get(person_id)
    label = known.display_name if known else person_id
    chrome = _chrome(signed)
    flagged = views.flagged_days(signed.budget_queries, signed.directory, signed.reader, asked)
    data = views.person(signed.queries, signed.reader, asked, person_id, label, flagged)
    return _page(
        "person.html.j2",
        view="person",
        data=data,
        watch=_watch(signed, asked, flagged),
        csv=_csv_links(chrome["base"], asked),
        **chrome,
        **_filter_context(signed, asked, chrome["base"] + "/person", user_filter=False),
    )


def _watch(signed: Signed, asked: views.Asked, flagged: list[dict]) -> dict:
    """The budgets panel and the flagged days' table of a page."""
    budgets = views.budgets(signed.budget_queries, signed.directory, signed.reader, asked)
    as_of = max((budget["as_of_date"] for budget in budgets), default=None)  # the day the figures stand at
    return {"budgets": budgets, "anomalies": flagged, "as_of": as_of}


def _csv_links(base: str, asked: views.Asked) -> dict[str, str]:
    links = {}
    for question in (*ANSWER_SHAPES, *BUDGET_SHAPES):
        query = asked.query(interval=asked.interval, metric=asked.metric) if question == "timeseries" else asked.query()
        links[question] = f"{base}/csv/{question}" + (f"?{query}" if query else "")
    return links


@router.get("/{org_id}/dashboard/csv/{question}")
def download(request: Request, org_id: str, question: str) -> Response:
    if question not in (*ANSWER_SHAPES, *BUDGET_SHAPES, "people"):
        return Response("unknown download", status_code=404, media_type="text/plain; charset=utf-8")
    allowed = views.FILTER_PARAMETERS + (views.TIMESERIES_PARAMETERS if question == "timeseries" else ())
    signed, asked, refusal = _view(request, org_id, allowed, page=False)
    if refusal is not None:
        return refusal
    reader, queries = signed.reader, signed.queries
    if question == "people":
        if not reader.sees_others:
            return _denied_response(request, _Denied(403, "the people view is for managers and admins"), False)
        text = answer_csv(
            {"people": views.people(queries, signed.directory, reader, asked)["people"]}, views.PeopleAnswer
        )
    elif question == "budgets":
        answer = signed.budget_queries.budgets(org_id, signed.directory, reader.scope, views.budget_filters(asked))
        text = answer_csv(answer, BUDGET_SHAPES[question])
    elif question == "anomalies":
        text = answer_csv(
            {"anomalies": views.flagged_days(signed.budget_queries, signed.directory, reader, asked)},
            BUDGET_SHAPES[question],
        )
    else:
        options = {"interval": asked.interval, "metric": asked.metric} if question == "timeseries" else {}
        answer = getattr(queries, question.replace("-", "_"))(org_id, asked.filters, reader.scope, **options)
        text = answer_csv(answer, ANSWER_SHAPES[question])
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{question}.csv"', "Cache-Control": "no-store"},
    )


def people_query(asked: views.Asked, user_id: str) -> str:
    return urlencode([*((k, v) for k, v in asked.pairs if k != "user"), ("user", user_id)])


_templates.globals.update(people_query=people_query)
