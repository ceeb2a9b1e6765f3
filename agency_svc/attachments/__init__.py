"""A node's files: uploads for its follow-ups, and the case's files as the nodes that see the case may see them."""
