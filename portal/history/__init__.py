"""history domain."""
