"""The fault suite (``make faults``, ``python -m faults``): ports driven through the CLI while
the worker is killed, the server restarted and the carrier misbehaves; see ``__main__``."""
