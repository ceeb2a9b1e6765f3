"""Every transition, legal and illegal, through what really moves a case: a coordinator's decision over HTTP, an
agency's or a reporter's event from the stream, or the clock.

For each hub status a case is driven there for real, then every trigger is tried on a fresh case in that status.
A legal one must land where the lifecycle table says; an illegal one must change nothing, and an illegal decision
answers 409 `illegal_transition`. The expected outcome comes from the independently written LEGAL table of
test_lifecycle.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from routing_svc.cases.lifecycle import Action
from shared.domain import Status
from shared.events.contracts import (
    AgencyAcknowledged,
    AgencyDelegated,
    AgencyForwardRequested,
    EventData,
    FollowupPosted,
    ReporterRated,
    ReporterReplied,
    ReporterWithdrew,
)
from tests.routing_svc.conftest import Hub
from tests.routing_svc.test_lifecycle import LEGAL
from tests.support.apps import ADMIN_KEY, auth

HOLDER, CHILD, OTHER = "KANWIL-JATIM", "UPT-SBY", "PEMKOT-SBY"


async def tree(hub: Hub) -> None:
    await hub.node("KEMENKUMHAM")
    await hub.node(HOLDER, "kanwil", "KEMENKUMHAM")
    await hub.node(CHILD, "upt", HOLDER)
    await hub.node(OTHER)


def _now(hub: Hub) -> Any:
    return hub.clock.now()


def ack(hub: Hub, tid: str) -> EventData:
    return AgencyAcknowledged(tracking_id=tid, agency_code=HOLDER, actor="agency", acknowledged_at=_now(hub))


def followup(hub: Hub, tid: str, final: bool) -> EventData:
    return FollowupPosted(
        tracking_id=tid,
        followup_id=f"f-{tid}-{final}",
        agency_code=HOLDER,
        content="Tindak lanjut",
        is_final=final,
        actor="agency",
        posted_at=_now(hub),
    )


def forward(hub: Hub, tid: str, suggested: str | None) -> EventData:
    return AgencyForwardRequested(
        tracking_id=tid,
        agency_code=HOLDER,
        reason="Bukan wewenang",
        suggested_agency_code=suggested,
        actor="agency",
        requested_at=_now(hub),
    )


def reply(hub: Hub, tid: str, disputes: bool) -> EventData:
    return ReporterReplied(
        tracking_id=tid, message_id=f"m-{tid}-{disputes}", content="...", disputes_answer=disputes, sent_at=_now(hub)
    )


@dataclass(frozen=True)
class Trigger:
    """What a real actor does, and the lifecycle action it asks for (None: it depends on the status)."""

    name: str
    action: Callable[[Status], Action]
    fire: Callable[[Hub, str], Awaitable[int | None]]
    """Returns the HTTP status for a decision, None for an event."""


def fixed(action: Action) -> Callable[[Status], Action]:
    return lambda _: action


async def decision(hub: Hub, tid: str, **body: Any) -> int:
    r = await hub.client.post(f"/api/v1/hub/complaints/{tid}/decisions", json=body, headers=auth(ADMIN_KEY))
    if r.status_code == 409:
        assert r.json()["error"]["code"] == "illegal_transition"
    return r.status_code


def event(build: Callable[[Hub, str], EventData]) -> Callable[[Hub, str], Awaitable[None]]:
    async def fire(hub: Hub, tid: str) -> None:
        await hub.publish_and_wait(build(hub, tid))

    return fire


TRIGGERS = [
    # The decisions endpoint disposes a submitted case and overrides the holder of a held one.
    Trigger(
        "dispose decision",
        lambda s: Action.dispose if s is Status.submitted else Action.override,
        lambda h, t: decision(h, t, action="dispose", agency_code=OTHER),
    ),
    Trigger("postpone decision", fixed(Action.postpone), lambda h, t: decision(h, t, action="postpone", reason="?")),
    Trigger("reject decision", fixed(Action.reject), lambda h, t: decision(h, t, action="reject")),
    Trigger("agency.acknowledged", fixed(Action.acknowledge), event(ack)),
    Trigger("followup.posted (progress)", fixed(Action.progress), event(lambda h, t: followup(h, t, False))),
    Trigger("followup.posted (final)", fixed(Action.answer), event(lambda h, t: followup(h, t, True))),
    Trigger("agency.forward_requested", fixed(Action.forward), event(lambda h, t: forward(h, t, OTHER))),
    Trigger("agency.forward_requested (no target)", fixed(Action.triage), event(lambda h, t: forward(h, t, None))),
    Trigger(
        "agency.delegated",
        fixed(Action.delegate),
        event(
            lambda h, t: AgencyDelegated(
                tracking_id=t, from_agency_code=HOLDER, agency_code=CHILD, actor="agency", delegated_at=_now(h)
            )
        ),
    ),
    Trigger("reporter.replied", fixed(Action.resubmit), event(lambda h, t: reply(h, t, False))),
    # Any reply to a postponed case is the information asked for, even one that says it disputes something.
    Trigger(
        "reporter.replied (disputes)",
        lambda s: Action.resubmit if s is Status.postponed else Action.dispute,
        event(lambda h, t: reply(h, t, True)),
    ),
    Trigger(
        "reporter.replied (accepts)",
        lambda s: Action.resubmit if s is Status.postponed else Action.complete,
        event(
            lambda h, t: ReporterReplied(
                tracking_id=t, message_id=f"ok-{t}", content="Terima kasih", accepts_answer=True, sent_at=_now(h)
            )
        ),
    ),
    Trigger(
        "reporter.rated",
        fixed(Action.complete),
        event(lambda h, t: ReporterRated(tracking_id=t, score=5, rated_at=_now(h))),
    ),
    Trigger(
        "reporter.withdrew",
        fixed(Action.withdraw),
        event(lambda h, t: ReporterWithdrew(tracking_id=t, withdrawn_at=_now(h))),
    ),
]


async def drive(hub: Hub, status: Status) -> str:
    """A case brought to `status` the way real actors do it."""
    if status in (Status.submitted, Status.postponed, Status.rejected):
        tid = await hub.submit(category="tanpa-aturan")  # no rule matches: it waits in triage
        if status is Status.postponed:
            assert await decision(hub, tid, action="postpone", reason="Lokasinya?") == 200
        elif status is Status.rejected:
            assert await decision(hub, tid, action="reject") == 200
        return tid
    tid = await hub.submit(agency_code=HOLDER)
    if status is Status.in_progress:
        await hub.publish_and_wait(ack(hub, tid))
    elif status in (Status.answered, Status.completed, Status.archived):
        await hub.publish_and_wait(followup(hub, tid, True))
        if status is not Status.answered:
            await hub.publish_and_wait(ReporterRated(tracking_id=tid, score=4, rated_at=_now(hub)))
    return tid


async def status_of(hub: Hub, tid: str) -> Status:
    return Status((await hub.case(tid))["status"])


@pytest.mark.parametrize("from_status", list(Status), ids=lambda s: s.value)
async def test_every_trigger_from(from_status: Status, timed_hub: Hub) -> None:
    hub = timed_hub
    await tree(hub)
    tids = await asyncio.gather(*(drive(hub, from_status) for _ in TRIGGERS))
    if from_status is Status.archived:  # retention runs out
        hub.clock.advance(timedelta(days=hub.settings.archive_after_days + 1))
        await hub.sweep()
    assert [await status_of(hub, t) for t in tids] == [from_status] * len(TRIGGERS)

    outcomes = await asyncio.gather(*(trigger.fire(hub, tid) for trigger, tid in zip(TRIGGERS, tids, strict=True)))
    legal_seen: set[Action] = set()
    for trigger, tid, http in zip(TRIGGERS, tids, outcomes, strict=True):
        action = trigger.action(from_status)
        after = await status_of(hub, tid)
        expected = LEGAL.get((action, from_status))
        if expected is not None:
            legal_seen.add(action)
            assert after is expected, (trigger.name, from_status, after)
            assert http in (None, 200), (trigger.name, http)
            history = (await hub.case(tid))["history"]
            assert action.value in [h["action"] for h in history], (trigger.name, history)
        else:
            assert after is from_status, (trigger.name, from_status, after)
            assert http in (None, 409), (trigger.name, http)
    # Every legal way out of the status was taken (archiving is the clock's: see test_sla).
    assert legal_seen == {a for a, s in LEGAL if s is from_status and a is not Action.archive}
