"""The portal's body limit: a plain page (not JSON) for a form too large to read, before more of it is read."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.http.limits import BodyLimits, content_length, counted

TOO_LARGE_PAGE = (
    b"<!doctype html><html lang='id'><head><meta charset='utf-8'><title>Terlalu besar / Too large</title></head>"
    b"<body><main><h1>Kiriman terlalu besar</h1><p>Berkas yang Anda pilih terlalu besar untuk dikirim sekaligus."
    b" Kembali, pilih lebih sedikit atau lebih kecil, lalu kirim lagi.</p><h1 lang='en'>Too large to send</h1>"
    b"<p lang='en'>The files you chose are too large to send at once. Go back, choose fewer or smaller files,"
    b" and send again.</p></main></body></html>"
)


class PortalBodyLimit:
    """A body over its path's limit: 413 at once by its Content-Length, else while it streams in (the page's own
    handler then renders the refusal: PayloadTooLarge is an HTTPException)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits):
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = content_length(scope)
        if declared is not None and declared > limit:
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"content-length", str(len(TOO_LARGE_PAGE)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": TOO_LARGE_PAGE})
            return
        await self.app(scope, counted(receive, limit), send)
