"""API keys and who holds them: admins, coordinators, and agency systems scoped to a node's subtree."""

from shared.auth.dependencies import require_roles
from shared.auth.keys import KeyStore, Principal

__all__ = ["KeyStore", "Principal", "require_roles"]
