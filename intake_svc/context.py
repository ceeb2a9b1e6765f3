"""What intake adds to the kit's Runtime: its settings, its sealers, the submission writer, the public limits and the
categories the hub knows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from intake_svc.categories.known import KnownCategories
from intake_svc.complaints.limits import PublicLimits
from intake_svc.complaints.writer import Outcome, PreparedSubmission
from intake_svc.privacy import IntakeSealers
from intake_svc.settings import IntakeSettings
from shared.clock import Clock
from shared.db.batch_writer import BatchWriter
from shared.files.uploads import Uploads
from shared.http.app import context_of
from shared.outbox import Outbox


@dataclass(frozen=True)
class IntakeContext:
    settings: IntakeSettings
    clock: Clock
    outbox: Outbox
    sealers: IntakeSealers
    writer: BatchWriter[PreparedSubmission, Outcome]
    limits: PublicLimits
    uploads: Uploads
    categories: KnownCategories


ContextDep = Annotated[IntakeContext, Depends(context_of(IntakeContext))]
