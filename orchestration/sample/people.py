"""The sample's people: names (the non-ASCII spotlight names included), each org's hierarchy (admin > director >
team managers > members), each person's habits (activity, preferred agent and models, vacation), and the
directory CSVs written from them."""

from __future__ import annotations

import csv
import datetime
import math
import random
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from orchestration.sample.draws import pick
from orchestration.sample.models import AGENT_MIX, HAIKU_35, HAIKU_45, OLD_SIDE_MODEL_SHARE, OPUS_FAN_SHARE
from orchestration.sample.orgs import (
    MAIN_ORG,
    PROJECTS,
    SECOND_ORG,
    UNKNOWN_PROJECT,
    UNKNOWN_USER_ID,
    OrgSpec,
    ProjectSpec,
)
from orchestration.sample.rhythm import ACTIVITY_SIGMA, ROLE_ACTIVITY, VACATION_SHARE, VACATION_WEEKDAYS

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
class Person:
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

    @property
    def repositories(self) -> list[str]:
        """Their projects' repositories, the preferred project's first."""
        return [r for project in self.projects for r in project.repositories]


def build_people(rng: random.Random, users: int, start: datetime.date, days: int) -> list[Person]:
    """Both orgs' hierarchies (admin > director > team managers > members), plus the unlisted contractor last."""
    second = max(SECOND_ORG_MIN_USERS, round(users * SECOND_ORG_SHARE))
    people: list[Person] = []
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


def _org_chart(rng, org, names, *, first_number, width, start, days) -> list[Person]:
    """admin > director (orgs of 7 or more) > team managers > 4-8 members per team; ids are global."""
    projects = PROJECTS[org.org_id]
    ids = [f"u-{first_number + i:0{width}d}" for i in range(len(names))]
    cursor = iter(zip(ids, names))

    def add(role: str, team: str, manager_id: str, team_projects) -> Person:
        user_id, name = next(cursor)
        person = _person(rng, org, user_id, name, team, manager_id, role, team_projects, start, days)
        chart.append(person)
        return person

    chart: list[Person] = []
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


def _person(rng, org, user_id, name, team, manager_id, role, projects, start, days) -> Person:
    """One person with their habits; `role` may be "director", written to the directory as a manager."""
    display, local = name
    vacation = None
    if role == "member" and rng.random() < VACATION_SHARE:
        first = start + datetime.timedelta(days=rng.randrange(days))
        vacation = (first, first + datetime.timedelta(days=rng.randint(*VACATION_WEEKDAYS) * 7 // 5))
    return Person(
        org=org,
        user_id=user_id,
        email=f"{local}@{org.email_domain}",
        name=display,
        team=team,
        manager_id=manager_id,
        role="manager" if role == "director" else role,
        activity=ROLE_ACTIVITY[role] * rng.lognormvariate(0.0, ACTIVITY_SIGMA),
        agent=pick(rng, AGENT_MIX),
        opus_fan=rng.random() < OPUS_FAN_SHARE,
        side_model=HAIKU_35 if rng.random() < OLD_SIDE_MODEL_SHARE else HAIKU_45,
        projects=tuple(projects),
        vacation=vacation,
    )


def write_directory(directory_dir: Path, people: list[Person]) -> None:
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


def _claude_code_path_mappings() -> list[tuple[str, str, str, str]]:
    """claude_code_projects.csv: the shared dev-container checkouts of acme's repositories. Checkouts in
    people's home folders are not listed: they fall back to the folder name."""
    return [
        (f"/workspaces/{repository.split('/')[-1]}", project.project_id, repository, MAIN_ORG.org_id)
        for project in PROJECTS[MAIN_ORG.org_id]
        for repository in project.repositories
    ]
