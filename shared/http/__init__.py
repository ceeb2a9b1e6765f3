"""The HTTP side of every service: the app factory, errors, health and metrics."""
