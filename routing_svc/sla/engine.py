"""The SLA clocks of a case: started, stopped, paused and resumed as the case moves; fired when due. Never commits.

What each transition does to the clocks (ARCHITECTURE.md "Deadlines", with pauses as issue 3 asks):

| the case goes to | clocks                                                                              |
|------------------|-------------------------------------------------------------------------------------|
| submitted        | verification starts (unless one is open); a resubmission stops the reporter-response |
|                  | clock and resumes the paused clocks; triage stops the node's first-response clock    |
| postponed        | every open clock pauses; a reporter-response clock starts                            |
| dispositioned    | verification and the previous node's first response stop; first response starts for  |
|                  | the node; resolution starts on the first disposition, and follows the case after      |
| in_progress      | first response stops (acknowledged, progress); a dispute stops the reporter-response |
|                  | clock and starts a new resolution clock                                               |
| answered         | first response and resolution stop; a reporter-response clock starts                 |
| completed        | every open clock stops; the retention timer starts                                   |
| rejected/archived| every open clock stops                                                              |

A clock stopped in time is `met`; one stopped late, or that breached while running, is `breached`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.cases import wbs
from routing_svc.directory.repository import get_node
from routing_svc.models import Case, Node, SlaClock
from routing_svc.policies.repository import Budget, effective_budget
from routing_svc.sla.schedule import (
    ACTING_KINDS,
    ScheduleRules,
    TimerKind,
    next_fire,
    next_rung,
    plan,
    rung_at,
    stopped_state,
)
from shared.domain import ESCALATION_LADDER, Classification, ClockKind, ClockState, EscalationTarget, Status
from shared.events.contracts import (
    ClockView,
    ComplaintEscalated,
    EventData,
    SlaClocksChanged,
    SlaWarning,
)

SLA_KINDS = tuple(k.value for k in ClockKind)
CLOSED_STATUSES = frozenset({Status.answered, Status.completed, Status.rejected, Status.archived})


@dataclass(frozen=True)
class SlaEngine:
    rules: ScheduleRules
    hub_timezone: str

    # -- reading ---------------------------------------------------------------------------------------------------

    async def clocks(self, session: AsyncSession, tracking_id: str, *, open_only: bool = False) -> list[SlaClock]:
        stmt = select(SlaClock).where(SlaClock.tracking_id == tracking_id)
        if open_only:
            stmt = stmt.where(SlaClock.stopped_at.is_(None))
        return list((await session.execute(stmt.order_by(SlaClock.id))).scalars())

    async def budget(self, session: AsyncSession, case: Case, kind: ClockKind, node: Node | None) -> Budget:
        return await effective_budget(
            session,
            kind,
            Classification(case.classification),
            case.category,
            node.path_codes if node else [],
            case.berkadar_pengawasan,
        )

    # -- one clock -------------------------------------------------------------------------------------------------

    async def start(
        self, session: AsyncSession, case: Case, kind: ClockKind | TimerKind, now: datetime, node: Node | None
    ) -> SlaClock:
        budget = Budget(0, None) if isinstance(kind, TimerKind) else await self.budget(session, case, kind, node)
        clock = SlaClock(
            tracking_id=case.tracking_id,
            kind=kind.value,
            agency_code=node.code if node else None,
            timezone=node.timezone if node else self.hub_timezone,
            working_days=budget.working_days,
            policy_id=budget.policy_id,
            started_at=now,
            paused_days=0.0,
            state=ClockState.running.value,
            escalation_level=0,
            recompute=False,
        )
        plan(clock, self.rules)
        clock.next_fire_at = next_fire(clock, self.rules)
        session.add(clock)
        return clock

    def stop(self, clock: SlaClock, now: datetime) -> None:
        if clock.stopped_at is not None:
            return
        self.resume(clock, now)
        clock.stopped_at = now
        clock.state = stopped_state(clock, now).value
        clock.next_fire_at = None

    def pause(self, clock: SlaClock, now: datetime) -> None:
        if clock.stopped_at is None and clock.paused_at is None:
            clock.paused_at = now
            clock.next_fire_at = None

    def resume(self, clock: SlaClock, now: datetime) -> None:
        if clock.paused_at is None:
            return
        clock.paused_days += self.rules.calendar.working_time_between(clock.paused_at, now, clock.timezone)
        clock.paused_at = None
        plan(clock, self.rules)
        clock.next_fire_at = next_fire(clock, self.rules)

    async def recompute(self, session: AsyncSession, case: Case, clock: SlaClock) -> None:
        """Plan the clock again under today's policies and calendar. What fired stays fired."""
        if clock.kind != TimerKind.retention:
            node = await get_node(session, clock.agency_code) if clock.agency_code else None
            budget = await self.budget(session, case, ClockKind(clock.kind), node)
            clock.working_days = budget.working_days
            clock.policy_id = budget.policy_id
        plan(clock, self.rules)
        clock.recompute = False
        clock.next_fire_at = next_fire(clock, self.rules)

    # -- a transition ----------------------------------------------------------------------------------------------

    async def on_transition(
        self, session: AsyncSession, case: Case, action: str, to_status: Status, now: datetime
    ) -> list[EventData]:
        """Move the case's clocks for a transition that just happened; returns the sla.clocks_changed event."""
        open_clocks = await self.clocks(session, case.tracking_id, open_only=True)

        def of(*kinds: str) -> list[SlaClock]:
            return [c for c in open_clocks if c.kind in kinds]

        def stop(*kinds: str) -> None:
            for c in of(*kinds):
                self.stop(c, now)

        holder = (
            await get_node(session, case.agency_code)
            if case.agency_code and to_status in (Status.dispositioned, Status.in_progress, Status.answered)
            else None
        )
        R, V, F, P = ClockKind.resolution, ClockKind.verification, ClockKind.first_response, ClockKind.reporter_response
        if to_status is Status.submitted:
            if action == "resubmit":
                stop(P)
                for c in open_clocks:
                    self.resume(c, now)
            stop(F)
            for c in of(R):  # back in triage: the hub answers for the case until a node holds it again
                c.agency_code = None
            if not of(V):
                await self.start(session, case, V, now, None)
        elif to_status is Status.postponed:
            for c in open_clocks:
                self.pause(c, now)
            await self.start(session, case, P, now, None)
        elif to_status is Status.dispositioned:
            stop(V, F)
            await self.start(session, case, F, now, holder)
            resolutions = of(R)
            for c in resolutions:
                c.agency_code = holder.code if holder else None
            if not resolutions:
                await self.start(session, case, R, now, holder)
        elif to_status is Status.in_progress:
            if action == "dispute":
                stop(P)
                if not of(R):
                    await self.start(session, case, R, now, holder)
            else:
                stop(F)
        elif to_status is Status.answered:
            stop(F, R)
            await self.start(session, case, P, now, holder)
        else:
            stop(*SLA_KINDS, TimerKind.retention)
            if to_status is Status.completed:
                await self.start(session, case, TimerKind.retention, now, None)
        return [await self.clocks_changed(session, case, now)]

    # -- firing ----------------------------------------------------------------------------------------------------

    async def fire(self, session: AsyncSession, case: Case, clock: SlaClock, now: datetime) -> list[EventData]:
        """Fire what is due on a running clock (warning, breach, rungs), in order, each once; set its next look.

        A clock whose running out moves the case (see ACTING_KINDS) is left due for the caller to act on.
        """
        events: list[EventData] = []
        if clock.recompute:
            await self.recompute(session, case, clock)
        if clock.stopped_at is not None or clock.paused_at is not None:
            clock.next_fire_at = None
            return events
        clock_id = str(clock.id)
        kind = ClockKind(clock.kind) if clock.kind in SLA_KINDS else None
        if kind is not None and clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= now:
            clock.warned_at = now
            events.append(
                SlaWarning(
                    tracking_id=case.tracking_id,
                    clock_id=clock_id,
                    clock=kind,
                    agency_code=clock.agency_code,
                    started_at=clock.started_at,
                    due_at=clock.due_at,
                    warned_at=now,
                )
            )
        if kind is not None and clock.kind not in ACTING_KINDS:
            if clock.breached_at is None and clock.due_at <= now:
                clock.breached_at = now
                clock.state = ClockState.breached.value
            while (rung := next_rung(clock)) is not None and rung_at(clock, rung[0], self.rules) <= now:
                level = rung[1]
                clock.escalation_level = level
                case.escalation_level = max(case.escalation_level, level)
                events.append(await self._escalated(session, case, clock, kind, level, now))
        clock.next_fire_at = next_fire(clock, self.rules)
        return events

    async def _escalated(
        self, session: AsyncSession, case: Case, clock: SlaClock, kind: ClockKind, level: int, now: datetime
    ) -> ComplaintEscalated:
        target = ESCALATION_LADDER[level - 1]
        told: str | None = None
        if target is EscalationTarget.liaison:
            told = clock.agency_code
        elif target is EscalationTarget.parent and clock.agency_code:
            node = await get_node(session, clock.agency_code)
            told = node.parent_code if node else None
        if told is not None and not await wbs.may_learn(session, case, told):
            # A whistleblowing report's rung that would tell the accused's line goes to the hub's coordinators.
            target, told = EscalationTarget.coordinators, None
        return ComplaintEscalated(
            tracking_id=case.tracking_id,
            clock_id=str(clock.id),
            clock=kind,
            level=level,
            target=target,
            agency_code=clock.agency_code,
            target_agency_code=told,
            due_at=clock.due_at,
            escalated_at=now,
        )

    # -- what the others see ---------------------------------------------------------------------------------------

    async def clocks_changed(
        self, session: AsyncSession, case: Case, now: datetime, clocks: list[SlaClock] | None = None
    ) -> SlaClocksChanged:
        """Bump the case's clocks_version and describe its clocks as they are now; `clocks`, if the caller holds
        every one of the case's clocks (in the order they were started), spares reading them again."""
        case.clocks_version += 1
        if clocks is None:
            clocks = await self.clocks(session, case.tracking_id)
        return SlaClocksChanged(
            tracking_id=case.tracking_id,
            agency_code=case.agency_code,
            clocks=views(clocks, now),
            escalation_level=case.escalation_level,
            clocks_version=case.clocks_version,
            expected_answer_by=await self.expected_answer_by(session, case, clocks),
            changed_at=now,
        )

    async def expected_answer_by(self, session: AsyncSession, case: Case, clocks: list[SlaClock]) -> datetime | None:
        """When the reporter should have an answer: the running resolution clock's deadline; before a disposition,
        the verification deadline plus the resolution budget; unknown while postponed, and none once answered."""
        if Status(case.status) in CLOSED_STATUSES or case.status == Status.postponed:
            return None
        running = [c for c in clocks if c.stopped_at is None and c.paused_at is None]
        for c in running:
            if c.kind == ClockKind.resolution:
                return c.due_at
        for c in running:
            if c.kind == ClockKind.verification:
                budget = await self.budget(session, case, ClockKind.resolution, None)
                return self.rules.calendar.add_working_days(c.due_at, budget.working_days, self.hub_timezone)
        return None


def live_state(clock: SlaClock, now: datetime) -> ClockState:
    """A running clock past its deadline is breached, even before the sweep has fired the breach."""
    if clock.stopped_at is None and clock.paused_at is None and clock.due_at < now:
        return ClockState.breached
    return ClockState(clock.state)


def views(clocks: list[SlaClock], now: datetime) -> list[ClockView]:
    """The SLA clocks (not the retention timer) as the API and the events show them."""
    return [
        ClockView(
            name=ClockKind(c.kind),
            agency_code=c.agency_code,
            working_days=c.working_days,
            started_at=c.started_at,
            due_at=c.due_at,
            paused=c.paused_at is not None,
            state=live_state(c, now),
            stopped_at=c.stopped_at,
            escalation_level=c.escalation_level,
        )
        for c in clocks
        if c.kind in SLA_KINDS
    ]
