"""`python -m bench.suggest`: how good and how fast the map suggester is (engine.suggest).

    python -m bench.suggest [--accounts N] [--items N] [--seed S] [--errors K] [--misses K]
                            [--speed-accounts N] [--speed-items N] [--repeat R]

Quality: generates a book of N PSA accounts (families of look-alikes: "Brantford Dental",
"Brantford Dental Lab", "Brantford Dental Group LLC") and N/4 labelled vendor accounts, each
derived from one PSA account by a transformation a vendor makes (suffix dropped or added,
abbreviation, initials, accents, misspelling, word order, "- HQ" noise, a domain) or, for a
quarter of them, a customer the PSA does not have (new names and look-alikes of PSA names).
Prints the suggestions offered, their top-1 precision, the coverage of the items that have a
right answer, and the errors by transformation (with `--errors`/`--misses`, the wrong offers and
the missed items themselves). A vendor name whose telling words are another PSA account's as much
as its own has no single right answer and is not drawn; nor is a "stranger" whose telling words
all stand in some PSA name, as that is most likely the customer under a shortened name.

Speed: 5,000 vendor accounts (drawn the same way) against 20,000 PSA accounts, wall seconds of
`suggest_accounts`, the best of R.

Names are drawn from one `random.Random(seed)`; the generator shares no code with the
suggester, so its normalisation is its own and deliberately simple.
"""

from __future__ import annotations

import argparse
import random
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz

from bench.names import FIRST, SECOND, THIRD
from engine.suggest import OFFER_AT, suggest_accounts

SURNAMES = (  # noqa: SIM905
    "Anderson Baker Becker Bennett Brooks Calloway Carter Castillo Chen Coleman Delgado Dawson "
    "Donovan Ellison Fischer Fitzgerald Foster Garcia Gallagher Hartman Hayes Hoffman Ingram "
    "Jensen Kaplan Kessler Kline Kowalski Larsen Lindqvist Lowell Maddox Marsh Mendez Mercer "
    "Morrison Nakamura Novak Okafor Olsen Pearson Petrov Quinlan Ramirez Reyes Rossi Sandoval "
    "Schneider Shapiro Sinclair Sullivan Thornton Underwood Valdez Vaughn Walsh Whitaker Yates "
    "Zimmerman Abernathy Blackwell Castellano Dorsey Eastman Fairbanks Goldberg Holloway Iverson "
    "Jablonski Kirkland Langford Montoya Nordstrom Oyelaran Pemberton Ravensworth Stavros Tanaka "
    "Ulrich Villanueva Wexler Yamamoto Zielinski Hernández Gómez Björk Nuñez Dvořák"
).split()
HEADS = (  # noqa: SIM905
    "Bran Kel Ash Wex Thorn Mar Glen Hal Stan Wel Dun Brook Cal Fair Hart Lin Mill Ox Quin Rad "
    "Sel Tam Ver Win Yar Zel Ab Bel Cor Dor El Fen Gar Hol Ing Jar Kin Lam Nor Pen"
).split()
TAILS = (  # noqa: SIM905
    "ford wood ton field bury ridge brook dale ley worth ham stead mont view gate crest haven "
    "port well shire"
).split()
INDUSTRIES = [
    *SECOND, "Pediatrics", "Laboratories", "Management", "Manufacturing", "International",
    "Technologies", "Properties", "Photography", "Insurance Agency", "Animal Hospital",
    "Physical Therapy", "Law Firm", "Title Company", "Credit Union",
]  # fmt: skip
FORMS = [*THIRD, "Solutions", "Enterprises"]
LEGAL = ["LLC", "Inc", "Inc.", "Ltd", "LLP", "PC", "P.C.", "Corp", "Corporation", "PLLC", "GmbH"]
EXTRA = ["Lab", "Supply", "Rentals", "Outlet", "Academy", "Foundation", "Transport", "Imaging"]
"""Words that make a different business of a name: "Brantford Dental Lab"."""
ABBREVIATE = {
    "Pediatrics": "Peds", "International": "Intl", "Services": "Svcs", "Management": "Mgmt",
    "Associates": "Assoc", "Medical": "Med", "Manufacturing": "Mfg", "Engineering": "Eng",
    "Accounting": "Acctg", "Construction": "Constr", "Veterinary": "Vet", "Laboratories": "Labs",
    "Technologies": "Tech", "Orthodontics": "Ortho", "Properties": "Props", "Company": "Co",
    "Chiropractic": "Chiro", "Insurance": "Ins", "Photography": "Photo", "Architecture": "Arch",
    "Logistics": "Lgstcs", "Financial": "Finl", "Hospitality": "Hosp", "Pharmacy": "Pharm",
    "Partners": "Ptnrs", "Holdings": "Hldgs", "Consulting": "Cnsltg", "Surveying": "Survey",
}  # fmt: skip
ACCENTED = {"e": "é", "a": "á", "o": "ö", "u": "ü", "i": "í", "n": "ñ", "c": "ç"}
TRANSFORMS = (
    "exact", "suffix dropped", "suffix added", "form word", "abbreviation", "initials",
    "accents", "misspelling", "word order", "site noise", "punctuation", "domain", "two at once",
)  # fmt: skip
NONE_KINDS = (
    "new customer", "look-alike: other trade", "look-alike: extra word", "look-alike: namesake"
)  # fmt: skip
NONE_SHARES = (6, 6, 6, 2)
"""How often each kind of stranger is drawn: a namesake ("Hansen Plumbing" beside "Hanson
Plumbing") is rarer than a new name, but it is the stranger that a misspelling rule takes for a
customer."""

MORE_SURNAMES = (  # noqa: SIM905
    "Hansen Hanson Olsen Olson Larson Petersen Peterson Klein Carver Barker Welsh Thorton "
    "Kirtland Lowe Morrisson Rossini Sinclaire Yeats Becher Bennet Fisher Hartmann Jenson Kaplin "
    "Novack Pearsen Reyez Walch Ingraham Dawkins Mercier Maddux Gallager Delgato Mendes"
).split()


def _namesakes() -> dict[str, list[str]]:
    """Give back, for each name word, the other names spelt nearly alike ("Olsen", "Olson")."""
    names = sorted({*SURNAMES, *MORE_SURNAMES, *FIRST, *(h + t for h in HEADS for t in TAILS)})
    return {
        name: [other for other in names if other != name and other[0] == name[0]
               and fuzz.ratio(name.lower(), other.lower()) >= 80]
        for name in names
    }  # fmt: skip


NAMESAKES = _namesakes()


@dataclass(frozen=True)
class Account:
    psa_id: str
    name: str
    website: str | None
    core: tuple[str, ...]
    """The name's words before any legal suffix."""


def _distinct(rng: random.Random) -> str:
    """Give back a word that tells businesses apart: a surname, a place or a coined name."""
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(SURNAMES)
    if roll < 0.5:
        return rng.choice(FIRST)
    return rng.choice(HEADS) + rng.choice(TAILS)


def _core(rng: random.Random) -> tuple[str, ...]:
    """Give back the words of a new business's name, without a legal suffix."""
    roll = rng.random()
    industry = rng.choice(INDUSTRIES).split()
    if roll < 0.4:
        return (_distinct(rng), *industry)
    if roll < 0.6:
        return (_distinct(rng), *industry, rng.choice(FORMS))
    if roll < 0.72:
        return (rng.choice(SURNAMES), "&", rng.choice(SURNAMES), *industry)
    if roll < 0.82:
        return (rng.choice(SURNAMES), "Family", *industry)
    if roll < 0.92:
        return (rng.choice(FIRST), _distinct(rng), *industry)
    return (_distinct(rng), rng.choice(FORMS))


def _plain(name: str) -> str:
    """Give back a name as the bench tells names apart: lower case, letters and digits only
    (accents dropped), legal suffixes dropped."""
    folded = " ".join(_ascii(word) for word in name.lower().replace("&", " and ").split())
    words = re.sub(r"[^a-z0-9 ]", "", folded).split()
    legal = {w.lower().strip(".").replace(".", "") for w in LEGAL}
    while len(words) > 1 and words[-1] in legal:
        words.pop()
    return " ".join(words)


def _telling(plain: str) -> frozenset[str]:
    """Give back the words of a plain name that tell one business from another, abbreviated
    alike: not its form words ("Group"), "and" or "family"."""
    generic = {w.lower() for w in FORMS} | {"and", "family"}
    short = {full.lower(): abbreviation.lower() for full, abbreviation in ABBREVIATE.items()}
    return frozenset(short.get(w, w) for w in plain.split() if w not in generic)


class Known:
    """The PSA's names, to tell whether a new name is a customer the PSA does not have."""

    def __init__(self, accounts: list[Account]) -> None:
        self.by_word: dict[str, list[frozenset[str]]] = {}
        for account in accounts:
            words = _telling(_plain(account.name))
            for word in words:
                self.by_word.setdefault(word, []).append(words)

    def has(self, name: str) -> bool:
        """Give back whether a PSA name has every telling word of `name`: then `name` is most
        likely that customer, shortened, and no stranger."""
        words = _telling(_plain(name))
        if not words:
            return True
        rarest = min(words, key=lambda w: len(self.by_word.get(w, [])))
        return any(words <= known for known in self.by_word.get(rarest, []))


def _website(rng: random.Random, core: tuple[str, ...]) -> str | None:
    if rng.random() > 0.4:
        return None
    label = "".join(w for w in core if w != "&").lower()
    return rng.choice(["https://www.{}.com/", "http://{}.com", "www.{}.net", "{}.co.uk"]).format(
        _ascii(label)
    )


def _ascii(text: str) -> str:
    """Give back the letters and digits of a text as a domain would write them."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O"))
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def book(rng: random.Random, size: int) -> list[Account]:
    """Give back `size` PSA accounts, a third of them in families of look-alikes."""
    accounts: list[Account] = []
    seen: set[str] = set()

    def add(core: tuple[str, ...], legal: str | None) -> None:
        name = " ".join(core) + (f" {legal}" if legal else "")
        if _plain(name) in seen or len(accounts) >= size:
            return
        seen.add(_plain(name))
        psa_id = str(10_000 + len(accounts) * 7 + rng.randrange(7))
        accounts.append(Account(psa_id, name, _website(rng, core), core))

    while len(accounts) < size:
        core = _core(rng)
        add(core, rng.choice(LEGAL) if rng.random() < 0.5 else None)
        if rng.random() < 0.3:  # a family: the same name with another trade, word or form
            for _ in range(rng.randint(1, 3)):
                kind = rng.random()
                if kind < 0.4:
                    add((*core, rng.choice(EXTRA)), None)
                elif kind < 0.7:
                    add((core[0], *rng.choice(INDUSTRIES).split()), rng.choice(LEGAL))
                else:
                    add((*core, rng.choice(FORMS)), rng.choice(LEGAL))
    return accounts


@dataclass(frozen=True)
class Item:
    name: str
    domain: str | None
    expected: str | None
    """The PSA id that is the right answer; none for a customer the PSA does not have."""
    kind: str


def _misspelt(rng: random.Random, word: str) -> str:
    """Give back a word with one slip of the keyboard inside it."""
    i = rng.randrange(1, len(word) - 2)
    slip = rng.randrange(4)
    if slip == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if slip == 1:
        return word[:i] + word[i + 1 :]
    if slip == 2:
        return word[:i] + word[i] + word[i:]
    vowels = [v for v in "aeiou" if v != word[i]]
    return word[:i] + rng.choice(vowels) + word[i + 1 :]


def _legal_of(account: Account) -> str | None:
    rest = account.name[len(" ".join(account.core)) :].strip()
    return rest or None


def _derive(rng: random.Random, account: Account, kind: str) -> tuple[str, str | None] | None:
    """Give back a vendor's name (and tenant domain) for a PSA account, or none where the
    transformation does not apply to this name."""
    core, legal = list(account.core), _legal_of(account)
    words = [w for w in core if w != "&"]
    if kind == "exact":
        return rng.choice([account.name, account.name.upper(), account.name.lower()]), None
    if kind == "suffix dropped":
        return (" ".join(core), None) if legal else None
    if kind == "suffix added":
        others = [w for w in LEGAL if w != legal]
        return " ".join(core) + rng.choice(["", ","]) + " " + rng.choice(others), None
    if kind == "form word":
        if core[-1] in FORMS and len(core) > 2:
            return " ".join(core[:-1]), None
        return " ".join([*core, "Group"]) + (f" {legal}" if legal else ""), None
    if kind == "abbreviation":
        spots = [i for i, w in enumerate(core) if w in ABBREVIATE]
        if not spots:
            return None
        i = rng.choice(spots)
        return " ".join([*core[:i], ABBREVIATE[core[i]], *core[i + 1 :]]), None
    if kind == "initials":
        if len(words) < 3 or "&" in core:
            return None
        return "".join(w[0] for w in words).upper() + rng.choice(["", " Main", " HQ"]), None
    if kind == "accents":
        if not account.name.isascii():
            return _ascii_words(account.name), None
        word = max(words, key=len)
        spots = [i for i, c in enumerate(word) if c in ACCENTED]
        if not spots:
            return None
        i = rng.choice(spots)
        return account.name.replace(word, word[:i] + ACCENTED[word[i]] + word[i + 1 :]), None
    if kind == "misspelling":
        word = max(words, key=len)
        if len(word) < 6:
            return None
        return account.name.replace(word, _misspelt(rng, word)), None
    if kind == "word order":
        if "&" in core:
            i = core.index("&")
            return " ".join([core[i + 1], "&", core[i - 1], *core[i + 2 :]]), None
        return " ".join(core[1:]) + ", " + core[0], None
    if kind == "site noise":
        noise = rng.choice([" - HQ", " HQ", " (tenant)", " Main", " - Main", "The "])
        return (noise + account.name if noise == "The " else account.name + noise), None
    if kind == "punctuation":
        name = account.name.replace("&", "and") if "&" in core else account.name
        name = name.replace(" LLC", ", L.L.C.").replace(" Inc", ", Inc.").replace(" PC", " P.C.")
        return (name.upper() if name == account.name else name), None
    if kind == "domain":
        if not account.website:
            label = _ascii("".join(words)).lower()
            return " ".join(core[:1]) + " Tenant", f"{label}.onmicrosoft.com"
        host = re.sub(r"^(https?://)?(www\.)?", "", account.website).rstrip("/")
        if rng.random() < 0.5:
            return " ".join(_core(rng)), host  # renamed: only the domain says who it is
        return _ascii_words(" ".join(words[:2])), f"{host.split('.')[0]}.onmicrosoft.com"
    return None


def _ascii_words(text: str) -> str:
    return " ".join(_ascii(w) or w for w in text.split())


def labelled(rng: random.Random, accounts: list[Account], size: int) -> list[Item]:
    """Give back `size` vendor accounts: three quarters derived from PSA accounts, the rest
    customers the PSA does not have."""
    taken: dict[frozenset[str], set[str]] = {}
    for account in accounts:
        taken.setdefault(_telling(_plain(account.name)), set()).add(account.psa_id)
    known = Known(accounts)
    items: list[Item] = []
    while len(items) < size // 4:
        item = _stranger(rng, accounts, known)
        items += [item] if item else []
    while len(items) < size:
        item = _positive(rng, rng.choice(accounts), rng.choice(TRANSFORMS), taken)
        items += [item] if item else []
    rng.shuffle(items)
    return items


def _positive(
    rng: random.Random, account: Account, kind: str, taken: dict[frozenset[str], set[str]]
) -> Item | None:
    if kind == "two at once":
        first = _derive(rng, account, rng.choice(["suffix dropped", "abbreviation", "accents"]))
        if not first:
            return None
        changed = Account(account.psa_id, first[0], None, tuple(first[0].split()))
        second = rng.choice(["misspelling", "site noise", "punctuation"])
        derived = _derive(rng, changed, second)
    else:
        derived = _derive(rng, account, kind)
    if not derived:
        return None
    # A name whose telling words are another PSA account's has no single right answer.
    if taken.get(_telling(_plain(derived[0])), {account.psa_id}) != {account.psa_id}:
        return None
    return Item(derived[0], derived[1], account.psa_id, kind)


def _trade_words(name: str) -> set[str]:
    """Give back a name's words and their abbreviations ("Laboratories" is "Labs" too)."""
    return set(name.split()) | {ABBREVIATE.get(w, w) for w in name.split()}


def _stranger(rng: random.Random, accounts: list[Account], known: Known) -> Item | None:
    """Give back a customer the PSA does not have: new, or a look-alike of a PSA account (one
    with a telling word that the PSA account lacks: another trade, "Lab", "Supply", or a name
    spelt nearly alike)."""
    kind = rng.choices(NONE_KINDS, NONE_SHARES)[0]
    base = rng.choice(accounts).core
    if kind == "new customer":
        core = _core(rng)
    elif kind == "look-alike: namesake":
        named: list[str] = []
        while not named:
            base = rng.choice(accounts).core
            named = [w for w in base if NAMESAKES.get(w)]
        word = rng.choice(named)
        core = tuple(rng.choice(NAMESAKES[word]) if w == word else w for w in base)
    elif kind == "look-alike: other trade":
        trades = [t for t in INDUSTRIES if not _trade_words(t) & _trade_words(" ".join(base))]
        core = (base[0], *rng.choice(trades).split())
    else:
        core = (*base, rng.choice(EXTRA))
    name = " ".join(core) + (f" {rng.choice(LEGAL)}" if rng.random() < 0.3 else "")
    if known.has(name):
        return None
    domain = None
    if rng.random() < 0.2:
        domain = _ascii("".join(w for w in core if w != "&")).lower() + ".onmicrosoft.com"
    return Item(name, domain, None, kind)


def frames(accounts: list[Account], items: list[Item]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give back the suggester's inputs: the vendor accounts and the PSA accounts."""
    vendor = pl.DataFrame(
        {
            "vendor": ["pax8"] * len(items),
            "vendor_id": [f"T{i}" for i in range(len(items))],
            "vendor_name": [i.name for i in items],
            "domain": [i.domain for i in items],
        },
        schema={n: pl.String for n in ("vendor", "vendor_id", "vendor_name", "domain")},
    )
    psa = pl.DataFrame(
        {
            "psa_id": [a.psa_id for a in accounts],
            "psa_name": [a.name for a in accounts],
            "website": [a.website for a in accounts],
        },
        schema={n: pl.String for n in ("psa_id", "psa_name", "website")},
    )
    return vendor, psa


def quality(accounts: int, size: int, seed: int, errors: int, misses: int = 0) -> None:
    """Print how many suggestions are offered and how many are right, by transformation."""
    rng = random.Random(seed)
    book_ = book(rng, accounts)
    items = labelled(rng, book_, size)
    vendor, psa = frames(book_, items)
    got = suggest_accounts(vendor, psa)
    rows = got.select("psa_id", "score", "reason").rows()
    answerable = sum(1 for i in items if i.expected)
    offered = right = offered_answerable = 0
    by_kind: dict[str, Counter[str]] = {}
    wrong: list[str] = []
    missed: list[str] = []
    for item, (psa_id, score, reason) in zip(items, rows, strict=True):
        tally = by_kind.setdefault(item.kind, Counter())
        tally["items"] += 1
        if psa_id is None:
            tally["missed" if item.expected else "rightly none"] += 1
            if item.expected:
                expected = next(a.name for a in book_ if a.psa_id == item.expected)
                missed.append(f"  {item.kind}: {item.name!r} ({item.domain}): {reason}; "
                              f"right: {expected!r}")  # fmt: skip
            continue
        offered += 1
        offered_answerable += item.expected is not None
        if psa_id == item.expected:
            right += 1
            tally["right"] += 1
        else:
            tally["wrong"] += 1
            expected = next((a.name for a in book_ if a.psa_id == item.expected), "nothing")
            name = next(a.name for a in book_ if a.psa_id == psa_id)
            wrong.append(f"  {item.kind}: {item.name!r} -> {name!r} ({score}; {reason}); "
                         f"right: {expected!r}")  # fmt: skip
    print(f"PSA accounts           {len(book_):>7,}")
    print(f"vendor accounts        {len(items):>7,}  ({answerable:,} with a right answer)")
    print(f"suggestions offered    {offered:>7,}  (score >= {OFFER_AT})")
    print(f"top-1 precision        {right / max(offered, 1):>7.1%}")
    print(f"coverage               {offered_answerable / max(answerable, 1):>7.1%}"
          f"  (right: {right / max(answerable, 1):.1%} of those with a right answer)")  # fmt: skip
    print(f"\n{'transformation':<26}{'items':>6}{'right':>7}{'wrong':>7}{'missed':>8}{'none':>6}")
    for kind in [*TRANSFORMS, *NONE_KINDS]:
        t = by_kind.get(kind, Counter())
        print(
            f"{kind:<26}{t['items']:>6}{t['right']:>7}{t['wrong']:>7}{t['missed']:>8}"
            f"{t['rightly none']:>6}"
        )
    for line in wrong[:errors] + missed[:misses]:
        print(line)


def speed(accounts: int, size: int, seed: int, repeat: int) -> None:
    """Print the best time of `repeat` runs of `size` vendor accounts against a book."""
    rng = random.Random(seed + 1)
    book_ = book(rng, accounts)
    vendor, psa = frames(book_, labelled(rng, book_, size))
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        got = suggest_accounts(vendor, psa)
        best = min(best, time.perf_counter() - started)
    offered = got.get_column("psa_id").is_not_null().sum()
    print(
        f"\nspeed: {size:,} vendor accounts against {accounts:,} PSA accounts: {best:.2f} s "
        f"(best of {repeat}; {offered:,} offered)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--items", type=int, default=0, help="default: a quarter of --accounts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--errors", type=int, default=0, help="print this many wrong offers")
    parser.add_argument("--misses", type=int, default=0, help="print this many misses")
    parser.add_argument("--speed-accounts", type=int, default=20_000)
    parser.add_argument("--speed-items", type=int, default=5_000)
    args = parser.parse_args()
    quality(args.accounts, args.items or args.accounts // 4, args.seed, args.errors, args.misses)
    speed(args.speed_accounts, args.speed_items, args.seed, args.repeat)


if __name__ == "__main__":
    main()
