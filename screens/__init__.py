"""Kabinet terminal app: screens (see README)."""
