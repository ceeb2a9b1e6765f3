"""Logs never carry a reporter's contact details: personal fields and anything that looks like one are redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from shared.logging import configure_logging, get_logger

EMAIL, PHONE = "siti.aminah@example.test", "+62 812 0000 1111"


@pytest.fixture
def log_output(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    configure_logging("test", json=True)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


def test_personal_data_is_redacted_from_fields_messages_and_tracebacks(log_output: io.StringIO) -> None:
    log = get_logger("test.redaction")
    log.info("contact_registered", email=EMAIL, phone=PHONE, reporter_name="Siti Aminah", tracking_id="SPL-1")
    log.warning(f"could not reach {EMAIL} or {PHONE}", attempt=2)
    try:
        raise ValueError(f"SMTP refused {EMAIL}")
    except ValueError:
        log.exception("send_failed")
    logging.getLogger("foreign.library").error("plain logging too: %s", PHONE)

    text = log_output.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 4
    assert EMAIL not in text and "812 0000 1111" not in text and "Siti Aminah" not in text
    first = lines[0]
    assert (first["email"], first["phone"], first["reporter_name"]) == ("[redacted]",) * 3
    assert first["tracking_id"] == "SPL-1" and first["event"] == "contact_registered"
    assert lines[1]["event"] == "could not reach [redacted] or [redacted]" and lines[1]["attempt"] == 2
    assert "ValueError: SMTP refused [redacted]" in lines[2]["exception"]
    assert lines[3]["event"] == "plain logging too: [redacted]"
