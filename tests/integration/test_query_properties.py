"""Property tests: the real warehouse (loaders + dbt build + marts) answered through reports.analytics.query must
equal an independent pure-Python oracle (tests/fixtures/oracle.py) written from the metric specification.

Two layers:
  1. A small hand-written scenario whose figures are worked out BY HAND below; it anchors the oracle itself
     and checks the product on the same figures.
  2. Hypothesis generates event sets (2 orgs in DST-free zones, sessions around local midnight across an ISO
     week and year boundary, redeliveries across deliveries/files, missing starts, missing ends, several
     ends, 1h cache splits, long-context boundaries, an unpriced model, events of ignored types) and builds a
     REAL warehouse per example; many random filter/scope combinations are then drawn against that one
     warehouse (a dbt build costs ~8-10 s, a query a few ms).
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from reports.analytics.query import AnalyticsQueries, Filters, Scope, connect_read_only
from tests.fixtures import oracle
from tests.fixtures.warehouse import build_warehouse, test_paths, write_delivery, write_directory

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
OPUS45 = "claude-opus-4-5-20251101"
OPUS46 = "claude-opus-4-6"
CODEX = "gpt-5-codex"  # an OpenAI model: priced as GPT-5, vendor openai
UNPRICED = oracle.UNPRICED_MODEL

# Cost totals are exact decimals rounded half-up: they must be equal. Averages are divided in floating point
# and may differ by one unit of the last (6th) decimal at a rounding boundary.
EXACT_COST_FIELDS = {"total_cost_usd", "cost_usd"}
AVERAGE_COST_FIELDS = {"avg_cost_per_session_usd", "avg_cost_usd"}
DURATION_FIELDS = {"avg_session_duration_seconds", "avg_duration_seconds"}


# -- comparison helpers --------------------------------------------------------------------------------------


def _close(field: str, got, want) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if field in DURATION_FIELDS:
        # both sides are rounded to 3 decimals; they may differ by one unit at a rounding boundary
        return math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-3 + 1e-9)
    if field in EXACT_COST_FIELDS:
        return got == want
    if field in AVERAGE_COST_FIELDS:
        return math.isclose(got, want, rel_tol=0, abs_tol=1e-6 + 1e-12)
    return got == want and type(got) is type(want)


def assert_row(got: dict, want: dict, context: str) -> None:
    assert set(got) == set(want), f"{context}: keys {sorted(got)} != {sorted(want)}"
    for field in want:
        assert _close(field, got[field], want[field]), (
            f"{context}: {field} = {got[field]!r}, expected {want[field]!r}\n got={got}\nwant={want}"
        )


def assert_summary(got, want, context="summary"):
    assert_row(got, want, context)


def assert_timeseries(got, want, context="timeseries"):
    assert got["interval"] == want["interval"] and got["metric"] == want["metric"], context
    got_periods = [p["period_start"] for p in got["points"]]
    want_periods = [p["period_start"] for p in want["points"]]
    assert got_periods == want_periods, f"{context}: periods {got_periods} != {want_periods}"
    for g, w in zip(got["points"], want["points"]):
        field = "cost_usd" if want["metric"] == "cost" else "value"
        if want["metric"] == "cost":
            assert _close(field, g["value"], w["value"]), f"{context}: {g} != {w}"
        else:
            assert g["value"] == w["value"] and isinstance(g["value"], int), f"{context}: {g} != {w}"


def assert_by_agent(got, want, context="by_agent"):
    # sessions are integers, so the order (sessions desc, agent, None last) is fully determined
    got_keys = [r["agent"] for r in got["agents"]]
    want_keys = [r["agent"] for r in want["agents"]]
    assert got_keys == want_keys, f"{context}: agents {got_keys} != {want_keys}\n got={got}\nwant={want}"
    for g, w in zip(got["agents"], want["agents"]):
        assert_row(g, w, f"{context}[{w['agent']}]")


def _none_last(key):
    return (key is None, "" if key is None else key)


def _assert_cost_order(rows, key_field, exact, tiebreak, context):
    """Cost desc, then the tie-break; pairs whose exact costs differ by less than the rounding unit (but are not
    equal) may come in either order."""
    keys = [r[key_field] for r in rows]
    for a, b in zip(keys, keys[1:]):
        ca, cb = exact[a], exact[b]
        if ca == cb:
            assert tiebreak(a) < tiebreak(b), f"{context}: tie {a!r}/{b!r} in wrong order: {keys}"
        elif abs(ca - cb) >= 1e-6:
            assert ca > cb, f"{context}: {a!r} ({float(ca)}) before {b!r} ({float(cb)}): {keys}"


def assert_cost_breakdown(got, want, exact=None, context="cost_breakdown"):
    assert set(got) == set(want), context
    assert got["unpriced_requests"] == want["unpriced_requests"], (
        f"{context}: unpriced {got['unpriced_requests']} != {want['unpriced_requests']}"
    )
    assert got["unpriced_models"] == want["unpriced_models"], (
        f"{context}: unpriced models {got['unpriced_models']} != {want['unpriced_models']}"
    )
    for part, key_field in (
        ("by_model", "model_family"),
        ("by_vendor", "vendor"),
        ("by_project", "project_id"),
        ("by_user", "user_id"),
    ):
        got_keys = [r[key_field] for r in got[part]]
        want_keys = [r[key_field] for r in want[part]]
        assert sorted(got_keys, key=_none_last) == sorted(want_keys, key=_none_last), (
            f"{context}.{part}: {got_keys} != {want_keys}\n got={got[part]}\nwant={want[part]}"
        )
        assert len(set(got_keys)) == len(got_keys), f"{context}.{part}: duplicate keys {got_keys}"
        wanted = {r[key_field]: r for r in want[part]}
        for row in got[part]:
            assert_row(row, wanted[row[key_field]], f"{context}.{part}[{row[key_field]}]")
        if exact is not None:
            categories = {"by_model": oracle.FAMILIES, "by_vendor": oracle.VENDORS}.get(part)
            tiebreak = categories.index if categories else _none_last
            _assert_cost_order(got[part], key_field, exact[part], tiebreak, f"{context}.{part}")
        else:
            assert got_keys == want_keys, f"{context}.{part}: order {got_keys} != {want_keys}"


def exact_costs(events, orgs, users, projects, org_id, filters, scope_user_ids):
    """Unrounded costs per family / vendor / project / user from the oracle's model, to check tie handling in order."""
    model = oracle.build_model(events, orgs, users, projects, org_id)
    _, requests = oracle._selected(model, filters, scope_user_ids)
    out = {
        "by_model": {f: oracle._cost_sum(r for r in requests if r.family == f) for f in oracle.FAMILIES},
        "by_vendor": {v: oracle._cost_sum(r for r in requests if r.vendor == v) for v in oracle.VENDORS},
    }
    for part, attribute in (("by_project", "project"), ("by_user", "user")):
        keys = {getattr(r, attribute) for r in requests}
        out[part] = {k: oracle._cost_sum(r for r in requests if getattr(r, attribute) == k) for k in keys}
    return out


# -- event builders ------------------------------------------------------------------------------------------


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


def usage(inp, out, write=0, read=0, split=None):
    body = {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
    }
    if split is not None:
        body["cache_creation"] = {"ephemeral_5m_input_tokens": split[0], "ephemeral_1h_input_tokens": split[1]}
    return body


# ============================================================================================================
# 1. Hand-worked scenario
# ============================================================================================================
#
# acme is in Asia/Tokyo (UTC+9, no DST). Prices USD/MTok: sonnet 4.5 3/15 (cache read 0.30; above 200,000
# input tokens incl. cache: 6/22.50/.../0.60), haiku 4.5 1/5 (cache write 5m 1.25, 1h 2, read 0.10).
#
# S1 (a1, claude-code, p1, repo acme/api): starts 2026-01-04T14:30Z = 23:30 local on Sunday 01-04; one sonnet
#    request at 15:10Z = 00:10 local Monday 01-05: 1,000 in + 500 out = 1000*3/1e6 + 500*15/1e6
#    = 0.003 + 0.0075 = $0.0105; ends 15:40Z -> 70 min = 4,200 s. Session on 01-04 (ISO week of Mon 2025-12-29),
#    its tokens/cost on 01-05 (week of Mon 2026-01-05).
# S2 (no start ever arrives -> user/agent/project/repository unknown): haiku request at 2026-01-05T03:00:00.250Z
#    (12:00 local), delivered twice: 100 in, 200 out, cache write 1,000 split 400 (5m) + 600 (1h), 10,000 read
#    = (100*1 + 200*5 + 400*1.25 + 600*2 + 10,000*0.10)/1e6 = (100+1000+500+1200+1000)/1e6 = $0.0038;
#    input tokens 100+1,000+10,000 = 11,100; plus an unpriced acme-internal-llm request at 03:02:00Z (10 in, 10 out).
#    An event of an ignored type (tool_use) at 04:00Z must not stretch the session. No end: duration =
#    03:02:00 - 03:00:00.250 = 119.75 s. Session date 01-05.
# S3 (a2, cursor-agent, p2, repository null): start "2026-01-05T01:00:00+09:00" (=2026-01-04T16:00Z, local 01-05),
#    start delivered twice. Two sonnet requests at 02:00+09:00:
#      R1 150,000 in + 50,000 read = exactly 200,000 -> normal rates, 1,000 out:
#         150,000*3 + 50,000*0.30 + 1,000*15 = 450,000 + 15,000 + 15,000 = 480,000 -> $0.48
#      R2 150,001 in + 50,000 read = 200,001 -> long context for ALL tokens, 1,000 out:
#         150,001*6 + 50,000*0.60 + 1,000*22.50 = 900,006 + 30,000 + 22,500 = 952,506 -> $0.952506
#    Two ends: failed at 02:30+09:00, completed at 03:00+09:00 -> latest end: 2 h = 7,200 s.
#
# acme totals: sessions 3 (01-04: S1; 01-05: S2, S3); cost 0.0105 + 0.0038 + 0.48 + 0.952506 = $1.446806;
#   input 1,000 + 11,100 + 10 + 200,000 + 200,001 = 412,111; output 500 + 200 + 10 + 1,000 + 1,000 = 2,710;
#   total 414,821; avg duration (4,200 + 119.75 + 7,200)/3 = 3,839.91666.. -> 3839.917;
#   avg cost/session 1.446806/3 = 0.48226866.. -> 0.482269; unique users a1, a2 = 2.
#
# globex (NOT in the directory -> UTC) reuses session id S1 and the unpriced model; it must never leak into acme.
#   G: g1 starts 2026-01-04T12:00Z; sonnet 1,000 in -> $0.003.
#
# initech (Asia/Tokyo) checks "price valid at the request's UTC date": Opus 4.6's long-context premium (every
#   token at $10/MTok input once input exceeds 200K) ended on 2026-03-13 (UTC); its base input rate is $5/MTok.
#   I1 (i1): two opus-4.6 requests of 250,000 input tokens, both on LOCAL date 2026-03-13:
#     08:30+09:00 = 2026-03-12T23:30Z -> long-context price -> 250,000*10/1e6 = $2.50;
#     09:30+09:00 = 2026-03-13T00:30Z -> the new price -> 250,000*5/1e6 = $1.25.

HAND_ORGS = [("acme", "Acme", "Asia/Tokyo"), ("initech", "Initech", "Asia/Tokyo")]
HAND_USERS = [
    ("acme", "a1", "a1@acme.test", "Ann", "core", None, "member"),
    ("acme", "a2", "a2@acme.test", "Bob", "core", "a1", "manager"),
    ("initech", "i1", "i1@initech.test", "Ivy", "x", None, "admin"),
]
HAND_PROJECTS = [
    ("acme", "p1", "API", "single"),
    ("acme", "p2", "Web", "workspace"),
    ("initech", "p1", "Initech API", "single"),
]

_R_S2 = ev(
    "s2-r1",
    "model_request",
    "S2",
    "2026-01-05T03:00:00.250Z",
    request_id="r21",
    model=HAIKU,
    usage=usage(100, 200, 1000, 10_000, split=(400, 600)),
)
_S3_START = ev(
    "s3-start",
    "session_started",
    "S3",
    "2026-01-05T01:00:00+09:00",
    user_id="a2",
    agent="cursor-agent",
    project_id="p2",
    repository=None,
)
HAND_DELIVERIES = {
    ("2026-01-05", "part-a"): [
        ev(
            "s1-start",
            "session_started",
            "S1",
            "2026-01-04T14:30:00Z",
            user_id="a1",
            agent="claude-code",
            project_id="p1",
            repository="acme/api",
        ),
        ev(
            "s1-r1",
            "model_request",
            "S1",
            "2026-01-05T00:10:00+09:00",
            request_id="r11",
            model=SONNET,
            usage=usage(1000, 500),
        ),
        ev("s1-end", "session_ended", "S1", "2026-01-04T15:40:00Z", status="completed"),
        _R_S2,
        ev(
            "g-start",
            "session_started",
            "S1",
            "2026-01-04T12:00:00Z",
            org_id="globex",
            user_id="g1",
            agent="claude-code",
            project_id="p1",
            repository=None,
        ),
        ev(
            "g-r1",
            "model_request",
            "S1",
            "2026-01-04T12:01:00Z",
            org_id="globex",
            request_id="rg",
            model=SONNET,
            usage=usage(1000, 0),
        ),
    ],
    ("2026-01-05", "part-b"): [
        _S3_START,
        ev(
            "s3-r1",
            "model_request",
            "S3",
            "2026-01-05T02:00:00+09:00",
            request_id="r31",
            model=SONNET,
            usage=usage(150_000, 1000, 0, 50_000),
        ),
        ev(
            "s3-r2",
            "model_request",
            "S3",
            "2026-01-05T02:00:00+09:00",
            request_id="r32",
            model=SONNET,
            usage=usage(150_001, 1000, 0, 50_000),
        ),
        ev(
            "s2-r2",
            "model_request",
            "S2",
            "2026-01-05T03:02:00Z",
            request_id="r22",
            model=UNPRICED,
            usage=usage(10, 10),
        ),
        ev("s2-tool", "tool_use", "S2", "2026-01-05T04:00:00Z", tool="bash"),
    ],
    ("2026-01-06", "part-a"): [
        _R_S2,  # redelivery
        _S3_START,  # redelivery
        ev("s3-end1", "session_ended", "S3", "2026-01-05T02:30:00+09:00", status="failed"),
        ev("s3-end2", "session_ended", "S3", "2026-01-05T03:00:00+09:00", status="completed"),
        ev(
            "i1-start",
            "session_started",
            "I1",
            "2026-03-13T08:00:00+09:00",
            org_id="initech",
            user_id="i1",
            agent="claude-code",
            project_id="p1",
            repository=None,
        ),
        ev(
            "i1-r1",
            "model_request",
            "I1",
            "2026-03-13T08:30:00+09:00",
            org_id="initech",
            request_id="ri1",
            model=OPUS46,
            usage=usage(250_000, 0),
        ),
        ev(
            "i1-r2",
            "model_request",
            "I1",
            "2026-03-13T09:30:00+09:00",
            org_id="initech",
            request_id="ri2",
            model=OPUS46,
            usage=usage(250_000, 0),
        ),
        ev("i1-end", "session_ended", "I1", "2026-03-13T10:00:00+09:00", org_id="initech", status="completed"),
    ],
}
HAND_EVENTS = [e for events in HAND_DELIVERIES.values() for e in events]

ALL = Filters()
D = dt.date
HAND_EXPECTED = {
    # (org, filters, scope user ids) -> summary
    ("acme", ALL, None): {
        "total_sessions": 3,
        "total_cost_usd": 1.446806,
        "total_tokens": 414_821,
        "input_tokens": 412_111,
        "output_tokens": 2_710,
        "avg_session_duration_seconds": 3839.917,
        "avg_cost_per_session_usd": 0.482269,
        "unique_users": 2,
    },
    # only S1: its session, but its request is on 01-05 -> no tokens or cost on 01-04
    ("acme", Filters(date_to=D(2026, 1, 4)), None): {
        "total_sessions": 1,
        "total_cost_usd": 0.0,
        "total_tokens": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "avg_session_duration_seconds": 4200.0,
        "avg_cost_per_session_usd": 0.0,
        "unique_users": 1,
    },
    # S2 + S3 sessions, every request
    ("acme", Filters(date_from=D(2026, 1, 5)), None): {
        "total_sessions": 2,
        "total_cost_usd": 1.446806,
        "total_tokens": 414_821,
        "input_tokens": 412_111,
        "output_tokens": 2_710,
        "avg_session_duration_seconds": 3659.875,
        "avg_cost_per_session_usd": 0.723403,
        "unique_users": 1,
    },
    # user a1 = S1 only (S2 has no known user, so it never matches a user filter)
    ("acme", Filters(users=("a1",)), None): {
        "total_sessions": 1,
        "total_cost_usd": 0.0105,
        "total_tokens": 1_500,
        "input_tokens": 1_000,
        "output_tokens": 500,
        "avg_session_duration_seconds": 4200.0,
        "avg_cost_per_session_usd": 0.0105,
        "unique_users": 1,
    },
    # repository filter: S3 has a null repository and S2 none at all -> only S1
    ("acme", Filters(repositories=("acme/api", "nope")), None): {
        "total_sessions": 1,
        "total_cost_usd": 0.0105,
        "total_tokens": 1_500,
        "input_tokens": 1_000,
        "output_tokens": 500,
        "avg_session_duration_seconds": 4200.0,
        "avg_cost_per_session_usd": 0.0105,
        "unique_users": 1,
    },
    # scope a2 AND user filter a1 -> nothing
    ("acme", Filters(users=("a1",)), frozenset({"a2"})): {
        "total_sessions": 0,
        "total_cost_usd": 0.0,
        "total_tokens": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "avg_session_duration_seconds": None,
        "avg_cost_per_session_usd": None,
        "unique_users": 0,
    },
    # scope a2: S3 = 0.48 + 0.952506 = 1.432506, tokens 201,000 + 201,001 = 402,001
    ("acme", ALL, frozenset({"a2"})): {
        "total_sessions": 1,
        "total_cost_usd": 1.432506,
        "total_tokens": 402_001,
        "input_tokens": 400_001,
        "output_tokens": 2_000,
        "avg_session_duration_seconds": 7200.0,
        "avg_cost_per_session_usd": 1.432506,
        "unique_users": 1,
    },
    ("globex", ALL, None): {
        "total_sessions": 1,
        "total_cost_usd": 0.003,
        "total_tokens": 1_000,
        "input_tokens": 1_000,
        "output_tokens": 0,
        "avg_session_duration_seconds": 60.0,
        "avg_cost_per_session_usd": 0.003,
        "unique_users": 1,
    },
    # I1: 08:00 -> 10:00 = 7,200 s; $2.50 before 2026-03-13T00:00Z + $1.25 after = $3.75
    ("initech", ALL, None): {
        "total_sessions": 1,
        "total_cost_usd": 3.75,
        "total_tokens": 500_000,
        "input_tokens": 500_000,
        "output_tokens": 0,
        "avg_session_duration_seconds": 7200.0,
        "avg_cost_per_session_usd": 3.75,
        "unique_users": 1,
    },
}
HAND_TIMESERIES = [
    # (org, filters, interval, metric) -> points
    ("acme", ALL, "day", "sessions", [("2026-01-04", 1), ("2026-01-05", 2)]),
    ("acme", ALL, "day", "cost", [("2026-01-04", 0.0), ("2026-01-05", 1.446806)]),
    ("acme", ALL, "week", "sessions", [("2025-12-29", 1), ("2026-01-05", 2)]),
    ("acme", ALL, "week", "tokens", [("2025-12-29", 0), ("2026-01-05", 414_821)]),
    (
        "acme",
        Filters(date_from=D(2026, 1, 3), date_to=D(2026, 1, 6)),
        "day",
        "tokens",
        [("2026-01-03", 0), ("2026-01-04", 0), ("2026-01-05", 414_821), ("2026-01-06", 0)],
    ),
    # from only: to defaults to the last activity date (01-05); the user filter does not move the bounds
    (
        "acme",
        Filters(date_from=D(2026, 1, 2), users=("a2",)),
        "day",
        "sessions",
        [("2026-01-02", 0), ("2026-01-03", 0), ("2026-01-04", 0), ("2026-01-05", 1)],
    ),
]
HAND_BY_AGENT = {
    "agents": [
        {
            "agent": "claude-code",
            "sessions": 1,
            "total_cost_usd": 0.0105,
            "total_tokens": 1_500,
            "avg_cost_usd": 0.0105,
            "avg_duration_seconds": 4200.0,
            "unpriced_requests": 0,
        },
        {
            "agent": "cursor-agent",
            "sessions": 1,
            "total_cost_usd": 1.432506,
            "total_tokens": 402_001,
            "avg_cost_usd": 1.432506,
            "avg_duration_seconds": 7200.0,
            "unpriced_requests": 0,
        },
        # S2: haiku 11,300 tokens + codex 20 tokens
        {
            "agent": None,
            "sessions": 1,
            "total_cost_usd": 0.0038,
            "total_tokens": 11_320,
            "avg_cost_usd": 0.0038,
            "avg_duration_seconds": 119.75,
            "unpriced_requests": 1,
        },
    ]
}
HAND_COST_BREAKDOWN = {
    # sonnet 0.0105 + 0.48 + 0.952506 = 1.443006; haiku 0.0038; opus and other 0 (tie: opus before other)
    "by_model": [
        {"model_family": "sonnet", "cost_usd": 1.443006},
        {"model_family": "haiku", "cost_usd": 0.0038},
        {"model_family": "opus", "cost_usd": 0.0},
        {"model_family": "other", "cost_usd": 0.0},
    ],
    # every priced request is a Claude model: 1.443006 + 0.0038 (the unpriced acme-internal-llm is "other", $0)
    "by_vendor": [
        {"vendor": "anthropic", "cost_usd": 1.446806},
        {"vendor": "openai", "cost_usd": 0.0},
        {"vendor": "google", "cost_usd": 0.0},
        {"vendor": "other", "cost_usd": 0.0},
    ],
    "by_project": [
        {"project_id": "p2", "name": "Web", "cost_usd": 1.432506},
        {"project_id": "p1", "name": "API", "cost_usd": 0.0105},
        {"project_id": None, "name": None, "cost_usd": 0.0038},
    ],
    "by_user": [
        {"user_id": "a2", "name": "Bob", "cost_usd": 1.432506},
        {"user_id": "a1", "name": "Ann", "cost_usd": 0.0105},
        {"user_id": None, "name": None, "cost_usd": 0.0038},
    ],
    "unpriced_requests": 1,
    "unpriced_models": [{"model": "acme-internal-llm", "requests": 1}],
}
HAND_INITECH_BREAKDOWN = {
    "by_model": [
        {"model_family": "opus", "cost_usd": 3.75},
        {"model_family": "sonnet", "cost_usd": 0.0},
        {"model_family": "haiku", "cost_usd": 0.0},
        {"model_family": "other", "cost_usd": 0.0},
    ],
    "by_vendor": [
        {"vendor": "anthropic", "cost_usd": 3.75},
        {"vendor": "openai", "cost_usd": 0.0},
        {"vendor": "google", "cost_usd": 0.0},
        {"vendor": "other", "cost_usd": 0.0},
    ],
    "by_project": [{"project_id": "p1", "name": "Initech API", "cost_usd": 3.75}],
    "by_user": [{"user_id": "i1", "name": "Ivy", "cost_usd": 3.75}],
    "unpriced_requests": 0,
    "unpriced_models": [],
}
HAND_GLOBEX_BREAKDOWN = {  # not in the directory: no names, even where acme has a project p1
    "by_model": [
        {"model_family": "sonnet", "cost_usd": 0.003},
        {"model_family": "opus", "cost_usd": 0.0},
        {"model_family": "haiku", "cost_usd": 0.0},
        {"model_family": "other", "cost_usd": 0.0},
    ],
    "by_vendor": [
        {"vendor": "anthropic", "cost_usd": 0.003},
        {"vendor": "openai", "cost_usd": 0.0},
        {"vendor": "google", "cost_usd": 0.0},
        {"vendor": "other", "cost_usd": 0.0},
    ],
    "by_project": [{"project_id": "p1", "name": None, "cost_usd": 0.003}],
    "by_user": [{"user_id": "g1", "name": None, "cost_usd": 0.003}],
    "unpriced_requests": 0,
    "unpriced_models": [],
}


def _hand(function, org, filters=ALL, scope=None, **kwargs):
    return function(HAND_EVENTS, HAND_ORGS, HAND_USERS, HAND_PROJECTS, org, filters, scope_user_ids=scope, **kwargs)


def _points(points):
    return {"points": [{"period_start": p, "value": v} for p, v in points]}


def test_oracle_reproduces_the_hand_worked_figures():
    for (org, filters, scope), want in HAND_EXPECTED.items():
        assert_summary(_hand(oracle.expected_summary, org, filters, scope), want, f"oracle {org} {filters} {scope}")
    for org, filters, interval, metric, points in HAND_TIMESERIES:
        want = {"interval": interval, "metric": metric, **_points(points)}
        got = _hand(oracle.expected_timeseries, org, filters, interval=interval, metric=metric)
        assert_timeseries(got, want, f"oracle timeseries {org} {filters} {interval} {metric}")
    assert_by_agent(_hand(oracle.expected_by_agent, "acme"), HAND_BY_AGENT)
    assert_cost_breakdown(_hand(oracle.expected_cost_breakdown, "acme"), HAND_COST_BREAKDOWN)
    assert_cost_breakdown(_hand(oracle.expected_cost_breakdown, "initech"), HAND_INITECH_BREAKDOWN)
    assert_cost_breakdown(_hand(oracle.expected_cost_breakdown, "globex"), HAND_GLOBEX_BREAKDOWN)
    empty = _hand(oracle.expected_summary, "nobody")
    assert empty["total_sessions"] == 0 and empty["avg_session_duration_seconds"] is None


@pytest.fixture(scope="module")
def hand_queries(tmp_path_factory):
    paths = test_paths(tmp_path_factory.mktemp("hand"))
    for (delivery_date, name), events in HAND_DELIVERIES.items():
        write_delivery(paths.raw_dir, delivery_date, name, events, gz=name == "part-b")
    write_directory(paths.directory, orgs=HAND_ORGS, users=HAND_USERS, projects=HAND_PROJECTS)
    build_warehouse(paths, dbt_tests=False)
    with connect_read_only(paths.warehouse) as conn:
        yield AnalyticsQueries(conn)


def _scope(user_ids):
    return Scope(user_ids)


@pytest.mark.parametrize("key", list(HAND_EXPECTED), ids=lambda k: f"{k[0]}-{k[1]}-{k[2]}")
def test_product_summary_matches_the_hand_worked_figures(hand_queries, key):
    org, filters, scope = key
    assert_summary(hand_queries.summary(org, filters, _scope(scope)), HAND_EXPECTED[key], f"product {key}")


@pytest.mark.parametrize("case", HAND_TIMESERIES, ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}-{c[1]}")
def test_product_timeseries_matches_the_hand_worked_figures(hand_queries, case):
    org, filters, interval, metric, points = case
    got = hand_queries.timeseries(org, filters, Scope(), interval=interval, metric=metric)
    assert_timeseries(got, {"interval": interval, "metric": metric, **_points(points)})


def test_product_by_agent_and_cost_breakdown_match_the_hand_worked_figures(hand_queries):
    assert_by_agent(hand_queries.by_agent("acme", ALL, Scope()), HAND_BY_AGENT)
    assert_cost_breakdown(hand_queries.cost_breakdown("acme", ALL, Scope()), HAND_COST_BREAKDOWN)
    assert_cost_breakdown(hand_queries.cost_breakdown("globex", ALL, Scope()), HAND_GLOBEX_BREAKDOWN)


def test_product_prices_at_the_requests_utc_date(hand_queries):
    assert_cost_breakdown(hand_queries.cost_breakdown("initech", ALL, Scope()), HAND_INITECH_BREAKDOWN)


# ============================================================================================================
# 2. Generated event sets against a real warehouse
# ============================================================================================================

ORG_IDS = ("acme", "globex")
# DST-free zones with whole-hour, half-hour and quarter-hour offsets; None = the org is not in the directory (UTC)
ZONES = ("Asia/Tokyo", "America/Phoenix", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Honolulu", "UTC", None)
USERS = {"acme": ("a1", "a2", "a3", "a9"), "globex": ("g1", "g2", "g9")}  # *9 are never in the directory
AGENTS = ("claude-code", "cursor-agent", "codex-cli")
PROJECTS = ("p1", "p2", "p3")
REPOSITORIES = (None, "repo/a", "repo/b")
MODELS = (SONNET, HAIKU, OPUS45, OPUS46, CODEX, UNPRICED)
BASE_DAY = dt.date(2025, 12, 26)  # Friday; the window crosses the ISO week (Mon 12-29) and the new year
DAYS = 7
# offsets the timestamps are written in (minutes east of UTC); 0 twice: once as "Z", once as "+00:00"
TS_OFFSETS = (None, 0, 540, -420, 330, 345, -600)
SLOTS = (("2025-12-30", "part-a"), ("2025-12-30", "part-b"), ("2026-01-02", "part-a"), ("2026-01-04", "late"))

MINUTE = 60_000  # milliseconds


def render_timestamp(at: dt.datetime, offset_minutes: int | None) -> str:
    local = at.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes or 0)))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if local.microsecond:
        text += f".{local.microsecond // 1000:03d}"
    if offset_minutes is None:
        return text + "Z"
    sign = "+" if offset_minutes >= 0 else "-"
    return text + f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"


@st.composite
def usages(draw):
    """Token counts that often sit on the 200,000 long-context boundary (input + cache write + cache read)."""
    total_in = draw(st.one_of(st.sampled_from([0, 1_000, 199_999, 200_000, 200_001]), st.integers(0, 260_000)))
    write = draw(st.integers(0, total_in))
    read = draw(st.integers(0, total_in - write))
    inp = total_in - write - read
    out = draw(st.integers(0, 40_000))
    split = None
    if draw(st.booleans()):
        one_hour = draw(st.integers(0, write))
        split = (write - one_hour, one_hour)
    return usage(inp, out, write, read, split)


@st.composite
def sessions(draw, org_id: str, tz: ZoneInfo, index: int):
    """One session's events (without event ids' deliveries): a start around a local midnight, requests, ends."""
    day = BASE_DAY + dt.timedelta(days=draw(st.integers(0, DAYS - 1)))
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    anchor = midnight + dt.timedelta(milliseconds=draw(st.integers(-150 * MINUTE, 150 * MINUTE)))
    session_id = f"s{index}"  # the same session ids exist in both orgs
    prefix = f"{org_id}-{session_id}"

    def at(offset_ms):
        return render_timestamp(anchor + dt.timedelta(milliseconds=offset_ms), draw(st.sampled_from(TS_OFFSETS)))

    events = []
    if draw(st.sampled_from([True, True, True, False])):
        attrs = dict(
            user_id=draw(st.sampled_from(USERS[org_id])),
            agent=draw(st.sampled_from(AGENTS)),
            project_id=draw(st.sampled_from(PROJECTS)),
            repository=draw(st.sampled_from(REPOSITORIES)),
        )
        events.append(ev(f"{prefix}-start", "session_started", session_id, at(0), org_id, **attrs))
        if draw(st.integers(0, 5)) == 0:  # a second, later start event of the same session
            later = draw(st.integers(1, 30 * MINUTE))
            events.append(ev(f"{prefix}-start2", "session_started", session_id, at(later), org_id, **attrs))
    for n in range(draw(st.integers(0, 3))):
        events.append(
            ev(
                f"{prefix}-r{n}",
                "model_request",
                session_id,
                at(draw(st.integers(0, 300 * MINUTE))),
                org_id,
                request_id=f"{prefix}-req{n}",
                model=draw(st.sampled_from(MODELS)),
                usage=draw(usages()),
            )
        )
    for n in range(draw(st.sampled_from([0, 1, 1, 2]))):
        events.append(
            ev(
                f"{prefix}-end{n}",
                "session_ended",
                session_id,
                at(draw(st.integers(0, 360 * MINUTE))),
                org_id,
                status=draw(st.sampled_from(["completed", "failed", "cancelled"])),
            )
        )
    if draw(st.integers(0, 3)) == 0:  # an event of a type the metrics ignore, possibly before/after the rest
        events.append(
            ev(
                f"{prefix}-tool",
                "tool_use",
                session_id,
                at(draw(st.integers(-60 * MINUTE, 420 * MINUTE))),
                org_id,
                tool="bash",
            )
        )
    return events


@st.composite
def worlds(draw):
    orgs, users, projects, events = [], [], [], []
    for org_id in ORG_IDS:
        zone = draw(st.sampled_from(ZONES))
        if zone is not None:
            orgs.append((org_id, org_id.title(), zone))
        for user_id in USERS[org_id][:-1]:
            if draw(st.booleans()) or draw(st.booleans()):
                users.append((org_id, user_id, f"{user_id}@{org_id}.test", f"{org_id} {user_id}", "t", None, "member"))
        for project_id in PROJECTS:
            if draw(st.booleans()) or draw(st.booleans()):
                projects.append((org_id, project_id, f"{org_id} {project_id}", "single"))
        tz = ZoneInfo(zone or "UTC")
        for index in range(draw(st.integers(3, 7) if org_id == "acme" else st.integers(0, 5))):
            events += draw(sessions(org_id, tz, index))
    deliveries: dict[tuple[str, str], list[dict]] = {slot: [] for slot in SLOTS}
    for event in events:
        for slot in draw(st.lists(st.sampled_from(range(len(SLOTS))), min_size=1, max_size=3)):
            deliveries[SLOTS[slot]].append(event)  # the same event may arrive several times
    for slot in SLOTS:
        deliveries[slot] = draw(st.permutations(deliveries[slot]))
    return {"orgs": orgs, "users": users, "projects": projects, "deliveries": deliveries}


def filters_strategy():
    days = [BASE_DAY + dt.timedelta(days=n) for n in range(-2, DAYS + 2)]
    maybe_day = st.one_of(st.none(), st.sampled_from(days))

    def subset(values):
        return st.lists(st.sampled_from(values), max_size=2, unique=True).map(tuple)

    @st.composite
    def build(draw):
        low, high = draw(maybe_day), draw(maybe_day)
        if low and high and low > high:
            low, high = high, low
        org_id = draw(st.sampled_from(ORG_IDS + ORG_IDS + ("nobody",)))
        all_users = USERS["acme"] + USERS["globex"]
        filters = Filters(
            date_from=low,
            date_to=high,
            projects=draw(st.one_of(st.just(()), subset(PROJECTS + ("p-none",)))),
            repositories=draw(st.one_of(st.just(()), subset(("repo/a", "repo/b", "repo/none")))),
            agents=draw(st.one_of(st.just(()), subset(AGENTS + ("no-agent",)))),
            users=draw(st.one_of(st.just(()), subset(all_users))),
        )
        scope = draw(st.one_of(st.none(), st.none(), st.frozensets(st.sampled_from(all_users), max_size=3)))
        interval = draw(st.sampled_from(["day", "week"]))
        metric = draw(st.sampled_from(["sessions", "cost", "tokens"]))
        return org_id, filters, scope, interval, metric

    return build()


FILTER_DRAWS = 40


# No shrinking: every example builds a real warehouse (~10 s), and the failure message already names the
# org, filters and scope of the failing draw. Five examples of FILTER_DRAWS filter draws each keep the file within
# the suite's time budget.
@settings(
    max_examples=5,
    deadline=None,
    database=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(world=worlds(), data=st.data())
def test_queries_equal_the_oracle_for_generated_events_and_filters(world, data):
    with tempfile.TemporaryDirectory(prefix="query-properties-") as tmp:
        paths = test_paths(Path(tmp))
        for (delivery_date, name), events in world["deliveries"].items():
            if events:
                write_delivery(paths.raw_dir, delivery_date, name, events, gz=name == "late")
        write_directory(paths.directory, orgs=world["orgs"], users=world["users"], projects=world["projects"])
        build_warehouse(paths, dbt_tests=False)
        events = [e for batch in world["deliveries"].values() for e in batch]
        directory = (world["orgs"], world["users"], world["projects"])
        with connect_read_only(paths.warehouse) as conn:
            q = AnalyticsQueries(conn)
            # the whole of each org first, then random filter combinations
            draws = [(org, Filters(), None, "day", "sessions") for org in ORG_IDS]
            draws += [data.draw(filters_strategy(), label=f"filters {n}") for n in range(FILTER_DRAWS)]
            for org_id, filters, scope_ids, interval, metric in draws:
                context = f"org={org_id} filters={filters} scope={scope_ids}"
                scope = Scope(scope_ids)
                args = (events, *directory, org_id, filters)
                assert_summary(
                    q.summary(org_id, filters, scope),
                    oracle.expected_summary(*args, scope_user_ids=scope_ids),
                    f"summary {context}",
                )
                assert_by_agent(
                    q.by_agent(org_id, filters, scope),
                    oracle.expected_by_agent(*args, scope_user_ids=scope_ids),
                    f"by_agent {context}",
                )
                assert_cost_breakdown(
                    q.cost_breakdown(org_id, filters, scope),
                    oracle.expected_cost_breakdown(*args, scope_user_ids=scope_ids),
                    exact_costs(*args, scope_ids),
                    f"cost_breakdown {context}",
                )
                first, last = oracle.activity_bounds(events, *directory, org_id)
                low = filters.date_from or first
                high = filters.date_to or last
                if (low is None) != (high is None) or (low and high and low > high):
                    continue  # a one-sided range beyond the org's activity: the specification leaves it open
                assert_timeseries(
                    q.timeseries(org_id, filters, scope, interval=interval, metric=metric),
                    oracle.expected_timeseries(*args, interval=interval, metric=metric, scope_user_ids=scope_ids),
                    f"timeseries {interval}/{metric} {context}",
                )
