"""What the demo MSP sells and what its vendors count: PSA products, vendor SKUs, customers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    """A PSA catalogue item: list price and cost per unit and billing cycle."""

    id: str
    name: str
    price: Decimal
    cost: Decimal | None
    cycle: str = "monthly"


def _product(id: str, name: str, price: str, cost: str | None, cycle: str = "monthly") -> Product:
    return Product(id, name, Decimal(price), Decimal(cost) if cost else None, cycle)


PRODUCTS = {
    p.id: p
    for p in (
        _product("M365-BB", "Microsoft 365 Business Basic", "7.20", "6.00"),
        _product("M365-BS", "Microsoft 365 Business Standard", "15.00", "12.50"),
        _product("M365-BP", "Microsoft 365 Business Premium", "26.40", "22.00"),
        _product("EXO-P1", "Exchange Online (Plan 1)", "4.80", "4.00"),
        _product("TEAMS-ESS", "Microsoft Teams Essentials", "4.80", "4.00"),
        _product("M365-COPILOT", "Microsoft 365 Copilot", "378.00", "360.00", "annual"),
        # Newly in the catalogue, not yet billed to anyone: the Pax8 SKU is this month's to map.
        _product("PBI-PRO", "Microsoft Power BI Pro", "16.80", "14.00"),
        _product("S1-CORE", "SentinelOne Singularity Core", "5.00", "2.50"),
        _product("S1-CONTROL", "SentinelOne Singularity Control", "7.50", "3.75"),
        _product("S1-COMPLETE", "SentinelOne Singularity Complete", "10.00", "5.50"),
        _product("BKP-M365", "Datto SaaS Protection for Microsoft 365", "4.00", "2.25"),
        _product("MSP-USER", "Managed Services - per user", "95.00", None),
    )
}
"""The PSA's catalogue. Managed services are labour: no vendor counts them, so no card."""


@dataclass(frozen=True)
class Sku:
    """A vendor product and what becomes of it: mapped by id, auto-mapped by its exact name,
    excluded, or left unmapped (`psa_product` None and not excluded)."""

    vendor: str
    id: str
    name: str
    psa_product: str | None
    how: str
    """"id" (a map row), "auto" (same name as the PSA product), "excluded" or "unmapped"."""
    cost: Decimal | None = None
    term: str | None = None


PAX8, SENTINELONE, DATTO = "Pax8", "SentinelOne", "Datto"
DISTRIBUTOR = {PAX8: "Pax8"}

_SKUS = [
    # vendor, SKU id, SKU name, PSA product or how it is left, partner cost, term
    (PAX8, "CFQ7TTC0LH18", "Microsoft 365 Business Basic", "M365-BB", "6.00", "monthly"),
    (PAX8, "CFQ7TTC0LDPB", "Microsoft 365 Business Standard", "M365-BS", "12.50", "monthly"),
    (PAX8, "CFQ7TTC0LCHC", "Microsoft 365 Business Premium", "M365-BP", "22.00", "annual"),
    (PAX8, "CFQ7TTC0LH16", "Exchange Online (Plan 1)", "EXO-P1", "4.00", "monthly"),
    (PAX8, "CFQ7TTC0QW7C", "Microsoft Teams Essentials", "TEAMS-ESS", "4.00", "monthly"),
    (PAX8, "CFQ7TTC0MM8R", "Microsoft 365 Copilot", "M365-COPILOT", "30.00", "annual"),
    (PAX8, "CFQ7TTC0LHSF", "Power BI Pro", "unmapped", "14.00", "monthly"),
    (PAX8, "CFQ7TTC0HD33", "Visio Plan 2", "unmapped", "15.00", "monthly"),
    (PAX8, "CFQ7TTC0LH0R", "Microsoft Power Automate Free", "excluded", "0", "monthly"),
    (SENTINELONE, "sku-core", "Singularity Core", "S1-CORE", None, None),
    (SENTINELONE, "sku-control", "Singularity Control", "S1-CONTROL", None, None),
    (SENTINELONE, "sku-complete", "Singularity Complete", "S1-COMPLETE", None, None),
    (DATTO, "SP-M365", "Datto SaaS Protection for Microsoft 365", "BKP-M365", "2.25", "monthly"),
]
AUTO_MAPPED = {"CFQ7TTC0LH16", "SP-M365"}
"""SKUs named exactly as the PSA product: mapped by name, with no map row."""

SKUS = {
    (vendor, id): Sku(
        vendor,
        id,
        name,
        None if target in ("unmapped", "excluded") else target,
        target if target in ("unmapped", "excluded") else "auto" if id in AUTO_MAPPED else "id",
        Decimal(cost) if cost else None,
        term,
    )
    for vendor, id, name, target, cost, term in _SKUS
}
SKU_OF = {s.psa_product: s for s in SKUS.values() if s.psa_product}
"""The vendor SKU that counts each reconciled PSA product."""

EXCLUDED_REASON = {"CFQ7TTC0LH0R": "Free SKU: never billed"}

CUSTOMERS = [
    ("Harborview Dental Group, PLLC", "Harborview Dental"),
    ("Cedar Ridge Law Partners LLP", "Cedar Ridge Law"),
    ("Northwind Logistics, Inc.", "Northwind Logistics"),
    ("Bluestone Accounting Group", "Bluestone Accounting"),
    ("Summit Peak Orthopedics", "Summit Peak Ortho"),
    ("Granite Peak Engineering, Inc.", "Granite Peak Engineering"),
    ("Riverside Community Food Bank", "Riverside Food Bank"),
    ("Lakeshore Family Dentistry", "Lakeshore Dentistry"),
    ("Maple Grove Veterinary Clinic", "Maple Grove Vet"),
    ("Ironclad Manufacturing Co.", "Ironclad Manufacturing"),
    ("Pinecrest Property Management", "Pinecrest PM"),
    ("Silver Lining Insurance Agency", "Silver Lining Insurance"),
    ("Keystone Title & Escrow", "Keystone Title"),
    ("Brightpath Home Health", "Brightpath Home Health"),
    ("Copper Canyon Builders", "Copper Canyon Builders"),
    ("Westbrook Financial Advisors", "Westbrook Financial"),
    ("Evergreen Landscape Design", "Evergreen Landscape"),
    ("Tidewater Freight Brokers LLC", "Tidewater Freight"),
    ("Oakmont Physical Therapy", "Oakmont PT"),
    ("Sterling & Vance Architects", "Sterling Vance Architects"),
    ("Meridian Wealth Partners", "Meridian Wealth"),
    ("Clearwater Pediatrics", "Clearwater Pediatrics"),
    ("Redwood Senior Living", "Redwood Senior Living"),
    ("Bayview Marine Supply", "Bayview Marine"),
    ("Foxglove Interiors", "Foxglove Interiors"),
    ("Prairie Wind Energy Services", "Prairie Wind Energy"),
    ("Hillcrest Chiropractic", "Hillcrest Chiro"),
    ("Atlas Staffing Solutions", "Atlas Staffing"),
    ("Blue Heron Animal Hospital", "Blue Heron Animal Hospital"),
    ("Crescent City Realty", "Crescent City Realty"),
    ("Willow Creek Montessori School", "Willow Creek Montessori"),
    ("Lighthouse Counseling Center", "Lighthouse Counseling"),
    ("Stonegate Capital Management", "Stonegate Capital"),
    ("Juniper Creek Winery", "Juniper Creek Winery"),
    ("Parkside Optometry", "Parkside Optometry"),
    ("Vantage Point Surveying", "Vantage Point Surveying"),
    ("Alder & Finch Bookkeeping", "Alder and Finch"),
    ("Coastal Breeze HVAC", "Coastal Breeze HVAC"),
    ("Trailhead Outfitters", "Trailhead Outfitters"),
    ("Magnolia Event Rentals", "Magnolia Events"),
    ("Northstar Community Credit Union", "Northstar CU"),
    ("Mosaic Marketing Agency", "Mosaic Marketing"),
]
"""The customers of the first month: (name in the PSA, name the vendors know)."""

JOINING = {
    11: [
        ("Ridgeline Roofing & Siding", "Ridgeline Roofing"),
    ],
    10: [
        ("Ember & Oak Restaurant Group", "Ember and Oak"),
        ("Quarry Hill Dermatology", "Quarry Hill Derm"),
    ],
    9: [
        ("Fairhaven Library Foundation", "Fairhaven Library"),
    ],
    8: [
        ("Beacon Hill Tax Services", "Beacon Hill Tax"),
    ],
    7: [
        ("Cobblestone Bakery Co.", "Cobblestone Bakery"),
        ("Silverpine Logistics", "Silverpine Logistics"),
    ],
    6: [
        ("Harvest Moon Farms", "Harvest Moon Farms"),
    ],
    5: [
        ("Orchard Park Pharmacy", "Orchard Park Pharmacy"),
        ("Tall Timber Lumber Co.", "Tall Timber Lumber"),
    ],
    4: [
        ("Whitfield & Associates CPAs", "Whitfield CPAs"),
    ],
    3: [
        ("Aurora Imaging Center", "Aurora Imaging"),
        ("Kestrel Aviation Services", "Kestrel Aviation"),
    ],
    2: [
        ("Elm Street Pediatric Dentistry", "Elm Street Pediatric Dentistry"),
        ("Sandstone Dental Studio", "Sandstone Dental"),
    ],
    1: [
        ("Copperline Electrical Contractors", "Copperline Electric"),
        ("Greenfield Ag Cooperative", "Greenfield Ag Co-op"),
    ],
    0: [
        ("Bayside Pediatrics, P.C.", "Bayside Peds"),
        ("Highland Park Veterinary Hospital", "HPVH Main"),
        ("Windward Capital Partners, LLC", "Windward Capital"),
    ],
}
"""Customers won later, by how many months before this one they joined (0: this month), so
that the MSP grows over the demo's year. This month's are not mapped yet: their tenants and
sites are the month's unmapped accounts, their billed lines "no vendor data"."""
LEAVING = {6: "Foxglove Interiors"}
"""Customers lost, by how many months before this one their vendors stopped counting them: their
subscriptions end that month (removals), their agreements the next."""

TWO_AGREEMENTS = "Granite Peak Engineering, Inc."
"""Billed Business Premium on two agreements (the firm and its engineering division)."""
DISCOUNTED = ("Riverside Community Food Bank", Decimal("0.80"))
"""A non-profit billed at 80 % of list price."""
RENAMED = (PAX8, "Mosaic Marketing", "Mosaic Marketing Group")
"""A tenant renamed at the vendor in the last month: its map holds (maps are keyed by ids)."""
OUR_TENANT = ("TrueNorth IT Solutions", "Our own tenant")
"""The MSP's own Microsoft 365 tenant at Pax8: excluded, never billed."""
