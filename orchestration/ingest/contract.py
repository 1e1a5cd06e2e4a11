"""The value rules of the input contract, one definition for every loader: identifiers, numeric ranges, the
timestamp window, how much of a bad line quarantine keeps, and which raw files are read at all.

Each rule exists twice, as a Python check (directory rows, single values) and as an SQL expression (the
loaders check lines inside DuckDB); both say the same thing, and tests/test_input_contract.py holds them to it.
A value that breaks a rule is quarantined with its reason, never loaded: a value that passes here must never
fail a later step (an overflowing sum, a decimal cast, a date spine of two thousand years, a file path).
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

# -- identifiers (org, user, project, session, event, request ids; agents; models) --------------------------
# 1 to 128 characters; each a letter, mark, number, punctuation or symbol of any script, or a plain space that
# is neither first nor last. So no control characters (CR, LF, NUL), no format characters (bidi overrides such
# as U+202E, zero-width joiners), no other kinds of space, no unassigned or private-use code points.
# An identifier is data, never a path: where one names a file, reports/weekly/paths.py maps it to a safe name.
IDENTIFIER_MAX_LENGTH = 128
_IDENTIFIER_CATEGORIES = frozenset("Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc Pd Ps Pe Pi Pf Po Sm Sc Sk So".split())
_VISIBLE = r"\pL\pM\pN\pP\pS"
# RE2 (DuckDB's regular expressions) counts code points, as Python does.
IDENTIFIER_PATTERN_SQL = f"[{_VISIBLE}]([{_VISIBLE} ]{{0,{IDENTIFIER_MAX_LENGTH - 2}}}[{_VISIBLE}])?"


def identifier_problem(value: str) -> str | None:
    """Why `value` is not a valid identifier (None when it is)."""
    if not value:
        return "empty"
    if len(value) > IDENTIFIER_MAX_LENGTH:
        return f"longer than {IDENTIFIER_MAX_LENGTH} characters ({len(value)})"
    if value[0] == " " or value[-1] == " ":
        return "starts or ends with a space"
    for character in value:
        if character != " " and unicodedata.category(character) not in _IDENTIFIER_CATEGORIES:
            return f"contains the character U+{ord(character):04X} ({unicodedata.category(character)})"
    return None


# The same rule with the length tested apart: RE2 runs the counted repetition above about 100 times slower
# (1 s per field and 54,000 transcript lines).
_IDENTIFIER_CHARACTERS_SQL = f"[{_VISIBLE}]([{_VISIBLE} ]*[{_VISIBLE}])?"


def identifier_sql(column: str) -> str:
    """SQL: true when the text `column` is a valid identifier (null when it is null)."""
    return (
        f"(length({column}) <= {IDENTIFIER_MAX_LENGTH} and regexp_full_match({column}, '{_IDENTIFIER_CHARACTERS_SQL}'))"
    )


def identifier_reason_sql(column: str, field_name: str) -> str:
    """SQL: the quarantine reason for a non-null `column` that breaks the identifier rule, else null."""
    return (
        f"case when {column} is not null and not {identifier_sql(column)} "
        f"then 'invalid identifier {field_name}: ' || "
        f"case when length({column}) > {IDENTIFIER_MAX_LENGTH} "
        f"then 'longer than {IDENTIFIER_MAX_LENGTH} characters (' || length({column}) || ')' "
        f"when {column} = '' then 'empty' "
        "else 'a control, format or separator character, or a space at either end' end end"
    )


# -- numbers ------------------------------------------------------------------------------------------------
# A token count is an integer from 0 to 10^9 per request and field: a thousand times the largest context window
# of today's models, and small enough that no sum over a warehouse overflows a 64-bit integer.
TOKEN_COUNT_MAX = 10**9
# A reported cost (OpenTelemetry `cost_usd`) is a finite number of USD from 0 to 10^6 per request.
COST_USD_MAX = 10**6
# A reported duration (OpenTelemetry `duration_ms`) is an integer from 0 to 10^9 ms (11.6 days).
DURATION_MS_MAX = 10**9

# -- time -------------------------------------------------------------------------------------------------
# Every timestamp lies in [2000-01-01T00:00:00Z, 2100-01-01T00:00:00Z): outside it a clock is wrong, and a
# year 1 or 9999 would overflow date arithmetic downstream (calendars, week labels, timeseries).
TIMESTAMP_WINDOW_START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
TIMESTAMP_WINDOW_END = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
TIMESTAMP_WINDOW_TEXT = "2000-01-01T00:00:00Z to 2099-12-31T23:59:59Z"
# The local dates every answer, report and query range stays within (a day of margin for time zones).
DATE_WINDOW_START = dt.date(1999, 12, 31)
DATE_WINDOW_END = dt.date(2100, 1, 1)


def timestamp_in_window_sql(column: str) -> str:
    """SQL: true when the TIMESTAMPTZ (or UTC TIMESTAMP) `column` lies in the timestamp window."""
    return (
        f"({column} >= timestamptz '{TIMESTAMP_WINDOW_START.isoformat()}' "
        f"and {column} < timestamptz '{TIMESTAMP_WINDOW_END.isoformat()}')"
    )


def timestamp_reason(field_name: str, text_sql: str) -> str:
    """SQL string expression: the reason for a timestamp outside the window (its text is `text_sql`)."""
    return f"'timestamp outside {TIMESTAMP_WINDOW_TEXT}: ' || {text_sql}"


# -- quarantine ---------------------------------------------------------------------------------------------
# Quarantine keeps at most this many characters of a bad line (platform events and directory rows; transcript
# and telemetry lines are never kept), followed by the line's full length.
QUARANTINED_TEXT_MAX_CHARS = 1000


def capped_text_sql(column: str) -> str:
    """SQL: the quarantined text of a line, cut to QUARANTINED_TEXT_MAX_CHARS characters plus its length."""
    limit = QUARANTINED_TEXT_MAX_CHARS
    return (
        f"case when length({column}) > {limit} then left({column}, {limit}) || "
        f"' [... cut: ' || length({column}) || ' characters, ' || strlen({column}) || ' bytes in all]' "
        f"else {column} end"
    )


def capped_text(text: str) -> str:
    """The same cut as capped_text_sql, in Python."""
    limit = QUARANTINED_TEXT_MAX_CHARS
    if len(text) <= limit:
        return text
    return f"{text[:limit]} [... cut: {len(text)} characters, {len(text.encode('utf-8'))} bytes in all]"


# -- which raw files are read ---------------------------------------------------------------------------------


LINK_NOT_FOLLOWED = "skipped: symbolic link (links are not followed)"
NOT_A_REGULAR_FILE = "skipped: not a regular file (FIFO, socket or device)"


def file_problem(path: Path) -> str | None:
    """Why the file at `path` is not read (None for a regular file): a link is never followed, and only regular
    files are opened (opening a FIFO would block the load for ever)."""
    try:
        mode = path.lstat().st_mode
    except OSError as error:
        return f"skipped: cannot be examined ({error.strerror})"
    if stat.S_ISLNK(mode):
        return LINK_NOT_FOLLOWED
    return None if stat.S_ISREG(mode) else NOT_A_REGULAR_FILE


@dataclass
class RawFiles:
    """The data files found under a folder, and every other entry that was not read, with the reason."""

    files: list[Path] = field(default_factory=list)
    skipped: dict[Path, str] = field(default_factory=dict)


def find_raw_files(folder: Path, suffixes: tuple[str, ...] = (".jsonl", ".jsonl.gz")) -> RawFiles:
    """Regular files ending in `suffixes` under `folder`, sorted; symbolic links are never followed (a link
    could point out of the raw dir), and every entry that is not read -- a link, a FIFO, a device, a socket, a
    folder that cannot be listed -- is in `skipped` with its reason, so that the load reports it. Entries with
    other names (a README, a .DS_Store) are not data files and are not reported."""
    found = RawFiles()
    if folder.is_symlink():
        found.skipped[folder] = LINK_NOT_FOLLOWED
        return found
    if not folder.is_dir():
        return found

    def unreadable(error: OSError) -> None:
        found.skipped[Path(error.filename)] = f"skipped: folder cannot be read ({error.strerror})"

    for root, folders, names in os.walk(folder, onerror=unreadable, followlinks=False):
        base = Path(root)
        for name in folders:
            try:  # lstat, not is_symlink(): that raises on a path longer than PATH_MAX
                if stat.S_ISLNK((base / name).lstat().st_mode):
                    found.skipped[base / name] = LINK_NOT_FOLLOWED
            except OSError as error:
                found.skipped[base / name] = f"skipped: cannot be examined ({error.strerror})"
        for name in names:
            path = base / name
            try:
                mode = path.lstat().st_mode
            except OSError as error:
                found.skipped[path] = f"skipped: cannot be examined ({error.strerror})"
                continue
            if stat.S_ISLNK(mode):
                if name.endswith(suffixes) or not path.exists():
                    found.skipped[path] = LINK_NOT_FOLLOWED
            elif not name.endswith(suffixes):
                continue
            elif stat.S_ISREG(mode):
                found.files.append(path)
            else:
                found.skipped[path] = NOT_A_REGULAR_FILE
    found.files.sort()
    found.skipped = dict(sorted(found.skipped.items()))
    return found


def subfolders(folder: Path) -> tuple[list[Path], dict[Path, str]]:
    """The real sub-folders of `folder` (sorted), and the links among its entries, which are not followed."""
    if not folder.is_dir() or folder.is_symlink():
        return [], {}
    kept, skipped = [], {}
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            skipped[entry] = LINK_NOT_FOLLOWED
        elif entry.is_dir():
            kept.append(entry)
    return kept, skipped
