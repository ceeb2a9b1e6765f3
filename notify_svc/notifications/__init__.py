"""Notifications: created from events, delivered by the sender, listed as the delivery log."""
