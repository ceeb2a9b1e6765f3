"""Dead letters on a real hub, through `simpul dlq`: a malformed event goes there at once with its error, one that keeps
failing after its attempts; a replayed event that was already processed changes nothing; /metrics shows the backlog,
each durable's lag, the redeliveries and the dead letters."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import orjson
import pytest
from nats.js.errors import NotFoundError

from services.registry import SERVICES
from shared.bus import DLQ_STREAM, STREAM, Bus
from shared.domain import Status
from shared.events import encode_event, new_event
from shared.events.contracts import ComplaintStatusChanged
from tests.chaos.burst import Burst
from tests.chaos.hubs import ChaosHub
from tests.chaos.ledger import MailFolder, take_ledger, wait_converged
from tests.chaos.probes import metrics
from tests.e2e.hub import Hub, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DURABLES = {
    "intake": {"intake-reporter-view", "intake-keys", "intake-reference"},
    "routing": {"routing-cases"},
    "agency": {"agency-inbox", "agency-directory"},
    "notify": {"notify-contacts", "notify-messages", "notify-keys"},
}


def simpul_dlq(hub: Hub, *args: str) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli", "dlq", "--data-dir", str(hub.data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")},
    )
    return proc.returncode, proc.stdout + proc.stderr


def letters(hub: Hub) -> list[str]:
    code, out = simpul_dlq(hub, "list")
    assert code == 0, out
    return out.splitlines()


def test_dead_letters_and_replay_through_simpul_dlq(chaos_hub: ChaosHub) -> None:
    if chaos_hub.backend != "sqlite" and not os.environ.get("SIMPUL_CHAOS_FULL"):
        pytest.skip("the broker's side of dead letters does not depend on the database: SQLite shows it")
    hub, api = chaos_hub.hub, chaos_hub.api
    code = f"DLQ-{uuid.uuid4().hex[:6].upper()}"
    api.node(code, "instansi")
    key = api.key(code)
    burst = Burst(base_url=hub.base_url, tag=code, agency_code=code, size=1, concurrency=1)
    asyncio.run(burst.run())
    mail = MailFolder(hub.data_dir / "mail")
    assert wait_converged(api, key, burst, mail, timeout=60) is not None
    (tid,) = burst.accepted

    malformed = f"{{not an event {code}".encode()
    never = f"SPL-NEVER{uuid.uuid4().hex[:8].upper()}"
    poison = ComplaintStatusChanged(
        tracking_id=never,
        status=Status.dispositioned,
        previous_status=Status.submitted,
        agency_code=code,
        actor="routing",
        case_version=2,
        changed_at=datetime.now(UTC),
    )
    asyncio.run(_publish(hub, malformed, encode_event(new_event(poison, source="routing"))))

    # A malformed event: dead-lettered by routing at once, with its error.
    def found(durable: str, marker: str) -> str | None:
        return next((ln for ln in letters(hub) if durable in ln and marker in ln), None)

    line = wait_for(lambda: found("routing-cases", "not an event envelope"), timeout=20, interval=0.5)
    letter_id = line.split()[0]
    shown_code, shown = simpul_dlq(hub, "show", letter_id)
    assert shown_code == 0 and '"deliveries": 1' in shown and malformed.decode() in shown, shown

    # An event that keeps failing (agency never had this case): dead-lettered after its attempts, each counted.
    wait_for(lambda: found("agency-inbox", "has not arrived yet"), timeout=90, interval=1.0)
    agency = metrics(hub, "agency")
    redelivered = sum(
        s.value for s in agency if s.name == "simpul_redeliveries_total" and s.labels["durable"] == "agency-inbox"
    )
    assert redelivered >= 1

    # Every service shows the four reliability metrics.
    for spec in SERVICES:
        samples = metrics(hub, spec.name)
        names = {s.name for s in samples}
        assert any(s.name == "simpul_outbox_backlog" and s.labels["service"] == spec.name for s in samples)
        pending = {s.labels["durable"] for s in samples if s.name == "simpul_consumer_pending"}
        assert pending == DURABLES[spec.name], (spec.name, pending)
        text = asyncio.run(_metrics_text(hub, spec.name))
        for family in ("simpul_redeliveries_total", "simpul_dead_letters_total"):
            assert f"# TYPE {family} counter" in text, (spec.name, family)
        assert "simpul_consumer_ack_pending" in names, spec.name
    routing = metrics(hub, "routing")
    assert any(
        s.name == "simpul_dead_letters_total" and s.labels["durable"] == "routing-cases" and s.value >= 1
        for s in routing
    )
    assert any(
        s.name == "simpul_dead_letters_total" and s.labels["durable"] == "agency-inbox" and s.value >= 1
        for s in metrics(hub, "agency")
    )

    # Replaying an event every durable has already processed changes nothing.
    letter = asyncio.run(_dead_letter_of_processed_submission(hub, tid))
    replayed_code, out = simpul_dlq(hub, "replay", str(letter))
    assert replayed_code == 0 and f"replayed {letter} to simpul.complaint.submitted" in out, out
    asyncio.run(_until_routing_has_read_everything(hub))
    again = take_ledger(api, key, burst, mail)
    assert (again.lost, again.duplicated) == ([], []), (again.lost, again.duplicated)
    events = asyncio.run(_events_of(hub, tid))
    assert events["complaint.submitted"] == 2, "the original and its replay are both on the stream"
    assert events["complaint.dispositioned"] == 1 and events["complaint.status_changed"] == 1, events


async def _publish(hub: Hub, malformed: bytes, poison: bytes) -> None:
    bus = hub.ops_bus("test-dlq")
    await bus.connect()
    try:
        await bus.publish("simpul.complaint.submitted", malformed, headers={"Nats-Msg-Id": str(uuid.uuid4())})
        await bus.publish("simpul.complaint.status_changed", poison, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    finally:
        await bus.close()


async def _metrics_text(hub: Hub, name: str) -> str:
    import httpx

    from tests.chaos.probes import service_url

    async with httpx.AsyncClient() as client:
        return (await client.get(f"{service_url(hub, name)}/metrics")).text


async def _stream(bus: Bus, stream: str) -> list[tuple[int, str, bytes, dict[str, str]]]:
    info = await bus.js.stream_info(stream)
    found = []
    for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
        try:
            msg = await bus.js.get_msg(stream, seq)
        except NotFoundError:
            continue
        found.append((seq, msg.subject or "", msg.data or b"", dict(msg.headers or {})))
    return found


async def _dead_letter_of_processed_submission(hub: Hub, tid: str) -> int:
    """Put on routing's dead-letter subject, as routing would, the complaint.submitted it already processed (the
    twin of a delivery that failed while another went through); its id in SIMPUL_DLQ."""
    bus = hub.ops_bus("test-dlq")
    await bus.connect()
    try:
        (seq, subject, payload, _) = next(
            m
            for m in await _stream(bus, STREAM)
            if m[1] == "simpul.complaint.submitted"
            and m[2].startswith(b"{")
            and orjson.loads(m[2])["correlation_id"] == tid
        )
        headers = {
            "Nats-Msg-Id": f"dlq-routing-cases-{seq}",
            "Simpul-Error": "RuntimeError: failed on this delivery",
            "Simpul-Durable": "routing-cases",
            "Simpul-Service": "routing",
            "Simpul-Subject": subject,
            "Simpul-Stream": STREAM,
            "Simpul-Stream-Seq": str(seq),
            "Simpul-Deliveries": "5",
            "Simpul-Failed-At": datetime.now(UTC).isoformat(),
        }
        ack = await bus.js.publish("dlq.routing-cases", payload, headers=headers)
        assert ack.stream == DLQ_STREAM
        return int(ack.seq)
    finally:
        await bus.close()


async def _until_routing_has_read_everything(hub: Hub, timeout: float = 30.0) -> None:
    bus = hub.ops_bus("test-dlq")
    await bus.connect()
    try:
        last = (await bus.js.stream_info(STREAM)).state.last_seq
        deadline = time.monotonic() + timeout
        while True:
            info = await bus.js.consumer_info(STREAM, "routing-cases")
            if info.delivered.stream_seq >= last and info.num_ack_pending == 0:
                return
            assert time.monotonic() < deadline, f"routing did not take the replay: {info}"
            await asyncio.sleep(0.2)
    finally:
        await bus.close()


async def _events_of(hub: Hub, tid: str) -> dict[str, int]:
    bus = hub.ops_bus("test-dlq")
    await bus.connect()
    try:
        counts: dict[str, int] = {}
        for _, _, payload, _ in await _stream(bus, STREAM):
            if not payload.startswith(b"{"):
                continue
            try:
                event = orjson.loads(payload)
            except orjson.JSONDecodeError:
                continue
            if isinstance(event, dict) and event.get("correlation_id") == tid:
                counts[event["type"]] = counts.get(event["type"], 0) + 1
        return counts
    finally:
        await bus.close()
