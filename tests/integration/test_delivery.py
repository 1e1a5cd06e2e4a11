"""Weekly report emails against a real SMTP server on loopback (aiosmtpd), on the report scenario's warehouse
(tests/fixtures/report_scenario.py: acme has an admin, two managers and three members; José Núñez opted out).

What arrives (recipients, subjects, HTML body, PDF attachment, scope), idempotence (a second run sends nothing,
a changed report only with --resend), failures (a refused recipient, a dropped connection: retried, recorded,
never stopping the others, retried by the next run), the opt-out, the outbox without an SMTP host, and the
Dagster asset of the weekly job.
"""

import email
import email.policy
import io
import json
import shutil
import sqlite3

import dagster as dg
import duckdb
import pytest
from pypdf import PdfReader

from orchestration import cli
from orchestration.defs.reporting import weekly_delivery
from orchestration.defs.resources import SessionAnalyticsPaths
from reports.weekly.render import render_reports
from tests.fixtures.report_scenario import OPTED_OUT, PEOPLE, W46

ACME = [person for person in PEOPLE if person[0] == "acme"]
EMAIL = {person[1]: person[2] for person in PEOPLE}
ROLE = {person[1]: person[6] for person in PEOPLE}
# Every acme report of the week, worked out from the directory: everyone gets their own report, a manager also
# the team report, an admin also the org report.
REPORTS = (
    {("user", p[1]) for p in ACME}
    | {("manager", p[1]) for p in ACME if p[6] == "manager"}
    | {("org", p[1]) for p in ACME if p[6] == "admin"}
)
WANTED = {(audience, user) for audience, user in REPORTS if user not in OPTED_OUT}
SUBJECT = {
    "user": "[Acme Robotics] Your weekly report, 2026-W46 (9–15 November 2026)",
    "manager": "[Acme Robotics] Your team's weekly report, 2026-W46 (9–15 November 2026)",
    "org": "[Acme Robotics] Org-wide weekly report, 2026-W46 (9–15 November 2026)",
}
AUDIENCE_OF_SUBJECT = {subject: audience for audience, subject in SUBJECT.items()}
FOLDER = {"user": "users", "manager": "managers", "org": "org"}


@pytest.fixture
def site(report_warehouse, rendered_reports, tmp_path):
    """A copy of acme's rendered reports (conftest.py's, rendered once) and a fresh ledger and outbox."""
    reports_dir = tmp_path / "reports"
    shutil.copytree(rendered_reports / "acme", reports_dir / "acme")
    return {
        "warehouse": report_warehouse.warehouse,
        "reports": reports_dir,
        "ledger": tmp_path / "ledger.sqlite3",
        "outbox": tmp_path / "outbox",
    }


def deliver(site, *extra, capsys=None):
    """`session-analytics deliver` (the CLI, in-process); returns the exit code and what it printed."""
    code = cli.main(
        [
            "deliver",
            "--org",
            "acme",
            "--week",
            "2026-W46",
            "--warehouse",
            str(site["warehouse"]),
            "--output-dir",
            str(site["reports"]),
            "--ledger",
            str(site["ledger"]),
            "--outbox",
            str(site["outbox"]),
            *extra,
        ]
    )
    return code, (capsys.readouterr().out if capsys else "")


def received(server, since: int = 0) -> dict[tuple[str, str], email.message.EmailMessage]:
    """Messages (the `since`-th on) by (audience, recipient user id), from envelope recipient and subject."""
    user_of = {address: user for user, address in EMAIL.items()}
    messages = {}
    for envelope_to, message in server.messages[since:]:
        message = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
        assert len(envelope_to) == 1 and message["To"] == envelope_to[0]
        key = (AUDIENCE_OF_SUBJECT[message["Subject"]], user_of[envelope_to[0]])
        assert key not in messages, f"{key} arrived twice"
        messages[key] = message
    return messages


def html_of(message) -> str:
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default).get_body(("html",)).get_content()


def ledger_rows(site) -> dict[tuple[str, str], dict]:
    with sqlite3.connect(site["ledger"]) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("select * from report_deliveries where org_id = 'acme' and week = '2026-W46'")
        return {(row["audience"], row["recipient_user_id"]): dict(row) for row in rows}


def counts(output: str) -> dict[str, int]:
    """The summary line's counts: `acme 2026-W46: 8 sent; 0 already sent; 0 changed, not resent; ...`."""
    line = next(line for line in output.splitlines() if line.startswith("acme 2026-W46: "))
    parts = line.split(": ", 1)[1].split(" (")[0].split("; ")
    return {part.split(" ", 1)[1]: int(part.split(" ", 1)[0]) for part in parts}


def manifest_hashes(week_dir) -> dict[tuple[str, str, str], str]:
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    return {(f["audience"], f["recipient_user_id"], f["format"]): f["sha256"] for f in manifest["files"]}


def test_each_person_gets_their_reports_once_with_html_body_and_pdf_attached(site, smtp, capsys):
    server = smtp()
    code, output = deliver(site, capsys=capsys)
    assert code == 0, output
    messages = received(server)
    assert set(messages) == WANTED and len(WANTED) == 8
    assert counts(output) == {
        "sent": 8,
        "already sent": 0,
        "changed, not resent": 0,
        "opted out": 1,
        "no email address": 0,
        "invalid email address": 0,
        "failed": 0,
    }
    week_dir = site["reports"] / "acme" / "2026-W46"
    for (audience, user), message in messages.items():
        assert message["Subject"] == SUBJECT[audience]
        assert message["From"] == "reports@acme.example" and message["To"] == EMAIL[user]
        html = message.get_body(("html",)).get_content()
        # (the MIME part ends lines with a newline; the file's last line has none)
        assert html.rstrip("\n") == (week_dir / FOLDER[audience] / f"{user}.html").read_text(encoding="utf-8")
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == f"acme-2026-W46-{audience}-{user}.pdf"
        pdf = attachment.get_content()
        assert pdf == (week_dir / FOLDER[audience] / f"{user}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-") and len(PdfReader(io.BytesIO(pdf)).pages) >= 1
    # The ledger holds one sent row per message, with the Message-ID that arrived.
    rows = ledger_rows(site)
    assert set(rows) == WANTED
    for key, message in messages.items():
        assert rows[key]["status"] == "sent" and rows[key]["attempts"] == 1
        assert rows[key]["message_id"] == message["Message-ID"] and rows[key]["recipient_email"] == EMAIL[key[1]]

    # A second run (the weekly job re-run, say) sends nothing.
    code, output = deliver(site, capsys=capsys)
    assert code == 0 and len(server.messages) == 8
    assert counts(output)["already sent"] == 8 and counts(output)["sent"] == 0


def test_a_message_shows_nobody_outside_its_readers_scope(site, smtp, capsys):
    server = smtp()
    assert deliver(site, capsys=capsys)[0] == 0
    team_of_zoe = {"zoe-mgr", "li-lei", "jose-nunez"}
    for (audience, user), message in received(server).items():
        scope = {
            "user": {user},
            "manager": team_of_zoe if user == "zoe-mgr" else {"bjorn-mgr2", "olsen-out"},
            "org": {p[1] for p in ACME},
        }[audience]
        pdf = next(message.iter_attachments()).get_content()
        pdf_text = "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
        text = (
            str(message["To"]) + message.get_body(("plain",)).get_content() + message.get_body(("html",)).get_content()
        )
        for outsider in (p for p in PEOPLE if p[1] not in scope):
            for needle in outsider[1:4]:  # id, email, name
                assert needle not in text and "".join(needle.split()) not in pdf_text, (
                    f"{audience} message of {user} shows {needle!r}"
                )


def test_a_changed_report_is_sent_again_only_with_resend(site, smtp, capsys, tmp_path):
    server = smtp()
    assert deliver(site, capsys=capsys)[0] == 0
    week_dir = site["reports"] / "acme" / "2026-W46"
    before = manifest_hashes(week_dir)
    # A later refresh renames 李雷 in the directory (applied to a copy of the warehouse, saving a dbt build);
    # the week is rendered again.
    warehouse = tmp_path / "refreshed.duckdb"
    shutil.copy(site["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("update analytics.dim_users set user_name = 'Li Lei' where user_id = 'li-lei'")
    render_reports(warehouse, site["reports"], "acme", W46, workers=2)
    after = manifest_hashes(week_dir)
    changed = {
        (audience, user)
        for audience, user, _ in after
        if after[audience, user, "html"] != before.get((audience, user, "html"))
        or after[audience, user, "pdf"] != before.get((audience, user, "pdf"))
    }
    assert ("user", "li-lei") in changed and ("org", "ada-admin") in changed  # the name is in both
    assert ("user", "olsen-out") not in changed  # re-rendering the same data gives the same files

    code, output = deliver(site, "--warehouse", str(warehouse), capsys=capsys)
    assert code == 0 and len(server.messages) == 8
    assert counts(output)["changed, not resent"] == len(changed - {("user", u) for u in OPTED_OUT})
    assert counts(output)["already sent"] == len(WANTED - changed) and counts(output)["sent"] == 0
    assert "changed, not resent (use --resend): user report of li-lei" in output

    code, output = deliver(site, "--warehouse", str(warehouse), "--resend", capsys=capsys)
    assert code == 0
    resent = received(server, since=8)
    assert set(resent) == changed & WANTED and len(server.messages) == 8 + len(resent)
    assert "Li Lei" in html_of(resent["user", "li-lei"])
    rows = ledger_rows(site)
    assert rows["user", "li-lei"]["times_sent"] == 2 and rows["user", "olsen-out"]["times_sent"] == 1
    # And once resent, a further run has nothing to do.
    code, output = deliver(site, "--warehouse", str(warehouse), "--resend", capsys=capsys)
    assert counts(output)["already sent"] == len(WANTED) and len(server.messages) == 8 + len(changed & WANTED)


def test_refused_recipients_are_retried_recorded_and_never_stop_the_others(site, smtp, capsys):
    # li-lei's mailbox is temporarily unavailable (450: retried with backoff), olsen-out's address is
    # unknown (550: permanent, not retried within the run).
    server = smtp(refuse={EMAIL["li-lei"]: "450 4.2.1 mailbox busy", EMAIL["olsen-out"]: "550 5.1.1 no such user"})
    code, output = deliver(site, capsys=capsys)
    assert code == 1
    delivered = set(received(server))
    assert delivered == WANTED - {("user", "li-lei"), ("user", "olsen-out")}
    assert counts(output)["failed"] == 2 and counts(output)["sent"] == len(WANTED) - 2
    assert f"failed after 3 attempt(s): user report of li-lei <{EMAIL['li-lei']}>" in output
    rows = ledger_rows(site)
    assert rows["user", "li-lei"]["status"] == "failed" and rows["user", "li-lei"]["attempts"] == 3
    assert "450" in rows["user", "li-lei"]["last_error"] and rows["user", "li-lei"]["message_id"]
    assert rows["user", "olsen-out"]["status"] == "failed" and rows["user", "olsen-out"]["attempts"] == 1
    assert "550" in rows["user", "olsen-out"]["last_error"]
    assert {rows[key]["status"] for key in delivered} == {"sent"}

    # The mailboxes work again: the next run sends exactly the two that failed.
    server.refuse.clear()
    server.messages.clear()
    code, output = deliver(site, capsys=capsys)
    assert code == 0
    assert set(received(server)) == {("user", "li-lei"), ("user", "olsen-out")}
    rows = ledger_rows(site)
    assert (rows["user", "li-lei"]["status"], rows["user", "li-lei"]["attempts"]) == ("sent", 4)
    assert (rows["user", "olsen-out"]["status"], rows["user", "olsen-out"]["attempts"]) == ("sent", 2)
    assert rows["user", "li-lei"]["last_error"] is None


def test_a_dropped_connection_is_retried_and_the_message_delivered(site, smtp, capsys):
    server = smtp(script=["drop"])
    code, output = deliver(site, capsys=capsys)
    assert code == 0, output
    assert set(received(server)) == WANTED and server.data_commands == len(WANTED) + 1
    attempts = sorted(row["attempts"] for row in ledger_rows(site).values())
    assert attempts == [1] * (len(WANTED) - 1) + [2]


def test_opted_out_users_get_no_email_but_keep_their_reports(site, smtp, capsys):
    server = smtp()
    deliver(site, capsys=capsys)
    assert OPTED_OUT == {"jose-nunez"}
    assert all(to != [EMAIL["jose-nunez"]] for to, _ in server.messages)
    assert not any(key[1] == "jose-nunez" for key in ledger_rows(site))
    assert (site["reports"] / "acme" / "2026-W46" / "users" / "jose-nunez.pdf").exists()
    # Zoë's team report still covers José: opting out stops his emails, not his figures.
    assert "José Núñez" in html_of(received(server)["manager", "zoe-mgr"])


def test_without_an_smtp_host_messages_go_to_the_outbox_and_missing_reports_are_rendered(site, capsys, monkeypatch):
    monkeypatch.delenv("SESSION_ANALYTICS_SMTP_HOST", raising=False)
    week_dir = site["reports"] / "acme" / "2026-W46"
    (week_dir / "users" / "li-lei.pdf").unlink()  # li-lei's report is incomplete: rendered again first
    code, output = deliver(site, capsys=capsys)
    assert code == 0 and "1 report(s) rendered first" in output and f"outbox {site['outbox']}" in output
    assert (week_dir / "users" / "li-lei.pdf").exists()
    saved = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(site["outbox"].glob("*.eml"))
    ]
    assert sorted((AUDIENCE_OF_SUBJECT[m["Subject"]], m["To"]) for m in saved) == sorted(
        (audience, EMAIL[user]) for audience, user in WANTED
    )
    # The outbox counts as delivered: the next run writes nothing more.
    assert deliver(site, capsys=capsys)[0] == 0
    assert len(list(site["outbox"].glob("*.eml"))) == len(WANTED)


def test_the_weekly_job_renders_and_sends_every_org(site):
    """The Dagster asset on a reports folder with acme rendered and globex not yet: globex's report is rendered,
    and both orgs' messages go to the outbox."""
    resources = {
        "paths": SessionAnalyticsPaths(
            warehouse=str(site["warehouse"]),
            reports_dir=str(site["reports"]),
            ledger=str(site["ledger"]),
            outbox=str(site["outbox"]),
        )
    }
    result = dg.materialize([weekly_delivery], partition_key=W46.start.isoformat(), resources=resources)
    assert result.success
    (materialization,) = result.asset_materializations_for_node("reports__weekly_delivery")
    assert materialization.metadata["acme_sent"].value == len(WANTED)
    assert materialization.metadata["globex_sent"].value == 1
    recipients = sorted(email.message_from_bytes(path.read_bytes())["To"] for path in site["outbox"].glob("*.eml"))
    assert recipients == sorted([EMAIL[user] for _, user in WANTED] + [EMAIL["gina-g"]])
    assert (site["reports"] / "globex" / "2026-W46" / "users" / "gina-g.pdf").exists()
    assert ROLE["gina-g"] == "member"


@pytest.mark.parametrize(
    "args, message",
    [
        (("--org", "nope", "--week", "2026-W46"), "unknown org 'nope'"),
        (("--org", "acme", "--week", "2026-W46", "--workers", "0"), "--workers must be at least 1"),
    ],
)
def test_deliver_explains_bad_requests(site, capsys, args, message):
    code = cli.main(["deliver", *args, "--warehouse", str(site["warehouse"]), "--ledger", str(site["ledger"])])
    assert code == 2 and message in capsys.readouterr().err


def test_bad_smtp_settings_are_an_error_before_anything_is_sent(site, capsys, monkeypatch):
    monkeypatch.setenv("SESSION_ANALYTICS_SMTP_SECURITY", "tls")
    code, _ = deliver(site)
    assert code == 2 and "SESSION_ANALYTICS_SMTP_SECURITY must be one of none, starttls, ssl" in capsys.readouterr().err
    assert not site["ledger"].exists() and not site["outbox"].exists()
