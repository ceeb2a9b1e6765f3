"""The signature scheme, checked with the verification snippet exactly as docs/webhooks.md prints it; the backoff."""

from __future__ import annotations

import random
import time

import pytest
from pydantic import ValidationError

from agency_svc.settings import AgencySettings
from agency_svc.webhooks.signing import (
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    headers,
    new_secret,
    signature,
)
from shared.background import full_jitter
from tests.agency_svc.webhook_peers import DOC, VERIFY

SECRET = "whsec_test-secret-0123456789"
BODY = b'{"event_id":"e-1","event_type":"complaint.dispositioned","tracking_id":"SPL-0001"}'


def test_the_doc_names_every_header_and_the_scheme() -> None:
    doc = DOC.read_text()
    for name in (SIGNATURE_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, DELIVERY_ID_HEADER):
        assert f"`{name}`" in doc, name
    assert "t=<unix seconds>,v1=<hex HMAC-SHA256>" in doc
    assert "compare_digest" in doc and "TOLERANCE_SECONDS = 5 * 60" in doc


def test_the_documented_snippet_accepts_what_the_sender_signs() -> None:
    now = int(time.time())
    sent = headers(secret=SECRET, timestamp=now, body=BODY, event_id="e-1", event_type="x", delivery_id=7)
    assert sent[SIGNATURE_HEADER].startswith(f"t={now},v1=")
    assert sent[EVENT_ID_HEADER] == "e-1" and sent[DELIVERY_ID_HEADER] == "7"
    assert VERIFY(SECRET, BODY, sent[SIGNATURE_HEADER])
    assert VERIFY(SECRET, BODY, sent[SIGNATURE_HEADER], now=now + 300)
    assert VERIFY(SECRET, BODY, f" t={now} , v1=00 , {sent[SIGNATURE_HEADER].split(',')[1]}")  # any v1 may match


@pytest.mark.parametrize(
    ("case", "secret", "body", "header_of", "at"),
    [
        ("tampered body", SECRET, BODY + b" ", lambda t: signature(SECRET, t, BODY), 0),
        ("wrong secret", "whsec_another-secret-000000", BODY, lambda t: signature(SECRET, t, BODY), 0),
        ("older than five minutes", SECRET, BODY, lambda t: signature(SECRET, t, BODY), 301),
        ("five minutes ahead", SECRET, BODY, lambda t: signature(SECRET, t, BODY), -301),
        (
            "signed for another time",
            SECRET,
            BODY,
            lambda t: signature(SECRET, t, BODY).replace(f"t={t}", f"t={t + 1}"),
            0,
        ),
        ("no v1", SECRET, BODY, lambda t: f"t={t}", 0),
        ("no timestamp", SECRET, BODY, lambda t: signature(SECRET, t, BODY).split(",")[1], 0),
        ("not a number", SECRET, BODY, lambda t: signature(SECRET, t, BODY).replace(f"t={t}", "t=1e9"), 0),
        ("non-ASCII digits", SECRET, BODY, lambda t: signature(SECRET, t, BODY).replace(f"t={t}", "t=\u0661\u0662"), 0),
        ("non-ASCII signature", SECRET, BODY, lambda t: f"t={t},v1=\u00e9", 0),
        ("empty", SECRET, BODY, lambda t: "", 0),
    ],
)
def test_the_documented_snippet_refuses(case: str, secret: str, body: bytes, header_of, at: int) -> None:
    t = int(time.time())
    assert VERIFY(secret, body, header_of(t), now=t + at) is False, case


def test_generated_secrets_are_long_and_distinct() -> None:
    made = {new_secret() for _ in range(50)}
    assert len(made) == 50 and all(s.startswith("whsec_") and len(s) >= 48 for s in made)


def test_full_jitter_stays_between_zero_and_the_capped_exponential() -> None:
    rng_state = random.getstate()
    random.seed(6)
    try:
        for attempts in range(1, 200):
            ceiling = min(3600.0, 10.0 * 2 ** (attempts - 1))
            delays = [full_jitter(attempts, 10.0, 3600.0) for _ in range(50)]
            assert all(0 <= d <= ceiling for d in delays), attempts
            assert max(delays) > ceiling / 2, attempts  # spread over the whole range, not a fixed step
    finally:
        random.setstate(rng_state)


def test_a_lease_shorter_than_an_attempt_is_refused() -> None:
    with pytest.raises(ValidationError, match="webhook_lease_seconds"):
        AgencySettings(webhook_timeout_seconds=30, webhook_lease_seconds=20)
