"""The coding agents and models of the platform events and the Claude Code sessions: which agent and model a
session uses, which models write the prompt cache and how, and the token sizes of a growing context."""

from __future__ import annotations

import math
import random

from orchestration.sample.draws import pick

AGENT_MIX = {"claude-code": 0.72, "cursor-agent": 0.13, "codex-cli": 0.09, "aider": 0.06}
AGENT_LOYALTY = 0.85  # share of a user's sessions with their preferred agent
AGENT_VERSIONS = {
    "claude-code": ("2.0.14", "2.0.22", "2.0.31"),
    "cursor-agent": ("1.7.2", "1.8.0"),
    "codex-cli": ("0.46.0", "0.50.1"),
    "aider": ("0.86.1",),
}
SONNET_45, SONNET_4 = "claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514"
OPUS_41, OPUS_45 = "claude-opus-4-1-20250805", "claude-opus-4-5-20251101"
HAIKU_45, HAIKU_35 = "claude-haiku-4-5-20251001", "claude-3-5-haiku-20241022"
UNPRICED_MODEL = "gpt-5-codex"
MODEL_MIX = {
    "claude-code": {SONNET_45: 0.66, OPUS_45: 0.12, OPUS_41: 0.07, SONNET_4: 0.07, HAIKU_45: 0.08},
    "cursor-agent": {SONNET_45: 0.55, OPUS_45: 0.15, SONNET_4: 0.20, HAIKU_45: 0.10},
    "aider": {SONNET_4: 0.45, SONNET_45: 0.30, HAIKU_35: 0.15, OPUS_41: 0.10},
    "codex-cli": {UNPRICED_MODEL: 1.0},
}
CC_MODEL_MIX = {SONNET_45: 0.72, OPUS_45: 0.12, OPUS_41: 0.06, SONNET_4: 0.10}
OPUS_FAN_SHARE, OPUS_FAN_BOOST = 0.2, 4.0  # people who pick opus models 4 times as often
MAIN_PROJECT_SHARE = 0.7  # sessions in the person's main project; the rest spread over their team's projects
# Claude Code sends small background requests (titles, command checks) to a haiku model.
SIDE_REQUEST_AGENTS = ("claude-code",)
SIDE_REQUEST_SHARE = 0.12
OLD_SIDE_MODEL_SHARE = 0.25  # users on an older client still use claude-3-5-haiku for those
LONG_CONTEXT_MODELS = (SONNET_45, SONNET_4)
NATURAL_LONG_CONTEXT_SHARE = 0.004  # sessions on a 1M-context sonnet that grow past 200k tokens
CACHE_WRITING_MODELS = frozenset(m for mix in MODEL_MIX.values() for m in mix if m.startswith("claude-"))
CACHE_SPLIT_MIX = {"none": 0.35, "5m": 0.50, "1h": 0.15}  # whether usage carries the 5m/1h split, and TTL
ONE_HOUR_ONLY_SHARE = 0.6  # 1h-TTL requests writing only 1h cache; the others write part of it for 5 minutes

# Token sizes. A session's context starts at a base (system prompt, tools, memory files; uniform range) and grows
# by typed input, output and tool results (lognormal) until the agent compacts it.
BASE_CONTEXT = {
    "claude-code": (16_000, 22_000),
    "cursor-agent": (8_000, 12_000),
    "codex-cli": (9_000, 13_000),
    "aider": (3_000, 6_000),
}
LONG_BASE_CONTEXT = (150_000, 185_000)
WARM_SYSTEM_PROMPT_SHARE = 0.7  # the first request often reads the system prompt cached by another session
OUTPUT_MEDIAN, OUTPUT_SIGMA, OUTPUT_MAX = 380, 0.9, 32_000
OPUS_OUTPUT_FACTOR = 1.3
FIRST_TOKEN_MS, MS_PER_OUTPUT_TOKEN = 1_200, 14
TOOL_RESULT_MEDIAN, TOOL_RESULT_SIGMA, TOOL_RESULT_MAX = 1_400, 1.1, 40_000
TOOL_DURATION_MU, TOOL_DURATION_SIGMA, TOOL_DURATION_MAX_MS = math.log(800), 1.3, 600_000
TYPED_INPUT_SHARE = 0.15  # requests whose uncached input is a pasted/typed message rather than a few tokens
TYPED_INPUT_MU, TYPED_INPUT_SIGMA = math.log(800), 1.0
ROUTINE_INPUT_TOKENS = (1, 12)  # uncached input of an ordinary agentic request
COMPACTION_THRESHOLD, LONG_CONTEXT_COMPACTION_THRESHOLD = 160_000, 480_000
COMPACTION_SUMMARY = (6_000, 20_000)


def pick_model(rng: random.Random, mix: dict[str, float], opus_fan: bool) -> str:
    """A session's model from an agent's mix, opus models OPUS_FAN_BOOST times as likely for an opus fan."""
    boost = OPUS_FAN_BOOST if opus_fan else 1.0
    return pick(rng, {m: w * (boost if "opus" in m else 1.0) for m, w in mix.items()})
