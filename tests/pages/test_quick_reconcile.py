"""The Quick reconcile page, driven through Streamlit's AppTest with the fixture month."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import MONTH, ROOT


def quick_reconcile() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    return at.switch_page("pages/quick_reconcile.py").run()


def upload(name: str) -> tuple[str, bytes, str]:
    return name, (MONTH / name).read_bytes(), "text/csv"


def test_uploaded_files_give_cards_per_type_and_the_unmapped_list() -> None:
    at = quick_reconcile()
    assert not at.exception
    assert at.info[0].value.startswith("Upload the PSA export")

    psa, usage, maps, catalog = at.file_uploader
    psa.set_value(upload("psa.csv"))
    usage.set_value([upload("usage-pax8.csv"), upload("usage-sentinelone.csv")])
    maps.set_value([upload("account-map.csv"), upload("product-map.csv")])
    catalog.set_value(upload("catalog.csv"))
    at.run()

    assert not at.exception
    assert not at.error
    metrics = {m.label: m for m in at.metric}
    assert metrics["Increase"].value == "2"
    assert metrics["Decrease"].value == "2"
    assert metrics["Removal"].value == "1"
    assert metrics["New Revenue"].value == "1"
    assert metrics["Net monthly value"].value == "-151.00 USD"
    assert metrics["Unmapped accounts"].value == "1"
    assert metrics["Unmapped services"].value == "1"
    cards = at.dataframe[0].value
    assert len(cards) == 6
    unmapped = at.dataframe[1].value
    assert list(unmapped["vendor_id"]) == ["t-foxtrot", "CFQ7TTC0RL1"]


def test_a_bad_file_shows_where_it_is_wrong_and_no_cards() -> None:
    at = quick_reconcile()
    psa, usage, _, _ = at.file_uploader
    psa.set_value(upload("psa.csv"))
    usage.set_value(
        ("usage.csv", b"vendor,customer,sku,qty\npax8,Acme,M365,12 seats\n", "text/csv")
    )
    at.run()

    assert not at.exception
    assert 'usage.csv row 2, column "qty": "12 seats" is not a number' in at.error[0].value
    assert not at.metric
