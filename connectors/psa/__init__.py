"""PSA connectors: each reads its PSA's agreement lines and product catalogue into the engine's
PSA_LINES and CATALOG frames (DESIGN 5)."""
