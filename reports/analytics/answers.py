"""The shapes of the four analytics answers that `reports.analytics.query.AnalyticsQueries` returns.

They document the API's responses (OpenAPI schemas) and fix the columns of the CSV form; the answers
themselves stay plain dicts built by the query code, and the API's schema test holds the two together.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from reports.analytics import metrics as m
from reports.analytics.vocabulary import ModelFamily, Vendor

Interval = Literal["day", "week"]
TimeseriesMetric = Literal["sessions", "cost", "tokens"]
assert set(Interval.__args__) == set(m.INTERVALS) and set(TimeseriesMetric.__args__) == set(m.TIMESERIES_METRICS)


class Summary(BaseModel):
    total_sessions: int
    total_cost_usd: float
    total_tokens: int = Field(description="input_tokens + output_tokens")
    input_tokens: int = Field(description="input + cache writes + cache reads")
    output_tokens: int
    avg_session_duration_seconds: float | None = Field(description="null when there is no session")
    avg_cost_per_session_usd: float | None = Field(description="cost / sessions; null when there is no session")
    unique_users: int


class TimeseriesPoint(BaseModel):
    period_start: str = Field(description="first local date of the day or ISO week (a Monday)", examples=["2026-11-16"])
    value: float = Field(description="sessions and tokens are integers, cost is USD")


class Timeseries(BaseModel):
    interval: Interval
    metric: TimeseriesMetric
    points: list[TimeseriesPoint] = Field(description="every period of the range, zeros included")


class AgentFigures(BaseModel):
    agent: str | None = Field(description="null: sessions whose start has not arrived yet")
    sessions: int
    total_cost_usd: float
    total_tokens: int
    avg_cost_usd: float | None
    avg_duration_seconds: float | None
    unpriced_requests: int = Field(
        description="the agent's model requests with no price for their model and date (not in its cost)"
    )


class ByAgent(BaseModel):
    agents: list[AgentFigures]


class ModelFamilyCost(BaseModel):
    model_family: ModelFamily
    cost_usd: float


class VendorCost(BaseModel):
    vendor: Vendor
    cost_usd: float


class ProjectCost(BaseModel):
    project_id: str | None
    name: str | None
    cost_usd: float


class UserCost(BaseModel):
    user_id: str | None
    name: str | None
    cost_usd: float


class UnpricedModel(BaseModel):
    model: str = Field(description="a model id without a price for the date of its requests")
    requests: int


class CostBreakdown(BaseModel):
    by_model: list[ModelFamilyCost]
    by_vendor: list[VendorCost]
    by_project: list[ProjectCost]
    by_user: list[UserCost]
    unpriced_requests: int = Field(description="model requests with no price for their model and date")
    unpriced_models: list[UnpricedModel] = Field(description="the model ids of those requests, most requests first")


# The CLI's and the API's name of each question -> the shape of its answer.
ANSWER_SHAPES: dict[str, type[BaseModel]] = {
    "summary": Summary,
    "timeseries": Timeseries,
    "by-agent": ByAgent,
    "cost-breakdown": CostBreakdown,
}
