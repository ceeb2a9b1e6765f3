"""The hub's category tree as intake knows it: a replica kept from category.changed, read to warn reporters."""
