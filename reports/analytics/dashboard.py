"""The figures the dashboard needs beyond the four answers: cost by repository, and per person a sessions trend and
the agent they use most. Same marts, same metric SQL (`reports.analytics.metrics`), same filters and scope as every
other answer (`AnalyticsQueries._where`), so a person's row adds up to what the API answers with `user=` them.
"""

from __future__ import annotations

from reports.analytics import metrics as m
from reports.analytics.query import AnalyticsQueries, Filters, Scope, _as_date, _periods


class DashboardQueries(AnalyticsQueries):
    def by_repository(self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope()) -> dict:
        """Repositories by sessions (most used first), with cost and tokens; null = sessions without one."""
        rows = self._grouped(org_id, filters, scope, key="facts.repository", label="null", join="")
        return {"repositories": [{"repository": key, **figures} for key, _, figures in rows]}

    def people_activity(
        self, org_id: str, filters: Filters = Filters(), scope: Scope = Scope(), interval: str = "week"
    ) -> dict:
        """Per user id (null = sessions whose start has not arrived): sessions in every period of the range (the
        trend, zeros included) and the agent with the most sessions (ties: the first agent by name)."""
        date_from, date_to = self.date_range(org_id, filters)
        periods = _periods(date_from, date_to, interval)
        where = self._where(org_id, filters, scope)
        period = "activity_date" if interval == "day" else "date_trunc('week', activity_date)"
        sessions: dict[str | None, dict] = {}
        for user_id, period_start, count in self._rows(
            f"select user_id, cast({period} as date), {m.SESSIONS} from {m.ACTIVITY_MART} where {where.sql} "
            "group by 1, 2",
            where.params,
        ):
            sessions.setdefault(user_id, {})[_as_date(period_start)] = int(count)
        top: dict[str | None, tuple[int, str]] = {}
        for user_id, agent, count in self._rows(
            f"select user_id, agent, {m.SESSIONS} from {m.ACTIVITY_MART} where {where.sql} and agent is not null "
            f"group by 1, 2 having {m.SESSIONS} > 0",
            where.params,
        ):
            best = top.get(user_id)
            if best is None or (-int(count), agent) < (-best[0], best[1]):
                top[user_id] = (int(count), agent)
        return {
            "interval": interval,
            "periods": [start.isoformat() for start in periods],
            "people": {
                user_id: {
                    "trend": [by_period.get(start, 0) for start in periods],
                    "top_agent": top[user_id][1] if user_id in top else None,
                }
                for user_id, by_period in sessions.items()
            },
        }
