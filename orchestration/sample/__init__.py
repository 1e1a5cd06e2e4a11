"""The sample data generator (`session-analytics generate-sample`). `generator.generate_sample` is the entry point;
the modules beside it are split by source and concern (the directory, platform events, Claude Code transcripts,
OpenTelemetry, the bad lines; `generator`'s docstring maps them), `agents` writes the other agents' local logs."""

from orchestration.ingest.lake import AGENT_LOG_SOURCES

# What the command line needs to offer the generator's options, without importing the generator (it is large and
# only `generate-sample` and the benchmark run it).
SOURCES = ("platform", "claude_code", "otel", *AGENT_LOG_SOURCES)
TRANSCRIPT_USER_SHARE = 0.3  # acme people whose ~/.claude folders are collected
