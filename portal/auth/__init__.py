"""Login, logout, sessions, password recovery."""
