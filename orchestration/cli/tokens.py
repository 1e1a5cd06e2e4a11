"""`tokens create|revoke|list`: the API tokens."""

from __future__ import annotations

import argparse
import json
import sys

from orchestration.cli.common import add_path_flags, paths_of, render_table


def add_parsers(commands) -> None:
    tokens = commands.add_parser("tokens", help="create, list and revoke API tokens")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True)
    create = token_commands.add_parser("create", help="issue a token for a user; it is printed once")
    create.add_argument("--user", required=True, help="user id as in the directory")
    create.add_argument("--org", help="the user's org (needed when the user id is in several orgs)")
    add_path_flags(create, "warehouse", "tokens")
    create.set_defaults(handler=_tokens_create)
    revoke = token_commands.add_parser("revoke", help="revoke a token by id, or every token of a user")
    revoke.add_argument("token_id", nargs="?", help="e.g. tok_1a2b3c4d5e6f (see `tokens list`)")
    revoke.add_argument("--user", help="revoke every active token of this user instead")
    revoke.add_argument("--org", help="with --user: the user's org (needed when the user id is in several orgs)")
    add_path_flags(revoke, "tokens")
    revoke.set_defaults(handler=_tokens_revoke)
    listing = token_commands.add_parser("list", help="list tokens (ids, users, dates; never the secrets)")
    listing.add_argument("--org")
    listing.add_argument("--all", action="store_true", help="include revoked tokens")
    listing.add_argument("--format", default="table", choices=("json", "table"))
    add_path_flags(listing, "tokens")
    listing.set_defaults(handler=_tokens_list)


def _tokens_create(args: argparse.Namespace) -> int:
    from reports.analytics.query import connect_read_only
    from reports.analytics.vocabulary import ROLES
    from reports.api.tokens import TokenStore

    paths = paths_of(args)
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
    ((org_id, role),) = rows
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

    store = TokenStore(paths_of(args).tokens)
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
            print(
                f"error: {args.user} has tokens in several orgs ({', '.join(orgs)}); choose with --org", file=sys.stderr
            )
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

    records = TokenStore(paths_of(args).tokens).list(org_id=args.org, include_revoked=args.all)
    listing = {"tokens": [record.as_dict() for record in records]}
    print(json.dumps(listing, indent=2) if args.format == "json" else render_table(listing))
    return 0
