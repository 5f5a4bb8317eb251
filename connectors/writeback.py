"""Writing an approved change back to the PSA: what is asked, and what came of it (DESIGN 5).

Every PSA connector applies a `QuantityChange` the same way: read the line's current quantity;
stop with `conflict` when it is neither what the approver saw nor already the new quantity;
write (unless `dry_run`); read back to verify; give back a `ChangeResult` holding exactly what
was sent and answered, for the audit log. A line already at the new quantity is `noop`: that is
how a change whose first attempt's outcome was unknown is never applied twice. A dry run reads
and compares only: a change it would write comes back `applied` with a message starting
"dry run", and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

Mode = Literal["in_place", "effective_dated"]
"""How a change is written: the line's quantity edited in place (sent only once its effective
date has come), or a change carrying its own date (a new dated line, an Autotask adjustment),
which may be sent at once."""

Status = Literal["applied", "noop", "conflict", "rejected", "failed"]


@dataclass(frozen=True)
class QuantityChange:
    """One approved change for the PSA."""

    idempotency_key: str
    """Fixed per approval: a connector must not apply one key twice."""
    account_id: str
    product_id: str
    contract_id: str | None
    """The PSA agreement (contract, recurring invoice) the line is on or is to be added to."""
    line_id: str | None
    """The line to change; None for New Revenue (a line to add)."""
    expected_quantity: Decimal | None
    """What the approver saw the PSA bill; None for a line to add."""
    new_quantity: Decimal
    effective_date: date
    mode: Mode = "in_place"
    note: str | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class ChangeResult:
    """What came of applying one change."""

    status: Status
    applied_quantity: Decimal | None = None
    """The quantity read back after writing (or found, for a noop or a conflict)."""
    new_line_id: str | None = None
    """The line a change added (ConnectWise effective-dated mode, New Revenue)."""
    request: dict[str, Any] = field(default_factory=dict)
    """Exactly what was sent (method, path, body), secrets aside."""
    response: dict[str, Any] | None = None
    message: str | None = None


def shown(quantity: Decimal | None) -> str:
    """Give back a quantity as people write it in a message: 12, not 12.0000."""
    return "none" if quantity is None else f"{quantity.normalize():f}"


__all__ = ["ChangeResult", "Mode", "QuantityChange", "Status", "shown"]
