"""The agencies' files as their events describe them, and the case's files removed when it is archived."""

from __future__ import annotations

from intake_svc.context import IntakeContext
from intake_svc.models import ATTACHMENTS
from shared.bus.handlers import Handlers
from shared.files.handlers import file_handlers
from shared.files.store import FileStore


def _own(ctx: IntakeContext) -> FileStore:
    return ctx.uploads.own


handlers: Handlers[IntakeContext] = file_handlers(ATTACHMENTS, _own)
