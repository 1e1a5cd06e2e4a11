"""Dashboard sign-in sessions: server-side, in a small SQLite file beside the token store.

Signing in with an API token creates a session: a random 256-bit id (the cookie's value; only its SHA-256 is
stored, as for tokens), the token it came from, the org and user, a CSRF token for the session's forms and an
expiry. The cookie carries nothing else, so a tampered cookie is just an unknown id. Every request checks that
the session has not expired and that its token is still active: revoking a token (`tokens revoke`) signs its
sessions out at their next request. Signing out deletes the row.

The file is not the token store itself: the API only reads that one (the CLI writes it), and a server that writes
its own small file never contends with `tokens create`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LIFETIME = dt.timedelta(hours=12)
_SCHEMA = """
create table if not exists dashboard_sessions (
    session_hash text primary key,
    token_id     text not null,
    org_id       text not null,
    user_id      text not null,
    csrf_token   text not null,
    created_at   text not null,
    expires_at   text not null
);
create index if not exists dashboard_sessions_by_token on dashboard_sessions (token_id);
"""


def sessions_file_for(tokens_file: Path) -> Path:
    """The session store of a token store: `api_tokens.sqlite3` -> `api_tokens.sqlite3.sessions`."""
    return tokens_file.with_name(tokens_file.name + ".sessions")


@dataclass(frozen=True)
class DashboardSession:
    token_id: str
    org_id: str
    user_id: str
    csrf_token: str
    expires_at: dt.datetime


class SessionStore:
    def __init__(self, path: Path | str, lifetime: dt.timedelta = DEFAULT_LIFETIME):
        self.path = Path(path)
        self.lifetime = lifetime
        self._ready = False
        self._lock = threading.Lock()

    def create(self, token_id: str, org_id: str, user_id: str) -> tuple[str, DashboardSession]:
        """A new session: the cookie value (never stored) and the session."""
        secret = secrets.token_urlsafe(32)
        now = _now()
        session = DashboardSession(token_id, org_id, user_id, secrets.token_urlsafe(32), now + self.lifetime)
        with self._connection() as conn:
            conn.execute("delete from dashboard_sessions where expires_at <= ?", [now.isoformat()])
            conn.execute(
                "insert into dashboard_sessions values (?, ?, ?, ?, ?, ?, ?)",
                [
                    _hash(secret),
                    token_id,
                    org_id,
                    user_id,
                    session.csrf_token,
                    now.isoformat(),
                    session.expires_at.isoformat(),
                ],
            )
        return secret, session

    def get(self, secret: str | None) -> DashboardSession | None:
        """The live session of a cookie value; None for an unknown, malformed or expired one."""
        if not secret or len(secret) > 200 or not self.path.exists():
            return None
        with self._connection() as conn:
            rows = conn.execute(
                "select token_id, org_id, user_id, csrf_token, expires_at from dashboard_sessions "
                "where session_hash = ?",
                [_hash(secret)],
            ).fetchall()
        if not rows:
            return None
        token_id, org_id, user_id, csrf_token, expires_at = rows[0]
        session = DashboardSession(token_id, org_id, user_id, csrf_token, dt.datetime.fromisoformat(expires_at))
        if session.expires_at <= _now():
            self.delete(secret)
            return None
        return session

    def delete(self, secret: str) -> None:
        if not self.path.exists():
            return
        with self._connection() as conn:
            conn.execute("delete from dashboard_sessions where session_hash = ?", [_hash(secret)])

    def _connection(self) -> _Transaction:
        with self._lock:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if not self.path.exists():
                    self.path.touch(mode=0o600)  # who is signed in is nobody else's business
                with closing(sqlite3.connect(self.path)) as conn:
                    conn.executescript(_SCHEMA)
                self._ready = True
        return _Transaction(self.path)


class _Transaction:
    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path, timeout=10)

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc_info) -> None:
        try:
            if exc_info[0] is None:
                self.conn.commit()
        finally:
            self.conn.close()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
