"""registration domain."""
