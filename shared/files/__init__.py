"""Attachments: what every service needs to check, store and scan files."""
