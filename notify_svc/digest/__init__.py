"""The daily digest: each node's overdue and due-soon cases, for its liaison officers."""
