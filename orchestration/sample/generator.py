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
"""

from __future__ import annotations

import csv
import datetime
import functools
import gzip
import json
import math
import random
import re
import shutil
import unicodedata
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from orchestration.sample import SOURCES, TRANSCRIPT_USER_SHARE
from orchestration.sample import agents as sample_agents

# ---------------------------------------------------------------------------------------------------------------
# Orgs, people, projects
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgSpec:
    org_id: str
    name: str
    timezone: str
    email_domain: str


MAIN_ORG = OrgSpec("acme", "Acme Robotics", "Europe/Berlin", "acme.example")
SECOND_ORG = OrgSpec("globex", "Globex", "America/New_York", "globex.example")
SECOND_ORG_SHARE = 0.10
SECOND_ORG_MIN_USERS = 3
MIN_USERS = 8  # 5 for the main org (admin + a small team) and 3 for the second org
DIRECTOR_MIN_ORG_SIZE = 7  # smaller orgs have team managers reporting straight to the admin

TEAM_MEMBERS_MIN, TEAM_MEMBERS_MAX, TEAM_MEMBERS_TYPICAL = 4, 8, 5.5
LEADERSHIP_TEAM = "Engineering Leadership"
TEAM_NAMES = (
    "Platform",
    "Payments",
    "Mobile",
    "Perception",
    "Motion Control",
    "Firmware",
    "Data",
    "Developer Experience",
    "Security",
    "Web",
    "Simulation",
    "Fleet Ops",
    "Billing",
    "Identity",
    "ML Infrastructure",
    "Growth",
)

# Names that must show up (non-ASCII handling downstream), with the email local part they get.
SPOTLIGHT_PEOPLE = (
    ("Zoë Åkesson", "zoe.akesson"),
    ("José Núñez", "jose.nunez"),
    ("Łukasz Wróbel", "lukasz.wrobel"),
    ("Søren Kierkegaard", "soren.kierkegaard"),
    ("李雷", "li.lei"),
)
FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "Farah",
    "Gustav",
    "Hana",
    "Ines",
    "Jonas",
    "Kaito",
    "Lena",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Ulrike",
    "Valentina",
    "Wei",
    "Xavier",
    "Yara",
    "Zeynep",
    "Amélie",
    "Björn",
    "Çağla",
    "Dorothée",
    "Émile",
    "François",
    "Grzegorz",
    "Håkon",
    "Ígor",
    "Jürgen",
    "Kateřina",
    "Laia",
    "Mónica",
    "Noémie",
    "Ólafur",
    "Pål",
    "Renée",
    "Siân",
    "Tomás",
    "Ümit",
    "Vojtěch",
    "Wiktoria",
    "Aiden",
    "Maya",
)
LAST_NAMES = (
    "Schmidt",
    "Müller",
    "García",
    "Nguyễn",
    "Kowalski",
    "Dvořák",
    "Ødegaard",
    "Çelik",
    "O'Brien",
    "Rossi",
    "Novák",
    "Johansson",
    "Fernández",
    "Lefèvre",
    "Papadopoulos",
    "Yılmaz",
    "Kim",
    "Tanaka",
    "Okafor",
    "Haddad",
    "Weiß",
    "Björklund",
    "Szabó",
    "Costa",
    "Ivanova",
    "Andersen",
    "Moreau",
    "Brennan",
    "Patel",
    "Nakamura",
    "Jäger",
    "Mäkinen",
    "Horváth",
    "Lindqvist",
    "Popescu",
    "Santos",
    "Fischer",
    "Larsen",
    "Dubois",
    "Kaur",
    "Chen",
    "Walsh",
    "Richter",
    "Vogel",
    "Sørensen",
    "Åberg",
    "Krüger",
    "Zieliński",
    "Herrera",
    "Bauer",
)
# Letters NFKD does not decompose into ASCII.
ASCII_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "Ae", "æ": "ae", "ı": "i"})


@dataclass(frozen=True)
class ProjectSpec:
    project_id: str
    name: str
    kind: str  # single | workspace
    repositories: tuple[str, ...]


PROJECTS = {
    "acme": (
        ProjectSpec("p-billing-service", "Billing service", "single", ("acme/billing-service",)),
        ProjectSpec("p-auth-gateway", "Auth gateway", "single", ("acme/auth-gateway",)),
        ProjectSpec("p-robot-firmware", "Robot firmware", "single", ("acme/robot-firmware",)),
        ProjectSpec("p-docs-site", "Docs site", "single", ("acme/docs-site",)),
        ProjectSpec(
            "p-robotics",
            "Robotics stack",
            "workspace",
            ("acme/motion-planner", "acme/vision-pipeline", "acme/sim-harness", "acme/robot-msgs"),
        ),
        ProjectSpec("p-web-platform", "Web platform", "workspace", ("acme/web-app", "acme/design-system")),
        ProjectSpec(
            "p-data-platform",
            "Data platform",
            "workspace",
            ("acme/etl-jobs", "acme/warehouse-models", "acme/ml-features"),
        ),
    ),
    "globex": (
        ProjectSpec("p-crm", "CRM", "single", ("globex/crm",)),
        ProjectSpec("p-ops-scripts", "Ops scripts", "single", ("globex/ops-scripts",)),
        ProjectSpec("p-globex-suite", "Globex suite", "workspace", ("globex/api", "globex/web", "globex/infra")),
    ),
}
# In events but deliberately missing from the directory.
UNKNOWN_USER_ID = "u-contractor-x"
CONTRACTOR_DAYS_PER_SESSION = 7  # the contractor works now and then, outside the directory's knowledge
UNKNOWN_PROJECT = ProjectSpec("p-legacy-scripts", "Legacy scripts", "single", ("acme/legacy-scripts",))
NULL_REPOSITORY_SHARE = {"single": 0.04, "workspace": 0.15}  # sessions opened outside any repository

# ---------------------------------------------------------------------------------------------------------------
# Agents and models
# ---------------------------------------------------------------------------------------------------------------

AGENT_MIX = {"claude-code": 0.72, "cursor-agent": 0.13, "codex-cli": 0.09, "aider": 0.06}
AGENT_LOYALTY = 0.85  # share of a user's sessions with their preferred agent
AGENT_VERSIONS = {
    "claude-code": ("2.0.14", "2.0.22", "2.0.31"),
    "cursor-agent": ("1.7.2", "1.8.0"),
    "codex-cli": ("0.46.0", "0.50.1"),
    "aider": ("0.86.1",),
}
SONNET_45, SONNET_4 = "claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514"
OPUS_41, OPUS_45 = "claude-opus-4-1-20250805", "claude-opus-4-5-20251101"
HAIKU_45, HAIKU_35 = "claude-haiku-4-5-20251001", "claude-3-5-haiku-20241022"
UNPRICED_MODEL = "gpt-5-codex"
MODEL_MIX = {
    "claude-code": {SONNET_45: 0.66, OPUS_45: 0.12, OPUS_41: 0.07, SONNET_4: 0.07, HAIKU_45: 0.08},
    "cursor-agent": {SONNET_45: 0.55, OPUS_45: 0.15, SONNET_4: 0.20, HAIKU_45: 0.10},
    "aider": {SONNET_4: 0.45, SONNET_45: 0.30, HAIKU_35: 0.15, OPUS_41: 0.10},
    "codex-cli": {UNPRICED_MODEL: 1.0},
}
OPUS_FAN_SHARE, OPUS_FAN_BOOST = 0.2, 4.0
MAIN_PROJECT_SHARE = 0.7  # sessions in the person's main project; the rest spread over their team's projects
# Claude Code sends small background requests (titles, command checks) to a haiku model.
SIDE_REQUEST_AGENTS = ("claude-code",)
SIDE_REQUEST_SHARE = 0.12
OLD_SIDE_MODEL_SHARE = 0.25  # users on an older client still use claude-3-5-haiku for those
LONG_CONTEXT_MODELS = (SONNET_45, SONNET_4)
NATURAL_LONG_CONTEXT_SHARE = 0.004  # sessions on a 1M-context sonnet that grow past 200k tokens
CACHE_WRITING_MODELS = frozenset(m for mix in MODEL_MIX.values() for m in mix if m.startswith("claude-"))
CACHE_SPLIT_MIX = {"none": 0.35, "5m": 0.50, "1h": 0.15}  # whether usage carries the 5m/1h split, and TTL
ONE_HOUR_ONLY_SHARE = 0.6  # 1h-TTL requests writing only 1h cache; the others write part of it for 5 minutes

# Token sizes. A session's context starts at a base (system prompt, tools, memory files; uniform range) and grows
# by typed input, output and tool results (lognormal) until the agent compacts it.
BASE_CONTEXT = {
    "claude-code": (16_000, 22_000),
    "cursor-agent": (8_000, 12_000),
    "codex-cli": (9_000, 13_000),
    "aider": (3_000, 6_000),
}
LONG_BASE_CONTEXT = (150_000, 185_000)
WARM_SYSTEM_PROMPT_SHARE = 0.7  # the first request often reads the system prompt cached by another session
OUTPUT_MEDIAN, OUTPUT_SIGMA, OUTPUT_MAX = 380, 0.9, 32_000
OPUS_OUTPUT_FACTOR = 1.3
FIRST_TOKEN_MS, MS_PER_OUTPUT_TOKEN = 1_200, 14
TOOL_RESULT_MEDIAN, TOOL_RESULT_SIGMA, TOOL_RESULT_MAX = 1_400, 1.1, 40_000
TYPED_INPUT_SHARE = 0.15  # requests whose uncached input is a pasted/typed message rather than a few tokens
TYPED_INPUT_MU, TYPED_INPUT_SIGMA = math.log(800), 1.0
ROUTINE_INPUT_TOKENS = (1, 12)  # uncached input of an ordinary agentic request
COMPACTION_THRESHOLD, LONG_CONTEXT_COMPACTION_THRESHOLD = 160_000, 480_000
COMPACTION_SUMMARY = (6_000, 20_000)

# ---------------------------------------------------------------------------------------------------------------
# Rhythm
# ---------------------------------------------------------------------------------------------------------------

PRESENCE_BY_WEEKDAY = (0.88, 0.9, 0.9, 0.88, 0.75, 0.10, 0.06)  # Monday..Sunday
SESSIONS_PER_ACTIVE_WEEKDAY = 4.5
WEEKEND_SECOND_SESSION_SHARE = 0.3
ROLE_ACTIVITY = {"admin": 0.3, "director": 0.45, "manager": 0.65, "member": 1.0}
ACTIVITY_SIGMA = 0.45  # per-user lognormal activity level: some power users, some light users
VACATION_SHARE, VACATION_WEEKDAYS = 0.35, (3, 10)
# Local start hour mixture on workdays: (weight, kind, a, b): normal(mean a, sd b) or uniform(a, b).
WORKDAY_START_HOURS = (
    (0.44, "normal", 10.2, 1.1),  # morning
    (0.03, "uniform", 12.0, 13.0),  # lunch dip
    (0.45, "normal", 15.2, 1.5),  # afternoon
    (0.08, "uniform", 18.0, 23.75),  # late evening, some cross local midnight
)
WORKDAY_HOURS_CLAMP = (7.0, 23.75)
WEEKEND_START_HOURS = (9.5, 23.5)
REQUESTS_MEDIAN, REQUESTS_SIGMA, REQUESTS_MAX = 9, 1.0, 400
MARATHON_SHARE, MARATHON_MIN, MARATHON_ALPHA, MARATHON_MAX = 0.02, 40, 1.2, 600
PAUSE_SHARE, PAUSE_SECONDS = 0.08, (60, 1_500)  # the user reads, thinks, goes to a meeting
GAP_MEDIAN_S, GAP_SIGMA = 6.0, 0.9
TOOL_CALL_SHARE, TOOL_FAILURE_SHARE = 0.55, 0.06
TOOL_DURATION_MU, TOOL_DURATION_SIGMA, TOOL_DURATION_MAX_MS = math.log(800), 1.3, 600_000
TOOL_NAMES = ("Read", "Edit", "Bash", "Grep", "Glob", "Write", "TodoWrite", "WebFetch")
TOOL_WEIGHTS = (30, 25, 20, 10, 6, 5, 3, 1)
HEARTBEAT_MS = 300_000
END_STATUS_MIX = {"completed": 0.86, "cancelled": 0.09, "failed": 0.05}
NO_END_SHARE = 0.05

# ---------------------------------------------------------------------------------------------------------------
# Messy delivery
# ---------------------------------------------------------------------------------------------------------------

SHARDS_PER_DELIVERY = 3
LATE_DELIVERY_SHARE = 0.08  # delivered the day after the event's UTC date
REDELIVERY_SHARE = 0.02  # byte-identical copy in a later delivery folder
REDELIVERY_MAX_LAG_DAYS = 3
SAME_FILE_DUPLICATE_SHARE = 0.01
LATE_START_SHARE = 0.03  # session_started delivered a day after the session's requests
OFFSET_TIMESTAMP_SHARE = 0.05  # sessions whose client writes local time with a numeric offset
CRLF_SHARE, BOM_SHARE, EMPTY_FILE_SHARE, BLANK_LINE_SHARE = 0.10, 0.06, 0.08, 0.12
BAD_LINE_KINDS = (
    "truncated_json",
    "json_array",
    "missing_output_tokens",
    "string_token_count",
    "negative_token_count",
    "unparseable_timestamp",
    "started_without_user",
)
BAD_LINES_PER_KIND = 2
BAD_TIMESTAMPS = ("yesterday", "{year}-13-45T00:00:00Z")
FILE_TRAITS = ("bom", "crlf", "gzip", "empty", "blank")  # each guaranteed in at least one delivery

# ---------------------------------------------------------------------------------------------------------------
# Claude Code transcripts and OpenTelemetry logs
# ---------------------------------------------------------------------------------------------------------------

CLAUDE_CODE_DAYS = 30  # Claude Code deletes transcripts after 30 days; telemetry was switched on as long ago
TRANSCRIPT_MIN_USERS = 3  # at least this many of acme's people have collected ~/.claude folders
OTEL_ONLY_USER_SHARE, OTEL_ONLY_MIN_USERS = 0.15, 2  # acme people exporting telemetry, transcripts not collected
OTEL_WITH_TRANSCRIPTS_SHARE = 0.5  # transcript people who also export telemetry (from some day of the window)
OUTSIDE_EMAIL = "freelancer@outside.example"  # a collected folder whose email the directory lacks
OTEL_COLLECTOR = "sample-collector"  # otel/<collector>/<UTC date>/logs.jsonl[.gz]
OTEL_UNCOMPRESSED_DAYS = 2  # the collector gzips a day's file once this many newer days have files
CC_VERSIONS = ("2.0.14", "2.0.22", "2.0.31", "2.1.22", "2.1.39")
# 2.1.x also writes `progress` records (an `agent_progress` one embeds each subagent response, usage included),
# `queue-operation` and more `system` records, compaction agents (subagents/agent-acompact-<id>.jsonl), and
# `inference_geo` and `server_tool_use` in usage.
CURRENT_CC_VERSION = "2.1.39"
AGENT_PROGRESS_SHARE = 0.8  # subagent responses whose lines also reach the parent file as agent_progress copies
QUEUED_PROMPT_SHARE = 0.05  # prompts typed while Claude was busy: enqueued, then dequeued
INFERENCE_GEOS = ("not_available", "global")
INLINE_SIDECHAIN_VERSION = "1.0.98"  # 1.x: subagent lines inline in the main file
NO_REQUEST_ID_VERSION = "1.0.17"  # older 1.x: no requestId, one line per response, no 5m/1h split, costUSD
CC_MODEL_MIX = {SONNET_45: 0.72, OPUS_45: 0.12, OPUS_41: 0.06, SONNET_4: 0.10}
SUBAGENT_HAIKU_SHARE = 0.6  # Explore-style subagents run on haiku, the others on the session's model
BACKGROUND_MODEL = HAIKU_45  # titles and command checks: in telemetry, never in transcripts
BACKGROUND_REQUEST_SHARE = 0.3  # per prompt
CC_SESSIONS_PER_ACTIVE_WORKDAY = 2.0
TURNS_MEDIAN, TURNS_SIGMA, TURNS_MAX = 3, 0.9, 80  # prompts per session: heavy-tailed
STEPS_MEDIAN, STEPS_SIGMA, STEPS_MAX = 4, 0.8, 60  # API requests per prompt (the agentic loop)
SUBAGENT_STEPS = (3, 12)
PROMPT_GAP_MU, PROMPT_GAP_SIGMA = math.log(90.0), 1.0  # seconds until the person's next prompt
THINKING_SHARE, TEXT_SHARE = 0.3, 0.6  # content blocks of a response besides its tool call
STREAMED_SHARE, STREAM_STEP_MS = 0.4, 400  # earlier lines of the response carry a partial output_tokens
CC_TOOLS = ("Read", "Edit", "Bash", "Grep", "Glob", "Write", "TodoWrite", "Task")
CC_TOOL_WEIGHTS = (30, 22, 20, 10, 6, 5, 3, 4)
SUBAGENT_TOOLS, SUBAGENT_TOOL_WEIGHTS = ("Read", "Grep", "Glob", "Bash"), (40, 30, 20, 10)
SYNTHETIC_ERROR_SHARE = 0.01  # prompts first answered by a `<synthetic>` API error stub, then retried
RESUME_SHARE, RESUME_DELAY_S, RESUME_TURNS = 0.07, (1_800, 18_000), (1, 3)
TRUNCATED_FILE_SHARE = 0.004  # Claude Code killed mid-write: the file ends in half a line
ONE_HOUR_CACHE_SHARE = 0.12  # sessions writing their prompt cache with the 1h TTL
CC_LONG_CONTEXT_SHARE = 0.01  # sessions on the 1M-context sonnet that grow past 200K
SUMMARY_LINE_SHARE = 0.2  # files starting with the title of an earlier conversation
DEVCONTAINER_SHARE = 0.4  # people working in /workspaces/<repo>, which claude_code_projects.csv maps
OTEL_EXPORT_INTERVAL_MS = 5_000  # the SDK batches a user's records for this long into one exporter line
OTEL_INT_STYLES = ('{{"stringValue":"{}"}}', '{{"intValue":"{}"}}', '{{"intValue":{}}}')
OTEL_INT_STYLE_WEIGHTS = (0.7, 0.2, 0.1)
OTEL_TRUNCATED_LINES = 2  # the collector died mid-write twice
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
PROMPTS = (
    "fix the failing test in {file}",
    "add retries with backoff around the upload client in {file}",
    "refactor {file} so the parser is testable",
    "warum schlägt der Build auf main fehl? siehe {file}",
    "explain what {file} does and where it is called",
    "write a migration for the new column used in {file}",
    "optimise the query in {file}, it times out",
    "rename the helper in {file} and update all call sites",
    "¿puedes revisar el manejo de errores en {file}?",
    "add type hints to {file} and fix what mypy reports",
)
RESPONSES = (
    "I'll start by reading {file}.",
    "The test fails because the fixture in {file} is created twice.",
    "Done: the retry in {file} now backs off exponentially.",
    "Die Ursache ist ein fehlender Import in {file}.",
    "I updated the call sites of {file} and ran the tests: all green.",
    "Here is a summary of the change to {file}.",
)
THOUGHTS = ("The user wants {file} changed; check its callers first.", "Tests for {file} live next to it.")
SOURCE_FILES = (
    "src/app.py",
    "src/api/handlers.py",
    "src/core/models.py",
    "tests/test_api.py",
    "README.md",
    "src/lib/parser.ts",
    "src/components/Table.tsx",
    "firmware/motor.c",
    "Makefile",
    "docs/index.md",
)
SUMMARIES = (
    "Fix flaky invoice test",
    "Retry uploads with backoff",
    "Parser refactor",
    "Build failure on main",
    "Query timeout investigation",
)
BRANCHES = ("main", "main", "main", "develop", "feature/invoice-rounding", "fix/retry-backoff", "ci-cache")
TOOL_RESULT_LINES = (1, 4, 12, 40, 120, 250)  # lines of a file a tool call returns
TOOL_RESULT_LINE_WEIGHTS = (20, 25, 25, 18, 9, 3)

DAY_MS = 86_400_000
EPOCH = datetime.date(1970, 1, 1)
_UUID_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID_SET = (0x4 << 76) | (0x2 << 62)


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


@dataclass(frozen=True)
class _Person:
    org: OrgSpec
    user_id: str
    email: str
    name: str
    team: str
    manager_id: str
    role: str  # member | manager | admin (directors are managers)
    activity: float
    agent: str
    opus_fan: bool
    side_model: str
    projects: tuple[ProjectSpec, ...]  # preferred first
    vacation: tuple[datetime.date, datetime.date] | None


@dataclass(frozen=True)
class _SessionPlan:
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


# ---------------------------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------------------------


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

    people = _build_people(random.Random(f"{seed}:directory"), users, start_date, days)
    _write_directory(directory_dir, people)

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
    if "platform" in sources:
        counts = _write_platform(raw_dir, people, dates, seed=seed, gzip_share=gzip_share)
    window = dates[-CLAUDE_CODE_DAYS:]
    rng = random.Random(f"{seed}:claude_code")
    claude_code_users = _claude_code_users(rng, people, transcript_user_share, _epoch_day(window[0]), len(window))
    if "claude_code" in sources or "otel" in sources:
        _remove_previous_claude_code_output(raw_dir, sources)
        writer = _ClaudeCodeWriter(raw_dir, rng, end_date, sources, claude_code_scale)
        writer.write_window(claude_code_users, window)
        counts |= writer.counts | {"transcript_users": len(writer.collected)}
    if set(sources) & set(sample_agents.SOURCES):
        candidates = _agent_log_users(claude_code_users, people)
        counts["agent_log_requests"] = sample_agents.write_agent_logs(raw_dir, sources, candidates, window, seed)
    return SampleSummary(
        orgs=[MAIN_ORG.org_id, SECOND_ORG.org_id], users=users, start_date=start_date, end_date=end_date, **counts
    )


def _write_platform(raw_dir: Path, people: list[_Person], dates: list[datetime.date], *, seed, gzip_share) -> dict:
    start_date, end_date = dates[0], dates[-1]
    _remove_previous_output(raw_dir / "platform")
    showcase = _showcase_plans(random.Random(f"{seed}:showcase"), people, dates)
    writer = _DeliveryWriter(
        raw_dir / "platform",
        random.Random(f"{seed}:delivery"),
        start_date,
        end_date,
        gzip_share,
    )
    activity_rng = random.Random(f"{seed}:activity")
    directory_people = [p for p in people if p.user_id != UNKNOWN_USER_ID]
    for local_date in dates:
        for plan in _natural_plans(activity_rng, directory_people, local_date):
            writer.emit(plan)
        for plan in showcase.get(local_date, ()):
            writer.emit(plan)
        # Later local days start after this date's UTC midnight (local midnight is at most UTC+14 hours ahead
        # and sessions start after 7:00), and deliveries never precede the event: older folders are complete.
        writer.flush_before(_epoch_day(local_date))
    writer.flush_before(_epoch_day(end_date) + 2)
    return writer.summary()


# ---------------------------------------------------------------------------------------------------------------
# Directory
# ---------------------------------------------------------------------------------------------------------------


def _build_people(rng: random.Random, users: int, start: datetime.date, days: int) -> list[_Person]:
    """Both orgs' hierarchies (admin > director > team managers > members), plus the unlisted contractor last."""
    second = max(SECOND_ORG_MIN_USERS, round(users * SECOND_ORG_SHARE))
    people: list[_Person] = []
    for org, size, spotlight in ((MAIN_ORG, users - second, SPOTLIGHT_PEOPLE), (SECOND_ORG, second, ())):
        names = _names(rng, org, size, spotlight)
        people += _org_chart(
            rng, org, names, first_number=len(people) + 1, width=max(4, len(str(users))), start=start, days=days
        )
    contractor = _person(
        rng,
        MAIN_ORG,
        UNKNOWN_USER_ID,
        ("Casey Contractor", "casey"),
        "",
        "",
        "member",
        (UNKNOWN_PROJECT, *PROJECTS[MAIN_ORG.org_id][:2]),
        start,
        days,
    )
    return people + [replace(contractor, agent="claude-code")]


def _names(rng: random.Random, org: OrgSpec, size: int, spotlight) -> list[tuple[str, str]]:
    """(display name, email local part) for `size` people, the spotlight names among them, in random order."""
    spotlight = list(spotlight[:size])
    combos = rng.sample(range(len(FIRST_NAMES) * len(LAST_NAMES)), size - len(spotlight))
    names = spotlight + [
        _name_and_local(FIRST_NAMES[i // len(LAST_NAMES)], LAST_NAMES[i % len(LAST_NAMES)]) for i in combos
    ]
    rng.shuffle(names)
    seen: dict[str, int] = {}
    unique = []
    for name, local in names:  # two people folding to the same ASCII name get a number
        seen[local] = seen.get(local, 0) + 1
        unique.append((name, local if seen[local] == 1 else f"{local}{seen[local]}"))
    return unique


def _name_and_local(first: str, last: str) -> tuple[str, str]:
    def fold(text: str) -> str:
        plain = unicodedata.normalize("NFKD", text.translate(ASCII_FOLD))
        return "".join(c for c in plain if c.isascii() and (c.isalnum() or c == "-")).lower()

    return f"{first} {last}", f"{fold(first)}.{fold(last)}"


def _org_chart(rng, org, names, *, first_number, width, start, days) -> list[_Person]:
    """admin > director (orgs of 7 or more) > team managers > 4-8 members per team; ids are global."""
    projects = PROJECTS[org.org_id]
    ids = [f"u-{first_number + i:0{width}d}" for i in range(len(names))]
    cursor = iter(zip(ids, names))

    def add(role: str, team: str, manager_id: str, team_projects) -> _Person:
        user_id, name = next(cursor)
        person = _person(rng, org, user_id, name, team, manager_id, role, team_projects, start, days)
        chart.append(person)
        return person

    chart: list[_Person] = []
    shuffled = tuple(rng.sample(projects, len(projects)))
    top = add("admin", LEADERSHIP_TEAM, "", shuffled)
    head = top
    if len(names) >= DIRECTOR_MIN_ORG_SIZE:
        head = add("director", LEADERSHIP_TEAM, top.user_id, shuffled[1:] + shuffled[:1])
    team_names = _team_names(rng, len(names))
    for index, size in enumerate(_team_sizes(rng, len(names) - len(chart))):
        team_projects = (projects[index % len(projects)], projects[(index * 3 + 1) % len(projects)])
        manager = add("manager", team_names[index], head.user_id, team_projects)
        for _ in range(size - 1):
            add("member", team_names[index], manager.user_id, team_projects)
    return chart


def _team_names(rng: random.Random, count: int) -> list[str]:
    """Distinct team names in a random order; large orgs get "Platform 2" and so on."""
    base = rng.sample(TEAM_NAMES, len(TEAM_NAMES))
    return [base[i % len(base)] + (f" {i // len(base) + 1}" if i >= len(base) else "") for i in range(count)]


def _team_sizes(rng: random.Random, people: int) -> list[int]:
    """Team sizes including the manager, each 5..9 when enough people are left."""
    if people <= 0:
        return []
    smallest, largest = TEAM_MEMBERS_MIN + 1, TEAM_MEMBERS_MAX + 1
    fewest, most = math.ceil(people / largest), max(1, people // smallest)
    teams = min(max(round(people / (TEAM_MEMBERS_TYPICAL + 1)), fewest), most)
    sizes = [people // teams + (1 if i < people % teams else 0) for i in range(teams)]
    for _ in range(2 * teams):  # uneven but within bounds
        give, take = rng.randrange(teams), rng.randrange(teams)
        if sizes[give] > smallest and sizes[take] < largest:
            sizes[give] -= 1
            sizes[take] += 1
    return sizes


def _person(rng, org, user_id, name, team, manager_id, role, projects, start, days) -> _Person:
    """One person with their habits; `role` may be "director", written to the directory as a manager."""
    display, local = name
    vacation = None
    if role == "member" and rng.random() < VACATION_SHARE:
        first = start + datetime.timedelta(days=rng.randrange(days))
        vacation = (first, first + datetime.timedelta(days=rng.randint(*VACATION_WEEKDAYS) * 7 // 5))
    return _Person(
        org=org,
        user_id=user_id,
        email=f"{local}@{org.email_domain}",
        name=display,
        team=team,
        manager_id=manager_id,
        role="manager" if role == "director" else role,
        activity=ROLE_ACTIVITY[role] * rng.lognormvariate(0.0, ACTIVITY_SIGMA),
        agent=_pick(rng, AGENT_MIX),
        opus_fan=rng.random() < OPUS_FAN_SHARE,
        side_model=HAIKU_35 if rng.random() < OLD_SIDE_MODEL_SHARE else HAIKU_45,
        projects=tuple(projects),
        vacation=vacation,
    )


def _write_directory(directory_dir: Path, people: list[_Person]) -> None:
    directory_dir.mkdir(parents=True, exist_ok=True)
    listed = [p for p in people if p.user_id != UNKNOWN_USER_ID]
    tables = {
        "orgs.csv": (("org_id", "name", "timezone"), [(o.org_id, o.name, o.timezone) for o in (MAIN_ORG, SECOND_ORG)]),
        "users.csv": (
            ("org_id", "user_id", "email", "name", "team", "manager_id", "role"),
            [(p.org.org_id, p.user_id, p.email, p.name, p.team, p.manager_id, p.role) for p in listed],
        ),
        "projects.csv": (
            ("org_id", "project_id", "name", "kind"),
            [(org, p.project_id, p.name, p.kind) for org, specs in sorted(PROJECTS.items()) for p in specs],
        ),
        "claude_code_projects.csv": (
            ("path_prefix", "project_id", "repository", "org_id"),
            _claude_code_path_mappings(),
        ),
    }
    for file_name, (header, rows) in tables.items():
        with open(directory_dir / file_name, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


# ---------------------------------------------------------------------------------------------------------------
# Activity plans
# ---------------------------------------------------------------------------------------------------------------


def _natural_plans(rng: random.Random, people: list[_Person], local_date: datetime.date) -> list[_SessionPlan]:
    """Who works on this local date and how many sessions they start: weekdays busy, weekends quiet."""
    weekday = local_date.weekday()
    presence = PRESENCE_BY_WEEKDAY[weekday]
    plans = []
    for person in people:
        if person.vacation and person.vacation[0] <= local_date <= person.vacation[1]:
            continue
        if rng.random() >= min(0.97, presence * (0.6 + 0.4 * min(person.activity, 2.0))):
            continue
        if weekday < 5:
            count = max(1, _poisson(rng, SESSIONS_PER_ACTIVE_WEEKDAY * person.activity))
        else:
            count = 2 if rng.random() < WEEKEND_SECOND_SESSION_SHARE else 1
        plans += [_plan_session(rng, person, local_date) for _ in range(count)]
    return plans


def _plan_session(
    rng: random.Random,
    person: _Person,
    local_date: datetime.date,
    *,
    local_hour: float | None = None,
    agent: str | None = None,
    model: str | None = None,
    project: ProjectSpec | None = None,
    offset: bool | None = None,
    **pinned,
) -> _SessionPlan:
    """A session's shape drawn from the person's habits. Showcase sessions pin some choices: `agent`, `model`,
    `project` and `offset` (local-time timestamps) before the draws that depend on them, `pinned` plan fields
    after."""
    if local_hour is None:
        local_hour = _start_hour(rng, local_date.weekday() < 5)
    midnight = datetime.datetime.combine(local_date, datetime.time(), tzinfo=zoneinfo.ZoneInfo(person.org.timezone))
    local_start = midnight + datetime.timedelta(seconds=int(local_hour * 3600), milliseconds=rng.randrange(1000))
    agent = agent or (person.agent if rng.random() < AGENT_LOYALTY else _pick(rng, AGENT_MIX))
    boost = OPUS_FAN_BOOST if person.opus_fan else 1.0
    model = model or _pick(rng, {m: w * (boost if "opus" in m else 1.0) for m, w in MODEL_MIX[agent].items()})
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
    plan = _SessionPlan(
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
        cache_split=_pick(rng, CACHE_SPLIT_MIX) if model in CACHE_WRITING_MODELS else "none",
        end_status=None if rng.random() < NO_END_SHARE else _pick(rng, END_STATUS_MIX),
        offset_minutes=int(local_start.utcoffset().total_seconds() // 60) if offset else None,
        long_context=model in LONG_CONTEXT_MODELS and rng.random() < NATURAL_LONG_CONTEXT_SHARE,
        late_start=rng.random() < LATE_START_SHARE,
    )
    return replace(plan, **pinned)


def _showcase_plans(rng: random.Random, people: list[_Person], dates: list[datetime.date]):
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
    plans: dict[datetime.date, list[_SessionPlan]] = {}
    for index, (pool, hour, overrides) in enumerate(specs):
        person = rng.choice(pool)
        local_date = rng.choice(workdays)
        hour = hour if hour is not None else rng.uniform(*day_hours)
        carried = tuple(bad[index :: len(specs)])
        plan = _plan_session(rng, person, local_date, local_hour=hour, bad_kinds=carried, **overrides)
        plans.setdefault(local_date, []).append(plan)
    return plans


def _start_hour(rng: random.Random, workday: bool) -> float:
    if not workday:
        return rng.uniform(*WEEKEND_START_HOURS)
    weight = rng.random()
    for share, kind, a, b in WORKDAY_START_HOURS:  # noqa: B007 - the chosen row is used after the loop
        weight -= share
        if weight < 0:
            break
    hour = rng.gauss(a, b) if kind == "normal" else rng.uniform(a, b)
    return min(max(hour, WORKDAY_HOURS_CLAMP[0]), WORKDAY_HOURS_CLAMP[1])


# ---------------------------------------------------------------------------------------------------------------
# Events and delivery
# ---------------------------------------------------------------------------------------------------------------


class _DeliveryWriter:
    """Turns session plans into event lines, routes each line to a delivery folder and shard file, and writes
    folders once complete. All messy-delivery decisions are made here."""

    def __init__(self, root: Path, rng: random.Random, start: datetime.date, end: datetime.date, gzip_share: float):
        self.root, self.rng, self.gzip_share = root, rng, gzip_share
        self.start_date, self.end_date = start, end
        self.first_folder = _epoch_day(start)
        self.last_folder = _epoch_day(end) + 1  # deliveries never come from the future
        self.cutoff_ms = (_epoch_day(end) + 1) * DAY_MS  # events after the end date are not sent yet
        self.buffers: dict[int, list[list[str]]] = {}
        self.day_prefix: dict[int, str] = {}
        self.flushed_before = -1
        self.counts = dict.fromkeys(
            (
                "sessions",
                "model_requests",
                "unique_events",
                "duplicate_lines",
                "bad_lines",
                "blank_lines",
                "files",
                "delivery_folders",
            ),
            0,
        )
        # Every file trait appears at least once: pinned to a random workday folder each.
        core = [d for d in range(self.first_folder, self.last_folder) if _date(d).weekday() < 5]
        core = core or list(range(self.first_folder, self.last_folder))
        self.showcase_folder = {trait: rng.choice(core) for trait in FILE_TRAITS}

    # ---- events -------------------------------------------------------------------------------------------

    def emit(self, plan: _SessionPlan) -> None:
        """Generate one session's events (token usage follows a growing, cached context) and route them."""
        if plan.start_ms >= self.cutoff_ms:  # starts after the snapshot: nothing sent yet
            return
        rng = self.rng
        rand, lognorm, bits, randint = rng.random, rng.lognormvariate, rng.getrandbits, rng.randint
        fmt = self._formatter(plan.offset_minutes)
        session_id = _uuid(bits)
        head = '{"schema_version":1,"event_id":"'
        middle = f'","org_id":"{plan.org_id}","session_id":"{session_id}","timestamp":"'
        cache_writes = plan.model in CACHE_WRITING_MODELS
        split, model, side_model = plan.cache_split, plan.model, plan.side_model
        opus = OPUS_OUTPUT_FACTOR if "opus" in model else 1.0
        out_mu, tool_mu, gap_mu = math.log(OUTPUT_MEDIAN * opus), math.log(TOOL_RESULT_MEDIAN), math.log(GAP_MEDIAN_S)
        ttl_ms = 3_600_000 if split == "1h" else 300_000

        t0 = t = plan.start_ms
        repository = "null" if plan.repository is None else f'"{plan.repository}"'
        started = (
            f'{head}{_uuid(bits)}","event_type":"session_started{middle}{fmt(t)}","user_id":"{plan.user_id}",'
            f'"agent":"{plan.agent}","agent_version":"{plan.agent_version}",'
            f'"project_id":"{plan.project_id}","repository":{repository}}}'
        )
        events: list[tuple[int, str]] = []
        requests = 0
        low, high = LONG_BASE_CONTEXT if plan.long_context else BASE_CONTEXT[plan.agent]
        base = randint(low, high)
        context = base
        cached = base if rand() < WARM_SYSTEM_PROMPT_SHARE else 0
        threshold = LONG_CONTEXT_COMPACTION_THRESHOLD if plan.long_context else COMPACTION_THRESHOLD
        t += randint(1_500, 25_000)
        for index in range(plan.requests):
            if index:  # agent work, tool runs and the occasional human pause between requests
                gap = randint(*PAUSE_SECONDS) * 1000 if rand() < PAUSE_SHARE else int(lognorm(gap_mu, GAP_SIGMA) * 1000)
                if gap > ttl_ms:  # the prompt cache expired meanwhile; maybe the system prompt is warm elsewhere
                    cached = base if rand() < WARM_SYSTEM_PROMPT_SHARE else 0
                t += gap
            if side_model and rand() < SIDE_REQUEST_SHARE:  # a small uncached background request just before
                events.append(
                    (
                        t - 700,
                        f'{head}{_uuid(bits)}","event_type":"model_request{middle}{fmt(t - 700)}",'
                        f'"request_id":"req_{bits(96):024x}","model":"{side_model}","usage":{{"input_tokens":'
                        f'{randint(80, 1_500)},"output_tokens":{randint(5, 80)},'
                        '"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}',
                    )
                )
                requests += 1
            # The prompt is the context so far (cached prefix + written to cache) plus a few new typed tokens.
            output = min(OUTPUT_MAX, 1 + int(lognorm(out_mu, OUTPUT_SIGMA)))
            if rand() < TYPED_INPUT_SHARE:
                typed = 1 + int(lognorm(TYPED_INPUT_MU, TYPED_INPUT_SIGMA))
            else:
                typed = randint(*ROUTINE_INPUT_TOKENS)
            t += FIRST_TOKEN_MS + output * MS_PER_OUTPUT_TOKEN
            if cache_writes:
                input_tokens, creation, read = typed, context - cached, cached
            else:  # automatic prompt caching without cache writes
                input_tokens, creation, read = typed + context - cached, 0, cached
            if split == "none":
                usage_split = ""
            else:
                one_hour = 0 if split == "5m" else creation if rand() < ONE_HOUR_ONLY_SHARE else int(creation * rand())
                usage_split = (
                    f',"cache_creation":{{"ephemeral_5m_input_tokens":{creation - one_hour},'
                    f'"ephemeral_1h_input_tokens":{one_hour}}}'
                )
            request_id = f"req_{bits(96):024x}"
            events.append(
                (
                    t,
                    f'{head}{_uuid(bits)}","event_type":"model_request{middle}{fmt(t)}",'
                    f'"request_id":"{request_id}","model":"{model}","usage":{{"input_tokens":{input_tokens},'
                    f'"output_tokens":{output},"cache_creation_input_tokens":{creation},'
                    f'"cache_read_input_tokens":{read}{usage_split}}}}}',
                )
            )
            requests += 1
            cached = context
            context += typed + output
            if rand() < TOOL_CALL_SHARE:
                duration = min(TOOL_DURATION_MAX_MS, int(lognorm(TOOL_DURATION_MU, TOOL_DURATION_SIGMA)))
                t += duration
                tool = rng.choices(TOOL_NAMES, TOOL_WEIGHTS)[0]
                success = "false" if rand() < TOOL_FAILURE_SHARE else "true"
                events.append(
                    (
                        t,
                        f'{head}{_uuid(bits)}","event_type":"tool_call{middle}{fmt(t)}",'
                        f'"request_id":"{request_id}","tool_name":"{tool}","duration_ms":{duration},'
                        f'"success":{success}}}',
                    )
                )
                context += min(TOOL_RESULT_MAX, int(lognorm(tool_mu, TOOL_RESULT_SIGMA)))
            if context > threshold:  # the agent compacts the conversation into a summary
                context, cached = base + randint(*COMPACTION_SUMMARY), base
        if plan.end_status:
            t += randint(1_000, 60_000)
            events.append(
                (t, f'{head}{_uuid(bits)}","event_type":"session_ended{middle}{fmt(t)}","status":"{plan.end_status}"}}')
            )
        for beat in range(1, (t - t0) // HEARTBEAT_MS + 1):
            at = min(t - 1, t0 + beat * HEARTBEAT_MS + randint(0, 2_000))
            events.append((at, f'{head}{_uuid(bits)}","event_type":"heartbeat{middle}{fmt(at)}","seq":{beat}}}'))

        if t >= self.cutoff_ms:  # still running at the cutoff: later events are not sent yet
            events = [event for event in events if event[0] < self.cutoff_ms]
            requests = sum('"event_type":"model_request"' in line for _, line in events)
        self.counts["sessions"] += 1
        self.counts["model_requests"] += requests
        bad_lines = [_corrupt(rng, kind, copy, started, events) for kind, copy in plan.bad_kinds]
        self._route(events, (t0, started), plan.late_start)
        for line in bad_lines:  # extra lines beside the good copy, in the session's first delivery
            self._open_folder(t0 // DAY_MS)[int(rand() * SHARDS_PER_DELIVERY)].append(line)
        self.counts["bad_lines"] += len(bad_lines)

    def _route(self, events: list[tuple[int, str]], start: tuple[int, str], late_start: bool) -> None:
        """Delivery folder (event's UTC date or a day late), shard, and the occasional duplicate copy."""
        rand, last, buffers, counts = self.rng.random, self.last_folder, self.buffers, self.counts
        latest = self.first_folder
        for position, (at, line) in enumerate((*events, start)):
            folder = at // DAY_MS
            if position == len(events) and late_start:  # the start arrives a day after everything else
                folder = max(folder, latest) + 1
            elif rand() < LATE_DELIVERY_SHARE:
                folder += 1
            folder = min(folder, last)
            latest = max(latest, folder)
            shard = (buffers.get(folder) or self._open_folder(folder))[int(rand() * SHARDS_PER_DELIVERY)]
            shard.append(line)
            copy = rand()
            if copy < SAME_FILE_DUPLICATE_SHARE:
                shard.append(line)
            elif copy < SAME_FILE_DUPLICATE_SHARE + REDELIVERY_SHARE:
                later = min(last, folder + 1 + int(rand() * REDELIVERY_MAX_LAG_DAYS))
                (buffers.get(later) or self._open_folder(later))[int(rand() * SHARDS_PER_DELIVERY)].append(line)
            else:
                continue
            counts["duplicate_lines"] += 1
        counts["unique_events"] += len(events) + 1

    def _open_folder(self, folder: int) -> list[list[str]]:
        """The folder's shard buffers, created on first use."""
        shards = self.buffers.get(folder)
        if shards is None:
            if folder < self.flushed_before:  # a bug in the day ordering, not bad input
                raise AssertionError(f"delivery {_date(folder)} was already written")
            shards = self.buffers[folder] = [[] for _ in range(SHARDS_PER_DELIVERY)]
        return shards

    def _formatter(self, offset_minutes: int | None):
        """RFC 3339 timestamp of epoch milliseconds: `...T09:14:03.120Z`, or local time with a numeric offset
        and whole seconds (the same instant, truncated to the second)."""
        if offset_minutes is None:
            return _utc_formatter(self.day_prefix)
        prefix = _day_prefix(self.day_prefix)
        sign = "+" if offset_minutes >= 0 else "-"
        suffix = f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"

        def with_offset(ms: int) -> str:
            day, rest = divmod(ms + offset_minutes * 60_000, DAY_MS)
            seconds = rest // 1000
            hours, seconds = divmod(seconds, 3600)
            minutes, seconds = divmod(seconds, 60)
            return f"{prefix(day)}{hours:02d}:{minutes:02d}:{seconds:02d}{suffix}"

        return with_offset

    # ---- files --------------------------------------------------------------------------------------------

    def flush_before(self, folder_limit: int) -> None:
        """Write every delivery folder older than `folder_limit`; no later session can reach them."""
        pinned = {f for f in self.showcase_folder.values() if self.flushed_before <= f < folder_limit}
        for folder in sorted({f for f in self.buffers if f < folder_limit} | pinned):
            shards = self.buffers.pop(folder, None) or [[] for _ in range(SHARDS_PER_DELIVERY)]
            self._write_folder(folder, shards)
        self.flushed_before = max(self.flushed_before, folder_limit)

    def _write_folder(self, folder: int, shards: list[list[str]]) -> None:
        """Shuffle each shard and write it with its file traits (gzip, CRLF, BOM, blank lines). Traits pinned to
        this folder go to fixed shards so they never collide; the pinned BOM and CRLF files stay uncompressed."""
        rand, rng = self.rng.random, self.rng
        pinned = {trait for trait, day in self.showcase_folder.items() if day == folder}
        path = self.root / _date(folder).isoformat()
        path.mkdir(parents=True, exist_ok=True)
        self.counts["delivery_folders"] += 1
        for index, lines in enumerate(shards):
            rng.shuffle(lines)
            pinned_bom, pinned_crlf = index == 0 and "bom" in pinned, index == 1 and "crlf" in pinned
            gz = self.gzip_share > 0 and (rand() < self.gzip_share or (index == 2 and "gzip" in pinned))
            gz = gz and not (pinned_bom or pinned_crlf)
            crlf = rand() < CRLF_SHARE or pinned_crlf
            bom = not gz and (rand() < BOM_SHARE or pinned_bom)
            if lines and (rand() < BLANK_LINE_SHARE or (index == 0 and "blank" in pinned)):
                lines.insert(rng.randrange(len(lines) + 1), "")
                self.counts["blank_lines"] += 1
            newline = "\r\n" if crlf else "\n"
            text = ("\ufeff" if bom else "") + newline.join(lines) + (newline if lines else "")
            self._write_file(path / f"ingest-{index:02d}.jsonl", text.encode("utf-8"), gz)
        if rand() < EMPTY_FILE_SHARE or "empty" in pinned:  # an ingest shard that received nothing
            self._write_file(path / f"ingest-{SHARDS_PER_DELIVERY:02d}.jsonl", b"", False)

    def _write_file(self, path: Path, data: bytes, gz: bool) -> None:
        if gz:
            _write_gzip(path.with_name(path.name + ".gz"), data)
        else:
            path.write_bytes(data)
        self.counts["files"] += 1

    def summary(self) -> dict[str, int]:
        return self.counts | {"events_written": self.counts["unique_events"] + self.counts["duplicate_lines"]}


# ---------------------------------------------------------------------------------------------------------------
# Claude Code transcripts and OpenTelemetry logs
# ---------------------------------------------------------------------------------------------------------------


def _escaped(text: str) -> str:
    """The text as it sits inside a JSON string, escapes included."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _code_lines(count: int) -> str:
    lines = [
        f'def handler_{i}(request):  # größe "{i}"\n    return respond(request, status=200, body="\\t{i}")'
        for i in range(count)
    ]
    return "\n".join(lines)


# Content texts, JSON-escaped once: the writer pastes them into lines without per-line encoding.
_PROMPT_TEXTS = tuple(_escaped(p.format(file=f)) for p in PROMPTS for f in SOURCE_FILES)
_RESPONSE_TEXTS = tuple(_escaped(r.format(file=f)) for r in RESPONSES for f in SOURCE_FILES)
_THOUGHT_TEXTS = tuple(_escaped(t.format(file=f)) for t in THOUGHTS for f in SOURCE_FILES)
_TOOL_RESULTS = tuple((_escaped(_code_lines(n)), len(_code_lines(n)) // 4) for n in TOOL_RESULT_LINES)


@dataclass(frozen=True)
class _ClaudeCodeUser:
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


def _claude_code_users(
    rng: random.Random, people: list[_Person], share: float, first_day: int, days: int
) -> list[_ClaudeCodeUser]:
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
        repositories = [r for project in person.projects for r in project.repositories]
        picked = list(dict.fromkeys([repositories[0], *rng.sample(repositories, min(2, len(repositories)))]))
        local = person.email.split("@")[0]
        home = "/workspaces" if devcontainer else rng.choice((f"/home/{local}/src", f"/Users/{local}/code"))
        users.append(
            _ClaudeCodeUser(
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
                account_uuid=_uuid(rng.getrandbits),
                terminal=rng.choice(TERMINALS),
            )
        )
    users.append(
        _ClaudeCodeUser(
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
            account_uuid=_uuid(rng.getrandbits),
            terminal="tmux",
        )
    )
    return users


def _agent_log_users(claude_code_users: list[_ClaudeCodeUser], people: list[_Person]) -> list[sample_agents.SampleUser]:
    """Who uses the other agents: the Claude Code users with collected transcripts first (their checkouts and
    repositories), then acme people who use no Claude Code."""
    by_email = {person.email: person for person in people}
    candidates, seen = [], set()
    for user in claude_code_users:
        person = by_email.get(user.email)
        if person is None or not user.transcripts:
            continue
        repositories = [r for project in person.projects for r in project.repositories]
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
        repositories = [r for project in person.projects for r in project.repositories][:2]
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


def _claude_code_path_mappings() -> list[tuple[str, str, str, str]]:
    """claude_code_projects.csv: the shared dev-container checkouts of acme's repositories. Checkouts in
    people's home folders are not listed: they fall back to the folder name."""
    return [
        (f"/workspaces/{repository.split('/')[-1]}", project.project_id, repository, MAIN_ORG.org_id)
        for project in PROJECTS[MAIN_ORG.org_id]
        for repository in project.repositories
    ]


class _Cutoff(Exception):
    """The snapshot is taken mid-session: later lines and records do not exist yet."""


class _Conversation:
    """One transcript stream (a session file, or a subagent's) and the prompt-cache state of its context."""

    def __init__(
        self,
        *,
        session_id: str,
        cwd: str,
        version: str,
        branch: str,
        model: str,
        base: int,
        one_hour: bool,
        threshold: int,
        lines: list[str] | None,
        agent_id: str | None = None,
        sidechain: bool = False,
        progress_to: _Conversation | None = None,
    ) -> None:
        self.session_id, self.cwd, self.version, self.branch = session_id, cwd, version, branch
        self.model, self.base, self.one_hour, self.threshold = model, base, one_hour, threshold
        self.lines, self.agent_id, self.sidechain = lines, agent_id, sidechain
        self.cwd_json = _escaped(cwd)
        self.context, self.cached, self.last_ms, self.parent = base, 0, 0, "null"
        self.with_request_id = version != NO_REQUEST_ID_VERSION
        self.subagent_files: dict[str, list[str]] = {}
        self.progress_to = progress_to  # the parent conversation that gets agent_progress copies of responses
        self.writes_progress = version.startswith("2.1.")
        side = "true" if sidechain else "false"
        agent = f'"agentId":"{agent_id}",' if agent_id else ""
        self.prefix = (
            f'"isSidechain":{side},{agent}"userType":"external","cwd":"{self.cwd_json}",'
            f'"sessionId":"{session_id}","version":"{version}",'
            f'"gitBranch":"{_escaped(branch)}"'
        )


class _ClaudeCodeWriter:
    """Simulates Claude Code sessions once and writes what each user's setup records of them: transcript files
    (lines hand-formatted in Claude Code's compact JSON) and/or OpenTelemetry records, batched per user into
    collector lines and written per UTC day once no later session can reach that day."""

    def __init__(self, raw_dir: Path, rng: random.Random, end: datetime.date, sources, scale: float) -> None:
        self.transcripts_root = raw_dir / "claude_code" if "claude_code" in sources else None
        self.otel_root = raw_dir / "otel" / OTEL_COLLECTOR if "otel" in sources else None
        self.rng, self.scale = rng, scale
        self.cutoff_ms = (_epoch_day(end) + 1) * DAY_MS
        self.last_day = _epoch_day(end)
        self.fmt = _utc_formatter()
        self.otel_days: dict[int, list[tuple[int, str]]] = {}
        self.truncated_otel_lines = 0
        self.otel_recent: list[tuple[int, bytes]] = []  # the newest days' files, written plain at the end
        self.collected: set[str] = set()
        self.counts = dict.fromkeys(
            (
                "transcript_sessions",
                "transcript_files",
                "transcript_lines",
                "otel_files",
                "otel_lines",
                "otel_records",
                "otel_api_requests",
            ),
            0,
        )
        self.session_events: list[tuple[int, str]] | None = None
        self.session_attributes = ""

    # ---- rhythm -------------------------------------------------------------------------------------------

    def write_window(self, users: list[_ClaudeCodeUser], dates: list[datetime.date]) -> None:
        rng = self.rng
        pending = {user.email: list(user.showcase) for user in users if user.showcase}
        for local_date in dates:
            weekday = local_date.weekday()
            for user in users:
                if user.vacation and user.vacation[0] <= local_date <= user.vacation[1]:
                    continue
                count = 0
                if rng.random() < min(0.97, PRESENCE_BY_WEEKDAY[weekday] * (0.6 + 0.4 * min(user.activity, 2.0))):
                    if weekday < 5:
                        count = max(1, _poisson(rng, CC_SESSIONS_PER_ACTIVE_WORKDAY * user.activity * self.scale))
                    else:
                        count = 2 if rng.random() < WEEKEND_SECOND_SESSION_SHARE else 1
                # all showcase sessions on the first workday present: vacations may follow
                showcase = pending.pop(user.email, []) if weekday < 5 else []
                count = max(count, len(showcase))
                midnight = datetime.datetime.combine(local_date, datetime.time(), zoneinfo.ZoneInfo(user.timezone))
                for index in range(count):
                    start = midnight + datetime.timedelta(seconds=int(_start_hour(rng, weekday < 5) * 3600))
                    traits = showcase[index] if index < len(showcase) else frozenset()
                    self.session(user, int(start.timestamp() * 1000) + rng.randrange(1000), traits)
            self.flush_before(_epoch_day(local_date))  # as in _write_platform: earlier UTC days are complete
        self.flush_before(self.last_day + 2)
        for day, data in self.otel_recent:
            self._write_otel_file(day, data, gzipped=False)

    # ---- one session --------------------------------------------------------------------------------------

    def session(self, user: _ClaudeCodeUser, start_ms: int, traits: frozenset[str]) -> None:
        rng = self.rng
        rand = rng.random
        if start_ms >= self.cutoff_ms:
            return
        transcripts = user.transcripts and self.transcripts_root is not None
        otel_on = user.otel_from_day is not None and start_ms // DAY_MS >= user.otel_from_day
        otel = self.otel_root is not None and otel_on
        if not (transcripts or otel):
            return
        boost = OPUS_FAN_BOOST if user.opus_fan else 1.0
        model = (
            SONNET_45
            if "long_context" in traits
            else _pick(rng, {m: w * (boost if "opus" in m else 1.0) for m, w in CC_MODEL_MIX.items()})
        )
        long_context = "long_context" in traits or (model in LONG_CONTEXT_MODELS and rand() < CC_LONG_CONTEXT_SHARE)
        low, high = LONG_BASE_CONTEXT if long_context else BASE_CONTEXT["claude-code"]
        cwd = user.checkouts[0] if rand() < MAIN_PROJECT_SHARE else rng.choice(user.checkouts)
        conversation = _Conversation(
            session_id=_uuid(rng.getrandbits),
            cwd=cwd,
            version=user.version,
            branch=rng.choice(BRANCHES),
            model=model,
            base=rng.randint(low, high),
            one_hour="one_hour" in traits or rand() < ONE_HOUR_CACHE_SHARE,
            threshold=LONG_CONTEXT_COMPACTION_THRESHOLD if long_context else COMPACTION_THRESHOLD,
            lines=[] if transcripts else None,
        )
        if rand() < SUMMARY_LINE_SHARE and transcripts:
            self._summary_line(conversation)
        turns = min(TURNS_MAX, 1 + int(rng.lognormvariate(math.log(TURNS_MEDIAN), TURNS_SIGMA)))
        self._start_session_records(user, conversation.session_id, otel)
        t, complete = start_ms, True
        try:
            for turn in range(turns):
                t = self._turn(conversation, user, t, traits if turn == 0 else frozenset())
        except _Cutoff:
            complete = False
        # Lines without a requestId are never replayed: ccusage would count each copy (see the README).
        resumed = (
            complete
            and conversation.with_request_id
            and not traits & {"truncated", "empty_main"}
            and ("resume" in traits or rand() < RESUME_SHARE)
        )
        truncated = (
            transcripts
            and not resumed
            and "empty_main" not in traits
            and ("truncated" in traits or rand() < TRUNCATED_FILE_SHARE)
        )
        self._end_session(user, conversation, truncated, empty_main="empty_main" in traits)
        if resumed:
            self._resume(user, conversation, t + rng.randint(*RESUME_DELAY_S) * 1000, otel)

    def _resume(self, user: _ClaudeCodeUser, earlier: _Conversation, t: int, otel: bool) -> None:
        """`claude --resume`: a new session file replays the earlier history under the new sessionId (same
        message ids and request ids, same timestamps), then the conversation goes on."""
        if t >= self.cutoff_ms:
            return
        rng = self.rng
        session_id = _uuid(rng.getrandbits)
        conversation = _Conversation(
            session_id=session_id,
            cwd=earlier.cwd,
            version=earlier.version,
            branch=earlier.branch,
            model=earlier.model,
            base=earlier.base,
            one_hour=earlier.one_hour,
            threshold=earlier.threshold,
            lines=None if earlier.lines is None else [],
        )
        conversation.context = earlier.context  # the cache has expired meanwhile: cached stays 0
        if earlier.lines is not None:
            self._summary_line(conversation, leaf=earlier.parent.strip('"'))
            conversation.lines += [
                line.replace(earlier.session_id, session_id) for line in earlier.lines if earlier.session_id in line
            ]
            conversation.parent = earlier.parent
        self._start_session_records(user, session_id, otel)
        try:
            for _ in range(rng.randint(*RESUME_TURNS)):
                t = self._turn(conversation, user, t, frozenset())
        except _Cutoff:
            pass
        self._end_session(user, conversation, truncated=False)

    def _turn(self, conversation: _Conversation, user: _ClaudeCodeUser, t: int, traits: frozenset[str]) -> int:
        """The person's prompt and the agentic loop answering it; returns the time of the last line."""
        rng = self.rng
        rand = rng.random
        if conversation.last_ms:
            t += int(rng.lognormvariate(PROMPT_GAP_MU, PROMPT_GAP_SIGMA) * 1000)
        if t >= self.cutoff_ms:
            raise _Cutoff
        prompt_index = rng.randrange(len(_PROMPT_TEXTS))
        prompt = _PROMPT_TEXTS[prompt_index]
        turn_start = t
        if (
            conversation.lines is not None
            and conversation.writes_progress
            and ("queued" in traits or rand() < QUEUED_PROMPT_SHARE)
        ):
            self._queue_operations(conversation, t - rng.randint(2_000, 60_000), t, prompt)
        if conversation.lines is not None:
            if conversation.version in CC_VERSIONS:
                snapshot = _uuid(rng.getrandbits)
                conversation.lines.append(
                    f'{{"type":"file-history-snapshot","messageId":"{snapshot}","snapshot":{{"messageId":'
                    f'"{snapshot}","trackedFileBackups":{{}},"timestamp":"{self.fmt(t)}"}},"isSnapshotUpdate":false}}'
                )
            self._user_line(conversation, t, f'"{prompt}"')
        text = f",{_string_attribute('prompt', prompt)}" if user.logs_prompts else ""
        self._record(t, "user_prompt", f"{_int_attribute(rng, 'prompt_length', len(prompt))}{text}")
        if rand() < BACKGROUND_REQUEST_SHARE:  # a title or command check, in telemetry only
            self._api_request(
                t + 400,
                BACKGROUND_MODEL,
                f"req_011C{rng.getrandbits(112):028x}",
                rng.randint(200, 1_500),
                rng.randint(5, 80),
                0,
                0,
                0,
            )
        if "synthetic" in traits or rand() < SYNTHETIC_ERROR_SHARE:
            t = self._api_error(conversation, t + rng.randint(10_000, 60_000))
        steps = min(STEPS_MAX, 1 + int(rng.lognormvariate(math.log(STEPS_MEDIAN), STEPS_SIGMA)))
        task = "subagent" in traits
        for step in range(steps):
            last = step == steps - 1 and not task
            typed = (
                1 + int(rng.lognormvariate(TYPED_INPUT_MU, TYPED_INPUT_SIGMA))
                if step == 0
                else rng.randint(*ROUTINE_INPUT_TOKENS)
            )
            t = self._request(
                conversation, user, t, typed, last=last, tool="Task" if task else None, subagent_traits=traits
            )
            task = False
        if "compaction" in traits:
            t = self._compact(conversation, user, t)
        if conversation.lines is not None and conversation.writes_progress:
            self._line(
                conversation,
                t,
                f'"type":"system","subtype":"turn_duration","durationMs":{t - turn_start},"isMeta":false',
            )
        return t

    def _request(
        self,
        conversation: _Conversation,
        user: _ClaudeCodeUser,
        t: int,
        typed: int,
        *,
        last: bool,
        tool: str | None = None,
        subagent_traits: frozenset[str] = frozenset(),
    ) -> int:
        """One API request: its response lines (one per content block, the same usage on each, earlier lines
        of a streamed response with a partial output count), its telemetry record and the tool call's result."""
        rng = self.rng
        rand, bits = rng.random, rng.getrandbits
        if conversation.last_ms and t - conversation.last_ms > (3_600_000 if conversation.one_hour else 300_000):
            conversation.cached = conversation.base if rand() < WARM_SYSTEM_PROMPT_SHARE else 0
        model = conversation.model
        output = min(
            OUTPUT_MAX,
            1
            + int(
                rng.lognormvariate(
                    math.log(OUTPUT_MEDIAN * (OPUS_OUTPUT_FACTOR if "opus" in model else 1.0)), OUTPUT_SIGMA
                )
            ),
        )
        duration = FIRST_TOKEN_MS + output * MS_PER_OUTPUT_TOKEN
        t += duration
        if t >= self.cutoff_ms:
            raise _Cutoff
        read = conversation.cached
        creation = conversation.context - read
        one_hour = creation if conversation.one_hour else 0
        request_id, message_id = f"req_011C{bits(112):028x}", f"msg_01{bits(112):028x}"
        if not last and tool is None:
            tools, weights = (
                (SUBAGENT_TOOLS, SUBAGENT_TOOL_WEIGHTS) if conversation.sidechain else (CC_TOOLS, CC_TOOL_WEIGHTS)
            )
            tool = rng.choices(tools, weights)[0]
        if conversation.lines is not None:
            file = rng.randrange(len(SOURCE_FILES))
            blocks = []
            if rand() < THINKING_SHARE:
                blocks.append(
                    f'{{"type":"thinking","thinking":"{_THOUGHT_TEXTS[file]}","signature":"{bits(256):064x}"}}'
                )
            if tool is None or rand() < TEXT_SHARE:
                blocks.append(f'{{"type":"text","text":"{_RESPONSE_TEXTS[file]}"}}')
            if tool:
                blocks.append(
                    f'{{"type":"tool_use","id":"toolu_01{bits(112):028x}","name":"{tool}","input":'
                    f'{{"file_path":"{conversation.cwd_json}/{SOURCE_FILES[file]}"}}}}'
                )
            tokens = (typed, output, creation, one_hour, read)
            stop = "tool_use" if tool else "end_turn"
            self._response_lines(conversation, t, message_id, request_id, blocks, tokens, stop)
        self._api_request(t, model, request_id, typed, output, creation - one_hour, one_hour, read, duration)
        conversation.cached = conversation.context + typed
        conversation.context += typed + output
        conversation.last_ms = t
        if tool == "Task":
            t = self._subagent(conversation, user, t, lost_file="lost_subagent_file" in subagent_traits)
        elif tool:
            t += min(TOOL_DURATION_MAX_MS, int(rng.lognormvariate(TOOL_DURATION_MU, TOOL_DURATION_SIGMA)))
        if tool:
            if t >= self.cutoff_ms:
                raise _Cutoff
            body, tokens = rng.choices(_TOOL_RESULTS, TOOL_RESULT_LINE_WEIGHTS)[0]
            if conversation.lines is not None:
                self._user_line(
                    conversation,
                    t,
                    f'[{{"tool_use_id":"toolu_01{bits(112):028x}","type":"tool_result","content":"{body}"}}]',
                )
            duration = _int_attribute(rng, "duration_ms", t - conversation.last_ms)
            self._record(
                t,
                "tool_result",
                f"{_string_attribute('tool_name', tool)},{_string_attribute('success', 'true')},{duration}",
            )
            conversation.context += tokens
        if conversation.context > conversation.threshold:
            t = self._compact(conversation, user, t)
        return t

    def _compact(self, conversation: _Conversation, user: _ClaudeCodeUser, t: int) -> int:
        """Auto-compaction into a summary; 2.1.x asks a compaction agent (a subagent file of one request
        reading the whole context) for it."""
        rng = self.rng
        if conversation.writes_progress and not conversation.sidechain:
            agent_id = f"acompact-{rng.getrandbits(24):06x}"
            lines = None if conversation.lines is None else []
            if lines is not None:
                conversation.subagent_files[agent_id] = lines
            agent = _Conversation(
                session_id=conversation.session_id,
                cwd=conversation.cwd,
                version=conversation.version,
                branch=conversation.branch,
                model=conversation.model,
                base=conversation.base,
                one_hour=conversation.one_hour,
                threshold=math.inf,
                lines=lines,
                agent_id=agent_id,
                sidechain=True,
            )
            agent.context, agent.cached = conversation.context, conversation.cached
            if lines is not None:
                self._user_line(agent, t + 50, '"Your task is to create a detailed summary of the conversation so far"')
            t = self._request(agent, user, t + rng.randint(200, 800), rng.randint(1, 6), last=True)
        if conversation.lines is not None:
            self._line(
                conversation,
                t,
                f'"type":"system","subtype":"compact_boundary","content":"Conversation '
                f'compacted","level":"info","compactMetadata":{{"trigger":"auto",'
                f'"preTokens":{conversation.context}}}',
            )
        conversation.context = conversation.base + rng.randint(*COMPACTION_SUMMARY)
        conversation.cached = conversation.base
        return t

    def _subagent(self, parent: _Conversation, user: _ClaudeCodeUser, t: int, lost_file: bool = False) -> int:
        """A Task tool call: the subagent's lines carry the parent's sessionId and isSidechain; Claude Code 2.x
        writes them to <sessionId>/subagents/agent-<id>.jsonl, 1.x inline into the session file; 2.1.x also
        copies its responses into the parent file as agent_progress records. A `lost_file` is never written
        (deleted, or not collected): its agent_progress copies are all that is left of it."""
        rng = self.rng
        inline = parent.version not in CC_VERSIONS
        agent_id = None if inline else f"{rng.getrandbits(32):08x}"[1:]
        lines = None if parent.lines is None else (parent.lines if inline else [])
        if agent_id and lines is not None and not lost_file:
            parent.subagent_files[agent_id] = lines
        subagent = _Conversation(
            session_id=parent.session_id,
            cwd=parent.cwd,
            version=parent.version,
            branch=parent.branch,
            model=HAIKU_45 if rng.random() < SUBAGENT_HAIKU_SHARE else parent.model,
            base=rng.randint(*BASE_CONTEXT["cursor-agent"]),
            one_hour=False,
            threshold=COMPACTION_THRESHOLD,
            lines=lines,
            agent_id=agent_id,
            sidechain=True,
            progress_to=parent if parent.writes_progress and parent.lines is not None else None,
        )
        t += rng.randint(300, 1_500)
        if lines is not None:
            self._user_line(subagent, t, f'"{_PROMPT_TEXTS[rng.randrange(len(_PROMPT_TEXTS))]}"')
        steps = rng.randint(*SUBAGENT_STEPS)
        for step in range(steps):
            t = self._request(
                subagent, user, t + rng.randint(200, 3_000), rng.randint(*ROUTINE_INPUT_TOKENS), last=step == steps - 1
            )
        return t

    def _api_error(self, conversation: _Conversation, t: int) -> int:
        """The API failed (overloaded): Claude Code writes a `<synthetic>` stub with zero usage, then retries."""
        if t >= self.cutoff_ms:
            raise _Cutoff
        if conversation.lines is not None:
            self._line(
                conversation,
                t,
                f'"message":{{"id":"{_uuid(self.rng.getrandbits)}","model":"<synthetic>",'
                '"role":"assistant","type":"message","stop_reason":"stop_sequence",'
                '"stop_sequence":"","usage":{"input_tokens":0,"output_tokens":0,'
                '"cache_creation_input_tokens":0,"cache_read_input_tokens":0},'
                '"content":[{"type":"text","text":"API Error: 529 Overloaded"}]},'
                '"type":"assistant","isApiErrorMessage":true',
            )
        self._record(
            t,
            "api_error",
            f"{_string_attribute('model', conversation.model)},"
            f"{_string_attribute('error', 'Overloaded')},"
            f"{_string_attribute('status_code', '529')}",
        )
        return t + self.rng.randint(2_000, 20_000)

    # ---- transcript lines ---------------------------------------------------------------------------------

    def _line(self, conversation: _Conversation, t: int, body: str) -> None:
        uuid = _uuid(self.rng.getrandbits)
        conversation.lines.append(
            f'{{"parentUuid":{conversation.parent},{conversation.prefix},{body},'
            f'"uuid":"{uuid}","timestamp":"{self.fmt(t)}"}}'
        )
        conversation.parent = f'"{uuid}"'

    def _user_line(self, conversation: _Conversation, t: int, content: str) -> None:
        self._line(conversation, t, f'"type":"user","message":{{"role":"user","content":{content}}}')

    def _queue_operations(self, conversation: _Conversation, queued: int, dequeued: int, prompt: str) -> None:
        """A prompt typed while Claude was busy (2.1.x): enqueued with its text, dequeued when its turn came."""
        head = '{"type":"queue-operation","operation":'
        conversation.lines.append(
            f'{head}"enqueue","timestamp":"{self.fmt(queued)}",'
            f'"sessionId":"{conversation.session_id}","content":"{prompt}"}}'
        )
        conversation.lines.append(
            f'{head}"dequeue","timestamp":"{self.fmt(dequeued)}","sessionId":"{conversation.session_id}"}}'
        )

    def _summary_line(self, conversation: _Conversation, leaf: str | None = None) -> None:
        summary, leaf = _escaped(self.rng.choice(SUMMARIES)), leaf or _uuid(self.rng.getrandbits)
        conversation.lines.append(f'{{"type":"summary","summary":"{summary}","leafUuid":"{leaf}"}}')

    def _response_lines(self, conversation, t, message_id, request_id, blocks, tokens, stop) -> None:
        typed, output, creation, one_hour, read = tokens
        split = (
            ""
            if conversation.version == NO_REQUEST_ID_VERSION
            else (
                f',"cache_creation":{{"ephemeral_5m_input_tokens":{creation - one_hour},'
                f'"ephemeral_1h_input_tokens":{one_hour}}}'
            )
        )
        head = (
            f'"message":{{"model":"{conversation.model}","id":"{message_id}","type":"message","role":"assistant",'
            f'"content":['
        )
        tail = ',"service_tier":"standard"'
        if conversation.writes_progress:
            server_tools = (
                ""
                if conversation.sidechain
                else (',"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0}')
            )
            tail = f'{server_tools}{tail},"inference_geo":"{self.rng.choice(INFERENCE_GEOS)}"'
        # As real 2.1 files show, the parent gets a copy of each line of a response but its first.
        copies = (
            conversation.progress_to
            if conversation.progress_to is not None and len(blocks) > 1 and (self.rng.random() < AGENT_PROGRESS_SHARE)
            else None
        )
        usage = (
            f'"usage":{{"input_tokens":{typed},"cache_creation_input_tokens":{creation},'
            f'"cache_read_input_tokens":{read}{split},"output_tokens":'
        )
        if not conversation.with_request_id:  # one line per response, and the old costUSD field
            cost = _cost(conversation.model, typed, output, creation, 0, read)
            self._line(
                conversation,
                t,
                f'{head}{",".join(blocks)}],"stop_reason":"{stop}","stop_sequence":null,'
                f'{usage}{output}}}}},"type":"assistant","costUSD":{cost!r}',
            )
            return
        streamed = len(blocks) > 1 and output >= 2 * len(blocks) and self.rng.random() < STREAMED_SHARE
        for index, block in enumerate(blocks):
            final = index == len(blocks) - 1
            partial = output if final or not streamed else output * (index + 1) // (len(blocks) + 1)
            at = t if final or not streamed else t - (len(blocks) - 1 - index) * STREAM_STEP_MS
            reason = f'"{stop}"' if final else "null"
            message = (
                f'{head}{block}],"stop_reason":{reason},"stop_sequence":null,{usage}{partial}{tail}}}}},'
                f'"requestId":"{request_id}"'
            )
            self._line(conversation, at, f'{message},"type":"assistant"')
            if copies is not None and index > 0:
                self._line(
                    copies,
                    at,
                    f'"type":"progress","data":{{"message":{{"type":"assistant",'
                    f'"timestamp":"{self.fmt(at)}",{message},'
                    f'"uuid":"{_uuid(self.rng.getrandbits)}"}},"normalizedMessages":[],'
                    f'"type":"agent_progress","agentId":"{conversation.agent_id}"}},'
                    f'"toolUseID":"agent_{message_id}"',
                )

    # ---- telemetry records --------------------------------------------------------------------------------

    def _start_session_records(self, user: _ClaudeCodeUser, session_id: str, otel: bool) -> None:
        self.session_events = [] if otel else None
        self.session_attributes = (
            f"{_string_attribute('session.id', session_id)},{_string_attribute('user.email', user.email)},"
            f"{_string_attribute('user.account_uuid', user.account_uuid)},"
            f"{_string_attribute('organization.id', ACME_ANTHROPIC_ORG)},"
            f"{_string_attribute('terminal.type', user.terminal)},{_string_attribute('app.version', user.version)}"
        )

    def _record(self, t: int, name: str, attributes: str) -> None:
        if self.session_events is None:
            return
        self.session_events.append(
            (
                t,
                (
                    f'{{"timeUnixNano":"{t}000000","observedTimeUnixNano":"{t}000000","body":{{"stringValue":'
                    f'"claude_code.{name}"}},"attributes":[{self.session_attributes},'
                    f"{_string_attribute('event.name', name)},{_string_attribute('event.timestamp', self.fmt(t))},"
                    f'{attributes}],"droppedAttributesCount":0}}'
                ),
            )
        )

    def _api_request(self, t, model, request_id, typed, output, creation_5m, creation_1h, read, duration=None):
        if self.session_events is None:
            return
        rng = self.rng
        cost = _cost(model, typed, output, creation_5m, creation_1h, read)
        duration = duration or FIRST_TOKEN_MS + output * MS_PER_OUTPUT_TOKEN
        self._record(
            t,
            "api_request",
            (
                f"{_string_attribute('model', model)},{_int_attribute(rng, 'input_tokens', typed)},"
                f"{_int_attribute(rng, 'output_tokens', output)},{_int_attribute(rng, 'cache_read_tokens', read)},"
                f"{_int_attribute(rng, 'cache_creation_tokens', creation_5m + creation_1h)},"
                f'{{"key":"cost_usd","value":{{"doubleValue":{cost!r}}}}},{_int_attribute(rng, "duration_ms", duration)},'
                f"{_string_attribute('request_id', request_id)}"
            ),
        )
        self.counts["otel_api_requests"] += 1

    # ---- files --------------------------------------------------------------------------------------------

    def _end_session(
        self, user: _ClaudeCodeUser, conversation: _Conversation, truncated: bool, empty_main: bool = False
    ) -> None:
        if conversation.lines is not None and conversation.parent != "null":  # at least one real line
            folder = self.transcripts_root / user.email / "projects" / _ENCODED_PATH.sub("-", conversation.cwd)
            if truncated:  # the last line was half-written when Claude Code died
                conversation.lines[-1] = conversation.lines[-1][: len(conversation.lines[-1]) * 3 // 5]
            # an empty main file next to non-empty subagent files, as real corpora hold
            main_lines = [] if empty_main else conversation.lines
            self._write_transcript(folder / f"{conversation.session_id}.jsonl", main_lines, not truncated)
            for agent_id, lines in conversation.subagent_files.items():
                if lines:
                    path = folder / conversation.session_id / "subagents" / f"agent-{agent_id}.jsonl"
                    self._write_transcript(path, lines, True)
            self.counts["transcript_sessions"] += 1
            self.collected.add(user.email)
        events, self.session_events = self.session_events, None
        if not events:
            return
        events.sort(key=lambda event: event[0])
        resource = (
            f'{{"resourceLogs":[{{"resource":{{"attributes":['
            f"{_string_attribute('service.name', 'claude-code')},"
            f"{_string_attribute('service.version', user.version)},{_string_attribute('os.type', 'linux')}]}},"
            f'"scopeLogs":[{{"scope":{{"name":"com.anthropic.claude_code.events","version":"{user.version}"}},'
            '"logRecords":['
        )
        batch_start, batch = events[0][0], []
        for t, record in [*events, (None, "")]:
            if t is None or t - batch_start >= OTEL_EXPORT_INTERVAL_MS:
                self.otel_days.setdefault(batch_start // DAY_MS, []).append(
                    (batch_start, f"{resource}{','.join(batch)}]}}]}}]}}")
                )
                batch_start, batch = t, []
            batch.append(record)
        self.counts["otel_records"] += len(events)

    def _write_transcript(self, path: Path, lines: list[str], complete: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("\n".join(lines) + ("\n" if complete and lines else "")).encode("utf-8"))
        self.counts["transcript_files"] += 1
        self.counts["transcript_lines"] += len(lines)

    def flush_before(self, day_limit: int) -> None:
        """Write every UTC day of telemetry older than `day_limit`: one collector file per day, lines in export
        order, gzipped once OTEL_UNCOMPRESSED_DAYS newer days have files (the newest stay plain: write_window)."""
        for day in sorted(d for d in self.otel_days if d < day_limit):
            lines = [line for _, line in sorted(self.otel_days.pop(day), key=lambda entry: entry[0])]
            if self.truncated_otel_lines < OTEL_TRUNCATED_LINES:  # the collector died mid-write and restarted
                broken = lines[len(lines) // 2]
                lines.insert(len(lines) // 2 + 1, broken[: len(broken) * 3 // 5])
                self.truncated_otel_lines += 1
            self.otel_recent.append((day, ("\n".join(lines) + "\n").encode("utf-8")))
            self.counts["otel_lines"] += len(lines)
            if len(self.otel_recent) > OTEL_UNCOMPRESSED_DAYS:
                self._write_otel_file(*self.otel_recent.pop(0), gzipped=True)

    def _write_otel_file(self, day: int, data: bytes, gzipped: bool) -> None:
        folder = self.otel_root / _date(day).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        if gzipped:
            _write_gzip(folder / "logs.jsonl.gz", data)
        else:
            (folder / "logs.jsonl").write_bytes(data)
        self.counts["otel_files"] += 1


ACME_ANTHROPIC_ORG = "5f1c2b7e-0d4a-4c8e-9a31-7b2e6d0f4a10"  # the Anthropic organization acme's keys belong to
_ENCODED_PATH = re.compile(r"[^A-Za-z0-9-]")  # how Claude Code names a project folder after its cwd


def _string_attribute(key: str, value: str) -> str:
    return f'{{"key":"{key}","value":{{"stringValue":"{value}"}}}}'


def _int_attribute(rng: random.Random, key: str, value: int) -> str:
    """64-bit integers arrive as strings, or as intValue (quoted or not) depending on the exporter."""
    style = rng.choices(OTEL_INT_STYLES, OTEL_INT_STYLE_WEIGHTS)[0]
    return f'{{"key":"{key}","value":{style.format(value)}}}'


@functools.cache
def _price_table() -> dict[str, tuple[float, ...]]:
    """The dbt seed's current prices per model (USD/MTok): input, output, 5m write, 1h write, read, and the
    long-context threshold and rates. Claude Code computes the cost_usd it reports from the same list prices."""
    seed = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "model_prices.csv"
    columns = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
    table = {}
    with open(seed, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["valid_to"]:
                continue
            normal = tuple(float(row[f"{c}_usd_per_mtok"]) for c in columns)
            long = tuple(float(row[f"long_context_{c}_usd_per_mtok"] or row[f"{c}_usd_per_mtok"]) for c in columns)
            threshold = float(row["long_context_threshold_tokens"] or "inf")
            table[row["provider_id"], row["model_id"]] = (*normal, threshold, *long)
    return table


def _cost(model: str, typed: int, output: int, creation_5m: int, creation_1h: int, read: int) -> float:
    from orchestration.prices import library_resolution  # the seed is keyed by genai-prices' model ids

    prices = _price_table()[library_resolution(model)]
    rates = prices[6:] if typed + creation_5m + creation_1h + read > prices[5] else prices[:5]
    tokens = (typed, output, creation_5m, creation_1h, read)
    return round(sum(n * rate for n, rate in zip(tokens, rates)) / 1_000_000, 8)


def _write_gzip(path: Path, data: bytes) -> None:
    """No file name and mtime 0 in the header: byte-identical reruns."""
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as compressed:
            compressed.write(data)


def _remove_previous_claude_code_output(raw_dir: Path, sources) -> None:
    """Only what this generator writes: the sample emails' collected folders and the sample collector."""
    if "claude_code" in sources and (raw_dir / "claude_code").is_dir():
        domains = tuple(f"@{org.email_domain}" for org in (MAIN_ORG, SECOND_ORG))
        for folder in sorted((raw_dir / "claude_code").iterdir()):
            if folder.is_dir() and (folder.name.endswith(domains) or folder.name == OUTSIDE_EMAIL):
                shutil.rmtree(folder)
    if "otel" in sources and (raw_dir / "otel" / OTEL_COLLECTOR).is_dir():
        shutil.rmtree(raw_dir / "otel" / OTEL_COLLECTOR)


# ---------------------------------------------------------------------------------------------------------------
# Bad lines
# ---------------------------------------------------------------------------------------------------------------


def _corrupt(rng: random.Random, kind: str, copy: int, started: str, events: list[tuple[int, str]]) -> str:
    """An extra, deliberately invalid line modelled on one of the session's own events, with fresh ids so it
    never stands in for a good event."""
    template = json.loads(started)
    if kind != "started_without_user":
        requests = [line for _, line in events if '"event_type":"model_request"' in line]
        if requests:
            template = json.loads(rng.choice(requests))
        else:  # the session was cut before its first request: shape one from the start event
            template = {
                key: template[key] for key in ("schema_version", "event_type", "org_id", "session_id", "timestamp")
            }
            template |= {
                "event_type": "model_request",
                "model": SONNET_45,
                "usage": {
                    "input_tokens": 12,
                    "output_tokens": 300,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 20_000,
                },
            }
        template["request_id"] = f"req_{rng.getrandbits(96):024x}"
    template["event_id"] = _uuid(rng.getrandbits)
    usage = template.get("usage", {})
    if kind == "missing_output_tokens":
        del usage["output_tokens"]
    elif kind == "string_token_count":
        usage["input_tokens"] = str(usage["input_tokens"])
    elif kind == "negative_token_count":
        usage["output_tokens"] = -max(1, usage["output_tokens"])
    elif kind == "unparseable_timestamp":
        template["timestamp"] = BAD_TIMESTAMPS[copy % len(BAD_TIMESTAMPS)].format(year=template["timestamp"][:4])
    elif kind == "started_without_user":
        del template["user_id"]
    text = json.dumps(template, ensure_ascii=False, separators=(",", ":"))
    if kind == "json_array":
        return f"[{text}]"
    if kind == "truncated_json":
        return text[: len(text) * 3 // 5]
    return text


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------


def _day_prefix(prefixes: dict[int, str]):
    """`YYYY-MM-DDT` of an epoch day, cached: formatting dates is the slow part of a timestamp."""

    def prefix(day: int) -> str:
        text = prefixes.get(day)
        if text is None:
            text = prefixes[day] = f"{_date(day).isoformat()}T"
        return text

    return prefix


def _utc_formatter(prefixes: dict[int, str] | None = None):
    """RFC 3339 UTC timestamp of epoch milliseconds, as Claude Code writes them: `...T09:14:03.120Z`."""
    prefix = _day_prefix({} if prefixes is None else prefixes)

    def utc(ms: int) -> str:
        day, rest = divmod(ms, DAY_MS)
        seconds, millis = divmod(rest, 1000)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{prefix(day)}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"

    return utc


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; means here are small."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _uuid(getrandbits) -> str:
    """A version-4 UUID string from the seeded generator (uuid.uuid4 would read the OS entropy pool)."""
    text = f"{(getrandbits(128) & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _epoch_day(day: datetime.date) -> int:
    return (day - EPOCH).days


def _date(epoch_day: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=epoch_day)


def _remove_previous_output(root: Path) -> None:
    """Regenerating replaces the previous sample instead of mixing with it; only our own file names go."""
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and len(folder.name) == 10:
            for path in folder.glob("ingest-*.jsonl*"):
                path.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()
