"""recovery domain."""
