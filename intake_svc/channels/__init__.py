"""Channel doors into intake: gateways that carry reporters' messages (SMS)."""
