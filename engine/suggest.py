"""Map suggestions: for each unmapped vendor account or SKU, the PSA account or product that fits
best, with a score from 0 to 100 and the evidence in words (DESIGN 1 "map", 4.1).

Exact names are auto-maps (DESIGN 4.1); a suggestion is only ever offered to a person. Names are
compared word by word once their noise is set aside (legal suffixes, "HQ", accents, punctuation),
each word weighted by how rare it is among the PSA's names, so that "Acme" counts for more than
"Dental". Candidates come from an index of the PSA's words, never from comparing every pair.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import polars as pl
from rapidfuzz import fuzz, process

from engine.schema import Schema

SUGGESTIONS: Schema = {
    "kind": pl.String,
    "vendor": pl.String,
    "vendor_id": pl.String,
    "vendor_name": pl.String,
    "psa_id": pl.String,
    "psa_name": pl.String,
    "score": pl.Int32,
    "reason": pl.String,
}
"""Suggestions: one row per vendor account or SKU asked about, in the order asked. `psa_id`,
`psa_name` and `score` are null where nothing is worth offering; `reason` always says why."""

OFFER_AT = 75
"""The lowest score offered as a suggestion."""

SAME_NAME = 100
"""Equal after DESIGN 4.1 normalisation, or the vendor keeps the PSA id."""
SAME_WORDS = 97
"""The same words once suffixes, noise, accents and punctuation are set aside."""
MOST = 94
"""The most a fit short of the same words scores."""
TAKEN_COST = 10
"""What a PSA account loses when one of the vendor's accounts already maps to it."""
LOOK_ALIKE_AT = 84
"""The most a fit scores while another PSA item holds every word it matched."""
LOOK_ALIKE_FROM = 55
"""A PSA item that holds those words but fits worse than this is no look-alike."""
CLOSE = 10
"""Two fits closer than this share the doubt: the better one loses the difference."""
TIE = 2
"""Two fits this close are a tie: neither is offered."""
CANDIDATES = 6
"""PSA items per vendor item that the word index hands to the full comparison."""
POOL = 400
"""The most PSA items ranked for one vendor item (names of common words only have more)."""
BEHIND = 0.6
"""Candidates sharing less than this share of the best candidate's weight are not compared."""


def _set_of(words: str) -> frozenset[str]:
    """Give back the words of a text as a set: a long list of quoted one-word items hides them."""
    return frozenset(words.split())


LEGAL = _set_of(
    "inc incorporated llc ltd limited gmbh corp corporation llp plc pllc pty lllp sarl srl"
)
"""Legal forms set aside wherever they stand."""
LEGAL_AT_END = _set_of("co company pc pa lp sa ag bv nv ab as aps oy kg ltda sas spa se sl cv")
"""Legal forms set aside only at the end: elsewhere they may be words ("Ag Supply", "Co-op")."""
SITE_NOISE = _set_of("hq headquarters main tenant site primary m365 o365 and")
"""Words a vendor adds to a tenant or site name ("Acme - HQ", "Acme tenant"), set aside at the
end."""
STOP = _set_of("the and of at for a an in on")
WEAK = _set_of(
    "group partners associates association services service holdings holding company co "
    "enterprises enterprise solutions international global systems industries sons bros brothers "
    "center centre clinic office offices practice firm works collective studio studios agency team "
    "microsoft ms msft"
)
"""Words that name the form of an organisation (or a product's publisher) rather than which one
it is: "Acme Dental Group" is most likely "Acme Dental", "Acme Dental Lab" is not."""

ABBREVIATIONS = {
    "intl": "international", "natl": "national", "svc": "service", "svcs": "services",
    "srvcs": "services", "mgmt": "management", "mgt": "management", "assoc": "associates",
    "assocs": "associates", "assn": "association", "dept": "department", "ctr": "center",
    "med": "medical", "peds": "pediatrics", "hosp": "hospital", "univ": "university",
    "inst": "institute", "amer": "american", "bros": "brothers", "mfg": "manufacturing",
    "dist": "distribution", "engr": "engineering", "eng": "engineering", "tech": "technology",
    "techs": "technologies", "sys": "systems", "solns": "solutions", "grp": "group",
    "hldgs": "holdings", "acct": "accounting", "acctg": "accounting", "fin": "financial",
    "ins": "insurance", "constr": "construction", "elec": "electric", "pharm": "pharmacy",
    "lab": "laboratory", "labs": "laboratories", "phys": "physicians", "rehab": "rehabilitation",
    "fam": "family", "dev": "development", "props": "properties", "cap": "capital",
    "ptnrs": "partners", "comm": "community", "ortho": "orthodontics", "vet": "veterinary",
    "chiro": "chiropractic", "dent": "dental", "st": "saint", "mt": "mount", "ft": "fort",
    "bldg": "building", "ent": "enterprises", "ind": "industries", "govt": "government",
    "acad": "academy", "admin": "administration", "ops": "operations", "std": "standard",
    "prem": "premium", "ess": "essentials", "adv": "advanced", "pro": "professional",
}  # fmt: skip
"""Abbreviations that are also words, keep a vowel, or are too short for the general rules,
which cover the rest: a vendor word no PSA name has may be the start of a PSA word ("hosp"),
and a contraction keeps the first and last letters and drops the vowels ("mgmt")."""
FULL_WORDS: dict[str, set[str]] = {}
for _short, _full in ABBREVIATIONS.items():
    FULL_WORDS.setdefault(_full, set()).add(_short)

PRODUCT_NOISE = _set_of(
    "license licence licenses licences subscription subscriptions nce user users per seat seats sku"
)
"""Words of a SKU's name that say how it is sold, not what it is."""
TERMS = _set_of("annual monthly yearly month year mth yr commitment")
"""Billing terms: a SKU sold monthly and annually is one PSA product unless the PSA has both."""
LEVELS = TERMS | _set_of(
    "basic standard premium business enterprise essentials pro professional plus advanced core "
    "complete control starter lite light kiosk frontline apps server workstation trial nonprofit "
    "education edu government gcc student faculty"
)
"""Plan levels and terms: two products whose levels differ are different products, however alike
the rest of their names (numbers are levels too: "Plan 1", "E3")."""

_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "þ": "th"})
_DROPPED = str.maketrans("", "", "'’`´.")  # O'Brien, P.C.: closed up, not split
_SPLIT = re.compile(r"[\W_]+")
_PRODUCT_WORDS = {"m365": ["microsoft", "365"], "o365": ["office", "365"], "msft": ["microsoft"]}
_SHOWN = {"nce": "NCE", "gmbh": "GmbH", "hq": "HQ", "m365": "M365", "o365": "O365"}
_CAPITALS = _set_of("llc llp plc pllc lllp pc pa lp sa ag bv nv ab as oy kg se sl cv srl sas spa")


@dataclass(frozen=True, slots=True)
class _Name:
    key: str
    """The name as DESIGN 4.1 compares it: trimmed, inner spaces collapsed, case-folded."""
    tokens: tuple[str, ...]
    """The words compared."""
    removed: tuple[str, ...]
    """Suffixes and noise set aside."""
    accents: bool
    rewritten: tuple[str, ...] = ()
    """Product words written alike, in words ('"plan 1" read as "p1"')."""
    words: tuple[str, ...] = ()
    """Every word, suffixes too: names that differ only in punctuation or accents have the same
    words."""
    whole: tuple[str, ...] = ()
    """The words with only legal forms that stand anywhere set aside ("Acme Trading Co"), whose
    initials an acronym may spell."""


@dataclass(frozen=True)
class _Rules:
    noun: str
    """What a PSA item is called in reasons: "account" or "product"."""
    noise_anywhere: frozenset[str] = frozenset()
    levels: frozenset[str] = frozenset()
    weak: frozenset[str] = WEAK
    """Words that tell little (see WEAK)."""
    plans: bool = False
    """Read "Plan 1" as "p1", as products name plans both ways."""


ACCOUNT_RULES = _Rules("account")
PRODUCT_RULES = _Rules(
    "product", noise_anywhere=PRODUCT_NOISE, levels=LEVELS, weak=WEAK | TERMS, plans=True
)


def _key(text: str) -> str:
    """Give back the name as DESIGN 4.1 compares it."""
    return " ".join(text.upper().lower().split())


def _plain(text: str) -> tuple[str, bool]:
    """Give back the text lower-cased without accents, and whether it had any."""
    if text.isascii():
        return text.lower(), False
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.lower().translate(_LETTERS), True


def _join_letters(words: list[str]) -> list[str]:
    """Give back the words with runs of single letters closed up ("p c" -> "pc")."""
    out: list[str] = []
    run = ""
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        if word:
            out.append(word)
    return out


def _name(text: str | None, rules: _Rules) -> _Name:
    """Give back the words of a name that are compared, and what was set aside."""
    text = text or ""
    plain, accents = _plain(text)
    words = _join_letters(_SPLIT.split(plain.replace("&", " and ").translate(_DROPPED)))
    rewritten: list[str] = []
    if rules.plans:
        words = _plans(words, rewritten)
    removed: list[str] = []
    kept = [w for w in words if w not in LEGAL and w not in rules.noise_anywhere]
    removed += [w for w in words if w in LEGAL or w in rules.noise_anywhere]
    if kept[:1] == ["the"] and len(kept) > 1:
        removed.append(kept.pop(0))
    while len(kept) > 1 and (kept[-1] in LEGAL_AT_END or kept[-1] in SITE_NOISE):
        removed.append(kept.pop())
    if not kept:
        kept, removed = words, []
    removed = [w for w in removed if w != "and"]
    whole = [w for w in words if w not in LEGAL and w not in SITE_NOISE]
    whole = whole[1:] if whole[:1] == ["the"] else whole
    while len(whole) > 1 and whole[-1] in LEGAL_AT_END and whole[-1] not in WEAK:
        whole.pop()  # "PC" is in no one's initials, "Company" may be
    return _Name(
        _key(text),
        tuple(kept),
        tuple(removed),
        accents,
        tuple(rewritten),
        tuple(words),
        tuple(whole or kept),
    )


def _plans(words: list[str], notes: list[str]) -> list[str]:
    """Give back product words with "plan 1" read as "p1" and "m365" as "microsoft 365", and
    add what was read so to `notes`."""
    out: list[str] = []
    for word in words:
        if out and out[-1] == "plan" and word.isdigit():
            out[-1] = f"p{word}"
            notes.append(f'"plan {word}" read as "p{word}"')
        elif word in _PRODUCT_WORDS:
            out += _PRODUCT_WORDS[word]
            notes.append(f'"{word}" read as "{" ".join(_PRODUCT_WORDS[word])}"')
        else:
            out.append(word)
    return out


def _shown(word: str) -> str:
    """Give back a set-aside word as people write it."""
    return _SHOWN.get(word, word.upper() if word in _CAPITALS else word.title())


def _initials(words: Sequence[str]) -> str:
    return "".join(w[0] for w in words)


def _is_contraction(short: str, full: str) -> bool:
    """Give back whether `short` contracts `full`: it keeps the first and last letters and drops
    the vowels ("mgmt", "svcs", "intl"). Contractions with vowels ("peds", "dept") are too like
    words to guess ("red" is not "radstead"): ABBREVIATIONS lists the common ones."""
    if len(short) < 3 or len(full) < len(short) + 2 or short[0] != full[0]:
        return False
    if short[-1] != full[-1] or any(c in _VOWELS for c in short[1:]):
        return False
    rest = iter(full[1:])
    return all(letter in rest for letter in short[1:])


_VOWELS = frozenset("aeiou")
COMPOUND_ENDS = _set_of(
    "wood woods field fields side view brook ridge dale land lands ford ton town ville port way "
    "stone water hill hills gate haven crest worth wick well wells mont point park creek bridge "
    "bury ham stead shire ley lake mill mills berg burg"
)
"""Word endings that make a compound, not an abbreviation: "Pine" is not short for "Pinewood"."""


class _Match(NamedTuple):
    vendor: tuple[str, ...]
    psa: tuple[str, ...]
    similarity: float
    evidence: str | None


class _Fit(NamedTuple):
    psa: int
    score: int
    tier: int
    """How decisive the evidence is, whatever the score: 4 the vendor keeps the PSA id, 3 the
    same name or the website's domain, 2 the same words, 1 anything less, 0 rejected (another
    plan or level). Evidence that agrees with the name adds one."""
    reason: str
    """Why the names fit; empty until asked for (see `_Book.fit`)."""
    matched: frozenset[str] = frozenset()
    """The vendor's words that matched (stop words aside)."""
    before: str = ""
    """Evidence besides the name (an external id, a domain)."""
    after: tuple[str, ...] = ()
    """Notes on the choice: a rival, an account already taken."""

    def told(self) -> str:
        """Give back the reason in full (once `reason` is filled in)."""
        return "; ".join(part for part in (self.before, self.reason, *self.after) if part)


@dataclass
class _Book:
    """The PSA's accounts or products, indexed by their words."""

    ids: list[str]
    names: list[str]
    rules: _Rules
    websites: list[str | None] | None = None
    parsed: list[_Name] = field(init=False)
    weights: dict[str, float] = field(init=False)
    unknown: float = field(init=False)
    _weights: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        cache: dict[str, _Name] = {}
        self.parsed = [_cached(cache, n, self.rules) for n in self.names]
        df: dict[str, int] = {}
        for name in self.parsed:
            for token in set(name.tokens):
                df[token] = df.get(token, 0) + 1
        total = len(self.parsed)
        self.unknown = 1 + math.log(total + 1)
        self.weights = {t: 1 + math.log((total + 1) / (n + 1)) for t, n in df.items()}
        self._weights = {t: _discounted(t, w, self.rules.weak) for t, w in self.weights.items()}
        self._links: dict[str, dict[str, tuple[float, str | None]]] = {}
        self.misspelt: set[tuple[str, str]] = set()
        """(vendor word, PSA word) pairs linked as a misspelling."""
        self._having_cache: dict[str, frozenset[int]] = {}

    def weight(self, token: str) -> float:
        """Give back how much a word tells: rare words much, form words and stop words little."""
        known = self._weights.get(token)
        if known is None:
            known = self._weights[token] = _discounted(token, self.unknown, self.rules.weak)
        return known

    @cached_property
    def vocabulary(self) -> list[str]:
        return sorted(self.weights)

    @cached_property
    def postings(self) -> dict[str, frozenset[int]]:
        """The PSA items by each word of their names."""
        index: dict[str, set[int]] = {}
        for i, name in enumerate(self.parsed):
            for token in name.tokens:
                index.setdefault(token, set()).add(i)
        return {token: frozenset(items) for token, items in index.items()}

    @cached_property
    def psa_totals(self) -> list[float]:
        """The total weight of each PSA item's name."""
        return [sum(self.weight(t) for t in name.tokens) for name in self.parsed]

    @cached_property
    def word_sets(self) -> list[frozenset[str]]:
        return [frozenset(name.tokens) for name in self.parsed]

    @cached_property
    def by_start(self) -> dict[tuple[str, int], list[str]]:
        """Words by first letter and length, where a misspelling is looked for."""
        groups: dict[tuple[str, int], list[str]] = {}
        for token in self.vocabulary:
            groups.setdefault((token[0], len(token)), []).append(token)
        return groups

    @cached_property
    def contractions(self) -> dict[tuple[str, str], list[str]]:
        """Short words by first and last letter, which may contract a longer vendor word."""
        groups: dict[tuple[str, str], list[str]] = {}
        for token in self.vocabulary:
            if 3 <= len(token) <= 6 and token.isalpha():
                groups.setdefault((token[0], token[-1]), []).append(token)
        return groups

    @cached_property
    def by_ends(self) -> dict[tuple[str, str], list[str]]:
        """Words by first and last letter, where a contraction is looked for."""
        groups: dict[tuple[str, str], list[str]] = {}
        for token in self.vocabulary:
            groups.setdefault((token[0], token[-1]), []).append(token)
        return groups

    @cached_property
    def spelled(self) -> dict[str, list[int]]:
        """PSA items by their initials, and by two or three words closed up ("bay side")."""
        index: dict[str, list[int]] = {}
        for i, name in enumerate(self.parsed):
            if len(name.whole) < 2:  # one word spells nothing but itself, which is indexed
                continue
            words = [t for t in name.tokens if t not in STOP]
            keys = _closed_up(name) | _acronyms(name).keys()
            for size in (2, 3):
                keys |= {"".join(words[j : j + size]) for j in range(len(words) - size + 1)}
            for key in keys:
                index.setdefault(key, []).append(i)
        return index

    @cached_property
    def by_id(self) -> dict[str, int]:
        return {psa_id: i for i, psa_id in reversed(list(enumerate(self.ids)))}

    @cached_property
    def by_domain(self) -> dict[str, list[int]]:
        """PSA items by their website's registrable domain and by its first label."""
        index: dict[str, list[int]] = {}
        for i, site in enumerate(self.websites or []):
            domain = _registrable(site)
            if domain:
                index.setdefault(domain, []).append(i)
                index.setdefault(_label(domain), []).append(i)
        return index

    def links(self, token: str) -> dict[str, tuple[float, str | None]]:
        """Give back the PSA words a vendor word may stand for, with a similarity and evidence."""
        found = self._links.get(token)
        if found is None:
            found = self._find_links(token)
            self._links[token] = found
        return found

    def _find_links(self, token: str) -> dict[str, tuple[float, str | None]]:
        found: dict[str, tuple[float, str | None]] = {}
        if token in self.weights:
            found[token] = (1.0, None)
        full = ABBREVIATIONS.get(token)
        if full in self.weights:
            found[full] = (0.9, f'"{token}" abbreviates "{full}"')
        for short in FULL_WORDS.get(token, ()):
            if short in self.weights:
                found.setdefault(short, (0.9, f'"{short}" abbreviates "{token}"'))
        if token in self.rules.levels or any(c.isdigit() for c in token):
            return found
        for other in _inflections(token):
            if other in self.weights:
                found.setdefault(other, (0.95, f'"{token}" ~ "{other}"'))
        for short in self.contractions.get((token[0], token[-1]), []):
            # A PSA name may abbreviate too ("Bayside Pds"); a prefix there is most often a
            # word of its own ("Pine" is not "Pinewood").
            if _is_contraction(short, token):
                found.setdefault(short, (0.85, f'"{short}" abbreviates "{token}"'))
        if token in self.weights:
            return found
        for word in self._abbreviated(token):
            found.setdefault(word, (0.85, f'"{token}" abbreviates "{word}"'))
        for word, similarity in self._misspelt(token):
            self.misspelt.add((token, word))
            found.setdefault(
                word, (similarity / 100, f'similar spelling: "{token}" ~ "{word}" ({similarity})')
            )
        return found

    def _abbreviated(self, token: str) -> Iterable[str]:
        """Give back the PSA words that an unknown vendor word abbreviates: as their first
        letters ("hosp"), unless the rest is a word of its own ("pine" + "wood"), or as a
        contraction ("mgmt")."""
        if len(token) < 3:
            return []
        words = self.vocabulary
        start = bisect_left(words, token)
        out = []
        while start < len(words) and words[start].startswith(token):
            rest = words[start][len(token) :]
            if len(rest) >= 2 and rest not in self.weights and rest not in COMPOUND_ENDS:
                out.append(words[start])
            start += 1
        out += [w for w in self.by_ends.get((token[0], token[-1]), []) if _is_contraction(token, w)]
        return list(dict.fromkeys(out))[:5]

    def _misspelt(self, token: str) -> list[tuple[str, int]]:
        """Give back the PSA words an unknown vendor word may misspell (same first letter)."""
        if len(token) < 5:
            return []
        choices = [
            w for size in range(len(token) - 2, len(token) + 3)
            for w in self.by_start.get((token[0], size), [])
        ]  # fmt: skip
        found = process.extract(token, choices, scorer=fuzz.ratio, score_cutoff=80, limit=3)
        return [(word, round(score)) for word, score, _ in found]

    def candidates(self, name: _Name) -> set[int]:
        """Give back the PSA items worth comparing in full with a vendor name: those that have
        each of its telling words (or a word it may stand for), the most alike first, and
        those it spells.

        A PSA item that lacks one of them scores too low to be offered or to rival one that is,
        so looking no further changes no suggestion.
        """
        words = [t for t in dict.fromkeys(name.tokens) if t not in STOP]
        telling = [t for t in words if t not in self.rules.weak] or words
        found: set[int] = set()
        for word in words:  # a word may spell a PSA name: initials, words closed up
            found.update(self.spelled.get(word, ()))
        for key in _spellings(words):  # or the other way round
            found.update(self.postings.get(key, ()))
        # A word no PSA name has (nor one it may stand for) rules out an offer but not a reason.
        groups = sorted((g for g in map(self._having, telling) if g), key=len)
        if not groups:
            return found
        pool: Iterable[int] = groups[0].intersection(*groups[1:]) or groups[0]
        if len(groups[0]) > POOL:  # a name of common words only: the shortest names first
            pool = sorted(pool, key=lambda psa: (self.psa_totals[psa], psa))[:POOL]
        return found | set(self._best(pool, name))

    def _having(self, word: str) -> frozenset[int]:
        """Give back the PSA items with a word a vendor word may stand for."""
        found = self._having_cache.get(word)
        if found is None:
            sets = [self.postings[t] for t in self.links(word)]
            found = self._having_cache[word] = frozenset().union(*sets)
        return found

    def _best(self, pool: Iterable[int], name: _Name) -> list[int]:
        """Give back the PSA items of a pool that share the most weight with a vendor name."""
        shared: dict[str, float] = {}
        for word in name.tokens:
            for token, (similarity, _) in self.links(word).items():
                shared[token] = max(shared.get(token, 0), similarity * self.weight(token))
        total = sum(self.weight(t) for t in name.tokens)
        words, totals = self.word_sets, self.psa_totals
        ranked = sorted(
            (-sum(shared.get(t, 0) for t in words[psa]) / (totals[psa] + total), psa)
            for psa in pool
        )
        top = -ranked[0][0] if ranked else 0
        # Far behind the best, a PSA item can be neither the answer nor a close rival.
        return [psa for rank, psa in ranked[:CANDIDATES] if -rank >= top * BEHIND]

    def fit(self, vendor: _Name, psa: int, explain: bool = True) -> _Fit:
        """Give back how well a vendor name fits a PSA item's name, and why (the words of why
        only if `explain`: most fits are never shown)."""
        other = self.parsed[psa]
        if vendor.key and vendor.key == other.key:
            return _Fit(psa, SAME_NAME, 3, "same name", _said(other.tokens))
        if vendor.words and vendor.words == other.words:
            why = "; ".join(_set_aside(vendor, other) or ["punctuation ignored"])
            return _Fit(psa, SAME_NAME - 1, 3, f"same name: {why}", _said(other.tokens))
        if vendor.tokens and sorted(vendor.tokens) == sorted(other.tokens):
            reasons = _set_aside(vendor, other)
            if vendor.tokens != other.tokens:
                reasons.append("same words in another order")
            else:
                reasons.append("tokens equal")
            return _Fit(psa, SAME_WORDS, 2, "; ".join(reasons), _said(other.tokens))
        clash = self._levels_clash(vendor.tokens, other.tokens)
        matches, vendor_left, psa_left = self._align(vendor.tokens, other.tokens, other)
        w = self.weight
        weight_of = [sum(w(t) for t in m.psa) for m in matches]
        total = sum(weight_of) + sum(w(t) for t in vendor_left) + sum(w(t) for t in other.tokens)
        shared = sum(
            2 * m.similarity * weight for m, weight in zip(matches, weight_of, strict=True)
        )
        similarity = shared / total if total else 0
        score = round(100 * similarity)
        matched = frozenset(t for m in matches for t in m.vendor if t not in STOP)
        vendor_more = any(t not in STOP for t in vendor_left)
        if any(self.tells(t) for t in vendor_left):
            # The vendor names something the PSA item does not: another business, most likely.
            score = min(score - 10, 65)
        elif vendor_more and (len(matched) <= 1 or any(t not in STOP for t in psa_left)):
            # Both names say more than they share, or all they share is one word: "Kinham
            # Clinic" is not surely "Kinham Company".
            score = min(score - 5, 72)
        elif any(self.tells(t) for t in psa_left):
            score = min(score - 5, 80)
        else:
            score = min(score, MOST)
        namesake = self._namesake(matches, other)
        if namesake:
            score = min(score, OFFER_AT - 1)
        if clash:
            return _Fit(psa, max(score, 0), 0, clash, matched)
        if not explain:
            return _Fit(psa, max(score, 0), 1, "", matched)
        reasons = [m.evidence for m in matches if m.evidence]
        reasons += _set_aside(vendor, other)
        reasons.append(_overlap(matches, vendor.tokens, other.tokens, vendor_left, psa_left))
        if namesake:
            reasons.append(f'"{namesake}" may be another name, not a slip')
        reasons = [r for r in reasons if r]
        return _Fit(psa, max(score, 0), 1, "; ".join(reasons), matched)

    def _namesake(self, matches: Sequence[_Match], psa: _Name) -> str | None:
        """Give back the PSA name's rarest word where the vendor's name misspells it: "Hansen
        Plumbing" may be a slip for "Hanson Plumbing" or another customer, and the rest of the
        name cannot tell which."""
        rarest = max((self.weight(t) for t in psa.tokens), default=0)
        for match in matches:
            pair = (match.vendor[0], match.psa[0])
            if pair in self.misspelt and self.weight(match.psa[0]) >= rarest:
                return match.psa[0]
        return None

    def tells(self, token: str) -> bool:
        """Give back whether a word tells one business or product from another."""
        return token not in self.rules.weak and token not in STOP

    def _levels_clash(self, vendor: Sequence[str], psa: Sequence[str]) -> str | None:
        """Give back why two products are different plans or levels, if they are."""
        if not self.rules.levels:
            return None
        ours, theirs = self._levels(vendor), self._levels(psa)
        if ours - theirs and theirs - ours:
            return f"another plan or level: {_words(ours - theirs)} vs {_words(theirs - ours)}"
        return None

    def _levels(self, tokens: Iterable[str]) -> set[str]:
        """Give back a product's levels, abbreviations written out ("std" is "standard")."""
        spelt = {ABBREVIATIONS.get(t, t) for t in tokens}
        return {t for t in spelt if t in self.rules.levels or any(c.isdigit() for c in t)}

    def _align(
        self, vendor: Sequence[str], psa: Sequence[str], whole: _Name | None = None
    ) -> tuple[list[_Match], list[str], list[str]]:
        """Give back the vendor words matched to PSA words (the same word first, then initials
        and closed-up words, then abbreviations and misspellings), and the words left over."""
        vendor_left: list[str] = []
        psa_left = list(psa)
        matches: list[_Match] = []
        for word in vendor:
            if word in psa_left:
                psa_left.remove(word)
                matches.append(_Match((word,), (word,), 1.0, None))
            else:
                vendor_left.append(word)
        if not vendor_left or not psa_left:
            return matches, vendor_left, psa_left
        # Initials start with the name's first letter: most names need no look at them.
        first = whole.whole[0][:1] if whole is not None and whole.whole else ""
        initials = [w for w in vendor_left if w[:1] == first and len(w) >= 3]
        if whole is not None and initials and not matches:
            known_as = _acronyms(whole)
            for word in vendor_left:
                if word in known_as:
                    spelt, surely = known_as[word]
                    shown = " ".join(t.title() for t in spelt)
                    told = f'"{word.upper()}" = initials of {shown}'
                    vendor_left.remove(word)
                    return [_Match((word,), tuple(psa_left), surely, told)], vendor_left, []
        for word in list(vendor_left):
            run = _spelled_by(word, psa_left)
            if run:
                vendor_left.remove(word)
                for t in run[0]:
                    psa_left.remove(t)
                matches.append(_Match((word,), run[0], run[1], run[2]))
        for word in list(psa_left):
            run = _spelled_by(word, vendor_left)
            if run:
                psa_left.remove(word)
                for t in run[0]:
                    vendor_left.remove(t)
                matches.append(_Match(run[0], (word,), run[1], run[2]))
        pairs: list[tuple[float, str, str, str | None]] = [
            (similarity, word, token, evidence)
            for word in dict.fromkeys(vendor_left)
            for token, (similarity, evidence) in self.links(word).items()
            if token in psa_left
        ]
        for similarity, word, token, evidence in sorted(pairs, key=lambda p: -p[0]):
            if word in vendor_left and token in psa_left:
                vendor_left.remove(word)
                psa_left.remove(token)
                matches.append(_Match((word,), (token,), similarity, evidence))
        return matches, vendor_left, psa_left


def _inflections(word: str) -> list[str]:
    """Give back the word's plural or singular ("pediatric", "pharmacies")."""
    if len(word) < 4:
        return []
    if word.endswith("ies"):
        return [word[:-3] + "y"]
    if word.endswith("s"):
        return [word[:-1]]
    return [word[:-1] + "ies"] if word.endswith("y") else [word + "s"]


def _discounted(token: str, weight: float, weak: frozenset[str]) -> float:
    """Give back a word's weight, less for stop words and form words."""
    if token in STOP:
        return 0.1 * weight
    return 0.3 * weight if token in weak else weight


def _said(tokens: Iterable[str]) -> frozenset[str]:
    """Give back the words of a name that say something (not stop words)."""
    return frozenset(t for t in tokens if t not in STOP)


def _cached(cache: dict[str, _Name], text: str | None, rules: _Rules) -> _Name:
    key = text or ""
    found = cache.get(key)
    if found is None:
        found = cache[key] = _name(key, rules)
    return found


def _acronyms(name: _Name) -> dict[str, tuple[tuple[str, ...], float]]:
    """Give back the initials a name may be known by, with the words they stand for and how
    surely: "HPVH" for Highland Park Veterinary Hospital, "CSC" for Corley Studios Company GmbH;
    initials that skip a form word ("PFC" for Pemberton Family Construction Center) less so."""
    found: dict[str, tuple[tuple[str, ...], float]] = {}
    for words in dict.fromkeys((name.tokens, name.whole)):
        plain = tuple(t for t in words if t not in STOP)
        strong = tuple(t for t in plain if t not in WEAK)
        for run, surely in ((words, 0.9), (plain, 0.9), (strong, 0.85)):
            if len(run) >= 3:
                found.setdefault(_initials(run), (run, surely))
    return found


def _closed_up(name: _Name) -> set[str]:
    """Give back the name's words closed up, as a domain label writes them ("brantforddental")."""
    forms = dict.fromkeys((name.tokens, name.whole))
    return {"".join(words) for words in forms} | {
        "".join(w for w in words if w not in STOP) for words in forms
    }


def _spellings(words: Sequence[str]) -> set[str]:
    """Give back what a vendor's words would be as one PSA word: their initials, or two or
    three of them closed up."""
    keys = {"".join(words[j : j + size]) for size in (2, 3) for j in range(len(words) - size + 1)}
    strong = [t for t in words if t not in WEAK]
    for run in (words, strong):
        if len(run) >= 3:
            keys.add(_initials(run))
    return keys


def _spelled_by(word: str, others: Sequence[str]) -> tuple[tuple[str, ...], float, str] | None:
    """Give back the run of `others` that `word` spells as initials or closed up, if any."""
    if len(word) < 3 or not any(t[:1] == word[:1] for t in others):
        return None
    words = list(others)
    for run_of in (words, [t for t in words if t not in STOP]):
        for start in range(len(run_of)):
            for end in range(start + 2, min(len(run_of), start + len(word)) + 1):
                run = tuple(run_of[start:end])
                if _initials(run) == word:
                    shown = " ".join(t.title() for t in run)
                    return run, 0.9, f'"{word.upper()}" = initials of {shown}'
                if end - start <= 3 and "".join(run) == word:
                    return run, 0.97, f'"{word}" = "{" ".join(run)}"'
    return None


def _words(tokens: Iterable[str]) -> str:
    return '"' + " ".join(sorted(tokens)) + '"'


def _set_aside(vendor: _Name, psa: _Name) -> list[str]:
    """Give back, in words, what was set aside on either side before comparing."""
    removed = list(dict.fromkeys(set(vendor.removed) ^ set(psa.removed)))
    removed.sort(key=lambda w: (w not in LEGAL and w not in LEGAL_AT_END, w))
    out = []
    legal = [w for w in removed if w in LEGAL or w in LEGAL_AT_END]
    other = [w for w in removed if w not in legal]
    if legal:
        suffix = "suffix" if len(legal) == 1 else "suffixes"
        out.append(f"{suffix} {', '.join(_quoted(legal))} removed")
    if other:
        out.append(f"{', '.join(_quoted(other))} removed")
    if vendor.accents != psa.accents:
        out.append("accents ignored")
    if ("&" in vendor.key) != ("&" in psa.key):
        out.append('"&" read as "and"')
    out += sorted(set(vendor.rewritten) ^ set(psa.rewritten))
    if not out and vendor.key != psa.key and vendor.tokens == psa.tokens:
        out.append("punctuation ignored")
    return out


def _quoted(words: Iterable[str]) -> list[str]:
    return [f'"{_shown(w)}"' for w in words]


def _overlap(
    matches: Sequence[_Match],
    vendor: Sequence[str],
    psa: Sequence[str],
    vendor_left: Sequence[str],
    psa_left: Sequence[str],
) -> str:
    """Give back how the two names' words overlap, in words."""
    if not matches:
        return "no word in common"
    ours, theirs = " ".join(vendor), " ".join(psa)
    vendor_left = [t for t in vendor_left if t not in STOP]
    psa_left = [t for t in psa_left if t not in STOP]
    if not vendor_left and not psa_left:
        if any(m.evidence for m in matches):
            return ""
        in_order = [t for t in vendor if t not in STOP] == [t for t in psa if t not in STOP]
        return "every word matched" if in_order else "same words in another order"
    if not vendor_left:
        return f'words of "{ours}" all in "{theirs}"'
    if not psa_left:
        return f'words of "{theirs}" all in "{ours}"'
    shared = " ".join(t for m in matches for t in m.psa)
    return f'shares "{shared}"; differs: "{" ".join(vendor_left)}" / "{" ".join(psa_left)}"'


_SECOND_LEVEL = _set_of("co com org net ac gov edu")
"""Second-level labels under a country code: acme.co.uk is registered as a whole."""
_TENANTS = ".onmicrosoft.com"
_PATH = re.compile(r"[/?#:\s]")
LONG_LABEL = 8
"""A domain label this long that equals a website's label or a name closed up is decisive."""


def _host(text: str | None) -> str:
    """Give back the host name of a domain, web address or e-mail address, lower-cased."""
    host = (text or "").strip().lower()
    host = host.split("://", 1)[-1].rsplit("@", 1)[-1]
    host = _PATH.split(host, maxsplit=1)[0].strip(".")
    return host.removeprefix("www.")


def _registrable(text: str | None) -> str | None:
    """Give back the part of a domain that its owner registered (`shop.acme.co.uk` ->
    `acme.co.uk`); none for a Microsoft tenant's domain, which anyone may name."""
    host = _host(text)
    labels = host.split(".")
    if len(labels) < 2 or not all(labels) or host.endswith(_TENANTS):
        return None
    size = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-size:])


def _label(domain: str) -> str:
    return domain.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What a vendor item says besides its name."""

    domain: str | None = None
    external_id: str | None = None

    def fits(self, book: _Book) -> dict[int, tuple[int, int, str]]:
        """Give back the PSA items this evidence points at: score, tier and reason."""
        found: dict[int, tuple[int, int, str]] = {}
        if self.external_id and self.external_id.strip() in book.by_id:
            psa = book.by_id[self.external_id.strip()]
            # The vendor keeps the PSA's id: a person linked them, which outranks any name.
            found[psa] = (SAME_NAME, 4, f"external id {self.external_id.strip()} = PSA id")
        host = _host(self.domain)
        registered = _registrable(host)
        label = _label(host) if host.endswith(_TENANTS) else _label(registered or "")
        if registered:
            for psa in book.by_domain.get(registered, []):
                found.setdefault(psa, (96, 3, f"domain {registered} = website"))
        if len(label) >= 4:
            # A long label is as telling as a name: "brantforddental" is no accident.
            score, tier = (94, 3) if len(label) >= LONG_LABEL else (85, 1)
            for psa in book.by_domain.get(label, []):
                site = _registrable((book.websites or [])[psa])
                found.setdefault(psa, (score, tier, f"domain {host} fits website {site}"))
            for psa in book.spelled.get(label, []):
                if label in _closed_up(book.parsed[psa]):
                    found.setdefault(psa, (score, tier, f"domain {host} spells the name"))
        return found


def _with_evidence(fit: _Fit, evidence: tuple[int, int, str]) -> _Fit:
    """Give back a name's fit strengthened by what else points at the same PSA item."""
    score, tier, reason = evidence
    # A name and other evidence agreeing weigh more than either alone.
    if fit.tier >= 3 and score < SAME_NAME:
        return fit._replace(tier=max(tier + 1, fit.tier), after=(*fit.after, reason))
    if fit.tier > 0 and fit.score >= OFFER_AT:
        both = min(max(score, fit.score) + 2, 99 if score < SAME_NAME else SAME_NAME)
        return fit._replace(score=both, tier=max(tier + 1, fit.tier), before=reason)
    if fit.score < 50:
        return fit._replace(score=score, tier=max(tier, 1), before=reason, reason="names differ")
    return fit._replace(score=score, tier=max(tier, 1), before=reason)


@dataclass(frozen=True)
class _Choice:
    fit: _Fit | None
    reason: str


def _choose(
    book: _Book,
    fits: list[_Fit],
    taken: set[int],
    vendor: str,
    explain: Callable[[_Fit], str],
) -> _Choice:
    """Give back the fit worth offering, if one is: the best, unless another fits about as well
    or its PSA account already has an account of this vendor and another is worth offering."""
    noun = book.rules.noun
    if not fits:
        return _Choice(None, f"no PSA {noun} shares a word")
    closest = min(fits, key=lambda f: (-f.score, book.names[f.psa], f.psa))
    live = [f for f in fits if f.tier > 0]
    if closest.tier == 0 and not any(f.score >= OFFER_AT for f in live):
        # Say which plan is missing rather than name a product that shares a word or two.
        return _Choice(None, f"closest is {book.names[closest.psa]}, {closest.reason}")
    live = [
        f._replace(score=f.score - TAKEN_COST, after=(*f.after, f"already has a {vendor} {noun}"))
        if f.psa in taken
        else f
        for f in live
    ]
    open_ok = any(f.psa not in taken and f.score >= OFFER_AT for f in live)
    if open_ok:
        live = [f for f in live if f.psa not in taken]
    order = sorted(live, key=lambda f: (-f.tier, -f.score, book.names[f.psa], f.psa))
    best, rivals = order[0], order[1:]
    if rivals and not (best.tier >= 2 and rivals[0].tier < best.tier):
        gap = best.score - rivals[0].score
        if gap <= TIE:
            tied = [f for f in order if best.score - f.score <= TIE]
            return _Choice(None, f"{len(tied)} PSA {noun}s fit equally: {_listed(book, tied)}")
        if gap < CLOSE:
            rival = f"{book.names[rivals[0].psa]} also fits ({rivals[0].score})"
            best = best._replace(score=best.score - (CLOSE - gap), after=(*best.after, rival))
        alike = [f for f in rivals if f.score >= LOOK_ALIKE_FROM and best.matched <= f.matched]
        if alike and best.matched and best.tier < 2:
            # One telling word shared tells two look-alikes apart even less than several do.
            telling = [t for t in best.matched if book.tells(t)]
            most = LOOK_ALIKE_AT if len(telling) > 1 else OFFER_AT - 1
            rival = f"{book.names[alike[0].psa]} has these words too"
            best = best._replace(score=min(best.score, most), after=(*best.after, rival))
    if best.score < OFFER_AT:
        name = book.names[best.psa]
        why = explain(best)
        return _Choice(None, f"closest is {name} at {best.score}, below {OFFER_AT}: {why}")
    return _Choice(best, explain(best))


def _listed(book: _Book, fits: Sequence[_Fit]) -> str:
    """Give back the PSA items' names, with their ids where names repeat."""
    names = [book.names[f.psa] for f in fits]
    if len(set(names)) < len(names):
        names = [f"{book.names[f.psa]} ({book.ids[f.psa]})" for f in fits]
    return ", ".join(names)


def _texts(frame: pl.DataFrame, column: str) -> list[str | None]:
    """Give back a column as text, or nulls where the frame has no such column."""
    if column not in frame.columns:
        return [None] * frame.height
    return frame.get_column(column).cast(pl.String).to_list()


def _suggest(
    kind: str, items: pl.DataFrame, book: _Book, taken: dict[str, set[int]]
) -> pl.DataFrame:
    """Give back one SUGGESTIONS row per item, in the items' order."""
    vendors = _texts(items, "vendor")
    names = _texts(items, "vendor_name")
    evidence = [
        _Evidence(domain, external)
        for domain, external in zip(
            _texts(items, "domain"), _texts(items, "external_id"), strict=True
        )
    ]
    cache: dict[str, _Name] = {}
    parsed = [_cached(cache, name, book.rules) for name in names]
    candidates = [book.candidates(name) for name in parsed] if book.ids else [set()] * len(parsed)
    psa_ids: list[str | None] = []
    psa_names: list[str | None] = []
    scores: list[int | None] = []
    reasons: list[str] = []
    for name, vendor, known, found in zip(parsed, vendors, evidence, candidates, strict=True):
        pointed = known.fits(book)
        fits = [book.fit(name, psa, explain=False) for psa in found | pointed.keys()]
        fits = [_with_evidence(f, pointed[f.psa]) if f.psa in pointed else f for f in fits]

        def explain(fit: _Fit, name: _Name = name) -> str:
            return fit._replace(reason=fit.reason or book.fit(name, fit.psa).reason).told()

        choice = (
            _choose(book, fits, taken.get(vendor or "", set()), vendor or "", explain)
            if book.ids
            else _Choice(None, f"no PSA {book.rules.noun}s to compare with")
        )
        psa_ids.append(book.ids[choice.fit.psa] if choice.fit else None)
        psa_names.append(book.names[choice.fit.psa] if choice.fit else None)
        scores.append(choice.fit.score if choice.fit else None)
        reasons.append(choice.reason)
    return pl.DataFrame(
        {
            "kind": [kind] * items.height,
            "vendor": vendors,
            "vendor_id": _texts(items, "vendor_id"),
            "vendor_name": names,
            "psa_id": psa_ids,
            "psa_name": psa_names,
            "score": scores,
            "reason": reasons,
        },
        schema=SUGGESTIONS,
    )


def suggest_accounts(
    items: pl.DataFrame, psa_accounts: pl.DataFrame, taken: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Give back one suggestion per vendor account, in the order given (SUGGESTIONS).

    `items` has vendor, vendor_id, vendor_name and, where known, the tenant's `domain` and the
    `external_id` the vendor keeps for the customer in the PSA. `psa_accounts` has psa_id,
    psa_name and, where known, `website`. `taken` lists (vendor, psa_id) pairs whose PSA account
    already has an account of that vendor mapped: such an account is offered only when no other
    is worth offering, with a lower score and a reason that says so.
    """
    book = _book(psa_accounts, ACCOUNT_RULES)
    positions: dict[str, list[int]] = {}
    for psa, psa_id in enumerate(book.ids):
        positions.setdefault(psa_id, []).append(psa)
    by_vendor: dict[str, set[int]] = {}
    if taken is not None:
        pairs = zip(_texts(taken, "vendor"), _texts(taken, "psa_id"), strict=True)
        for vendor, mapped in pairs:
            by_vendor.setdefault(vendor or "", set()).update(positions.get(mapped or "", []))
    return _suggest("account", items, book, by_vendor)


def suggest_products(items: pl.DataFrame, psa_products: pl.DataFrame) -> pl.DataFrame:
    """Give back one suggestion per vendor product (SKU), in the order given (SUGGESTIONS).

    `items` has vendor, vendor_id and vendor_name; `psa_products` has psa_id and psa_name. Plans
    and levels must agree: "Exchange Online (Plan 1)" is never offered for Plan 2.
    """
    return _suggest("product", items, _book(psa_products, PRODUCT_RULES), {})


def _book(psa: pl.DataFrame, rules: _Rules) -> _Book:
    """Give back the PSA items with an id, indexed."""
    if "psa_id" in psa.columns:
        psa = psa.filter(pl.col("psa_id").is_not_null())
    ids = [psa_id or "" for psa_id in _texts(psa, "psa_id")]
    names = [name or "" for name in _texts(psa, "psa_name")]
    return _Book(ids, names, rules, _texts(psa, "website"))
