"""The inbox: cases dispositioned to an agency node's subtree, and the node's work on them."""
