"""Data out: the files a billing system loads back (readings, portal payments, registrations)."""
