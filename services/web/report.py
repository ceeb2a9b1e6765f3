"""/report: the report form, and the confirmation that shows the tracking number and the receipt once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from services.web.api import ApiDown, ApiProblem, ApiUnanswered, Visitor
from services.web.i18n import N_, request_language
from services.web.portal import Portal, PortalDep
from services.web.report_form import ReportForm
from services.web.track import remember_case
from services.web.uploads import upload_all
from services.web.words import API_DOWN, MAYBE_RECEIVED, NOT_SENT, SUBMIT_REFUSALS

router = APIRouter()

TOO_MANY_FILES = N_("Choose %(count)s files or fewer")
FILES_AGAIN = N_("Your files were not sent. Choose them again.")


async def _form_page(
    portal: Portal, request: Request, report: ReportForm, status: int = 200, summary: str | None = None
) -> Response:
    language = request_language(request)
    context = {
        "form": report,
        "summary": summary,
        "categories": await portal.reference.category_groups(language),
        "regions": await portal.reference.region_groups(),
        "max_files": portal.settings.max_files,
        "max_file_bytes": portal.settings.max_file_bytes,
        "files_again": FILES_AGAIN if report.files and (report.errors or summary) else None,
    }
    return portal.pages.render(request, "report.html", context, status, switch=status == 200)


@router.get("/report")
async def report_form(request: Request, portal: PortalDep) -> Response:
    """The report form."""
    return await _form_page(portal, request, ReportForm())


@router.post("/report")
async def send_report(request: Request, portal: PortalDep) -> Response:
    """Sends the report, then its files; answers with the receipt, shown this once."""
    form = await portal.form(request, files=portal.settings.max_files)
    try:
        report = ReportForm.read(form)
        if len(report.files) > portal.settings.max_files:
            report.errors["attachments"] = TOO_MANY_FILES
        if report.errors:
            return await _form_page(portal, request, report, 422)
        visitor = Visitor.of(request)
        language = request_language(request)
        try:
            created, replayed = await portal.api.submit(report.body(language), f"web-{report.token}", visitor)
        except ApiUnanswered:
            return await _form_page(portal, request, report, 503, MAYBE_RECEIVED)
        except ApiDown:
            return await _form_page(portal, request, report, 503, API_DOWN)
        except ApiProblem as problem:
            if problem.code == "idempotency_key_mismatch":
                report.token = ReportForm().token
            if problem.status == 422 and report.refuse(problem):
                return await _form_page(portal, request, report, 422)
            return await _form_page(
                portal, request, report, problem.status, SUBMIT_REFUSALS.get(problem.code, NOT_SENT)
            )
        tracking_id, receipt = str(created["tracking_id"]), str(created["receipt"])
        # Sent again after an answer that never came, the files may not all be on the case yet: each goes again,
        # under its own key, and the API adds it once.
        outcomes = await upload_all(portal, tracking_id, receipt, report.files, visitor, f"web-{report.token}")
    finally:
        await form.close()
    context: dict[str, Any] = {
        "tracking_id": tracking_id,
        "receipt": receipt,
        "warnings": created.get("warnings") or [],
        "files": outcomes,
        "replayed": replayed and bool(report.files),
        "submitted_at": created.get("submitted_at"),
        "region": report.values["region_code"] or None,
        "track_url": (portal.settings.public_base_url or str(request.base_url)).rstrip("/") + "/track",
    }
    response = portal.pages.render(request, "confirmation.html", context, switch=False)
    remember_case(portal, request, response, tracking_id, receipt)
    return response
