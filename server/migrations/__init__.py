"""Alembic migrations of the Samkonsult schema."""
