"""`generate-sample`: write a seeded, realistic sample org (raw files and the directory)."""

from __future__ import annotations

import argparse
import sys

from orchestration.cli.common import add_path_flags, date, paths_of
from orchestration.sample import SOURCES, TRANSCRIPT_USER_SHARE


def add_parsers(commands) -> None:
    sample = commands.add_parser("generate-sample", help="write a seeded, realistic sample org")
    sample.add_argument("--users", type=int, default=40)
    sample.add_argument("--days", type=int, default=56)
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument("--end-date", type=date, help="last activity date (default: yesterday, UTC)")
    sample.add_argument(
        "--sources",
        type=_sources,
        default=SOURCES,
        help=f"comma-separated raw sources to write (default: {','.join(SOURCES)})",
    )
    sample.add_argument(
        "--transcript-user-share",
        type=float,
        default=TRANSCRIPT_USER_SHARE,
        help=f"share of acme's people whose Claude Code transcripts are collected (default: {TRANSCRIPT_USER_SHARE})",
    )
    sample.add_argument(
        "--claude-code-scale",
        type=float,
        default=1.0,
        help="multiplies Claude Code sessions per person and day, transcripts and telemetry (default: 1)",
    )
    sample.add_argument("--if-absent", action="store_true", help="do nothing when any raw source is already there")
    add_path_flags(sample, "raw_dir", "directory")
    sample.set_defaults(handler=_generate_sample)


def _generate_sample(args: argparse.Namespace) -> int:
    from orchestration.sample.generator import generate_sample

    paths = paths_of(args)
    present = [s for s in SOURCES if (paths.raw_dir / s).is_dir() and any((paths.raw_dir / s).iterdir())]
    if args.if_absent and present:
        print(f"raw data already present in {paths.raw_dir} ({', '.join(present)}); nothing generated")
        return 0
    try:
        summary = generate_sample(
            paths.raw_dir,
            paths.directory,
            users=args.users,
            days=args.days,
            seed=args.seed,
            end_date=args.end_date,
            sources=args.sources,
            transcript_user_share=args.transcript_user_share,
            claude_code_scale=args.claude_code_scale,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary)
    return 0


def _sources(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [s for s in chosen if s not in SOURCES]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(f"expected some of {','.join(SOURCES)}, got {text!r}")
    return chosen
