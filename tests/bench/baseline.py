"""The baseline: a bare FastAPI endpoint that validates the same complaint body and answers 201, with no I/O,
served the way intake is (one uvicorn worker, uvloop, httptools). `python -m tests.bench.baseline PORT`."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import uvicorn
import uvloop
from fastapi import FastAPI

from intake_svc.complaints.schemas import SubmitRequest, SubmitResponse
from shared.crypto import new_receipt
from shared.domain import Status


def create_app() -> FastAPI:
    app = FastAPI(title="baseline")

    @app.post("/api/v1/complaints", status_code=201)
    async def submit(body: SubmitRequest) -> SubmitResponse:
        """Validate and answer; nothing is stored or sent."""
        return SubmitResponse(
            tracking_id="SPL-BASELINE00", receipt=new_receipt(), status=Status.submitted, submitted_at=datetime.now(UTC)
        )

    return app


def main() -> None:
    port = int(sys.argv[1])
    config = uvicorn.Config(
        create_app(),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
    )
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(uvicorn.Server(config).serve())


if __name__ == "__main__":
    main()
