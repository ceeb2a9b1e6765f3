"""Statistics per node (its subtree included) and per period, as JSON or CSV; see definitions.py."""
