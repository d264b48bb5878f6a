"""Alembic migrations of portflow's database (a package so installs ship it)."""
