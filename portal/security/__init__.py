"""Secrets the resident proves: password hashing, opaque tokens, password rules."""
