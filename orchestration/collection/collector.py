"""`session-analytics collect`: send this machine's coding-agent usage to the team's raw dir, content-free.

    session-analytics collect --server https://analytics.acme.example --token-file ~/.session-analytics/token
    session-analytics collect --to /mnt/team-share/raw --email ana@acme.example

For every supported agent (Claude Code, and each format module of `orchestration.ingest.agent_logs`: Codex CLI,
Gemini CLI, Copilot CLI) it finds the files the warehouse reads in the agent's folder on this machine
(`~/.claude`, `~/.codex`, ...: `--home SOURCE=DIR`, else the agent's own variable such as CLAUDE_CONFIG_DIR or
CODEX_HOME, else the default), makes each file's content-free copy with the format's `strip_file` (ids,
timestamps, model, token counts, cwd, git branch and repository; never a prompt, response, tool call or file
content), and sends the copies that changed since the last run:

- `--to DIR` writes `<DIR>/<source>/<email>/<path under the agent's folder>`, the raw dir's layout (DIR is a
  shared drive that the refresh reads as its raw dir, or copies into it);
- `--server URL` uploads each copy to `POST URL/uploads/<source>?path=<path>` with the user's API token
  (`orchestration.collection.uploads`): the server files it under the token's user's email, so nobody can send for
  someone else.

What was sent is remembered in a state file (`--state`, default ~/.session-analytics/collector-state.json):
per destination, each file's size and modification time and its copy's SHA-256. A file whose size and time are
unchanged is not read again; one whose copy is unchanged is not sent again. A second run with nothing new sends
nothing and says so. Both destinations leave a file that already holds the same bytes untouched, so sending
again (`--full`, a lost state file) changes nothing.

The path rules, the content check and the safe write are shared with the upload receiver: a copy that the server
would refuse is refused by `--to` alike.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gzip
import hashlib
import http.client
import ipaddress
import json
import os
import secrets
import stat
import sys
import time
import unicodedata
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from orchestration.ingest import claude_code, lake
from orchestration.ingest.contract import identifier_problem

TOKEN_ENV = "SESSION_ANALYTICS_TOKEN"
STATE_ENV = "SESSION_ANALYTICS_COLLECTOR_STATE"
DEFAULT_STATE = "~/.session-analytics/collector-state.json"
UPLOADS_PREFIX = "/uploads"
STATE_VERSION = 1
# A folder or file name is at most this many bytes on every common file system; a path has at most this many
# components (the deepest real layout, Claude Code's subagent files, has 5).
NAME_MAX_BYTES = 255
PATH_MAX_PARTS = 16
# Characters never allowed in a path component: a path separator of some system, a drive letter's colon.
_FORBIDDEN_IN_NAMES = frozenset("\\:")
INVALID_LINE = claude_code.INVALID_LINE
# A file modified this recently may still be written: it is read again on the next run even if unchanged.
SETTLE_SECONDS = claude_code.OPEN_LINE_SETTLE_SECONDS
# The state file is written every so many files: a run killed after an hour of uploads keeps most of its work.
STATE_SAVE_EVERY = 200
HTTP_ATTEMPTS = 3
HTTP_BACKOFF_SECONDS = 1.0
HTTP_TIMEOUT_SECONDS = 120


class CollectedFormat(Protocol):
    """What the collector needs of a source: claude_code.COLLECTED and every agent_logs.AgentLogFormat."""

    source: str
    local_home: str
    home_env: str | None

    def wanted(self, relative: PurePosixPath) -> bool: ...
    def strip_file(self, path: Path) -> bytes | None: ...


def collected_formats() -> list[CollectedFormat]:
    """Claude Code and every agent-log format module that is installed, in that order."""
    from orchestration.ingest import agent_logs

    return [claude_code.COLLECTED, *agent_logs.formats()]


def suffixes_of(fmt: CollectedFormat) -> tuple[str, ...]:
    return tuple(getattr(fmt, "suffixes", None) or (".jsonl",))


def is_wanted(fmt: CollectedFormat, relative: PurePosixPath) -> bool:
    """A file the source's loader reads: its name ends as the loader looks for, and the format wants it."""
    return relative.name.endswith(suffixes_of(fmt)) and bool(fmt.wanted(relative))


# -- the rules shared with the upload receiver -----------------------------------------------------------------


def path_problem(text: str) -> str | None:
    """Why `text` is not a safe relative path of a collected file (None when it is): relative, '/'-separated,
    every component a plain name (no '.', '..', hidden name, empty part, backslash, colon, control or format
    character), at most NAME_MAX_BYTES bytes per component and PATH_MAX_PARTS components."""
    if not text:
        return "empty path"
    if text.startswith("/"):
        return "an absolute path; expected a path relative to the agent's folder"
    parts = text.split("/")
    if len(parts) > PATH_MAX_PARTS:
        return f"more than {PATH_MAX_PARTS} components"
    for part in parts:
        if not part:
            return "an empty component (// or a trailing /)"
        if part in (".", ".."):
            return f"a {part!r} component"
        if part.startswith("."):
            return "a hidden (dot) component"
        if any(character in _FORBIDDEN_IN_NAMES for character in part):
            return "a backslash or colon in a component"
        if any(unicodedata.category(character) in ("Cc", "Cf", "Cs", "Zl", "Zp") for character in part):
            return "a control, format or line-separator character in a component"
        if part != part.strip():
            return "a component that starts or ends with a space"
        if len(part.encode("utf-8")) > NAME_MAX_BYTES:
            return f"a component longer than {NAME_MAX_BYTES} bytes"
    return None


def email_folder_problem(email: str) -> str | None:
    """Why `email` cannot name a user's folder of the raw dir (None when it can): one bare address, a valid
    identifier (the folder is a collection name), no path separator, at most NAME_MAX_BYTES bytes."""
    from reports.delivery.mailer import InvalidAddress, parse_address

    try:
        address = parse_address(email)
    except InvalidAddress as error:
        return f"not an email address: {error}"
    if address != email:
        return "surrounding spaces"
    if "/" in email or "\\" in email or email.startswith("."):
        return "a '/' or '\\' or a leading dot cannot be in a folder name"
    problem = identifier_problem(email)
    if problem:
        return f"not a valid identifier ({problem})"
    if len(email.encode("utf-8")) > NAME_MAX_BYTES:
        return f"longer than {NAME_MAX_BYTES} bytes"
    return None


def user_folder(email: str) -> str:
    """The raw dir's folder of a user: the email in lower case (dbt matches collections to the directory in
    lower case, so two spellings of one address would only make two folders of one person)."""
    return email.lower()


def content_problem(name: str, data: bytes, max_bytes: int) -> str | None:
    """Why `data` is not a raw file of its kind at all (None when it is), as the loaders read raw files: a `.gz`
    name must be gzip data (at most `max_bytes` once decompressed); the text must be UTF-8 (a loader reads nothing
    of a file that is not); a `.json` file must be one JSON document; a JSON Lines file must have JSON lines. A
    bad line beside good ones is not a reason: the refresh quarantines it at its line number, as in any raw file
    (a copy has a content-free stand-in where the original has a line that is not JSON, e.g. INVALID_LINE). The
    reason never quotes the data."""
    if name.endswith(".gz"):
        try:
            data = _gunzip(data, max_bytes)
        except _TooLarge:
            return f"more than {max_bytes} bytes once decompressed"
        except (OSError, EOFError, zlib.error):
            return "not gzip data (the name ends in .gz)"
        name = name[:-3]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"not UTF-8 text (byte {error.start})"
    text = text.removeprefix("\ufeff")
    if name.endswith(".json"):
        try:
            json.loads(text)
        except ValueError as error:
            return f"not a JSON document ({_json_error(error)})"
        except RecursionError:
            return "not a JSON document (nested too deeply)"
        return None
    lines = [line for line in text.split("\n") if line.strip()]
    if lines and not any(_is_json(line) for line in lines):
        return f"not JSON Lines: none of its {len(lines)} non-blank lines is JSON"
    return None


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _json_error(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno} column {error.colno}"
    return "invalid"


class _TooLarge(ValueError):
    pass


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    chunk = data
    while chunk:
        out += decompressor.decompress(chunk, max_bytes + 1 - len(out))
        if len(out) > max_bytes:
            raise _TooLarge()
        chunk = decompressor.unconsumed_tail
        if decompressor.eof:
            rest = decompressor.unused_data
            if rest.strip(b"\0"):
                # a second gzip member: decompress the rest the slow way (gzip allows concatenated members)
                out += gzip.decompress(rest)
                if len(out) > max_bytes:
                    raise _TooLarge()
            return bytes(out)
    if not decompressor.eof:
        raise EOFError("truncated gzip data")
    return bytes(out)


class UnsafePath(ValueError):
    """A folder on the way is a link (or not a folder), or the file is not a regular file."""


def write_file(root: Path, parts: Sequence[str], data: bytes) -> str:
    """Write `data` at `root/parts[0]/.../parts[-1]` and say what happened: "created", "updated" or "unchanged"
    (the file already held these bytes: not touched, its modification time kept, so the next refresh does not
    even read it).

    Atomic: a temporary file beside the target, then a rename. Every folder below `root` is created, or must be
    a real folder: a link is never written through (the raw dir's loaders do not follow links either), and the
    target must be a regular file or absent. Folders are walked by descriptor where the system allows it, so a
    folder swapped for a link half-way cannot redirect the write."""
    if not parts or any(path_problem(part) for part in parts):
        raise UnsafePath("not a safe path")
    if os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY"):
        return _write_by_descriptor(root, parts, data)
    return _write_by_path(root, parts, data)


def _write_by_descriptor(root: Path, parts: Sequence[str], data: bytes) -> str:
    directory_flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                os.mkdir(part, 0o755, dir_fd=folder)
            except FileExistsError:
                pass
            try:
                child = os.open(part, directory_flags, dir_fd=folder)
            except OSError:
                raise UnsafePath(f"{part!r} on the way is a link or not a folder") from None
            os.close(folder)
            folder = child
        name = parts[-1]
        try:
            existing = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            status = "created"
        else:
            if not stat.S_ISREG(existing.st_mode):
                raise UnsafePath(f"{name!r} exists and is not a regular file")
            status = "updated"
            if existing.st_size == len(data) and _same_bytes(
                os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder), data
            ):
                return "unchanged"
        temporary = f".{name[:200]}.{secrets.token_hex(6)}{lake.TEMPORARY_SUFFIX}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=folder)
            except OSError:
                pass
            raise
        return status
    finally:
        os.close(folder)


def _write_by_path(root: Path, parts: Sequence[str], data: bytes) -> str:
    """Windows: the same rules, checked by path."""
    folder = root
    for part in parts[:-1]:
        folder = folder / part
        try:
            folder.mkdir()
        except FileExistsError:
            pass
        if folder.is_symlink() or not folder.is_dir():
            raise UnsafePath(f"{part!r} on the way is a link or not a folder")
    target = folder / parts[-1]
    status = "created"
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise UnsafePath(f"{parts[-1]!r} exists and is not a regular file")
    if target.exists():
        status = "updated"
        if target.stat().st_size == len(data) and target.read_bytes() == data:
            return "unchanged"
    temporary = folder / f".{parts[-1][:200]}.{secrets.token_hex(6)}{lake.TEMPORARY_SUFFIX}"
    try:
        with open(temporary, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return status


def _same_bytes(descriptor: int, data: bytes) -> bool:
    with os.fdopen(descriptor, "rb") as existing:
        return existing.read(len(data) + 1) == data


# -- destinations --------------------------------------------------------------------------------------------


class Refused(Exception):
    """The destination refuses this file (it is not retried until the file changes)."""


class Fatal(Exception):
    """The run cannot go on: the server is unreachable, the token is refused, the folder is gone."""


class FolderDestination:
    """`--to DIR`: `<DIR>/<source>/<email>/<path>`."""

    def __init__(self, folder: Path, email: str, max_bytes: int):
        self.folder, self.email, self.max_bytes = folder, user_folder(email), max_bytes
        self.key = f"folder:{folder}|{self.email}"

    def describe(self) -> str:
        return f"{self.folder} as {self.email}"

    def send(self, source: str, relative: str, data: bytes) -> str:
        problem = path_problem(relative) or _size_problem(len(data), self.max_bytes)
        problem = problem or content_problem(relative, data, self.max_bytes)
        if problem:
            raise Refused(problem)
        if not self.folder.is_dir():
            raise Fatal(f"{self.folder} is no longer a folder (a shared drive that is not mounted?)")
        try:
            return write_file(self.folder, (source, self.email, *relative.split("/")), data)
        except UnsafePath as error:
            raise Refused(str(error)) from None
        except OSError as error:
            raise Fatal(f"cannot write under {self.folder}: {error}") from None


def _size_problem(size: int, max_bytes: int) -> str | None:
    return f"{size} bytes, more than the limit of {max_bytes}" if size > max_bytes else None


class ServerDestination:
    """`--server URL`: one HTTP(S) connection, kept open, `POST /uploads/<source>?path=...` per file."""

    def __init__(self, url: str, token: str, timeout: float = HTTP_TIMEOUT_SECONDS):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"--server must be an http:// or https:// URL, got {url!r}")
        if parsed.username or parsed.password or parsed.query or parsed.fragment:
            raise ValueError("--server takes a URL without credentials, query or fragment (the token goes in --token)")
        self.scheme, self.host, self.port = parsed.scheme, parsed.hostname, parsed.port
        self.base = parsed.path.rstrip("/")
        self.token, self.timeout = token, timeout
        self.url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, self.base, "", ""))
        # The state belongs to this server and this token's user; the token itself is never stored.
        self.key = f"server:{self.url}|{hashlib.sha256(token.encode()).hexdigest()[:16]}"
        self._connection: http.client.HTTPConnection | None = None
        self.identity: dict[str, Any] = {}

    def plaintext_warning(self) -> str | None:
        if self.scheme == "https":
            return None
        try:
            if ipaddress.ip_address(self.host).is_loopback:
                return None
        except ValueError:
            if self.host == "localhost":
                return None
        return f"warning: {self.url} is plain http: the token and the usage records travel unencrypted"

    def describe(self) -> str:
        who = self.identity
        return f"{self.url} as {who.get('email')} (user {who.get('user_id')} of {who.get('org_id')})"

    def connect(self) -> dict[str, Any]:
        """Who the server says the token is (GET /uploads/whoami): the email the files go under."""
        status, body = self._request("GET", f"{UPLOADS_PREFIX}/whoami", None)
        if status != 200:
            self._fail(status, body)
        self.identity = body
        return body

    def _fail(self, status: int, body: Any) -> None:
        detail = body.get("detail", body) if isinstance(body, dict) else body
        if status in (401, 403):
            raise Fatal(f"the server refused the token ({status}): {detail}")
        if status in (404, 405):
            raise Fatal(
                f"{self.url} does not accept uploads ({status}); is it `session-analytics serve --accept-uploads`?"
            )
        if 400 <= status < 500:
            raise Refused(f"{status}: {detail}")
        raise Fatal(f"the server cannot take uploads now ({status}): {detail}")

    def send(self, source: str, relative: str, data: bytes) -> str:
        limit = self.identity.get("max_bytes")
        if isinstance(limit, int) and len(data) > limit:
            raise Refused(f"{len(data)} bytes, more than the server's limit of {limit}")
        query = urllib.parse.urlencode({"path": relative})
        status, body = self._request("POST", f"{UPLOADS_PREFIX}/{urllib.parse.quote(source, safe='')}?{query}", data)
        if status in (200, 201):
            if body.get("sha256") != hashlib.sha256(data).hexdigest():
                raise Fatal(f"the server stored other bytes than were sent for {source}/{relative}")
            return str(body.get("status"))
        self._fail(status, body)
        raise AssertionError("unreachable")

    def _request(self, method: str, path: str, data: bytes | None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/octet-stream"
        last_error: Exception | None = None
        attempt = 0
        while attempt < HTTP_ATTEMPTS:
            if attempt:
                time.sleep(HTTP_BACKOFF_SECONDS * 2 ** (attempt - 1))
            reused = self._connection is not None
            try:
                connection = self._open()
                connection.request(method, self.base + path, body=data, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as error:
                last_error = error
                self.close()
                # a kept-alive connection that the server closed while idle: at once on a new one (an upload
                # sent twice changes nothing)
                attempt += 0 if reused else 1
                continue
            attempt += 1
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            if response.status in (502, 503, 504) and attempt < HTTP_ATTEMPTS:
                last_error = RuntimeError(f"HTTP {response.status}")
                continue
            try:
                body = json.loads(payload) if payload else {}
            except ValueError:
                body = {"detail": payload[:200].decode("utf-8", "replace")}
            return response.status, body
        raise Fatal(f"cannot reach {self.url}: {last_error}")

    def _open(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self.scheme == "https":
                self._connection = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
            else:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# -- finding the files ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LocalFile:
    source: str
    home: Path
    path: Path
    relative: str  # '/'-separated, under the agent's folder


def homes_of(fmt: CollectedFormat, given: Sequence[Path], environ: dict[str, str]) -> list[Path]:
    """The agent's folders on this machine: those given (--home), else its variable's (CLAUDE_CONFIG_DIR may
    name several, comma-separated), else its default ones."""
    if given:
        return [Path(path).expanduser() for path in given]
    value = environ.get(fmt.home_env) if fmt.home_env else None
    if value and value.strip():
        separator = getattr(fmt, "home_env_separator", None)
        texts = [text.strip() for text in value.split(separator)] if separator else [value]
        return [Path(text).expanduser() for text in texts if text]
    return [Path(text).expanduser() for text in (*getattr(fmt, "other_local_homes", ()), fmt.local_home)]


def find_files(fmt: CollectedFormat, homes: Sequence[Path]) -> tuple[list[LocalFile], list[tuple[Path, str]]]:
    """The wanted files of the agent's folders, and the entries passed over with why (a link, not a regular
    file, a path the destination would refuse, the same path in two folders: the first folder's is sent)."""
    found: dict[str, LocalFile] = {}
    passed: list[tuple[Path, str]] = []
    for home in homes:
        if not home.is_dir():
            continue
        for root, folders, names in os.walk(home, followlinks=False):
            folders.sort()
            base = Path(root)
            for name in sorted(names):
                path = base / name
                relative = path.relative_to(home).as_posix()
                if not is_wanted(fmt, PurePosixPath(relative)):
                    continue
                try:
                    mode = path.lstat().st_mode
                except OSError as error:
                    passed.append((path, f"cannot be examined ({error.strerror})"))
                    continue
                problem = path_problem(relative)
                if stat.S_ISLNK(mode):
                    passed.append((path, "a link, not followed"))
                elif not stat.S_ISREG(mode):
                    passed.append((path, "not a regular file"))
                elif problem:
                    passed.append((path, f"its path is not sent: {problem}"))
                elif relative in found:
                    passed.append((path, f"the same path is under {found[relative].home}, which is sent"))
                else:
                    found[relative] = LocalFile(fmt.source, home, path, relative)
    return list(found.values()), passed


# -- the run -------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SourceSummary:
    source: str
    homes: list[str]
    files: int = 0
    created: int = 0
    updated: int = 0
    unchanged_at_destination: int = 0
    unchanged_since_last_run: int = 0
    nothing_to_send: int = 0
    refused: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    passed_over: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    would_send: list[str] = dataclasses.field(default_factory=list)
    # refused by an earlier run and unchanged since: not sent again until they change
    refused_earlier: list[tuple[str, dict]] = dataclasses.field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.created + self.updated + self.unchanged_at_destination


class Destination(Protocol):
    key: str

    def describe(self) -> str: ...
    def send(self, source: str, relative: str, data: bytes) -> str: ...


class CollectorState:
    """What was sent, per destination: {"version", "destinations": {key: {"files": {"<source>/<path>":
    {"size", "mtime_ns", "sha256", "status"}}}}}, written atomically (lake.write_state)."""

    def __init__(self, path: Path, destination_key: str):
        self.path, self.key = path, destination_key
        stored = lake.read_state(path) or {}
        if stored.get("version") != STATE_VERSION:
            stored = {"version": STATE_VERSION, "destinations": {}}
        self.data = stored
        self.files: dict[str, dict] = stored["destinations"].setdefault(destination_key, {}).setdefault("files", {})

    def save(self) -> None:
        lake.write_state(self.path, self.data)


def collect(
    formats: Iterable[CollectedFormat],
    destination: Destination,
    state: CollectorState,
    homes: dict[str, list[Path]] | None = None,
    environ: dict[str, str] | None = None,
    full: bool = False,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
) -> list[SourceSummary]:
    """Send the changed copies of every format's files to `destination`; the state is saved as it goes.
    Raises Fatal (after saving what was sent) when the run cannot go on."""
    environ = dict(os.environ if environ is None else environ)
    summaries = []
    since_save = 0
    try:
        for fmt in formats:
            folders = homes_of(fmt, (homes or {}).get(fmt.source, []), environ)
            summary = SourceSummary(fmt.source, [str(folder) for folder in folders])
            summaries.append(summary)
            files, passed = find_files(fmt, folders)
            summary.passed_over = [(str(path), reason) for path, reason in passed]
            present = set()
            for local in files:
                key = f"{fmt.source}/{local.relative}"
                present.add(key)
                summary.files += 1
                _collect_one(fmt, local, key, destination, state, summary, full, dry_run, echo)
                since_save += 1
                if since_save >= STATE_SAVE_EVERY and not dry_run:
                    state.save()
                    since_save = 0
            # Files gone from this machine (Claude Code deletes transcripts after 30 days) stay at the
            # destination; only their state entries go.
            for key in [key for key in state.files if key.startswith(f"{fmt.source}/") and key not in present]:
                del state.files[key]
    finally:
        if not dry_run:
            state.save()
    return summaries


def _collect_one(
    fmt,
    local: LocalFile,
    key: str,
    destination: Destination,
    state: CollectorState,
    summary: SourceSummary,
    full: bool,
    dry_run: bool,
    echo: Callable[[str], None],
) -> None:
    try:
        status = local.path.stat()
    except OSError as error:
        summary.passed_over.append((str(local.path), f"cannot be examined ({error.strerror})"))
        return
    previous = state.files.get(key) or {}
    same_file = previous.get("size") == status.st_size and previous.get("mtime_ns") == status.st_mtime_ns
    # A file that was still being written when it was last read is read again (its copy may differ once settled:
    # a cut last line is then final); the copy is sent again only if it differs.
    settled = previous.get("settled", True)
    if not full and same_file and settled and previous.get("status") in ("sent", "refused", "nothing to send"):
        summary.unchanged_since_last_run += 1
        if previous.get("status") == "refused":
            summary.refused_earlier.append((key, previous))
        return
    copy = fmt.strip_file(local.path)
    record = {
        "size": status.st_size,
        "mtime_ns": status.st_mtime_ns,
        "settled": time.time() - status.st_mtime >= SETTLE_SECONDS,
    }
    if copy is None:
        summary.nothing_to_send += 1
        state.files[key] = {**record, "status": "nothing to send"}
        return
    digest = hashlib.sha256(copy).hexdigest()
    if not full and previous.get("sha256") == digest and previous.get("status") in ("sent", "refused"):
        summary.unchanged_since_last_run += 1  # the same copy: not sent again (nor refused again)
        state.files[key] = {**previous, **record}
        if previous["status"] == "refused":
            summary.refused_earlier.append((key, previous))
        return
    if dry_run:
        summary.would_send.append(local.relative)
        echo(f"would send {fmt.source}/{local.relative} ({len(copy)} bytes)")
        return
    try:
        outcome = destination.send(fmt.source, local.relative, copy)
    except Refused as error:
        summary.refused.append((local.relative, str(error)))
        state.files[key] = {**record, "sha256": digest, "status": "refused", "reason": str(error)}
        echo(f"refused: {fmt.source}/{local.relative}: {error}")
        return
    if outcome == "created":
        summary.created += 1
    elif outcome == "updated":
        summary.updated += 1
    else:
        summary.unchanged_at_destination += 1
    state.files[key] = {**record, "sha256": digest, "status": "sent"}


def report(summaries: list[SourceSummary], destination: Destination, dry_run: bool, verbose: bool) -> str:
    lines = []
    for summary in summaries:
        if not summary.files and not summary.passed_over:
            if verbose:
                lines.append(f"{summary.source}: no files in {', '.join(summary.homes)}")
            continue
        parts = [f"{summary.files} file(s)"]
        if dry_run:
            parts.append(f"{len(summary.would_send)} to send")
        else:
            parts.append(
                f"{summary.sent} sent ({summary.created} new, {summary.updated} updated, "
                f"{summary.unchanged_at_destination} already there)"
            )
        parts.append(f"{summary.unchanged_since_last_run} unchanged since the last run")
        if summary.nothing_to_send:
            parts.append(f"{summary.nothing_to_send} with nothing to send (not UTF-8 text)")
        if summary.refused:
            parts.append(f"{len(summary.refused)} refused")
        if summary.refused_earlier:
            parts.append(f"{len(summary.refused_earlier)} refused before and unchanged since (see --verbose)")
        if summary.passed_over:
            parts.append(f"{len(summary.passed_over)} passed over")
        lines.append(f"{summary.source}: " + ", ".join(parts))
        if verbose:
            lines += [f"  passed over {path}: {reason}" for path, reason in summary.passed_over]
            lines += [f"  refused before: {key}: {entry.get('reason')}" for key, entry in summary.refused_earlier]
    sent = sum(len(s.would_send) if dry_run else s.sent for s in summaries)
    if not any(s.files for s in summaries):
        lines.append(f"no agent files found ({'; '.join(f'{s.source}: ' + ', '.join(s.homes) for s in summaries)})")
    elif sent == 0:
        lines.append("nothing new to send")
    else:
        lines.append(f"{'would send' if dry_run else 'sent'} {sent} file(s) to {destination.describe()}")
    return "\n".join(lines)


# -- the command ---------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="DIR", help="write into this folder (a shared drive): DIR/<source>/<email>/...")
    target.add_argument("--server", metavar="URL", help="upload to `session-analytics serve --accept-uploads` at URL")
    parser.add_argument("--email", help="with --to: your email as in the team's directory (the folder's name)")
    parser.add_argument("--token", help=f"with --server: your API token (default: ${TOKEN_ENV})")
    parser.add_argument("--token-file", metavar="FILE", help="with --server: read the API token from FILE")
    parser.add_argument(
        "--home",
        action="append",
        default=[],
        metavar="SOURCE=DIR",
        help="an agent's folder on this machine, e.g. claude_code=~/.claude or codex=~/.codex (repeat; default: "
        "the agent's variable, e.g. CLAUDE_CONFIG_DIR, CODEX_HOME, else its usual folder)",
    )
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="SOURCE",
        help="collect only this agent's files (repeat; default: every agent)",
    )
    parser.add_argument("--state", help=f"what was sent (default: ${STATE_ENV} or {DEFAULT_STATE})")
    parser.add_argument(
        "--full", action="store_true", help="send every file again (the destination leaves identical files untouched)"
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be sent; send nothing")
    parser.add_argument("-v", "--verbose", action="store_true")


def run_command(args: argparse.Namespace) -> int:
    formats = collected_formats()
    known = [fmt.source for fmt in formats]
    unknown = [source for source in args.source if source not in known]
    if unknown:
        return _usage_error(f"unknown --source {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = [fmt for fmt in formats if not args.source or fmt.source in args.source]
    homes: dict[str, list[Path]] = {}
    for text in args.home:
        source, separator, folder = text.partition("=")
        if not separator or not folder or source not in known:
            return _usage_error(f"--home expects SOURCE=DIR with SOURCE one of {', '.join(known)}, got {text!r}")
        homes.setdefault(source, []).append(Path(folder))
    try:
        destination = _destination(args, upload_max_bytes())
    except ValueError as error:
        return _usage_error(str(error))
    state_path = Path(args.state or os.environ.get(STATE_ENV) or DEFAULT_STATE).expanduser()
    with run_lock(state_path) as locked:
        if not locked:
            print(
                f"another `session-analytics collect` with the state file {state_path} is running; nothing done",
                file=sys.stderr,
            )
            return 0
        return _run_locked(args, chosen, homes, destination, state_path)


@contextlib.contextmanager
def run_lock(state_path: Path) -> Iterator[bool]:
    """One run at a time per state file (a scheduled run that starts while a long first run still goes): an
    exclusive lock on `<state file>.lock`, released when the run ends or dies. True when this run holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: Task Scheduler does not start a task that is still running
        yield True
        return
    state_path.parent.mkdir(parents=True, exist_ok=True)
    with open(state_path.with_name(state_path.name + ".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def _run_locked(
    args: argparse.Namespace, chosen: list, homes: dict[str, list[Path]], destination: Destination, state_path: Path
) -> int:
    state = CollectorState(state_path, destination.key)
    try:
        if isinstance(destination, ServerDestination):
            warning = destination.plaintext_warning()
            if warning:
                print(warning, file=sys.stderr)
            destination.connect()
        summaries = collect(chosen, destination, state, homes=homes, full=args.full, dry_run=args.dry_run)
    except Fatal as error:
        print(f"error: {error} (what was sent before is remembered in {state_path})", file=sys.stderr)
        return 1
    finally:
        if isinstance(destination, ServerDestination):
            destination.close()
    print(report(summaries, destination, args.dry_run, args.verbose))
    return 1 if any(summary.refused for summary in summaries) else 0


def _destination(args: argparse.Namespace, max_bytes: int) -> Destination:
    if args.to:
        if args.token or args.token_file:
            raise ValueError("--token and --token-file go with --server, not --to")
        if not args.email:
            raise ValueError("--to needs --email (your email as in the team's directory)")
        problem = email_folder_problem(args.email)
        if problem:
            raise ValueError(f"--email {args.email!r}: {problem}")
        folder = Path(args.to).expanduser()
        if not folder.is_dir():
            raise ValueError(f"--to {folder}: not a folder (a shared drive that is not mounted?); create it first")
        return FolderDestination(folder.resolve(), args.email, max_bytes)
    if args.email:
        raise ValueError("--email goes with --to; with --server the token says who you are")
    token = args.token
    if args.token_file:
        token_file = Path(args.token_file).expanduser()
        try:
            token = token_file.read_text(encoding="utf-8").strip()
            if os.name == "posix" and token_file.stat().st_mode & 0o077:
                print(f"warning: {token_file} can be read by other users; `chmod 600 {token_file}`", file=sys.stderr)
        except OSError as error:
            raise ValueError(f"--token-file: {error}") from None
    token = token or os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ValueError(
            f"--server needs your API token: --token, --token-file or ${TOKEN_ENV} "
            "(an admin issues it with `session-analytics tokens create --user <your id>`)"
        )
    return ServerDestination(args.server, token)


def upload_max_bytes(environ: dict[str, str] | None = None) -> int:
    """SESSION_ANALYTICS_UPLOAD_MAX_BYTES: the largest copy a destination takes (ValueError names a bad one)."""
    text = (os.environ if environ is None else environ).get(MAX_BYTES_ENV, str(DEFAULT_MAX_BYTES)).strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{MAX_BYTES_ENV} must be a whole number of bytes >= 1, got {text!r}")
    return int(text)


MAX_BYTES_ENV = "SESSION_ANALYTICS_UPLOAD_MAX_BYTES"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


def _usage_error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2
