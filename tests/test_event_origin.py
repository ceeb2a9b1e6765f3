"""An event is believed only on its own subject and from its own publisher (shared.events.origin)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain import Channel, Classification, RouteKind, Status
from shared.events import new_event
from shared.events.contracts import CaseSnapshot, ComplaintDispositioned, ComplaintStatusChanged
from shared.events.origin import ForgedEvent, check_origin
from shared.events.topology import Service, route_of


def _disposition(node: str) -> ComplaintDispositioned:
    snap = CaseSnapshot(
        title="t",
        content="c",
        classification=Classification.pengaduan,
        channel=Channel.web,
        is_anonymous=True,
        is_confidential=False,
        submitted_at=datetime.now(UTC),
    )
    return ComplaintDispositioned(
        tracking_id="LPR-1",
        agency_code=node,
        route_kind=RouteKind.rule,
        reason="r",
        actor="system",
        case_version=1,
        case=snap,
    )


STATUS = ComplaintStatusChanged(
    tracking_id="LPR-1", status=Status.completed, actor="system", case_version=3, changed_at=datetime.now(UTC)
)


def test_an_event_on_its_own_subject_from_its_publisher_is_believed() -> None:
    data = _disposition("UPT-A")
    route = check_origin("simpul.complaint.dispositioned.UPT-A", new_event(data, source="routing"), data)
    assert route is route_of(ComplaintDispositioned) and route.publisher is Service.routing


def test_a_disposition_for_one_node_on_anothers_subject_is_forged() -> None:
    data = _disposition("UPT-A")
    with pytest.raises(ForgedEvent, match="arrived on 'simpul.complaint.dispositioned.UPT-B'"):
        check_origin("simpul.complaint.dispositioned.UPT-B", new_event(data, source="routing"), data)


def test_an_event_on_another_events_subject_is_forged() -> None:
    with pytest.raises(ForgedEvent, match="not on 'simpul.complaint.status_changed'"):
        check_origin("simpul.reporter.replied", new_event(STATUS, source="routing"), STATUS)


@pytest.mark.parametrize("source", ["intake", "agency", "test", ""])
def test_an_event_from_another_source_than_its_publisher_is_forged(source: str) -> None:
    with pytest.raises(ForgedEvent, match="only routing sends it"):
        check_origin(STATUS.subject(), new_event(STATUS, source=source), STATUS)


def test_an_envelope_whose_type_is_not_its_datas_is_forged() -> None:
    envelope = new_event(STATUS, source="routing").model_copy(update={"type": "complaint.submitted"})
    with pytest.raises(ForgedEvent, match="is not its data's"):
        check_origin(STATUS.subject(), envelope, STATUS)
