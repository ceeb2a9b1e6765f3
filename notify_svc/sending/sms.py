"""SMS: a transport beside the SMTP one. The generic JSON adapter POSTs one message to an HTTP gateway; without a
gateway each message is written as a `.json` file (the body the gateway would get) under the SMS folder.

The adapter's request: `POST <url>` with `Content-Type: application/json`, the configured auth header, and
`Idempotency-Key: <notification id>` (the same on every attempt, so a gateway can drop a resend after a crash); the
body `{"<to>": "+62...", "<text>": "...", "<reference>": "<notification id>", "<from>": "<sender id>"}` with the field
names from the settings (reference and from only when configured). The answer: 2xx is sent (its JSON `<id>` field, if
any, is recorded as the message id); 408, 425, 429, any 5xx, a timeout or a broken connection are tried again later;
any other 4xx is a permanent failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from notify_svc.sending.errors import PermanentFailure
from notify_svc.sending.files import write_atomically
from notify_svc.settings import NotifySettings

RETRYABLE = frozenset({408, 425, 429})


@dataclass(frozen=True)
class SmsMessage:
    notification_id: str
    to: str
    text: str

    def __repr__(self) -> str:
        return f"SmsMessage(notification_id={self.notification_id!r}, <recipient and text hidden>)"


class SmsTransport(Protocol):
    async def send(self, message: SmsMessage) -> str | None:
        """Hand the message over; the gateway's id for it, if it gives one."""
        ...


class TransientFailure(Exception):
    """The gateway could not take the message now; try again later."""


def request_body(settings: NotifySettings, message: SmsMessage) -> dict[str, Any]:
    body: dict[str, Any] = {settings.sms_field_to: message.to, settings.sms_field_text: message.text}
    if settings.sms_field_reference:
        body[settings.sms_field_reference] = message.notification_id
    if settings.sms_sender_id:
        body[settings.sms_field_sender] = settings.sms_sender_id
    return body


class HttpSmsGateway:
    """The generic JSON adapter (see the module's docstring)."""

    def __init__(self, settings: NotifySettings):
        if not settings.sms_gateway_url:
            raise ValueError("HttpSmsGateway needs sms_gateway_url")
        self.settings = settings
        self.url = settings.sms_gateway_url
        self.headers: dict[str, str] = {}
        if settings.sms_gateway_auth_header is not None:
            name, sep, value = settings.sms_gateway_auth_header.get_secret_value().partition(":")
            if not sep or not name.strip():
                raise ValueError("sms_gateway_auth_header must be 'Name: value'")
            self.headers[name.strip()] = value.strip()

    async def send(self, message: SmsMessage) -> str | None:
        headers = {**self.headers, "Idempotency-Key": message.notification_id}
        async with httpx.AsyncClient(timeout=self.settings.sms_timeout, follow_redirects=False) as client:
            response = await client.post(self.url, json=request_body(self.settings, message), headers=headers)
        status = response.status_code
        if 200 <= status < 300:
            return self._message_id(response)
        error = f"gateway answered {status}: {response.text[:300]}"
        if status >= 500 or status in RETRYABLE:
            raise TransientFailure(error)
        raise PermanentFailure(error)

    def _message_id(self, response: httpx.Response) -> str | None:
        try:
            answer = response.json()
        except ValueError:
            return None
        found = answer.get(self.settings.sms_field_message_id) if isinstance(answer, dict) else None
        return str(found)[:255] if isinstance(found, str | int) and str(found) else None


class FileSmsTransport:
    """Writes `<notification_id>.json` (the body the gateway would get) into a folder."""

    def __init__(self, settings: NotifySettings, directory: Path):
        self.settings = settings
        self.directory = directory

    async def send(self, message: SmsMessage) -> str | None:
        data = json.dumps(request_body(self.settings, message), ensure_ascii=False, indent=2).encode()
        await write_atomically(self.directory, f"{message.notification_id}.json", data)
        return None


def sms_transport_for(settings: NotifySettings) -> SmsTransport:
    if settings.sms_gateway_url:
        return HttpSmsGateway(settings)
    return FileSmsTransport(settings, settings.resolved_sms_dir())
