"""The sample's budgets (directory budgets.csv): one acme team over its monthly budget, one projected over, one
fine, set from what the sample's platform events cost (list prices) so that the statuses hold whatever the end date.

The forecast the warehouse makes (mart_budget_status) is the spend so far plus each remaining day at its weekday's
average over the trailing four weeks; the projected-over budget lies halfway between that team's spend so far and
its forecast (of the month, or of the ISO week when the month has less than a week left), so that transcripts and
telemetry adding some cost on top do not move it out of the band. Teams are picked by name, the projected one among
those with the fewest Claude Code transcript users (their cost is not in the platform events).
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from pathlib import Path

from orchestration.sample.orgs import MAIN_ORG
from orchestration.sample.people import LEADERSHIP_TEAM, Person

TRAILING_DAYS = 28
FINE_FACTOR = 20  # the fine team's budget: twenty times its forecast


def budget_teams(people: list[Person]) -> list[str]:
    """acme's teams (not the leadership), by name."""
    return sorted({p.team for p in people if p.org.org_id == MAIN_ORG.org_id and p.team and p.team != LEADERSHIP_TEAM})


def write_budgets(
    directory_dir: Path,
    people: list[Person],
    spend: dict[tuple[str, datetime.date], float],
    end_date: datetime.date,
    transcript_emails: Iterable[str] = (),
) -> None:
    teams = budget_teams(people)
    rows = []
    if len(teams) >= 3:
        with_transcripts = set(transcript_emails)
        members = {team: [p.user_id for p in people if p.team == team] for team in teams}
        users_with_transcripts = {
            team: sum(p.email in with_transcripts for p in people if p.team == team) for team in teams
        }
        projected = min(teams, key=lambda team: (users_with_transcripts[team], team))
        over, fine = [team for team in teams if team != projected][:2]
        daily = {team: _daily(members[team], spend) for team in teams}
        period = "month"
        if (_period_end(end_date, "month") - end_date).days < 7:
            period = "week"
        spent, forecast = _figures(daily[projected], end_date, period)
        rows = [
            ("acme", "team", over, "month", _usd(max(1.0, _figures(daily[over], end_date, "month")[0] / 2)), ""),
            ("acme", "team", projected, period, _usd(max(1.0, (spent + forecast) / 2)), ""),
            (
                "acme",
                "team",
                fine,
                "month",
                _usd(max(1000.0, FINE_FACTOR * _figures(daily[fine], end_date, "month")[1])),
                "",
            ),
        ]
    with open(directory_dir / "budgets.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("org_id", "scope", "scope_id", "period", "amount_usd", "warn_at"))
        writer.writerows(rows)


def _daily(user_ids: list[str], spend: dict[tuple[str, datetime.date], float]) -> dict[datetime.date, float]:
    wanted = set(user_ids)
    days: dict[datetime.date, float] = {}
    for (user_id, day), cost in spend.items():
        if user_id in wanted:
            days[day] = days.get(day, 0.0) + cost
    return days


def _period_start(day: datetime.date, period: str) -> datetime.date:
    return day.replace(day=1) if period == "month" else day - datetime.timedelta(days=day.weekday())


def _period_end(day: datetime.date, period: str) -> datetime.date:
    if period == "week":
        return _period_start(day, "week") + datetime.timedelta(days=6)
    following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def _figures(daily: dict[datetime.date, float], end_date: datetime.date, period: str) -> tuple[float, float]:
    """Spend so far and the forecast, as the warehouse computes them (from these costs)."""
    start = _period_start(end_date, period)
    spent = sum(cost for day, cost in daily.items() if start <= day <= end_date)
    first_day = min(daily, default=end_date)
    rates = {}
    for weekday in range(7):
        days = [
            end_date - datetime.timedelta(days=back)
            for back in range(TRAILING_DAYS)
            if (end_date - datetime.timedelta(days=back)).weekday() == weekday
            and end_date - datetime.timedelta(days=back) >= first_day
        ]
        rates[weekday] = sum(daily.get(day, 0.0) for day in days) / len(days) if days else 0.0
    ahead = (_period_end(end_date, period) - end_date).days
    rest = sum(rates[(end_date + datetime.timedelta(days=k)).weekday()] for k in range(1, ahead + 1))
    return spent, spent + rest


def _usd(value: float) -> str:
    return f"{value:.2f}"
