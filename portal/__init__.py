"""Kabinet portal: the billing center's resident API (FastAPI, SQLAlchemy 2, Alembic)."""

__version__ = "0.1.0"
