"""Properties of the importer over generated files and numbers."""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from connectors.csv import read_usage
from connectors.csv.parse import decimal

PLACES = Decimal("0.0001")


@given(
    st.integers(0, 12).flatmap(
        lambda places: st.decimals(
            min_value=Decimal("-99999999999999"),
            max_value=Decimal("99999999999999"),
            allow_nan=False,
            allow_infinity=False,
            places=places,
        )
    )
    # Exact ties, where half-up and half-to-even differ.
    | st.integers(-(10**8), 10**8).map(lambda n: Decimal(n) / 10**4 + Decimal("0.00005"))
)
def test_numbers_round_half_away_from_zero_to_four_places(number: Decimal) -> None:
    text = format(number, "f")
    parsed = decimal(pl.col("cell"))
    read = pl.DataFrame({"cell": [text]}).select(
        parsed.value.alias("value"), parsed.rounded.alias("rounded")
    )
    expected = number.quantize(PLACES, rounding=ROUND_HALF_UP)
    if abs(expected) >= Decimal("1e14"):
        return  # beyond Decimal(18, 4): reported as too large, tested elsewhere
    assert read["value"][0] == expected
    places = len(text.partition(".")[2])
    assert read["rounded"][0] == (places > 4)


# Control characters aside: Python strips \x1c-\x1f as whitespace, the importer (rightly) not.
name = st.text(
    alphabet=st.characters(codec="cp1252", exclude_categories=("Cc",))
    | st.sampled_from(["\n", "\t", " ", '"', ",", ";"]),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() != "")


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A1", "A2", "Ä3"]),
            name,
            st.sampled_from(["S1", "S2"]),
            st.integers(0, 10**6),
            st.sampled_from(["", "active", "Active", "trial", "cancelled"]),
        ),
        min_size=1,
        max_size=12,
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_any_well_formed_file_adds_up_like_the_rule_says(
    rows: list[tuple[str, str, str, int, str]],
    delimiter: str,
    encoding: str,
    newline: str,
    quoting: int,
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(["Customer ID", "Customer", "SKU", "Qty", "Status"])
    writer.writerows(rows)
    data = out.getvalue().encode(encoding)
    if encoding == "cp1252" and not data.isascii():
        # Some Windows-1252 text is also valid UTF-8 ("Â\xa0" is the bytes of a UTF-8
        # no-break space): no reader can tell them apart, and UTF-8 is tried first.
        try:
            data.decode("utf-8")
            assume(False)
        except UnicodeDecodeError:
            pass
    imported = read_usage(data, name="gen.csv", vendor="V")

    expected: dict[tuple[str, str], list[object]] = {}
    for account, account_name, product, quantity, status in rows:
        active = status.lower() in ("", "active")
        entry = expected.setdefault(
            (account, product), [account_name.strip(), Decimal(0), False, status]
        )
        entry[1] = Decimal(entry[1]) + (quantity if active else 0)  # type: ignore[operator]
        entry[2] = entry[2] or active
    got = {
        (r["account_id"], r["product_id"]): [
            r["account_name"], r["quantity"], r["status"] == "active", r["status"]
        ]
        for r in imported.frame.iter_rows(named=True)
    }  # fmt: skip
    assert set(got) == set(expected)
    for key, (account_name, quantity, active, first_status) in expected.items():
        assert got[key][:3] == [account_name, quantity, active]
        if not active:
            assert got[key][3] == first_status
    assert imported.rows == len(rows)
