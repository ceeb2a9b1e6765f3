"""Building the hub's case views from rows."""

from __future__ import annotations

from datetime import datetime

from routing_svc.cases.schemas import CaseSummary, CaseView, HistoryEntry
from routing_svc.models import Case, CaseHistory, SlaClock
from routing_svc.sla.engine import views as clock_views
from shared.domain import STATUS_LABELS, Channel, Classification, RouteKind, Status


def summary(case: Case) -> CaseSummary:
    status = Status(case.status)
    return CaseSummary(
        tracking_id=case.tracking_id,
        status=status,
        status_label=STATUS_LABELS[status],
        classification=Classification(case.classification),
        category=case.category,
        region_code=case.region_code,
        title=case.title,
        channel=Channel(case.channel),
        is_confidential=case.is_confidential,
        agency_code=case.agency_code,
        submitted_at=case.submitted_at,
        updated_at=case.updated_at,
        case_version=case.case_version,
        forward_count=case.forward_count,
        escalation_level=case.escalation_level,
        flags=list(case.flags or []),
    )


def history_entry(h: CaseHistory) -> HistoryEntry:
    return HistoryEntry(
        at=h.at,
        action=h.action,
        from_status=Status(h.from_status) if h.from_status else None,
        to_status=Status(h.to_status),
        actor=h.actor,
        agency_code=h.agency_code,
        route_kind=RouteKind(h.route_kind) if h.route_kind else None,
        rule_id=h.rule_id,
        reason_code=h.reason_code,
        reason=h.reason,
        case_version=h.case_version,
    )


def full_view(
    case: Case,
    history: list[CaseHistory],
    clocks: list[SlaClock],
    now: datetime,
    expected_answer_by: datetime | None,
    reporter_name: str | None,
) -> CaseView:
    return CaseView(
        **summary(case).model_dump(),
        content=case.content,
        incident_date=case.incident_date,
        is_anonymous=case.is_anonymous,
        reporter_name=reporter_name,
        rating=case.rating,
        berkadar_pengawasan=case.berkadar_pengawasan,
        accused_agency_code=case.accused_agency_code,
        clocks=clock_views(clocks, now),
        expected_answer_by=expected_answer_by,
        history=[history_entry(h) for h in history],
    )
