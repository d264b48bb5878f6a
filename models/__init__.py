"""Data models shared by workflows, activities, the CLI and the API (no I/O here)."""
