"""Sample GitHub Copilot CLI OpenTelemetry file exports: `<raw-dir>/copilot/<email>/otel/copilot-otel-<local
time>.jsonl`, one file per CLI process (the timestamped exporter path Copilot's and ccusage's docs recommend), in
the format orchestration/ingest/copilot.py reads (spans and metrics as the OpenTelemetry JS SDK writes them).

Each session is a few agent turns; a turn is one trace: an `invoke_agent` span with the turn's totals (never
counted: its chat spans are), its `chat <model>` spans (the requests) and `execute_tool` spans. The traps of the
real files: input tokens that include the cache reads, a chat span without a model (its agent span names it),
counts written as strings, a chat span that failed with no tokens, metric lines, content (prompts, responses,
tool arguments) for the people who switched content capture on, a session resumed in a later process (a new
file, the same conversation id), and now and then a last line cut off mid-write."""

from __future__ import annotations

import datetime
import json
import random
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.sample.agents import SampleUser, random_uuid4

SOURCE = "copilot"
CLIENT_VERSIONS = ("1.0.68-0", "1.0.70-0", "1.0.71-0")
# Model ids as Copilot CLI reports them; all priced by genai-prices. (weight, model, output scale)
MODELS = (
    (40, "claude-sonnet-4.5", 1.0),
    (20, "gpt-5", 1.4),
    (15, "claude-haiku-4.5", 0.6),
    (10, "gpt-5-mini", 0.8),
    (10, "gpt-5.1", 1.2),
    (5, "claude-opus-4.5", 1.0),
)
TOOLS = ("bash", "view", "edit", "grep", "glob", "create")
PROMPTS = (
    "add a retry to the uploader",
    "why does the nightly job fail",
    "write tests for the parser",
    "rename the billing module",
    "explain this stack trace",
)


def write_sample(raw_dir: Path, users: list[SampleUser], dates: list[datetime.date], rng: random.Random) -> int:
    """Write the users' files; the number of requests (chat spans with tokens) written."""
    written = 0
    for user in users:
        capture_content = rng.random() < 0.5
        zone = ZoneInfo(user.timezone)
        resumable: list[tuple[str, int]] = []  # (conversation id, checkout) of sessions that may be resumed
        for day in dates:
            if day.weekday() >= 5 and rng.random() > 0.1:
                continue
            for _ in range(_sessions_on(rng, user.activity)):
                if resumable and rng.random() < 0.15:
                    conversation, checkout = resumable.pop(rng.randrange(len(resumable)))  # copilot --resume
                else:
                    conversation, checkout = random_uuid4(rng), rng.randrange(max(1, len(user.repositories)))
                start = datetime.datetime.combine(
                    day, datetime.time(rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59)), zone
                )
                lines, requests = _session(rng, user, checkout, conversation, start, capture_content)
                name = f"copilot-otel-{start.strftime('%Y%m%d-%H%M%S')}-{conversation[:8]}.jsonl"
                path = raw_dir / SOURCE / user.email / "otel" / name
                path.parent.mkdir(parents=True, exist_ok=True)
                text = "\n".join(lines) + "\n"
                if rng.random() < 0.04:  # the process died while the exporter wrote a span
                    text += lines[0][: len(lines[0]) // 2]
                path.write_text(text, encoding="utf-8")
                written += requests
                resumable.append((conversation, checkout))
    return written


def _sessions_on(rng: random.Random, activity: float) -> int:
    draw = rng.random()
    return 0 if draw > 0.35 + 0.6 * activity else 1 if draw > 0.25 * activity else 2


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _hr(moment: datetime.datetime) -> list[int]:
    """An OTel JS SDK HrTime: [seconds, nanoseconds]."""
    epoch = moment.astimezone(datetime.UTC).timestamp()
    seconds = int(epoch)
    return [seconds, int(round((epoch - seconds) * 1_000_000)) * 1000]


def _dump(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"))


def _session(
    rng: random.Random,
    user: SampleUser,
    checkout: int,
    conversation: str,
    start: datetime.datetime,
    capture_content: bool,
) -> tuple[list[str], int]:
    version = rng.choice(CLIENT_VERSIONS)
    resource = {
        "attributes": {"service.name": "github-copilot", "service.version": version},
        "schemaUrl": "https://opentelemetry.io/schemas/1.43.0",
    }
    scope = {"name": "github.copilot", "version": version}
    _, model, scale = rng.choices(MODELS, weights=[m[0] for m in MODELS])[0]
    repository = user.repositories[checkout] if user.repositories else None
    branch = rng.choice(("main", "main", "fix/flaky-test", "feature/retry"))
    lines, requests, moment, context = [], 0, start, 0

    def span(trace, span_id, parent, name, kind, begin, end, attributes):
        return _dump(
            {
                "type": "span",
                "traceId": trace,
                "spanId": span_id,
                "parentSpanId": parent,
                "name": name,
                "kind": kind,
                "startTime": _hr(begin),
                "endTime": _hr(end),
                "attributes": attributes,
                "status": {"code": 0},
                "events": [],
                "resource": resource,
                "instrumentationScope": scope,
            }
        )

    for turn in range(rng.randint(1, 4)):
        trace, agent_id, turn_start = _hex(rng, 32), _hex(rng, 16), moment
        totals = {"input": 0, "output": 0, "cache_read": 0}
        for call in range(rng.randint(1, 4)):
            context += rng.randint(2_000, 12_000)  # the conversation grows
            cached = 0 if call == 0 and turn == 0 else int(context * rng.uniform(0.6, 0.95))
            output = int(rng.randint(40, 900) * scale)
            begin = moment + datetime.timedelta(milliseconds=rng.randint(50, 400))
            end = begin + datetime.timedelta(milliseconds=rng.randint(1_500, 20_000))
            failed = rng.random() < 0.02
            tokens = {"input": 0, "output": 0} if failed else {"input": context, "output": output}
            as_text = rng.random() < 0.1  # 64-bit integers written as strings
            attributes = {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "github",
                "gen_ai.conversation.id": conversation,
                "gen_ai.usage.input_tokens": str(tokens["input"]) if as_text else tokens["input"],
                "gen_ai.usage.output_tokens": str(tokens["output"]) if as_text else tokens["output"],
            }
            if not failed and cached:
                attributes["gen_ai.usage.cache_read.input_tokens"] = cached
            if failed:
                attributes["error.type"] = "429"
            if rng.random() > 0.1:  # else the model is only on the agent span
                attributes["gen_ai.request.model"] = attributes["gen_ai.response.model"] = model
            if capture_content:
                attributes["gen_ai.input.messages"] = json.dumps(
                    [{"role": "user", "parts": [{"type": "text", "content": rng.choice(PROMPTS)}]}]
                )
                attributes["gen_ai.output.messages"] = json.dumps(
                    [{"role": "assistant", "parts": [{"type": "text", "content": "Here is the change."}]}]
                )
            lines.append(span(trace, _hex(rng, 16), agent_id, f"chat {model}", 2, begin, end, attributes))
            if not failed:
                requests += 1
                totals = {
                    "input": totals["input"] + context,
                    "output": totals["output"] + output,
                    "cache_read": totals["cache_read"] + cached,
                }
            moment = end
            for _ in range(rng.randint(0, 2)):
                tool = rng.choice(TOOLS)
                tool_attributes = {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": tool,
                    "gen_ai.tool.call.id": f"toolu_{_hex(rng, 20)}",
                    "gen_ai.tool.type": "function",
                }
                if capture_content:
                    tool_attributes["gen_ai.tool.call.arguments"] = json.dumps({"path": f"src/{tool}.py"})
                    tool_attributes["gen_ai.tool.call.result"] = "ok: 12 lines"
                tool_end = moment + datetime.timedelta(milliseconds=rng.randint(20, 3_000))
                lines.append(
                    span(trace, _hex(rng, 16), agent_id, f"execute_tool {tool}", 0, moment, tool_end, tool_attributes)
                )
                moment = tool_end
        agent = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": "github",
            "gen_ai.request.model": model,
            "gen_ai.agent.name": "GitHub Copilot CLI",
            "gen_ai.conversation.id": conversation,
            "gen_ai.usage.input_tokens": totals["input"],
            "gen_ai.usage.output_tokens": totals["output"],
            "gen_ai.usage.cache_read.input_tokens": totals["cache_read"],
        }
        if repository:
            agent |= {
                "github.copilot.git.repository": f"https://github.com/{repository}.git",
                "github.copilot.git.branch": branch,
            }
        lines.append(span(trace, agent_id, "", "invoke_agent GitHub Copilot CLI", 0, turn_start, moment, agent))
        moment += datetime.timedelta(seconds=rng.randint(20, 600))  # the person reads and types
    lines.append(
        _dump(
            {
                "type": "metric",
                "name": "gen_ai.client.operation.duration",
                "unit": "s",
                "dataPoints": [
                    {
                        "attributes": {"gen_ai.operation.name": "chat", "gen_ai.request.model": model},
                        "startTime": _hr(start),
                        "endTime": _hr(moment),
                        "value": {"count": requests, "sum": float(requests * 4)},
                    }
                ],
                "resource": resource,
                "instrumentationScope": scope,
            }
        )
    )
    return lines, requests
