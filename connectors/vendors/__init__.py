"""Vendor connectors: each reads a vendor's or distributor's API into the engine's USAGE frame."""
