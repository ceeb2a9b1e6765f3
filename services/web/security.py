"""What keeps the pages safe: CSRF tokens bound to a cookie, the sealed receipt cookie, and the security headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "simpul_csrf"
CSRF_FIELD = "csrf_token"
CASES_COOKIE = "simpul_cases"
CASES_PATH = "/track"
MAX_REMEMBERED_CASES = 5

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
}


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"simpul-web " + purpose).derive(secret.encode())


@dataclass(frozen=True)
class Keys:
    """The portal's keys, each derived from its one secret for one purpose."""

    csrf: bytes
    cases: Fernet

    @classmethod
    def from_secret(cls, secret: str) -> Keys:
        return cls(
            csrf=_derive(secret, b"csrf"), cases=Fernet(base64.urlsafe_b64encode(_derive(secret, b"receipt cookie")))
        )


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(keys: Keys, cookie: str) -> str:
    """The token a form carries: the cookie's value signed, so that another site can neither read nor make it."""
    return hmac.new(keys.csrf, cookie.encode(), hashlib.sha256).hexdigest()


def csrf_valid(keys: Keys, cookie: str | None, token: str | None) -> bool:
    if not cookie or not token:
        return False
    return hmac.compare_digest(csrf_token(keys, cookie), token)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_another_site(headers: Headers, own_url: str) -> bool:
    """Whether the browser says a request comes from another site: Sec-Fetch-Site cross-site, or an Origin that is
    not the portal's own (`own_url`, its public address). An Origin of "null" says nothing (the pages' no-referrer
    policy makes Chromium send it with the portal's own forms); a request with neither header (an old browser, a
    script) is left to the CSRF token."""
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = headers.get("origin")
    return origin is not None and origin != "null" and origin.lower() != _origin(own_url)


def open_cases(keys: Keys, cookie: str | None, max_age_s: int) -> dict[str, str]:
    """The receipts the cookie remembers, by tracking id; none when it is missing, forged or too old."""
    if not cookie:
        return {}
    try:
        cases = json.loads(keys.cases.decrypt(cookie.encode(), ttl=max_age_s))
    except (InvalidToken, ValueError):
        return {}
    if not isinstance(cases, dict):
        return {}
    return {str(k): str(v) for k, v in cases.items()}


def seal_cases(keys: Keys, cases: dict[str, str]) -> str:
    """The newest MAX_REMEMBERED_CASES receipts, sealed (encrypted and authenticated) for the cookie."""
    kept = dict(list(cases.items())[-MAX_REMEMBERED_CASES:])
    return keys.cases.encrypt(json.dumps(kept).encode()).decode()


class SecurityHeadersMiddleware:
    """Every answer gets the security headers (an answer that sets one itself keeps its own); pages are not kept."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "cache-control" not in headers:
                    headers["cache-control"] = "public, max-age=3600" if static else "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
