"""Tests of the sample generator: determinism, layout, the JSON Schema contract, and that every messy case the
input contract allows really is in the sample (a pipeline test on the sample is only as good as its mess)."""

from __future__ import annotations

import collections
import csv
import dataclasses
import datetime
import gzip
import json
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import duckdb
import jsonschema
import pytest

import orchestration.ingest
from orchestration.config import Paths
from orchestration.sample.generator import (
    BAD_LINE_KINDS,
    BAD_LINES_PER_KIND,
    LONG_CONTEXT_MODELS,
    OUTSIDE_EMAIL,
    UNKNOWN_PROJECT,
    UNKNOWN_USER_ID,
    UNPRICED_MODEL,
    SampleSummary,
    generate_sample,
)
from tests.fixtures.warehouse import build_warehouse

SCHEMA_PATH = Path(orchestration.ingest.__file__).with_name("platform_event.schema.json")
END = datetime.date(2026, 11, 22)  # a Sunday: the window holds weekdays and weekends
SMALL = {"users": 12, "days": 10, "seed": 3, "end_date": END}
ROLES = {"member", "manager", "admin"}


@dataclass
class Line:
    file: str  # relative to raw_dir, e.g. platform/2026-11-20/ingest-00.jsonl
    folder: str  # delivery date
    number: int
    text: str
    doc: object = None  # parsed JSON, None when not JSON
    valid: bool = False


@dataclass
class Sample:
    root: Path
    summary: SampleSummary
    raw_files: dict[str, bytes]  # relative path -> bytes as stored, every source
    lines: list[Line]  # every non-blank platform line
    blank_lines: int

    @property
    def good(self) -> list[Line]:
        return [line for line in self.lines if line.valid]

    def good_of(self, event_type: str) -> list[dict]:
        return [line.doc for line in self.good if line.doc["event_type"] == event_type]

    def directory(self, name: str) -> list[dict[str, str]]:
        with open(self.root / "directory" / name, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def sample(tmp_path_factory, validator) -> Sample:
    root = tmp_path_factory.mktemp("sample")
    summary = generate_sample(root / "raw", root / "directory", **SMALL)
    return _read_sample(root, summary, validator)


def _read_sample(root: Path, summary: SampleSummary, validator) -> Sample:
    raw_files = _tree(root / "raw")
    lines, blank = [], 0
    for name, data in sorted(raw_files.items()):
        if not name.startswith("platform/"):
            continue
        text = (gzip.decompress(data) if name.endswith(".gz") else data).decode("utf-8").removeprefix("\ufeff")
        pieces = text.split("\n")
        if pieces[-1] == "":
            pieces.pop()
        for number, piece in enumerate(pieces, start=1):
            piece = piece.removesuffix("\r")
            if not piece.strip():
                blank += 1
                continue
            line = Line(name, name.split("/")[1], number, piece)
            try:
                line.doc = json.loads(piece)
            except json.JSONDecodeError:
                pass
            line.valid = line.doc is not None and validator.is_valid(line.doc)
            lines.append(line)
    return Sample(root, summary, raw_files, lines, blank)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _utc(timestamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(timestamp).astimezone(datetime.UTC)


# --------------------------------------------------------------------------------------------------- determinism


def test_same_arguments_give_byte_identical_files(sample, tmp_path):
    again = generate_sample(tmp_path / "raw", tmp_path / "directory", **SMALL)
    assert again == sample.summary
    assert _tree(tmp_path / "raw") == sample.raw_files
    assert _tree(tmp_path / "directory") == _tree(sample.root / "directory")


def test_another_seed_gives_another_sample(tmp_path):
    args = {"users": 8, "days": 3, "end_date": END}
    generate_sample(tmp_path / "a" / "raw", tmp_path / "a" / "directory", seed=1, **args)
    generate_sample(tmp_path / "b" / "raw", tmp_path / "b" / "directory", seed=2, **args)
    assert _tree(tmp_path / "a" / "raw") != _tree(tmp_path / "b" / "raw")


def test_regenerating_replaces_the_previous_sample(tmp_path):
    raw, directory = tmp_path / "raw", tmp_path / "directory"
    generate_sample(raw, directory, users=8, days=4, end_date=END)
    generate_sample(raw, directory, users=8, days=2, end_date=END - datetime.timedelta(days=5))
    generate_sample(
        tmp_path / "fresh", tmp_path / "fresh-directory", users=8, days=2, end_date=END - datetime.timedelta(days=5)
    )
    assert _tree(raw) == _tree(tmp_path / "fresh")


def test_bad_arguments_are_refused(tmp_path):
    for bad in ({"users": 3}, {"days": 0}, {"gzip_share": 1.5}):
        with pytest.raises(ValueError):
            generate_sample(tmp_path / "raw", tmp_path / "directory", **bad)


# --------------------------------------------------------------------------------------------------- layout


def test_files_follow_the_documented_layout(sample):
    platform_files = [name for name in sample.raw_files if name.startswith("platform/")]
    assert {name.split("/")[0] for name in sample.raw_files} == {
        "platform",
        "claude_code",
        "otel",
        "codex",
        "gemini",
        "copilot",
    }
    folders = {name.split("/")[1] for name in platform_files}
    for name in platform_files:
        source, folder, file_name = name.split("/")
        assert file_name.endswith((".jsonl", ".jsonl.gz"))
    dates = sorted(datetime.date.fromisoformat(folder) for folder in folders)
    assert dates[0] >= END - datetime.timedelta(days=SMALL["days"] - 1)
    assert dates[-1] <= END + datetime.timedelta(days=1)  # no delivery from the future
    assert sample.summary.files == len(platform_files)
    assert sample.summary.delivery_folders == len(folders)
    assert (sample.summary.start_date, sample.summary.end_date) == (END - datetime.timedelta(days=9), END)

    headers = {
        name: next(csv.reader(open(sample.root / "directory" / name, encoding="utf-8")))
        for name in ("orgs.csv", "users.csv", "projects.csv")
    }
    assert headers == {
        "orgs.csv": ["org_id", "name", "timezone"],
        "users.csv": ["org_id", "user_id", "email", "name", "team", "manager_id", "role"],
        "projects.csv": ["org_id", "project_id", "name", "kind"],
    }


def test_summary_matches_the_files(sample):
    summary, good = sample.summary, sample.good
    assert summary.orgs == ["acme", "globex"]
    assert summary.users == SMALL["users"]
    assert summary.events_written == len(good)
    assert summary.unique_events == len({line.doc["event_id"] for line in good})
    assert summary.duplicate_lines == summary.events_written - summary.unique_events
    assert summary.sessions == len({line.doc["session_id"] for line in good})
    assert summary.model_requests == len({doc["event_id"] for doc in sample.good_of("model_request")})
    assert summary.blank_lines == sample.blank_lines
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.users = 1  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------- contract


def test_good_lines_validate_and_only_the_bad_lines_do_not(sample):
    bad = [line for line in sample.lines if not line.valid]
    assert len(bad) == sample.summary.bad_lines == len(BAD_LINE_KINDS) * BAD_LINES_PER_KIND
    assert collections.Counter(_bad_kind(line.doc) for line in bad) == dict.fromkeys(BAD_LINE_KINDS, BAD_LINES_PER_KIND)
    # Bad lines are extra lines: their event ids never belong to a good event.
    good_ids = {line.doc["event_id"] for line in sample.good}
    bad_docs = [line.doc[0] if isinstance(line.doc, list) else line.doc for line in bad if line.doc is not None]
    assert bad_docs and not good_ids & {doc["event_id"] for doc in bad_docs}


def _bad_kind(doc) -> str:
    if doc is None:
        return "truncated_json"
    if isinstance(doc, list):
        return "json_array"
    usage = doc.get("usage", {})
    if doc["event_type"] == "session_started" and "user_id" not in doc:
        return "started_without_user"
    if "output_tokens" not in usage:
        return "missing_output_tokens"
    if isinstance(usage["input_tokens"], str):
        return "string_token_count"
    if any(isinstance(v, int) and v < 0 for v in usage.values()):
        return "negative_token_count"
    if doc["timestamp"] == "yesterday" or "-13-45T" in doc["timestamp"]:
        return "unparseable_timestamp"
    return f"unexpected: {doc}"


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({}, True),
        ({"event_type": "heartbeat"}, True),  # unknown types need only the common fields
        ({"timestamp": "2026-11-20T10:14:03+01:00"}, True),
        ({"repository": None}, True),
        ({"repository": 7}, False),
        ({"user_id": None}, False),
        ({"schema_version": 2}, False),
        ({"timestamp": "2026-11-20T09:14:03"}, False),  # no zone
        ({"timestamp": "2026-11-20T24:14:03Z"}, False),
        ({"event_id": ""}, False),
    ],
)
def test_schema_on_session_started(validator, change, valid):
    event = {
        "schema_version": 1,
        "event_id": "e1",
        "event_type": "session_started",
        "org_id": "acme",
        "session_id": "s1",
        "timestamp": "2026-11-20T09:14:03.120Z",
        "user_id": "u-1",
        "agent": "claude-code",
        "project_id": "p-1",
        "repository": "acme/x",
    }
    if change.get("event_type") == "heartbeat":
        event = {k: event[k] for k in ("schema_version", "event_id", "org_id", "session_id", "timestamp")}
    assert validator.is_valid(event | change) is valid


@pytest.mark.parametrize(
    ("usage_change", "status", "valid"),
    [
        ({}, "completed", True),
        ({"cache_creation": None}, "failed", True),
        ({"cache_creation": {"ephemeral_5m_input_tokens": 5}}, "cancelled", False),
        ({"cache_read_input_tokens": 1.5}, "completed", False),
        ({}, "done", False),
    ],
)
def test_schema_on_requests_and_ends(validator, usage_change, status, valid):
    usage = {
        "input_tokens": 3,
        "output_tokens": 400,
        "cache_creation_input_tokens": 10,
        "cache_read_input_tokens": 20_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 4, "ephemeral_1h_input_tokens": 6},
    }
    common = {
        "schema_version": 1,
        "event_id": "e",
        "org_id": "acme",
        "session_id": "s",
        "timestamp": "2026-11-20T09:14:03.120Z",
    }
    request = common | {"event_type": "model_request", "request_id": "r", "model": "m", "usage": usage | usage_change}
    ended = common | {"event_type": "session_ended", "status": status}
    assert (validator.is_valid(request) and validator.is_valid(ended)) is valid


# --------------------------------------------------------------------------------------------------- messy cases


def test_file_level_mess_is_present(sample):
    files = sample.raw_files
    names = [n for n in files if n.startswith("platform/")]  # gzip_share is the platform deliveries'
    gz = [n for n in names if n.endswith(".gz")]
    plain = [n for n in names if not n.endswith(".gz")]
    assert gz and all(gzip.decompress(files[n]) for n in gz if files[n])
    assert 0.1 < len(gz) / len(names) < 0.45  # about gzip_share
    assert any(files[n] == b"" for n in plain)  # an empty file
    assert any(files[n].startswith(b"\xef\xbb\xbf") for n in plain)  # a UTF-8 BOM
    assert any(b"\r\n" in files[n] for n in plain)  # CRLF line ends
    assert sample.blank_lines >= 1


def test_delivery_mess_is_present(sample):
    good = sample.good
    places = collections.defaultdict(list)  # event id -> (file) per copy
    for line in good:
        places[line.doc["event_id"]].append(line.file)
    copies = [files for files in places.values() if len(files) > 1]
    assert any(len(set(files)) < len(files) for files in copies)  # duplicated in the same file
    assert any(len({f.split("/")[1] for f in files}) > 1 for files in copies)  # redelivered in a later folder

    # Every copy arrives on the event's UTC date or later; the first one at most a day late.
    first_folder = {}
    for line in good:
        event_date = _utc(line.doc["timestamp"]).date()
        folder = datetime.date.fromisoformat(line.folder)
        assert folder >= event_date
        first_folder[line.doc["event_id"]] = min(first_folder.get(line.doc["event_id"], folder), folder)

    by_session = collections.defaultdict(list)
    for line in good:
        by_session[line.doc["session_id"]].append(line)
    late_starts = 0
    for lines in by_session.values():
        starts = [first_folder[x.doc["event_id"]] for x in lines if x.doc["event_type"] == "session_started"]
        requests = [first_folder[x.doc["event_id"]] for x in lines if x.doc["event_type"] == "model_request"]
        late_starts += bool(starts and requests and min(starts) > max(requests))
    assert late_starts >= 2
    assert any(len({x.file for x in lines}) > 2 for lines in by_session.values())  # spread over files
    assert any(len({x.folder for x in lines}) > 1 for lines in by_session.values())  # and over days

    # Lines within a file are not in timestamp order.
    in_file = collections.defaultdict(list)
    for line in good:
        in_file[line.file].append(_utc(line.doc["timestamp"]))
    assert any(stamps != sorted(stamps) for stamps in in_file.values())


def test_event_mess_is_present(sample):
    started = {d["session_id"]: d for d in sample.good_of("session_started")}
    ended = {d["session_id"]: d["status"] for d in sample.good_of("session_ended")}
    requests = sample.good_of("model_request")
    assert set(ended.values()) == {"completed", "failed", "cancelled"}
    assert len(set(started) - set(ended)) >= 1  # sessions that never send an end
    assert any(d["user_id"] == UNKNOWN_USER_ID for d in started.values())
    assert any(d["project_id"] == UNKNOWN_PROJECT.project_id for d in started.values())
    assert any(d["repository"] is None for d in started.values())
    assert {line.doc["event_type"] for line in sample.good} >= {"tool_call", "heartbeat"}

    assert any(
        d["model"] == UNPRICED_MODEL and started.get(d["session_id"], {}).get("agent") == "codex-cli" for d in requests
    )
    long_context = [
        d
        for d in requests
        if sum(v for k, v in d["usage"].items() if k != "output_tokens" and isinstance(v, int)) > 200_000
    ]
    assert long_context and {d["model"] for d in long_context} <= set(LONG_CONTEXT_MODELS)
    models = collections.Counter(d["model"] for d in requests)
    assert models.most_common(1)[0][0] == "claude-sonnet-4-5-20250929"

    splits = [d["usage"] for d in requests if "cache_creation" in d["usage"]]
    assert splits and len(splits) < len(requests)
    assert all(sum(u["cache_creation"].values()) == u["cache_creation_input_tokens"] for u in splits)
    assert any(u["cache_creation"]["ephemeral_1h_input_tokens"] > 0 for u in splits)
    claude = [d["usage"] for d in requests if d["model"].startswith("claude-sonnet")]
    assert sum(u["cache_read_input_tokens"] for u in claude) > 10 * sum(u["input_tokens"] for u in claude)


def test_timestamps_are_rfc3339_with_some_local_offsets(sample):
    zones = {row["org_id"]: zoneinfo.ZoneInfo(row["timezone"]) for row in sample.directory("orgs.csv")}
    offsets = [line.doc for line in sample.good if not line.doc["timestamp"].endswith("Z")]
    assert offsets and len(offsets) < len(sample.good) / 5
    for doc in offsets:  # the offset is the org's local offset at that instant: the same instant as in UTC
        stamp = datetime.datetime.fromisoformat(doc["timestamp"])
        assert stamp.utcoffset() == stamp.astimezone(zones[doc["org_id"]]).utcoffset()
    zulu = [line.doc["timestamp"] for line in sample.good if line.doc["timestamp"].endswith("Z")]
    assert all(len(t) == len("2026-11-20T09:14:03.120Z") for t in zulu)


def test_weekdays_are_busier_than_weekends(sample):
    per_day = collections.Counter()
    for doc in sample.good_of("session_started"):
        per_day[_utc(doc["timestamp"]).astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).date()] += 1
    weekday = [n for day, n in per_day.items() if day.weekday() < 5]
    weekend = [
        per_day.get(END - datetime.timedelta(days=i), 0)
        for i in range(10)
        if (END - datetime.timedelta(days=i)).weekday() >= 5
    ]
    assert sum(weekday) / len(weekday) > 4 * sum(weekend) / len(weekend)


# --------------------------------------------------------------------------------------------------- directory


def test_directory_is_consistent(sample):
    _assert_directory_consistent(sample.directory("users.csv"), sample.directory("orgs.csv"))
    users = sample.directory("users.csv")
    assert any(not row["name"].isascii() for row in users)
    assert {row["org_id"] for row in users} == {"acme", "globex"}
    assert sum(row["org_id"] == "globex" for row in users) >= 3


def test_directory_hierarchy_at_a_realistic_size(tmp_path):
    generate_sample(tmp_path / "raw", tmp_path / "directory", users=120, days=1, end_date=END)
    with open(tmp_path / "directory" / "users.csv", encoding="utf-8") as handle:
        users = list(csv.DictReader(handle))
    with open(tmp_path / "directory" / "orgs.csv", encoding="utf-8") as handle:
        _assert_directory_consistent(users, list(csv.DictReader(handle)))
    reports = collections.Counter(row["manager_id"] for row in users if row["role"] == "member")
    assert all(4 <= count <= 8 for count in reports.values())  # team sizes
    acme_admin = next(r for r in users if r["org_id"] == "acme" and r["role"] == "admin")
    directors = [r for r in users if r["manager_id"] == acme_admin["user_id"]]
    assert len(directors) == 1 and directors[0]["role"] == "manager"  # a manager of managers
    team_managers = [r for r in users if r["org_id"] == "acme" and r["role"] == "manager" and r is not directors[0]]
    assert team_managers and all(r["manager_id"] == directors[0]["user_id"] for r in team_managers)
    assert sum(r["org_id"] == "globex" for r in users) == 12


def _assert_directory_consistent(users: list[dict], orgs: list[dict]) -> None:
    for org in orgs:
        zoneinfo.ZoneInfo(org["timezone"])
    by_id = {row["user_id"]: row for row in users}
    assert len(by_id) == len(users)
    assert len({row["email"] for row in users}) == len(users)
    assert all(row["email"].isascii() and row["email"].count("@") == 1 for row in users)
    assert {row["org_id"] for row in users} <= {org["org_id"] for org in orgs}
    for row in users:
        assert row["role"] in ROLES
        if row["role"] == "admin":
            assert row["manager_id"] == ""
        else:
            manager = by_id[row["manager_id"]]
            assert manager["org_id"] == row["org_id"]
            assert manager["role"] in ("manager", "admin")
    admins = collections.Counter(row["org_id"] for row in users if row["role"] == "admin")
    assert admins == {org["org_id"]: 1 for org in orgs}


def test_events_stay_within_their_directory_org(sample):
    users = {row["user_id"]: row["org_id"] for row in sample.directory("users.csv")}
    projects = {(row["org_id"], row["project_id"]) for row in sample.directory("projects.csv")}
    assert all(row["kind"] in ("single", "workspace") for row in sample.directory("projects.csv"))
    for doc in sample.good_of("session_started"):
        if doc["user_id"] != UNKNOWN_USER_ID:
            assert users[doc["user_id"]] == doc["org_id"]
        if doc["project_id"] != UNKNOWN_PROJECT.project_id:
            assert (doc["org_id"], doc["project_id"]) in projects


def test_gzip_share_is_respected(tmp_path):
    generate_sample(tmp_path / "raw", tmp_path / "directory", users=8, days=2, end_date=END, gzip_share=0.0)
    assert not [p for p in (tmp_path / "raw" / "platform").rglob("*.gz")]


def test_some_sessions_cross_local_midnight(sample):
    zones = {row["org_id"]: zoneinfo.ZoneInfo(row["timezone"]) for row in sample.directory("orgs.csv")}
    local_dates = collections.defaultdict(set)
    for line in sample.good:
        local = _utc(line.doc["timestamp"]).astimezone(zones[line.doc["org_id"]])
        local_dates[line.doc["session_id"]].add(local.date())
    assert any(len(dates) > 1 for dates in local_dates.values())


# --------------------------------------------------------------------------------------------------- Claude Code

SONNET_LONG_CONTEXT = 200_000
USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


@dataclass
class TranscriptLine:
    file: str  # relative to raw_dir
    number: int
    text: str
    doc: dict | None  # None when the line is not JSON

    @property
    def is_progress_copy(self) -> bool:
        """A 2.1.x agent_progress record: it embeds a subagent's response at data.message."""
        doc = self.doc or {}
        return doc.get("type") == "progress" and doc["data"].get("type") == "agent_progress"

    @property
    def entry(self) -> dict:
        """The usage entry: the line itself, or the response an agent_progress record embeds."""
        return self.doc["data"]["message"] if self.is_progress_copy else self.doc

    @property
    def is_usage(self) -> bool:
        entry = self.entry if self.doc else {}
        return entry.get("type") == "assistant" and isinstance(entry["message"].get("usage"), dict)


@dataclass
class OtelRecord:
    file: str
    name: str  # event name without the claude_code. prefix
    attributes: dict[str, dict]  # key -> the OTLP value object, e.g. {"stringValue": "12"}

    def get(self, key: str):
        value = self.attributes.get(key)
        return None if value is None else next(iter(value.values()))


@dataclass
class ClaudeCodeSample:
    transcript_lines: list[TranscriptLine]
    otel_records: list[OtelRecord]
    otel_malformed_lines: int
    mappings: list[dict[str, str]]
    directory_emails: dict[str, str]  # email -> org_id

    @property
    def usage_lines(self) -> list[TranscriptLine]:
        return [line for line in self.transcript_lines if line.is_usage]

    def requests(self) -> dict[tuple[str, str], dict]:
        """ccusage's counting, computed here: one request per (message.id, requestId) of every usage entry
        (agent_progress copies included), the main copy before a sidechain copy, then the copy with the largest
        token total; <synthetic> stubs are not requests. An agent_progress copy is a sidechain copy (the loader
        reads it so; ccusage calls it a main copy, but its tokens equal the subagent file's copy)."""
        best: dict[tuple[str, str], tuple[tuple, dict]] = {}
        for line in self.usage_lines:
            entry = line.entry
            if line.is_progress_copy:
                entry = {**entry, "isSidechain": True, "sessionId": line.doc["sessionId"]}
            message = entry["message"]
            if message["model"] == "<synthetic>":
                continue
            key = (message["id"], entry.get("requestId") or "")
            rank = (not entry.get("isSidechain", False), sum(message["usage"].get(f, 0) for f in USAGE_FIELDS))
            if key not in best or rank > best[key][0]:
                best[key] = (rank, entry)
        return {key: entry for key, (_, entry) in best.items()}

    def otel_api_requests(self) -> list[OtelRecord]:
        return [record for record in self.otel_records if record.name == "api_request"]


@pytest.fixture(scope="module")
def claude_code(sample) -> ClaudeCodeSample:
    transcript_lines, otel_records, otel_malformed = [], [], 0
    for name, data in sorted(sample.raw_files.items()):
        if name.startswith("claude_code/"):
            for number, text in enumerate(data.decode("utf-8").split("\n"), start=1):
                if text:
                    transcript_lines.append(TranscriptLine(name, number, text, _json_or_none(text)))
        elif name.startswith("otel/"):
            text = (gzip.decompress(data) if name.endswith(".gz") else data).decode("utf-8")
            for line in text.splitlines():
                doc = _json_or_none(line)
                if doc is None:
                    otel_malformed += 1
                    continue
                for resource_logs in doc["resourceLogs"]:
                    for scope_logs in resource_logs["scopeLogs"]:
                        for record in scope_logs["logRecords"]:
                            attributes = {a["key"]: a["value"] for a in record["attributes"]}
                            event = record["body"]["stringValue"].removeprefix("claude_code.")
                            otel_records.append(OtelRecord(name, event, attributes))
    emails = {row["email"]: row["org_id"] for row in sample.directory("users.csv")}
    return ClaudeCodeSample(
        transcript_lines, otel_records, otel_malformed, sample.directory("claude_code_projects.csv"), emails
    )


def _json_or_none(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def test_transcripts_follow_claude_codes_layout(claude_code):
    window_start = datetime.datetime.combine(
        END - datetime.timedelta(days=SMALL["days"] - 1), datetime.time(), datetime.UTC
    ) - datetime.timedelta(hours=2)
    cutoff = datetime.datetime.combine(END + datetime.timedelta(days=1), datetime.time(), datetime.UTC)
    collected = set()
    for line in claude_code.transcript_lines:
        source, email, projects, encoded, *rest = line.file.split("/")
        collected.add(email)
        assert (source, projects) == ("claude_code", "projects")
        if not line.doc or "cwd" not in line.doc:
            continue  # malformed, summary, snapshot and queue-operation lines
        assert encoded == re.sub(r"[^A-Za-z0-9-]", "-", line.doc["cwd"])
        if len(rest) == 1:  # <sessionId>.jsonl, sidechain lines inline only from 1.x clients
            assert rest[0] == f"{line.doc['sessionId']}.jsonl"
            assert not line.doc["isSidechain"] or line.doc["version"].startswith("1.")
        else:  # <sessionId>/subagents/agent-<agentId>.jsonl with the parent's sessionId
            assert rest == [line.doc["sessionId"], "subagents", f"agent-{line.doc['agentId']}.jsonl"]
            assert line.doc["isSidechain"] and line.doc["version"].startswith("2.")
        assert window_start <= _utc(line.doc["timestamp"]) < cutoff
        assert line.doc["timestamp"].endswith("Z") and len(line.doc["timestamp"]) == len("2026-11-20T09:14:03.120Z")
    # directory people of acme, plus one email the directory lacks
    assert OUTSIDE_EMAIL in collected and OUTSIDE_EMAIL not in claude_code.directory_emails
    assert {claude_code.directory_emails.get(email) for email in collected - {OUTSIDE_EMAIL}} == {"acme"}
    assert len(collected) >= 4
    # ccusage only reads lines holding these literal bytes: the sample writes Claude Code's compact JSON
    assert all('"usage":{' in line.text for line in claude_code.usage_lines)


def test_transcripts_hold_every_messy_case_the_loader_handles(claude_code):
    lines = [line for line in claude_code.transcript_lines if line.doc]
    usage = [
        line
        for line in claude_code.usage_lines
        if line.entry["message"]["model"] != "<synthetic>" and not line.is_progress_copy
    ]
    copies = collections.defaultdict(list)
    for line in usage:
        copies[(line.doc["message"]["id"], line.doc.get("requestId"))].append(line)
    # content-block repeats: one response over several lines with the same usage, and streamed partials
    assert any(len(c) > 1 and len({json.dumps(x.doc["message"]["usage"]) for x in c}) == 1 for c in copies.values())
    assert any(len({x.doc["message"]["usage"]["output_tokens"] for x in c}) > 1 for c in copies.values())
    # resumed sessions: the same request in two session files under two sessionIds
    assert any(len({x.doc["sessionId"] for x in c}) > 1 for c in copies.values())
    # subagent files (2.x) and inline sidechain lines (1.x)
    assert any("/subagents/agent-" in line.file for line in usage)
    assert any(line.doc["isSidechain"] and "/subagents/" not in line.file for line in usage)
    # lines without requestId, written once each (ccusage would count every copy of those)
    no_request_id = [key for key in copies if key[1] is None]
    assert no_request_id and all(len(copies[key]) == 1 for key in no_request_id)
    assert any(line.doc.get("isApiErrorMessage") and line.doc["message"]["model"] == "<synthetic>" for line in lines)
    assert any(line.doc["type"] == "summary" and "timestamp" not in line.doc for line in lines)
    blocks = collections.Counter(
        block["type"]
        for line in lines
        if line.doc["type"] in ("user", "assistant") and isinstance(line.doc["message"]["content"], list)
        for block in line.doc["message"]["content"]
    )
    assert {"text", "thinking", "tool_use", "tool_result"} <= set(blocks)
    one_hour_writes = [
        x.doc["message"]["usage"].get("cache_creation", {}).get("ephemeral_1h_input_tokens", 0) for x in usage
    ]
    assert max(one_hour_writes) > 0
    long_context = [
        x
        for x in usage
        if "sonnet" in x.doc["message"]["model"]
        and sum(x.doc["message"]["usage"][f] for f in USAGE_FIELDS if f != "output_tokens") > SONNET_LONG_CONTEXT
    ]
    assert len({x.doc["message"]["id"] for x in long_context}) >= 2
    malformed = [line for line in claude_code.transcript_lines if line.doc is None]
    assert len(malformed) >= 2


def test_transcripts_hold_the_record_types_of_real_2_1_files(sample, claude_code):
    lines = [line for line in claude_code.transcript_lines if line.doc]
    progress = [line for line in claude_code.usage_lines if line.is_progress_copy]
    subagent_files = {line.file.rsplit("/", 1)[-1] for line in claude_code.usage_lines if "/subagents/" in line.file}
    # agent_progress copies of subagent responses, both next to the subagent's file and where it is gone
    with_file = {
        line.doc["data"]["agentId"]
        for line in progress
        if f"agent-{line.doc['data']['agentId']}.jsonl" in subagent_files
    }
    assert with_file and {line.doc["data"]["agentId"] for line in progress} - with_file
    file_keys = {
        (line.doc["message"]["id"], line.doc["requestId"])
        for line in claude_code.usage_lines
        if "/subagents/" in line.file
    }
    assert any((line.entry["message"]["id"], line.entry["requestId"]) in file_keys for line in progress)
    assert all('"usage":{' in line.text and not line.doc["isSidechain"] for line in progress)
    # compaction agents: one request reading the whole context
    assert any("/subagents/agent-acompact-" in line.file for line in claude_code.usage_lines)
    types = collections.Counter(
        (line.doc["type"], line.doc.get("subtype") or line.doc.get("operation")) for line in lines
    )
    assert {
        ("queue-operation", "enqueue"),
        ("queue-operation", "dequeue"),
        ("system", "turn_duration"),
        ("system", "compact_boundary"),
    } <= set(types)
    # a main file that is empty while its subagent files are not
    empty = [name for name, data in sample.raw_files.items() if name.startswith("claude_code/") and not data]
    assert any(name.removesuffix(".jsonl") + "/subagents/" in other for name in empty for other in sample.raw_files)
    usage = [line.entry["message"]["usage"] for line in claude_code.usage_lines]
    assert {"service_tier", "inference_geo", "server_tool_use"} <= {key for u in usage for key in u}


def test_transcripts_have_a_realistic_model_mix_and_prompt_caching(claude_code):
    requests = claude_code.requests().values()
    by_family = collections.Counter(
        next(f for f in ("opus", "sonnet", "haiku") if f in doc["message"]["model"]) for doc in requests
    )
    assert by_family["sonnet"] > by_family["opus"] > 0 and by_family["haiku"] > 0
    assert all("haiku" not in doc["message"]["model"] or doc["isSidechain"] for doc in requests)  # subagents only
    read = sum(doc["message"]["usage"]["cache_read_input_tokens"] for doc in requests)
    uncached = sum(doc["message"]["usage"]["input_tokens"] for doc in requests)
    written = sum(doc["message"]["usage"]["cache_creation_input_tokens"] for doc in requests)
    assert read > 2 * (uncached + written)  # cache reads dominate input


def test_otel_logs_follow_the_collector_file_exporter_format(sample, claude_code):
    otel_files = [name for name in sample.raw_files if name.startswith("otel/")]
    assert {name.rsplit(".", 1)[-1] for name in otel_files} == {"jsonl", "gz"}
    assert claude_code.otel_malformed_lines == 2
    names = collections.Counter(record.name for record in claude_code.otel_records)
    assert {"api_request", "user_prompt", "tool_result"} <= set(names)
    styles = {
        json.dumps(sorted((k, type(v).__name__) for k, v in record.attributes["input_tokens"].items()))
        for record in claude_code.otel_api_requests()
    }
    assert styles == {'[["stringValue", "str"]]', '[["intValue", "str"]]', '[["intValue", "int"]]'}
    for record in claude_code.otel_api_requests():
        assert record.get("session.id") and record.get("request_id") and record.get("model")
        assert int(record.get("output_tokens")) >= 1 and record.get("cost_usd") > 0


def test_otel_comes_from_people_with_and_without_transcripts(claude_code):
    transcript_emails = {line.file.split("/")[1] for line in claude_code.transcript_lines}
    otel_emails = {record.get("user.email") for record in claude_code.otel_records}
    assert otel_emails - transcript_emails and otel_emails & transcript_emails
    assert {claude_code.directory_emails[email] for email in otel_emails} == {"acme"}
    transcript_request_ids = {key[1] for key in claude_code.requests()}
    otel_request_ids = {record.get("request_id") for record in claude_code.otel_api_requests()}
    assert otel_request_ids & transcript_request_ids  # the same request seen by both
    assert otel_request_ids - transcript_request_ids


def test_raw_files_carry_prompt_text(claude_code):
    """What the warehouse must never store is really there in the input (see the end-to-end test)."""
    prompts = _prompt_texts(claude_code)
    assert len(prompts) >= 10
    assert any(record.get("prompt") for record in claude_code.otel_records if record.name == "user_prompt")


def _prompt_texts(claude_code: ClaudeCodeSample) -> set[str]:
    texts = {
        line.doc["message"]["content"]
        for line in claude_code.transcript_lines
        if line.doc and line.doc.get("type") == "user" and isinstance(line.doc["message"]["content"], str)
    }
    texts |= {
        line.doc["content"]
        for line in claude_code.transcript_lines
        if line.doc and line.doc.get("type") == "queue-operation" and "content" in line.doc
    }
    texts |= {record.get("prompt") for record in claude_code.otel_records if record.get("prompt")}
    return texts


# --------------------------------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def warehouse(sample) -> Paths:
    """The small sample, all three sources, through the real loaders and a real dbt build."""
    root = sample.root
    paths = Paths.resolve(
        raw_dir=root / "raw", directory=root / "directory", warehouse=root / "warehouse.duckdb", lake_dir=root / "lake"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SESSION_ANALYTICS_DEFAULT_ORG", "acme")  # as `make run` does
        build_warehouse(paths)
    return paths


def _fetch(paths: Paths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_warehouse_counts_each_claude_code_request_once(warehouse, claude_code):
    requests = claude_code.requests()
    transcript_request_ids = {request_id for _, request_id in requests}
    otel_only = {r.get("request_id") for r in claude_code.otel_api_requests()} - transcript_request_ids
    rows = _fetch(
        warehouse,
        "select source, count(*), sum(output_tokens), sum(cache_read_input_tokens), "
        "count(distinct org_id) from analytics.fct_model_requests "
        "where source in ('claude_code', 'otel') group by source order by source",
    )
    assert rows == [
        (
            "claude_code",
            len(requests),
            sum(d["message"]["usage"]["output_tokens"] for d in requests.values()),
            sum(d["message"]["usage"]["cache_read_input_tokens"] for d in requests.values()),
            1,
        ),
        (
            "otel",
            len(otel_only),
            _otel_sum(claude_code, otel_only, "output_tokens"),
            _otel_sum(claude_code, otel_only, "cache_read_tokens"),
            1,
        ),
    ]


def _otel_sum(claude_code: ClaudeCodeSample, request_ids: set[str], key: str) -> int:
    seen, total = set(), 0
    for record in claude_code.otel_api_requests():
        if record.get("request_id") in request_ids and record.get("request_id") not in seen:
            seen.add(record.get("request_id"))
            total += int(record.get(key))
    return total


def test_warehouse_sessions_merge_transcripts_and_otel(warehouse, claude_code):
    transcript_sessions = {
        line.doc["sessionId"]: line
        for line in claude_code.transcript_lines
        if line.doc and "cwd" in line.doc and "timestamp" in line.doc
    }
    otel_sessions = {record.get("session.id") for record in claude_code.otel_records}
    rows = _fetch(
        warehouse,
        "select session_id, source, org_id, user_id, project_id from analytics.fct_sessions "
        "where agent = 'claude-code' and source in ('claude_code', 'otel')",
    )
    assert len(rows) == len(set(transcript_sessions) | otel_sessions)
    assert {row[0] for row in rows} == set(transcript_sessions) | otel_sessions
    assert {row[2] for row in rows} == {"acme"}
    # project from the working directory: the longest mapped prefix, else the folder name
    mappings = sorted(claude_code.mappings, key=lambda m: -len(m["path_prefix"]))
    expected_projects = {}
    for session_id, line in transcript_sessions.items():
        cwd = line.doc["cwd"]
        mapped = next(
            (m["project_id"] for m in mappings if cwd == m["path_prefix"] or cwd.startswith(m["path_prefix"] + "/")),
            None,
        )
        expected_projects[session_id] = mapped or cwd.rsplit("/", 1)[-1]
    projects = {row[0]: row[4] for row in rows if row[1] == "claude_code"}
    assert projects == expected_projects
    assert any(p.startswith("p-") for p in projects.values()) and not all(p.startswith("p-") for p in projects.values())
    # the email the directory lacks is an unknown user of the default org
    outside = {
        row[3]
        for row in rows
        if row[0]
        in {line.doc["sessionId"] for line in transcript_sessions.values() if f"/{OUTSIDE_EMAIL}/" in f"/{line.file}"}
    }
    assert outside == {OUTSIDE_EMAIL}


def test_no_prompt_text_reaches_the_warehouse(warehouse, claude_code):
    prompts = [text.encode("utf-8") for text in _prompt_texts(claude_code)]
    for path in [warehouse.warehouse, *warehouse.lake_dir.rglob("*.parquet")]:
        data = path.read_bytes()
        assert not [p for p in prompts if p in data], path


def test_token_totals_equal_ccusage_on_the_generated_transcripts(warehouse):
    from orchestration.bench.ccusage_parity import ccusage_command, ccusage_daily, compare, warehouse_daily

    theirs = ccusage_daily(warehouse.raw_dir, "Europe/Berlin", ccusage_command())
    rows, identical = compare(warehouse_daily(warehouse.warehouse, "Europe/Berlin"), theirs)
    assert identical, [row for row in rows if row[-1] != "ok"]
    assert len(theirs) >= 10


def test_cli_picks_sources_and_if_absent_considers_any_source(tmp_path, capsys):
    from orchestration.cli import main

    raw = tmp_path / "raw"
    args = [
        "generate-sample",
        "--users",
        "8",
        "--days",
        "3",
        "--end-date",
        END.isoformat(),
        "--raw-dir",
        str(raw),
        "--directory",
        str(tmp_path / "directory"),
    ]
    assert main([*args, "--sources", "otel"]) == 0
    assert [p.name for p in raw.iterdir()] == ["otel"]
    assert main([*args, "--if-absent"]) == 0
    assert [p.name for p in raw.iterdir()] == ["otel"]
    assert "already present" in capsys.readouterr().out
    assert main([*args, "--sources", "platform,claude_code"]) == 0
    assert sorted(p.name for p in raw.iterdir()) == ["claude_code", "otel", "platform"]
    with pytest.raises(SystemExit):
        main([*args, "--sources", "slack"])
    assert "expected some of platform,claude_code,otel" in capsys.readouterr().err
    assert main([*args, "--claude-code-scale", "0"]) == 2
    assert "claude_code_scale must be positive" in capsys.readouterr().err
