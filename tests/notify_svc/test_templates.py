"""Every template renders in both languages with realistic values, and says what its reader needs: the tracking id,
the link, dates in the reader's timezone, the receipt in the confirmation and nowhere else."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import UndefinedError, meta

from notify_svc.notifications.triggers import OFFICER_TEMPLATES, REPORTER_TEMPLATES
from notify_svc.sending.templates import Renderer
from shared.domain import STATUS_LABELS, RejectReason, Status

TID = "SPL-7QK2M9XA4B"
LINK = f"http://hub.example/track/{TID}"
RECEIPT = "K7QD-2M9X-A4BH-PL3T-WV8N-C6RE-5JYU-ZG2F"
DUE = "2026-03-11T16:59:59.999999+00:00"  # the end of Wednesday 11 March 2026, WIB


def sample(template: str, **extra: Any) -> dict[str, Any]:
    """The values the sender gives `template`: the stored context plus what it derives at send time."""
    derived: dict[str, Any] = {
        "link": LINK,
        "recipient_name": "Siti Aminah",
        "recipient_kind": "reporter",
        "language": "id",
        "timezone": "Asia/Jakarta",
    }
    stored: dict[str, dict[str, Any]] = {
        "confirmation": {"tracking_id": TID, "submitted_at": "2026-03-09T02:15:00+00:00", "has_receipt": True},
        "status_changed": {
            "tracking_id": TID,
            "status": "in_progress",
            "previous_status": "dispositioned",
            "status_label": STATUS_LABELS[Status.in_progress],
            "reason": None,
            "reason_code": None,
            "case_version": 3,
            "changed_at": "2026-03-09T02:15:00+00:00",
        },
        "followup_posted": {
            "tracking_id": TID,
            "followup_id": "f-1",
            "agency_code": "LAPAS-SBY",
            "agency_name": "Lapas Kelas I Surabaya",
            "content": "Pungutan dihentikan <segera> & petugas diperiksa.",
            "is_final": False,
            "posted_at": "2026-03-09T02:15:00+00:00",
        },
        "reminder": {"tracking_id": TID, "awaiting": "answered", "due_at": DUE},
        "escalation": {
            "tracking_id": TID,
            "clock": "resolution",
            "level": 1,
            "coordinator_level": 1,
            "target": "liaison",
            "agency_code": "LAPAS-SBY",
            "target_agency_code": "LAPAS-SBY",
            "due_at": DUE,
            "escalated_at": "2026-03-12T00:00:00+00:00",
            "recipient_kind": "liaison",
        },
        "digest": {
            "tracking_id": None,
            "node_code": "LAPAS-SBY",
            "day": "2026-03-12",
            "due_soon_days": 2,
            "overdue": [{"tracking_id": TID, "clock": "resolution", "due_at": DUE}],
            "overdue_total": 1,
            "due_soon": [{"tracking_id": "SPL-3HX8R2KD7W", "clock": "first_response", "due_at": DUE}],
            "due_soon_total": 4,
            "recipient_kind": "liaison",
        },
    }
    ctx = {**derived, **stored[template], **extra}
    if template == "confirmation" and ctx["has_receipt"]:
        ctx.setdefault("receipt", RECEIPT)
    return ctx


ALL = sorted((*REPORTER_TEMPLATES, *OFFICER_TEMPLATES))
GREETING = {"id": "Yth. Siti Aminah,", "en": "Dear Siti Aminah,"}
SIGNATURE = {"id": "Email ini dikirim otomatis", "en": "This email was sent automatically"}


def test_the_templates_are_those_the_triggers_use() -> None:
    r = Renderer()
    assert r.templates() == ALL
    assert r.sms_templates() == sorted(REPORTER_TEMPLATES), "every reporter message has an SMS text; officers' none"


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("template", ALL)
def test_every_template_renders(template: str, language: str) -> None:
    r = Renderer()
    ctx = sample(template, language=language)
    out = r.render(template, language, ctx)
    ids = ("LAPAS-SBY",) if template == "digest" else (TID,)
    for tid in ids:
        assert tid in out.subject and tid in out.body
    assert "\n" not in out.subject and out.subject.startswith("[Simpul] ")
    assert out.body.startswith(GREETING[language]) and SIGNATURE[language] in out.body
    assert LINK in out.body
    assert "{{" not in out.body and "{%" not in out.body and "None" not in out.body
    # Every value a template reads is one the sender gives it (no undefined variable, no silent blank).
    env = r.env
    for part in ("subject", "body"):
        source = env.loader.get_source(env, f"{language}/{template}.{part}.j2")[0]  # type: ignore[union-attr]
        assert meta.find_undeclared_variables(env.parse(source)) <= set(ctx)
    if template in REPORTER_TEMPLATES:
        sms = r.render_sms(template, language, ctx)
        assert TID in sms and LINK in sms and sms.startswith("Simpul: ")
        assert len(sms) <= 306, f"{len(sms)} characters: more than two SMS segments"


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("template", ALL)
def test_the_receipt_is_only_in_the_confirmation(template: str, language: str) -> None:
    r = Renderer()
    # Even if a receipt were in the values by mistake, only the confirmation shows it.
    ctx = sample(template, language=language, receipt=RECEIPT)
    shown = r.render(template, language, ctx).body
    if template in REPORTER_TEMPLATES:
        shown += r.render_sms(template, language, ctx)
    assert (RECEIPT in shown) == (template == "confirmation")


def test_the_confirmation_gives_the_receipt_once_or_points_to_it() -> None:
    r = Renderer()
    with_receipt = r.render("confirmation", "id", sample("confirmation"))
    assert with_receipt.subject == f"[Simpul] Laporan {TID} telah diterima"
    assert f"Resi laporan Anda: {RECEIPT}" in with_receipt.body
    assert "pada 9 Maret 2026, 09.15 WIB dengan nomor pelacakan" in with_receipt.body
    assert "resi hanya dikirim sekali, dalam pesan ini" in with_receipt.body
    sms = r.render_sms("confirmation", "en", sample("confirmation", language="en"))
    assert f"Receipt: {RECEIPT} (keep it; it is not sent again)." in sms

    without = r.render("confirmation", "en", sample("confirmation", language="en", has_receipt=False))
    assert "Your receipt" not in without.body
    assert "Use the receipt you were given when you submitted the report." in without.body
    assert "Resi:" not in r.render_sms("confirmation", "id", sample("confirmation", has_receipt=False))


@pytest.mark.parametrize("status", list(Status))
def test_status_changed_shows_the_lapor_label_in_both_languages(status: Status) -> None:
    r = Renderer()
    ctx = sample("status_changed", status=status.value, status_label=STATUS_LABELS[status], reason="Lokasi belum jelas")
    indonesian = r.render("status_changed", "id", ctx)
    english = r.render("status_changed", "en", {**ctx, "language": "en"})
    label = STATUS_LABELS[status]
    assert indonesian.subject == f"[Simpul] Laporan {TID}: {label}"
    assert f"kini: {label}." in indonesian.body
    assert f"({label})" in english.subject and f"({label})." in english.body
    if status is Status.postponed:  # the request for more information: the question, and how long to answer
        assert "Informasi yang diperlukan: Lokasi belum jelas" in indonesian.body
        assert "Mohon lengkapi laporan Anda dalam 10 hari kerja" in indonesian.body
        assert "What we need: Lokasi belum jelas" in english.body
        sms = r.render_sms("status_changed", "id", ctx)
        assert "Mohon lengkapi dalam 10 hari kerja. Yang diperlukan: Lokasi belum jelas " in sms
    else:
        assert "Keterangan: Lokasi belum jelas" in indonesian.body
        assert "Note: Lokasi belum jelas" in english.body
    assert "resi hanya dikirim sekali" in indonesian.body and "sent only once" in english.body


def test_answered_completed_and_rejected_say_what_follows() -> None:
    r = Renderer()

    def ctx(status: Status, **extra: Any) -> dict[str, Any]:
        return sample("status_changed", status=status.value, status_label=STATUS_LABELS[status], **extra)

    answered = r.render("status_changed", "id", ctx(Status.answered)).body
    assert "dalam 10 hari kerja; tanpa tanggapan, laporan dinyatakan selesai" in answered
    completed = r.render("status_changed", "en", ctx(Status.completed, language="en"))
    assert completed.subject == f"[Simpul] Report {TID}: Completed (Selesai)" and "Thank you" in completed.body
    withdrawn = ctx(Status.rejected, reason_code=RejectReason.withdrawn.value)
    assert "tidak dapat ditindaklanjuti (dicabut)." in r.render("status_changed", "id", withdrawn).body
    assert "cannot be taken up (withdrawn)." in r.render("status_changed", "en", withdrawn).body
    assert "Alasan: dicabut." in r.render_sms("status_changed", "id", withdrawn)


def test_followup_texts() -> None:
    r = Renderer()
    progress = r.render("followup_posted", "id", sample("followup_posted", recipient_name=None))
    assert progress.body.startswith("Yth. Pelapor,"), "no name (anonymous): a neutral greeting"
    assert "Lapas Kelas I Surabaya telah memberikan tindak lanjut atas" in progress.body
    assert "Pungutan dihentikan <segera> & petugas diperiksa." in progress.body, "plain text: nothing escaped"
    final = r.render("followup_posted", "en", sample("followup_posted", language="en", is_final=True))
    assert final.subject == f"[Simpul] Report {TID}: final response from Lapas Kelas I Surabaya"
    assert "within 10 working days" in final.body
    assert "Pungutan" not in r.render_sms("followup_posted", "id", sample("followup_posted")), "SMS: no content"


def test_the_reminder_names_the_day_in_the_reporters_timezone() -> None:
    r = Renderer()
    answered = r.render("reminder", "id", sample("reminder"))
    assert answered.subject == f"[Simpul] Pengingat: laporan {TID} menunggu tanggapan Anda"
    assert "hingga 11 Maret 2026, 23.59 WIB, laporan akan dinyatakan selesai" in answered.body
    in_papua = sample("reminder", awaiting="postponed", timezone="Asia/Jayapura", language="en")
    postponed = r.render("reminder", "en", in_papua)
    assert (
        "Unless you complete it by 12 March 2026, 01:59 WIT, the report will be taken as withdrawn." in postponed.body
    )
    assert "by 12 March 2026, it is taken as withdrawn" in r.render_sms("reminder", "en", in_papua)


def test_escalation_notices_by_level_and_reader() -> None:
    r = Renderer()
    liaison = r.render("escalation", "id", sample("escalation", recipient_name="Budi"))
    assert liaison.subject == f"[Simpul] Eskalasi tingkat 1: laporan {TID} melewati batas waktu"
    assert f"Batas waktu penyelesaian laporan {TID} pada LAPAS-SBY telah terlewati: 11 Maret 2026, 23.59 WIB." in (
        liaison.body
    )
    assert "sebagai pejabat penghubung LAPAS-SBY." in liaison.body
    parent = sample("escalation", level=2, target="parent", target_agency_code="KANWIL-JATIM", language="en")
    assert "to the parent node (KANWIL-JATIM)" in r.render("escalation", "en", parent).body
    oversight = sample(
        "escalation",
        level=4,
        coordinator_level=4,
        target="oversight",
        target_agency_code=None,
        recipient_kind="coordinator",
    )
    text = r.render("escalation", "id", oversight).body
    assert "Ombudsman RI" in text and "sebagai koordinator tingkat 4." in text
    hub_instead = sample(
        "escalation",
        level=2,
        coordinator_level=3,
        target="coordinators",
        target_agency_code=None,
        recipient_kind="coordinator",
    )
    text = r.render("escalation", "id", hub_instead).body
    assert "Ini eskalasi tingkat 2: kepada koordinator pengelola pengaduan, menggantikan instansi induk" in text
    assert "sebagai koordinator tingkat 3." in text


def test_the_digest_lists_overdue_and_due_soon_cases() -> None:
    r = Renderer()
    out = r.render("digest", "id", sample("digest", timezone="Asia/Makassar"))
    assert out.subject == "[Simpul] Ringkasan harian LAPAS-SBY 12 Maret 2026: 1 terlambat, 4 segera jatuh tempo"
    overdue, due_soon = out.body.split("Jatuh tempo dalam 2 hari kerja (4):")
    assert f"- {TID}: penyelesaian, batas 12 Maret 2026, 00.59 WITA" in overdue
    assert "- SPL-3HX8R2KD7W: respons pertama, batas 12 Maret 2026, 00.59 WITA" in due_soon
    assert "- dan 3 laporan lainnya" in due_soon and "lainnya" not in overdue
    quiet_day = sample("digest", language="en", overdue=[], overdue_total=0)
    assert "Past their deadline (0):\n- none" in r.render("digest", "en", quiet_day).body


def test_unknown_language_falls_back_to_indonesian() -> None:
    out = Renderer().render("status_changed", "fr", sample("status_changed"))
    assert out.subject == f"[Simpul] Laporan {TID}: Proses"


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    ctx = sample("followup_posted")
    del ctx["agency_name"]
    with pytest.raises(UndefinedError):
        Renderer().render("followup_posted", "id", ctx)
    reminder = sample("reminder")
    del reminder["timezone"]
    with pytest.raises(UndefinedError):
        Renderer().render("reminder", "en", reminder)
