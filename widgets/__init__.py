"""Kabinet terminal app: widgets (see README)."""
