"""How the Simpul services run together: the embedded nats-server, the supervisor, the gateway and the CLI."""
