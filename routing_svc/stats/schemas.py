"""Statistics shapes. The figures are defined in routing_svc/stats/definitions.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from routing_svc.stats.periods import Granularity
from shared.domain import Channel, NodeCode
from shared.http.inputs import IsoDate

From = Annotated[IsoDate | None, Query(alias="from", description="First day of the period (hub timezone), included.")]
To = Annotated[IsoDate | None, Query(alias="to", description="Last day of the period (hub timezone), included.")]


@dataclass(frozen=True)
class AgencyStatsQuery:
    """What the statistics per node count, as query parameters: the period `from`..`to` and whose nodes."""

    first_day: From = None
    last_day: To = None
    parent_code: Annotated[NodeCode | None, Query(description="Only this node's children.")] = None


@dataclass(frozen=True)
class PeriodStatsQuery:
    """What the statistics per period count, as query parameters: the bucket size, whose subtree, the period."""

    granularity: Annotated[Granularity, Query(description="The size of a bucket.")] = Granularity.month
    agency_code: Annotated[NodeCode | None, Query(description="The node whose subtree is counted.")] = None
    first_day: From = None
    last_day: To = None


@dataclass(frozen=True)
class ChannelStatsQuery:
    """What the statistics per channel count, as query parameters: the period and, optionally, whose subtree."""

    first_day: From = None
    last_day: To = None
    agency_code: Annotated[
        NodeCode | None, Query(description="The node whose subtree is counted; the whole hub without it.")
    ] = None


class Figures(BaseModel):
    received: int = Field(description="Cases that entered the subtree in the period (each case once).")
    followed_up: int = Field(description="Of those, cases in which a subtree node posted a follow-up.")
    completed: int = Field(description="Of those, cases now completed or archived, held by a subtree node.")
    overdue: int = Field(
        description="Of those, cases with a running node clock of a subtree node past its deadline now."
    )
    median_first_response_working_days: float | None = Field(
        description="Median working days (node's timezone) from a disposition to the node's first response; 3 decimals."
    )
    median_first_response_hours: float | None = Field(description="The same median in clock hours; 2 decimals.")
    sla_met: int = Field(description="Node clocks (first response, resolution) stopped in time.")
    sla_breached: int = Field(description="Node clocks stopped late, breached, or running past their deadline now.")
    sla_compliance: float | None = Field(
        description="sla_met / (sla_met + sla_breached), 0..1 with 4 decimals; null when no clock is decided."
    )
    rated: int = Field(description="Cases rated by the reporter while held by a subtree node.")
    mean_rating: float | None = Field(description="Mean rating (1..5) of those, 2 decimals; null when none.")


class NodeColumns(BaseModel):
    agency_code: str
    name: str
    kind: str
    parent_code: str | None
    depth: int


class AgencyStats(Figures, NodeColumns):
    """One node's figures, its whole subtree included."""


class AgencyStatsList(BaseModel):
    items: list[AgencyStats] = Field(description="One row per node, in tree order.")
    next_offset: int | None
    period_from: date | None = Field(description="First day of the period (hub timezone), included.")
    period_to: date | None = Field(description="Last day of the period (hub timezone), included.")
    timezone: str = Field(description="The hub timezone the period's days are in.")
    as_of: datetime = Field(description="The time `overdue` and running clocks were judged at.")


class PeriodColumns(BaseModel):
    period: str = Field(description="2026-03-02 (day), 2026-W10 (ISO week), 2026-03, 2026-Q1, 2026.")
    period_start: date = Field(description="The bucket's first day (hub timezone).")
    period_end: date = Field(description="The bucket's last day (hub timezone), included.")


class PeriodStats(Figures, PeriodColumns):
    """One bucket's figures."""


class PeriodStatsList(BaseModel):
    agency_code: str | None = Field(description="The node whose subtree is counted; null for the whole hub.")
    granularity: Granularity
    period_from: date = Field(description="First day of the first bucket.")
    period_to: date = Field(description="Last day of the last bucket.")
    timezone: str = Field(description="The hub timezone the buckets are in.")
    as_of: datetime = Field(description="The time `overdue` and running clocks were judged at.")
    items: list[PeriodStats] = Field(description="One row per bucket, oldest first, empty buckets included.")


class ChannelColumns(BaseModel):
    channel: Channel = Field(description="The door the cases came in by (web, sms, email, ...).")


class ChannelStats(Figures, ChannelColumns):
    """One channel's figures: the cases that came by it."""


class ChannelStatsList(BaseModel):
    agency_code: str | None = Field(description="The node whose subtree is counted; null for the whole hub.")
    items: list[ChannelStats] = Field(description="One row per channel, every channel listed (zeros when none came).")
    period_from: date | None = Field(description="First day of the period (hub timezone), included.")
    period_to: date | None = Field(description="Last day of the period (hub timezone), included.")
    timezone: str = Field(description="The hub timezone the period's days are in.")
    as_of: datetime = Field(description="The time `overdue` and running clocks were judged at.")
