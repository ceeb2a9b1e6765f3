"""intake_svc against a real nats-server and real databases."""
