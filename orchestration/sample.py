"""Seeded, deterministic generator of a realistic and deliberately messy sample org.

Why it exists: the pipeline has to be runnable, demonstrable and testable without real customer logs, and the
interesting bugs of an ETL live in the mess (duplicates, late and out-of-order delivery, bad lines, odd
encodings), not in the happy path. So the sample follows the input contract exactly while exercising every
messy case the contract allows, in realistic proportions:

    <raw_dir>/platform/<delivery date YYYY-MM-DD>/ingest-NN.jsonl[.gz]   platform events, JSON Lines
    <directory_dir>/orgs.csv, users.csv, projects.csv                    the org directory

Two orgs (`acme` in Europe/Berlin with most users, a small `globex` in America/New_York) so cross-org
separation and local-time rhythms can be tested. The JSON Schema of one good event line is
`orchestration/sources/platform_event.schema.json`; every line written validates against it except the
`bad_lines` deliberately corrupted extra lines.

Determinism: the same arguments give byte-identical files. All randomness comes from `random.Random` streams
seeded from `seed` (string seeds are hashed with SHA-512, independent of PYTHONHASHSEED), iteration is over
lists or sorted keys, and gzip headers carry mtime 0 and no file name. Only the `end_date` default reads the
clock.

Speed: event lines are hand-formatted (ids and enums never need JSON escaping) and buffered per delivery
folder; a folder is written and dropped from memory as soon as no later day can add to it, so
`users=1000, days=30` (a few million events) runs in about a minute with bounded memory.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import json
import math
import random
import unicodedata
import zoneinfo
from dataclasses import dataclass, replace
from pathlib import Path

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
    "Platform", "Payments", "Mobile", "Perception", "Motion Control", "Firmware", "Data", "Developer Experience",
    "Security", "Web", "Simulation", "Fleet Ops", "Billing", "Identity", "ML Infrastructure", "Growth",
)  # fmt: skip

# Names that must show up (non-ASCII handling downstream), with the email local part they get.
SPOTLIGHT_PEOPLE = (
    ("Zoë Åkesson", "zoe.akesson"),
    ("José Núñez", "jose.nunez"),
    ("Łukasz Wróbel", "lukasz.wrobel"),
    ("Søren Kierkegaard", "soren.kierkegaard"),
    ("李雷", "li.lei"),
)
FIRST_NAMES = (
    "Anna", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gustav", "Hana", "Ines", "Jonas", "Kaito", "Lena",
    "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Ulrike", "Valentina", "Wei",
    "Xavier", "Yara", "Zeynep", "Amélie", "Björn", "Çağla", "Dorothée", "Émile", "François", "Grzegorz",
    "Håkon", "Ígor", "Jürgen", "Kateřina", "Laia", "Mónica", "Noémie", "Ólafur", "Pål", "Renée", "Siân",
    "Tomás", "Ümit", "Vojtěch", "Wiktoria", "Aiden", "Maya",
)  # fmt: skip
LAST_NAMES = (
    "Schmidt", "Müller", "García", "Nguyễn", "Kowalski", "Dvořák", "Ødegaard", "Çelik", "O'Brien", "Rossi",
    "Novák", "Johansson", "Fernández", "Lefèvre", "Papadopoulos", "Yılmaz", "Kim", "Tanaka", "Okafor",
    "Haddad", "Weiß", "Björklund", "Szabó", "Costa", "Ivanova", "Andersen", "Moreau", "Brennan", "Patel",
    "Nakamura", "Jäger", "Mäkinen", "Horváth", "Lindqvist", "Popescu", "Santos", "Fischer", "Larsen",
    "Dubois", "Kaur", "Chen", "Walsh", "Richter", "Vogel", "Sørensen", "Åberg", "Krüger", "Zieliński",
    "Herrera", "Bauer",
)  # fmt: skip
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
            "p-robotics", "Robotics stack", "workspace",
            ("acme/motion-planner", "acme/vision-pipeline", "acme/sim-harness", "acme/robot-msgs"),
        ),
        ProjectSpec("p-web-platform", "Web platform", "workspace", ("acme/web-app", "acme/design-system")),
        ProjectSpec(
            "p-data-platform", "Data platform", "workspace",
            ("acme/etl-jobs", "acme/warehouse-models", "acme/ml-features"),
        ),
    ),
    "globex": (
        ProjectSpec("p-crm", "CRM", "single", ("globex/crm",)),
        ProjectSpec("p-ops-scripts", "Ops scripts", "single", ("globex/ops-scripts",)),
        ProjectSpec("p-globex-suite", "Globex suite", "workspace", ("globex/api", "globex/web", "globex/infra")),
    ),
}  # fmt: skip
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
BASE_CONTEXT = {"claude-code": (16_000, 22_000), "cursor-agent": (8_000, 12_000), "codex-cli": (9_000, 13_000),
                "aider": (3_000, 6_000)}  # fmt: skip
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
) -> SampleSummary:
    """Write a sample org's directory CSVs and `days` days of platform events ending at `end_date`.

    `end_date` is the last local activity date (default: yesterday in UTC). Events are cut at the end of
    `end_date` in UTC (sessions still running then have no end yet) and delivery folders run up to the day
    after. Earlier output of this generator under `<raw_dir>/platform` is replaced, other files are left alone.
    """
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

    _remove_previous_output(raw_dir / "platform")
    dates = [start_date + datetime.timedelta(days=i) for i in range(days)]
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
    return writer.summary(orgs=[MAIN_ORG.org_id, SECOND_ORG.org_id], users=users)


# ---------------------------------------------------------------------------------------------------------------
# Directory
# ---------------------------------------------------------------------------------------------------------------


def _build_people(rng: random.Random, users: int, start: datetime.date, days: int) -> list[_Person]:
    """Both orgs' hierarchies (admin > director > team managers > members), plus the unlisted contractor last."""
    second = max(SECOND_ORG_MIN_USERS, round(users * SECOND_ORG_SHARE))
    people: list[_Person] = []
    for org, size, spotlight in ((MAIN_ORG, users - second, SPOTLIGHT_PEOPLE), (SECOND_ORG, second, ())):
        names = _names(rng, org, size, spotlight)
        people += _org_chart(rng, org, names, first_number=len(people) + 1, width=max(4, len(str(users))),
                             start=start, days=days)  # fmt: skip
    contractor = _person(rng, MAIN_ORG, UNKNOWN_USER_ID, ("Casey Contractor", "casey"), "", "", "member",
                         (UNKNOWN_PROJECT, *PROJECTS[MAIN_ORG.org_id][:2]), start, days)  # fmt: skip
    return people + [replace(contractor, agent="claude-code")]


def _names(rng: random.Random, org: OrgSpec, size: int, spotlight) -> list[tuple[str, str]]:
    """(display name, email local part) for `size` people, the spotlight names among them, in random order."""
    spotlight = list(spotlight[:size])
    combos = rng.sample(range(len(FIRST_NAMES) * len(LAST_NAMES)), size - len(spotlight))
    names = spotlight + [_name_and_local(FIRST_NAMES[i // len(LAST_NAMES)], LAST_NAMES[i % len(LAST_NAMES)])
                         for i in combos]  # fmt: skip
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
    by_org = {org: [p for p in people if p.org.org_id == org and p.user_id != UNKNOWN_USER_ID]
              for org in (MAIN_ORG.org_id, SECOND_ORG.org_id)}  # fmt: skip
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
        carried = tuple(bad[index::len(specs)])
        plan = _plan_session(rng, person, local_date, local_hour=hour, bad_kinds=carried, **overrides)
        plans.setdefault(local_date, []).append(plan)
    return plans


def _start_hour(rng: random.Random, workday: bool) -> float:
    if not workday:
        return rng.uniform(*WEEKEND_START_HOURS)
    weight = rng.random()
    for share, kind, a, b in WORKDAY_START_HOURS:
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
            ("sessions", "model_requests", "unique_events", "duplicate_lines", "bad_lines",
             "blank_lines", "files", "delivery_folders"), 0)  # fmt: skip
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
        started = (f'{head}{_uuid(bits)}","event_type":"session_started{middle}{fmt(t)}","user_id":"{plan.user_id}",'
                   f'"agent":"{plan.agent}","agent_version":"{plan.agent_version}",'
                   f'"project_id":"{plan.project_id}","repository":{repository}}}')  # fmt: skip
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
                events.append((t - 700, f'{head}{_uuid(bits)}","event_type":"model_request{middle}{fmt(t - 700)}",'
                               f'"request_id":"req_{bits(96):024x}","model":"{side_model}","usage":{{"input_tokens":'
                               f'{randint(80, 1_500)},"output_tokens":{randint(5, 80)},'
                               '"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}'))  # fmt: skip
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
                usage_split = (f',"cache_creation":{{"ephemeral_5m_input_tokens":{creation - one_hour},'
                               f'"ephemeral_1h_input_tokens":{one_hour}}}')  # fmt: skip
            request_id = f"req_{bits(96):024x}"
            events.append((t, f'{head}{_uuid(bits)}","event_type":"model_request{middle}{fmt(t)}",'
                           f'"request_id":"{request_id}","model":"{model}","usage":{{"input_tokens":{input_tokens},'
                           f'"output_tokens":{output},"cache_creation_input_tokens":{creation},'
                           f'"cache_read_input_tokens":{read}{usage_split}}}}}'))  # fmt: skip
            requests += 1
            cached = context
            context += typed + output
            if rand() < TOOL_CALL_SHARE:
                duration = min(TOOL_DURATION_MAX_MS, int(lognorm(TOOL_DURATION_MU, TOOL_DURATION_SIGMA)))
                t += duration
                tool = rng.choices(TOOL_NAMES, TOOL_WEIGHTS)[0]
                success = "false" if rand() < TOOL_FAILURE_SHARE else "true"
                events.append((t, f'{head}{_uuid(bits)}","event_type":"tool_call{middle}{fmt(t)}",'
                               f'"request_id":"{request_id}","tool_name":"{tool}","duration_ms":{duration},'
                               f'"success":{success}}}'))  # fmt: skip
                context += min(TOOL_RESULT_MAX, int(lognorm(tool_mu, TOOL_RESULT_SIGMA)))
            if context > threshold:  # the agent compacts the conversation into a summary
                context, cached = base + randint(*COMPACTION_SUMMARY), base
        if plan.end_status:
            t += randint(1_000, 60_000)
            events.append((t, f'{head}{_uuid(bits)}","event_type":"session_ended{middle}{fmt(t)}",'
                           f'"status":"{plan.end_status}"}}'))  # fmt: skip
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
        prefixes = self.day_prefix

        def prefix(day: int) -> str:
            text = prefixes.get(day)
            if text is None:
                text = prefixes[day] = f"{_date(day).isoformat()}T"
            return text

        if offset_minutes is None:

            def utc(ms: int) -> str:
                day, rest = divmod(ms, DAY_MS)
                seconds, millis = divmod(rest, 1000)
                hours, seconds = divmod(seconds, 3600)
                minutes, seconds = divmod(seconds, 60)
                return f"{prefix(day)}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"

            return utc
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
        if gz:  # no file name and mtime 0 in the header: byte-identical reruns
            with open(path.with_name(path.name + ".gz"), "wb") as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as compressed:
                    compressed.write(data)
        else:
            path.write_bytes(data)
        self.counts["files"] += 1

    def summary(self, *, orgs: list[str], users: int) -> SampleSummary:
        counts = dict(self.counts)
        counts["events_written"] = counts["unique_events"] + counts["duplicate_lines"]
        return SampleSummary(
            orgs=orgs,
            users=users,
            start_date=self.start_date,
            end_date=self.end_date,
            **counts,
        )


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
            template = {key: template[key] for key in ("schema_version", "event_type", "org_id", "session_id",
                                                       "timestamp")}  # fmt: skip
            template |= {"event_type": "model_request", "model": SONNET_45, "usage": {
                "input_tokens": 12, "output_tokens": 300, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 20_000}}  # fmt: skip
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
