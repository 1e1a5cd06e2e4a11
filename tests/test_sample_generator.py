"""Tests of the sample generator: determinism, layout, the JSON Schema contract, and that every messy case the
input contract allows really is in the sample (a pipeline test on the sample is only as good as its mess)."""

from __future__ import annotations

import collections
import csv
import dataclasses
import datetime
import gzip
import json
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

import orchestration.sources
from orchestration.sample import (
    BAD_LINE_KINDS,
    BAD_LINES_PER_KIND,
    LONG_CONTEXT_MODELS,
    UNKNOWN_PROJECT,
    UNKNOWN_USER_ID,
    UNPRICED_MODEL,
    SampleSummary,
    generate_sample,
)

SCHEMA_PATH = Path(orchestration.sources.__file__).with_name("platform_event.schema.json")
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
    generate_sample(tmp_path / "fresh", tmp_path / "fresh-directory", users=8, days=2,
                    end_date=END - datetime.timedelta(days=5))  # fmt: skip
    assert _tree(raw) == _tree(tmp_path / "fresh")


def test_bad_arguments_are_refused(tmp_path):
    for bad in ({"users": 3}, {"days": 0}, {"gzip_share": 1.5}):
        with pytest.raises(ValueError):
            generate_sample(tmp_path / "raw", tmp_path / "directory", **bad)


# --------------------------------------------------------------------------------------------------- layout


def test_files_follow_the_documented_layout(sample):
    platform_files = [name for name in sample.raw_files if name.startswith("platform/")]
    assert {name.split("/")[0] for name in sample.raw_files} == {"platform", "claude_code", "otel"}
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

    headers = {name: next(csv.reader(open(sample.root / "directory" / name, encoding="utf-8")))
               for name in ("orgs.csv", "users.csv", "projects.csv")}  # fmt: skip
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
    assert collections.Counter(_bad_kind(line.doc) for line in bad) == dict.fromkeys(
        BAD_LINE_KINDS, BAD_LINES_PER_KIND
    )
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
    event = {"schema_version": 1, "event_id": "e1", "event_type": "session_started", "org_id": "acme",
             "session_id": "s1", "timestamp": "2026-11-20T09:14:03.120Z", "user_id": "u-1", "agent": "claude-code",
             "project_id": "p-1", "repository": "acme/x"}  # fmt: skip
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
    usage = {"input_tokens": 3, "output_tokens": 400, "cache_creation_input_tokens": 10,
             "cache_read_input_tokens": 20_000, "cache_creation": {"ephemeral_5m_input_tokens": 4,
                                                                   "ephemeral_1h_input_tokens": 6}}  # fmt: skip
    common = {"schema_version": 1, "event_id": "e", "org_id": "acme", "session_id": "s",
              "timestamp": "2026-11-20T09:14:03.120Z"}  # fmt: skip
    request = common | {"event_type": "model_request", "request_id": "r", "model": "m", "usage": usage | usage_change}
    ended = common | {"event_type": "session_ended", "status": status}
    assert (validator.is_valid(request) and validator.is_valid(ended)) is valid


# --------------------------------------------------------------------------------------------------- messy cases


def test_file_level_mess_is_present(sample):
    names, files = list(sample.raw_files), sample.raw_files
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

    assert any(d["model"] == UNPRICED_MODEL and started.get(d["session_id"], {}).get("agent") == "codex-cli"
               for d in requests)  # fmt: skip
    long_context = [d for d in requests if sum(v for k, v in d["usage"].items() if k != "output_tokens"
                                               and isinstance(v, int)) > 200_000]  # fmt: skip
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
    weekend = [per_day.get(END - datetime.timedelta(days=i), 0) for i in range(10)
               if (END - datetime.timedelta(days=i)).weekday() >= 5]  # fmt: skip
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
    assert not [p for p in (tmp_path / "raw").rglob("*.gz")]


def test_some_sessions_cross_local_midnight(sample):
    zones = {row["org_id"]: zoneinfo.ZoneInfo(row["timezone"]) for row in sample.directory("orgs.csv")}
    local_dates = collections.defaultdict(set)
    for line in sample.good:
        local = _utc(line.doc["timestamp"]).astimezone(zones[line.doc["org_id"]])
        local_dates[line.doc["session_id"]].add(local.date())
    assert any(len(dates) > 1 for dates in local_dates.values())
