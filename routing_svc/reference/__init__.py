"""What a form or a channel needs, served without a key: categories, Kemendagri regions, the public directory."""
