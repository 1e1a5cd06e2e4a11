"""Benchmark `dashboard`: the dashboard's time to a complete page per view, over HTTP against `session-analytics
serve`.

A page's HTML carries all of its figures (tables and the charts' JSON), so a complete page is one request; the
static files (CSS, JS, the vendored libraries) are cached by the browser after the first page and not counted.
The chart toggle is its own view (the htmx fragment it loads). Each timed request has random filters (the API
benchmark's: a date range or none, now and then projects, agents and users of the reader's scope) and a random
reader (admin, the manager of the largest team, a member of that team), signed in once through the sign-in form.
"""

from __future__ import annotations

import http.client
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from orchestration.bench import serving
from orchestration.config import Paths

VIEWS = ("overview", "timeseries fragment", "people", "person")
PAGES_PER_VIEW = 100
TARGET_P95_MS = 300
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    role: str
    team: tuple[str, ...]
    cookie: str


def sign_in(connection: http.client.HTTPConnection, secret: str) -> str:
    """The session cookie header of a sign-in through the form (its CSRF cookie and field included)."""
    connection.request("GET", "/")
    response = connection.getresponse()
    page = response.read().decode()
    signin_cookie = _cookie(response, "sa_signin")
    body = urlencode({"token": secret, "csrf_token": _CSRF.search(page)[1]})
    connection.request(
        "POST",
        "/signin",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": signin_cookie},
    )
    response = connection.getresponse()
    response.read()
    if response.status != 303:
        raise RuntimeError(f"sign-in answered {response.status}")
    return _cookie(response, "sa_dashboard")


def _cookie(response: http.client.HTTPResponse, name: str) -> str:
    for header in response.headers.get_all("set-cookie") or []:
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0]
    raise RuntimeError(f"no {name} cookie in the answer")


def view_url(org_id: str, view: str, query: dict[str, object], reader: SignedIn, rng: random.Random) -> str:
    base = f"/{quote(org_id, safe='')}/dashboard"
    filters = {key: value for key, value in query.items() if key not in ("interval", "metric")}
    if view == "overview":
        return f"{base}?{urlencode(query, doseq=True)}"
    if view == "timeseries fragment":
        return f"{base}/fragment/timeseries?{urlencode(query, doseq=True)}"
    if view == "people":
        return f"{base}/people?{urlencode(filters, doseq=True)}"
    person = rng.choice(reader.team)
    person_query = {**{k: v for k, v in filters.items() if k != "user"}, "user": person}
    if "interval" in query:
        person_query["interval"] = query["interval"]
    return f"{base}/person?{urlencode(person_query, doseq=True)}"


def page_latencies(
    connection: http.client.HTTPConnection,
    org_id: str,
    readers: list[SignedIn],
    random_query: Callable[[random.Random, SignedIn], dict[str, object]],
    pages: int,
    seed: int = 16,
) -> dict[str, list[float]]:
    """Seconds per request of each view: `pages` requests per view, readers and filters drawn at random. A view
    a reader may not open (people, for a member) is drawn for another reader."""
    rng = random.Random(seed)
    latencies: dict[str, list[float]] = {view: [] for view in VIEWS}
    for _ in range(pages):
        for view in VIEWS:
            eligible = [r for r in readers if view != "people" or r.role != "member"]
            reader = rng.choice(eligible)
            url = view_url(org_id, view, random_query(rng, reader), reader, rng)
            started = time.perf_counter()
            connection.request("GET", url, headers={"Cookie": reader.cookie})
            response = connection.getresponse()
            body = response.read()
            latencies[view].append(time.perf_counter() - started)
            if response.status != 200:
                raise RuntimeError(f"GET {url} as {reader.user_id}: {response.status} {body[:300]!r}")
    return latencies


def bench_dashboard(bench, paths: Paths, label: str) -> None:
    """The benchmark on the full build's warehouse (`bench` is benchmark.Bench), its figures under `label`."""
    org_id = serving.main_org_id()
    tokens_file = bench.work_dir / "dashboard_tokens.sqlite3"
    tokens_file.unlink(missing_ok=True)
    readers = serving.api_readers(paths.warehouse, tokens_file)
    port = serving.free_port()
    env = {**serving.paths_env(paths), "SESSION_ANALYTICS_TOKENS": str(tokens_file)}
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        connection = serving.wait_for_server(port, server)
        signed = [
            SignedIn(reader.user_id, reader.role, reader.team, sign_in(connection, reader.secret))
            for reader in readers.values()
        ]
        choices = serving.ApiChoices.load(paths.warehouse)
        latencies = page_latencies(
            connection,
            org_id,
            signed,
            lambda rng, reader: choices.random_filters(rng, "timeseries", reader),  # type: ignore[arg-type]
            min(bench.api_requests, PAGES_PER_VIEW),
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(bench, label, serving.model_requests(paths), latencies)


def report(bench, label: str, requests: int, latencies: dict[str, list[float]]) -> None:
    bench.add(label, "model requests in the warehouse", f"{requests:,}")
    for view, samples in latencies.items():
        median = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=100, method="inclusive")[94] if len(samples) > 1 else samples[0]
        bench.add(
            label,
            f"{view} p50 / p95",
            f"{median * 1000:,.1f} / {p95 * 1000:,.1f} ms",
            f"{len(samples)} pages; target p95 < {TARGET_P95_MS} ms",
        )
