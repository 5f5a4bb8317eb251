"""Small usage and PSA files for store tests, written as a user's export would be."""

from __future__ import annotations

from pathlib import Path

from store import Store, import_csv, import_maps
from tests.conftest import MONTH

USAGE_HEADER = "vendor,account_id,account_name,product_id,product_name,quantity\n"


def usage_file(
    folder: Path, name: str, rows: list[tuple[str, ...]], header: str = USAGE_HEADER
) -> Path:
    """Write a usage CSV of `rows` (tuples of cells) and give back its path."""
    path = folder / name
    path.write_text(header + "".join(",".join(row) + "\n" for row in rows))
    return path


def seats(folder: Path, name: str, quantity: str, vendor: str = "pax8") -> Path:
    """Write a one-row usage file: one tenant's seats of one SKU."""
    return usage_file(folder, name, [(vendor, "t-1", "Tenant One", "SKU-1", "Seats", quantity)])


def load_month(store: Store) -> None:
    """Sync the hand-checked month (tests/fixtures/month) into the store, maps included."""
    import_csv(store, "psa", "psa", MONTH / "psa.csv")
    import_csv(store, "pax8", "usage", MONTH / "usage-pax8.csv")
    import_csv(store, "sentinelone", "usage", MONTH / "usage-sentinelone.csv")
    import_maps(store, MONTH / "account-map.csv")
    import_maps(store, MONTH / "product-map.csv")
