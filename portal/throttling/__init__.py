"""Persistent throttling of the knowledge checks (login, registration, recovery, readings check)."""
