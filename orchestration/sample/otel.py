"""The OpenTelemetry side of the Claude Code sample: the records Claude Code exports (attributes encoded as the
exporter does), batched into exporter lines, and the Collector's file exporter output,
`<raw_dir>/otel/sample-collector/<UTC date>/logs.jsonl[.gz]`."""

from __future__ import annotations

import random
from pathlib import Path

from orchestration.sample.claude_code_users import ClaudeCodeUser
from orchestration.sample.clock import DAY_MS, from_epoch_day
from orchestration.sample.encoding import write_gzip
from orchestration.sample.models import FIRST_TOKEN_MS, MS_PER_OUTPUT_TOKEN
from orchestration.sample.prices import cost_usd

OTEL_COLLECTOR = "sample-collector"  # otel/<collector>/<UTC date>/logs.jsonl[.gz]
OTEL_UNCOMPRESSED_DAYS = 2  # the collector gzips a day's file once this many newer days have files
OTEL_EXPORT_INTERVAL_MS = 5_000  # the SDK batches a user's records for this long into one exporter line
OTEL_INT_STYLES = ('{{"stringValue":"{}"}}', '{{"intValue":"{}"}}', '{{"intValue":{}}}')
OTEL_INT_STYLE_WEIGHTS = (0.7, 0.2, 0.1)
OTEL_TRUNCATED_LINES = 2  # the collector died mid-write twice
ACME_ANTHROPIC_ORG = "5f1c2b7e-0d4a-4c8e-9a31-7b2e6d0f4a10"  # the Anthropic organization acme's keys belong to


def string_attribute(key: str, value: str) -> str:
    return f'{{"key":"{key}","value":{{"stringValue":"{value}"}}}}'


def int_attribute(rng: random.Random, key: str, value: int) -> str:
    """64-bit integers arrive as strings, or as intValue (quoted or not) depending on the exporter."""
    style = rng.choices(OTEL_INT_STYLES, OTEL_INT_STYLE_WEIGHTS)[0]
    return f'{{"key":"{key}","value":{style.format(value)}}}'


class Collector:
    """The telemetry of the simulated Claude Code sessions: each session's records (when its user exports them),
    batched per user into exporter lines, and the collector's files, one per UTC day, written once no later
    session can reach that day. `root` is None when the otel source is not generated."""

    def __init__(self, root: Path | None, rng: random.Random, fmt) -> None:
        self.root, self.rng, self.fmt = root, rng, fmt
        self.days: dict[int, list[tuple[int, str]]] = {}
        self.truncated_lines = 0
        self.recent: list[tuple[int, bytes]] = []  # the newest days' files, written plain at the end
        self.counts = dict.fromkeys(("otel_files", "otel_lines", "otel_records", "otel_api_requests"), 0)
        self.session_events: list[tuple[int, str]] | None = None
        self.session_attributes = ""

    # ---- records ------------------------------------------------------------------------------------------

    def start_session(self, user: ClaudeCodeUser, session_id: str, otel: bool) -> None:
        self.session_events = [] if otel else None
        self.session_attributes = (
            f"{string_attribute('session.id', session_id)},{string_attribute('user.email', user.email)},"
            f"{string_attribute('user.account_uuid', user.account_uuid)},"
            f"{string_attribute('organization.id', ACME_ANTHROPIC_ORG)},"
            f"{string_attribute('terminal.type', user.terminal)},{string_attribute('app.version', user.version)}"
        )

    def record(self, t: int, name: str, attributes: str) -> None:
        if self.session_events is None:
            return
        self.session_events.append(
            (
                t,
                (
                    f'{{"timeUnixNano":"{t}000000","observedTimeUnixNano":"{t}000000","body":{{"stringValue":'
                    f'"claude_code.{name}"}},"attributes":[{self.session_attributes},'
                    f"{string_attribute('event.name', name)},{string_attribute('event.timestamp', self.fmt(t))},"
                    f'{attributes}],"droppedAttributesCount":0}}'
                ),
            )
        )

    def api_request(self, t, model, request_id, typed, output, creation_5m, creation_1h, read, duration=None):
        if self.session_events is None:
            return
        rng = self.rng
        cost = cost_usd(model, typed, output, creation_5m, creation_1h, read)
        duration = duration or FIRST_TOKEN_MS + output * MS_PER_OUTPUT_TOKEN
        self.record(
            t,
            "api_request",
            (
                f"{string_attribute('model', model)},{int_attribute(rng, 'input_tokens', typed)},"
                f"{int_attribute(rng, 'output_tokens', output)},{int_attribute(rng, 'cache_read_tokens', read)},"
                f"{int_attribute(rng, 'cache_creation_tokens', creation_5m + creation_1h)},"
                f'{{"key":"cost_usd","value":{{"doubleValue":{cost!r}}}}},'
                f"{int_attribute(rng, 'duration_ms', duration)},"
                f"{string_attribute('request_id', request_id)}"
            ),
        )
        self.counts["otel_api_requests"] += 1

    def end_session(self, user: ClaudeCodeUser) -> None:
        """The session's records in exporter lines: one line per OTEL_EXPORT_INTERVAL_MS of records."""
        events, self.session_events = self.session_events, None
        if not events:
            return
        events.sort(key=lambda event: event[0])
        resource = (
            f'{{"resourceLogs":[{{"resource":{{"attributes":['
            f"{string_attribute('service.name', 'claude-code')},"
            f"{string_attribute('service.version', user.version)},{string_attribute('os.type', 'linux')}]}},"
            f'"scopeLogs":[{{"scope":{{"name":"com.anthropic.claude_code.events","version":"{user.version}"}},'
            '"logRecords":['
        )
        batch_start, batch = events[0][0], []
        for t, record in [*events, (None, "")]:
            if t is None or t - batch_start >= OTEL_EXPORT_INTERVAL_MS:
                self.days.setdefault(batch_start // DAY_MS, []).append(
                    (batch_start, f"{resource}{','.join(batch)}]}}]}}]}}")
                )
                batch_start, batch = t, []
            batch.append(record)
        self.counts["otel_records"] += len(events)

    # ---- files --------------------------------------------------------------------------------------------

    def flush_before(self, day_limit: int) -> None:
        """Write every UTC day of telemetry older than `day_limit`: one collector file per day, lines in export
        order, gzipped once OTEL_UNCOMPRESSED_DAYS newer days have files (the newest stay plain: finish)."""
        for day in sorted(d for d in self.days if d < day_limit):
            lines = [line for _, line in sorted(self.days.pop(day), key=lambda entry: entry[0])]
            if self.truncated_lines < OTEL_TRUNCATED_LINES:  # the collector died mid-write and restarted
                broken = lines[len(lines) // 2]
                lines.insert(len(lines) // 2 + 1, broken[: len(broken) * 3 // 5])
                self.truncated_lines += 1
            self.recent.append((day, ("\n".join(lines) + "\n").encode("utf-8")))
            self.counts["otel_lines"] += len(lines)
            if len(self.recent) > OTEL_UNCOMPRESSED_DAYS:
                self._write_file(*self.recent.pop(0), gzipped=True)

    def finish(self, day_limit: int) -> None:
        """Write the days left before `day_limit`, the newest of them plain."""
        self.flush_before(day_limit)
        for day, data in self.recent:
            self._write_file(day, data, gzipped=False)

    def _write_file(self, day: int, data: bytes, gzipped: bool) -> None:
        folder = self.root / from_epoch_day(day).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        if gzipped:
            write_gzip(folder / "logs.jsonl.gz", data)
        else:
            (folder / "logs.jsonl").write_bytes(data)
        self.counts["otel_files"] += 1
