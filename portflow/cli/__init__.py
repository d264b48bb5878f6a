"""The commands behind ``starter.py``: one module per group of commands."""
