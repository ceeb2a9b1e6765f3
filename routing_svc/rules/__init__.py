"""Routing rules and the matcher that picks the most specific one."""
