"""A named reporter's name as routing and agency hold it: sealed on the broker with the identity ring, sealed at
rest with the service's own keys, and opened only to be shown.

intake seals the name into `CaseSnapshot.reporter_name_sealed` with the identity ring, which intake, routing and
agency share and nobody else holds. A consumer re-seals it under its own keys before it writes it; routing re-seals
it with the identity ring when it passes the snapshot on to an agency. The plaintext lives only in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.crypto import Sealer


@dataclass(frozen=True)
class NameSeal:
    at_rest: Sealer
    identity: Sealer

    def from_event(self, token: str | None) -> str | None:
        """The stored form of a name that arrived sealed with the identity ring."""
        return self.at_rest.seal_optional(self.identity.open_optional(token))

    def to_event(self, stored: str | None) -> str | None:
        """A stored name, sealed with the identity ring for an event."""
        return self.identity.seal_optional(self.at_rest.open_optional(stored))

    def read(self, stored: str | None) -> str | None:
        return self.at_rest.open_optional(stored)


def name_seal(encryption_keys: list[str], identity_keys: list[str]) -> NameSeal:
    return NameSeal(at_rest=Sealer(encryption_keys), identity=Sealer(identity_keys))
