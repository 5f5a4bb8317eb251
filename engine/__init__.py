"""The reconciliation engine: pure Polars, frames in and frames out (DESIGN section 4)."""

from engine.cards import Reconciliation, reconcile
from engine.money import prorated_amount, with_prorated_amount
from engine.outliers import flag_outliers
from engine.schema import CardType
from engine.summary import GroupBy, group_summary

__all__ = [
    "CardType",
    "GroupBy",
    "Reconciliation",
    "flag_outliers",
    "group_summary",
    "prorated_amount",
    "reconcile",
    "with_prorated_amount",
]
