"""API bearer tokens: issued per user of one org, shown once, stored only as a SHA-256 hash, revocable.

The store is a small SQLite file of its own (`SESSION_ANALYTICS_TOKENS`), not the warehouse: the warehouse is
a read-only file that every refresh replaces. A token names a user and an org only; the user's role (and so
what the token may see) is read from the warehouse directory at each request, so a role change applies at once.

A token carries 256 random bits, so a plain SHA-256 of it is as good as a slow password hash (nobody can
guess their way back to a token) and lets a request find its token by an indexed lookup of the hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

TOKEN_PREFIX = "sa_"
_SCHEMA = """
create table if not exists api_tokens (
    token_id   text primary key,
    token_hash text not null unique,
    org_id     text not null,
    user_id    text not null,
    created_at text not null,
    revoked_at text
);
create index if not exists api_tokens_by_user on api_tokens (org_id, user_id);
"""


class TokenStoreError(RuntimeError):
    """The token file exists but cannot be read (not SQLite, wrong permissions, ...)."""


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    org_id: str
    user_id: str
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_dict(self) -> dict:
        return {
            "token_id": self.token_id,
            "org_id": self.org_id,
            "user_id": self.user_id,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


class TokenStore:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    # -- administration (the CLI) -------------------------------------------------------------------------

    def create(self, org_id: str, user_id: str) -> tuple[TokenRecord, str]:
        """A new token for `user_id` of `org_id`: its record and the secret, which is never stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord("tok_" + secrets.token_hex(6), org_id, user_id, _now(), None)
        with self._writable() as conn:
            conn.execute(
                "insert into api_tokens (token_id, token_hash, org_id, user_id, created_at) values (?, ?, ?, ?, ?)",
                [record.token_id, token_hash(secret), org_id, user_id, record.created_at],
            )
        return record, secret

    def revoke(self, token_id: str) -> list[TokenRecord]:
        """Revoke one token by its id; the records revoked now (empty if it was already revoked)."""
        return self._revoke("token_id = ?", [token_id])

    def revoke_user(self, org_id: str, user_id: str) -> list[TokenRecord]:
        """Revoke every active token of a user."""
        return self._revoke("org_id = ? and user_id = ?", [org_id, user_id])

    def get(self, token_id: str) -> TokenRecord | None:
        rows = self._select("where token_id = ?", [token_id])
        return rows[0] if rows else None

    def list(self, org_id: str | None = None, include_revoked: bool = False) -> list[TokenRecord]:
        clauses, params = [], []
        if org_id is not None:
            clauses.append("org_id = ?")
            params.append(org_id)
        if not include_revoked:
            clauses.append("revoked_at is null")
        where = ("where " + " and ".join(clauses)) if clauses else ""
        return self._select(f"{where} order by org_id, user_id, created_at", params)

    # -- authentication (the API) -------------------------------------------------------------------------

    def authenticate(self, secret: str) -> TokenRecord | None:
        """The record of a presented token, revoked or not; None for a token that was never issued."""
        if not secret.startswith(TOKEN_PREFIX) or not self.path.exists():
            return None
        rows = self._select("where token_hash = ?", [token_hash(secret)])
        return rows[0] if rows else None

    # -- storage ------------------------------------------------------------------------------------------

    def _revoke(self, where: str, params: list) -> list[TokenRecord]:
        if not self.path.exists():
            return []
        revoked_at = _now()
        with self._writable() as conn:
            rows = conn.execute(
                f"update api_tokens set revoked_at = ? where {where} and revoked_at is null "
                "returning token_id, org_id, user_id, created_at, revoked_at",
                [revoked_at, *params],
            ).fetchall()
        return sorted((TokenRecord(*row) for row in rows), key=lambda r: r.token_id)

    def _select(self, clause: str, params: list) -> list[TokenRecord]:
        if not self.path.exists():
            return []
        # Read-only URI: the API never writes the store, and a reader never creates a missing file.
        try:
            with closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
                rows = conn.execute(
                    f"select token_id, org_id, user_id, created_at, revoked_at from api_tokens {clause}", params
                ).fetchall()
        except sqlite3.DatabaseError as error:
            raise TokenStoreError(f"cannot read the token store {self.path}: {error}") from None
        return [TokenRecord(*row) for row in rows]

    def _writable(self) -> _Transaction:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # Created private: it holds only hashes, but who has which token is nobody else's business.
            self.path.touch(mode=0o600)
        return _Transaction(self.path)


class _Transaction:
    """A read-write connection that commits on success and always closes."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path)

    def __enter__(self) -> sqlite3.Connection:
        self.conn.executescript(_SCHEMA)
        return self.conn

    def __exit__(self, *exc_info) -> None:
        try:
            if exc_info[0] is None:
                self.conn.commit()
        finally:
            self.conn.close()


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
