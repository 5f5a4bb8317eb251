"""Which column of a file holds which field: header aliases and explicit column choices."""

from __future__ import annotations

import re
from dataclasses import dataclass

from errors import InputError, Problem

ALIASES: dict[str, tuple[str, ...]] = {
    "vendor": ("vendor", "publisher", "manufacturer"),
    "distributor": ("distributor",),
    "account_id": ("account id", "customer id", "company id", "tenant id", "client id"),
    "account_name": (
        "account",
        "account name",
        "customer",
        "customer name",
        "company",
        "company name",
        "client",
        "client name",
        "tenant",
        "tenant name",
        "organization",
        "organisation",
    ),
    "product_id": (
        "product id",
        "sku",
        "sku id",
        "product code",
        "item code",
        "service id",
        "offer id",
    ),
    "product_name": (
        "product",
        "product name",
        "sku name",
        "service",
        "service name",
        "offer name",
        "item",
    ),
    "quantity": ("quantity", "qty", "seats", "licenses", "licences", "units", "billable quantity"),
    "contract_id": ("contract id", "agreement id"),
    "contract_name": ("contract", "contract name", "agreement", "agreement name"),
    "line_id": ("line id", "addition id"),
    "unit_price": ("unit price", "price"),
    "unit_cost": ("unit cost", "cost", "partner cost"),
    "status": ("status", "subscription status"),
    "billing_term": ("billing term", "term", "commitment term"),
    "account_domain": (
        "domain",
        "account domain",
        "tenant domain",
        "primary domain",
        "default domain",
        "domain name",
    ),
    "account_external_id": ("external id", "external reference", "psa reference"),
    "account_website": ("website", "web site", "company website", "web address"),
    "prorate": ("prorate", "prorated", "proration"),
    "billing_cycle": ("billing cycle", "billing frequency", "billing period"),
    "vendor_account_id": ("vendor account id",),
    "vendor_product_id": ("vendor product id",),
    "psa_account_id": ("psa account id",),
    "psa_product_id": ("psa product id",),
    "excluded": ("excluded", "exclude"),
    "reason": ("reason", "note", "notes", "comment"),
}
"""Header names accepted for each field, in order of preference after the field's own name."""

FIELDS: dict[str, tuple[str, ...]] = {
    "usage": (
        "vendor",
        "distributor",
        "account_id",
        "account_name",
        "product_id",
        "product_name",
        "quantity",
        "unit_cost",
        "billing_term",
        "status",
        "account_domain",
        "account_external_id",
    ),
    "psa": (
        "account_id",
        "account_name",
        "contract_id",
        "contract_name",
        "product_id",
        "product_name",
        "line_id",
        "quantity",
        "unit_price",
        "unit_cost",
        "prorate",
        "billing_cycle",
        "account_website",
    ),
    "catalog": ("product_id", "product_name", "unit_price", "unit_cost", "billing_cycle"),
    "map": (
        "vendor",
        "vendor_account_id",
        "vendor_product_id",
        "psa_account_id",
        "psa_product_id",
        "excluded",
        "reason",
    ),
}
"""The fields each kind of file can have."""

_IGNORED = re.compile(r"[\s_\-]+")


def normalise(header: str) -> str:
    """Give back a header lowercased, without spaces, `_` and `-`: the form headers match in."""
    return _IGNORED.sub("", header.lower())


def accepted_names(field: str) -> tuple[str, ...]:
    """Give back the header names accepted for a field, its own name first."""
    own = field.replace("_", " ")
    return (own, *(alias for alias in ALIASES[field] if normalise(alias) != normalise(own)))


@dataclass(frozen=True)
class Columns:
    """The file's headers and, for each field found, the position of the column it is read from."""

    headers: list[str]
    positions: dict[str, int]

    def header(self, field: str) -> str:
        return self.headers[self.positions[field]]

    def found(self) -> str:
        """Give back the headers of the file, quoted, for messages."""
        shown = [f'"{h}"' for h in self.headers if h]
        return ", ".join(shown) if shown else "none"


def resolve(
    name: str,
    headers: list[str],
    kind: str,
    explicit: dict[str, str] | None = None,
) -> Columns:
    """Give back which column each field of `kind` is read from.

    Explicit choices come first (a choice of "" means no column); the other fields are
    detected: the field's own name wins, then the earlier alias, then the leftmost column.
    A column chosen explicitly is not detected as another field.
    """
    fields = FIELDS[kind]
    by_header: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        by_header.setdefault(normalise(header), []).append(position)
    positions: dict[str, int] = {}
    skipped: set[str] = set()
    problems: list[Problem] = []
    for field, header in (explicit or {}).items():
        if field not in fields:
            problems.append(
                Problem(
                    name,
                    None,
                    None,
                    f'"{field}" given in --columns is not a field of a {kind} file; '
                    f"its fields are {', '.join(fields)}",
                )
            )
        elif not header.strip():
            skipped.add(field)
        elif normalise(header) in by_header:
            positions[field] = by_header[normalise(header)][0]
        else:
            shown = [f'"{h}"' for h in headers if h]
            problems.append(
                Problem(
                    name,
                    None,
                    None,
                    f'there is no column "{header.strip()}" (given for {field} in --columns); '
                    f"headers found: {', '.join(shown) if shown else 'none'}",
                )
            )
    if problems:
        raise InputError(problems)
    taken = set(positions.values())
    for field in fields:
        if field in positions or field in skipped:
            continue
        free = (
            position
            for alias in accepted_names(field)
            for position in by_header.get(normalise(alias), [])
            if position not in taken
        )
        chosen = next(free, None)
        if chosen is not None:
            positions[field] = chosen
            taken.add(chosen)
    return Columns(headers, positions)


def require(name: str, columns: Columns, groups: dict[str, tuple[str, ...]]) -> None:
    """Raise an InputError for each group of fields (e.g. an account id or name) with no column."""
    problems = []
    for label, group in groups.items():
        if any(field in columns.positions for field in group):
            continue
        names = ", ".join(alias for field in group for alias in accepted_names(field))
        problems.append(
            Problem(
                name,
                None,
                None,
                f"no {label} column (one named {names}); headers found: {columns.found()}; "
                f"choose one with --columns {group[0]}=HEADER",
            )
        )
    if problems:
        raise InputError(problems)


def parse_columns(text: str) -> dict[str, str]:
    """Give back the column choices written `field=Header,field=Header` as a dict.

    `field=` (nothing after the `=`) means the field is read from no column.
    """
    known = {field for fields in FIELDS.values() for field in fields}
    choices: dict[str, str] = {}
    problems = []
    for part in text.split(","):
        if not part.strip():
            continue
        field, equals, header = part.partition("=")
        field = field.strip()
        if not equals or not field:
            problems.append(
                Problem("--columns", None, None, f'"{part.strip()}" is not field=HEADER')
            )
        elif field not in known:
            problems.append(
                Problem(
                    "--columns",
                    None,
                    None,
                    f'"{field}" is not a field; fields are {", ".join(sorted(known))}',
                )
            )
        elif field in choices:
            problems.append(Problem("--columns", None, None, f'"{field}" is given twice'))
        else:
            choices[field] = header.strip()
    if not choices and not problems:
        problems.append(Problem("--columns", None, None, "no column choice given (field=HEADER)"))
    if problems:
        raise InputError(problems)
    return choices
