"""The OpenTelemetry Collector file exporter's side of the Claude Code sample: attributes as the exporter
encodes them and the collector's files, `<raw_dir>/otel/sample-collector/<UTC date>/logs.jsonl[.gz]`."""

from __future__ import annotations

import random

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
