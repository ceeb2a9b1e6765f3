"""Protocol doors: adapters that translate a channel's protocol (email, ...) into the public API with a channel key."""
