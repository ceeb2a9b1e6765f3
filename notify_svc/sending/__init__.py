"""Rendering messages and delivering them: SMTP, or .eml files when no SMTP server is configured."""
