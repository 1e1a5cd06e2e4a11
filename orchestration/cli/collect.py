"""`collect`: send this machine's coding-agent usage to a shared folder or the server (the collector's own flags)."""

from __future__ import annotations

import argparse


def add_parsers(commands) -> None:
    collect = commands.add_parser(
        "collect", help="send this machine's coding-agent usage (content-free) to a shared folder or the server"
    )
    from orchestration.collection.collector import add_arguments as add_collect_arguments

    add_collect_arguments(collect)
    collect.set_defaults(handler=_collect)


def _collect(args: argparse.Namespace) -> int:
    from orchestration.collection.collector import run_command

    return run_command(args)
