"""The figures the dashboard needs beyond the four answers: cost by repository, and the people table (per person the
activity figures, a sessions trend and the agent they use most). Same marts, same metric SQL
(`reports.analytics.metrics`), same filters and scope as every other answer (`AnalyticsQueries._where`), so a
person's row is what the API answers with `user=` them.

Each figure is grouped straight by its keys (no joined subquery; names come from the directory the caller has):
on the 10M-request warehouse that is several times faster than grouping a joined subquery, and faster than one scan
with grouping sets.
"""

from __future__ import annotations

from reports.analytics import metrics as m
from reports.analytics.query import AnalyticsQueries, Filters, Scope, _cost, _duration, _periods


class DashboardQueries(AnalyticsQueries):
    def by_repository(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        """Repositories by sessions (most used first, then cost), with cost and tokens; null = sessions without
        one. Repositories without any session or request are left out."""
        where = self._where(org_id, filters, scope)
        rows = self._rows(
            f"""
            select repository, {m.SESSIONS}, {m.COST_USD}, {m.TOTAL_TOKENS}
            from {m.ACTIVITY_MART} where {where.sql}
            group by repository
            having {m.SESSIONS} > 0 or sum(model_requests) > 0
            order by 2 desc, 3 desc, repository nulls last
            """,
            where.params,
        )
        return {
            "repositories": [
                {
                    "repository": key,
                    "sessions": int(sessions),
                    "total_cost_usd": _cost(cost),
                    "total_tokens": int(tokens),
                }
                for key, sessions, cost, tokens in rows
            ]
        }

    def people(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope(), interval: str = "week") -> dict:
        """One row per user id with any session or request (null = sessions whose start has not arrived), busiest
        first: sessions, cost, tokens, average duration and cost per session, the sessions in every period of the
        range (zeros included) and the agent with the most sessions (ties: the first by name)."""
        date_from, date_to = self.date_range(org_id, filters)
        periods = _periods(date_from, date_to, interval)
        where = self._where(org_id, filters, scope)
        people = {
            user_id: {
                "user_id": user_id,
                "sessions": int(sessions),
                "total_cost_usd": _cost(cost),
                "total_tokens": int(tokens),
                "avg_duration_seconds": _duration(duration),
                "avg_cost_usd": _cost(avg_cost),
            }
            for user_id, sessions, cost, tokens, duration, avg_cost in self._rows(
                f"""
                select user_id, {m.SESSIONS}, {m.COST_USD}, {m.TOTAL_TOKENS}, {m.AVG_SESSION_DURATION_SECONDS},
                       {m.AVG_COST_PER_SESSION_USD}
                from {m.ACTIVITY_MART} where {where.sql}
                group by user_id
                having {m.SESSIONS} > 0 or sum(model_requests) > 0
                """,
                where.params,
            )
        }
        # The period as its index in `periods` (a whole number is cheaper to group and fetch than a date).
        step = 1 if interval == "day" else 7
        trends: dict[str | None, list[int]] = {}
        if periods:
            for user_id, index, sessions in self._rows(
                f"select user_id, datediff('day', cast(? as date), activity_date) // {step}, {m.SESSIONS} "
                f"from {m.ACTIVITY_MART} where {where.sql} group by 1, 2",
                [periods[0], *where.params],
            ):
                trends.setdefault(user_id, [0] * len(periods))[int(index)] = int(sessions)
        top: dict[str | None, tuple[int, str]] = {}
        for user_id, agent, sessions in self._rows(
            f"select user_id, agent, {m.SESSIONS} from {m.ACTIVITY_MART} where {where.sql} and agent is not null "
            f"group by 1, 2 having {m.SESSIONS} > 0",
            where.params,
        ):
            best = top.get(user_id)
            if best is None or (-int(sessions), agent) < (-best[0], best[1]):
                top[user_id] = (int(sessions), agent)
        ordered = sorted(
            people.values(),
            key=lambda p: (-p["sessions"], -(p["total_cost_usd"] or 0), p["user_id"] is None, p["user_id"] or ""),
        )
        return {
            "interval": interval,
            "periods": [start.isoformat() for start in periods],
            "people": [
                {
                    **person,
                    "trend": trends.get(person["user_id"], [0] * len(periods)),
                    "top_agent": top[person["user_id"]][1] if person["user_id"] in top else None,
                }
                for person in ordered
            ],
        }
