"""FastAPI dependencies shared by routing_svc's endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from routing_svc.cases.context import CaseContext
from shared.http.app import context_of

CaseCtxDep = Annotated[CaseContext, Depends(context_of(CaseContext))]
