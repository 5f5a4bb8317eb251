"""Connectors: turn each outside format into the engine's frames and back. I/O only."""
