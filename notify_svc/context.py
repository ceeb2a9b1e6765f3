"""What notify adds to the kit's Runtime: its settings, clock and sealers, the sender and the digest job."""

from __future__ import annotations

from dataclasses import dataclass

from notify_svc.digest.job import DigestJob
from notify_svc.sending.worker import Sender
from notify_svc.settings import NotifySettings
from shared.clock import Clock
from shared.crypto import Sealer


@dataclass(frozen=True)
class NotifyContext:
    settings: NotifySettings
    clock: Clock
    sealer: Sealer
    """notify's own keys: contact details and sealed template context at rest."""
    contact_ring: Sealer
    """The ring intake seals contact.registered's details with."""
    sender: Sender
    digests: DigestJob
