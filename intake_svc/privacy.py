"""The three key rings intake seals with: its own (the database), the identity ring (the name in
complaint.submitted, for routing and agency) and the contact ring (contact.registered, for notify alone)."""

from __future__ import annotations

from dataclasses import dataclass

from intake_svc.settings import IntakeSettings
from shared.crypto import Sealer


@dataclass(frozen=True)
class IntakeSealers:
    at_rest: Sealer
    identity: Sealer
    contact: Sealer


def intake_sealers(settings: IntakeSettings) -> IntakeSealers:
    return IntakeSealers(
        at_rest=Sealer(settings.encryption_key_list()),
        identity=Sealer(settings.identity_key_list()),
        contact=Sealer(settings.contact_key_list()),
    )
