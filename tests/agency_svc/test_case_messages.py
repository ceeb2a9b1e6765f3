"""A case's reporter messages: the case view carries the latest ones, the rest page at GET .../messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from shared.events.contracts import ReporterReplied
from shared.http.paging import THREAD_TAIL
from tests.agency_svc.conftest import Agency, new_tid
from tests.support.apps import publish


async def test_a_long_thread_pages(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    await tree.wait_case("UPT", tid)
    count = THREAD_TAIL + 3
    start = datetime.now(UTC)
    for i in range(count):
        reply = ReporterReplied(
            tracking_id=tid,
            message_id=str(uuid.uuid4()),
            content=f"pesan {i}",
            disputes_answer=False,
            sent_at=start + timedelta(seconds=i),
        )
        await publish(tree.bus, reply)
    case = await tree.wait_case("UPT", tid, messages_total=count)
    assert [m["content"] for m in case["messages"]] == [f"pesan {i}" for i in range(3, count)]
    assert case["messages_next"] == THREAD_TAIL

    url = f"/api/v1/agency/complaints/{tid}/messages"
    r = await tree.client.get(url, params={"offset": case["messages_next"]}, headers=tree.h("KANWIL"))
    assert r.status_code == 200, r.text
    assert [m["content"] for m in r.json()["items"]] == ["pesan 2", "pesan 1", "pesan 0"]
    assert r.json()["next_offset"] is None
    r = await tree.client.get(url, params={"limit": 2}, headers=tree.h("UPT"))
    assert [m["content"] for m in r.json()["items"]] == [f"pesan {count - 1}", f"pesan {count - 2}"]
    assert r.json()["next_offset"] == 2

    # Only a key whose subtree holds the case reads its messages; bad paging is a 422.
    r = await tree.client.get(url, headers=tree.h("OTHER"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await tree.client.get(url, params={"offset": -1}, headers=tree.h("UPT"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


async def test_a_short_thread_is_shown_whole(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    case = await tree.wait_case("UPT", tid)
    assert case["messages"] == [] and case["messages_total"] == 0 and case["messages_next"] is None
