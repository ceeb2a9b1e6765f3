"""Basic statistics per agency node."""
