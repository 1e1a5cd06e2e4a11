"""`session-analytics`: refresh the warehouse, ask the analytics questions, serve them over HTTP, manage API
tokens, generate sample data."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from orchestration.cli import alerts, analytics, bench, collect, generate_sample, prices, refresh, report, serve, tokens

# The commands in the order `--help` lists them; each module adds its parsers and their handlers.
COMMAND_GROUPS = (refresh, analytics, serve, collect, tokens, report, alerts, generate_sample, bench, prices)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING)
    return args.handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="session-analytics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_parsers(commands)
    return parser
