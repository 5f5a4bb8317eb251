"""Settings: one registry of (name, default, help), read from the environment (STYLE 6).

`TRUEUP_<NAME>` in the environment overrides a default, e.g. `TRUEUP_CURRENCY=EUR`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return f"TRUEUP_{self.name.upper()}"


REGISTRY = {
    s.name: s
    for s in (
        Setting("currency", "USD", "The one currency of this install (ISO code), shown on money."),
        Setting(
            "timezone",
            "UTC",
            "The team's time zone (IANA name, e.g. America/Chicago): a decision belongs to the "
            "month of its date there.",
        ),
        Setting("outlier_min_change", "10", "N: a change of fewer units is never an outlier."),
        Setting(
            "outlier_ratio",
            "0.5",
            "R: a change is an outlier at this share of the account's reconciled PSA quantity.",
        ),
        Setting(
            "alert_at_risk",
            "",
            "Alert after a sync when revenue at risk (open increases and New Revenue, monthly) "
            "is at or over this amount; empty: never for that.",
        ),
    )
}


def get(name: str) -> str:
    """Give back a setting's value: the environment's, else the default."""
    setting = REGISTRY[name]
    return os.environ.get(setting.env, setting.default)


def decimal(name: str) -> Decimal:
    """Give back a numeric setting as an exact decimal."""
    return Decimal(get(name))
