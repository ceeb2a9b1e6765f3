"""The email door's reading of mail, without a hub: subjects and charsets, HTML made plain, quotes cut from replies,
what is ignored, and the complaint a mail becomes."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from pydantic import ValidationError

from services.doors.email.door import NO_TEXT, NO_TITLE, complaint_body, idempotency_key, reply_content
from services.doors.email.parsing import parse
from services.doors.email.screening import ignore_reason
from services.doors.email.settings import EmailDoorSettings
from services.doors.email.text import html_to_text, strip_quotes
from shared.reply_address import REPLY_ABOVE, case_of, has_case_tag, reply_address, reply_token

OWN = frozenset({"no-reply@hub.example", "lapor@hub.example"})
DOMAINS = frozenset({"hub.example"})
SECRET = "the-door-s-key-secret"


def mail(body: str = "Jalan rusak di depan sekolah.", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Siti Aminah <siti@example.test>")
    msg["To"] = headers.pop("To", "lapor@hub.example")
    msg["Subject"] = headers.pop("Subject", "Jalan rusak")
    msg["Message-ID"] = headers.pop("Message_ID", "<m1@example.test>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def test_rfc2047_subject_and_display_name_are_decoded() -> None:
    raw = (
        b"From: =?utf-8?q?Siti_Aminah_=C3=B6?= <Siti@Example.TEST>\r\n"
        b"Subject: =?utf-8?b?UHVuZ3V0YW4gbGlhcg==?= =?iso-8859-1?q?_caf=E9?=\r\n"
        b"Message-ID: <abc@example.test>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nIsi laporan.\r\n"
    )
    m = parse(raw)
    assert m.subject == "Pungutan liar café"
    assert m.from_name == "Siti Aminah ö"
    assert m.from_address == "siti@example.test"
    assert m.message_id == "abc@example.test"
    assert m.text == "Isi laporan."


@pytest.mark.parametrize(
    ("charset", "text"),
    [("iso-8859-1", "Pelayanan buruk, café"), ("windows-1252", "tanda “kutip”"), ("utf-8", "Pelayanan 😠")],
)
def test_body_in_its_charset(charset: str, text: str) -> None:
    raw = (
        f"From: a@example.test\r\nSubject: x\r\nContent-Type: text/plain; charset={charset}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + text.encode(charset)
    assert parse(raw).text == text


def test_an_unknown_or_wrong_charset_is_read_as_utf8_or_windows_1252() -> None:
    head = b"From: a@example.test\r\nSubject: x\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n"
    assert parse(head + "Tolong ditindaklanjuti ✓".encode()).text == "Tolong ditindaklanjuti ✓"
    assert parse(head + "caf\xe9".encode("latin-1")).text == "café"


def test_html_only_mail_becomes_text_without_scripts_or_entity_tricks() -> None:
    html = (
        "<html><head><title>t</title><style>p{color:red}</style><script>alert('x')</script></head>"
        "<body><!-- hidden --><p>Halo,&nbsp;petugas &amp;lt;b&amp;gt;</p><p>Baris &lt;script&gt;alert(1)&lt;/script&gt;"
        "<br>kedua</p><ul><li>satu</li><li>dua</li></ul><img src=x onerror=alert(1)></body></html>"
    )
    text = html_to_text(html)
    assert text == "Halo, petugas &lt;b&gt;\n\nBaris <script>alert(1)</script>\nkedua\n\nsatu\n\ndua"
    assert "color" not in text and "alert('x')" not in text and "hidden" not in text

    msg = EmailMessage()
    msg["From"] = "a@example.test"
    msg["Subject"] = "html"
    msg.set_content(html, subtype="html")
    assert parse(msg.as_bytes(policy=SMTP)).text == text


def test_plain_part_wins_over_html_and_files_are_kept() -> None:
    msg = mail("Teks biasa.")
    msg.add_alternative("<p>Teks <b>HTML</b>.</p>", subtype="html")
    msg.add_attachment(b"\x89PNG\r\n\x1a\n0000", maintype="image", subtype="png", filename="../../foto jalan.png")
    msg.add_attachment(b"catatan", maintype="text", subtype="plain", filename="catatan.txt")
    m = parse(msg.as_bytes(policy=SMTP))
    assert m.text == "Teks biasa."
    assert [(a.filename, a.media_type, a.data) for a in m.attachments] == [
        ("foto jalan.png", "image/png", b"\x89PNG\r\n\x1a\n0000"),
        ("catatan.txt", "text/plain", b"catatan"),
    ]


def test_broken_mime_still_gives_text() -> None:
    raw = b"From: a@example.test\r\nSubject: rusak\r\nContent-Type: multipart/mixed\r\n\r\nTidak ada batas di sini.\r\n"
    m = parse(raw)
    assert m.subject == "rusak"
    assert "Tidak ada batas di sini." in m.text


def test_garbage_is_still_a_mail() -> None:
    m = parse(b"\x00\xff\xfe not a mail at all")
    body = complaint_body(m)
    assert body["title"] == NO_TITLE and body["content"]
    assert body["channel"] == "email" and body["classification"] == "pengaduan" and "category" not in body


def test_complaint_body_from_a_mail() -> None:
    m = parse(mail(Subject="  " + "Judul " * 60).as_bytes(policy=SMTP))
    body = complaint_body(m)
    assert 190 < len(body["title"]) <= 200 and body["title"].endswith("…")
    assert body["content"] == "Jalan rusak di depan sekolah."
    assert body["reporter"] == {"email": "siti@example.test", "name": "Siti Aminah"}

    empty = complaint_body(parse(mail("   \n\n", Subject="").as_bytes(policy=SMTP)))
    assert (empty["title"], empty["content"]) == (NO_TITLE, NO_TEXT)

    nameless = complaint_body(parse(mail(From="not an address").as_bytes(policy=SMTP)))
    assert "reporter" not in nameless or "email" not in nameless["reporter"]


def test_idempotency_key_follows_the_message_id_else_the_bytes() -> None:
    a = parse(mail("satu").as_bytes(policy=SMTP))
    b = parse(mail("dua").as_bytes(policy=SMTP))
    assert idempotency_key(a, SECRET) == idempotency_key(b, SECRET), "one Message-ID, one key"
    assert idempotency_key(a, SECRET).startswith("email:") and len(idempotency_key(a, SECRET)) < 200
    no_id = b"From: a@example.test\r\nSubject: x\r\n\r\nsatu\r\n"
    assert idempotency_key(parse(no_id), SECRET) == idempotency_key(parse(no_id), SECRET)
    assert idempotency_key(parse(no_id), SECRET) != idempotency_key(parse(no_id.replace(b"satu", b"dua")), SECRET)


def test_the_key_cannot_be_computed_from_the_mail_alone() -> None:
    """Whoever holds a copy of the mail knows its Message-ID and bytes, not the door's secret: the old unkeyed
    hashes are not the key, and another secret gives another key."""
    m = parse(mail().as_bytes(policy=SMTP))
    key = idempotency_key(m, SECRET)
    assert key != idempotency_key(m, "another door's secret")
    for source in (f"message-id:{m.message_id}", m.message_id or "", f"<{m.message_id}>", f"bytes:{m.digest}"):
        assert key != "email:" + hashlib.sha256(source.encode()).hexdigest()[:48]
    with pytest.raises(ValueError, match="secret is empty"):
        idempotency_key(m, "")


def test_the_door_needs_a_secret_for_its_keys() -> None:
    with pytest.raises(ValidationError, match="key_secret"):
        EmailDoorSettings(api_key="sk_channel_test", addresses="lapor@hub.example")
    only_reply = EmailDoorSettings(api_key="k", reply_secret="r", addresses="lapor@hub.example")
    assert only_reply.idempotency_secret() == "r"
    both = EmailDoorSettings(api_key="k", reply_secret="r", key_secret="k2", addresses="lapor@hub.example")
    assert both.idempotency_secret() == "k2"


def test_smtp_needs_the_hub_s_intake_addresses() -> None:
    with pytest.raises(ValidationError, match="SIMPUL_EMAIL_ADDRESSES"):
        EmailDoorSettings(api_key="k", key_secret="s")
    settings = EmailDoorSettings(api_key="k", key_secret="s", addresses="Lapor@Hub.example, pengaduan@hub.example")
    assert settings.intake_addresses() == {"lapor@hub.example", "pengaduan@hub.example"}


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Terima kasih, sudah saya cek.\n\nOn Mon, 7 Dec 2026 at 10:00, Simpul <no-reply@hub.example> wrote:\n> Halo",
         "Terima kasih, sudah saya cek."),
        ("Baik.\n\nPada tanggal Sen, 7 Des 2026 pukul 10.00 Simpul <no-reply@hub.example>\nmenulis:\n\n> Yth.",
         "Baik."),
        ("Jawaban saya di bawah.\n> kutipan satu\n>> kutipan dua\nBaris sendiri.",
         "Jawaban saya di bawah.\nBaris sendiri."),
        ("Oke.\n\n-----Original Message-----\nFrom: x", "Oke."),
        ("Oke.\n\n________________________________\nDari: Simpul\nTerkirim: ...", "Oke."),
        ("On time, the bus never came.", "On time, the bus never came."),
        (f"Sudah diperbaiki.\n\n{REPLY_ABOVE}\n\nYth. Siti Aminah,\nStatus laporan Anda ...", "Sudah diperbaiki."),
        ("Belum.\n\nPada Sen, Simpul menulis:\n> ## Balas di atas baris ini / Reply above this line ##\n> Yth.",
         "Belum."),
        ("Still broken.\nreply  ABOVE this line\nDear Siti", "Still broken."),
        ("Belum ada perbaikan.\n--\nSiti Aminah\n0812 3456 7890", "Belum ada perbaikan."),
        ("Belum.\n\nFrom: Simpul <no-reply@hub.example>\nSent: Monday, 7 December 2026 10:00\n"
         "To: Siti Aminah <siti@example.test>\nSubject: [Simpul] Laporan SPL-1\n\nDear Siti Aminah",
         "Belum."),
        ("Belum.\n\n*Dari:* Simpul <no-reply@hub.example>\n*Dikirim:* Senin, 7 Desember 2026\n"
         "*Kepada:* Siti Aminah\n*Perihal:* Laporan", "Belum."),
        ("Oke.\n\n-----Pesan Asli-----\nDari: Simpul", "Oke."),
        ("From: my neighbour, the road is still broken.\nTo: whoever reads this.",
         "From: my neighbour, the road is still broken.\nTo: whoever reads this."),
        ("Harga -- terlalu mahal.\n---\nCatatan", "Harga -- terlalu mahal.\n---\nCatatan"),
    ],
)  # fmt: skip
def test_quoted_text_is_cut_from_replies(text: str, kept: str) -> None:
    assert strip_quotes(text) == kept


def test_outlook_html_reply_is_cut_at_its_header_block() -> None:
    html = (
        "<html><body><p>Jalan belum diperbaiki.</p><div style='border-top:solid #E1E1E1 1.0pt'><p><b>Dari:</b> "
        "Simpul &lt;no-reply@hub.example&gt;<br><b>Dikirim:</b> Senin, 07 Desember 2026 10.00<br><b>Kepada:</b> "
        "Siti Aminah &lt;siti@example.test&gt;<br><b>Subjek:</b> [Simpul] Laporan</p></div>"
        "<p>Yth. Siti Aminah,</p></body></html>"
    )
    msg = mail()
    msg.set_content(html, subtype="html")
    assert reply_content(parse(msg.as_bytes(policy=SMTP))) == "Jalan belum diperbaiki."


def test_a_refused_reply_becomes_a_complaint_without_what_it_quotes() -> None:
    text = f"Tambahan: lubangnya dua.\n\n{REPLY_ABOVE}\n\nYth. Siti Aminah,\nResi laporan Anda: rcpt-rahasia"
    m = parse(mail(text).as_bytes(policy=SMTP))
    assert complaint_body(m, quoting=True)["content"] == "Tambahan: lubangnya dua."
    assert "rcpt-rahasia" in complaint_body(m)["content"], "a new mail is taken whole"


def test_reply_content_notes_files_it_could_not_keep() -> None:
    msg = mail("Fotonya terlampir.\n\n> kutipan")
    msg.add_attachment(b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png", filename="a.png")
    content = reply_content(parse(msg.as_bytes(policy=SMTP)))
    assert content.startswith("Fotonya terlampir.") and "kutipan" not in content
    assert "1 lampiran" in content and "portal" in content
    assert reply_content(parse(mail("> hanya kutipan").as_bytes(policy=SMTP))) == NO_TEXT


@pytest.mark.parametrize(
    ("headers", "envelope_sender", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "x@example.test", "auto_submitted"),
        ({"Auto_Submitted": "auto-generated"}, None, "auto_submitted"),
        ({"X_Autoreply": "yes"}, None, "auto_reply"),
        ({"X_Autorespond": "Out of office"}, None, "auto_reply"),
        ({"Precedence": "bulk"}, None, "precedence"),
        ({"Precedence": "auto_reply"}, None, "precedence"),
        ({"Precedence": "list"}, None, "precedence"),
        ({}, "", "bounce"),
        ({"Return_Path": "<>"}, None, "bounce"),
        ({"From": "MAILER-DAEMON@mx.example.test"}, "x@example.test", "bounce"),
        ({"From": "postmaster@example.test"}, None, "bounce"),
        ({"From": "Simpul <no-reply@hub.example>"}, None, "loop"),
        ({"X_Loop": "no-reply@hub.example"}, None, "loop"),
        ({"Message_ID": "<4f1c@hub.example>"}, None, "loop"),
    ],
)
def test_machines_and_loops_are_ignored(headers: dict[str, str], envelope_sender: str | None, reason: str) -> None:
    m = parse(mail(**headers).as_bytes(policy=SMTP))
    assert ignore_reason(m, envelope_sender, OWN, DOMAINS) == reason


def test_a_dsn_is_a_bounce() -> None:
    raw = (
        b"From: Mail Delivery System <mailer@mx.example.test>\r\nSubject: Undelivered\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Status: 5.1.1\r\n--b--\r\n"
    )
    assert ignore_reason(parse(raw), "x@mx.example.test", OWN, DOMAINS) == "bounce"


@pytest.mark.parametrize("headers", [{}, {"Auto_Submitted": "no"}, {"Precedence": "normal"}])
def test_a_person_s_mail_is_taken(headers: dict[str, str]) -> None:
    m = parse(mail(**headers).as_bytes(policy=SMTP))
    assert ignore_reason(m, "siti@example.test", OWN, DOMAINS) is None


def test_reply_address_round_trip() -> None:
    address = reply_address("lapor@hub.example", "SPL-7K3F9Q2XAB", "s3cret")
    assert address == f"lapor+SPL-7K3F9Q2XAB.{reply_token('SPL-7K3F9Q2XAB', 's3cret')}@hub.example"
    assert case_of(address, "s3cret") == "SPL-7K3F9Q2XAB"
    assert case_of(address.lower(), "s3cret") == "SPL-7K3F9Q2XAB", "a mail system may lower the case"
    assert case_of(address, "other") is None
    assert case_of(address.replace("SPL-7K3F9Q2XAB", "SPL-7K3F9Q2XAC"), "s3cret") is None
    assert case_of("lapor@hub.example", "s3cret") is None
    assert has_case_tag(address) and not has_case_tag("lapor@hub.example") and not has_case_tag("a+b@x.test")
