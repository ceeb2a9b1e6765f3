"""The audit trail: who did what to which target, when and why, hash-chained per service database."""

from shared.audit.trail import Entry, Target, record
from shared.audit.verify import Break, Verdict, verify_chain, verify_database

__all__ = ["Break", "Entry", "Target", "Verdict", "record", "verify_chain", "verify_database"]
