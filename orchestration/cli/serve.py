"""`serve`: the analytics HTTP API (and, with --accept-uploads, the collectors' upload endpoint)."""

from __future__ import annotations

import argparse
import logging
import sys

from orchestration.cli.common import add_path_flags, paths_of


def add_parsers(commands) -> None:
    serve = commands.add_parser("serve", help="serve the analytics HTTP API from the published warehouse")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--accept-uploads",
        action="store_true",
        help="also take `session-analytics collect --server` uploads (POST /uploads/...) into the raw dir",
    )
    add_path_flags(serve, "warehouse", "tokens", "raw_dir")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from reports.api.app import ApiSettings
    from reports.web.app import app_from_environment  # the API with the dashboard

    paths = paths_of(args)
    if not paths.warehouse.exists():
        # Not fatal: the API answers 503 until a refresh publishes the warehouse.
        print(f"warning: no warehouse at {paths.warehouse} yet; run `session-analytics refresh`", file=sys.stderr)
    try:
        ApiSettings.limits_from_environment()
        if args.accept_uploads:
            from orchestration.collection.collector import upload_max_bytes

            upload_max_bytes()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    factory = app_from_environment
    if args.accept_uploads:
        from orchestration.collection import uploads

        factory = uploads.app_from_environment
        print(f"accepting uploads into {paths.raw_dir}", file=sys.stderr)
    paths.export_to_environment()  # the app factory of each worker reads them
    logging.getLogger().setLevel(logging.INFO)
    uvicorn.run(
        f"{factory.__module__}:{factory.__name__}",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
    )
    return 0
