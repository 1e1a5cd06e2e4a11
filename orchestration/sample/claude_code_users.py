"""Who uses Claude Code and what their setup records: collected transcripts, OpenTelemetry export (from
which day), client version, checkouts and terminal; and, from them, who uses the other coding agents."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from orchestration.sample import agents as sample_agents
from orchestration.sample.draws import seeded_uuid
from orchestration.sample.orgs import MAIN_ORG, UNKNOWN_USER_ID
from orchestration.sample.people import Person

TRANSCRIPT_MIN_USERS = 3  # at least this many of acme's people have collected ~/.claude folders
OTEL_ONLY_USER_SHARE, OTEL_ONLY_MIN_USERS = 0.15, 2  # acme people exporting telemetry, transcripts not collected
OTEL_WITH_TRANSCRIPTS_SHARE = 0.5  # transcript people who also export telemetry (from some day of the window)
OUTSIDE_EMAIL = "freelancer@outside.example"  # a collected folder whose email the directory lacks
CC_VERSIONS = ("2.0.14", "2.0.22", "2.0.31", "2.1.22", "2.1.39")
# 2.1.x also writes `progress` records (an `agent_progress` one embeds each subagent response, usage included),
# `queue-operation` and more `system` records, compaction agents (subagents/agent-acompact-<id>.jsonl), and
# `inference_geo` and `server_tool_use` in usage.
CURRENT_CC_VERSION = "2.1.39"
INLINE_SIDECHAIN_VERSION = "1.0.98"  # 1.x: subagent lines inline in the main file
NO_REQUEST_ID_VERSION = "1.0.17"  # older 1.x: no requestId, one line per response, no 5m/1h split, costUSD
DEVCONTAINER_SHARE = 0.4  # people working in /workspaces/<repo>, which claude_code_projects.csv maps
TERMINALS = ("vscode", "iTerm.app", "tmux", "WarpTerminal", "cursor")
# Traits the first session of the first transcript people always has, so a tiny sample shows every case.
# One set per session, for their first workday sessions in order.
SHOWCASE_TRAITS = (
    (
        frozenset({"long_context", "subagent", "resume", "synthetic", "one_hour", "compaction", "queued"}),
        frozenset({"subagent", "lost_subagent_file"}),  # only its agent_progress copies tell of the subagent
        frozenset({"subagent", "empty_main"}),
    ),  # the main file is empty, the subagent file is not
    (frozenset({"truncated"}),),
    (frozenset({"subagent", "truncated"}),),
)


@dataclass(frozen=True)
class ClaudeCodeUser:
    email: str
    timezone: str
    activity: float
    opus_fan: bool
    vacation: tuple[datetime.date, datetime.date] | None
    version: str
    checkouts: tuple[str, ...]  # working directories, the usual one first
    transcripts: bool  # their ~/.claude folder is collected
    otel_from_day: int | None  # UTC epoch day they switched telemetry on, None: never
    logs_prompts: bool  # OTEL_LOG_USER_PROMPTS=1: user_prompt records carry the prompt text
    showcase: tuple[frozenset[str], ...]  # traits of their first workday sessions
    account_uuid: str
    terminal: str


def choose_claude_code_users(
    rng: random.Random, people: list[Person], share: float, first_day: int, days: int
) -> list[ClaudeCodeUser]:
    """Acme people with collected transcripts (the first three on 1.x clients and with the showcase traits),
    some of them also exporting telemetry; acme people exporting telemetry only; and a collected folder of an
    email the directory lacks."""
    acme = [p for p in people if p.org.org_id == MAIN_ORG.org_id and p.user_id != UNKNOWN_USER_ID]
    acme = rng.sample(acme, len(acme))
    with_transcripts = min(len(acme) - OTEL_ONLY_MIN_USERS, max(TRANSCRIPT_MIN_USERS, round(share * len(acme))))
    otel_only = min(len(acme) - with_transcripts, max(OTEL_ONLY_MIN_USERS, round(OTEL_ONLY_USER_SHARE * len(acme))))
    users = []
    for index, person in enumerate(acme[: with_transcripts + otel_only]):
        transcripts = index < with_transcripts
        version = (CURRENT_CC_VERSION, NO_REQUEST_ID_VERSION, INLINE_SIDECHAIN_VERSION)[index] if index < 3 else None
        version = version or rng.choice(CC_VERSIONS)
        # 1.x clients export no telemetry with request ids: they stay transcript-only.
        if not transcripts or index == 0:
            otel_from = first_day
        elif version in CC_VERSIONS and rng.random() < OTEL_WITH_TRANSCRIPTS_SHARE:
            otel_from = first_day + rng.randrange(max(1, days // 2))
        else:
            otel_from = None
        devcontainer = index == 0 or (index != 1 and rng.random() < DEVCONTAINER_SHARE)
        repositories = person.repositories
        picked = list(dict.fromkeys([repositories[0], *rng.sample(repositories, min(2, len(repositories)))]))
        local = person.email.split("@")[0]
        home = "/workspaces" if devcontainer else rng.choice((f"/home/{local}/src", f"/Users/{local}/code"))
        users.append(
            ClaudeCodeUser(
                email=person.email,
                timezone=person.org.timezone,
                activity=person.activity,
                opus_fan=person.opus_fan,
                vacation=person.vacation,
                version=version,
                checkouts=tuple(f"{home}/{r.split('/')[-1]}" for r in picked),
                transcripts=transcripts,
                otel_from_day=otel_from,
                logs_prompts=index == with_transcripts,
                showcase=SHOWCASE_TRAITS[index] if index < len(SHOWCASE_TRAITS) else (),
                account_uuid=seeded_uuid(rng.getrandbits),
                terminal=rng.choice(TERMINALS),
            )
        )
    users.append(
        ClaudeCodeUser(
            email=OUTSIDE_EMAIL,
            timezone=MAIN_ORG.timezone,
            activity=0.5,
            opus_fan=False,
            vacation=None,
            version=CC_VERSIONS[-1],
            checkouts=("/home/freelancer/work/acme_docs.site", "/home/freelancer/work/billing"),
            transcripts=True,
            otel_from_day=None,
            logs_prompts=False,
            showcase=(),
            account_uuid=seeded_uuid(rng.getrandbits),
            terminal="tmux",
        )
    )
    return users


def agent_log_users(claude_code_users: list[ClaudeCodeUser], people: list[Person]) -> list[sample_agents.SampleUser]:
    """Who uses the other agents: the Claude Code users with collected transcripts first (their checkouts and
    repositories), then acme people who use no Claude Code."""
    by_email = {person.email: person for person in people}
    candidates, seen = [], set()
    for user in claude_code_users:
        person = by_email.get(user.email)
        if person is None or not user.transcripts:
            continue
        repositories = person.repositories
        named = {r.split("/")[-1]: r for r in repositories}
        pairs = [
            (checkout, named[checkout.split("/")[-1]])
            for checkout in user.checkouts
            if checkout.split("/")[-1] in named
        ]
        if pairs:
            candidates.append(
                sample_agents.SampleUser(
                    email=user.email,
                    timezone=user.timezone,
                    checkouts=tuple(c for c, _ in pairs),
                    repositories=tuple(r for _, r in pairs),
                    activity=person.activity,
                )
            )
            seen.add(user.email)
    for person in people:
        if person.org.org_id != MAIN_ORG.org_id or person.user_id == UNKNOWN_USER_ID or person.email in seen:
            continue
        if any(user.email == person.email for user in claude_code_users):
            continue
        repositories = person.repositories[:2]
        local = person.email.split("@")[0]
        candidates.append(
            sample_agents.SampleUser(
                email=person.email,
                timezone=person.org.timezone,
                checkouts=tuple(f"/home/{local}/src/{r.split('/')[-1]}" for r in repositories),
                repositories=tuple(repositories),
                activity=person.activity,
            )
        )
    return candidates
