"""The directory replica: nodes as routing_svc publishes them, and the subtree scope of an agency key."""
