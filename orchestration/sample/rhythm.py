"""When people work: presence per weekday, sessions per day, start hours, and activity by role."""

from __future__ import annotations

import datetime
import random

from orchestration.sample.draws import poisson

PRESENCE_BY_WEEKDAY = (0.88, 0.9, 0.9, 0.88, 0.75, 0.10, 0.06)  # Monday..Sunday
SESSIONS_PER_ACTIVE_WEEKDAY = 4.5  # platform sessions
CC_SESSIONS_PER_ACTIVE_WORKDAY = 2.0  # Claude Code sessions (times the generator's claude_code_scale)
WEEKEND_SECOND_SESSION_SHARE = 0.3
ROLE_ACTIVITY = {"admin": 0.3, "director": 0.45, "manager": 0.65, "member": 1.0}
ACTIVITY_SIGMA = 0.45  # per-user lognormal activity level: some power users, some light users
VACATION_SHARE, VACATION_WEEKDAYS = 0.35, (3, 10)
# Local start hour mixture on workdays: (weight, kind, a, b): normal(mean a, sd b) or uniform(a, b).
WORKDAY_START_HOURS = (
    (0.44, "normal", 10.2, 1.1),  # morning
    (0.03, "uniform", 12.0, 13.0),  # lunch dip
    (0.45, "normal", 15.2, 1.5),  # afternoon
    (0.08, "uniform", 18.0, 23.75),  # late evening, some cross local midnight
)
WORKDAY_HOURS_CLAMP = (7.0, 23.75)
WEEKEND_START_HOURS = (9.5, 23.5)


def on_vacation(vacation: tuple[datetime.date, datetime.date] | None, day: datetime.date) -> bool:
    return vacation is not None and vacation[0] <= day <= vacation[1]


def sessions_started(rng: random.Random, weekday: int, activity: float, per_workday: float, scale: float = 1.0) -> int:
    """How many sessions someone not on vacation starts on a day: none when absent (presence falls with the
    weekday and rises with activity), a Poisson count of at least one on a workday, one or two at the weekend."""
    if rng.random() >= min(0.97, PRESENCE_BY_WEEKDAY[weekday] * (0.6 + 0.4 * min(activity, 2.0))):
        return 0
    if weekday < 5:
        return max(1, poisson(rng, per_workday * activity * scale))
    return 2 if rng.random() < WEEKEND_SECOND_SESSION_SHARE else 1


def start_hour(rng: random.Random, workday: bool) -> float:
    if not workday:
        return rng.uniform(*WEEKEND_START_HOURS)
    weight = rng.random()
    for share, kind, a, b in WORKDAY_START_HOURS:  # noqa: B007 - the chosen row is used after the loop
        weight -= share
        if weight < 0:
            break
    hour = rng.gauss(a, b) if kind == "normal" else rng.uniform(a, b)
    return min(max(hour, WORKDAY_HOURS_CLAMP[0]), WORKDAY_HOURS_CLAMP[1])
