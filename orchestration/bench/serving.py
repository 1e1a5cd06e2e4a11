"""What the API and dashboard benchmarks share: the sample org's readers with tokens (an admin, a manager, a member),
random filters within each reader's scope, a `serve` subprocess on a free port, and the path settings for CLI
subprocesses."""

from __future__ import annotations

import datetime as dt
import http.client
import os
import random
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.config import PATH_SETTINGS, Paths
from reports.analytics.scope import Directory
from reports.api.tokens import TokenStore


def main_org_id() -> str:
    """The sample's main org (imported when a benchmark runs: nothing imports the generator at start-up)."""
    from orchestration.sample.orgs import MAIN_ORG

    return MAIN_ORG.org_id


def paths_env(paths: Paths) -> dict[str, str]:
    """This process's environment with every path setting pointing at `paths` (for the CLI subprocesses)."""
    env = {**os.environ}
    for name, (env_var, _) in PATH_SETTINGS.items():
        value = getattr(paths, name, None)
        if value is not None:
            env[env_var] = str(value)
    return env


def model_requests(paths: Paths) -> int:
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return conn.execute("select count(*) from analytics.fct_model_requests").fetchall()[0][0]


API_ENDPOINTS = ("summary", "timeseries", "by-agent", "cost-breakdown")


API_READERS = ("admin", "manager", "member")


@dataclass(frozen=True)
class Reader:
    user_id: str
    role: str
    team: tuple[str, ...]  # the users the reader may name in `user=`
    secret: str


def api_readers(warehouse: Path, tokens_file: Path) -> dict[str, Reader]:
    """A token for the admin, for the manager of the largest team, and for a member of that team."""

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        directory = Directory.load(conn, main_org_id())
    admin = directory.recipients("org")[0]
    manager = max(directory.recipients("manager"), key=lambda person: len(directory.team_of(person.user_id)))
    team = sorted(directory.team_of(manager.user_id))
    member = next(directory.get(user) for user in team if directory.get(user).role == "member")
    store = TokenStore(tokens_file)
    readers = {}
    for role, person, visible in (
        ("admin", admin, sorted(directory.people)),
        ("manager", manager, team),
        ("member", member, [member.user_id]),
    ):
        readers[role] = Reader(person.user_id, role, tuple(visible), store.create(main_org_id(), person.user_id)[1])
    return readers


@dataclass(frozen=True)
class ApiChoices:
    """What random filters pick from: the org's activity dates, projects and agents."""

    first_day: dt.date
    last_day: dt.date
    projects: tuple[str, ...]
    agents: tuple[str, ...]

    @classmethod
    def load(cls, warehouse: Path) -> ApiChoices:
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            rows = conn.execute(
                "select min(activity_date), max(activity_date), list(distinct project_id), list(distinct agent) "
                "from analytics.mart_daily_activity where org_id = ?",
                [main_org_id()],
            ).fetchall()
        first, last, projects, agents = rows[0]
        return cls(first, last, tuple(sorted(p for p in projects if p)), tuple(sorted(a for a in agents if a)))

    def random_filters(self, rng: random.Random, endpoint: str, reader: Reader) -> dict[str, object]:
        """A date range (or none), and now and then one or two projects, agents and users of the reader's scope."""
        query: dict[str, object] = {}
        if rng.random() < 0.8:
            span = (self.last_day - self.first_day).days
            start = self.first_day + dt.timedelta(days=rng.randint(0, span))
            query["from"] = start.isoformat()
            query["to"] = min(self.last_day, start + dt.timedelta(days=rng.randint(0, 30))).isoformat()
        for name, values, share in (
            ("project", self.projects, 0.3),
            ("agent", self.agents, 0.3),
            ("user", reader.team, 0.3),
        ):
            if values and rng.random() < share:
                query[name] = rng.sample(values, min(len(values), rng.randint(1, 2)))
        if endpoint == "timeseries":
            query["interval"] = rng.choice(("day", "week"))
            query["metric"] = rng.choice(("sessions", "cost", "tokens"))
        return query


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server(port: int, server: subprocess.Popen, timeout: float = 60) -> http.client.HTTPConnection:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the API server exited with {server.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                return connection
            connection.close()
            time.sleep(0.2)
        except OSError:
            connection.close()
            time.sleep(0.2)
    raise RuntimeError(f"the API server did not answer on port {port} within {timeout:.0f} s")
