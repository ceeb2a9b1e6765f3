"""FastAPI dependencies shared by routing_svc's endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from routing_svc.cases.context import CaseContext
from routing_svc.models import IDEMPOTENCY
from shared.http.app import context_of
from shared.http.idempotency import Idempotency, idempotency_dependency

CaseCtxDep = Annotated[CaseContext, Depends(context_of(CaseContext))]
IdempotencyDep = Annotated[Idempotency, Depends(idempotency_dependency(IDEMPOTENCY))]
