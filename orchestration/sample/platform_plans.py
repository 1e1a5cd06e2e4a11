"""Platform session plans: who starts which session when (the natural rhythm), and the showcase sessions that
guarantee every rare case and carry the bad lines. A plan fixes the session's shape; `platform_events`
turns it into event lines."""

from __future__ import annotations

import datetime
import math
import random
import zoneinfo
from dataclasses import dataclass, replace

from orchestration.sample.bad_lines import BAD_LINE_KINDS, BAD_LINES_PER_KIND
from orchestration.sample.draws import pick
from orchestration.sample.models import (
    AGENT_LOYALTY,
    AGENT_MIX,
    AGENT_VERSIONS,
    CACHE_SPLIT_MIX,
    CACHE_WRITING_MODELS,
    LONG_CONTEXT_MODELS,
    MAIN_PROJECT_SHARE,
    MODEL_MIX,
    NATURAL_LONG_CONTEXT_SHARE,
    SIDE_REQUEST_AGENTS,
    SONNET_4,
    SONNET_45,
    UNPRICED_MODEL,
    pick_model,
)
from orchestration.sample.orgs import MAIN_ORG, SECOND_ORG, UNKNOWN_PROJECT, UNKNOWN_USER_ID, ProjectSpec
from orchestration.sample.people import Person
from orchestration.sample.rhythm import (
    SESSIONS_PER_ACTIVE_WEEKDAY,
    on_vacation,
    sessions_started,
    start_hour,
)

CONTRACTOR_DAYS_PER_SESSION = 7  # the contractor works now and then, outside the directory's knowledge
NULL_REPOSITORY_SHARE = {"single": 0.04, "workspace": 0.15}  # sessions opened outside any repository
REQUESTS_MEDIAN, REQUESTS_SIGMA, REQUESTS_MAX = 9, 1.0, 400
MARATHON_SHARE, MARATHON_MIN, MARATHON_ALPHA, MARATHON_MAX = 0.02, 40, 1.2, 600
END_STATUS_MIX = {"completed": 0.86, "cancelled": 0.09, "failed": 0.05}
NO_END_SHARE = 0.05
LATE_START_SHARE = 0.03  # session_started delivered a day after the session's requests
OFFSET_TIMESTAMP_SHARE = 0.05  # sessions whose client writes local time with a numeric offset


@dataclass(frozen=True)
class SessionPlan:
    org_id: str
    user_id: str
    start_ms: int
    agent: str
    agent_version: str
    project_id: str
    repository: str | None
    model: str
    side_model: str | None
    requests: int
    cache_split: str
    end_status: str | None
    offset_minutes: int | None = None  # timestamps written with this numeric offset instead of Z
    long_context: bool = False
    late_start: bool = False
    bad_kinds: tuple[tuple[str, int], ...] = ()  # (kind, copy number) of extra invalid lines to emit


def natural_plans(rng: random.Random, people: list[Person], local_date: datetime.date) -> list[SessionPlan]:
    """Who works on this local date and how many sessions they start: weekdays busy, weekends quiet."""
    weekday = local_date.weekday()
    plans = []
    for person in people:
        if on_vacation(person.vacation, local_date):
            continue
        count = sessions_started(rng, weekday, person.activity, SESSIONS_PER_ACTIVE_WEEKDAY)
        plans += [_plan_session(rng, person, local_date) for _ in range(count)]
    return plans


def _plan_session(
    rng: random.Random,
    person: Person,
    local_date: datetime.date,
    *,
    local_hour: float | None = None,
    agent: str | None = None,
    model: str | None = None,
    project: ProjectSpec | None = None,
    offset: bool | None = None,
    **pinned,
) -> SessionPlan:
    """A session's shape drawn from the person's habits. Showcase sessions pin some choices: `agent`, `model`,
    `project` and `offset` (local-time timestamps) before the draws that depend on them, `pinned` plan fields
    after."""
    if local_hour is None:
        local_hour = start_hour(rng, local_date.weekday() < 5)
    midnight = datetime.datetime.combine(local_date, datetime.time(), tzinfo=zoneinfo.ZoneInfo(person.org.timezone))
    local_start = midnight + datetime.timedelta(seconds=int(local_hour * 3600), milliseconds=rng.randrange(1000))
    agent = agent or (person.agent if rng.random() < AGENT_LOYALTY else pick(rng, AGENT_MIX))
    model = model or pick_model(rng, MODEL_MIX[agent], person.opus_fan)
    if project is None:
        project = person.projects[0] if rng.random() < MAIN_PROJECT_SHARE else rng.choice(person.projects)
        repository = None if rng.random() < NULL_REPOSITORY_SHARE[project.kind] else rng.choice(project.repositories)
    else:
        repository = project.repositories[0]
    if rng.random() < MARATHON_SHARE:
        requests = min(MARATHON_MAX, int(MARATHON_MIN * rng.paretovariate(MARATHON_ALPHA)))
    else:
        requests = min(REQUESTS_MAX, 1 + int(rng.lognormvariate(math.log(REQUESTS_MEDIAN), REQUESTS_SIGMA)))
    if offset is None:
        offset = rng.random() < OFFSET_TIMESTAMP_SHARE
    plan = SessionPlan(
        org_id=person.org.org_id,
        user_id=person.user_id,
        start_ms=int(local_start.timestamp() * 1000),
        agent=agent,
        agent_version=rng.choice(AGENT_VERSIONS[agent]),
        project_id=project.project_id,
        repository=repository,
        model=model,
        side_model=person.side_model if agent in SIDE_REQUEST_AGENTS else None,
        requests=requests,
        cache_split=pick(rng, CACHE_SPLIT_MIX) if model in CACHE_WRITING_MODELS else "none",
        end_status=None if rng.random() < NO_END_SHARE else pick(rng, END_STATUS_MIX),
        offset_minutes=int(local_start.utcoffset().total_seconds() // 60) if offset else None,
        long_context=model in LONG_CONTEXT_MODELS and rng.random() < NATURAL_LONG_CONTEXT_SHARE,
        late_start=rng.random() < LATE_START_SHARE,
    )
    return replace(plan, **pinned)


def showcase_plans(rng: random.Random, people: list[Person], dates: list[datetime.date]):
    """Extra sessions that guarantee every rare case appears even in a tiny sample, carrying the bad lines.

    Natural sessions produce the same cases at realistic rates; these only make their presence certain.
    """
    workdays = [d for d in dates[:-1] if d.weekday() < 5] or dates[:-1] or dates
    by_org = {
        org: [p for p in people if p.org.org_id == org and p.user_id != UNKNOWN_USER_ID]
        for org in (MAIN_ORG.org_id, SECOND_ORG.org_id)
    }
    contractor = people[-1]
    acme, globex = by_org[MAIN_ORG.org_id], by_org[SECOND_ORG.org_id]
    day_hours = (9.5, 16.5)
    specs = [  # (person pool, local hour or None for a day hour, overrides)
        (acme, None, {"agent": "claude-code", "model": SONNET_45, "long_context": True, "requests": 30}),
        (acme, None, {"agent": "claude-code", "model": SONNET_4, "long_context": True, "requests": 24}),
        (acme, None, {"agent": "codex-cli", "model": UNPRICED_MODEL}),
        (globex, None, {"agent": "codex-cli", "model": UNPRICED_MODEL}),
        ([contractor], None, {"project": UNKNOWN_PROJECT}),
        ([contractor], None, {}),
        (acme, None, {"project": UNKNOWN_PROJECT}),
        (acme, None, {"late_start": True, "end_status": "completed"}),
        (globex, None, {"late_start": True, "end_status": "failed"}),
        (acme, None, {"end_status": None}),
        (acme, None, {"offset": True, "cache_split": "1h", "model": SONNET_45, "agent": "claude-code"}),
        (globex, None, {"offset": True, "end_status": "cancelled"}),
        (acme, 23.3, {"requests": 120}),  # cross local midnight (the acme one UTC midnight too)
        (globex, 23.0, {"requests": 80}),
    ]
    specs += [([contractor], None, {})] * (len(dates) // CONTRACTOR_DAYS_PER_SESSION)
    bad = [(kind, copy) for kind in BAD_LINE_KINDS for copy in range(BAD_LINES_PER_KIND)]
    plans: dict[datetime.date, list[SessionPlan]] = {}
    for index, (pool, hour, overrides) in enumerate(specs):
        person = rng.choice(pool)
        local_date = rng.choice(workdays)
        hour = hour if hour is not None else rng.uniform(*day_hours)
        carried = tuple(bad[index :: len(specs)])
        plan = _plan_session(rng, person, local_date, local_hour=hour, bad_kinds=carried, **overrides)
        plans.setdefault(local_date, []).append(plan)
    return plans


SPIKE_SESSIONS, SPIKE_REQUESTS, SPIKE_HOURS = 6, 200, (8.5, 10.0, 11.5, 13.0, 14.5, 16.0)


def planted_spike(
    rng: random.Random, people: list[Person], dates: list[datetime.date]
) -> dict[datetime.date, list[SessionPlan]]:
    """The sample's one planted anomaly: an acme member's Wednesday of long-context claude-code sessions on a 1M
    context sonnet, far above their usual Wednesdays. The Wednesday of the last complete ISO week of the sample
    (so the latest weekly report and the latest seven days' alerts both have it), with four weeks of history."""
    last = dates[-1]
    sunday = last - datetime.timedelta(days=(last.weekday() + 1) % 7)
    wednesday = sunday - datetime.timedelta(days=4)
    if wednesday - datetime.timedelta(weeks=4) < dates[0]:
        return {}
    members = [
        p
        for p in people
        if p.org.org_id == MAIN_ORG.org_id
        and p.role == "member"
        and p.manager_id
        and not on_vacation(p.vacation, wednesday)
    ]
    if not members:
        return {}
    person = rng.choice(members)
    plans = [
        _plan_session(
            rng,
            person,
            wednesday,
            local_hour=hour,
            agent="claude-code",
            model=SONNET_45,
            long_context=True,
            requests=SPIKE_REQUESTS,
            end_status="completed",
            late_start=False,
            bad_kinds=(),
        )
        for hour in SPIKE_HOURS[:SPIKE_SESSIONS]
    ]
    return {wednesday: plans}
