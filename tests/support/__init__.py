"""Helpers shared by the test suite: what several test files need, in one place (fixtures: conftest.py)."""
