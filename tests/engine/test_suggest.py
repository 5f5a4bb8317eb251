"""Map suggestions (engine.suggest): for each unmapped vendor account or SKU, the PSA account or
product that fits best, a score, and the evidence in words; nothing where nothing fits well or
two fit about equally well."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from engine.suggest import (
    LOOK_ALIKE_AT,
    OFFER_AT,
    SUGGESTIONS,
    suggest_accounts,
    suggest_products,
)
from tests.conftest import FIXTURES

LABELLED = FIXTURES / "suggest"
HIGH = 90
"""A score at which a person would accept a suggestion without a second look."""


def labelled(name: str) -> pl.DataFrame:
    return pl.read_csv(LABELLED / name, infer_schema=False)


def vendor_items(*names: str, **columns: list[str | None]) -> pl.DataFrame:
    """Give back vendor accounts or SKUs of Pax8 with these names (ids v1, v2, ...)."""
    return pl.DataFrame(
        {
            "vendor": ["pax8"] * len(names),
            "vendor_id": [f"v{i}" for i in range(1, len(names) + 1)],
            "vendor_name": list(names),
            **columns,
        },
        schema_overrides={c: pl.String for c in columns},
    )


def psa_items(*names: str, **columns: list[str | None]) -> pl.DataFrame:
    """Give back PSA accounts or products with these names (ids A1, A2, ...)."""
    return pl.DataFrame(
        {"psa_id": [f"A{i}" for i in range(1, len(names) + 1)], "psa_name": list(names), **columns},
        schema_overrides={c: pl.String for c in columns},
    )


def only(suggestions: pl.DataFrame) -> dict:
    assert suggestions.height == 1
    return suggestions.row(0, named=True)


def scored(items: pl.DataFrame, got: pl.DataFrame) -> pl.DataFrame:
    """Give back the labelled items beside what was suggested for them."""
    return items.with_columns(
        got.select(pl.col("psa_id").alias("got"), "psa_name", "score", "reason")
    )


def precision_and_coverage(result: pl.DataFrame) -> tuple[float, float]:
    """Give back the share of offered suggestions that are right, and the share of items with a
    right answer that got a suggestion."""
    offered = result.filter(pl.col("got").is_not_null())
    right = offered.filter(pl.col("got") == pl.col("expected_psa_id"))
    answerable = result.filter(pl.col("expected_psa_id").is_not_null())
    covered = answerable.filter(pl.col("got").is_not_null())
    return right.height / offered.height, covered.height / answerable.height


def wrong(result: pl.DataFrame) -> list[tuple]:
    return (
        result.filter(pl.col("got").fill_null("") != pl.col("expected_psa_id").fill_null(""))
        .select("vendor_name", "expected_psa_id", "psa_name", "score", "reason")
        .rows()
    )


# The labelled sets ------------------------------------------------------------------------------


def test_labelled_accounts_are_suggested_precisely_and_mostly():
    items = labelled("vendor_accounts.csv")
    psa = labelled("psa_accounts.csv")

    result = scored(items, suggest_accounts(items, psa))

    precision, coverage = precision_and_coverage(result)
    assert precision >= 0.95, wrong(result)
    assert coverage >= 0.8, wrong(result)


def test_the_labelled_accounts_include_a_fifth_with_no_right_answer():
    items = labelled("vendor_accounts.csv")

    assert items.get_column("expected_psa_id").null_count() >= 0.2 * items.height


def test_a_customer_the_psa_does_not_have_never_scores_high():
    items = labelled("vendor_accounts.csv")
    psa = labelled("psa_accounts.csv")

    result = scored(items, suggest_accounts(items, psa))

    strangers = result.filter(pl.col("expected_psa_id").is_null() & (pl.col("score") >= HIGH))
    assert strangers.is_empty(), strangers.rows()


def test_labelled_products_are_suggested_precisely_and_mostly():
    items = labelled("vendor_products.csv")
    psa = labelled("psa_products.csv")

    result = scored(items, suggest_products(items, psa))

    precision, coverage = precision_and_coverage(result)
    assert precision >= 0.95, wrong(result)
    assert coverage >= 0.8, wrong(result)
    other_plans = result.filter(
        pl.col("case").str.starts_with("other") & pl.col("got").is_not_null()
    )
    assert other_plans.is_empty(), other_plans.rows()


def test_nothing_is_offered_below_the_offer_line():
    items = labelled("vendor_accounts.csv")
    psa = labelled("psa_accounts.csv")

    got = suggest_accounts(items, psa)

    assert got.filter(pl.col("score") < OFFER_AT).is_empty()
    assert got.filter(pl.col("psa_id").is_null() != pl.col("score").is_null()).is_empty()
    assert got.get_column("reason").null_count() == 0


# Reasons name the evidence ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor_name", "book", "expected", "score", "reason"),
    [
        pytest.param(
            "ACME CORP", ["Acme Corp", "Acme Dental"], "Acme Corp", 100, "same name", id="same-name"
        ),
        pytest.param(
            "Acme Corp.", ["Acme Corp", "Acme Dental"], "Acme Corp", 99,
            "same name: punctuation ignored", id="punctuation",
        ),
        pytest.param(
            "Acme Dental LLC", ["Acme Dental", "Acme Roofing"], "Acme Dental", 97,
            'suffix "LLC" removed; tokens equal', id="suffix",
        ),
        pytest.param(
            "Acme Dental - HQ", ["Acme Dental Inc.", "Acme Roofing"], "Acme Dental Inc.", 97,
            'suffix "Inc" removed; "HQ" removed; tokens equal', id="suffix-and-site-noise",
        ),
        pytest.param(
            "Cafe Muller", ["Café Müller GmbH"], "Café Müller GmbH", 97,
            'suffix "GmbH" removed; accents ignored; tokens equal', id="accents",
        ),
        pytest.param(
            "Kessler and Kline", ["Kessler & Kline"], "Kessler & Kline", 99,
            'same name: "&" read as "and"', id="ampersand",
        ),
        pytest.param(
            "Reyes & Garcia Law", ["Garcia & Reyes Law", "Reyes Dental"], "Garcia & Reyes Law", 97,
            "same words in another order", id="word-order",
        ),
        pytest.param(
            "HPVH Main", ["Highland Park Veterinary Hospital", "Highland Park Dental"],
            "Highland Park Veterinary Hospital", 90,
            '"HPVH" = initials of Highland Park Veterinary Hospital; "Main" removed', id="acronym",
        ),
        pytest.param(
            "Bayside Peds", ["Bayside Pediatrics, P.C.", "Bayside Marina"],
            "Bayside Pediatrics, P.C.", 94,
            '"peds" abbreviates "pediatrics"; suffix "PC" removed', id="abbreviation",
        ),
        pytest.param(
            "Global Logistics Intl", ["Global Logistics International"],
            "Global Logistics International", 94, '"intl" abbreviates "international"',
            id="contraction",
        ),
        pytest.param(
            "Windward Capital", ["Windward Capital Partners", "Leeward Capital"],
            "Windward Capital Partners", 92,
            'words of "windward capital" all in "windward capital partners"', id="form-word",
        ),
        pytest.param(
            "Northwind Tradres", ["Northwind Traders", "Acme Traders"], "Northwind Traders",
            94, 'similar spelling: "tradres" ~ "traders" (86)', id="misspelling",
        ),
        pytest.param(
            "Harbor View Realty", ["Harborview Realty"], "Harborview Realty", 94,
            '"harborview" = "harbor view"', id="closed-up",
        ),
        pytest.param(
            "Acme Management Group LLC", ["Acme Mgmt Grp", "Acme Roofing"], "Acme Mgmt Grp", 93,
            '"mgmt" abbreviates "management"; "grp" abbreviates "group"; suffix "LLC" removed',
            id="abbreviated-in-the-psa",
        ),
        pytest.param(
            "Greenfield Pediatric", ["Greenfield Pediatrics", "Greenfield Pediatric Dentistry"],
            "Greenfield Pediatrics", 84,
            '"pediatric" ~ "pediatrics"; Greenfield Pediatric Dentistry has these words too',
            id="plural",
        ),
    ],
)  # fmt: skip
def test_the_reason_names_the_evidence(vendor_name, book, expected, score, reason):
    got = only(suggest_accounts(vendor_items(vendor_name), psa_items(*book)))

    assert (got["psa_name"], got["score"], got["reason"]) == (expected, score, reason)


@pytest.mark.parametrize(
    ("vendor_name", "book", "reason"),
    [
        pytest.param(
            "Zenith Widgets", ["Acme Corp", "Summit Dental"], "no PSA account shares a word",
            id="no-shared-word",
        ),
        pytest.param(
            "Acme Dental", ["Acme Dental Group", "Acme Dental Partners"],
            "2 PSA accounts fit equally: Acme Dental Group, Acme Dental Partners", id="look-alikes",
        ),
        pytest.param(
            "Horizon Title", ["Horizon Title Company", "Horizon Title Company"],
            "2 PSA accounts fit equally: Horizon Title Company (A1), Horizon Title Company (A2)",
            id="same-name-twice",
        ),
        pytest.param(
            "Pine Dental", ["Pinewood Dental", "Acme Corp"],
            'closest is Pinewood Dental at 35, below 75: shares "dental"; differs: "pine" / '
            '"pinewood"', id="a-word-is-no-abbreviation-of-a-compound",
        ),
        pytest.param(
            "Red Photography", ["Radstead Photography", "Acme Corp"],
            'closest is Radstead Photography at 35, below 75: shares "photography"; differs: '
            '"red" / "radstead"', id="a-word-with-vowels-is-no-contraction",
        ),
        pytest.param(
            "Hansen Plumbing", ["Hanson Plumbing", "Acme Plumbing"],
            'closest is Hanson Plumbing at 74, below 75: similar spelling: "hansen" ~ "hanson" '
            '(83); "hanson" may be another name, not a slip', id="namesake",
        ),
        pytest.param(
            "Summit Dental Supply", ["Summit Dental", "Summit Orthodontics"],
            'closest is Summit Dental at 60, below 75: words of "summit dental" all in '
            '"summit dental supply"', id="another-business",
        ),
    ],
)  # fmt: skip
def test_nothing_is_offered_where_nothing_fits_or_two_fit_alike(vendor_name, book, reason):
    got = only(suggest_accounts(vendor_items(vendor_name), psa_items(*book)))

    assert (got["psa_id"], got["score"], got["reason"]) == (None, None, reason)


def test_a_look_alike_lowers_the_score_and_is_named():
    book = psa_items("Summit Dental", "Summit Dental Lab")

    got = only(suggest_accounts(vendor_items("Summit Dental Group"), book))

    assert got["psa_name"] == "Summit Dental"
    assert OFFER_AT <= got["score"] <= LOOK_ALIKE_AT
    assert got["reason"].endswith("Summit Dental Lab has these words too")


# Evidence besides the name ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor_name", "domain", "website", "score", "reason"),
    [
        pytest.param(
            "Totally Renamed", "acme.com", "https://www.acme.com/", 96,
            "domain acme.com = website; names differ", id="registered-domain",
        ),
        pytest.param(
            "Totally Renamed", "mail.acme.co.uk", "acme.co.uk", 96,
            "domain acme.co.uk = website; names differ", id="country-domain",
        ),
        pytest.param(
            "Totally Renamed", "brantforddental.onmicrosoft.com", "http://brantforddental.com/x",
            94, "domain brantforddental.onmicrosoft.com fits website brantforddental.com; "
            "names differ", id="tenant-label",
        ),
        pytest.param(
            "Acme Dental", "acme.com", "acme.com", 98,
            "domain acme.com = website; words of \"acme dental\" all in \"acme dental clinic\"",
            id="name-and-domain-agree",
        ),
    ],
)  # fmt: skip
def test_a_domain_that_matches_the_website_is_evidence(vendor_name, domain, website, score, reason):
    book = psa_items("Acme Dental Clinic", "Zenith Widgets", website=[website, None])
    items = vendor_items(vendor_name, domain=[domain])

    got = only(suggest_accounts(items, book))

    assert (got["psa_id"], got["score"], got["reason"]) == ("A1", score, reason)


def test_a_tenant_domain_that_spells_the_name_is_evidence():
    book = psa_items("Brantford Dental LLC", "Brantford Roofing")
    items = vendor_items("Brantford", domain=["brantforddental.onmicrosoft.com"])

    got = only(suggest_accounts(items, book))

    assert got["psa_name"] == "Brantford Dental LLC"
    assert got["reason"].startswith("domain brantforddental.onmicrosoft.com spells the name")


def test_an_external_id_that_is_a_psa_id_wins_whatever_the_name():
    book = psa_items("Acme Corp", "Zenith Widgets")
    items = vendor_items("Acme Corp", external_id=["A2"])

    got = only(suggest_accounts(items, book))

    assert (got["psa_id"], got["score"], got["reason"]) == (
        "A2",
        100,
        "external id A2 = PSA id; names differ",
    )


def test_an_external_id_the_psa_does_not_have_leaves_the_name_to_decide():
    got = only(
        suggest_accounts(vendor_items("Acme Corp", external_id=["99999"]), psa_items("Acme Corp"))
    )

    assert (got["psa_id"], got["reason"]) == ("A1", "same name")


# Taken accounts ---------------------------------------------------------------------------------


def taken(*pairs: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(pairs, schema={"vendor": pl.String, "psa_id": pl.String}, orient="row")


def test_an_account_the_vendor_already_maps_to_gives_way_to_one_worth_offering():
    book = psa_items("Acme Dental", "Acme Dental Group")

    got = only(suggest_accounts(vendor_items("Acme Dental"), book, taken(("pax8", "A1"))))

    assert got["psa_name"] == "Acme Dental Group"
    assert "already has" not in got["reason"]


def test_an_account_already_mapped_is_offered_lower_when_nothing_else_is_worth_it():
    book = psa_items("Acme Dental", "Zenith Widgets")

    got = only(suggest_accounts(vendor_items("Acme Dental LLC"), book, taken(("pax8", "A1"))))

    assert (got["psa_name"], got["score"], got["reason"]) == (
        "Acme Dental",
        87,
        'suffix "LLC" removed; tokens equal; already has a pax8 account',
    )


def test_an_account_mapped_by_another_vendor_is_not_taken():
    book = psa_items("Acme Dental")

    got = only(suggest_accounts(vendor_items("Acme Dental"), book, taken(("datto", "A1"))))

    assert (got["psa_name"], got["score"], got["reason"]) == ("Acme Dental", 100, "same name")


# Products ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sku", "catalogue", "expected", "reason"),
    [
        pytest.param(
            "Exchange Online (Plan 2)", ["Exchange Online (Plan 1)", "Exchange Online Plan 2"],
            "Exchange Online Plan 2", "same name: punctuation ignored", id="plan-2-of-two",
        ),
        pytest.param(
            "Exchange Online (Plan 2)", ["Exchange Online (Plan 1)", "Exchange Online Kiosk"], None,
            'closest is Exchange Online (Plan 1), another plan or level: "p2" vs "p1"',
            id="plan-numbers-differ",
        ),
        pytest.param(
            "M365 Business Standard", ["Microsoft 365 Business Basic",
                                       "Microsoft 365 Business Standard"],
            "Microsoft 365 Business Standard", 'same name: "m365" read as "microsoft 365"',
            id="business-standard-not-basic",
        ),
        pytest.param(
            "Microsoft 365 Business Premium", ["Microsoft 365 Business Basic",
                                               "Microsoft 365 Business Standard"], None,
            'closest is Microsoft 365 Business Basic, another plan or level: "premium" vs "basic"',
            id="no-premium",
        ),
        pytest.param(
            "Power BI Pro", ["Microsoft Power BI Pro", "Power BI Premium"],
            "Microsoft Power BI Pro", 'words of "power bi pro" all in "microsoft power bi pro"',
            id="publisher-dropped",
        ),
        pytest.param(
            "Microsoft 365 E3 (Annual)", ["Microsoft 365 E3", "Microsoft 365 E5"],
            "Microsoft 365 E3",
            'words of "microsoft 365 e3" all in "microsoft 365 e3 annual"', id="billing-term",
        ),
        pytest.param(
            "Microsoft 365 E3 (Annual)", ["Microsoft 365 E3 Monthly"], None,
            'closest is Microsoft 365 E3 Monthly, another plan or level: "annual" vs "monthly"',
            id="other-billing-term",
        ),
    ],
)  # fmt: skip
def test_products_agree_on_plan_and_level(sku, catalogue, expected, reason):
    got = only(suggest_products(vendor_items(sku), psa_items(*catalogue)))

    assert (got["kind"], got["psa_name"], got["reason"]) == ("product", expected, reason)


# The frame --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suggest", [suggest_accounts, suggest_products])
def test_no_items_give_an_empty_frame(suggest):
    got = suggest(vendor_items(), psa_items("Acme Corp"))

    assert_frame_equal(got, pl.DataFrame(schema=SUGGESTIONS))


def test_an_empty_psa_gives_a_row_per_item_that_says_so():
    empty = pl.DataFrame(schema={"psa_id": pl.String, "psa_name": pl.String})

    got = suggest_accounts(vendor_items("Acme Corp", "Zenith"), empty)

    assert got.select("vendor_id", "psa_id", "reason").rows() == [
        ("v1", None, "no PSA accounts to compare with"),
        ("v2", None, "no PSA accounts to compare with"),
    ]


def test_one_row_per_item_in_the_order_given():
    names = ["Zenith Widgets", "Acme Dental", "acme corp", "Acme Dental", "Summit Dental", ""]
    book = psa_items("Acme Corp", "Acme Dental", "Summit Dental")

    got = suggest_accounts(vendor_items(*names), book)

    assert got.schema == pl.Schema(SUGGESTIONS)
    assert got.get_column("vendor_id").to_list() == ["v1", "v2", "v3", "v4", "v5", "v6"]
    assert got.get_column("vendor_name").to_list() == names
    assert got.get_column("psa_id").to_list() == [None, "A2", "A1", "A2", "A3", None]
    assert got.get_column("kind").unique().to_list() == ["account"]


def test_a_vendor_item_with_no_name_gets_a_reason():
    items = vendor_items("x").with_columns(pl.lit(None, pl.String).alias("vendor_name"))

    got = only(suggest_accounts(items, psa_items("Acme Corp")))

    assert (got["psa_id"], got["reason"]) == (None, "no PSA account shares a word")


def test_the_same_input_gives_the_same_suggestions():
    items = labelled("vendor_accounts.csv")
    psa = labelled("psa_accounts.csv")

    assert_frame_equal(suggest_accounts(items, psa), suggest_accounts(items, psa))


def test_a_psa_item_without_an_id_is_never_suggested():
    book = pl.DataFrame(
        {"psa_id": [None, "A2"], "psa_name": ["Acme Corp", "Zenith"]},
        schema={"psa_id": pl.String, "psa_name": pl.String},
    )

    got = only(suggest_accounts(vendor_items("Acme Corp"), book))

    assert (got["psa_id"], got["reason"]) == (None, "no PSA account shares a word")
