"""`bench`: measure the job at scale on generated data (the benchmark's own flags)."""

from __future__ import annotations

import argparse


def add_parsers(commands) -> None:
    bench = commands.add_parser("bench", help="measure the job at scale on generated data; writes BENCHMARKS.md")
    from orchestration.bench.benchmark import add_arguments as add_bench_arguments

    add_bench_arguments(bench)
    bench.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from orchestration.bench.benchmark import run

    return run(args)
