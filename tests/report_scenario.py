"""The small org of the report and delivery tests, with a real warehouse built from it (shared by the test
session through the `report_warehouse` fixture of conftest.py: one dbt build serves both test files).

The figures are worked by hand in tests/test_reports.py's docstring. José Núñez has opted out of the report
emails (`email_reports = false` in users.csv).
"""

from pathlib import Path

from orchestration.config import Paths
from reports.analytics.weeks import ReportWeek
from tests.support import build_warehouse, test_paths, write_delivery, write_directory

W46, W47 = ReportWeek.parse("2026-W46"), ReportWeek.parse("2026-W47")
SONNET, HAIKU, OPUS = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-5-20251101"

PEOPLE = [
    # org, id, email, name, team, manager, role[, email_reports (empty: true)]
    ("acme", "ada-admin", "ada@acme.example", "Ada Lovelace", "Leadership", "", "admin"),
    ("acme", "zoe-mgr", "zoe.akesson@acme.example", "Zoë Åkesson", "Platform", "ada-admin", "manager"),
    ("acme", "li-lei", "li.lei@acme.example", "李雷", "Platform", "zoe-mgr", "member", "True"),
    ("acme", "jose-nunez", "jose.nunez@acme.example", "José Núñez", "Platform", "zoe-mgr", "member", "false"),
    ("acme", "bjorn-mgr2", "bjorn@acme.example", "Bjørn Brekke", "Web", "ada-admin", "manager"),
    ("acme", "olsen-out", "oskar.olsen@acme.example", "Oskar Olsen", "Web", "bjorn-mgr2", "member"),
    ("globex", "gina-g", "gina@globex.example", "Gina Globetrotter", "Core", "", "member"),
]


def ev(event_id, event_type, session_id, timestamp, org_id="acme", **fields):
    return {
        "schema_version": 1,
        "event_id": event_id,
        "event_type": event_type,
        "org_id": org_id,
        "session_id": session_id,
        "timestamp": timestamp,
        **fields,
    }


def session(sid, user, agent, project, start, end, model, inp, out, read=0, org_id="acme"):
    usage = {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": read,
    }
    return [
        ev(
            f"{sid}-s",
            "session_started",
            sid,
            start,
            org_id,
            user_id=user,
            agent=agent,
            project_id=project,
            repository=None,
        ),
        ev(
            f"{sid}-r",
            "model_request",
            sid,
            start.replace(":00Z", ":30Z"),
            org_id,
            request_id=f"{sid}-req",
            model=model,
            usage=usage,
        ),
        ev(f"{sid}-e", "session_ended", sid, end, org_id, status="completed"),
    ]


EVENTS = [
    *session(
        "S1",
        "li-lei",
        "claude-code",
        "p-api",
        "2026-11-10T09:00:00Z",
        "2026-11-10T09:30:00Z",
        SONNET,
        50_000,
        10_000,
        read=100_000,
    ),
    *session("S2", "li-lei", "aider", "p-web", "2026-11-12T14:00:00Z", "2026-11-12T14:10:00Z", HAIKU, 20_000, 2_000),
    *session(
        "S3", "jose-nunez", "claude-code", "p-api", "2026-11-11T08:00:00Z", "2026-11-11T09:00:00Z", OPUS, 10_000, 4_000
    ),
    *session(
        "S4",
        "olsen-out",
        "claude-code",
        "p-web",
        "2026-11-09T10:00:00Z",
        "2026-11-09T10:20:00Z",
        SONNET,
        100_000,
        20_000,
    ),
    *session(
        "S5",
        "zoe-mgr",
        "claude-code",
        "p-api",
        "2026-11-13T16:00:00Z",
        "2026-11-13T16:15:00Z",
        "mystery-model-1",
        5_000,
        500,
    ),
    *session(
        "S6", "li-lei", "claude-code", "p-api", "2026-11-03T09:00:00Z", "2026-11-03T09:20:00Z", SONNET, 10_000, 1_000
    ),
    *session(
        "G1",
        "gina-g",
        "claude-code",
        "p-g",
        "2026-11-10T15:00:00Z",
        "2026-11-10T15:30:00Z",
        SONNET,
        7_777,
        777,
        org_id="globex",
    ),
    "{this line is not JSON",
]


OPTED_OUT = {person[1] for person in PEOPLE if person[7:] == ("false",)}


def build_report_warehouse(root: Path) -> Paths:
    paths = test_paths(root)
    write_directory(
        paths.directory,
        orgs=[("acme", "Acme Robotics", "Europe/Berlin"), ("globex", "Globex", "America/New_York")],
        users=PEOPLE,
        projects=[
            ("acme", "p-api", "Auth API", "single"),
            ("acme", "p-web", "Web App", "workspace"),
            ("globex", "p-g", "Globex Secret Project", "single"),
        ],
    )
    write_delivery(paths.raw_dir, "2026-11-16", "events", EVENTS)
    build_warehouse(paths)
    return paths
