"""The replicas kept from the hub's events: re-dispositions, ordering by case_version, RetryLater, messages, nodes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from agency_svc.directory.service import materialized_path
from agency_svc.models import KIT, CaseMessage, Node
from shared.domain import RouteKind, Status
from shared.events import encode_event, new_event
from shared.events.contracts import NodeUpserted, ReporterReplied
from tests.agency_svc.conftest import Agency, new_tid
from tests.support.apps import eventually, publish, publisher_of


async def test_a_redisposition_moves_the_case_between_inboxes(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    await tree.wait_case("UPT", tid, agency_code="UPT")
    assert (await tree.post("UPT", tid, "acknowledge")).status_code == 200

    await tree.dispose(tid, "OTHER", 3, previous="UPT", title="Judul diperbarui")
    case = await tree.wait_case("OTHER", tid, agency_code="OTHER")
    assert case["acknowledged_at"] is None, "a new holder starts afresh"
    assert case["title"] == "Judul diperbarui"
    assert case["case_version"] == 3 and case["previous_agency_code"] == "UPT"
    dispositions = [h for h in case["history"] if h["kind"] == "dispositioned"]
    assert [h["agency_code"] for h in dispositions] == ["UPT", "OTHER"]
    assert "UPT" in dispositions[-1]["note"]
    for who in ("UPT", "KANWIL", "KEMEN"):
        assert tid not in await tree.inbox(who)
        assert (await tree.case(who, tid)).status_code == 404
        assert (await tree.post(who, tid, "acknowledge")).status_code == 404
    assert tid in await tree.inbox("OTHER")

    # An older disposition, arriving late, moves nothing back.
    await tree.dispose(tid, "UPT", 2)
    await _marker(tree, tid)
    assert (await tree.case_json("OTHER", tid))["agency_code"] == "OTHER"
    assert tid not in await tree.inbox("UPT")


async def test_an_older_status_does_not_roll_back(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    await tree.status(tid, Status.in_progress, 2, agency_code="UPT", previous=Status.dispositioned)
    await tree.wait_case("UPT", tid, status="in_progress", case_version=2)
    await tree.status(tid, Status.dispositioned, 1, agency_code="UPT")
    await tree.status(tid, Status.in_progress, 2, agency_code="UPT")
    await _marker(tree, tid)
    case = await tree.case_json("UPT", tid)
    assert case["status"] == "in_progress" and case["case_version"] == 2
    assert [h["status"] for h in case["history"] if h["kind"] == "status"] == ["in_progress"]


async def test_a_status_before_its_disposition_waits_for_it(tree: Agency) -> None:
    tid = new_tid()
    await tree.status(tid, Status.in_progress, 2, agency_code="UPT", previous=Status.dispositioned)
    orphan = new_tid()
    await tree.status(orphan, Status.submitted, 1, agency_code=None)  # no holder: ignored, never retried
    await _marker(tree, orphan)
    assert await tree.stored(tid) is None and await tree.stored(orphan) is None

    await tree.dispose(tid, "UPT", 1)
    case = await tree.wait_case("UPT", tid, status="in_progress")
    assert case["case_version"] == 2
    assert [h["kind"] for h in case["history"]] == ["dispositioned", "status"]


async def test_a_status_for_a_new_holder_waits_for_the_redisposition(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    await tree.wait_case("UPT", tid, agency_code="UPT")
    await tree.status(tid, Status.dispositioned, 2, agency_code="OTHER", previous=Status.dispositioned)
    await tree.dispose(tid, "OTHER", 2, previous="UPT")
    case = await tree.wait_case("OTHER", tid, agency_code="OTHER", case_version=2)
    assert case["status"] == "dispositioned"


async def test_reporter_replies_are_stored_once(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    await tree.wait_case("UPT", tid)
    reply = ReporterReplied(
        tracking_id=tid,
        message_id=str(uuid.uuid4()),
        content="Saya keberatan.",
        disputes_answer=True,
        sent_at=datetime.now(UTC),
    )
    await publish(tree.bus, reply)
    await publish(tree.bus, reply)  # the same message under a new event id
    await publish(tree.bus, reply.model_copy(update={"tracking_id": new_tid()}))  # an unknown case: ignored
    await _marker(tree, tid)
    case = await tree.case_json("UPT", tid)
    assert [(m["content"], m["disputes_answer"]) for m in case["messages"]] == [
        ("Saya keberatan.", True),
        ("marker", False),
    ]
    assert [h["kind"] for h in case["history"]] == ["dispositioned", "reporter_message", "reporter_message"]
    async with tree.runtime.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(CaseMessage))).scalar() == 2  # ours + marker


async def test_node_upserts_overwrite_only_with_newer_events(tree: Agency) -> None:
    newer = NodeUpserted(
        code="UPT",
        name="UPT Baru",
        kind="upt",
        parent_code="KANWIL",
        path=["KEMEN", "KANWIL", "UPT"],
        timezone="Asia/Makassar",
    )
    await publish(tree.bus, newer)
    await eventually(lambda: _node_name(tree, "UPT", "UPT Baru"))
    older = newer.model_copy(update={"name": "UPT Lama"})
    env = new_event(older, source=publisher_of(older), occurred_at=datetime.now(UTC) - timedelta(hours=1))
    await tree.bus.publish(older.subject(), encode_event(env), headers={"Nats-Msg-Id": str(env.id)})
    # The directory consumer applies in order: wait for a later node, then check the stale one changed nothing.
    await tree.node("LATER", "instansi", ["LATER"])
    await eventually(lambda: _node_name(tree, "LATER", "Kantor LATER"))
    async with tree.runtime.db.session() as s:
        node = await s.get(Node, "UPT")
        assert node is not None and node.name == "UPT Baru" and node.timezone == "Asia/Makassar"
        assert node.path == "/KEMEN/KANWIL/UPT/"


def test_materialized_path_with_or_without_the_node_itself() -> None:
    def event(path: list[str]) -> NodeUpserted:
        return NodeUpserted(code="UPT", name="n", kind="upt", path=path, timezone="Asia/Jakarta")

    assert materialized_path(event(["KEMEN", "KANWIL", "UPT"])) == "/KEMEN/KANWIL/UPT/"
    assert materialized_path(event(["KEMEN", "KANWIL"])) == "/KEMEN/KANWIL/UPT/"
    assert materialized_path(event([])) == "/UPT/"


async def _marker(tree: Agency, tid: str) -> None:
    """Publish a reporter message after the events under test and wait until the inbox consumer has processed it.

    The inbox consumer handles its events in stream order, so everything published before is then applied.
    """
    marker = ReporterReplied(
        tracking_id=tid, message_id=f"marker-{uuid.uuid4()}", content="marker", sent_at=datetime.now(UTC)
    )
    env = new_event(marker, source=publisher_of(marker))
    await tree.bus.publish(marker.subject(), encode_event(env), headers={"Nats-Msg-Id": str(env.id)})
    t = KIT.processed_events

    async def seen() -> bool:
        async with tree.runtime.db.engine.connect() as conn:
            found = await conn.execute(
                select(t.c.event_id).where(t.c.consumer == "agency-inbox", t.c.event_id == str(env.id))
            )
            return found.first() is not None

    await eventually(seen)


async def _node_name(tree: Agency, code: str, name: str) -> bool:
    async with tree.runtime.db.session() as s:
        node = await s.get(Node, code)
        return node is not None and node.name == name


async def test_a_case_sent_back_to_triage_leaves_the_inbox_until_disposed_again(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    await tree.wait_case("UPT", tid)
    r = await tree.post("UPT", tid, "forward", {"reason": "Bukan wewenang kami"})
    assert r.status_code == 202
    # The hub found no usable target: the case goes back to triage, held by nobody.
    await tree.status(tid, Status.submitted, 2, agency_code=None, previous=Status.dispositioned)
    await eventually(lambda: _gone(tree, "UPT", tid))
    assert tid not in await tree.inbox("KEMEN")
    assert (await tree.post("UPT", tid, "acknowledge")).status_code == 404

    await tree.dispose(tid, "UPT", 3, route_kind=RouteKind.coordinator)
    case = await tree.wait_case("UPT", tid, case_version=3)
    assert case["status"] == "dispositioned" and case["forward_requested_at"] is None
    assert tid in await tree.inbox("KEMEN")
    assert [h["kind"] for h in case["history"]] == [
        "dispositioned",
        "forward_requested",
        "status",
        "dispositioned",
    ]


async def _gone(tree: Agency, who: str, tid: str) -> bool:
    return (await tree.case(who, tid)).status_code == 404 and tid not in await tree.inbox(who)
