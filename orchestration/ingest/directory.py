"""Load the org directory (orgs, users, projects CSV files; optional path mappings, prices and budgets) into the lake.

The directory is small and hand-maintained, so each row is checked and a bad row is quarantined with its
file, line and (capped) text, like a bad event line; the good rows beside it are kept. Ids follow the
identifier rule of the input contract; names are free text but carry no control characters (a CR or LF in an
org name would end up in an email header, a NUL anywhere).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import unicodedata
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb

from orchestration.ingest import changes, lake
from orchestration.ingest.contract import capped_text, file_problem, identifier_problem
from orchestration.ingest.lines import encodes_as_utf8
from reports.analytics.vocabulary import ROLES

log = logging.getLogger(__name__)

SOURCE = "directory"
PROJECT_KINDS = ("single", "workspace")
# users.csv's optional email_reports column: whether the user gets the weekly report emails (empty = yes).
EMAIL_REPORTS_VALUES = {"true": "true", "yes": "true", "1": "true", "false": "false", "no": "false", "0": "false"}
# file -> (dataset, required columns, optional columns)
FILES = {
    "orgs.csv": ("directory_orgs", ("org_id", "name", "timezone"), ()),
    "users.csv": (
        "directory_users",
        ("user_id", "email", "name", "team", "manager_id", "role"),
        ("org_id", "email_reports"),
    ),
    "projects.csv": ("directory_projects", ("org_id", "project_id", "name", "kind"), ()),
    # Optional: where Claude Code transcripts' working directories belong (longest prefix wins).
    "claude_code_projects.csv": ("directory_path_mappings", ("path_prefix", "project_id"), ("repository", "org_id")),
    # Optional: an org's own prices (negotiated rates, internal models), USD per million tokens; they win over
    # genai-prices' for that org's requests naming exactly that model id.
    "model_prices.csv": (
        "directory_model_prices",
        ("org_id", "model_id", "valid_from", "input_usd_per_mtok", "output_usd_per_mtok"),
        (
            "valid_to",
            "cache_write_5m_usd_per_mtok",
            "cache_write_1h_usd_per_mtok",
            "cache_read_usd_per_mtok",
            "long_context_threshold_tokens",
            "long_context_input_usd_per_mtok",
            "long_context_output_usd_per_mtok",
            "long_context_cache_write_5m_usd_per_mtok",
            "long_context_cache_write_1h_usd_per_mtok",
            "long_context_cache_read_usd_per_mtok",
        ),
    ),
    # Optional: spend budgets per org, team, user or project and month or ISO week (docs/budgets.md); warn_at is the
    # fraction of the amount that raises a warning (default 0.8).
    "budgets.csv": (
        "directory_budgets",
        ("org_id", "scope", "scope_id", "period", "amount_usd"),
        ("warn_at",),
    ),
}
OPTIONAL_FILES = ("claude_code_projects.csv", "model_prices.csv", "budgets.csv")
BUDGET_SCOPES = ("org", "team", "user", "project")
BUDGET_PERIODS = ("month", "week")
DEFAULT_WARN_AT = "0.8"
MAX_BUDGET_USD = Decimal(10**12)  # decimal(38, 12) holds far more; no budget is near it
REBUILD_FREE_DATASETS = ("directory_budgets",)
PRICE_RATE_COLUMNS = tuple(
    c for c in (*FILES["model_prices.csv"][1], *FILES["model_prices.csv"][2]) if c.endswith("_usd_per_mtok")
)
MAX_RATE_USD_PER_MTOK = Decimal(1_000_000)  # decimal(18, 6) holds it; no real price is near it
MAX_THRESHOLD_TOKENS = 10**9  # the contract's token range
# Columns (of whichever file has them) holding identifiers, and holding free text.
IDENTIFIER_COLUMNS = ("org_id", "user_id", "manager_id", "project_id", "model_id")
TEXT_COLUMNS = ("name", "team", "path_prefix", "repository")
KEYS = {
    "directory_orgs": ("org_id",),
    "directory_users": ("user_id",),
    "directory_projects": ("org_id", "project_id"),
    "directory_path_mappings": ("path_prefix",),
    "directory_model_prices": ("org_id", "model_id", "valid_from"),
    "directory_budgets": ("org_id", "scope", "scope_id", "period"),
}


@dataclass(frozen=True)
class DirectoryLoad:
    orgs: int
    users: int
    projects: int
    quarantined_rows: int


def load_directory(directory: Path, lake_dir: Path) -> DirectoryLoad:
    """Replace the directory datasets with the current CSV files; bad rows go to quarantine."""
    good: dict[str, list[dict[str, str | None]]] = {}
    bad: list[tuple[str, int, str, str]] = []
    orgs_by_id: dict[str, str] = {}
    for file_name, (dataset, required, optional) in FILES.items():
        rows, problems = _read_rows(directory / file_name, required, optional, KEYS[dataset])
        good[dataset] = rows
        bad += problems
    for row in good["directory_orgs"]:
        orgs_by_id[row["org_id"]] = row["timezone"]
    good["directory_orgs"], bad = _keep(good["directory_orgs"], bad, "orgs.csv", _org_problem)
    good["directory_users"], bad = _keep(good["directory_users"], bad, "users.csv", _user_problem)
    good["directory_projects"], bad = _keep(good["directory_projects"], bad, "projects.csv", _project_problem)
    good["directory_model_prices"], bad = _keep(good["directory_model_prices"], bad, "model_prices.csv", _price_problem)
    good["directory_model_prices"], bad = _without_overlaps(good["directory_model_prices"], bad)
    good["directory_budgets"], bad = _keep(good["directory_budgets"], bad, "budgets.csv", _budget_problem)
    users = good["directory_users"]
    if len(orgs_by_id) == 1:
        # users.csv may omit org_id when the directory describes one org.
        (only_org,) = orgs_by_id
        for row in users:
            row["org_id"] = row.get("org_id") or only_org

    _record_if_changed(lake_dir, good)
    with duckdb.connect() as conn:
        for dataset, rows in good.items():
            columns = list(lake.DATASETS[dataset]["columns"])
            conn.execute(f"create temp table {dataset} ({', '.join(c + ' varchar' for c in columns)})")
            _insert(conn, dataset, [[row.get(c) or None for c in columns] for row in rows])
            lake.write_partition(conn, f"select * from {dataset} order by all", lake_dir, dataset)
        conn.execute("create temp table bad (source_file varchar, line_number bigint, reason varchar, line varchar)")
        _insert(conn, "bad", sorted(bad))
        partition = {"source": SOURCE, "batch": SOURCE}
        lake.write_partition(conn, "select * from bad", lake_dir, "quarantined_lines", **partition)
    result = DirectoryLoad(len(good["directory_orgs"]), len(users), len(good["directory_projects"]), len(bad))
    log.info("directory %s: %s", directory, result)
    return result


def _record_if_changed(lake_dir: Path, good: dict[str, list[dict]]) -> None:
    """A directory change (zones, emails, path mappings) can move any session: ask for a full mart rebuild.
    Budgets move no session (their models are tables, rebuilt by every build), so they are left out."""
    content = {
        dataset: sorted(json.dumps([row.get(c) for c in lake.DATASETS[dataset]["columns"]]) for row in rows)
        for dataset, rows in good.items()
        if dataset not in REBUILD_FREE_DATASETS
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    state_file = lake_dir / "_state" / SOURCE / "content.json"
    if (lake.read_state(state_file) or {}).get("sha256") == digest:
        return
    changes.record_full_rebuild(lake_dir)
    lake.write_state(state_file, {"sha256": digest})


def _insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list) -> None:
    if rows:  # DuckDB's executemany refuses an empty list
        conn.executemany(f"insert into {table} values ({', '.join('?' * len(rows[0]))})", rows)


def _read_rows(path: Path, required: tuple[str, ...], optional: tuple[str, ...], key: tuple[str, ...]):
    """Rows with their line numbers; a missing file is an empty directory part, a missing column an error."""
    rows: list[dict] = []
    problems: list[tuple[str, int, str, str]] = []
    if not path.exists() and not path.is_symlink():
        if path.name not in OPTIONAL_FILES:
            log.warning("directory file %s is missing; treating it as empty", path)
        return rows, problems
    problem = file_problem(path)
    if problem:  # the file is not read: its rows are missing, and quarantine says why
        problems.append((path.name, 0, problem, ""))
        return rows, problems
    # Bytes that are not UTF-8 are kept as surrogates, so that only the rows holding them are quarantined.
    with open(path, newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
        except csv.Error as error:
            problems.append((path.name, 1, f"unreadable CSV header: {error}", ""))
            return rows, problems
        missing = [c for c in required if c not in header]
        if missing:
            problems.append((path.name, 1, f"missing column(s) {', '.join(missing)}", _kept_text(",".join(header))))
            return rows, problems
        seen: set[tuple] = set()
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:  # e.g. a field longer than the csv module's limit (128 KiB)
                # the DictReader's own line_num is the previous row's until a row is read
                problems.append((path.name, reader.reader.line_num, f"unreadable CSV row: {error}", ""))
                continue
            line_number = reader.line_num
            values = {c: (row.get(c) or "").strip() or None for c in (*required, *optional)}
            values["_line"] = line_number
            text = ",".join(row.get(c) or "" for c in header)
            identity = tuple(values[c] for c in key)
            problem = _value_problem(values) if encodes_as_utf8(text) else "not valid UTF-8"
            if any(v is None for v in identity):
                problems.append((path.name, line_number, f"missing field {'/'.join(key)}", _kept_text(text)))
            elif problem:
                problems.append((path.name, line_number, problem, _kept_text(text)))
            elif identity in seen:
                problems.append(
                    (path.name, line_number, f"duplicate {'/'.join(key)} {'/'.join(identity)}", _kept_text(text))
                )
            else:
                seen.add(identity)
                values["_text"] = _kept_text(text)
                rows.append(values)
    return rows, problems


def _value_problem(values: dict[str, str | None]) -> str | None:
    """Why a row's ids or names break the contract (None when they do not)."""
    for column in IDENTIFIER_COLUMNS:
        value = values.get(column)
        problem = identifier_problem(value) if value is not None else None
        if problem:
            return f"invalid identifier {column}: {problem}"
    for column in TEXT_COLUMNS:
        control = next((c for c in values.get(column) or "" if unicodedata.category(c) == "Cc"), None)
        if control is not None:
            return f"invalid text {column}: contains the control character U+{ord(control):04X}"
    return None


def _kept_text(text: str) -> str:
    """A row's text as quarantine keeps it: capped, and with bytes that are not UTF-8 replaced."""
    return capped_text(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def _keep(rows, bad, file_name, problem_of):
    kept = []
    for row in rows:
        problem = problem_of(row)
        if problem:
            bad.append((file_name, row["_line"], problem, row["_text"]))
        else:
            kept.append(row)
    return kept, bad


def _org_problem(row) -> str | None:
    try:
        zoneinfo.ZoneInfo(row["timezone"] or "")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {row['timezone']!r}"
    return None


def _user_problem(row) -> str | None:
    if row["role"] not in ROLES:
        return f"invalid role {row['role']!r}: expected one of {'/'.join(ROLES)}"
    choice = (row.get("email_reports") or "true").lower()
    if choice not in EMAIL_REPORTS_VALUES:
        return f"invalid email_reports {row['email_reports']!r}: expected true or false"
    row["email_reports"] = EMAIL_REPORTS_VALUES[choice]  # stored normalised: 'true' or 'false'
    return None


def _project_problem(row) -> str | None:
    if row["kind"] not in PROJECT_KINDS:
        return f"invalid kind {row['kind']!r}: expected one of {'/'.join(PROJECT_KINDS)}"
    return None


def _price_problem(row) -> str | None:
    """An override price: ISO dates (valid_to after valid_from), rates of at most 6 decimals in 0..10^6 USD per
    million tokens, a whole threshold within the token range, with long-context input and output rates."""
    dates = {}
    for column in ("valid_from", "valid_to"):
        if row.get(column) is not None:
            try:
                dates[column] = dt.date.fromisoformat(row[column])
            except ValueError:
                return f"invalid {column} {row[column]!r}: expected a date YYYY-MM-DD"
    if "valid_to" in dates and dates["valid_to"] <= dates["valid_from"]:
        return f"valid_to {row['valid_to']} is not after valid_from {row['valid_from']}"
    for column in PRICE_RATE_COLUMNS:
        text = row.get(column)
        if text is None:
            continue
        try:
            rate = Decimal(text)
        except InvalidOperation:
            return f"invalid {column} {text!r}: expected a number"
        if not rate.is_finite() or not 0 <= rate < MAX_RATE_USD_PER_MTOK or rate != round(rate, 6):
            return f"invalid {column} {text!r}: expected 0 to {MAX_RATE_USD_PER_MTOK} with at most 6 decimals"
    threshold = row.get("long_context_threshold_tokens")
    if threshold is not None:
        if not threshold.isdigit() or not 0 < int(threshold) <= MAX_THRESHOLD_TOKENS:
            return f"invalid long_context_threshold_tokens {threshold!r}: expected a whole number 1 to 10^9"
        if row.get("long_context_input_usd_per_mtok") is None or row.get("long_context_output_usd_per_mtok") is None:
            return "a long_context_threshold_tokens needs long_context_input and long_context_output rates"
    elif any(row.get(c) is not None for c in PRICE_RATE_COLUMNS if c.startswith("long_context_")):
        return "long-context rates without a long_context_threshold_tokens"
    return None


def _budget_problem(row) -> str | None:
    """A budget: a known scope and period, an amount of 0.01 to 10^12 USD with at most 6 decimals, a warn_at
    fraction above 0 and at most 1 (stored normalised, default 0.8); an org budget's scope_id is its org_id, a
    user's or project's an identifier, a team's its name in users.csv (free text without control characters)."""
    if row["scope"] not in BUDGET_SCOPES:
        return f"invalid scope {row['scope']!r}: expected one of {'/'.join(BUDGET_SCOPES)}"
    if row["period"] not in BUDGET_PERIODS:
        return f"invalid period {row['period']!r}: expected one of {'/'.join(BUDGET_PERIODS)}"
    scope_id = row["scope_id"]
    if row["scope"] == "org" and scope_id != row["org_id"]:
        return f"an org budget's scope_id must be its org_id {row['org_id']!r}, got {scope_id!r}"
    if row["scope"] in ("user", "project"):
        problem = identifier_problem(scope_id)
        if problem:
            return f"invalid identifier scope_id: {problem}"
    control = next((c for c in scope_id if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        return f"invalid text scope_id: contains the control character U+{ord(control):04X}"
    try:
        amount = Decimal(row["amount_usd"])
    except InvalidOperation:
        return f"invalid amount_usd {row['amount_usd']!r}: expected a number"
    if not amount.is_finite() or not Decimal("0.01") <= amount <= MAX_BUDGET_USD or amount != round(amount, 6):
        return f"invalid amount_usd {row['amount_usd']!r}: expected 0.01 to {MAX_BUDGET_USD} with at most 6 decimals"
    text = row.get("warn_at") or DEFAULT_WARN_AT
    try:
        warn_at = Decimal(text)
    except InvalidOperation:
        return f"invalid warn_at {text!r}: expected a fraction such as 0.8"
    if not warn_at.is_finite() or not 0 < warn_at <= 1 or warn_at != round(warn_at, 6):
        return f"invalid warn_at {text!r}: expected a fraction above 0 and at most 1, at most 6 decimals"
    row["amount_usd"], row["warn_at"] = str(amount), str(warn_at)
    return None


def _without_overlaps(rows, bad):
    """One price per org, model and day: a row whose period overlaps an earlier-starting one is quarantined
    (two prices would count the request twice)."""
    kept, last_end = [], {}
    for row in sorted(rows, key=lambda r: (r["org_id"], r["model_id"], r["valid_from"])):
        key = (row["org_id"], row["model_id"])
        if key in last_end and (last_end[key] is None or last_end[key] > row["valid_from"]):
            bad.append(
                (
                    "model_prices.csv",
                    row["_line"],
                    f"the price of {row['model_id']} from {row['valid_from']} overlaps an earlier one",
                    row["_text"],
                )
            )
            continue
        last_end[key] = row.get("valid_to")
        kept.append(row)
    return kept, bad
