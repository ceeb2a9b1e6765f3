"""The email door end to end: `simpul up` as real processes (the door among them), real mail over SMTP to the door,
and notify relaying its mail to an aiosmtpd sink that the test reads."""

from __future__ import annotations

import email.policy
import hashlib
import json
import os
import re
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from services.doors.email.door import complaint_body
from services.doors.email.parsing import parse
from services.ports import free_port
from shared.reply_address import REPLY_ABOVE, case_of
from shared.signing import signature
from tests.e2e.email_support import (
    HUB_FROM,
    REPLY_ADDRESS,
    Sink,
    accepted_tid,
    body_of,
    cases_titled,
    citizen_mail,
    deliver,
    offer,
    png,
    running_sink,
)
from tests.e2e.hub import Api, Hub, running_hub, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sink() -> Iterator[tuple[Sink, int]]:
    yield from running_sink()


@pytest.fixture(scope="module")
def smtp_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, sink: tuple[Sink, int], smtp_port: int) -> Iterator[Hub]:
    env = {
        "SIMPUL_NOTIFY_SMTP_HOST": "127.0.0.1",
        "SIMPUL_NOTIFY_SMTP_PORT": str(sink[1]),
        "SIMPUL_NOTIFY_MAIL_FROM": HUB_FROM,
        "SIMPUL_NOTIFY_REPLY_ADDRESS": REPLY_ADDRESS,
        "SIMPUL_EMAIL_SMTP_PORT": str(smtp_port),
        "SIMPUL_EMAIL_API_TIMEOUT": "5",
    }
    with running_hub(tmp_path_factory.mktemp("email-hub"), env=env) as h:
        yield h


@pytest.fixture(scope="module")
def api(hub: Hub) -> Iterator[Api]:
    a = Api(hub)
    yield a
    a.client.close()


def test_the_banner_names_the_door(hub: Hub, smtp_port: int) -> None:
    assert f"Email door: smtp://127.0.0.1:{smtp_port}" in hub.output()
    assert hub.state()["doors"]["email-door"]["pid"]


def test_mail_becomes_a_complaint_the_agency_gets_and_a_reply_reaches_the_case(
    hub: Hub, api: Api, sink: tuple[Sink, int], smtp_port: int
) -> None:
    api.node("PEMKOT-SBY", "instansi")
    agency = api.key("PEMKOT-SBY")
    rule = {"agency_code": "PEMKOT-SBY", "classification": "pengaduan", "keywords": ["berlubang"], "priority": 5}
    api.ok(api.client.post("/api/v1/hub/routing-rules", json=rule, headers=api.admin), 201)

    subject = "Jalan berlubang di Jl. Pemuda — berbahaya"
    msg = citizen_mail("Siti Aminah <siti@citizen.example>", subject, "Lubang besar di depan SDN 1.\nMohon segera.")
    tid = accepted_tid(deliver(smtp_port, msg, "siti@citizen.example", REPLY_ADDRESS))

    confirmation = wait_for(lambda: sink[0].confirmation_to("siti@citizen.example"), timeout=60)
    body = body_of(confirmation)
    assert tid in str(confirmation["Subject"]) and tid in body
    receipt = re.search(r"Resi laporan Anda: (\S+)", body)
    assert receipt, body
    assert f"{hub.base_url}/track/{tid}" in body and "/api/v1/" not in body
    assert confirmation["Auto-Submitted"] == "auto-replied"
    assert confirmation["Reply-To"] is None, "it carries the receipt: a reply would quote it into the case"

    wait_for(lambda: tid in api.inbox(agency), timeout=60)
    case = api.ok(api.client.get(f"/api/v1/hub/complaints/{tid}", headers=api.admin), 200)
    assert (case["title"], case["channel"], case["classification"]) == (subject, "email", "pengaduan")
    assert case["content"] == "Lubang besar di depan SDN 1.\nMohon segera."
    view = api.reporter_view({"tracking_id": tid, "receipt": receipt.group(1)})
    assert view["title"] == subject

    # The disposition's mail invites a reply: the case's address, and the marker line on top.
    update = wait_for(lambda: next((m for m in sink[0].to("siti@citizen.example") if m["Reply-To"]), None), timeout=60)
    reply_to = str(update["Reply-To"])
    assert reply_to.startswith(f"lapor+{tid}.") and reply_to.endswith("@hub.example")
    assert case_of(reply_to, hub_reply_secret(hub)) == tid
    update_body = body_of(update)
    assert update_body.splitlines()[0] == REPLY_ABOVE

    # A client that puts the whole mail under the answer, unquoted: the door keeps what is above the marker.
    reply = citizen_mail(
        "Siti Aminah <siti@citizen.example>",
        f"Re: {update['Subject']}",
        f"Lubangnya makin lebar sejak kemarin.\n\n{update_body}",
        to=reply_to,
    )
    assert accepted_tid(deliver(smtp_port, reply, "siti@citizen.example", reply_to)) == tid
    view = wait_for(
        lambda: (v := api.reporter_view({"tracking_id": tid, "receipt": receipt.group(1)}))["messages"] and v
    )
    assert [m["content"] for m in view["messages"]] == ["Lubangnya makin lebar sejak kemarin."]


def test_a_bad_reply_token_makes_a_new_complaint_instead(hub: Hub, api: Api, smtp_port: int) -> None:
    subject = "Balasan ke alamat yang salah"
    to = "lapor+SPL-0000000000.aaaaaaaaaa@hub.example"
    quoted = (
        "Tambahan keterangan.\n\n-----Pesan Asli-----\nDari: Simpul <no-reply@hub.example>\n"
        "Dikirim: Senin, 7 Desember 2026 10.00\nKepada: Budi Santoso <budi@citizen.example>\n\n"
        "Yth. Budi Santoso,\nResi laporan Anda: rcpt-yang-tidak-boleh-bocor"
    )
    msg = citizen_mail("Budi <budi@citizen.example>", subject, quoted, to=to)
    tid = accepted_tid(deliver(smtp_port, msg, "budi@citizen.example", to))
    assert tid != "SPL-0000000000"
    [case] = cases_titled(api, subject)
    assert case["tracking_id"] == tid and case["status"] == "submitted" and case["agency_code"] is None
    full = api.ok(api.client.get(f"/api/v1/hub/complaints/{tid}", headers=api.admin), 200)
    assert full["content"] == "Tambahan keterangan.", "what the reply quotes of the hub's mail is cut"


def test_the_same_message_id_makes_one_complaint(api: Api, smtp_port: int) -> None:
    subject = "Lampu jalan mati (terkirim dua kali)"
    msg = citizen_mail("Rina <rina@citizen.example>", subject, "Lampu jalan mati sejak seminggu.")
    first = accepted_tid(deliver(smtp_port, msg, "rina@citizen.example", REPLY_ADDRESS))
    second = accepted_tid(deliver(smtp_port, msg, "rina@citizen.example", REPLY_ADDRESS))
    assert first == second
    assert [c["tracking_id"] for c in cases_titled(api, subject)] == [first]


def test_a_copy_of_the_mail_does_not_replay_the_submission(api: Api, smtp_port: int) -> None:
    """Whoever holds a copy of the mail can rebuild the body and an unkeyed hash of its Message-ID; the door's key is
    an HMAC under its secret, so the API does not hand them the original submission and its receipt."""
    subject = "Pungli di kelurahan (salinan email)"
    msg = citizen_mail("Yanti <yanti@citizen.example>", subject, "Diminta uang untuk surat pengantar.")
    tid = accepted_tid(deliver(smtp_port, msg, "yanti@citizen.example", REPLY_ADDRESS))
    parsed = parse(msg.as_bytes(policy=email.policy.SMTP))
    body = complaint_body(parsed)
    for source in (f"message-id:{parsed.message_id}", f"bytes:{parsed.digest}"):
        guessed = "email:" + hashlib.sha256(source.encode()).hexdigest()[:48]
        answer = api.client.post("/api/v1/complaints", json=body, headers={"Idempotency-Key": guessed})
        assert answer.status_code == 201 and answer.headers.get("Idempotent-Replayed") != "true", answer.text
        assert answer.json()["tracking_id"] != tid


@pytest.mark.parametrize(
    ("sender", "envelope_from", "headers", "reason"),
    [
        ("Rina <rina@citizen.example>", "rina@citizen.example", {"Auto-Submitted": "auto-replied"}, "auto_submitted"),
        ("Rina <rina@citizen.example>", "rina@citizen.example", {"Precedence": "bulk"}, "precedence"),
        ("Mail Delivery System <MAILER-DAEMON@mx.citizen.example>", "", {}, "bounce"),
        (HUB_FROM, "no-reply@hub.example", {}, "loop"),
        ("Rina <rina@citizen.example>", "rina@citizen.example", {"X-Loop": "no-reply@hub.example"}, "loop"),
    ],
)
def test_machine_mail_and_loops_make_nothing(
    hub: Hub, api: Api, smtp_port: int, sender: str, envelope_from: str, headers: dict[str, str], reason: str
) -> None:
    subject = f"Out of office ({reason}, {sorted(headers)})"
    before = ignored_count(hub, reason)
    msg = citizen_mail(sender, subject, "I am away until Monday.", headers=headers)
    assert deliver(smtp_port, msg, envelope_from, REPLY_ADDRESS) == (250, f"2.0.0 Ignored ({reason})")
    assert ignored_count(hub, reason) == before + 1
    assert cases_titled(api, subject) == []


def test_html_mail_with_a_picture_and_a_refused_file(api: Api, smtp_port: int) -> None:
    subject = "Sampah menumpuk (foto terlampir)"
    msg = citizen_mail(
        "Dewi <dewi@citizen.example>",
        subject,
        "<html><head><style>p{font-weight:bold}</style><script>alert(1)</script></head>"
        "<body><p>Sampah menumpuk di pasar &amp; berbau.</p><p>Lihat foto.</p></body></html>",
        html=True,
    )
    picture = png()
    msg.add_attachment(picture, maintype="image", subtype="png", filename="sampah.png")
    # A program is no evidence: the API refuses its type (415), the door skips it, and the complaint stands.
    msg.add_attachment(b"MZ\x90\x00" + bytes(200), maintype="application", subtype="octet-stream", filename="a.exe")
    tid = accepted_tid(deliver(smtp_port, msg, "dewi@citizen.example", REPLY_ADDRESS))
    # The hub learns of the file from attachment.added, which may come a moment after the door's answer.
    case = wait_for(
        lambda: (
            (c := api.ok(api.client.get(f"/api/v1/hub/complaints/{tid}", headers=api.admin), 200))["attachments"] and c
        ),
        timeout=60,
    )
    assert case["content"] == "Sampah menumpuk di pasar & berbau.\n\nLihat foto."
    [attachment] = case["attachments"]
    assert (attachment["filename"], attachment["media_type"], attachment["size"]) == (
        "sampah.png",
        "image/png",
        len(picture),
    )


def test_api_down_answers_4xx_then_the_retry_is_taken(hub: Hub, api: Api, smtp_port: int) -> None:
    subject = "Air PDAM keruh (saat API tidak menjawab)"
    msg = citizen_mail("Agus <agus@citizen.example>", subject, "Air keruh tiga hari.")
    intake = hub.service_pid("intake")
    os.kill(intake, signal.SIGSTOP)
    try:
        code, answer = offer(smtp_port, msg, "agus@citizen.example", REPLY_ADDRESS)
    finally:
        os.kill(intake, signal.SIGCONT)
    assert code == 451 and answer.startswith("4.3.0"), (code, answer)
    tid = accepted_tid(deliver(smtp_port, msg, "agus@citizen.example", REPLY_ADDRESS))
    assert [c["tracking_id"] for c in cases_titled(api, subject)] == [tid]


def test_the_door_is_no_relay(smtp_port: int) -> None:
    """`simpul up` gives the door notify's reply address as its intake address: mail for anyone else is refused."""
    import smtplib

    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as client:
        client.ehlo("mx.citizen.example")
        assert client.mail("rina@citizen.example")[0] == 250
        code, answer = client.rcpt("victim@elsewhere.example")
        assert (code, answer.decode()[:5]) == (550, "5.1.1"), (code, answer)
        assert client.rcpt("postmaster@hub.example")[0] == 550
        assert client.rcpt(REPLY_ADDRESS)[0] == 250


def test_mail_above_the_size_limit_is_refused(smtp_port: int) -> None:
    import smtplib

    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as client:
        client.ehlo("mx.citizen.example")
        assert client.has_extn("size") and int(client.esmtp_features["size"]) == 25 * 1024 * 1024
        code, _ = client.mail("rina@citizen.example", options=[f"SIZE={26 * 1024 * 1024}"])
    assert code == 552


def hub_reply_secret(hub: Hub) -> str:
    return str(json.loads((hub.data_dir / "secrets.json").read_text())["reply_secret"])


def ignored_count(hub: Hub, reason: str) -> float:
    port = hub.state()["doors"]["email-door"]["port"]
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    found = re.search(rf'^simpul_email_ignored_total\{{reason="{reason}"\}} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else 0.0


def test_an_sms_becomes_a_complaint_the_agency_gets(hub: Hub, api: Api) -> None:
    """The SMS door through the one base URL: a gateway's signed call, with the channel key an admin issued."""
    api.node("PEMKOT-MLG", "instansi")
    agency = api.key("PEMKOT-MLG")
    rule = {"agency_code": "PEMKOT-MLG", "classification": "pengaduan", "keywords": ["genangan"], "priority": 5}
    api.ok(api.client.post("/api/v1/hub/routing-rules", json=rule, headers=api.admin), 201)
    issued = api.ok(
        api.client.post("/api/v1/hub/api-keys", json={"role": "channel", "label": "SMS 1708"}, headers=api.admin), 201
    )
    secret = str(json.loads((hub.data_dir / "secrets.json").read_text())["sms_signing_secret"])
    body = json.dumps({"from": "0812 3456 7890", "text": "Genangan air di Jl. Ijen sejak pagi", "message_id": "gw-1"})

    def send() -> httpx.Response:
        return api.client.post(
            "/api/v1/channels/sms/inbound",
            content=body.encode(),
            headers={
                "Authorization": f"Bearer {issued['key']}",
                "Content-Type": "application/json",
                "Simpul-Signature": signature(secret, int(time.time()), body.encode()),
            },
        )

    # The channel key reaches intake as an event: until then it is unknown there.
    deadline = time.monotonic() + 60
    while (answer := send()).status_code == 401 and time.monotonic() < deadline:  # until intake has the key
        time.sleep(0.5)
    assert answer.status_code == 200, answer.text
    tid = answer.json()["tracking_id"]
    assert answer.json()["kind"] == "complaint" and "receipt" not in answer.json()
    assert send().json()["tracking_id"] == tid, "a redelivered SMS files nothing twice"
    wait_for(lambda: tid in api.inbox(agency), timeout=60)
    case = api.ok(api.client.get(f"/api/v1/hub/complaints/{tid}", headers=api.admin), 200)
    assert (case["channel"], case["content"]) == ("sms", "Genangan air di Jl. Ijen sejak pagi")
