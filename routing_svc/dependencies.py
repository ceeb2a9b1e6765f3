"""FastAPI dependencies shared by routing_svc's endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from routing_svc.cases.context import CaseContext
from shared.http.app import RuntimeDep


async def case_context(runtime: RuntimeDep) -> CaseContext:
    ctx: CaseContext = runtime.extras["cases"]
    return ctx


CaseCtxDep = Annotated[CaseContext, Depends(case_context)]
