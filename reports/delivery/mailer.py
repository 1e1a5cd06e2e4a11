"""Send email over SMTP, or write it to an outbox folder when no SMTP server is configured.

Settings come from the environment:

| variable | meaning | default |
|---|---|---|
| SESSION_ANALYTICS_SMTP_HOST | SMTP server; empty = write `.eml` files to the outbox | (empty) |
| SESSION_ANALYTICS_SMTP_PORT | port | 465 for ssl, 587 for starttls, else 25 |
| SESSION_ANALYTICS_SMTP_SECURITY | none, starttls or ssl | starttls |
| SESSION_ANALYTICS_SMTP_USER / _SMTP_PASSWORD | login, when the server needs one | (none) |
| SESSION_ANALYTICS_SMTP_FROM | sender address | session-analytics@localhost |
| SESSION_ANALYTICS_OUTBOX | where `.eml` files go without a host | data/outbox |
| SESSION_ANALYTICS_SMTP_ATTEMPTS | attempts per message | 4 |
| SESSION_ANALYTICS_SMTP_BACKOFF_SECONDS | wait before the 2nd attempt; doubles for each further one | 1 |

Transient failures (connection refused or dropped, timeouts, 4xx replies) are retried with exponential
backoff; permanent ones (5xx, a refused recipient) are not. A message to several recipients where the server
refuses some is delivered to the others, and the refused ones are reported in the result.

Every recipient address (of reports and of alerts) goes through `parse_address`: exactly one bare address
(`local-part@domain`, no display name, no comment, no second address, no line break), as the standard library's
RFC 5322 parser reads it. A subject is one line of plain text (`reports.analytics.formatting.display_text`).
"""

from __future__ import annotations

import email.errors
import email.utils
import logging
import os
import smtplib
import ssl
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from reports.analytics.formatting import display_text

log = logging.getLogger(__name__)

ENV_PREFIX = "SESSION_ANALYTICS_"
SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class MailConfigError(ValueError):
    """A setting is invalid (bad security mode or port)."""


# Unicode categories of control, format, surrogate, private-use and unassigned characters and of line breaks.
_NEVER_IN_ADDRESSES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class InvalidAddress(ValueError):
    """A text that is not exactly one bare email address."""


def parse_address(text: str | None) -> str:
    """The one email address `text` holds (surrounding spaces dropped), or InvalidAddress saying why not.

    `victim@x.example, attacker@evil.example`, `Name <other@evil.example>`, `a@b (comment)` and anything with a
    CR, LF or other control or format character (a bidi override) are refused: what reaches a header or an SMTP
    envelope is one mailbox."""
    if text is None or not text.strip():
        raise InvalidAddress("empty")
    shown = repr(text if len(text) <= 200 else text[:200] + "…")
    if any(unicodedata.category(character) in _NEVER_IN_ADDRESSES for character in text):
        raise InvalidAddress(f"{shown} contains a line break, control or format character")
    candidate = text.strip()
    try:
        address = Address(addr_spec=candidate)
    except (ValueError, IndexError, email.errors.HeaderParseError):  # the parser's errors vary by input
        raise InvalidAddress(f"{shown} is not one email address") from None
    if address.addr_spec != candidate or not address.username or not address.domain:
        raise InvalidAddress(f"{shown} is not one bare email address (local-part@domain)")
    return candidate


class MailDeliveryError(RuntimeError):
    """The message could not be delivered to any recipient after all retries."""

    def __init__(self, message: str, attempts: int):
        super().__init__(message)
        self.attempts = attempts  # how many times the message was tried before giving up


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    security: str
    user: str | None
    password: str | None
    sender: str
    outbox_dir: Path
    timeout_seconds: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        env = os.environ if environ is None else environ

        def setting(name: str) -> str | None:
            return _setting(env, name)

        security = (setting("SMTP_SECURITY") or "starttls").lower()
        if security not in SECURITY_MODES:
            raise MailConfigError(
                f"{ENV_PREFIX}SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}, not {security!r}"
            )
        port_text = setting("SMTP_PORT")
        try:
            port = int(port_text) if port_text else DEFAULT_PORTS[security]
        except ValueError:
            raise MailConfigError(f"{ENV_PREFIX}SMTP_PORT must be a number, not {port_text!r}") from None
        return cls(
            host=setting("SMTP_HOST"),
            port=port,
            security=security,
            user=setting("SMTP_USER"),
            password=setting("SMTP_PASSWORD"),
            sender=setting("SMTP_FROM") or "session-analytics@localhost",
            outbox_dir=Path(setting("OUTBOX") or "data/outbox").expanduser().resolve(),
        )


@dataclass(frozen=True)
class SendResult:
    message_id: str
    attempts: int
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> server reply
    outbox_file: Path | None = None


@dataclass
class Mailer:
    settings: SmtpSettings
    max_attempts: int = 4
    backoff_seconds: float = 1.0  # waits 1, 2, 4 ... seconds between attempts
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options) -> Mailer:
        """Settings and retry policy from the environment; keyword options override them."""
        env = os.environ if environ is None else environ
        retry: dict = {}
        for name, option, kind in (
            ("SMTP_ATTEMPTS", "max_attempts", int),
            ("SMTP_BACKOFF_SECONDS", "backoff_seconds", float),
        ):
            text = _setting(env, name)
            if text is not None:
                try:
                    retry[option] = kind(text)
                except ValueError:
                    raise MailConfigError(f"{ENV_PREFIX}{name} must be a number, not {text!r}") from None
        if retry.get("max_attempts", 1) < 1 or retry.get("backoff_seconds", 0) < 0:
            raise MailConfigError(
                f"{ENV_PREFIX}SMTP_ATTEMPTS must be at least 1 and {ENV_PREFIX}SMTP_BACKOFF_SECONDS at least 0"
            )
        return cls(SmtpSettings.from_env(env), **{**retry, **options})

    def compose(
        self,
        to: list[str],
        subject: str,
        text: str,
        html: str | None = None,
        attachments: list[tuple[str, bytes, str]] = (),
    ) -> EmailMessage:
        """A message with a plain-text body, an optional HTML alternative, and (file name, bytes, MIME type)
        attachments. Raises InvalidAddress for a recipient that is not one bare address."""
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = ", ".join(parse_address(address) for address in to)
        message["Subject"] = display_text(subject)
        message["Date"] = email.utils.formatdate(localtime=False)
        message["Message-ID"] = email.utils.make_msgid(domain=self.settings.sender.rpartition("@")[2] or None)
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        for file_name, content, mime_type in attachments:
            maintype, _, subtype = mime_type.partition("/")
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=file_name)
        return message

    def send(self, message: EmailMessage) -> SendResult:
        if "Message-ID" not in message:
            message["Message-ID"] = email.utils.make_msgid()
        if not self.settings.host:
            return self._write_to_outbox(message)
        last_error: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                refused = self._send_once(message)
                return SendResult(message["Message-ID"], attempt, {k: _reply(v) for k, v in refused.items()})
            except smtplib.SMTPRecipientsRefused as error:
                # Every recipient refused: retry only if some refusal is temporary (4xx).
                last_error = error
                if not any(400 <= code < 500 for code, _ in error.recipients.values()):
                    raise MailDeliveryError(
                        f"all recipients refused: {_refusals(error.recipients)}", attempt
                    ) from error
            except smtplib.SMTPResponseException as error:
                last_error = error
                if not 400 <= error.smtp_code < 500:
                    raise MailDeliveryError(
                        f"SMTP server refused the message: {error.smtp_code} {_reply(error)}", attempt
                    ) from error
            except (
                TimeoutError,
                smtplib.SMTPServerDisconnected,
                smtplib.SMTPConnectError,
                ConnectionError,
                OSError,
            ) as error:
                last_error = error
            if attempt < self.max_attempts:
                delay = self.backoff_seconds * 2 ** (attempt - 1)
                log.warning(
                    "sending %s failed (attempt %d/%d: %s); retrying in %.1f s",
                    message["Subject"],
                    attempt,
                    self.max_attempts,
                    last_error,
                    delay,
                )
                self.sleep(delay)
        raise MailDeliveryError(
            f"could not send {message['Subject']!r} after {self.max_attempts} attempts: {last_error}",
            self.max_attempts,
        ) from last_error

    def _send_once(self, message: EmailMessage) -> dict:
        settings = self.settings
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_seconds, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.user:
                client.login(settings.user, settings.password or "")
            return client.send_message(message)

    def _write_to_outbox(self, message: EmailMessage) -> SendResult:
        outbox = self.settings.outbox_dir
        outbox.mkdir(parents=True, exist_ok=True)
        stem = message["Message-ID"].strip("<>").replace("/", "_").replace("@", "_at_")
        target = outbox / f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{stem}.eml"
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(bytes(message))
        os.replace(temporary, target)
        log.info("no SMTP host configured: wrote %s", target)
        return SendResult(message["Message-ID"], 1, {}, target)


def _setting(env: Mapping[str, str], name: str) -> str | None:
    return (env.get(ENV_PREFIX + name) or "").strip() or None


def _reply(value) -> str:
    if isinstance(value, tuple):
        code, text = value
        return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    text = getattr(value, "smtp_error", b"")
    return text.decode(errors="replace") if isinstance(text, bytes) else str(text)


def _refusals(recipients: dict) -> str:
    return "; ".join(f"{address}: {_reply(reply)}" for address, reply in recipients.items())
