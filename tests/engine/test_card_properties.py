"""Properties of reconciliation over small random months, checked against plain Python.

Each example is a handful of PSA lines, usage over two or three vendors, and maps where some
vendor accounts and SKUs are mapped, some excluded and some unmapped. The expectations are
computed here from the rows and maps alone (DESIGN 4.2 to 4.8), never from the engine's frames.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Reconciliation
from tests.engine.factories import (
    account_map,
    catalog_item,
    product_map,
    psa_line,
    run,
    usage,
)

VENDORS = ("datto", "pax8", "sherweb")
VENDOR_ACCOUNTS = ("T1", "T2", "T3")
SKUS = ("S1", "S2", "S3")
PSA_ACCOUNTS = ("A1", "A10", "A9")
NEW_ACCOUNT = "A-NEW"  # mapped to, but absent from the PSA export
PSA_PRODUCTS = ("P1", "P10", "P2")
LABOUR = "LAB"  # never mapped: its lines make no card
EXCLUDED = "excluded"
CENT = Decimal("0.01")
ZERO = Decimal(0)

quantities = st.one_of(
    st.integers(0, 5),  # small whole numbers, so that ties and unchanged cards happen
    st.integers(0, 50_000).map(lambda n: Decimal(n).scaleb(-2)),
).map(Decimal)
prices = st.one_of(
    st.none(),
    st.integers(0, 2_000_000).map(lambda n: Decimal(n).scaleb(-4)),
    # a half cent: an odd change lands exactly between two cents, where rounding shows
    st.integers(0, 2_000).map(lambda n: Decimal(n).scaleb(-2) + Decimal("0.005")),
)
cycles = st.sampled_from([None, 1, 3, 12])
statuses = st.sampled_from([None, None, None, "active", "suspended"])


@dataclass
class Month:
    lines: list[dict]
    usage: list[dict]
    account_maps: dict[tuple[str, str], str] = field(default_factory=dict)
    """(vendor, vendor account) -> PSA account or EXCLUDED; a missing key is unmapped."""
    product_maps: dict[tuple[str, str], str] = field(default_factory=dict)
    catalog: dict[str, tuple[Decimal | None, int | None]] = field(default_factory=dict)
    extra_vendors_with_data: frozenset[str] = frozenset()

    def reconcile(self) -> Reconciliation:
        with_data = self.vendors_with_data() if self.extra_vendors_with_data else None
        return run(
            self.lines,
            self.usage,
            accounts=[
                account_map(v, t, target, excluded=target == EXCLUDED)
                for (v, t), target in self.account_maps.items()
            ],
            products=[
                product_map(v, s, target, excluded=target == EXCLUDED)
                for (v, s), target in self.product_maps.items()
            ],
            catalog=[catalog_item(p, price, months=m) for p, (price, m) in self.catalog.items()],
            auto_map=False,
            vendors_with_data=with_data,
        )

    # --- the expectations, in plain Python -------------------------------------------------

    def vendors_with_data(self) -> set[str]:
        return {row["vendor"] for row in self.usage} | self.extra_vendors_with_data

    def active_quantity(self, row: dict) -> Decimal:
        status = (row["status"] or "active").strip().lower()
        return row["quantity"] if status == "active" else ZERO

    def mapped_usage(self) -> dict[tuple[str, str, str], Decimal]:
        """(PSA account, PSA product, vendor) -> the active usage mapped there."""
        mapped: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
        for row in self.usage:
            account = self.account_maps.get((row["vendor"], row["account_id"]))
            product = self.product_maps.get((row["vendor"], row["product_id"]))
            if account not in (None, EXCLUDED) and product not in (None, EXCLUDED):
                mapped[account, product, row["vendor"]] += self.active_quantity(row)
        return mapped

    def unmapped(self) -> dict[tuple[str, str, str], Decimal]:
        """(kind, vendor, vendor id) -> all the active usage of an item with no map row."""
        found: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
        for row in self.usage:
            vendor, quantity = row["vendor"], self.active_quantity(row)
            if (vendor, row["account_id"]) not in self.account_maps:
                found["account", vendor, row["account_id"]] += quantity
            if (vendor, row["product_id"]) not in self.product_maps:
                found["product", vendor, row["product_id"]] += quantity
        return dict(found)

    def reconciled_products(self) -> set[str]:
        return {p for p in self.product_maps.values() if p != EXCLUDED}

    def psa_lines_of(self, account: str, product: str) -> list[dict]:
        if product not in self.reconciled_products():
            return []
        return [
            ln for ln in self.lines if (ln["account_id"], ln["product_id"]) == (account, product)
        ]

    def target_line(self, account: str, product: str) -> dict | None:
        lines = self.psa_lines_of(account, product)
        order = sorted(lines, key=lambda ln: (-ln["quantity"], ln["contract_id"], ln["line_id"]))
        return order[0] if order else None

    def counting_vendors(self, account: str, product: str) -> set[str]:
        """The vendors that map some vendor account to `account` and some SKU to `product`."""
        return {
            v
            for (v, _), a in self.account_maps.items()
            if a == account
            and (v, product) in {(pv, p) for (pv, _), p in self.product_maps.items()}
        }

    def known(self, account: str, product: str) -> bool:
        return bool(self.counting_vendors(account, product) & self.vendors_with_data())

    def expected_keys(self) -> set[tuple[str, str]]:
        with_lines = {
            (ln["account_id"], ln["product_id"])
            for ln in self.lines
            if ln["product_id"] in self.reconciled_products()
        }
        with_usage = {(a, p) for (a, p, _), q in self.mapped_usage().items() if q > 0}
        return with_lines | with_usage


@st.composite
def months(draw: st.DrawFn) -> Month:
    vendors = draw(st.lists(st.sampled_from(VENDORS), min_size=2, max_size=3, unique=True))
    map_choice = {
        "account": st.sampled_from([None, EXCLUDED, *PSA_ACCOUNTS, NEW_ACCOUNT]),
        "product": st.sampled_from([None, EXCLUDED, *PSA_PRODUCTS]),
    }
    account_maps = {
        (v, t): target
        for v in vendors
        for t in VENDOR_ACCOUNTS
        if (target := draw(map_choice["account"])) is not None
    }
    product_maps = {
        (v, s): target
        for v in vendors
        for s in SKUS
        if (target := draw(map_choice["product"])) is not None
    }
    lines = [
        psa_line(
            draw(st.sampled_from(PSA_ACCOUNTS)),
            draw(st.sampled_from([*PSA_PRODUCTS, LABOUR])),
            draw(quantities),
            price=draw(prices),
            contract=draw(st.sampled_from(["C1", "C10", "C9"])),
            line=f"L{i * 7 % 11}",  # unique, and "L10" sorts before "L9" as text
            months=draw(cycles),
        )
        for i in range(draw(st.integers(0, 8)))
    ]
    # A vendor may send no rows at all: its file is missing.
    rows = [
        usage(
            draw(st.sampled_from(vendors)),
            draw(st.sampled_from(VENDOR_ACCOUNTS)),
            draw(st.sampled_from(SKUS)),
            draw(quantities),
            status=draw(statuses),
        )
        for _ in range(draw(st.integers(0, 12)))
    ]
    catalog = {
        p: (draw(prices), draw(cycles)) for p in draw(st.sets(st.sampled_from(PSA_PRODUCTS)))
    }
    extra = draw(st.frozensets(st.sampled_from(vendors)))
    return Month(lines, rows, account_maps, product_maps, catalog, extra)


modest = settings(max_examples=200, deadline=None, database=None)


def cards_by_key(result: Reconciliation) -> dict[tuple[str, str], dict]:
    return {(c["account_id"], c["product_id"]): c for c in result.cards.iter_rows(named=True)}


# Each test reconciles a month once and checks a few properties of it, each a function below, so
# that a failure names the property and the suite stays fast.


@modest
@given(months())
def test_usage_is_accounted_for(month):
    result = month.reconcile()

    each_mapped_usage_unit_lands_in_exactly_one_card(month, result)
    vendor_quantities_over_known_cards_add_up_to_the_mapped_usage(month, result)
    unmapped_quantities_add_up_to_the_usage_of_unmapped_items(month, result)
    every_active_unit_is_on_a_card_unmapped_or_excluded(month, result)


@modest
@given(months())
def test_cards_agree_with_their_quantities(month):
    result = month.reconcile()

    one_card_per_account_and_product_sorted(month, result)
    psa_quantity_adds_the_lines_and_change_is_vendor_minus_psa(month, result)
    card_type_agrees_with_its_quantities(month, result)


@modest
@given(months())
def test_cards_carry_their_target_line_price_and_vendor(month):
    result = month.reconcile()

    monthly_value_is_change_times_price_over_cycle_rounded_once(month, result)
    card_vendor_is_the_one_contributing_most(month, result)


def each_mapped_usage_unit_lands_in_exactly_one_card(month: Month, result: Reconciliation):
    cards = cards_by_key(result)
    per_key: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (account, product, _), quantity in month.mapped_usage().items():
        per_key[account, product] += quantity
    for key, quantity in per_key.items():
        if quantity > 0:
            assert cards[key]["vendor_quantity"] == quantity, key
        else:
            assert key not in cards or cards[key]["vendor_quantity"] == 0, key


def vendor_quantities_over_known_cards_add_up_to_the_mapped_usage(
    month: Month, result: Reconciliation
):
    total = sum(month.mapped_usage().values(), ZERO)
    assert sum(result.cards["vendor_quantity"].drop_nulls(), ZERO) == total


def unmapped_quantities_add_up_to_the_usage_of_unmapped_items(month: Month, result: Reconciliation):
    listed = result.unmapped.select("kind", "vendor", "vendor_id", "quantity").rows()
    assert {(k, v, i): q for k, v, i, q in listed} == month.unmapped()
    assert [(k, v, i) for k, v, i, _ in listed] == sorted(month.unmapped())


def every_active_unit_is_on_a_card_unmapped_or_excluded(month: Month, result: Reconciliation):
    ignored = unmapped = ZERO
    for row in month.usage:
        account = month.account_maps.get((row["vendor"], row["account_id"]))
        product = month.product_maps.get((row["vendor"], row["product_id"]))
        if None in (account, product):
            unmapped += month.active_quantity(row)
        elif EXCLUDED in (account, product):
            ignored += month.active_quantity(row)
    on_cards = sum(result.cards["vendor_quantity"].drop_nulls(), ZERO)
    total = sum((month.active_quantity(row) for row in month.usage), ZERO)
    assert on_cards + ignored + unmapped == total


def one_card_per_account_and_product_sorted(month: Month, result: Reconciliation):
    keys = result.cards.select("account_id", "product_id").rows()
    assert keys == sorted(set(keys))
    assert set(keys) == month.expected_keys()


def psa_quantity_adds_the_lines_and_change_is_vendor_minus_psa(
    month: Month, result: Reconciliation
):
    for card in result.cards.iter_rows(named=True):
        lines = month.psa_lines_of(card["account_id"], card["product_id"])
        assert card["psa_quantity"] == sum((ln["quantity"] for ln in lines), ZERO)
        if card["vendor_quantity"] is None:
            assert card["change"] is None
        else:
            assert card["change"] == card["vendor_quantity"] - card["psa_quantity"]


def card_type_agrees_with_its_quantities(month: Month, result: Reconciliation):
    for card in result.cards.iter_rows(named=True):
        key = account, product = card["account_id"], card["product_id"]
        psa, vendor, kind = card["psa_quantity"], card["vendor_quantity"], card["card_type"]
        if not month.psa_lines_of(account, product):
            assert kind == "new_revenue", key
            assert psa == 0 and vendor > 0, key
            assert card["contract_id"] is None and card["line_id"] is None, key
        elif not month.known(account, product):
            assert kind == "no_vendor_data", key
            assert vendor is None and card["monthly_value"] is None, key
        elif vendor == psa:
            assert kind == "unchanged", key
        elif vendor > psa:
            assert kind == "increase", key
        elif vendor == 0:
            assert kind == "removal", key
        else:
            assert kind == "decrease" and 0 < vendor < psa, key


def monthly_value_is_change_times_price_over_cycle_rounded_once(
    month: Month, result: Reconciliation
):
    for card in result.cards.iter_rows(named=True):
        target = month.target_line(card["account_id"], card["product_id"])
        if target is not None:
            price, cycle = target["unit_price"], target["billing_months"]
            assert (card["contract_id"], card["line_id"]) == (
                target["contract_id"],
                target["line_id"],
            )
        else:  # new revenue: the catalogue's price, never another customer's line
            price, cycle = month.catalog.get(card["product_id"], (None, None))
        assert (card["unit_price"], card["billing_months"]) == (price, cycle)
        if card["change"] is None or price is None:
            expected = None
        else:
            exact = card["change"] * price / (cycle or 1)
            expected = exact.quantize(CENT, rounding=ROUND_HALF_UP)
        assert card["monthly_value"] == expected, card


def card_vendor_is_the_one_contributing_most(month: Month, result: Reconciliation):
    mapped = month.mapped_usage()
    with_data = month.vendors_with_data()
    for card in result.cards.iter_rows(named=True):
        account, product = card["account_id"], card["product_id"]
        candidates = month.counting_vendors(account, product)
        expected = min(
            candidates,
            key=lambda v: (v not in with_data, -mapped.get((account, product, v), ZERO), v),
            default=None,
        )
        assert card["vendor"] == expected, card
