"""Seeded, deterministic generator of a realistic and deliberately messy sample org.

Why it exists: the pipeline has to be runnable, demonstrable and testable without real customer logs, and the
interesting bugs of an ETL live in the mess (duplicates, late and out-of-order delivery, bad lines, odd
encodings), not in the happy path. So the sample follows the input contract exactly while exercising every
messy case the contract allows, in realistic proportions:

    <raw_dir>/platform/<delivery date YYYY-MM-DD>/ingest-NN.jsonl[.gz]   platform events, JSON Lines
    <raw_dir>/claude_code/<email>/projects/<encoded cwd>/<sessionId>.jsonl  Claude Code transcripts (and
        .../<sessionId>/subagents/agent-<id>.jsonl, agent-acompact-<id>.jsonl), the last 30 days; 1.x, 2.0
        and 2.1 clients, with the record types each writes (2.1: progress, queue-operation, system)
    <raw_dir>/otel/sample-collector/<UTC date>/logs.jsonl[.gz]           OpenTelemetry Collector file exporter
    <directory_dir>/orgs.csv, users.csv, projects.csv                    the org directory
    <directory_dir>/claude_code_projects.csv                             working-directory prefixes -> projects
    <directory_dir>/budgets.csv                                          team budgets: over, projected over, fine

Two orgs (`acme` in Europe/Berlin with most users, a small `globex` in America/New_York) so cross-org
separation and local-time rhythms can be tested. The JSON Schema of one good event line is
`orchestration/ingest/platform_event.schema.json`; every line written validates against it except the
`bad_lines` deliberately corrupted extra lines.

Determinism: the same arguments give byte-identical files. All randomness comes from `random.Random` streams
seeded from `seed` (string seeds are hashed with SHA-512, independent of PYTHONHASHSEED), iteration is over
lists or sorted keys, and gzip headers carry mtime 0 and no file name. Only the `end_date` default reads the
clock.

Speed: event lines are hand-formatted (ids and enums never need JSON escaping) and buffered per delivery
folder; a folder is written and dropped from memory as soon as no later day can add to it, so
`users=1000, days=30` (a few million events) runs in about a minute with bounded memory. Claude Code sessions
are simulated once and written as transcript lines and/or telemetry records the same way (hand-formatted
compact JSON, content texts escaped once at import, one write per session file, telemetry flushed per day):
about 1 GB of transcripts (`users=160, transcript_user_share=1`) takes well under a minute.

Where each part lives (this module only validates the options, seeds the streams and calls the others):

    orgs, people              the two orgs and their projects; names, hierarchy, habits, the directory CSVs
    rhythm, models, prices    when people work; agents, models, cache and token sizes; Claude Code's list prices
    platform_plans            who starts which platform session when, the showcase sessions, the planted anomaly
    budgets                   the team budgets, set from what the platform events cost
    platform_events           a plan's event lines and their messy delivery
    bad_lines                 the deliberately invalid platform lines
    claude_code_users         who uses Claude Code, what their setup records, who uses the other agents
    claude_code, texts        simulated Claude Code sessions and their transcript files; what they say
    otel                      the OpenTelemetry collector's records and files
    agents/                   the other agents' local logs (Codex, Gemini, Copilot), one module per agent
    clock, draws, encoding    timestamps and epoch days; seeded draws; JSON escapes and reproducible gzip
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.sample import SOURCES, TRANSCRIPT_USER_SHARE
from orchestration.sample import agents as sample_agents
from orchestration.sample.bad_lines import BAD_LINE_KINDS, BAD_LINES_PER_KIND
from orchestration.sample.budgets import budget_teams, write_budgets
from orchestration.sample.claude_code import CLAUDE_CODE_DAYS, ClaudeCodeWriter, remove_previous_claude_code_output
from orchestration.sample.claude_code_users import OUTSIDE_EMAIL, agent_log_users, choose_claude_code_users
from orchestration.sample.clock import epoch_day
from orchestration.sample.models import LONG_CONTEXT_MODELS, UNPRICED_MODEL
from orchestration.sample.orgs import MAIN_ORG, SECOND_ORG, UNKNOWN_PROJECT, UNKNOWN_USER_ID
from orchestration.sample.people import MIN_USERS, build_people, write_directory
from orchestration.sample.platform_events import write_platform
from orchestration.sample.platform_plans import planted_spike

# The names callers and tests use, importable from here as before the split.
__all__ = [
    "BAD_LINE_KINDS",
    "BAD_LINES_PER_KIND",
    "LONG_CONTEXT_MODELS",
    "OUTSIDE_EMAIL",
    "UNKNOWN_PROJECT",
    "UNKNOWN_USER_ID",
    "UNPRICED_MODEL",
    "SampleSummary",
    "generate_sample",
]


@dataclass(frozen=True)
class SampleSummary:
    """What `generate_sample` wrote.

    `users` are the directory's users (the unlisted contractor is not counted); `sessions` and `model_requests`
    are distinct; `events_written` counts good event lines including the `duplicate_lines` copies, so
    `events_written == unique_events + duplicate_lines`; `bad_lines` are the deliberately invalid extra lines
    and `blank_lines` the empty ones, in neither count. `start_date`..`end_date` is the activity window.
    These platform counts are 0 when the platform source was not generated.

    Claude Code: `transcript_users` collected folders holding `transcript_sessions` session files (resumed
    sessions included) in `transcript_files` files (subagent files included) of `transcript_lines` lines;
    `otel_records` telemetry records (`otel_api_requests` of them requests, background ones included) in
    `otel_lines` collector lines of `otel_files` files. Malformed lines are included in the line counts.
    The other agents' logs (Codex, Gemini, Copilot): `agent_log_requests` model requests written per source.
    """

    orgs: list[str]
    users: int
    sessions: int
    model_requests: int
    events_written: int
    bad_lines: int
    files: int
    unique_events: int
    duplicate_lines: int
    blank_lines: int
    delivery_folders: int
    start_date: datetime.date
    end_date: datetime.date
    transcript_users: int = 0
    transcript_sessions: int = 0
    transcript_files: int = 0
    transcript_lines: int = 0
    otel_files: int = 0
    otel_lines: int = 0
    otel_records: int = 0
    otel_api_requests: int = 0
    agent_log_requests: dict[str, int] = field(default_factory=dict)  # Codex, Gemini, Copilot: requests written


def generate_sample(
    raw_dir: Path,
    directory_dir: Path,
    *,
    users: int = 40,
    days: int = 56,
    seed: int = 7,
    end_date: datetime.date | None = None,
    gzip_share: float = 0.25,
    sources: Iterable[str] = SOURCES,
    transcript_user_share: float = TRANSCRIPT_USER_SHARE,
    claude_code_scale: float = 1.0,
) -> SampleSummary:
    """Write a sample org's directory CSVs, `days` days of platform events ending at `end_date`, and the last
    30 of those days of Claude Code transcripts and OpenTelemetry logs (`sources` picks which of the three).

    `end_date` is the last local activity date (default: yesterday in UTC). Events are cut at the end of
    `end_date` in UTC (sessions still running then have no end yet) and delivery folders run up to the day
    after. Size knobs of the Claude Code sources: `transcript_user_share` of acme's people have collected
    transcripts, and `claude_code_scale` multiplies everyone's Claude Code sessions per workday. Earlier output
    of this generator for the chosen sources is replaced, other files are left alone.
    """
    sources = tuple(sources)
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)}: expected some of {', '.join(SOURCES)}")
    if not 0.0 <= transcript_user_share <= 1.0:
        raise ValueError(f"transcript_user_share must be between 0 and 1, got {transcript_user_share}")
    if claude_code_scale <= 0:
        raise ValueError(f"claude_code_scale must be positive, got {claude_code_scale}")
    if users < MIN_USERS:
        raise ValueError(f"users must be at least {MIN_USERS}, got {users}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if not 0.0 <= gzip_share <= 1.0:
        raise ValueError(f"gzip_share must be between 0 and 1, got {gzip_share}")
    if end_date is None:
        end_date = datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=1)
    start_date = end_date - datetime.timedelta(days=days - 1)
    raw_dir, directory_dir = Path(raw_dir), Path(directory_dir)

    people = build_people(random.Random(f"{seed}:directory"), users, start_date, days)
    write_directory(directory_dir, people)

    dates = [start_date + datetime.timedelta(days=i) for i in range(days)]
    counts = dict.fromkeys(
        (
            "sessions",
            "model_requests",
            "events_written",
            "bad_lines",
            "files",
            "unique_events",
            "duplicate_lines",
            "blank_lines",
            "delivery_folders",
        ),
        0,
    )
    window = dates[-CLAUDE_CODE_DAYS:]
    rng = random.Random(f"{seed}:claude_code")
    claude_code_users = choose_claude_code_users(rng, people, transcript_user_share, epoch_day(window[0]), len(window))
    spend: dict = {}
    if "platform" in sources:
        teams = set(budget_teams(people))
        counts = write_platform(
            raw_dir,
            people,
            dates,
            seed=seed,
            gzip_share=gzip_share,
            planted=planted_spike(random.Random(f"{seed}:anomaly"), people, dates),
            tracked=[p for p in people if p.org.org_id == MAIN_ORG.org_id and p.team in teams],
            spend=spend,
        )
    write_budgets(directory_dir, people, spend, end_date, (user.email for user in claude_code_users))
    if "claude_code" in sources or "otel" in sources:
        remove_previous_claude_code_output(raw_dir, sources)
        writer = ClaudeCodeWriter(raw_dir, rng, end_date, sources, claude_code_scale)
        writer.write_window(claude_code_users, window)
        counts |= writer.summary()
    if set(sources) & set(sample_agents.SOURCES):
        candidates = agent_log_users(claude_code_users, people)
        counts["agent_log_requests"] = sample_agents.write_agent_logs(raw_dir, sources, candidates, window, seed)
    return SampleSummary(
        orgs=[MAIN_ORG.org_id, SECOND_ORG.org_id], users=users, start_date=start_date, end_date=end_date, **counts
    )
