"""Who may see whose data: a reader's visible users, computed from the org directory (`analytics.dim_users`).

- a member sees their own data;
- a manager sees their team: themselves and every user whose `manager_id` chain leads to them (direct and
  indirect reports);
- an admin sees the whole org (`Scope.everyone()`, which also covers users missing from the directory and
  sessions whose user is not known yet).

Reports use `scope_for(audience, user_id)`; the HTTP API uses `visible_scope(user_id)` (by the reader's role).
Either way the answer is a `reports.analytics.query.Scope`, so every figure goes through the shared query code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import duckdb

from reports.analytics.formatting import display_text
from reports.analytics.query import Scope
from reports.analytics.vocabulary import ROLES

# Report audiences, the role a recipient needs for each, and the output folder of each.
AUDIENCES = ("user", "manager", "org")
AUDIENCE_ROLES = {"user": set(ROLES), "manager": {"manager"}, "org": {"admin"}}
AUDIENCE_FOLDERS = {"user": "users", "manager": "managers", "org": "org"}


class ScopeError(LookupError):
    """A reader who does not exist or lacks the role an audience needs."""


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str | None
    email: str | None
    team: str | None
    manager_id: str | None
    role: str | None
    email_reports: bool | None = True  # False: opted out of the weekly report emails

    @property
    def display_name(self) -> str:
        """The name to show (the user id without one), as plain one-line text."""
        return display_text(self.name or self.user_id)


class Directory:
    """The people of one org as the directory lists them (users seen only in events have no role)."""

    def __init__(self, org_id: str, people: list[Person]):
        self.org_id = org_id
        self.people = {person.user_id: person for person in people}
        self._reports: dict[str, list[str]] = defaultdict(list)
        for person in people:
            if person.manager_id and person.manager_id != person.user_id:
                self._reports[person.manager_id].append(person.user_id)

    @classmethod
    def load(cls, conn: duckdb.DuckDBPyConnection, org_id: str) -> Directory:
        rows = (
            conn.cursor()
            .execute(
                """
            select user_id, user_name, email, team, manager_id, role, email_reports
            from analytics.dim_users
            where org_id = ?
            order by user_id
            """,
                [org_id],
            )
            .fetchall()
        )
        return cls(org_id, [Person(*row) for row in rows])

    def get(self, user_id: str) -> Person:
        try:
            return self.people[user_id]
        except KeyError:
            raise ScopeError(f"no user {user_id!r} in org {self.org_id!r}") from None

    def team_of(self, manager_id: str) -> frozenset[str]:
        """The manager and every direct and indirect report (a cycle in the directory cannot loop)."""
        seen = {manager_id}
        pending = [manager_id]
        while pending:
            for report in self._reports.get(pending.pop(), ()):
                if report not in seen:
                    seen.add(report)
                    pending.append(report)
        return frozenset(seen)

    def scope_for(self, audience: str, user_id: str) -> Scope:
        """The scope of the report of `audience` for `user_id`; raises ScopeError if they may not get it."""
        if audience not in AUDIENCES:
            raise ScopeError(f"unknown audience {audience!r}; one of {', '.join(AUDIENCES)}")
        person = self.get(user_id)
        if person.role not in AUDIENCE_ROLES[audience]:
            raise ScopeError(
                f"{user_id} has role {person.role or 'none'}; a {audience} report needs "
                + " or ".join(sorted(AUDIENCE_ROLES[audience]))
            )
        if audience == "org":
            return Scope.everyone()
        if audience == "manager":
            return Scope(self.team_of(user_id))
        return Scope(frozenset({user_id}))

    def visible_scope(self, user_id: str) -> Scope:
        """Everything `user_id` may see, by role: admin the org, manager the team, member their own data."""
        role = self.get(user_id).role
        if role == "admin":
            return self.scope_for("org", user_id)
        if role == "manager":
            return self.scope_for("manager", user_id)
        if role == "member":
            return self.scope_for("user", user_id)
        raise ScopeError(f"{user_id} has no role in the directory and may see nothing")

    def members(self, scope: Scope) -> list[Person]:
        """The directory people a scope covers, by name."""
        ids = self.people.keys() if scope.user_ids is None else scope.user_ids & self.people.keys()
        return sorted((self.people[i] for i in ids), key=lambda p: (p.display_name.casefold(), p.user_id))

    def recipients(self, audience: str) -> list[Person]:
        """Everyone who gets a report of `audience`, by user id."""
        return [
            person
            for person in sorted(self.people.values(), key=lambda p: p.user_id)
            if person.role in AUDIENCE_ROLES[audience]
        ]


def visible_user_ids(conn: duckdb.DuckDBPyConnection, org_id: str, user_id: str) -> frozenset[str] | None:
    """The user ids `user_id` may see in `org_id` (None = the whole org)."""
    return Directory.load(conn, org_id).visible_scope(user_id).user_ids
