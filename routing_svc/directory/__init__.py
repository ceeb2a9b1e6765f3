"""The agency directory: a tree of nodes with materialized paths."""
