"""Reporters' contacts: sealed at rest, opened only to deliver."""
