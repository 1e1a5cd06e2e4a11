"""Compare the warehouse's token totals of each local-log source with ccusage's, per local day and model.

    python -m orchestration.bench.ccusage_parity [--source claude_code|codex|gemini|copilot|all]
                                           [--raw-dir data/raw] [--warehouse data/warehouse.duckdb]
                                           [--timezone Europe/Berlin] [--ccusage "npx --yes ccusage@20.0.24"]

Claude Code: runs `ccusage daily --json --offline --timezone TZ` over every collected config folder under
<raw-dir>/claude_code (CLAUDE_CONFIG_DIR=dir1,dir2,...). Codex, Gemini, Copilot: `ccusage <agent> daily ...`
over the collected homes under <raw-dir>/<source>, as each format module's CCUSAGE says. Prints one row per (day,
model) with both token counts; exits 1 when any differs. Costs are printed too but not compared: ccusage splits each
token type at 200K for long-context requests, while we price the whole request at the long-context rate, as
Anthropic bills.
Counting is ccusage's: every usage entry, including the subagent message a `progress` record embeds (the only
record of a subagent whose own file is gone), one request per (message.id, requestId). Known difference:
ccusage does not deduplicate assistant lines without a requestId; we count one request per message.id for
them (see README).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.config import Paths

CCUSAGE_VERSION = "20.0.24"
DEFAULT_CCUSAGE = f"npx --yes ccusage@{CCUSAGE_VERSION}"
# Where `make` installs the pinned ccusage.
LOCAL_CCUSAGE = Path(__file__).resolve().parents[2] / ".tools" / "node_modules" / ".bin" / "ccusage"
TOKEN_KINDS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
Totals = dict[tuple[str, str], dict[str, float]]


def ccusage_command() -> str:
    """The command that runs ccusage: $CCUSAGE, else the copy `make` installed, else npx."""
    return os.environ.get("CCUSAGE") or (str(LOCAL_CCUSAGE) if LOCAL_CCUSAGE.exists() else DEFAULT_CCUSAGE)


def ccusage_daily(raw_dir: Path, timezone: str, command: str = DEFAULT_CCUSAGE) -> Totals:
    collections = sorted(p for p in (raw_dir / "claude_code").iterdir() if (p / "projects").is_dir())
    return ccusage_daily_of(collections, timezone, command)


def ccusage_daily_of(config_folders: list[Path], timezone: str, command: str = DEFAULT_CCUSAGE) -> Totals:
    """`ccusage daily --json --offline` over the given Claude config folders (CLAUDE_CONFIG_DIR=dir1,dir2,...)."""
    env = {**os.environ, "CLAUDE_CONFIG_DIR": ",".join(str(p) for p in config_folders)}
    completed = subprocess.run(
        [*shlex.split(command), "daily", "--json", "--offline", "--timezone", timezone],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=1800,
    )
    report = json.loads(completed.stdout)
    totals: Totals = {}
    for day in report.get("daily", []):
        for model in day.get("modelBreakdowns", []):
            key = (day["period"] if "period" in day else day["date"], model["modelName"])
            totals[key] = {kind: model[kind] for kind in TOKEN_KINDS} | {"cost": model.get("cost", 0.0)}
    return totals


def warehouse_daily(warehouse: Path, timezone: str, user_id: str | None = None) -> Totals:
    """The warehouse's Claude Code transcript requests per local day and model (of one user, if given)."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            """
            select cast(timezone(?, timezone('UTC', requested_at_utc)) as date) as day, model,
                   sum(uncached_input_tokens), sum(output_tokens), sum(cache_creation_input_tokens),
                   sum(cache_read_input_tokens), sum(cost_usd)
            from analytics.fct_model_requests
            where source = 'claude_code' and (? is null or user_id = ?)
            group by all
            """,
            [timezone, user_id, user_id],
        ).fetchall()
    return {
        (day.isoformat(), model): dict(zip((*TOKEN_KINDS, "cost"), (*map(int, tokens), float(cost or 0))))
        for day, model, *tokens, cost in rows
    }


def agent_ccusage_daily(source: str, raw_dir: Path, timezone: str, command: str = DEFAULT_CCUSAGE) -> Totals:
    """`ccusage <agent> daily --json --offline` over the collected homes of an agent-log source."""
    folder = raw_dir / source
    homes = (
        sorted(path for path in folder.iterdir() if path.is_dir() and not path.is_symlink()) if folder.is_dir() else []
    )
    return agent_ccusage_daily_of(source, homes, timezone, command)


def agent_ccusage_daily_of(source: str, homes: list[Path], timezone: str, command: str = DEFAULT_CCUSAGE) -> Totals:
    """`ccusage <agent> daily --json --offline` over the given homes of an agent-log source, added up."""
    parity = _parity(source)
    together = parity.env(homes) if homes else None
    runs = [together] if together is not None else [parity.env([home]) for home in homes]
    totals: Totals = {}
    for env in runs:
        completed = subprocess.run(
            [*shlex.split(command), parity.command, "daily", "--json", "--offline", "--timezone", timezone],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            check=True,
            timeout=1800,
        )
        for key, kinds in parity.rows(json.loads(completed.stdout)).items():
            row = totals.setdefault(key, dict.fromkeys(parity.kinds, 0))
            for kind in parity.kinds:
                row[kind] += int(kinds.get(kind, 0))
    return totals


def agent_warehouse_daily(source: str, warehouse: Path, timezone: str, user_id: str | None = None) -> Totals:
    """The warehouse's requests of an agent-log source (of one user, if given) per local day and model, in
    ccusage's kinds. The facts' token columns under the names of the lake's (uncached input is `input_tokens`);
    the reasoning part of the output, which the facts do not keep, from the same deduplicated copy in staging."""
    parity = _parity(source)
    sums = ", ".join(f"sum({expression})" for expression in parity.kinds.values())
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            f"""
            with staged as (
                select request_key, reasoning_output_tokens,
                       row_number() over (partition by request_key order by source_file, line_number) as copy_rank
                from staging.stg_{source}__requests
            ),
            requests as (
                select facts.requested_at_utc, facts.model, facts.uncached_input_tokens as input_tokens,
                       facts.output_tokens, facts.cache_read_input_tokens, facts.cache_creation_input_tokens,
                       staged.reasoning_output_tokens
                from analytics.fct_model_requests as facts
                left join staged on staged.request_key = facts.request_key and staged.copy_rank = 1
                where facts.source = ? and (? is null or facts.user_id = ?)
            )
            select cast(timezone(?, timezone('UTC', requested_at_utc)) as date) as day, model, {sums}
            from requests
            group by all
            """,
            [source, user_id, user_id, timezone],
        ).fetchall()
    return {(day.isoformat(), model): dict(zip(parity.kinds, map(int, tokens))) for day, model, *tokens in rows}


def _parity(source: str):
    """The CCUSAGE of the source's format module (orchestration/ingest/<source>.py)."""
    return importlib.import_module(f"orchestration.ingest.{source}").CCUSAGE


def compare(ours: Totals, theirs: Totals, kinds: tuple[str, ...] = TOKEN_KINDS) -> tuple[list[tuple], bool]:
    rows, identical = [], True
    for key in sorted(set(ours) | set(theirs)):
        a, b = ours.get(key), theirs.get(key)
        same = a is not None and b is not None and all(a[k] == b[k] for k in kinds)
        identical &= same
        if kinds != TOKEN_KINDS:
            rows.append(
                (
                    *key,
                    *(a[k] if a else "-" for k in kinds),
                    *(b[k] if b else "-" for k in kinds),
                    "ok" if same else "DIFF",
                )
            )
            continue
        identical &= same
        rows.append(
            (
                *key,
                *(a[k] if a else "-" for k in TOKEN_KINDS),
                *(b[k] if b else "-" for k in TOKEN_KINDS),
                round(a["cost"], 6) if a else "-",
                round(b["cost"], 6) if b else "-",
                "ok" if same else "DIFF",
            )
        )
    return rows, identical


def main(argv: list[str] | None = None) -> int:
    from orchestration.ingest import agent_logs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sources = ("claude_code", *(fmt.source for fmt in agent_logs.formats()))
    parser.add_argument("--source", choices=(*sources, "all"), default="all")
    parser.add_argument("--raw-dir")
    parser.add_argument("--warehouse")
    parser.add_argument("--timezone", default="UTC")
    parser.add_argument("--ccusage", default=ccusage_command(), help="command to run ccusage")
    args = parser.parse_args(argv)
    paths = Paths.resolve(raw_dir=args.raw_dir, warehouse=args.warehouse)
    all_identical = True
    for source in sources if args.source == "all" else (args.source,):
        if source == "claude_code":
            rows, identical = compare(
                warehouse_daily(paths.warehouse, args.timezone),
                ccusage_daily(paths.raw_dir, args.timezone, args.ccusage),
            )
            header = (
                "day",
                "model",
                "in",
                "out",
                "cache_write",
                "cache_read",
                "cc_in",
                "cc_out",
                "cc_cache_write",
                "cc_cache_read",
                "cost",
                "cc_cost",
                "tokens",
            )
        else:
            kinds = tuple(_parity(source).kinds)
            rows, identical = compare(
                agent_warehouse_daily(source, paths.warehouse, args.timezone),
                agent_ccusage_daily(source, paths.raw_dir, args.timezone, args.ccusage),
                kinds,
            )
            header = ("day", "model", *kinds, *(f"cc_{kind}" for kind in kinds), "tokens")
        print(f"## {source}")
        for row in (header, *rows):
            print("\t".join(str(value) for value in row))
        print(
            f"\n{source}: {len(rows)} day/model rows; token totals "
            f"{'identical' if identical else 'DIFFER'} to ccusage {CCUSAGE_VERSION}\n"
        )
        all_identical &= identical
    return 0 if all_identical else 1


if __name__ == "__main__":
    sys.exit(main())
