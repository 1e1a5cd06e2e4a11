"""The mailer against a real SMTP server on loopback (aiosmtpd): delivery, transient failures retried with
backoff, permanent failures not retried, partial recipient refusal, and the outbox without a host."""

import email

import pytest
from aiosmtpd.controller import Controller

from reports.delivery.mailer import MailConfigError, MailDeliveryError, Mailer, SmtpSettings
from tests.fixtures.servers import RecordingSmtpHandler as Server
from tests.fixtures.servers import free_port


@pytest.fixture
def smtp():
    started = []

    def start(**behaviour):
        handler = Server(**behaviour)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        environment = {
            "SESSION_ANALYTICS_SMTP_HOST": "127.0.0.1",
            "SESSION_ANALYTICS_SMTP_PORT": str(port),
            "SESSION_ANALYTICS_SMTP_SECURITY": "none",
            "SESSION_ANALYTICS_SMTP_FROM": "bot@acme.example",
        }
        waits = []
        mailer = Mailer(SmtpSettings.from_env(environment), backoff_seconds=0.5, sleep=waits.append)
        return handler, mailer, waits

    yield start
    for controller in started:
        controller.stop()


def message(mailer, to=("ada@acme.example",)):
    return mailer.compose(
        list(to),
        "Weekly report",
        "plain body",
        html="<p>html body</p>",
        attachments=[("report.pdf", b"%PDF-1.7 test", "application/pdf")],
    )


def test_delivers_body_alternative_and_attachment(smtp):
    server, mailer, waits = smtp()
    result = mailer.send(message(mailer))
    assert result.attempts == 1 and waits == [] and result.refused == {}
    ((recipients, received),) = server.messages
    assert recipients == ["ada@acme.example"]
    assert received["Subject"] == "Weekly report" and received["From"] == "bot@acme.example"
    assert received["Message-ID"] == result.message_id
    parts = {part.get_content_type(): part for part in received.walk()}
    assert parts["text/plain"].get_payload(decode=True).strip() == b"plain body"
    assert parts["text/html"].get_payload(decode=True).strip() == b"<p>html body</p>"
    assert parts["application/pdf"].get_filename() == "report.pdf"
    assert parts["application/pdf"].get_payload(decode=True) == b"%PDF-1.7 test"


def test_transient_failures_are_retried_with_backoff(smtp):
    server, mailer, waits = smtp(script=["451", "drop", "ok"])
    result = mailer.send(message(mailer))
    assert result.attempts == 3
    assert waits == [0.5, 1.0]  # exponential backoff
    assert server.data_commands == 3 and len(server.messages) == 1


def test_permanent_failure_is_not_retried(smtp):
    server, mailer, waits = smtp(script=["554"])
    with pytest.raises(MailDeliveryError, match="554"):
        mailer.send(message(mailer))
    assert server.data_commands == 1 and waits == []


def test_gives_up_after_the_last_attempt(smtp):
    server, mailer, waits = smtp(script=["451"] * 10)
    with pytest.raises(MailDeliveryError, match="after 4 attempts"):
        mailer.send(message(mailer))
    assert server.data_commands == 4 and waits == [0.5, 1.0, 2.0]


def test_a_refused_recipient_does_not_stop_the_others(smtp):
    server, mailer, _ = smtp(refuse={"gone@acme.example"})
    result = mailer.send(message(mailer, to=("ada@acme.example", "gone@acme.example")))
    assert list(result.refused) == ["gone@acme.example"] and result.refused["gone@acme.example"].startswith("550")
    assert server.messages[0][0] == ["ada@acme.example"]


def test_unreachable_server_is_retried_then_reported():
    settings = SmtpSettings.from_env(
        {
            "SESSION_ANALYTICS_SMTP_HOST": "127.0.0.1",
            "SESSION_ANALYTICS_SMTP_PORT": str(free_port()),
            "SESSION_ANALYTICS_SMTP_SECURITY": "none",
        }
    )
    waits = []
    mailer = Mailer(settings, max_attempts=2, sleep=waits.append)
    with pytest.raises(MailDeliveryError, match="after 2 attempts"):
        mailer.send(mailer.compose(["ada@acme.example"], "s", "b"))
    assert waits == [1.0]


def test_without_a_host_messages_go_to_the_outbox(tmp_path):
    mailer = Mailer(SmtpSettings.from_env({"SESSION_ANALYTICS_OUTBOX": str(tmp_path / "outbox")}))
    result = mailer.send(message(mailer))
    assert result.outbox_file.parent == tmp_path / "outbox" and result.outbox_file.suffix == ".eml"
    saved = email.message_from_bytes(result.outbox_file.read_bytes())
    assert saved["To"] == "ada@acme.example" and saved["Message-ID"] == result.message_id


@pytest.mark.parametrize(
    "setting, value, error",
    [
        ("SESSION_ANALYTICS_SMTP_SECURITY", "tls", "none, starttls, ssl"),
        ("SESSION_ANALYTICS_SMTP_PORT", "twenty-five", "must be a number"),
    ],
)
def test_bad_settings_get_a_clear_error(setting, value, error):
    with pytest.raises(MailConfigError, match=error):
        SmtpSettings.from_env({"SESSION_ANALYTICS_SMTP_HOST": "smtp.example", setting: value})


def test_retry_policy_comes_from_the_environment(smtp):
    server, configured, _ = smtp(script=["451"] * 10)
    environment = {
        "SESSION_ANALYTICS_SMTP_HOST": "127.0.0.1",
        "SESSION_ANALYTICS_SMTP_PORT": str(configured.settings.port),
        "SESSION_ANALYTICS_SMTP_SECURITY": "none",
        "SESSION_ANALYTICS_SMTP_ATTEMPTS": "2",
        "SESSION_ANALYTICS_SMTP_BACKOFF_SECONDS": "0.25",
    }
    waits = []
    mailer = Mailer.from_env(environment, sleep=waits.append)
    with pytest.raises(MailDeliveryError, match="after 2 attempts") as failure:
        mailer.send(message(mailer))
    assert failure.value.attempts == 2 and waits == [0.25] and server.data_commands == 2
    with pytest.raises(MailConfigError, match="SMTP_ATTEMPTS must be a number"):
        Mailer.from_env({**environment, "SESSION_ANALYTICS_SMTP_ATTEMPTS": "many"})
