"""The bottom layer: settings, the port-date calendar, the FOC guard, LOA rendering.

Nothing here imports another portflow package (models, store, providers, activities,
workflows, portflow, api, devtools, worker, starter): they all build on core, never the
other way round. ``tests/test_layers.py`` keeps it so.
"""
