"""API keys: the hub issues them and publishes them for the other services to replicate."""
