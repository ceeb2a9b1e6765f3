"""The reporter's API: submit from any channel, then read and answer the case with the receipt."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlalchemy.exc import IntegrityError

from intake_svc.complaints import service
from intake_svc.complaints.limits import Caller, ReceiptGate, SenderGate
from intake_svc.complaints.schemas import (
    CaseView,
    MessageCreated,
    MessageIn,
    MessagePage,
    RatingIn,
    RatingView,
    SubmitRequest,
    SubmitResponse,
)
from intake_svc.complaints.warnings import submission_warnings
from intake_svc.complaints.writer import Mismatch, Replayed
from intake_svc.context import ContextDep
from intake_svc.models import IDEMPOTENCY
from shared.auth import Principal
from shared.auth.dependencies import optional_principal
from shared.crypto import MAX_RECEIPT_LENGTH, hash_receipt
from shared.domain import Role
from shared.errors import ApiError, error_responses, invalid_field
from shared.http.app import SessionDep
from shared.http.idempotency import Idempotency, idempotency_dependency
from shared.http.openapi import link_to
from shared.http.paging import PageDep
from shared.logging import bind_tracking_id, get_logger

log = get_logger(__name__)


# The dependencies are async so that the limits are only ever touched from the event loop, never from threads.
async def get_caller(request: Request, ctx: ContextDep) -> Caller:
    return ctx.limits.caller(request)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def rate_limit(ctx: ContextDep, caller: CallerDep) -> None:
    """Every public request spends one of its client's requests."""
    ctx.limits.admit(caller)


async def get_receipt_gate(ctx: ContextDep, caller: CallerDep) -> ReceiptGate:
    return ReceiptGate(ctx.limits, caller)


ReceiptGateDep = Annotated[ReceiptGate, Depends(get_receipt_gate)]

router = APIRouter(prefix="/api/v1/complaints", dependencies=[Depends(rate_limit)])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x20-\x7e]+$",
        description="Makes a retried submission create nothing twice (same key and body: the same answer).",
    ),
]
Receipt = Annotated[str | None, Header(alias="X-Receipt", description="The receipt the submission returned.")]
OptionalKey = Annotated[Principal | None, Depends(optional_principal)]


async def receipt_scope(x_receipt: Receipt = None) -> str:
    """A reporter's Idempotency-Keys are the receipt's (by its hash): no one else can replay their answers."""
    if x_receipt and len(x_receipt) <= MAX_RECEIPT_LENGTH:
        return "receipt:" + hash_receipt(x_receipt)
    return "no-receipt"  # nothing is authorised without one, so nothing is stored under it


async def reporter_or_channel_scope(principal: OptionalKey, x_receipt: Receipt = None) -> str:
    """The channel key's, when one is presented; else the receipt's."""
    if principal is not None:
        return "key:" + principal.key_id
    return await receipt_scope(x_receipt)


ReporterIdempotency = Annotated[
    Idempotency, Depends(idempotency_dependency(IDEMPOTENCY, scope=reporter_or_channel_scope))
]
StreamedReceiptIdempotency = Annotated[
    Idempotency, Depends(idempotency_dependency(IDEMPOTENCY, streamed=True, scope=receipt_scope))
]
"""For an upload: the key is bound to the file's digest once it has been read."""

_TRACKING_ID_COLLISION_RETRIES = 3


# The receipt a submission answers with opens the reporter's operations on the case (OpenAPI links).
_WITH_RECEIPT = {"path.tracking_id": "$response.body#/tracking_id", "header.X-Receipt": "$response.body#/receipt"}
_RECEIPT_LINKS = {
    "ReadCase": link_to("/api/v1/complaints/{tracking_id}", "get", _WITH_RECEIPT, "Read the case."),
    "AddMessage": link_to("/api/v1/complaints/{tracking_id}/messages", "post", _WITH_RECEIPT, "Add information."),
    "RateAnswer": link_to("/api/v1/complaints/{tracking_id}/rating", "post", _WITH_RECEIPT, "Rate the answer."),
}


@router.post(
    "",
    response_model=SubmitResponse,
    status_code=201,
    tags=["complaints"],
    responses={**error_responses(413, 422, 429, 503), 201: {"links": _RECEIPT_LINKS}},
)
async def submit_complaint(
    body: SubmitRequest,
    ctx: ContextDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> SubmitResponse:
    """Submit a complaint from any channel; returns the tracking id, once only the receipt, and `warnings` about a
    category or region the hub does not know (the complaint is taken all the same)."""
    service.check_phone(body, ctx.settings.phone_country_codes())
    warnings = await submission_warnings(body, ctx.categories)
    for attempt in range(_TRACKING_ID_COLLISION_RETRIES):
        prepared, created = service.prepare_submission(
            body,
            idempotency_key=idempotency_key,
            sealers=ctx.sealers,
            outbox=ctx.outbox,
            now=ctx.clock.now(),
            idempotency_ttl=timedelta(hours=ctx.settings.idempotency_ttl_hours),
            warnings=warnings,
        )
        try:
            outcome = await ctx.writer.submit(prepared)
        except IntegrityError:
            # Only a tracking id drawn twice (50 random bits) can collide: draw again.
            log.warning("submission_conflict_retrying", attempt=attempt)
            continue
        if isinstance(outcome, Mismatch):
            raise ApiError(
                422, "idempotency_key_mismatch", "this Idempotency-Key was already used with a different request"
            )
        if isinstance(outcome, Replayed):
            response.headers["Idempotent-Replayed"] = "true"
            return service.opened_response(outcome.response_sealed, ctx.sealers.at_rest)
        bind_tracking_id(created.tracking_id)
        log.info("complaint_submitted", classification=body.classification.value, channel=body.channel.value)
        return created
    raise ApiError(503, "service_unavailable", "the submission could not be stored; retry shortly")


@router.get(
    "/{tracking_id}",
    response_model=CaseView,
    status_code=200,
    tags=["reporter"],
    responses=error_responses(404, 429),
)
async def get_complaint(
    tracking_id: str, session: SessionDep, gate: ReceiptGateDep, x_receipt: Receipt = None
) -> CaseView:
    """The reporter's view of a case: status, timeline, follow-ups, messages and rating (needs X-Receipt)."""
    return await service.case_view(session, tracking_id, x_receipt, gate)


@router.get(
    "/{tracking_id}/messages",
    response_model=MessagePage,
    status_code=200,
    tags=["reporter"],
    responses=error_responses(404, 422, 429),
)
async def list_messages(
    tracking_id: str, session: SessionDep, gate: ReceiptGateDep, page: PageDep, x_receipt: Receipt = None
) -> MessagePage:
    """The reporter's messages on a case, newest first, a page at a time (needs X-Receipt)."""
    return await service.message_page(session, tracking_id, x_receipt, gate, page)


@router.post(
    "/{tracking_id}/messages",
    response_model=MessageCreated,
    status_code=201,
    tags=["reporter"],
    responses=error_responses(401, 403, 404, 409, 413, 422, 429),
    openapi_extra={"security": [{}]},  # with the bearer key FastAPI lists: a key, or none (the receipt)
)
async def post_message(
    tracking_id: str,
    body: MessageIn,
    session: SessionDep,
    ctx: ContextDep,
    gate: ReceiptGateDep,
    principal: OptionalKey,
    idempotency: ReporterIdempotency,
    x_receipt: Receipt = None,
) -> MessageCreated:
    """Add information to a case, or reply to (and perhaps dispute) the agency's answer (needs X-Receipt, or a
    channel key and the `sender`, who must be the case's reporter)."""
    act: Callable[[], Awaitable[MessageCreated]]
    if principal is None:
        if body.sender is not None:
            raise invalid_field(
                ("body", "sender"),
                "pengirim hanya untuk kunci kanal; only a channel key names a sender",
                "sender_not_allowed",
            )
        act = partial(service.add_message, session, ctx, tracking_id, x_receipt, gate, body)
    else:
        if principal.role is not Role.channel:
            raise ApiError(403, "forbidden", "this needs one of the roles: channel")
        if x_receipt is not None:
            raise invalid_field(
                ("header", "X-Receipt"),
                "kirim tanda terima atau kunci kanal, bukan keduanya; send a receipt or a channel key, not both",
                "receipt_with_key",
            )
        if body.sender is None:
            raise invalid_field(
                ("body", "sender"),
                "kunci kanal harus menyebut pengirim; a channel key must name the sender",
                "sender_required",
            )
        sender_gate = SenderGate(ctx.limits, principal.key_id)
        act = partial(service.add_sender_message, session, ctx, tracking_id, body.sender, sender_gate, body)
    return await idempotency.commit_once(session, MessageCreated, act)


@router.post(
    "/{tracking_id}/rating",
    response_model=RatingView,
    status_code=201,
    tags=["reporter"],
    responses=error_responses(404, 409, 413, 422, 429),
)
async def rate_complaint(
    tracking_id: str,
    body: RatingIn,
    session: SessionDep,
    ctx: ContextDep,
    gate: ReceiptGateDep,
    x_receipt: Receipt = None,
) -> RatingView:
    """Rate the answer, 1 to 5, once; allowed when the case is answered or completed (needs X-Receipt)."""
    rating = await service.rate(session, ctx, tracking_id, x_receipt, gate, body)
    try:
        await session.commit()
    except IntegrityError as exc:
        raise ApiError(409, "already_rated", "this case has already been rated") from exc
    return rating
