"""Hostile input, end to end: one raw dir and directory that mix every kind of bad value an attacker or a careless
producer sends (issue 12) with a normal org, run through the real commands -- `refresh`, `report` for every org of
the warehouse, `deliver` to a real SMTP server on loopback, and the HTTP API served by `session-analytics serve`.

What must hold: every command ends with its documented exit code, nothing is written (or deleted) outside the
configured folders, every normal person's messages reach that person only, nobody gets another person's report,
and the normal org's figures equal those of a run on the same data without the hostile rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from aiosmtpd.controller import Controller

from orchestration.config import Paths
from tests.fixtures.claude_code_lines import SONNET, assistant, otel_line, write
from tests.fixtures.servers import RecordingSmtpHandler, free_port
from tests.fixtures.warehouse import build_warehouse, write_delivery, write_directory

CLI = str(Path(sys.executable).parent / "session-analytics")
WEEK = "2026-W46"  # 9-15 November 2026
HAIKU = "claude-haiku-4-5-20251001"
SECRET = "TOP-SECRET-CONTENT-OUTSIDE-THE-RAW-DIR"

ACME_PEOPLE = [
    # org, id, email, name, team, manager, role
    ("acme", "ada", "ada@acme.example", "Ada Lovelace", "Leadership", "", "admin"),
    ("acme", "max", "max@acme.example", "Max Mustermann", "Platform", "ada", "manager"),
    ("acme", "mia", "mia@acme.example", "Mia Müller", "Platform", "max", "member"),
]
LONG_ID = "u" * 300
GLOBEX_PEOPLE = [
    ("globex", "g-boss", "boss@globex.example", "$\\frac{1}{$", "Core", "", "admin"),
    ("globex", "a/b", "a.slash@globex.example", "Slash Person", "Core", "g-boss", "member"),
    ("globex", "a_b", "a.under@globex.example", "Under Person", "Core", "g-boss", "member"),
    ("globex", "dollar", "dollar@globex.example", "Cost $5 and $10", "Core", "g-boss", "member"),
    ("globex", "bidi", "bidi@globex.example", "Evil\u202eeman", "Core", "g-boss", "member"),
    ("globex", "two-addr", "victim@x.example, attacker@evil.example", "Two Addresses", "Core", "g-boss", "member"),
    ("globex", "display", "Name <other@evil.example>", "Display Name", "Core", "g-boss", "member"),
    ("globex", "crlf-mail", "crlf@globex.example\r\nBcc: spy@evil.example", "CRLF Mail", "Core", "g-boss", "member"),
    ("globex", LONG_ID, "long@globex.example", "Long Id", "Core", "g-boss", "member"),
]
# Addresses that must never receive anything.
NEVER_MAILED = {"victim@x.example", "attacker@evil.example", "other@evil.example", "spy@evil.example"}


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


def session(sid, user, start, end, inp, out, org_id="acme", model=SONNET, project="p-api"):
    usage = {"input_tokens": inp, "output_tokens": out, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    return [
        ev(
            f"{sid}-s",
            "session_started",
            sid,
            start,
            org_id,
            user_id=user,
            agent="claude-code",
            project_id=project,
            repository="acme/api",
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


def good_events() -> list[dict]:
    return [
        *session("A1", "ada", "2026-11-09T09:00:00Z", "2026-11-09T09:30:00Z", 40_000, 4_000),
        *session("A2", "max", "2026-11-10T10:00:00Z", "2026-11-10T10:20:00Z", 70_000, 9_000),
        *session("A3", "mia", "2026-11-12T14:00:00Z", "2026-11-12T15:00:00Z", 25_000, 2_500, model=HAIKU),
        *session("A4", "mia", "2026-11-03T08:00:00Z", "2026-11-03T08:05:00Z", 1_000, 100),
    ]


def hostile_events(outside: Path) -> list[dict | str]:
    def request(sid, **usage):
        counts = {
            "input_tokens": 1,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            **usage,
        }
        return ev(
            f"{sid}-r",
            "model_request",
            "A1",
            "2026-11-09T09:10:00Z",
            request_id=f"{sid}-req",
            model=SONNET,
            usage=counts,
        )

    globex = [
        event
        for number, person in enumerate(GLOBEX_PEOPLE)
        for event in session(
            f"G{number}",
            person[1],
            f"2026-11-1{number % 5}T11:00:00Z",
            f"2026-11-1{number % 5}T11:30:00Z",
            1_000 * (number + 1),
            100 * (number + 1),
            org_id="globex",
            project="p-g",
        )
    ]
    return [
        *globex,
        # Orgs whose ids are paths: valid identifiers, but never used as paths.
        *session(
            "P1", "intruder", "2026-11-10T09:00:00Z", "2026-11-10T09:10:00Z", 10, 10, org_id=str(outside / "victim")
        ),
        *session("P2", "intruder", "2026-11-10T09:00:00Z", "2026-11-10T09:10:00Z", 10, 10, org_id="../../escaped"),
        # Identifiers that break the rule.
        ev(
            "X1",
            "session_started",
            "X1",
            "2026-11-10T09:00:00Z",
            org_id="acme\r\nBcc: x",
            user_id="u",
            agent="claude-code",
            project_id="p",
            repository=None,
        ),
        ev(
            "X2",
            "session_started",
            "X2",
            "2026-11-10T09:00:00Z",
            user_id="mia\u202e",
            agent="claude-code",
            project_id="p",
            repository=None,
        ),
        # Counts and timestamps that would overflow later steps.
        request("X3", input_tokens=2**63 - 1),
        request("X4", output_tokens=10**12),
        ev(
            "X5",
            "session_started",
            "X5",
            "0001-01-01T00:00:00Z",
            user_id="mia",
            agent="claude-code",
            project_id="p",
            repository=None,
        ),
        ev(
            "X6",
            "session_started",
            "X6",
            "9999-12-31T23:59:59Z",
            user_id="mia",
            agent="claude-code",
            project_id="p",
            repository=None,
        ),
        # Duplicate keys: the second value would be silently lost.
        '{"schema_version":1,"event_id":"X7","event_type":"session_started","org_id":"acme","org_id":"globex",'
        '"session_id":"X7","timestamp":"2026-11-10T09:00:00Z","user_id":"mia","agent":"claude-code",'
        '"project_id":"p","repository":null}',
        "J" * 2_000_000,  # a 2 MB junk line
        '{"schema_version": 1, "event_id": ',
    ]


def write_transcripts(raw: Path, hostile: bool) -> None:
    project = raw / "claude_code" / "mia@acme.example" / "projects" / "-home-mia-api"
    lines = [
        assistant("T1", "2026-11-11T08:00:00.000Z", "msg_1", "req_1", SONNET, 300, 30, cr=9_000),
        assistant("T1", "2026-11-11T08:05:00.000Z", "msg_2", "req_2", SONNET, 200, 20, cr=10_000),
    ]
    if hostile:
        lines += [
            assistant("T1", "2026-11-11T08:06:00.000Z", "msg_3", "req_3", SONNET, 2**64 - 1, 1),
            assistant("T1", "0001-01-01T00:00:00.000Z", "msg_4", "req_4", SONNET, 1, 1),
            assistant("T1", "2026-11-11T08:07:00.000Z", "msg_5", "req_5", SONNET, 1, 1).replace(
                '"sessionId":"T1"', '"sessionId":"T1","sessionId":"T-other"'
            ),
        ]
    write(project / "T1.jsonl", lines)


def write_telemetry(raw: Path, hostile: bool) -> None:
    def api_request(ts, request_id, cost):
        return (
            "api_request",
            ts,
            {
                "session.id": "O1",
                "user.email": "max@acme.example",
                "event.name": "api_request",
                "event.timestamp": ts,
                "model": SONNET,
                "input_tokens": 1_000,
                "output_tokens": 100,
                "cache_read_tokens": 0,
                "cache_creation_tokens": 0,
                "cost_usd": cost,
                "request_id": request_id,
                "duration_ms": 1_500,
            },
        )

    records = [api_request("2026-11-13T10:00:00+00:00", "o-1", 0.0045)]
    lines = [otel_line(records)]
    if hostile:
        lines += [
            otel_line([api_request("2026-11-13T10:01:00+00:00", "o-nan", "NaN")]),
            otel_line([api_request("2026-11-13T10:02:00+00:00", "o-huge", 1e30)]),
            otel_line([api_request("2026-11-13T10:03:00+00:00", "o-negative", -5.0)]),
        ]
    write(raw / "otel" / "collector" / "logs.jsonl", lines)


def write_site(root: Path, hostile: bool) -> Paths:
    """The raw dir and directory of one run; the hostile one adds every bad value of the issue."""
    paths = Paths.resolve(
        raw_dir=root / "raw",
        directory=root / "directory",
        warehouse=root / "warehouse.duckdb",
        lake_dir=root / "lake",
        reports_dir=root / "reports",
        outbox=root / "outbox",
        ledger=root / "ledger.sqlite3",
        tokens=root / "tokens.sqlite3",
    )
    outside = root.parent / "outside"
    orgs = [("acme", "Acme", "Europe/Berlin")]
    people = list(ACME_PEOPLE)
    projects = [("acme", "p-api", "API", "single")]
    if hostile:
        orgs += [
            ("globex", "Globex \u202eCorp", "America/New_York"),
            ("initech", "Initech\r\nBcc: spy@evil.example", "UTC"),
        ]
        people += GLOBEX_PEOPLE
        projects += [("globex", "p-g", "$x$ Project", "single")]
    write_directory(paths.directory, orgs=orgs, users=people, projects=projects)
    # the CSV writer of tests/fixtures/warehouse.py does not quote: write the multi-line values as CSV would
    if hostile:
        import csv
        import io

        for name, rows in (("orgs.csv", orgs), ("users.csv", people)):
            buffer = io.StringIO()
            header = (paths.directory / name).read_text().splitlines()[0]
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(header.split(","))
            writer.writerows(rows)
            (paths.directory / name).write_text(buffer.getvalue(), encoding="utf-8")
    delivery = write_delivery(
        paths.raw_dir, "2026-11-16", "events", good_events() + (hostile_events(outside) if hostile else [])
    )
    write_transcripts(paths.raw_dir, hostile)
    write_telemetry(paths.raw_dir, hostile)
    if hostile:
        (outside / "secret.jsonl").write_text(SECRET + "\n", encoding="utf-8")
        (outside / "deliveries").mkdir()
        (outside / "deliveries" / "leak.jsonl").write_text(SECRET + " from a linked folder\n", encoding="utf-8")
        os.symlink(outside / "secret.jsonl", delivery.parent / "leak.jsonl")
        os.symlink(outside / "deliveries", paths.raw_dir / "platform" / "2026-11-17")
        os.symlink(
            outside / "secret.jsonl",
            paths.raw_dir / "claude_code" / "mia@acme.example" / "projects" / "-home-mia-api" / "leak.jsonl",
        )
        os.symlink(root / "does-not-exist.jsonl", delivery.parent / "broken.jsonl")
        os.mkfifo(delivery.parent / "pipe.jsonl")
    return paths


def environment(paths: Paths, smtp_port: int | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SESSION_ANALYTICS_")}
    env.update(
        {
            "SESSION_ANALYTICS_RAW_DIR": str(paths.raw_dir),
            "SESSION_ANALYTICS_DIRECTORY": str(paths.directory),
            "SESSION_ANALYTICS_WAREHOUSE": str(paths.warehouse),
            "SESSION_ANALYTICS_LAKE_DIR": str(paths.lake_dir),
            "SESSION_ANALYTICS_REPORTS_DIR": str(paths.reports_dir),
            "SESSION_ANALYTICS_OUTBOX": str(paths.outbox),
            "SESSION_ANALYTICS_LEDGER": str(paths.ledger),
            "SESSION_ANALYTICS_TOKENS": str(paths.tokens),
            "SESSION_ANALYTICS_DEFAULT_ORG": "acme",
        }
    )
    if smtp_port:
        env.update(
            {
                "SESSION_ANALYTICS_SMTP_HOST": "127.0.0.1",
                "SESSION_ANALYTICS_SMTP_PORT": str(smtp_port),
                "SESSION_ANALYTICS_SMTP_SECURITY": "none",
                "SESSION_ANALYTICS_SMTP_FROM": "reports@acme.example",
                "SESSION_ANALYTICS_SMTP_ATTEMPTS": "2",
                "SESSION_ANALYTICS_SMTP_BACKOFF_SECONDS": "0.01",
            }
        )
    return env


def run(paths: Paths, *argv: str, smtp_port: int | None = None, timeout: int = 600) -> tuple[int, str, str]:
    completed = subprocess.run(
        [CLI, *argv],
        env=environment(paths, smtp_port),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=paths.warehouse.parent,
    )
    return completed.returncode, completed.stdout, completed.stderr


def tree(root: Path) -> dict[str, tuple]:
    """Every entry under `root` (links not followed) with its kind and size."""
    entries = {}
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(folder) / name
            info = path.lstat()
            entries[str(path.relative_to(root))] = (info.st_mode >> 12, info.st_size if path.is_file() else 0)
    return entries


ANSWERS = ("summary", "by-agent", "cost-breakdown")


def acme_answers(paths: Paths) -> dict[str, dict]:
    """acme's figures as the CLI prints them, for the week and for the whole activity."""
    answers = {}
    for question in ANSWERS:
        for dates in ((), ("--from", "2026-11-09", "--to", "2026-11-15")):
            code, out, err = run(paths, "analytics", question, "--org", "acme", *dates)
            assert code == 0, err
            answers[f"{question}{dates}"] = json.loads(out)
    code, out, err = run(paths, "analytics", "timeseries", "--org", "acme", "--metric", "cost")
    assert code == 0, err
    answers["timeseries"] = json.loads(out)
    return answers


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    clean = write_site(base / "clean" / "site", hostile=False)
    build_warehouse(clean)

    root = base / "attack"
    (root / "outside").mkdir(parents=True)
    (root / "outside" / "victim").mkdir()
    (root / "outside" / "victim" / "precious.txt").write_text("must survive", encoding="utf-8")
    paths = write_site(root / "site", hostile=True)
    outside_before = tree(root / "outside")
    code, out, err = run(paths, "refresh")
    return {"clean": clean, "paths": paths, "root": root, "outside_before": outside_before, "refresh": (code, out, err)}


def test_refresh_succeeds_and_quarantines_every_hostile_value_with_its_reason(scenario):
    code, out, err = scenario["refresh"]
    assert code == 0, out + err
    summary = json.loads(out)  # stdout is the run summary alone (dbt's log lines go to stderr)
    assert summary["success"] and set(summary["orgs"]) >= {"acme", "globex"}
    with duckdb.connect(str(scenario["paths"].warehouse), read_only=True) as conn:
        reasons = [row[0] for row in conn.execute("select reason from raw.quarantined_lines").fetchall()]
        stored = conn.execute(
            "select coalesce(max(length(line)), 0), count(*) filter (where contains(line, ?)) "
            "from raw.quarantined_lines",
            [SECRET],
        ).fetchall()[0]
        skipped = conn.execute(
            "select count(*) from raw.load_file_summary where source_file like '%leak.jsonl' "
            "or source_file like '%broken.jsonl' or source_file like '%pipe.jsonl'"
            "or source_file like '%2026-11-17%'"
        ).fetchall()[0][0]
        orgs = {row[0] for row in conn.execute("select org_id from analytics.dim_orgs").fetchall()}
    text = "\n".join(reasons)
    for expected in (
        "invalid identifier org_id",
        "invalid identifier user_id",
        "token count out of range",
        "timestamp outside",
        "duplicate key org_id",
        "duplicate key sessionId",
        "invalid JSON",
        "symbolic link",
        "not a regular file",
        "cost_usd",
        "invalid identifier user_id",
    ):
        assert expected in text, f"no quarantine reason {expected!r} in:\n{text}"
    assert stored[0] < 2_000 and stored[1] == 0  # capped; nothing read through a link
    assert skipped >= 5  # every skipped entry has a file-summary row
    assert "acme\r\nBcc: x" not in orgs


def test_reports_of_every_org_stay_inside_the_reports_dir_and_name_each_person_apart(scenario):
    paths, root = scenario["paths"], scenario["root"]
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        orgs = [row[0] for row in conn.execute("select org_id from analytics.dim_orgs order by 1").fetchall()]
    assert str(root / "outside" / "victim") in orgs and "../../escaped" in orgs
    for org in orgs:
        code, out, err = run(paths, "report", "--org", org, "--week", WEEK, "--all", "--workers", "2")
        assert code == 0, f"{org!r}: {out}{err}"
    code, _, err = run(paths, "report", "--org", "../../nowhere", "--week", WEEK)
    assert code == 2 and "unknown org" in err
    assert tree(root / "outside") == scenario["outside_before"]
    written = {Path(folder) for folder, _, _ in os.walk(root)}
    allowed = [
        paths.raw_dir,
        paths.directory,
        paths.lake_dir,
        paths.reports_dir,
        paths.working_warehouse.parent,
        paths.warehouse.parent / "dbt-target",
        root / "outside",
    ]
    assert all(
        folder == root or folder == paths.warehouse.parent or any(folder.is_relative_to(a) for a in allowed)
        for folder in written
    ), sorted(written)
    manifests = list(paths.reports_dir.rglob("manifest.json"))
    assert len(manifests) == len(orgs)
    globex = next(json.loads(m.read_text()) for m in manifests if json.loads(m.read_text())["org_id"] == "globex")
    files = [entry["file"] for entry in globex["files"]]
    assert len(files) == len(set(files))  # no two reports share a file
    users = {
        entry["recipient_user_id"]: entry["file"]
        for entry in globex["files"]
        if entry["audience"] == "user" and entry["format"] == "html"
    }
    assert {"a/b", "a_b", "dollar", "bidi"} <= set(users) and users["a/b"] != users["a_b"]
    week_dir = next(m.parent for m in manifests if json.loads(m.read_text())["org_id"] == "globex")
    slash, under = (week_dir / users["a/b"]).read_text(), (week_dir / users["a_b"]).read_text()
    assert "Slash Person" in slash and "Under Person" not in slash
    assert "Under Person" in under and "Slash Person" not in under
    for name in users.values():
        assert "\u202e" not in (week_dir / name).read_text()


@pytest.fixture(scope="module")
def smtp_server():
    handler = RecordingSmtpHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def test_deliver_sends_each_person_their_own_reports_only(scenario, smtp_server):
    handler, port = smtp_server
    paths = scenario["paths"]
    code, out, err = run(paths, "deliver", "--org", "acme", "--week", WEEK, "--workers", "2", smtp_port=port)
    assert code == 0, out + err
    acme_messages = list(handler.messages)
    code, out, err = run(paths, "deliver", "--org", "globex", "--week", WEEK, "--workers", "2", smtp_port=port)
    assert "invalid email address" in out, out + err
    assert code == 0, out + err  # an unusable address is a directory problem, counted, not a failed delivery
    received: dict[str, list[str]] = {}
    for recipients, message in handler.messages:
        assert len(recipients) == 1, recipients
        assert not message.get_all("Cc") and not message.get_all("Bcc")
        received.setdefault(recipients[0], []).append(message["Subject"])
    assert not NEVER_MAILED & set(received)
    assert {to: len(subjects) for to, subjects in received.items() if to.endswith("@acme.example")} == {
        "ada@acme.example": 2,
        "max@acme.example": 2,
        "mia@acme.example": 1,
    }
    assert len(acme_messages) == 5
    for recipients, message in handler.messages:
        if recipients[0] in ("a.slash@globex.example", "a.under@globex.example"):
            body = next(
                part.get_payload(decode=True).decode()
                for part in message.walk()
                if part.get_content_type() == "text/html"
            )
            own, other = ("Slash Person", "Under Person")[:: 1 if "slash" in recipients[0] else -1]
            assert own in body and other not in body
    assert tree(scenario["root"] / "outside") == scenario["outside_before"]


def test_the_normal_orgs_figures_equal_a_run_without_the_hostile_rows(scenario):
    assert acme_answers(scenario["paths"]) == acme_answers(scenario["clean"])


def test_the_api_answers_acme_as_the_clean_run_and_never_fails_on_hostile_parameters(scenario):
    paths = scenario["paths"]
    code, token, err = run(paths, "tokens", "create", "--user", "ada")
    assert code == 0, err
    port = free_port()
    server = subprocess.Popen(
        [CLI, "serve", "--port", str(port)],
        env=environment(paths),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=30, headers={"Authorization": f"Bearer {token.strip()}"}
        ) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the API server did not start"
                    time.sleep(0.2)
            api = "/acme/sessions/analytics"
            clean = acme_answers(scenario["clean"])
            assert client.get(f"{api}/summary").json() == clean["summary()"]
            week = client.get(f"{api}/summary", params={"from": "2026-11-09", "to": "2026-11-15"})
            assert week.json() == clean["summary('--from', '2026-11-09', '--to', '2026-11-15')"]
            assert client.get(f"{api}/timeseries", params={"metric": "cost"}).json() == clean["timeseries"]
            for params in ({"from": "0001-01-01"}, {"to": "9999-12-31"}, {"from": "0001-01-01", "to": "9999-12-31"}):
                for question in ("summary", "timeseries", "by-agent", "cost-breakdown"):
                    response = client.get(f"{api}/{question}", params=params)
                    assert response.status_code == 422, (question, params, response.text)
            for org in ("..%2F..%2Fescaped", "globex", "%2Fetc%2Fpasswd"):
                response = client.get(f"/{org}/sessions/analytics/summary")
                assert response.status_code in (403, 404), (org, response.status_code)
    finally:
        server.terminate()
        server.wait(timeout=30)
