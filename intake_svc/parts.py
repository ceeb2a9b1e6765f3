"""What intake adds to the kit's Runtime: its settings, its sealers, the submission writer and the public limits."""

from __future__ import annotations

from dataclasses import dataclass

from intake_svc.complaints.limits import PublicLimits
from intake_svc.complaints.writer import Outcome, PreparedSubmission
from intake_svc.privacy import IntakeSealers
from intake_svc.settings import IntakeSettings
from shared.db.batch_writer import BatchWriter
from shared.runtime import Runtime

EXTRAS_KEY = "intake"


@dataclass(frozen=True)
class IntakeParts:
    settings: IntakeSettings
    sealers: IntakeSealers
    writer: BatchWriter[PreparedSubmission, Outcome]
    limits: PublicLimits


def intake_parts(runtime: Runtime) -> IntakeParts:
    parts: IntakeParts = runtime.extras[EXTRAS_KEY]
    return parts
