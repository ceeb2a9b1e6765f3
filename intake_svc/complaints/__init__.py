"""Complaints: submission, the reporter's view, messages and ratings."""
