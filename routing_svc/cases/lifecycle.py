"""The case state machine: which action may move a case from which status to which, and the one function that does it.

The transitions are ARCHITECTURE.md's "Complaint lifecycle" plus the ones the hub needs to keep a case moving:

| action      | from                          | to            | who                                      |
|-------------|-------------------------------|---------------|------------------------------------------|
| dispose     | submitted                     | dispositioned | reporter's choice, rule, coordinator     |
| override    | dispositioned, in_progress    | dispositioned | coordinator                              |
| postpone    | submitted                     | postponed     | coordinator                              |
| reject      | submitted                     | rejected      | coordinator                              |
| acknowledge | dispositioned                 | in_progress   | agency.acknowledged                      |
| progress    | dispositioned                 | in_progress   | followup.posted (progress)               |
| answer      | dispositioned, in_progress    | answered      | followup.posted (final)                  |
| forward     | dispositioned, in_progress    | dispositioned | agency.forward_requested                 |
| delegate    | dispositioned, in_progress    | dispositioned | agency.delegated                         |
| triage      | dispositioned, in_progress    | submitted     | a forward with no usable target          |
| resubmit    | postponed                     | submitted     | reporter.replied                         |
| dispute     | answered                      | in_progress   | reporter.replied (disputes_answer)       |
| complete    | answered                      | completed     | reporter.rated or accepts; 10 wd silence |
| withdraw    | any non-terminal (*)          | rejected      | reporter.withdrew (reason_code withdrawn);|
|             |                               |               | 10 wd of silence when postponed (sla)    |
| archive     | completed                     | archived      | retention runs out (sla)                 |

(*) submitted, postponed, dispositioned, in_progress, answered.

"(sla)" is the due-clock sweep (routing_svc/sla/sweep.py), acting as `hub:sla`.

`apply_transition` is the only writer of a case's status. It checks legality (IllegalTransition otherwise), bumps
`case_version`, appends the history line and the audit entry, and writes the events into the caller's transaction
through the outbox: ComplaintStatusChanged always, and ComplaintDispositioned for a disposing action. It never commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.cases.context import CaseContext
from routing_svc.models import ATTACHMENTS, KIT, Assignment, Case, CaseHistory
from shared import audit
from shared.domain import ANONYMOUS_NAME, Channel, Classification, RejectReason, RouteKind, Status
from shared.events.contracts import (
    CaseSnapshot,
    ComplaintDispositioned,
    ComplaintStatusChanged,
    EventData,
)
from shared.files.retention import remove_case_files
from shared.identity import NameSeal
from shared.logging import get_logger

log = get_logger(__name__)


class Action(StrEnum):
    submit = "submit"
    """Not a transition: the history line of a case's creation."""
    note = "note"
    """Not a transition: a history line that records a decision that moved nothing (e.g. kept in triage)."""
    dispose = "dispose"
    override = "override"
    postpone = "postpone"
    reject = "reject"
    acknowledge = "acknowledge"
    progress = "progress"
    answer = "answer"
    forward = "forward"
    delegate = "delegate"
    triage = "triage"
    resubmit = "resubmit"
    dispute = "dispute"
    complete = "complete"
    withdraw = "withdraw"
    archive = "archive"


S = Status
NON_TERMINAL = frozenset({S.submitted, S.postponed, S.dispositioned, S.in_progress, S.answered})
HELD = frozenset({S.dispositioned, S.in_progress})

TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.dispose: (frozenset({S.submitted}), S.dispositioned),
    Action.override: (HELD, S.dispositioned),
    Action.postpone: (frozenset({S.submitted}), S.postponed),
    Action.reject: (frozenset({S.submitted}), S.rejected),
    Action.acknowledge: (frozenset({S.dispositioned}), S.in_progress),
    Action.progress: (frozenset({S.dispositioned}), S.in_progress),
    Action.answer: (HELD, S.answered),
    Action.forward: (HELD, S.dispositioned),
    Action.delegate: (HELD, S.dispositioned),
    Action.triage: (HELD, S.submitted),
    Action.resubmit: (frozenset({S.postponed}), S.submitted),
    Action.dispute: (frozenset({S.answered}), S.in_progress),
    Action.complete: (frozenset({S.answered}), S.completed),
    Action.withdraw: (NON_TERMINAL, S.rejected),
    Action.archive: (frozenset({S.completed}), S.archived),
}
"""action -> (the statuses it may start from, the status it leads to)."""

DISPOSING = frozenset({Action.dispose, Action.override, Action.forward, Action.delegate})


class IllegalTransition(Exception):
    """The case's status does not allow the action. The API answers 409; consumers log and ignore."""

    def __init__(self, action: Action, from_status: Status, to_status: Status | None):
        self.action = action
        self.from_status = from_status
        self.to_status = to_status
        target = to_status.value if to_status else "?"
        super().__init__(f"cannot {action.value} a case: {from_status.value} -> {target} is not allowed")


def target_status(action: Action, from_status: Status) -> Status:
    """The status `action` leads to from `from_status`; IllegalTransition when it may not start there."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise IllegalTransition(action, from_status, None)
    sources, to = rule
    if from_status not in sources:
        raise IllegalTransition(action, from_status, to)
    return to


def is_legal(action: Action, from_status: Status) -> bool:
    rule = TRANSITIONS.get(action)
    return rule is not None and from_status in rule[0]


def snapshot(case: Case, names: NameSeal) -> CaseSnapshot:
    """What an agency may see of the case: never contact details, the name only when not anonymous."""
    return CaseSnapshot(
        title=case.title,
        content=case.content,
        classification=Classification(case.classification),
        category=case.category,
        region_code=case.region_code,
        channel=Channel(case.channel),
        incident_date=case.incident_date,
        is_anonymous=case.is_anonymous,
        is_confidential=case.is_confidential,
        reporter_name_sealed=None if case.is_anonymous else names.to_event(case.reporter_name_sealed),
        submitted_at=case.submitted_at,
    )


def display_name(case: Case, names: NameSeal) -> str | None:
    return ANONYMOUS_NAME if case.is_anonymous else names.read(case.reporter_name_sealed)


@dataclass(frozen=True)
class Transition:
    """The effect of one applied transition, for logging and tests."""

    action: Action
    from_status: Status
    to_status: Status
    case_version: int
    events: tuple[EventData, ...]


_DEFAULT_DISPOSITION_REASON = {
    RouteKind.reporter_choice: "reporter's choice",
    RouteKind.rule: "routing rule",
    RouteKind.coordinator: "coordinator decision",
    RouteKind.forward: "forwarded",
    RouteKind.delegation: "delegated",
}


@dataclass(frozen=True)
class Move:
    """What a caller asks of a case: the action and who takes it; for a disposing action, the target node
    (`agency_code`) and how it was chosen (`route_kind`, `rule_id`); and why."""

    action: Action
    actor: str
    agency_code: str | None = None
    route_kind: RouteKind | None = None
    rule_id: str | None = None
    reason: str | None = None
    reason_code: str | None = None


async def apply_transition(
    session: AsyncSession,
    ctx: CaseContext,
    case: Case,
    move: Move,
    *,
    now: datetime,
    causation_id: uuid.UUID | None = None,
) -> Transition:
    """Move `case` as `move` asks (or raise IllegalTransition), move its clocks, record why, write its events.

    Never commits.
    """
    from_status = Status(case.status)
    to_status = target_status(move.action, from_status)
    previous_agency = case.agency_code
    reason_code = _reason_code(move.action, move.reason_code)  # before the case changes: it may refuse the code
    _move_holder(case, move.action, to_status, move.agency_code, move.route_kind)
    step = _Step(
        action=move.action,
        from_status=from_status,
        to_status=to_status,
        actor=move.actor,
        now=now,
        case_version=_advance(case, to_status, now),
        agency_code=move.agency_code,
        route_kind=move.route_kind,
        rule_id=move.rule_id,
        reason=_reason(move.reason, move.agency_code, move.route_kind),
        reason_code=reason_code,
    )
    events = [*_dispositioned(ctx, case, step, previous_agency), _status_changed(case, step)]
    await _reassign(session, case, step)
    await _record(session, case, step)
    if to_status is Status.archived:
        await remove_case_files(session, ATTACHMENTS, case.tracking_id, now)
    events += await ctx.sla.on_transition(session, case, move.action.value, to_status, now)
    await ctx.outbox.add(session, *events, causation_id=causation_id)
    log.info(
        "case_transition",
        action=move.action.value,
        from_status=from_status.value,
        to_status=to_status.value,
        agency_code=case.agency_code,
        case_version=step.case_version,
    )
    return Transition(move.action, from_status, to_status, step.case_version, tuple(events))


@dataclass(frozen=True)
class _Step:
    """One transition as its events, its history line and its audit entry record it."""

    action: Action
    from_status: Status
    to_status: Status
    actor: str
    now: datetime
    case_version: int
    agency_code: str | None
    """The target node of a disposing action."""
    route_kind: RouteKind | None
    rule_id: str | None
    reason: str | None
    reason_code: str | None


def _move_holder(
    case: Case, action: Action, to_status: Status, agency_code: str | None, route_kind: RouteKind | None
) -> None:
    """Hand the case to the target node of a disposing action, or take it from its node on triage."""
    if action in DISPOSING:
        if not agency_code or route_kind is None:
            raise ValueError(f"{action.value} needs a target agency_code and a route_kind")
        case.agency_code = agency_code
    elif to_status is S.dispositioned:
        raise ValueError(f"{action.value} cannot dispose")
    elif action is Action.triage:
        case.agency_code = None


def _reason_code(action: Action, reason_code: str | None) -> str | None:
    if action is Action.withdraw:
        return RejectReason.withdrawn.value
    if action is Action.reject:
        return RejectReason(reason_code or RejectReason.not_relevant).value
    return reason_code


def _advance(case: Case, to_status: Status, now: datetime) -> int:
    """Set the new status and bump the case's version; the new version."""
    case.status = to_status.value
    case.case_version += 1
    case.updated_at = now
    return case.case_version


def _reason(reason: str | None, agency_code: str | None, route_kind: RouteKind | None) -> str | None:
    if agency_code and route_kind is not None:
        return reason or _DEFAULT_DISPOSITION_REASON[route_kind]
    return reason


def _dispositioned(ctx: CaseContext, case: Case, step: _Step, previous_agency: str | None) -> list[EventData]:
    """ComplaintDispositioned for a disposing action (none otherwise); verifies the case on its first disposal."""
    if not step.agency_code or step.route_kind is None:  # not a disposing action (checked by _move_holder)
        return []
    if case.verified_at is None:
        case.verified_at = step.now
    return [
        ComplaintDispositioned(
            tracking_id=case.tracking_id,
            agency_code=step.agency_code,
            previous_agency_code=previous_agency,
            route_kind=step.route_kind,
            rule_id=step.rule_id,
            reason=step.reason,
            actor=step.actor,
            case_version=step.case_version,
            case=snapshot(case, ctx.names),
        )
    ]


def _status_changed(case: Case, step: _Step) -> ComplaintStatusChanged:
    return ComplaintStatusChanged(
        tracking_id=case.tracking_id,
        status=step.to_status,
        previous_status=step.from_status,
        agency_code=case.agency_code,
        actor=step.actor,
        reason_code=step.reason_code,
        reason=step.reason,
        case_version=step.case_version,
        changed_at=step.now,
    )


async def _reassign(session: AsyncSession, case: Case, step: _Step) -> None:
    """Close the node's stay when the case leaves it; open the target node's on a disposal."""
    if step.from_status in HELD and (step.to_status is not S.in_progress and step.to_status is not S.answered):
        # The case leaves its node (re-disposition, triage, withdrawal).
        await session.execute(
            update(Assignment)
            .where(Assignment.tracking_id == case.tracking_id, Assignment.ended_at.is_(None))
            .values(ended_at=step.now)
        )
    if step.action in DISPOSING and step.agency_code and step.route_kind is not None:
        session.add(
            Assignment(
                tracking_id=case.tracking_id,
                agency_code=step.agency_code,
                route_kind=step.route_kind.value,
                dispositioned_at=step.now,
            )
        )


async def _record(session: AsyncSession, case: Case, step: _Step) -> None:
    """The transition's history line and audit entry."""
    route_kind = step.route_kind.value if step.route_kind else None
    session.add(
        CaseHistory(
            tracking_id=case.tracking_id,
            at=step.now,
            action=step.action.value,
            from_status=step.from_status.value,
            to_status=step.to_status.value,
            actor=step.actor,
            agency_code=case.agency_code,
            route_kind=route_kind,
            rule_id=step.rule_id,
            reason_code=step.reason_code,
            reason=step.reason,
            case_version=step.case_version,
        )
    )
    await audit.record(
        session,
        KIT,
        audit.Entry(
            actor=step.actor,
            action=f"case.{step.action.value}",
            target_type=audit.Target.case,
            target_id=case.tracking_id,
            at=step.now,
            reason=step.reason,
            details=_present(
                from_status=step.from_status.value,
                to_status=step.to_status.value,
                agency_code=case.agency_code,
                route_kind=route_kind,
                rule_id=step.rule_id,
                reason_code=step.reason_code,
                case_version=step.case_version,
            ),
        ),
    )


async def add_note(
    session: AsyncSession, case: Case, *, actor: str, now: datetime, reason: str, reason_code: str | None = None
) -> None:
    """A history line and an audit entry for a decision that changed no status (the case stays where it is, and why)."""
    session.add(
        CaseHistory(
            tracking_id=case.tracking_id,
            at=now,
            action=Action.note.value,
            from_status=case.status,
            to_status=case.status,
            actor=actor,
            agency_code=case.agency_code,
            reason_code=reason_code,
            reason=reason,
            case_version=case.case_version,
        )
    )
    await audit.record(
        session,
        KIT,
        audit.Entry(
            actor=actor,
            action=f"case.{Action.note.value}",
            target_type=audit.Target.case,
            target_id=case.tracking_id,
            at=now,
            reason=reason,
            details=_present(status=case.status, agency_code=case.agency_code, reason_code=reason_code),
        ),
    )


def _present(**values: object) -> dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}
