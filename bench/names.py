"""Vectorised names, ids and numbers as text for the synthetic month.

Every helper takes numpy arrays and gives back a Polars String Series, so that a million rows
cost a few Polars string kernels rather than a million Python f-strings.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# Word lists are written as text and split: a hundred quoted one-word items would hide them.
FIRST = (  # noqa: SIM905
    "Blue Harbor North Summit Cedar Granite Silver Maple Oak Pine River Lake Prairie Iron Copper "
    "Golden Evergreen Harborview Red Rock Stone Bridge Eagle Falcon Pioneer Liberty Heritage "
    "Coastal Valley Highland Lakeside Riverside Westgate Eastside Southpoint Northwind Bright "
    "Clear Crystal Sunrise Sunset Horizon Frontier Keystone Landmark Meridian Orchard Redwood "
    "Sequoia Willow Aspen Birch Juniper Sterling Crescent Beacon Anchor Compass Atlas Café Müller "
    "Søndergaard O'Brien"
).split()
SECOND = (  # noqa: SIM905
    "Dental Legal Family Medical Veterinary Accounting Engineering Logistics Freight Construction "
    "Roofing Plumbing Electric Insurance Realty Capital Wealth Financial Marketing Design "
    "Architecture Consulting Manufacturing Foods Brewing Hospitality Fitness Pharmacy Optometry "
    "Chiropractic Pediatrics Orthodontics Surveying Landscaping Printing Auto Marine Aviation "
    "Energy Solar Software Robotics Labs Analytics Media Studios Education Academy Church Clinic"
).split()
THIRD = (  # noqa: SIM905
    "Group Partners Associates Services Holdings Company Collective Works Center Co"
).split()
SUFFIX = ["", "LLC", "Inc", "Ltd", "LLP", "PC", "& Sons", "GmbH", "PLLC", "Corp"]

# Product families per vendor; a product name is a family and a tier (`Exchange Online Plan 1`).
FAMILIES = {
    "pax8": (
        "Microsoft 365;Exchange Online;Microsoft Teams;Defender for Business;Intune;Power BI;"
        "Entra ID;Visio;Project;Dropbox Business;Acronis Cyber Protect;Keeper Security;"
        "Proofpoint Essentials;Copilot for Microsoft 365;Windows 365;Azure Virtual Desktop"
    ),
    "sherweb": "Sherweb Backup;Sherweb Hosted Exchange;Sherweb Performance Cloud;Sherweb Voice",
    "sentinelone": "SentinelOne Singularity;SentinelOne Vigilance;SentinelOne Ranger",
    "datto": "Datto SaaS Protection;Datto BCDR;Datto RMM;Datto EDR;Datto Networking",
    "huntress": "Huntress Managed EDR;Huntress ITDR;Huntress SAT;Huntress SIEM",
    "ninjaone": "NinjaOne RMM;NinjaOne Backup;NinjaOne MDM;NinjaOne Patching",
}
TIERS = (  # noqa: SIM905
    "Basic;Standard;Premium;Plan 1;Plan 2;E3;E5;F1;Business;Enterprise;Core;Control;Complete;"
    "Essentials;Pro;Advanced;Server;Workstation;Cloud;Plus"
).split(";")
LABOUR = (  # noqa: SIM905
    "Onsite Labour Hour;Remote Support Hour;After Hours Labour;Project Block 10h;"
    "Firewall Appliance;Switch 24-port;Wireless Access Point;Laptop Setup Fee;Server Install;"
    "Domain Renewal;SSL Certificate;Managed Print;Consulting Retainer;Cabling Drop;"
    "Travel Charge;Vendor Pass-through"
).split(";")


def pick(words: list[str], index: np.ndarray) -> pl.Series:
    """Give back words[index] as a String Series."""
    return pl.Series(words, dtype=pl.String).gather(index)


def account_names(rng: np.random.Generator, n: int) -> pl.Series:
    """Give back n distinct company names (distinct after case-folding, too)."""
    sizes = (len(FIRST), len(SECOND), len(THIRD), len(SUFFIX))
    combos = int(np.prod(sizes))
    if n > combos:
        raise ValueError(f"at most {combos} account names")
    index = rng.choice(combos, size=n, replace=False)
    parts = np.unravel_index(index, sizes)
    frame = pl.DataFrame(
        [
            pick(words, part).alias(str(i))
            for i, (words, part) in enumerate(
                zip((FIRST, SECOND, THIRD, SUFFIX), parts, strict=True)
            )
        ]
    )
    return frame.select(
        pl.concat_str(pl.all(), separator=" ").str.strip_chars().alias("name")
    ).to_series()


def with_prefix(prefix: str, numbers: np.ndarray) -> pl.Series:
    """Give back `prefix` followed by each number (`P4711`)."""
    return prefix + pl.Series(numbers.astype(np.int64)).cast(pl.String)


def distinct_numbers(rng: np.random.Generator, n: int, low: int, spread: int = 7) -> np.ndarray:
    """Give back n distinct integers from `low` up, in random order, with random gaps (ids)."""
    slots = low + np.arange(n, dtype=np.int64) * spread + rng.integers(0, spread, n)
    return rng.permutation(slots)


def hex_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """Give back n random UUID-shaped lowercase hex ids (Pax8 and Microsoft style)."""
    raw = np.frombuffer(rng.bytes(16 * n).hex().encode(), dtype="S32")
    text = pl.col("hex")
    groups = ((0, 8), (8, 4), (12, 4), (16, 4), (20, 12))
    return (
        pl.DataFrame({"hex": raw.astype("U32")})
        .select(pl.concat_str([text.str.slice(a, b) for a, b in groups], separator="-"))
        .to_series()
    )


def decimal_text(scaled: np.ndarray, places: int, min_places: int = 0) -> pl.Series:
    """Give back integers counted in 10^-places units as plain decimals, trailing zeros dropped
    down to `min_places` (quantities: `12`, `12.5`; prices with min_places 2: `22.00`)."""
    values = pl.Series(scaled.astype(np.int64))
    unit = 10**places
    whole = (values // unit).cast(pl.String)
    fraction = (values % unit).cast(pl.String).str.zfill(places)
    trimmed = fraction.str.strip_chars_end("0")
    padded = pl.select(
        pl.when(trimmed.str.len_chars() < min_places)
        .then(pl.lit(fraction).str.slice(0, min_places))
        .otherwise(pl.lit(trimmed))
    ).to_series()
    return pl.select(
        pl.when(padded == "").then(pl.lit(whole)).otherwise(pl.lit(whole) + "." + pl.lit(padded))
    ).to_series()


def case_and_space_variant(rng: np.random.Generator, names: pl.Series) -> pl.Series:
    """Give back each name as another system might spell it: upper or lower case, doubled
    spaces, or padded. It still matches its original after normalising (DESIGN 4.1)."""
    kind = pl.Series(rng.integers(0, 4, len(names)))
    name = pl.col("name")
    return (
        pl.DataFrame({"name": names, "kind": kind})
        .select(
            pl.when(pl.col("kind") == 0)
            .then(name.str.to_uppercase())
            .when(pl.col("kind") == 1)
            .then(name.str.to_lowercase())
            .when(pl.col("kind") == 2)
            .then(name.str.replace_all(" ", "  ", literal=True))
            .otherwise(" " + name + "  ")
        )
        .to_series()
    )
