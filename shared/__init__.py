"""The common kit every Simpul service stands on: settings, events, bus, outbox, database, HTTP and auth."""
