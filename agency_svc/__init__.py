"""agency_svc: each agency node's inbox (replicated from the hub's events) and the work agencies do on it."""
