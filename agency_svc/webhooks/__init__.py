"""Webhooks: a node's endpoints, the case events pushed to them (signed, retried, in order per case) and the log."""
