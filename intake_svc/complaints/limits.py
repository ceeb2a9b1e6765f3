"""The public endpoints' limits: a rate limit per client, a lockout per client for guessing receipts, and lockouts per
channel key and per case for guessing a case's reporter."""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from intake_svc.settings import IntakeSettings
from shared.clock import Clock
from shared.errors import ApiError
from shared.http.client_address import IPNetwork, client_key, is_within, request_client
from shared.http.ratelimit import FailureLockout, TokenBucket, too_many_requests

TOO_MANY_FAILED_RECEIPTS = "too many failed receipt checks; retry later"
TOO_MANY_FAILED_SENDERS = "too many failed sender checks; retry later"
_CASE_KEY_LENGTH = 40


@dataclass(frozen=True)
class Caller:
    key: str
    """What the limits count this client by: its IPv4 address or IPv6 /64."""
    exempt: bool
    """A client that the rate limit and the per-client receipt lockout never count (the settings name them)."""


class PublicLimits:
    """One per process: each replica counts on its own."""

    def __init__(self, settings: IntakeSettings, clock: Clock):
        self.trusted_proxies = settings.trusted_proxy_networks()
        self.exempt: tuple[IPNetwork, ...] = settings.rate_limit_exempt_networks()
        max_keys = settings.limits_max_clients
        self.requests = TokenBucket(
            clock,
            per_minute=settings.rate_limit_per_minute if settings.rate_limit_enabled else 0,
            burst=settings.rate_limit_burst,
            max_keys=max_keys,
        )
        window = float(settings.receipt_failure_window_s)
        self.receipt_clients = FailureLockout(
            clock, max_failures=settings.receipt_failures_per_client, window_s=window, max_keys=max_keys
        )
        self.sender_keys = FailureLockout(
            clock, max_failures=settings.sender_failures_per_channel_key, window_s=window, max_keys=max_keys
        )
        self.sender_cases = FailureLockout(
            clock, max_failures=settings.sender_failures_per_case, window_s=window, max_keys=max_keys
        )

    def caller(self, connection: HTTPConnection) -> Caller:
        client = request_client(connection, self.trusted_proxies)
        # A proxy standing in for a client it did not name is never exempt, even when it is itself (loopback).
        exempt = not client.stand_in and is_within(client.address, self.exempt)
        return Caller(key=client_key(client.address), exempt=exempt)

    def admit(self, caller: Caller) -> None:
        """Spends one of the caller's requests; 429 when none is left."""
        if caller.exempt:
            return
        wait = self.requests.take(caller.key)
        if wait is not None:
            raise too_many_requests(wait)


@dataclass(frozen=True)
class ReceiptGate:
    """Guards one request's receipt check: 429 while its client is locked out, even for a right receipt.

    Only clients are counted, never cases: a receipt has 160 bits, so failures against one case protect nothing, and
    counting them would let anyone who knows a tracking id lock its reporter out.
    """

    limits: PublicLimits
    caller: Caller

    def admit(self) -> None:
        if self.caller.exempt:
            return
        wait = self.limits.receipt_clients.locked(self.caller.key)
        if wait is not None:
            raise too_many_requests(wait, TOO_MANY_FAILED_RECEIPTS)

    def failed(self) -> None:
        """Counts a wrong or missing receipt, whether or not the case exists (so a 429 cannot tell)."""
        if not self.caller.exempt:
            self.limits.receipt_clients.fail(self.caller.key)


@dataclass(frozen=True)
class SenderGate:
    """Guards a channel key's sender check (is this email or phone the case's reporter?): 429 while the key or the case
    is locked out, even for the right sender.

    Unlike a receipt, a sender is guessable (a phone number, an email address), so the case is counted too: a key, or
    SMS from many numbers, cannot test a list of candidates against one case. The price is that failures against a
    case can hold its reporter's sender path for a window; their receipt still opens the case.
    """

    limits: PublicLimits
    key_id: str

    @staticmethod
    def case_key(tracking_id: str) -> str:
        return tracking_id[:_CASE_KEY_LENGTH]  # no case's id is longer: a longer one only costs memory

    def admit(self, tracking_id: str) -> None:
        waits = (
            self.limits.sender_keys.locked(self.key_id),
            self.limits.sender_cases.locked(self.case_key(tracking_id)),
        )
        wait = max((w for w in waits if w is not None), default=None)
        if wait is not None:
            raise ApiError(429, "rate_limited", TOO_MANY_FAILED_SENDERS, retry_after=max(1, math.ceil(wait)))

    def failed(self, tracking_id: str) -> None:
        """Counts a sender that did not open the case, whatever the reason (so a 429 cannot tell cases apart)."""
        self.limits.sender_keys.fail(self.key_id)
        self.limits.sender_cases.fail(self.case_key(tracking_id))
