"""/track: open a case with its tracking number and receipt, then read it, reply, rate and add files."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from services.web.api import PASSED_ON_DOWNLOAD_HEADERS, ApiDown, ApiProblem, Visitor
from services.web.i18n import N_, request_language
from services.web.portal import Portal, PortalDep
from services.web.security import CASES_COOKIE, CASES_PATH, open_cases, seal_cases
from services.web.timeline import steps
from services.web.uploads import FileOutcome, upload_all
from services.web.words import CASE_NOT_FOUND, REPLY_REFUSALS, TOO_MANY_TRIES
from shared.crypto import MAX_RECEIPT_LENGTH
from shared.domain import TRACKING_ID_PATTERN

router = APIRouter()

TRACKING_ID = re.compile(TRACKING_ID_PATTERN)
ATTACHMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
CLOSED = frozenset({"rejected", "completed", "archived"})
RATABLE = frozenset({"answered", "completed"})

ENTER_TRACKING_ID = N_("Enter the tracking number, like SPL-7K3F9Q2XAB")
ENTER_RECEIPT = N_("Enter the receipt you were given when you sent the report")
ENTER_MESSAGE = N_("Write your message, in 5,000 characters or fewer")
CHOOSE_SCORE = N_("Choose a score from 1 to 5")
COMMENT_TOO_LONG = N_("Write your comment in 2,000 characters or fewer")
CHOOSE_FILE = N_("Choose a file to add")
NOT_DONE = N_("That could not be done. Try again.")
FILE_UNAVAILABLE = N_("This file cannot be downloaded.")


def tracking_id_of(text: str) -> str | None:
    value = re.sub(r"\s+", "", text).upper()
    return value if TRACKING_ID.match(value) else None


def remember_case(portal: Portal, request: Request, response: Response, tracking_id: str, receipt: str) -> None:
    """Keeps the receipt in the sealed HttpOnly cookie, for this browser session, beside the others it holds."""
    cases = _cases(portal, request)
    cases.pop(tracking_id, None)
    cases[tracking_id] = receipt
    portal.pages.cookie(response, CASES_COOKIE, seal_cases(portal.keys, cases), path=CASES_PATH)


def _cases(portal: Portal, request: Request) -> dict[str, str]:
    max_age = portal.settings.receipt_cookie_hours * 3600
    return open_cases(portal.keys, request.cookies.get(CASES_COOKIE), max_age)


def _forget(portal: Portal, request: Request, response: Response, tracking_id: str) -> None:
    cases = _cases(portal, request)
    cases.pop(tracking_id, None)
    if cases:
        portal.pages.cookie(response, CASES_COOKIE, seal_cases(portal.keys, cases), path=CASES_PATH)
    else:
        response.delete_cookie(CASES_COOKIE, path=CASES_PATH, secure=portal.pages.secure, httponly=True, samesite="lax")


def _track_form(
    portal: Portal,
    request: Request,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    status: int = 200,
) -> Response:
    context = {"values": values, "errors": errors or {}, "summary": summary}
    return portal.pages.render(request, "track.html", context, status, switch=request.method == "GET")


def _see_case(tracking_id: str, sent: str | None = None) -> RedirectResponse:
    """To the case page (the form that opens it, when this browser holds no receipt for it)."""
    if not tracking_id:
        return RedirectResponse("/track", status_code=303)
    return RedirectResponse(f"/track/{tracking_id}" + (f"?sent={sent}" if sent else ""), status_code=303)


@router.get("/track")
async def track_form(request: Request, portal: PortalDep) -> Response:
    """The form that opens a case: its tracking number and its receipt."""
    given = request.query_params.get("tracking_id", "")
    return _track_form(portal, request, {"tracking_id": tracking_id_of(given) or "", "receipt": ""})


@router.post("/track")
async def open_case(request: Request, portal: PortalDep) -> Response:
    """Checks the tracking number and receipt with the API, keeps the receipt in a cookie, and shows the case."""
    form = await portal.form(request)
    values = {name: str(form.get(name) or "").strip() for name in ("tracking_id", "receipt")}
    errors = {}
    tracking_id = tracking_id_of(values["tracking_id"])
    if not values["tracking_id"]:
        errors["tracking_id"] = ENTER_TRACKING_ID
    if not values["receipt"]:
        errors["receipt"] = ENTER_RECEIPT
    if errors:
        return _track_form(portal, request, values, errors, status=422)
    if tracking_id is None or len(values["receipt"]) > MAX_RECEIPT_LENGTH:
        return _track_form(portal, request, values, summary=CASE_NOT_FOUND, status=404)
    try:
        await portal.api.case(tracking_id, values["receipt"], Visitor.of(request))
    except ApiDown:
        return portal.pages.render(request, "unavailable.html", status=503, switch=False)
    except ApiProblem as problem:
        summary = TOO_MANY_TRIES if problem.status == 429 else CASE_NOT_FOUND
        return _track_form(portal, request, values, summary=summary, status=problem.status)
    response = _see_case(tracking_id)
    remember_case(portal, request, response, tracking_id, values["receipt"])
    return response


async def _case_page(
    portal: Portal,
    request: Request,
    tracking_id: str,
    receipt: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    outcomes: list[FileOutcome] | None = None,
    status: int = 200,
) -> Response:
    try:
        case = await portal.api.case(tracking_id, receipt, Visitor.of(request))
    except ApiDown:
        return portal.pages.render(request, "unavailable.html", status=503, switch=False)
    except ApiProblem as problem:
        if problem.status == 429:
            return _track_form(portal, request, {"tracking_id": tracking_id}, summary=TOO_MANY_TRIES, status=429)
        response = _track_form(portal, request, {"tracking_id": tracking_id}, summary=CASE_NOT_FOUND, status=404)
        _forget(portal, request, response, tracking_id)
        return response
    agency = await _agency_name(portal, case)
    pending = status_pending(case)
    context: dict[str, Any] = {
        "case": case,
        "agency": agency,
        "category_name": await portal.reference.category_name(case.get("category"), request_language(request)),
        "region_name": await portal.reference.region_name(case.get("region_code")),
        "timeline": steps(case.get("timeline") or [], agency),
        "errors": errors or {},
        "values": values or {},
        "sent": request.query_params.get("sent") if request.method == "GET" else None,
        "can_reply": case["status"] not in CLOSED,
        "status_pending": pending,
        "can_rate": case["status"] in RATABLE and not case.get("rating") and not pending,
        "can_add_files": case["status"] not in CLOSED,
        "province_zones": await portal.reference.province_zones(),
        "max_files": portal.settings.max_files,
        "max_file_bytes": portal.settings.max_file_bytes,
        "files": outcomes or [],
    }
    return portal.pages.render(request, "case.html", context, status, switch=request.method == "GET")


def status_pending(case: dict[str, Any]) -> bool:
    """Whether the reporter has rated or disputed the answer and the case has not moved on yet (the status follows
    a moment later, once the hub has taken the event)."""
    if case["status"] != "answered":
        return False
    if case.get("rating"):
        return True
    messages, answers = case.get("messages") or [], case.get("follow_ups") or []
    if not messages or not messages[-1].get("disputes_answer"):
        return False
    answered_at = [datetime.fromisoformat(str(a["posted_at"])) for a in answers if a.get("posted_at")]
    disputed_at = datetime.fromisoformat(str(messages[-1]["sent_at"]))
    return not answered_at or disputed_at > max(answered_at)


async def _agency_name(portal: Portal, case: dict[str, Any]) -> str | None:
    """The agency holding the case, by the name its answers give, else the directory's, else its code."""
    code = case.get("agency_code")
    if not code:
        return None
    named = (f.get("agency_name") for f in case.get("follow_ups") or [] if f.get("agency_code") == code)
    return next((str(n) for n in named if n), None) or await portal.reference.agency_name(code) or str(code)


def _receipt(portal: Portal, request: Request, tracking_id: str) -> str | None:
    return _cases(portal, request).get(tracking_id)


@router.get("/track/{tracking_id}")
async def show_case(tracking_id: str, request: Request, portal: PortalDep) -> Response:
    """The case: its status and timeline, the agency's answers, the reporter's messages and files."""
    tid = tracking_id_of(tracking_id)
    receipt = _receipt(portal, request, tid) if tid else None
    if tid is None or receipt is None:
        return _track_form(portal, request, {"tracking_id": tid or "", "receipt": ""})
    return await _case_page(portal, request, tid, receipt)


@router.post("/track/{tracking_id}/messages")
async def send_message(tracking_id: str, request: Request, portal: PortalDep) -> Response:
    """A message to the agency through the hub; while the case is answered it may dispute the answer."""
    form = await portal.form(request)
    tid = tracking_id_of(tracking_id)
    receipt = _receipt(portal, request, tid) if tid else None
    if tid is None or receipt is None:
        return _see_case(tid or "")
    values = {"content": str(form.get("content") or "").strip()}
    disputes = form.get("disputes_answer") in ("true", "on", "1")
    if disputes:
        values["disputes_answer"] = "true"
    if not values["content"] or len(values["content"]) > 5000:
        return await _case_page(
            portal, request, tid, receipt, errors={"content": ENTER_MESSAGE}, values=values, status=422
        )
    body = {"content": values["content"], "disputes_answer": disputes}
    return await _post(portal, request, tid, receipt, "messages", body, "content", values)


@router.post("/track/{tracking_id}/rating")
async def send_rating(tracking_id: str, request: Request, portal: PortalDep) -> Response:
    """The reporter's rating of the answer, 1 to 5, with a comment if they like."""
    form = await portal.form(request)
    tid = tracking_id_of(tracking_id)
    receipt = _receipt(portal, request, tid) if tid else None
    if tid is None or receipt is None:
        return _see_case(tid or "")
    values = {"score": str(form.get("score") or ""), "comment": str(form.get("comment") or "").strip()}
    errors = {}
    if values["score"] not in ("1", "2", "3", "4", "5"):
        errors["score"] = CHOOSE_SCORE
    if len(values["comment"]) > 2000:
        errors["comment"] = COMMENT_TOO_LONG
    if errors:
        return await _case_page(portal, request, tid, receipt, errors=errors, values=values, status=422)
    body: dict[str, Any] = {"score": int(values["score"])}
    if values["comment"]:
        body["comment"] = values["comment"]
    return await _post(portal, request, tid, receipt, "rating", body, "score", values)


async def _post(
    portal: Portal,
    request: Request,
    tracking_id: str,
    receipt: str,
    what: str,
    body: dict[str, Any],
    field: str,
    values: dict[str, str],
) -> Response:
    try:
        await portal.api.post(tracking_id, what, body, receipt, Visitor.of(request))
    except ApiDown:
        return portal.pages.render(request, "unavailable.html", status=503, switch=False)
    except ApiProblem as problem:
        if problem.status == 404:
            return await _case_page(portal, request, tracking_id, receipt)
        message = REPLY_REFUSALS.get(problem.code, NOT_DONE)
        if problem.status == 422 and problem.fields():
            message = ENTER_MESSAGE if what == "messages" else CHOOSE_SCORE
        return await _case_page(
            portal, request, tracking_id, receipt, errors={field: message}, values=values, status=problem.status
        )
    return _see_case(tracking_id, what)


@router.post("/track/{tracking_id}/attachments")
async def add_files(tracking_id: str, request: Request, portal: PortalDep) -> Response:
    """Files added to the case after it was sent."""
    form = await portal.form(request, files=portal.settings.max_files)
    try:
        tid = tracking_id_of(tracking_id)
        receipt = _receipt(portal, request, tid) if tid else None
        if tid is None or receipt is None:
            return _see_case(tid or "")
        files = [f for f in form.getlist("attachments") if not isinstance(f, str) and f.filename]
        if not files or len(files) > portal.settings.max_files:
            return await _case_page(portal, request, tid, receipt, errors={"attachments": CHOOSE_FILE}, status=422)
        outcomes = await upload_all(portal, tid, receipt, files, Visitor.of(request))
    finally:
        await form.close()
    refused = [o for o in outcomes if o.refusal]
    if not refused:
        return _see_case(tid, "files")
    status = 422 if len(refused) == len(outcomes) else 200
    return await _case_page(portal, request, tid, receipt, outcomes=outcomes, status=status)


@router.get("/track/{tracking_id}/attachments/{attachment_id}")
async def download(tracking_id: str, attachment_id: str, request: Request, portal: PortalDep) -> Response:
    """A file of the case, streamed from the API as a download (never shown in the page)."""
    tid = tracking_id_of(tracking_id)
    receipt = _receipt(portal, request, tid) if tid else None
    if tid is None or receipt is None:
        return _see_case(tid or "")
    if not ATTACHMENT_ID.match(attachment_id):
        return portal.pages.render(request, "error.html", {"message": FILE_UNAVAILABLE}, 404, switch=False)
    try:
        answer = await portal.api.download(tid, attachment_id, receipt, Visitor.of(request))
    except ApiDown:
        return portal.pages.render(request, "unavailable.html", status=503, switch=False)
    except ApiProblem as problem:
        return portal.pages.render(request, "error.html", {"message": FILE_UNAVAILABLE}, problem.status, switch=False)
    headers = {name: answer.headers[name] for name in PASSED_ON_DOWNLOAD_HEADERS if name in answer.headers}
    return StreamingResponse(answer.aiter_raw(), headers=headers, background=BackgroundTask(answer.aclose))


@router.post("/track/{tracking_id}/forget")
async def forget(tracking_id: str, request: Request, portal: PortalDep) -> Response:
    """Log out: this browser forgets the case's receipt."""
    await portal.form(request)
    response = RedirectResponse("/track?forgotten=1", status_code=303)
    tid = tracking_id_of(tracking_id)
    if tid:
        _forget(portal, request, response, tid)
    return response
