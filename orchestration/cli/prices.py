"""`prices sync`: the dbt price seeds, from the installed genai-prices library."""

from __future__ import annotations

import argparse
import json


def add_parsers(commands) -> None:
    prices = commands.add_parser("prices", help="the dbt price seeds, from the installed genai-prices library")
    price_commands = prices.add_subparsers(dest="prices_command", required=True)
    sync = price_commands.add_parser(
        "sync", help="write dbt_project/seeds/model_prices.csv and model_match_rules.csv from genai-prices"
    )
    sync.set_defaults(handler=_prices_sync)


def _prices_sync(args: argparse.Namespace) -> int:
    from orchestration import prices

    counts = prices.sync()
    print(
        json.dumps({"library": prices.library_version(), "seeds_dir": str(prices.SEEDS_DIR), "rows": counts}, indent=2)
    )
    return 0
