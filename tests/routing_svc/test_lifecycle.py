"""The lifecycle module, table-driven: every legal transition, and every other (action, status) pair is illegal."""

from __future__ import annotations

import itertools

import pytest

from routing_svc.cases.lifecycle import TRANSITIONS, Action, IllegalTransition, is_legal, target_status
from shared.domain import Status

S = Status
A = Action

# Written out independently of the module: (action, from) -> to.
LEGAL: dict[tuple[Action, Status], Status] = {
    (A.dispose, S.submitted): S.dispositioned,
    (A.postpone, S.submitted): S.postponed,
    (A.reject, S.submitted): S.rejected,
    (A.override, S.dispositioned): S.dispositioned,
    (A.override, S.in_progress): S.dispositioned,
    (A.acknowledge, S.dispositioned): S.in_progress,
    (A.progress, S.dispositioned): S.in_progress,
    (A.answer, S.dispositioned): S.answered,
    (A.answer, S.in_progress): S.answered,
    (A.forward, S.dispositioned): S.dispositioned,
    (A.forward, S.in_progress): S.dispositioned,
    (A.delegate, S.dispositioned): S.dispositioned,
    (A.delegate, S.in_progress): S.dispositioned,
    (A.triage, S.dispositioned): S.submitted,
    (A.triage, S.in_progress): S.submitted,
    (A.resubmit, S.postponed): S.submitted,
    (A.dispute, S.answered): S.in_progress,
    (A.complete, S.answered): S.completed,
    (A.withdraw, S.submitted): S.rejected,
    (A.withdraw, S.postponed): S.rejected,
    (A.withdraw, S.dispositioned): S.rejected,
    (A.withdraw, S.in_progress): S.rejected,
    (A.withdraw, S.answered): S.rejected,
    (A.archive, S.completed): S.archived,
}

ILLEGAL_SAMPLE = [
    (A.postpone, S.dispositioned),
    (A.reject, S.in_progress),
    (A.dispose, S.postponed),
    (A.dispose, S.dispositioned),
    (A.override, S.submitted),
    (A.acknowledge, S.in_progress),
    (A.acknowledge, S.submitted),
    (A.answer, S.answered),
    (A.complete, S.in_progress),
    (A.dispute, S.completed),
    (A.forward, S.answered),
    (A.triage, S.submitted),
    (A.withdraw, S.completed),
    (A.withdraw, S.rejected),
    (A.resubmit, S.submitted),
    (A.archive, S.rejected),
]


@pytest.mark.parametrize(("action", "from_status"), list(LEGAL), ids=lambda v: str(v))
def test_legal(action: Action, from_status: Status) -> None:
    assert target_status(action, from_status) is LEGAL[(action, from_status)]
    assert is_legal(action, from_status)


@pytest.mark.parametrize(("action", "from_status"), ILLEGAL_SAMPLE, ids=lambda v: str(v))
def test_illegal_sample(action: Action, from_status: Status) -> None:
    with pytest.raises(IllegalTransition) as caught:
        target_status(action, from_status)
    assert from_status.value in str(caught.value) and caught.value.from_status is from_status
    assert not is_legal(action, from_status)


def test_nothing_else_is_legal() -> None:
    for action, status in itertools.product(Action, Status):
        assert is_legal(action, status) == ((action, status) in LEGAL), (action, status)
    assert set(TRANSITIONS) == {a for a, _ in LEGAL}


def test_terminal_statuses_have_no_way_out_but_archive() -> None:
    for status in (S.rejected, S.archived):
        assert not any(is_legal(a, status) for a in Action)
    assert [a for a in Action if is_legal(a, S.completed)] == [A.archive]


def test_the_message_names_from_and_to() -> None:
    with pytest.raises(IllegalTransition, match="dispositioned -> postponed"):
        target_status(A.postpone, S.dispositioned)
