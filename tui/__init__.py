"""Kabinet terminal app: tui (see README)."""
