"""The category tree: what a complaint is about (code, Indonesian and English names, parent, classifications)."""
