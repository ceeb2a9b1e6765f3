"""Every template renders in both languages with the content a reporter needs."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import UndefinedError

from notify_svc.sending.templates import Renderer
from shared.domain import STATUS_LABELS, Status

LINK = "http://hub.example/api/v1/complaints/LPR-ABC123"


def status_context(status: Status, **extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "tracking_id": "LPR-ABC123",
        "status": status.value,
        "previous_status": "submitted",
        "status_label": STATUS_LABELS[status],
        "reason": None,
        "reason_code": None,
        "case_version": 2,
        "changed_at": "2025-03-02T08:00:00+00:00",
        "link": LINK,
        "reporter_name": "Siti",
        "language": "id",
    }
    ctx.update(extra)
    return ctx


def followup_context(**extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "tracking_id": "LPR-ABC123",
        "followup_id": "f-1",
        "agency_code": "LAPAS-SBY",
        "agency_name": "Lapas Surabaya",
        "content": "Pungutan dihentikan <segera> & petugas diperiksa.",
        "is_final": False,
        "posted_at": "2025-03-02T08:00:00+00:00",
        "link": LINK,
        "reporter_name": None,
        "language": "id",
    }
    ctx.update(extra)
    return ctx


SAMPLES = {"status_changed": status_context(Status.in_progress), "followup_posted": followup_context()}
GREETING = {"id": "Yth.", "en": "Dear"}


def test_every_template_has_a_sample() -> None:
    assert set(Renderer().templates()) == set(SAMPLES)


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_every_template_renders(template: str, language: str) -> None:
    out = Renderer().render(template, language, SAMPLES[template])
    assert "LPR-ABC123" in out.subject and "\n" not in out.subject
    assert out.body.startswith(GREETING[language])
    assert "LPR-ABC123" in out.body and LINK in out.body
    assert "resi" in out.body or "receipt" in out.body
    assert "{{" not in out.body and "{%" not in out.body


@pytest.mark.parametrize("status", list(Status))
def test_status_changed_shows_the_lapor_label_in_both_languages(status: Status) -> None:
    r = Renderer()
    ctx = status_context(status, reason="Lokasi belum jelas")
    indonesian = r.render("status_changed", "id", ctx)
    english = r.render("status_changed", "en", ctx)
    label = STATUS_LABELS[status]
    assert indonesian.subject == f"[Simpul] Laporan LPR-ABC123: {label}"
    assert f"kini: {label}." in indonesian.body
    assert f"({label})" in english.subject and f"({label})." in english.body
    assert "Keterangan: Lokasi belum jelas" in indonesian.body
    assert "Note: Lokasi belum jelas" in english.body
    assert "Yth. Siti," in indonesian.body and "Dear Siti," in english.body


def test_english_labels_are_english() -> None:
    out = Renderer().render("status_changed", "en", status_context(Status.completed))
    assert out.subject == "[Simpul] Report LPR-ABC123: Completed (Selesai)"
    assert "Thank you" in out.body


def test_followup_texts() -> None:
    r = Renderer()
    progress = r.render("followup_posted", "id", followup_context())
    assert "Yth. Pelapor," in progress.body, "no name: a neutral greeting"
    assert "Lapas Surabaya telah memberikan tindak lanjut atas" in progress.body
    assert "Pungutan dihentikan <segera> & petugas diperiksa." in progress.body, "plain text: nothing escaped"
    final = r.render("followup_posted", "en", followup_context(is_final=True))
    assert final.subject == "[Simpul] Report LPR-ABC123: final response from Lapas Surabaya"
    assert "within 10 working days" in final.body


def test_unknown_language_falls_back_to_indonesian() -> None:
    out = Renderer().render("status_changed", "fr", status_context(Status.in_progress))
    assert out.subject == "[Simpul] Laporan LPR-ABC123: Proses"


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    ctx = followup_context()
    del ctx["agency_name"]
    with pytest.raises(UndefinedError):
        Renderer().render("followup_posted", "id", ctx)
