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
    """Casefold, strip accents and footnote marks (``France*``), collapse white space."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[*\u2020\u2021]+|\(\d+\)$|\[\d+\]$", "", text)
    text = text.replace("\u2019", "'").replace("\u00a0", " ")
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
