"""Statistics shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AgencyStats(BaseModel):
    agency_code: str
    name: str
    received: int = Field(description="Cases dispositioned to this node (each case once).")
    followed_up: int = Field(description="Of those, cases in which the node posted a follow-up while holding them.")
    completed: int = Field(description="Cases this node holds that are completed.")
    overdue: int = Field(description="Always 0 until the SLA clocks arrive.")
    median_first_response_hours: float | None = Field(
        description="Median hours from a disposition to the node's first acknowledgement or follow-up."
    )
    sla_compliance: float | None = Field(description="Always null until the SLA clocks arrive.")
    mean_rating: float | None = Field(description="Mean reporter rating (1..5) of the node's completed cases.")


class AgencyStatsList(BaseModel):
    items: list[AgencyStats]
    next_offset: int | None
