"""The upload baseline: a bare FastAPI endpoint that streams a multipart body's file part to disk and answers 201,
served the way intake is (one uvicorn worker, uvloop, httptools). `python -m tests.bench.upload_baseline PORT DIR`.

It parses the body with python-multipart's push parser, the parser intake uses, as the body arrives
(`request.stream()`), and writes the part named `file` to a temporary file in DIR, removed before the answer (as
intake removes its own once the file is stored). Nothing else: no hashing, no type sniffing, no encryption, no
database, no NATS, no fsync. That is the least an endpoint can do and still have the file on disk.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import IO

import uvicorn
import uvloop
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

PATH = "/upload"


class _ToDisk:
    """The push parser's callbacks: the `file` part's bytes go to a temporary file as they arrive."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.headers: list[bytes] = []
        self.header = b""
        self.out: IO[bytes] | None = None
        self.path: Path | None = None
        self.size = 0

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header += data[start:end]

    def on_header_end(self) -> None:
        self.headers.append(self.header)
        self.header = b""

    def on_headers_finished(self) -> None:
        is_file = any(b'name="file"' in h for h in self.headers)
        self.headers = []
        if is_file and self.out is None:
            fd, name = tempfile.mkstemp(dir=self.directory, prefix="bare-")
            self.out, self.path = os.fdopen(fd, "wb"), Path(name)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.out is not None:
            self.size += end - start
            self.out.write(data[start:end])

    def on_part_end(self) -> None:
        if self.out is not None:
            self.out.close()

    def discard(self) -> None:
        if self.out is not None:
            self.out.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def create_app(directory: Path) -> FastAPI:
    app = FastAPI(title="upload baseline")

    @app.post(PATH, status_code=201)
    async def upload(request: Request) -> JSONResponse:
        """Stream the file part to disk and answer with its size; nothing is checked or kept."""
        _, options = parse_options_header(request.headers.get("content-type", ""))
        sink = _ToDisk(directory)
        callbacks = {
            name: getattr(sink, name)
            for name in ("on_header_value", "on_header_end", "on_headers_finished", "on_part_data", "on_part_end")
        }
        parser = MultipartParser(options[b"boundary"], callbacks)  # type: ignore[arg-type]
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        finally:
            sink.discard()
        return JSONResponse({"size": sink.size}, status_code=201)

    return app


def main() -> None:
    port, directory = int(sys.argv[1]), Path(sys.argv[2])
    config = uvicorn.Config(
        create_app(directory),
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
