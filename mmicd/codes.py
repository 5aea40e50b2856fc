"""Closed vocabularies, kept as data in ``data/codelists/*.csv``.

Areas (countries and aggregates) carry ISO3, ISO2, M49 and names in English, French and Spanish
plus aliases; :func:`resolve_area` maps any of them to the canonical code. Aggregates (World,
regions, income groups) have their own codes and ``kind`` and are never mixed with countries.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pandas as pd

from mmicd import DATA_DIR

CODELIST_DIR = DATA_DIR / "codelists"
TOTAL = "_T"
UNKNOWN = "_U"
AGGREGATE_KINDS = ("world", "region", "income_group", "other_aggregate")


@cache
def codelist(name: str) -> pd.DataFrame:
    """A code list as a frame indexed by ``code`` (all columns read as text)."""
    frame = pd.read_csv(CODELIST_DIR / f"{name}.csv", dtype=str, keep_default_na=False)
    return frame.set_index("code", drop=False)


def codes(name: str) -> frozenset[str]:
    return frozenset(codelist(name)["code"])


def label(name: str, code: str, lang: str = "en") -> str:
    """The name of ``code`` in code list ``name`` in ``lang``; the code itself if unknown."""
    frame = codelist(name)
    if code in frame.index:
        return frame.at[code, f"name_{lang}"] or frame.at[code, "name_en"]
    return code


def normalise_name(text: str) -> str:
    """Casefold, strip accents and footnote marks (``France*``), collapse white space (none around ``/``)."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[*\u2020\u2021]+|\(\d+\)$|\[\d+\]$", "", text)
    text = text.replace("\u2019", "'").replace("\u00a0", " ")
    text = re.sub(r"\s*/\s*", "/", text)             # "Australia / New Zealand" = "Australia/New Zealand"
    return re.sub(r"\s+", " ", text).strip().casefold()


def areas() -> pd.DataFrame:
    return codelist("areas")


@cache
def _area_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for row in areas().itertuples(index=False):
        keys = [row.code, row.iso2, row.m49, row.name_en, row.name_fr, row.name_es]
        keys += [a for a in row.aliases.split("|") if a]
        for key in keys:
            if key:
                lookup.setdefault(normalise_name(key), row.code)
        if row.m49:
            lookup.setdefault(row.m49.lstrip("0") or "0", row.code)
    for alias in extra_aliases():
        lookup.setdefault(normalise_name(alias.alias), alias.code)
    return lookup


def resolve_area(text: object) -> str | None:
    """Canonical area code for a code (ISO3, ISO2, M49) or a name in EN/FR/ES or an alias."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    key = normalise_name(str(text))
    if key.isdigit():
        key = key.lstrip("0") or "0"
    return _area_lookup().get(key)


def area_name(code: str, lang: str = "en") -> str:
    return label("areas", code, lang)


def area_kind(code: str) -> str | None:
    frame = areas()
    return frame.at[code, "kind"] if code in frame.index else None


def is_country(code: str) -> bool:
    return area_kind(code) == "country"


def country_codes() -> list[str]:
    frame = areas()
    return frame.loc[frame["kind"] == "country", "code"].tolist()


def area_options(lang: str = "en") -> list[str]:
    """Every area, countries first then aggregates, each sorted by its name in ``lang``."""
    frame = areas().copy()
    frame["_name"] = frame[f"name_{lang}"].where(frame[f"name_{lang}"] != "", frame["name_en"])
    frame["_key"] = frame["_name"].map(normalise_name)
    frame["_group"] = (frame["kind"] != "country").astype(int)
    return frame.sort_values(["_group", "_key"])["code"].tolist()


def age_bounds(code: str) -> tuple[int | None, int | None]:
    """Lower and upper year of an age code (``Y15T24`` -> (15, 24); ``Y_GE65`` -> (65, None))."""
    frame = codelist("age")
    if code not in frame.index:
        return (None, None)
    lower, upper = frame.at[code, "lower"], frame.at[code, "upper"]
    return (int(lower) if lower else None, int(upper) if upper else None)


# ---- names and codes other publishers use ------------------------------------------------------------
class Alias(tuple):
    """(code, alias, relation): ``relation`` is ``same`` (another name of the area) or ``part`` (a
    part of it that some sources list apart, e.g. England of the United Kingdom, "Stateless" of the
    residual origin OOO: parts mapped to one area are summed, and the reader says so)."""

    __slots__ = ()

    @property
    def code(self) -> str:
        return self[0]

    @property
    def alias(self) -> str:
        return self[1]

    @property
    def relation(self) -> str:
        return self[2]


@cache
def extra_aliases() -> tuple[Alias, ...]:
    """Names from ``data/codelists/area_aliases.csv`` (colloquial, World Bank, UNHCR, national
    spellings in English, French, Spanish and Portuguese) and ``area_names_pt.csv`` (Portuguese
    names, built by ``scripts/build_area_names.py``), not in ``areas.csv``."""
    out = []
    for name in ("area_aliases.csv", "area_names_pt.csv"):
        frame = pd.read_csv(CODELIST_DIR / name, dtype=str, keep_default_na=False, comment="#")
        out += [Alias((r.code, r.alias, r.relation or "same")) for r in frame.itertuples(index=False)]
    return tuple(out)


@cache
def part_aliases() -> frozenset[str]:
    """Normalised names that stand for a part of an area (summed into it, with an info issue)."""
    return frozenset(normalise_name(a.alias) for a in extra_aliases() if a.relation == "part")


@cache
def area_code_systems() -> dict[str, dict[str, str]]:
    """Other area code systems (``data/codelists/area_codes.csv``): system -> {code: area}."""
    frame = pd.read_csv(CODELIST_DIR / "area_codes.csv", dtype=str, keep_default_na=False, comment="#")
    out: dict[str, dict[str, str]] = {}
    for r in frame.itertuples(index=False):
        out.setdefault(r.system, {})[r.code.upper()] = r.area
    return out


@cache
def aggregates() -> pd.DataFrame:
    """Publishers' aggregates (regions, income and lending groups, totals) that are not M49 areas:
    ``publisher, code, name, maps_to`` (``maps_to``: our code when it is the same area, e.g. World)."""
    return pd.read_csv(CODELIST_DIR / "aggregates.csv", dtype=str, keep_default_na=False, comment="#")


@cache
def aggregate_lookup(publisher: str | None) -> dict[str, str]:
    """Normalised code or name of a publisher's aggregate -> our code ('' when it has none).
    Without a publisher: every publisher's codes (never their names, which may be UN regions)."""
    out: dict[str, str] = {}
    for r in aggregates().itertuples(index=False):
        if publisher is not None and r.publisher != publisher:
            continue
        if r.code:
            out.setdefault(normalise_name(r.code), r.maps_to)
        if publisher is not None:
            out.setdefault(normalise_name(r.name), r.maps_to)
    return out


# ---- breakdown: classifications a source adds to the core dimensions ---------------------------------
@cache
def breakdown_types() -> dict[str, frozenset[str] | None]:
    """Breakdown type -> its codes (None: open, the source names them, e.g. a point of entry)."""
    frame = pd.read_csv(CODELIST_DIR / "breakdown.csv", dtype=str, keep_default_na=False)
    out: dict[str, set[str] | None] = {}
    for r in frame.itertuples(index=False):
        if r.code == "*":
            out[r.type] = None
        elif r.code:
            if out.get(r.type, set()) is not None:
                out.setdefault(r.type, set()).add(r.code)
        else:
            out.setdefault(r.type, set())
    return {k: (frozenset(v) if v is not None else None) for k, v in out.items()}


def breakdown_code(parts: dict[str, str]) -> str:
    """``{"STAGE": "FI", "AUTHORITY": "G"}`` -> ``AUTHORITY:G+STAGE:FI``; ``{}`` -> ``_T``."""
    items = sorted((k, v) for k, v in parts.items() if v and v != TOTAL)
    return "+".join(f"{k}:{v}" for k, v in items) if items else TOTAL


def breakdown_parts(code: str) -> dict[str, str]:
    if not code or code == TOTAL:
        return {}
    return dict(p.split(":", 1) for p in code.split("+") if ":" in p)


def breakdown_ok(code: str) -> bool:
    """A breakdown value is ``_T`` or known ``TYPE:CODE`` pairs in type order (open types: any
    short text without separators)."""
    if code == TOTAL:
        return True
    types = breakdown_types()
    try:
        parts = [p.split(":", 1) for p in code.split("+")]
    except ValueError:
        return False
    if any(len(p) != 2 for p in parts) or [p[0] for p in parts] != sorted(p[0] for p in parts):
        return False
    for btype, value in parts:
        if btype not in types:
            return False
        allowed = types[btype]
        if allowed is None:
            if not re.fullmatch(r"[A-Z0-9_]{1,60}", value):
                return False
        elif value not in allowed:
            return False
    return True
