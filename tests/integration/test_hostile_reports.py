"""Reports and their emails on hostile directory values (issue 12): ids that are paths or collide when made file
names, names with matplotlib math markup, bidi controls and line breaks, email fields holding two addresses or a
display name, a 300-character user id; a failing report, a failing org, a killed `deliver`.

One small warehouse (built by the loaders and dbt) has three orgs: `hostile` (the bad values), `../../escape`
and an org whose id is the absolute path of a folder outside the reports dir, holding a file that must survive.
The ids go through the loaders (the identifier rule accepts them); names, emails, the org name with a line break
and the 300-character id are then written into the published marts directly, as the loaders may refuse them:
the reports and the delivery must be safe on their own, whatever a loader lets through.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from pypdf import PdfReader

from orchestration import cli
from orchestration.alerts import send_failure_email
from orchestration.config import Paths
from orchestration.defs.reporting import weekly_delivery, weekly_reports
from orchestration.defs.resources import SessionAnalyticsPaths
from reports.analytics.scope import Person
from reports.delivery.mailer import InvalidAddress, Mailer, SmtpSettings, parse_address
from reports.delivery.weekly import _Report, compose
from reports.weekly import paths as report_paths
from reports.weekly.render import ReportTask, render_reports
from tests.fixtures.report_scenario import SONNET, W46, session
from tests.fixtures.warehouse import build_warehouse, test_paths, write_delivery, write_directory

CLI = str(Path(sys.executable).parent / "session-analytics")
WEEK = W46.label
HOSTILE, ESCAPE = "hostile", "../../escape"
LONG_ID = "u" * 300
ORG_NAME = "Hostile\r\nBcc: spy@evil.example"
BIDI_NAME = "Evil\u202eeman"
# user id -> (email, name) as the marts hold them after the tampering step
HOSTILE_PEOPLE = {
    "h-admin": ("admin@hostile.example", "$\\frac{1}{$"),
    "a/b": ("ab.slash@hostile.example", "Slash Person"),
    "a_b": ("ab.under@hostile.example", "Under Person"),
    "dollar": ("dollar@hostile.example", "Cost $5 and $10"),
    "bidi": ("bidi@hostile.example", BIDI_NAME),
    "two-addr": ("victim@x.example, attacker@evil.example", "Two Addresses"),
    "display": ("Name <other@evil.example>", "Display Name"),
    "crlf-mail": ("crlf@hostile.example\r\nBcc: spy@evil.example", "CRLF Mail"),
    LONG_ID: ("long@hostile.example", "Long Id"),
}
INVALID = {"two-addr", "display", "crlf-mail"}
NEVER_MAILED = {"victim@x.example", "attacker@evil.example", "other@evil.example", "spy@evil.example"}
HOSTILE_REPORTS = {("user", user) for user in HOSTILE_PEOPLE} | {("org", "h-admin")}


def expected_name(identifier: str, slug: str) -> str:
    """The safe name worked out by hand: the slug, `~`, the first 24 hex digits of the id's SHA-256."""
    return f"{slug}~{hashlib.sha256(identifier.encode()).hexdigest()[:24]}"


FILE_STEM = {
    "h-admin": "h-admin",
    "a/b": expected_name("a/b", "a-b"),
    "a_b": "a_b",
    "dollar": "dollar",
    "bidi": "bidi",
    LONG_ID: expected_name(LONG_ID, "u" * 40),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    paths = test_paths(root)
    victim = root / "outside" / "victim"
    (victim / WEEK).mkdir(parents=True)
    (victim / WEEK / "precious.txt").write_text("not a report", encoding="utf-8")
    victim_org = str(victim)  # an org id that is an absolute path
    users = [
        (
            HOSTILE,
            user,
            f"user{index}@hostile.example",
            f"Person {index}",
            "Core",
            "" if user == "h-admin" else "h-admin",
            "admin" if user == "h-admin" else "member",
        )
        for index, user in enumerate(HOSTILE_PEOPLE)
        if user != LONG_ID
    ]
    users += [
        (ESCAPE, "e-user", "e@escape.example", "Escape User", "", "", "member"),
        (victim_org, "v-admin", "v-admin@victim.example", "Victim Admin", "", "", "admin"),
        (victim_org, "v-user", "v-user@victim.example", "Victim User", "", "v-admin", "member"),
    ]
    write_directory(
        paths.directory,
        orgs=[(HOSTILE, "Hostile Org", "UTC"), (ESCAPE, "Escape Org", "UTC"), (victim_org, "Victim Org", "UTC")],
        users=users,
        projects=[(HOSTILE, "p-h", "Hostile Project", "single")],
    )
    events = []
    for number, (org, user, tokens) in enumerate(
        [
            (HOSTILE, "h-admin", 30_000),
            (HOSTILE, "a/b", 50_000),
            (HOSTILE, "a_b", 10_000),
            (HOSTILE, "dollar", 20_000),
            (HOSTILE, "bidi", 40_000),
            (ESCAPE, "e-user", 5_000),
            (victim_org, "v-admin", 6_000),
            (victim_org, "v-user", 7_000),
        ]
    ):
        events += session(
            f"H{number}",
            user,
            "claude-code",
            "p-h",
            f"2026-11-1{number % 5}T09:00:00Z",
            f"2026-11-1{number % 5}T09:30:00Z",
            SONNET,
            tokens,
            tokens // 10,
            org_id=org,
        )
    write_delivery(paths.raw_dir, "2026-11-16", "events", events)
    build_warehouse(paths)
    with duckdb.connect(str(paths.warehouse)) as conn:
        for user, (address, name) in HOSTILE_PEOPLE.items():
            if user != LONG_ID:
                conn.execute(
                    "update analytics.dim_users set email = ?, user_name = ? where org_id = ? and user_id = ?",
                    [address, name, HOSTILE, user],
                )
        conn.execute(
            "insert into analytics.dim_users select md5(?), org_id, ?, ?, ?, team, manager_id, role, "
            "email_reports, in_directory from analytics.dim_users where org_id = ? and user_id = 'bidi'",
            [LONG_ID, LONG_ID, *HOSTILE_PEOPLE[LONG_ID], HOSTILE],
        )
        conn.execute("update analytics.dim_orgs set org_name = ? where org_id = ?", [ORG_NAME, HOSTILE])
    return {"root": root, "paths": paths, "warehouse": paths.warehouse, "victim": victim, "victim_org": victim_org}


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root with the content of each file (None for folders), symlinks not followed."""
    found = {}
    for folder, folders, files in os.walk(root):
        for name in folders:
            found[os.path.join(folder, name)] = None
        for name in files:
            path = os.path.join(folder, name)
            found[path] = None if os.path.islink(path) else Path(path).read_bytes()
    return found


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def rendered(site):
    """Every org's W46 reports (the CLI for the two path-like org ids), and the tmp tree before and after."""
    reports_dir = site["root"] / "reports"
    before = tree(site["root"])
    results = [
        run_cli(
            "report",
            "--org",
            org,
            "--week",
            WEEK,
            "--warehouse",
            str(site["warehouse"]),
            "--output-dir",
            str(reports_dir),
        )
        for org in (ESCAPE, site["victim_org"])
    ]
    outcome = render_reports(site["warehouse"], reports_dir, HOSTILE, W46, workers=2)
    return {
        "dir": reports_dir,
        "before": before,
        "after": tree(site["root"]),
        "cli": results,
        "outcome": outcome,
        "week_dir": reports_dir / HOSTILE / WEEK,
    }


# -- the safe path builder ------------------------------------------------------------------------------------


HOSTILE_IDS = [
    "a/b",
    "a_b",
    "a-b",
    "A_B",
    "..",
    ".",
    "",
    "/etc/passwd",
    "../../x",
    "..\\..\\x",
    "a\0b",
    "a\r\nb",
    "李雷",
    "lǐ-léi",
    "Ada",
    "ada",
    "con",
    "CON",
    "x" * 300,
    "x" * 299 + "y",
    "a.",
    "a~b",
    ".hidden",
    "a b",
    "\u202eevil",
    "-",
    "@",
    "x" * 64,
    "x" * 65,
]


def test_plain_ids_keep_their_name_and_every_other_id_gets_a_hash_suffix():
    for kept in ("li-lei", "ada@acme.example", "a_b", "a-b", "x" * 64, "0"):
        assert report_paths.safe_name(kept) == kept
    assert report_paths.safe_name("a/b") == expected_name("a/b", "a-b")
    assert report_paths.safe_name("Ada") == expected_name("Ada", "ada")
    assert report_paths.safe_name("../../x") == expected_name("../../x", "x")
    assert report_paths.safe_name("") == expected_name("", "id")
    assert report_paths.safe_name("con") == expected_name("con", "con")  # a Windows device name
    assert report_paths.safe_name("x" * 300) == expected_name("x" * 300, "x" * 40)


def test_safe_names_are_plain_bounded_and_distinct_even_on_case_insensitive_file_systems():
    names = [report_paths.safe_name(identifier) for identifier in HOSTILE_IDS]
    for name in names:
        assert re.fullmatch(r"[a-z0-9@._~-]{1,65}", name), name
        assert not name.startswith((".", "-", "~")) and not name.endswith(".")
        assert report_paths.join_inside(Path("/reports"), name) == Path("/reports") / name
    assert len({name.casefold() for name in names}) == len(HOSTILE_IDS)


def test_join_inside_refuses_parts_and_links_that_leave_the_root(tmp_path):
    root = tmp_path / "reports"
    root.mkdir()
    for part in ("..", ".", "", "a/b", "/etc", "a\\b", "a\0b"):
        with pytest.raises(report_paths.UnsafePathError):
            report_paths.join_inside(root, part)
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(report_paths.UnsafePathError, match="outside"):
        report_paths.join_inside(root, "link", "x.html")
    assert report_paths.join_inside(root, "org", "2026-W46") == root / "org" / "2026-W46"


# -- rendering --------------------------------------------------------------------------------------------


def test_reports_of_path_like_org_ids_stay_inside_the_reports_dir_and_delete_nothing_outside(site, rendered):
    assert [result.returncode for result in rendered["cli"]] == [0, 0], [r.stderr for r in rendered["cli"]]
    new_paths = set(rendered["after"]) - set(rendered["before"])
    assert new_paths and all(Path(path).is_relative_to(rendered["dir"]) for path in new_paths), sorted(
        path for path in new_paths if not Path(path).is_relative_to(rendered["dir"])
    )
    assert (site["victim"] / WEEK / "precious.txt").read_text(encoding="utf-8") == "not a report"
    assert {path: content for path, content in rendered["after"].items() if path in rendered["before"]} == rendered[
        "before"
    ]
    escape_dir = rendered["dir"] / expected_name(ESCAPE, "escape") / WEEK
    assert sorted(path.name for path in (escape_dir / "users").iterdir()) == ["e-user.html", "e-user.pdf"]
    (victim_folder,) = [
        path
        for path in rendered["dir"].iterdir()
        if path.name.endswith("~" + hashlib.sha256(site["victim_org"].encode()).hexdigest()[:24])
    ]
    manifest = json.loads((victim_folder / WEEK / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["org_id"] == site["victim_org"] and len(manifest["files"]) == 6


def test_every_report_of_the_hostile_org_is_rendered_each_to_its_own_file(rendered):
    outcome, week_dir = rendered["outcome"], rendered["week_dir"]
    assert outcome.failed == []
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["failed"] == []
    entries = {
        (entry["audience"], entry["recipient_user_id"], entry["format"]): entry["file"] for entry in manifest["files"]
    }
    assert {(audience, user) for audience, user, _ in entries} == HOSTILE_REPORTS
    assert len(set(entries.values())) == len(entries)  # no two reports share a file
    for user, stem in FILE_STEM.items():
        assert entries["user", user, "html"] == f"users/{stem}.html"
    # a/b and a_b each get their own report, showing their own name only.
    slash = (week_dir / entries["user", "a/b", "html"]).read_text(encoding="utf-8")
    under = (week_dir / entries["user", "a_b", "html"]).read_text(encoding="utf-8")
    assert "Slash Person" in slash and "Under Person" not in slash
    assert "Under Person" in under and "Slash Person" not in under
    on_disk = {str(path.relative_to(week_dir)) for path in week_dir.rglob("*") if path.is_file()}
    assert on_disk == set(entries.values()) | {"manifest.json"}


def test_names_are_rendered_as_text_without_math_or_bidi_controls(rendered):
    week_dir = rendered["week_dir"]
    org_report = (week_dir / "org" / "h-admin.html").read_text(encoding="utf-8")
    svgs = "".join(re.findall(r"<svg.*?</svg>", org_report, re.S))
    # The cost-by-person chart labels its bars with the names, as written.
    assert ">Cost $5 and $10<" in svgs and ">$\\frac{1}{$<" in svgs and ">Evileman<" in svgs
    for path in week_dir.rglob("*.*"):
        text = (
            path.read_text(encoding="utf-8")
            if path.suffix != ".pdf"
            else "".join(page.extract_text() for page in PdfReader(path).pages)
        )
        assert "\u202e" not in text and "\r" not in text, path
    assert "Hostile Bcc: spy@evil.example" in org_report


def fail_the_report_of(monkeypatch, user_id: str, message: str) -> None:
    """Make every report of `user_id` raise while it is built (in this process: render with one worker)."""
    import reports.weekly.render

    build = reports.weekly.render.build_report

    def build_or_fail(*args):
        if args[-1] == user_id:
            raise RuntimeError(message)
        return build(*args)

    monkeypatch.setattr(reports.weekly.render, "build_report", build_or_fail)


def test_a_report_that_fails_is_listed_and_the_others_are_written(site, tmp_path, monkeypatch, capsys):
    fail_the_report_of(monkeypatch, "v-user", "a chart could not be drawn")
    code = cli.main(
        [
            "report",
            "--org",
            site["victim_org"],
            "--week",
            WEEK,
            "--warehouse",
            str(site["warehouse"]),
            "--output-dir",
            str(tmp_path),
            "--workers",
            "1",
        ]
    )
    assert code == 1
    assert "not rendered: user report of 'v-user': RuntimeError: a chart could not be drawn" in capsys.readouterr().out
    (week_dir,) = tmp_path.glob(f"*/{WEEK}")
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["failed"] == [
        {"audience": "user", "recipient_user_id": "v-user", "error": "RuntimeError: a chart could not be drawn"}
    ]
    assert {(f["audience"], f["recipient_user_id"]) for f in manifest["files"]} == {
        ("user", "v-admin"),
        ("org", "v-admin"),
    }
    assert sorted(path.name for path in (week_dir / "users").iterdir()) == ["v-admin.html", "v-admin.pdf"]


def test_a_week_folder_the_product_did_not_write_is_never_replaced(site, rendered, tmp_path):
    reports_dir = tmp_path / "reports"
    foreign = reports_dir / expected_name(ESCAPE, "escape") / WEEK
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    completed = run_cli(
        "report",
        "--org",
        ESCAPE,
        "--week",
        WEEK,
        "--warehouse",
        str(site["warehouse"]),
        "--output-dir",
        str(reports_dir),
    )
    assert completed.returncode == 2 and "is not a week folder that session-analytics wrote" in completed.stderr
    assert [path.name for path in foreign.iterdir()] == ["notes.txt"]
    # A folder we wrote is replaced as before.
    ours = tmp_path / "ours"
    shutil.copytree(rendered["dir"] / expected_name(ESCAPE, "escape"), ours / expected_name(ESCAPE, "escape"))
    assert (
        run_cli(
            "report", "--org", ESCAPE, "--week", WEEK, "--warehouse", str(site["warehouse"]), "--output-dir", str(ours)
        ).returncode
        == 0
    )


# -- delivery ---------------------------------------------------------------------------------------------


def deliver(site, reports_dir: Path, org: str, tmp_path: Path, *extra: str) -> int:
    return cli.main(
        [
            "deliver",
            "--org",
            org,
            "--week",
            WEEK,
            "--warehouse",
            str(site["warehouse"]),
            "--output-dir",
            str(reports_dir),
            "--ledger",
            str(tmp_path / "ledger.sqlite3"),
            "--outbox",
            str(tmp_path / "outbox"),
            *extra,
        ]
    )


def ledger_rows(tmp_path: Path) -> dict[tuple[str, str], dict]:
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as conn:
        conn.row_factory = sqlite3.Row
        return {
            (row["audience"], row["recipient_user_id"]): dict(row)
            for row in conn.execute("select * from report_deliveries")
        }


def summary_counts(output: str, org: str) -> dict[str, int]:
    line = next(line for line in output.splitlines() if line.startswith(f"{org} {WEEK}: "))
    parts = line.split(": ", 1)[1].split(" (")[0].split("; ")
    return {part.split(" ", 1)[1]: int(part.split(" ", 1)[0]) for part in parts}


def test_each_report_reaches_only_its_own_recipient_and_invalid_addresses_get_nothing(
    site, rendered, smtp, tmp_path, capsys
):
    server = smtp()
    reports_dir = tmp_path / "reports"
    shutil.copytree(rendered["dir"], reports_dir)
    assert deliver(site, reports_dir, HOSTILE, tmp_path) == 0
    output = capsys.readouterr().out
    wanted = {(audience, user) for audience, user in HOSTILE_REPORTS if user not in INVALID}
    assert summary_counts(output, HOSTILE) == {
        "sent": len(wanted),
        "already sent": 0,
        "changed, not resent": 0,
        "opted out": 0,
        "no email address": 0,
        "invalid email address": 3,
        "failed": 0,
    }
    week_dir = reports_dir / HOSTILE / WEEK
    user_of = {address: user for user, (address, _) in HOSTILE_PEOPLE.items()}
    arrived = {}
    for envelope, raw in server.messages:
        message = email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
        assert len(envelope) == 1 and not NEVER_MAILED & set(envelope) and message["Bcc"] is None
        assert message["To"] == envelope[0] and "\n" not in message["Subject"] and "\r" not in message["Subject"]
        assert message["Subject"].startswith("[Hostile Bcc: spy@evil.example] ")
        audience = "org" if "Org-wide" in message["Subject"] else "user"
        arrived[audience, user_of[envelope[0]]] = message
    assert set(arrived) == wanted
    for (audience, user), message in arrived.items():
        stem = FILE_STEM[user]
        folder = {"user": "users", "org": "org"}[audience]
        html = message.get_body(("html",)).get_content()
        assert html.rstrip("\n") == (week_dir / folder / f"{stem}.html").read_text(encoding="utf-8")
        (attachment,) = message.iter_attachments()
        assert attachment.get_filename() == f"{HOSTILE}-{WEEK}-{audience}-{stem}.pdf"
        assert attachment.get_content() == (week_dir / folder / f"{stem}.pdf").read_bytes()
        assert "\u202e" not in message.get_body(("plain",)).get_content()
    assert "Slash Person" in arrived["user", "a/b"].get_body(("plain",)).get_content()
    assert "Under Person" in arrived["user", "a_b"].get_body(("plain",)).get_content()
    rows = ledger_rows(tmp_path)
    assert set(rows) == wanted and {row["status"] for row in rows.values()} == {"sent"}
    assert all("invalid email address, not sent: user report of " + repr(user) in output for user in INVALID)


def test_compose_keeps_line_breaks_and_bidi_controls_out_of_headers_and_body(tmp_path):
    mailer = Mailer(SmtpSettings.from_env({"SESSION_ANALYTICS_OUTBOX": str(tmp_path)}))
    (tmp_path / "r.html").write_text("<p>report</p>", encoding="utf-8")
    (tmp_path / "r.pdf").write_bytes(b"%PDF-1.7")
    report = _Report(tmp_path / "r.html", tmp_path / "r.pdf", "0" * 64)
    person = Person("../eve", "Eve\u202e\r\nBcc: x@evil.example", "eve@hostile.example", None, None, "member")
    org = {"org_id": "/etc", "name": ORG_NAME + "\u202e"}
    message = compose(mailer, org, W46, ReportTask("user", "../eve"), person, report)
    assert message["Subject"] == "[Hostile Bcc: spy@evil.example] Your weekly report, 2026-W46 (9–15 November 2026)"
    assert message["Bcc"] is None and message["To"] == "eve@hostile.example"
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Hello Eve Bcc: x@evil.example,\n") and "\u202e" not in body
    (attachment,) = message.iter_attachments()
    assert (
        attachment.get_filename() == f"{expected_name('/etc', 'etc')}-{WEEK}-user-{expected_name('../eve', 'eve')}.pdf"
    )
    for address in ("victim@x.example, attacker@evil.example", "Name <other@evil.example>", "a@b\r\nBcc: x@y"):
        with pytest.raises(InvalidAddress):
            compose(
                mailer, org, W46, ReportTask("user", "../eve"), Person("e", "E", address, None, None, "member"), report
            )


@pytest.mark.parametrize(
    "text",
    [
        "victim@x.example, attacker@evil.example",
        "Name <other@evil.example>",
        "<other@evil.example>",
        "a@b.example\r\nBcc: x@y",
        "a@b.example\n",
        "a@b.example (c)",
        "a@",
        "@b.example",
        "a",
        "a@b@c",
        "",
        "   ",
        "x@y\u202e.example",
        "a@b.example;c@d",
    ],
)
def test_an_address_is_exactly_one_bare_mailbox(text):
    with pytest.raises(InvalidAddress):
        parse_address(text)


def test_valid_addresses_are_kept():
    assert parse_address(" ada@acme.example ") == "ada@acme.example"
    assert parse_address('"a b"@acme.example') == '"a b"@acme.example'
    assert parse_address("session-analytics@localhost") == "session-analytics@localhost"


def test_a_report_that_cannot_be_rendered_fails_alone_and_the_others_are_sent(
    site, smtp, tmp_path, capsys, monkeypatch
):
    fail_the_report_of(monkeypatch, "v-user", "no luck")
    server = smtp()
    assert deliver(site, tmp_path / "reports", site["victim_org"], tmp_path, "--workers", "1") == 1
    output = capsys.readouterr().out
    key = report_paths.safe_name(site["victim_org"])
    assert "report not rendered: RuntimeError: no luck" in output
    assert sorted(envelope[0] for envelope, _ in server.messages) == ["v-admin@victim.example"] * 2
    rows = ledger_rows(tmp_path)
    assert rows["user", "v-user"]["status"] == "failed" and rows["user", "v-user"]["attempts"] == 0
    assert "RuntimeError: no luck" in rows["user", "v-user"]["last_error"]
    assert {rows[k]["status"] for k in (("user", "v-admin"), ("org", "v-admin"))} == {"sent"}
    assert (tmp_path / "reports" / key / WEEK / "manifest.json").exists()


# -- Dagster ----------------------------------------------------------------------------------------------


def test_the_weekly_job_isolates_each_org_and_fails_at_the_end(site, rendered, tmp_path):
    """The escape org's week folder is someone else's: that org fails, the two others are rendered and emailed,
    and the run fails once both assets are done."""
    reports_dir = tmp_path / "reports"
    shutil.copytree(rendered["dir"], reports_dir)
    foreign = reports_dir / expected_name(ESCAPE, "escape") / WEEK
    shutil.rmtree(foreign)
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    resources = {
        "paths": SessionAnalyticsPaths(
            warehouse=str(site["warehouse"]),
            reports_dir=str(reports_dir),
            ledger=str(tmp_path / "ledger.sqlite3"),
            outbox=str(tmp_path / "outbox"),
        )
    }
    result = dg.materialize(
        [weekly_reports, weekly_delivery],
        partition_key=W46.start.isoformat(),
        resources=resources,
        raise_on_error=False,
    )
    assert not result.success
    (reports_materialization,) = result.asset_materializations_for_node("reports__weekly_reports")
    metadata = reports_materialization.metadata
    assert "is not a week folder" in metadata[f"{expected_name(ESCAPE, 'escape')}_error"].value
    assert metadata["hostile_reports"].value == len(HOSTILE_REPORTS)
    assert metadata[f"{report_paths.safe_name(site['victim_org'])}_reports"].value == 3
    assert [path.name for path in foreign.iterdir()] == ["notes.txt"]
    recipients = sorted(
        email.message_from_bytes(path.read_bytes())["To"] for path in (tmp_path / "outbox").glob("*.eml")
    )
    assert recipients == sorted(
        ["v-admin@victim.example"] * 2
        + ["v-user@victim.example"]
        + [HOSTILE_PEOPLE[user][0] for _, user in HOSTILE_REPORTS if user not in INVALID]
    )
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "reports__weekly_delivery"
    assert "1 org(s) not delivered at all" in failure.event_specific_data.error.message


def test_weekly_reports_alone_fails_the_run_when_an_org_fails(site, tmp_path):
    warehouse = tmp_path / "escape-only.duckdb"
    shutil.copy(site["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("delete from analytics.dim_orgs where org_id <> ?", [ESCAPE])
    foreign = tmp_path / "reports" / expected_name(ESCAPE, "escape") / WEEK
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    result = dg.materialize(
        [weekly_reports],
        partition_key=W46.start.isoformat(),
        raise_on_error=False,
        resources={"paths": SessionAnalyticsPaths(warehouse=str(warehouse), reports_dir=str(tmp_path / "reports"))},
    )
    assert not result.success
    assert [path.name for path in foreign.iterdir()] == ["notes.txt"]


# -- the refresh-failure alert ------------------------------------------------------------------------------


def test_the_failure_alert_goes_to_each_valid_admin_address_only(tmp_path, smtp, monkeypatch):
    server = smtp(refuse={"gone@acme.example"})
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema analytics")
        conn.execute("create table analytics.dim_users (role varchar, email varchar)")
        conn.executemany(
            "insert into analytics.dim_users values ('admin', ?)",
            [
                ["crlf@acme.example\r\nBcc: spy@evil.example"],
                ["gone@acme.example"],
                ["Name <other@evil.example>"],
                ["ok@acme.example"],
                ["victim@x.example, attacker@evil.example"],
            ],
        )
    paths = Paths.resolve(warehouse=warehouse, reports_dir=tmp_path / "reports")
    delivered = send_failure_email(
        paths, run_id="0123456789", job_name="refresh", failure="boom", failed_steps=["load"], details=[]
    )
    assert delivered == ["ok@acme.example"]
    assert [envelope for envelope, _ in server.messages] == [["ok@acme.example"]]

    # Without a valid admin address, the fallback list, each of its entries parsed.
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("delete from analytics.dim_users")
    monkeypatch.setenv("SESSION_ANALYTICS_ALERT_TO", "Name <x@evil.example>, oncall@acme.example")
    server.messages.clear()
    assert send_failure_email(
        paths, run_id="0123456789", job_name="refresh", failure="boom", failed_steps=[], details=[]
    ) == ["oncall@acme.example"]
    assert [envelope for envelope, _ in server.messages] == [["oncall@acme.example"]]


# -- a killed deliver ---------------------------------------------------------------------------------------


def descendants(pid: int) -> set[int]:
    """Live (non-zombie) descendants of a process, from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def is_render_worker(pid: int) -> bool:
    try:
        return b"--multiprocessing-fork" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_deliver_leaves_no_workers_and_the_next_run_cleans_up(site, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("SESSION_ANALYTICS_SMTP")}
    reports_dir = tmp_path / "reports"
    command = [
        CLI,
        "deliver",
        "--org",
        HOSTILE,
        "--week",
        WEEK,
        "--warehouse",
        str(site["warehouse"]),
        "--output-dir",
        str(reports_dir),
        "--ledger",
        str(tmp_path / "ledger.sqlite3"),
        "--outbox",
        str(tmp_path / "outbox"),
        "--workers",
        "2",
    ]
    org_dir = reports_dir / HOSTILE
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            children = descendants(process.pid)
            if sum(map(is_render_worker, children)) == 2 and org_dir.is_dir() and list(org_dir.glob(f".{WEEK}-*")):
                break
            time.sleep(0.05)
        assert process.poll() is None, "deliver ended before its workers could be seen"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(map(alive, children)):
            time.sleep(0.1)
        assert not [pid for pid in children if alive(pid)], "render workers outlived the killed deliver"
    finally:
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)  # only on a failure: our own children, by id
    assert list(org_dir.glob(f".{WEEK}-*")), "the killed run left its temporary folder (the next run removes it)"

    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert sorted(path.name for path in org_dir.iterdir()) == [WEEK]
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(
        [1 for _, user in HOSTILE_REPORTS if user not in INVALID]
    )
