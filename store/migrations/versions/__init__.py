"""Migration scripts, oldest first (a package so installs ship it)."""
