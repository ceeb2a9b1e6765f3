"""What agency adds to the kit's Runtime: its settings, the reporter names' seal, and the webhooks' configuration
and fan-out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from agency_svc.models import IDEMPOTENCY
from agency_svc.settings import AgencySettings
from agency_svc.webhooks.fanout import Fanout
from agency_svc.webhooks.service import WebhookConfig
from shared.clock import Clock
from shared.files.uploads import Uploads
from shared.http.app import context_of
from shared.http.idempotency import Idempotency, idempotency_dependency
from shared.http.ratelimit import TokenBucket
from shared.identity import NameSeal
from shared.outbox import Outbox


@dataclass(frozen=True)
class AgencyContext:
    settings: AgencySettings
    clock: Clock
    outbox: Outbox
    names: NameSeal
    webhooks: WebhookConfig
    fanout: Fanout
    redeliveries: TokenBucket
    """Manual redeliveries, counted per node and endpoint."""
    uploads: Uploads


ContextDep = Annotated[AgencyContext, Depends(context_of(AgencyContext))]
IdempotencyDep = Annotated[Idempotency, Depends(idempotency_dependency(IDEMPOTENCY))]
StreamedIdempotencyDep = Annotated[Idempotency, Depends(idempotency_dependency(IDEMPOTENCY, streamed=True))]
"""For an upload: the key is bound to the file's digest once it has been read."""
