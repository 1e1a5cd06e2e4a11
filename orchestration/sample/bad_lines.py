"""The deliberately invalid platform lines (the hostile input the loader quarantines): one kind each of
truncated JSON, a JSON array, a missing or mistyped token count, an unparseable timestamp and a start
without a user, each modelled on a real event of its session."""

from __future__ import annotations

import json
import random

from orchestration.sample.draws import seeded_uuid
from orchestration.sample.models import SONNET_45

BAD_LINE_KINDS = (
    "truncated_json",
    "json_array",
    "missing_output_tokens",
    "string_token_count",
    "negative_token_count",
    "unparseable_timestamp",
    "started_without_user",
)
BAD_LINES_PER_KIND = 2
BAD_TIMESTAMPS = ("yesterday", "{year}-13-45T00:00:00Z")


def corrupt(rng: random.Random, kind: str, copy: int, started: str, events: list[tuple[int, str]]) -> str:
    """An extra, deliberately invalid line modelled on one of the session's own events, with fresh ids so it
    never stands in for a good event."""
    template = json.loads(started)
    if kind != "started_without_user":
        requests = [line for _, line in events if '"event_type":"model_request"' in line]
        if requests:
            template = json.loads(rng.choice(requests))
        else:  # the session was cut before its first request: shape one from the start event
            template = {
                key: template[key] for key in ("schema_version", "event_type", "org_id", "session_id", "timestamp")
            }
            template |= {
                "event_type": "model_request",
                "model": SONNET_45,
                "usage": {
                    "input_tokens": 12,
                    "output_tokens": 300,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 20_000,
                },
            }
        template["request_id"] = f"req_{rng.getrandbits(96):024x}"
    template["event_id"] = seeded_uuid(rng.getrandbits)
    usage = template.get("usage", {})
    if kind == "missing_output_tokens":
        del usage["output_tokens"]
    elif kind == "string_token_count":
        usage["input_tokens"] = str(usage["input_tokens"])
    elif kind == "negative_token_count":
        usage["output_tokens"] = -max(1, usage["output_tokens"])
    elif kind == "unparseable_timestamp":
        template["timestamp"] = BAD_TIMESTAMPS[copy % len(BAD_TIMESTAMPS)].format(year=template["timestamp"][:4])
    elif kind == "started_without_user":
        del template["user_id"]
    text = json.dumps(template, ensure_ascii=False, separators=(",", ":"))
    if kind == "json_array":
        return f"[{text}]"
    if kind == "truncated_json":
        return text[: len(text) * 3 // 5]
    return text
