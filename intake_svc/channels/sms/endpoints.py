"""POST /api/v1/channels/sms/inbound: an SMS gateway hands over each SMS it receives, with a channel key and a
signature of the body (docs/channels.md, "SMS")."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from intake_svc.channels.sms import service
from intake_svc.channels.sms.schemas import InboundSms, SmsOutcome
from intake_svc.context import ContextDep
from intake_svc.models import IDEMPOTENCY
from shared.auth import Principal
from shared.auth.dependencies import bearer, current_principal
from shared.domain import Role
from shared.errors import ApiError, error_responses
from shared.http.app import SessionDep
from shared.http.idempotency import idempotency_for
from shared.http.openapi import REF_PREFIX
from shared.logging import get_logger
from shared.signing import SIGNATURE_HEADER, SignatureRefused, verify

log = get_logger(__name__)

# No public rate limit: the gateway is one client for every sender. Each number is limited instead (service.count).
router = APIRouter(prefix="/api/v1/channels/sms", tags=["channels"])


async def gateway_call(
    request: Request,
    ctx: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The call is the SMS gateway's: the door is configured, the key is a channel key, the body is signed. Checked
    on the raw body before anything parses it, so that no one without the key and secret learns how it is read."""
    secret = ctx.settings.sms_signing_secret
    if secret is None:
        raise ApiError(
            503,
            "channel_not_configured",
            "pintu SMS belum disiapkan; the SMS door is not configured (SIMPUL_INTAKE_SMS_SIGNING_SECRET)",
        )
    principal = await current_principal(request, credentials)
    if principal.role is not Role.channel:
        raise ApiError(403, "forbidden", "this needs one of the roles: channel")
    try:
        verify(
            secret.get_secret_value(),
            request.headers.get(SIGNATURE_HEADER),
            await request.body(),  # the body limit holds while it is read: 413 past it
            now=ctx.clock.now().timestamp(),
            tolerance_s=ctx.settings.sms_signature_tolerance_s,
        )
    except SignatureRefused as exc:
        log.warning("sms_signature_refused", stale=exc.stale, key_id=principal.key_id)
        raise ApiError(401, "stale_signature" if exc.stale else "invalid_signature", str(exc)) from None
    return principal


GatewayDep = Annotated[Principal, Depends(gateway_call)]


def _is_json(content_type: str | None) -> bool:
    """As FastAPI reads a body model: JSON when the type says so (`application/json`, `application/...+json`) or says
    nothing."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def parsed(request: Request, raw: bytes) -> InboundSms:
    """The signed body as an InboundSms; 422 `validation_error`, as for any body model, when it is not one."""
    if not _is_json(request.headers.get("content-type")):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "the body must be JSON (Content-Type: application/json)", "type": "json_type"}]
        )
    try:
        return InboundSms.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


# The body is read raw (its signature is checked first), so its schema is declared here rather than by a parameter.
_INBOUND_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": InboundSms.model_json_schema(by_alias=True, ref_template=REF_PREFIX + "{model}")
            }
        },
    }
}


@router.post(
    "/inbound",
    response_model=SmsOutcome,
    status_code=200,
    responses=error_responses(401, 403, 413, 422, 429, 503),
    openapi_extra=_INBOUND_BODY,
)
async def inbound_sms(
    gateway: GatewayDep, request: Request, response: Response, session: SessionDep, ctx: ContextDep
) -> SmsOutcome:
    """An SMS the gateway received: a new complaint, or a reply to the case its first word names (a tracking id)."""
    body = parsed(request, await request.body())
    number = service.number_hash(ctx.settings, body.sender)
    # The gateway's message id, per number: a redelivered SMS gets its first answer and files nothing twice.
    idempotency = idempotency_for(
        request, response, IDEMPOTENCY, owner="sms:" + number, key=body.message_id, content=(body.sender, body.text)
    )
    receive = partial(service.receive, session, ctx, body, number, gateway.key_id)
    try:
        return await idempotency.commit_once(session, SmsOutcome, receive)
    except IntegrityError as exc:  # only a tracking id drawn twice (50 random bits): the gateway retries
        raise ApiError(503, "service_unavailable", "the SMS could not be stored; retry shortly") from exc
