"""routing_svc: the hub core (directory, API keys, routing rules, case state machine, statistics)."""
