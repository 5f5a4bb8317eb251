"""The store: the only place that talks SQL (DESIGN 2).

Snapshots of each sync, maps, decisions, the audit log and settings, in SQLite (`data/trueup.db`)
or PostgreSQL (`DATABASE_URL`). `open_store()` migrates the schema; the functions below are the
whole interface the pages and the CLI use.
"""

from store.cards import CurrentCards, current_cards
from store.db import Store, StoreUnavailable, database_url, open_store, shown_url
from store.demo import Demo, ensure_demo, reset_demo
from store.mapping import MapImport, import_maps
from store.retention import prune
from store.snapshots import CurrentInputs, SourceState, current_inputs, source_states
from store.sync import ImportResult, import_csv
from store.types import Action, CardStatus, SourceKind, SyncStatus

__all__ = [
    "Action",
    "CardStatus",
    "CurrentCards",
    "CurrentInputs",
    "Demo",
    "ImportResult",
    "MapImport",
    "SourceKind",
    "SourceState",
    "Store",
    "StoreUnavailable",
    "SyncStatus",
    "current_cards",
    "current_inputs",
    "database_url",
    "ensure_demo",
    "import_csv",
    "import_maps",
    "open_store",
    "prune",
    "reset_demo",
    "shown_url",
    "source_states",
]
