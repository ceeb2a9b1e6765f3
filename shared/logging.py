"""Structured JSON logs. Every line logged while handling a case carries its tracking id."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson
import structlog

clear_context = structlog.contextvars.clear_contextvars


def bind_tracking_id(tracking_id: str | None) -> None:
    if tracking_id:
        structlog.contextvars.bind_contextvars(tracking_id=tracking_id)


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    """The service's own log lines are rendered by structlog and written straight to stderr (the stdlib's records
    and handlers cost each line several times as much); other libraries' lines go through the stdlib's logging,
    rendered by the same processors."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_dumps) if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.add_logger_name,
            structlog.processors.format_exc_info,
            redact_personal_data,
            renderer,
        ],
        logger_factory=_NamedWriterFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(level.upper()),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_personal_data,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "nats", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


REDACTED = "[redacted]"
PERSONAL_KEYS = frozenset({"email", "phone", "reporter_name", "reporter", "contact", "recipient", "to_address"})
"""Log fields whose values are a person's contact details or identity, whatever they hold."""
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])(?:\+?62|0)[\s.-]?8[\d\s().-]{6,16}\d")
"""Indonesian mobile numbers (+62 8xx, 62 8xx, 08xx) with the usual separators."""


def scrub(text: str) -> str:
    """`text` with every email address and Indonesian mobile number replaced by [redacted]."""
    return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, text))


def redact_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The last line of defence: no log line carries an email address, a phone number or a personal field."""
    for key, value in list(event_dict.items()):
        if key in PERSONAL_KEYS and value is not None:
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = scrub(value)
    return event_dict


class _NamedWriter(structlog.WriteLogger):
    """structlog's writer, with the name the logger was asked for under (for the `logger` field)."""

    def __init__(self, file: TextIO, name: str):
        super().__init__(file)
        self.name = name


class _NamedWriterFactory:
    def __init__(self, file: TextIO):
        self.file = file

    def __call__(self, name: str = "", *_: Any) -> _NamedWriter:
        return _NamedWriter(self.file, name)


def _dumps(obj: Any, default: Any = None, **_: Any) -> str:
    return orjson.dumps(obj, default=default, option=orjson.OPT_NON_STR_KEYS).decode()


def _add_service(service: str) -> Any:
    def processor(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    return processor


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
