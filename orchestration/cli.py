"""`session-analytics`: refresh the warehouse, ask the analytics questions, serve them over HTTP, manage API
tokens, generate sample data."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import sys
from typing import Any, Sequence

from orchestration.config import DERIVED_DEFAULTS, PATH_SETTINGS, Paths
from orchestration.sample.generator import SOURCES, TRANSCRIPT_USER_SHARE

ANALYTICS_QUESTIONS = ("summary", "timeseries", "by-agent", "cost-breakdown")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING)
    return args.handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="session-analytics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    refresh = commands.add_parser("refresh", help="load new raw files and the directory, rebuild the marts")
    _add_path_flags(refresh, "raw_dir", "directory", "warehouse", "lake_dir", "working_warehouse")
    refresh.add_argument("--full", action="store_true", help="reload every delivery folder, changed or not")
    refresh.add_argument("-v", "--verbose", action="store_true")
    refresh.set_defaults(handler=_refresh)

    backfill = commands.add_parser(
        "backfill", help="(re)load the platform delivery folders of a date range and rebuild what they touch"
    )
    backfill.add_argument("--from", dest="date_from", type=_date, required=True, help="first delivery date")
    backfill.add_argument("--to", dest="date_to", type=_date, required=True, help="last delivery date, inclusive")
    _add_path_flags(backfill, "raw_dir", "directory", "warehouse", "lake_dir", "working_warehouse")
    backfill.add_argument("-v", "--verbose", action="store_true")
    backfill.set_defaults(handler=_backfill)

    analytics = commands.add_parser("analytics", help="answer an analytics question from the warehouse")
    analytics.add_argument("question", choices=ANALYTICS_QUESTIONS)
    analytics.add_argument("--org", required=True)
    analytics.add_argument("--from", dest="date_from", type=_date, help="first local date (YYYY-MM-DD)")
    analytics.add_argument("--to", dest="date_to", type=_date, help="last local date (YYYY-MM-DD), inclusive")
    for flag in ("project", "repository", "agent", "user"):
        analytics.add_argument(f"--{flag}", action="append", default=[], help="repeat for several (OR)")
    analytics.add_argument("--interval", default="day", choices=("day", "week"))
    analytics.add_argument("--metric", default="sessions", choices=("sessions", "cost", "tokens"))
    analytics.add_argument("--format", default="json", choices=("json", "table", "csv"))
    _add_path_flags(analytics, "warehouse")
    analytics.set_defaults(handler=_analytics)

    serve = commands.add_parser("serve", help="serve the analytics HTTP API from the published warehouse")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--accept-uploads", action="store_true",
        help="also take `session-analytics collect --server` uploads (POST /uploads/...) into the raw dir",
    )  # fmt: skip
    _add_path_flags(serve, "warehouse", "tokens", "raw_dir")
    serve.set_defaults(handler=_serve)

    collect = commands.add_parser(
        "collect", help="send this machine's coding-agent usage (content-free) to a shared folder or the server"
    )
    from orchestration.collection.collector import add_arguments as add_collect_arguments

    add_collect_arguments(collect)
    collect.set_defaults(handler=_collect)

    tokens = commands.add_parser("tokens", help="create, list and revoke API tokens")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True)
    create = token_commands.add_parser("create", help="issue a token for a user; it is printed once")
    create.add_argument("--user", required=True, help="user id as in the directory")
    create.add_argument("--org", help="the user's org (needed when the user id is in several orgs)")
    _add_path_flags(create, "warehouse", "tokens")
    create.set_defaults(handler=_tokens_create)
    revoke = token_commands.add_parser("revoke", help="revoke a token by id, or every token of a user")
    revoke.add_argument("token_id", nargs="?", help="e.g. tok_1a2b3c4d5e6f (see `tokens list`)")
    revoke.add_argument("--user", help="revoke every active token of this user instead")
    revoke.add_argument("--org", help="with --user: the user's org (needed when the user id is in several orgs)")
    _add_path_flags(revoke, "tokens")
    revoke.set_defaults(handler=_tokens_revoke)
    listing = token_commands.add_parser("list", help="list tokens (ids, users, dates; never the secrets)")
    listing.add_argument("--org")
    listing.add_argument("--all", action="store_true", help="include revoked tokens")
    listing.add_argument("--format", default="table", choices=("json", "table"))
    _add_path_flags(listing, "tokens")
    listing.set_defaults(handler=_tokens_list)
    report = commands.add_parser(
        "report", help="render the weekly HTML and PDF reports of an org (user, manager and org reports)"
    )
    report.add_argument("--org", required=True)
    report.add_argument(
        "--week", type=_week, help="ISO week, e.g. 2026-W46 (default: the latest complete week in the org's time zone)"
    )
    who = report.add_mutually_exclusive_group()
    who.add_argument("--user", metavar="ID", help="only this user's personal report")
    who.add_argument("--manager", metavar="ID", help="only this manager's team report")
    who.add_argument("--all", action="store_true", help="every report of the org (the default)")
    report.add_argument("--workers", type=int, help="worker processes (default: one per CPU core)")
    _add_reports_dir_flag(report)
    _add_path_flags(report, "warehouse")
    report.set_defaults(handler=_report)

    deliver = commands.add_parser(
        "deliver", help="email a week's reports (rendering any that are missing); each report is sent once"
    )
    deliver.add_argument("--org", required=True)
    deliver.add_argument(
        "--week", type=_week, help="ISO week, e.g. 2026-W46 (default: the latest complete week in the org's time zone)"
    )
    deliver.add_argument(
        "--resend", action="store_true", help="send again the reports that changed since they were sent"
    )
    deliver.add_argument("--workers", type=int, help="worker processes for rendering (default: one per CPU core)")
    _add_reports_dir_flag(deliver)
    _add_path_flags(deliver, "outbox", "ledger", "warehouse")
    deliver.add_argument("-v", "--verbose", action="store_true")
    deliver.set_defaults(handler=_deliver)

    sample = commands.add_parser("generate-sample", help="write a seeded, realistic sample org")
    sample.add_argument("--users", type=int, default=40)
    sample.add_argument("--days", type=int, default=56)
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument("--end-date", type=_date, help="last activity date (default: yesterday, UTC)")
    sample.add_argument(
        "--sources", type=_sources, default=SOURCES,
        help=f"comma-separated raw sources to write (default: {','.join(SOURCES)})",
    )  # fmt: skip
    sample.add_argument(
        "--transcript-user-share", type=float, default=TRANSCRIPT_USER_SHARE,
        help=f"share of acme's people whose Claude Code transcripts are collected (default: {TRANSCRIPT_USER_SHARE})",
    )  # fmt: skip
    sample.add_argument(
        "--claude-code-scale", type=float, default=1.0,
        help="multiplies Claude Code sessions per person and day, transcripts and telemetry (default: 1)",
    )  # fmt: skip
    sample.add_argument("--if-absent", action="store_true", help="do nothing when any raw source is already there")
    _add_path_flags(sample, "raw_dir", "directory")
    sample.set_defaults(handler=_generate_sample)

    bench = commands.add_parser("bench", help="measure the job at scale on generated data; writes BENCHMARKS.md")
    from orchestration.bench.benchmark import add_arguments as add_bench_arguments

    add_bench_arguments(bench)
    bench.set_defaults(handler=_bench)

    prices = commands.add_parser("prices", help="the dbt price seeds, from the installed genai-prices library")
    price_commands = prices.add_subparsers(dest="prices_command", required=True)
    sync = price_commands.add_parser(
        "sync", help="write dbt_project/seeds/model_prices.csv and model_match_rules.csv from genai-prices"
    )
    sync.set_defaults(handler=_prices_sync)
    return parser


def _add_path_flags(parser: argparse.ArgumentParser, *names: str) -> None:
    for name in names:
        env_var, default = PATH_SETTINGS[name]
        parser.add_argument(
            f"--{name.replace('_', '-')}", dest=name, help=f"default: ${env_var} or {default or DERIVED_DEFAULTS[name]}"
        )


def _add_reports_dir_flag(parser: argparse.ArgumentParser) -> None:
    env_var, default = PATH_SETTINGS["reports_dir"]
    parser.add_argument("--output-dir", dest="reports_dir", help=f"reports folder; default: ${env_var} or {default}")


def _paths(args: argparse.Namespace) -> Paths:
    return Paths.resolve(**{name: getattr(args, name, None) for name in PATH_SETTINGS})


def _refresh(args: argparse.Namespace) -> int:
    paths = _paths(args)
    paths.export_to_environment()
    with _logs_on_stderr():
        # Imported here: loading the code location reads the dbt manifest, which only `refresh` needs.
        from orchestration.refresh import run_refresh

        outcome = run_refresh(paths, full=args.full, log_level="DEBUG" if args.verbose else "INFO")
    print(json.dumps(outcome, indent=2, default=str))
    return 0 if outcome["success"] else 1


def _logs_on_stderr():
    """While a refresh runs, what it prints (dagster-dbt echoes dbt's log lines) goes to stderr: stdout carries
    only the run summary, one JSON object a script can parse."""
    return contextlib.redirect_stdout(sys.stderr)


def _backfill(args: argparse.Namespace) -> int:
    if args.date_from > args.date_to:
        print(f"error: --from {args.date_from} is after --to {args.date_to}", file=sys.stderr)
        return 2
    paths = _paths(args)
    paths.export_to_environment()
    with _logs_on_stderr():
        from orchestration.refresh import run_refresh

        outcome = run_refresh(
            paths,
            partition_range=(args.date_from.isoformat(), args.date_to.isoformat()),
            log_level="DEBUG" if args.verbose else "INFO",
        )
    print(json.dumps(outcome, indent=2, default=str))
    return 0 if outcome["success"] else 1


def _analytics(args: argparse.Namespace) -> int:
    from reports.analytics.query import AnalyticsQueries, Filters, QueryError, checked_date, connect_read_only

    paths = _paths(args)
    if not paths.warehouse.exists():
        print(f"error: no warehouse at {paths.warehouse}; run `session-analytics refresh` first", file=sys.stderr)
        return 2
    try:
        filters = Filters(
            date_from=checked_date("--from", args.date_from),
            date_to=checked_date("--to", args.date_to),
            projects=tuple(args.project),
            repositories=tuple(args.repository),
            agents=tuple(args.agent),
            users=tuple(args.user),
        )
        with connect_read_only(paths.warehouse) as conn:
            queries = AnalyticsQueries(conn)
            if args.question == "timeseries":
                answer = queries.timeseries(args.org, filters, interval=args.interval, metric=args.metric)
            else:
                answer = getattr(queries, args.question.replace("-", "_"))(args.org, filters)
    except QueryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.format == "csv":
        from reports.api.answer_csv import answer_csv
        from reports.analytics.answers import ANSWER_SHAPES

        sys.stdout.write(answer_csv(answer, ANSWER_SHAPES[args.question]))
    else:
        print(json.dumps(answer, indent=2) if args.format == "json" else render_table(answer))
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from reports.api.app import ApiSettings, app_from_environment

    paths = _paths(args)
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


def _collect(args: argparse.Namespace) -> int:
    from orchestration.collection.collector import run_command

    return run_command(args)


def _tokens_create(args: argparse.Namespace) -> int:
    from reports.analytics.query import connect_read_only
    from reports.analytics.scope import ROLES
    from reports.api.tokens import TokenStore

    paths = _paths(args)
    if not paths.warehouse.exists():
        print(f"error: no warehouse at {paths.warehouse}; run `session-analytics refresh` first", file=sys.stderr)
        return 2
    with connect_read_only(paths.warehouse) as conn:
        rows = conn.execute(
            "select org_id, role from analytics.dim_users where user_id = ? and (? is null or org_id = ?) order by 1",
            [args.user, args.org, args.org],
        ).fetchall()
    where = f" in org {args.org}" if args.org else ""
    if not rows:
        print(f"error: no user {args.user!r}{where} in the directory", file=sys.stderr)
        return 2
    if len(rows) > 1:
        orgs = ", ".join(org for org, _ in rows)
        print(f"error: user {args.user!r} is in several orgs ({orgs}); choose one with --org", file=sys.stderr)
        return 2
    (org_id, role), = rows
    if role not in ROLES:
        print(f"error: {args.user} has no role in {org_id}'s directory, so a token would see nothing", file=sys.stderr)
        return 2
    record, secret = TokenStore(paths.tokens).create(org_id, args.user)
    print(secret)
    print(
        f"token {record.token_id} for {args.user} ({role}) of {org_id}, stored in {paths.tokens}; "
        "the token above is shown only this once",
        file=sys.stderr,
    )
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    from reports.api.tokens import TokenStore

    store = TokenStore(_paths(args).tokens)
    if bool(args.token_id) == bool(args.user):
        print("error: give either a token id or --user", file=sys.stderr)
        return 2
    if args.token_id:
        if store.get(args.token_id) is None:
            print(f"error: no token {args.token_id!r}", file=sys.stderr)
            return 2
        revoked = store.revoke(args.token_id)
    else:
        orgs = sorted({record.org_id for record in store.list() if record.user_id == args.user})
        if args.org is None and len(orgs) > 1:
            print(f"error: {args.user} has tokens in several orgs ({', '.join(orgs)}); choose with --org", file=sys.stderr)
            return 2
        org = args.org or (orgs[0] if orgs else "")
        revoked = store.revoke_user(org, args.user)
    for record in revoked:
        print(f"revoked {record.token_id} ({record.user_id} of {record.org_id})")
    if not revoked:
        print("nothing to revoke: no active token matches")
    return 0


def _tokens_list(args: argparse.Namespace) -> int:
    from reports.api.tokens import TokenStore

    records = TokenStore(_paths(args).tokens).list(org_id=args.org, include_revoked=args.all)
    listing = {"tokens": [record.as_dict() for record in records]}
    print(json.dumps(listing, indent=2) if args.format == "json" else render_table(listing))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from orchestration.bench.benchmark import run

    return run(args)


def _prices_sync(args: argparse.Namespace) -> int:
    from orchestration import prices

    counts = prices.sync()
    print(json.dumps({"library": prices.library_version(), "seeds_dir": str(prices.SEEDS_DIR), "rows": counts},
                     indent=2))
    return 0


def _report(args: argparse.Namespace) -> int:
    from reports.weekly.render import render_reports

    def render(paths: Paths) -> int:
        outcome = render_reports(
            paths.warehouse, paths.reports_dir, args.org, week=args.week, user_id=args.user,
            manager_id=args.manager, workers=args.workers,
        )
        reports = len({(file.audience, file.recipient_user_id) for file in outcome.files})
        print(f"{reports} report(s), {len(outcome.files)} files in {outcome.week_dir}")
        for failed in outcome.failed:  # the other reports are written; the manifest lists these under "failed"
            print(f"  not rendered: {failed.audience} report of {failed.recipient_user_id!r}: {failed.error}")
        print(f"manifest: {outcome.manifest}")
        return 1 if outcome.failed else 0

    return _run_report_command(args, render)


def _deliver(args: argparse.Namespace) -> int:
    from reports.delivery.mailer import Mailer
    from reports.delivery.weekly import deliver_week

    def deliver(paths: Paths) -> int:
        summary = deliver_week(
            paths.warehouse, paths.reports_dir, paths.ledger, args.org, args.week, mailer=Mailer.from_env(),
            outbox=paths.outbox, resend=args.resend, workers=args.workers,
        )  # fmt: skip
        print(summary.text())
        print(f"ledger: {paths.ledger}")
        return 1 if summary.failed else 0

    return _run_report_command(args, deliver)


def _run_report_command(args: argparse.Namespace, run) -> int:
    """`report` and `deliver`: check --workers, and turn the errors a user can fix into messages (exit 2)."""
    import duckdb

    from reports.delivery.mailer import MailConfigError
    from reports.weekly.render import ReportError

    paths = _paths(args)
    if args.workers is not None and args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        return run(paths)
    except (ReportError, MailConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except duckdb.IOException as error:  # e.g. a refresh holds the warehouse file's write lock
        print(f"error: cannot read the warehouse {paths.warehouse}: {error}", file=sys.stderr)
        return 1


def _generate_sample(args: argparse.Namespace) -> int:
    from orchestration.sample.generator import generate_sample

    paths = _paths(args)
    present = [s for s in SOURCES if (paths.raw_dir / s).is_dir() and any((paths.raw_dir / s).iterdir())]
    if args.if_absent and present:
        print(f"raw data already present in {paths.raw_dir} ({', '.join(present)}); nothing generated")
        return 0
    try:
        summary = generate_sample(
            paths.raw_dir, paths.directory, users=args.users, days=args.days, seed=args.seed, end_date=args.end_date,
            sources=args.sources, transcript_user_share=args.transcript_user_share,
            claude_code_scale=args.claude_code_scale,
        )  # fmt: skip
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary)
    return 0


def render_table(answer: dict[str, Any]) -> str:
    """A plain-text rendering: scalars as `name: value`, each list of objects as an aligned table."""
    blocks: list[str] = []
    scalars = [(key, value) for key, value in answer.items() if not isinstance(value, list)]
    if scalars:
        width = max(len(key) for key, _ in scalars)
        blocks.append("\n".join(f"{key:<{width}}  {_cell(value)}" for key, value in scalars))
    for key, rows in answer.items():
        if not isinstance(rows, list):
            continue
        if not rows:
            blocks.append(f"{key}: (none)")
            continue
        headers = list(rows[0])
        cells = [[_cell(row[h]) for h in headers] for row in rows]
        widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)), "  ".join("-" * w for w in widths)]
        lines += ["  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(r, widths)) for r in cells]
        blocks.append(f"{key}:\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.6f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").isdigit()


def _sources(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [s for s in chosen if s not in SOURCES]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(f"expected some of {','.join(SOURCES)}, got {text!r}")
    return chosen
def _week(text: str):
    from reports.analytics.weeks import ReportWeek

    try:
        return ReportWeek.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


if __name__ == "__main__":
    sys.exit(main())
