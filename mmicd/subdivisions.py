"""The local level: subdivisions of countries (provinces, regions, districts), kept as data.

The default code list is ISO 3166-2 for every country (``data/codelists/subdivisions.csv``, built by
``scripts/build_subdivisions.py`` from the iso-codes project): code, country (ISO3), parent, level,
type, names in English, French, Spanish and the local form, aliases and validity dates.

A subdivision is always resolved *within a country*: the same name ("Central", "Paris") exists in
many countries and sometimes at two levels of one country; a name that fits two codes is ambiguous
and never guessed (:func:`resolve_subdivision` returns None, :func:`ambiguous` says why).
"""

from __future__ import annotations

import difflib
from functools import cache

import pandas as pd

from mmicd.codes import CODELIST_DIR, normalise_name

NAME_COLUMNS = ("name_en", "name_fr", "name_es", "name_local")


@cache
def subdivisions() -> pd.DataFrame:
    """Every subdivision, indexed by ``code`` (text columns; ``level`` as int)."""
    frame = pd.read_csv(CODELIST_DIR / "subdivisions.csv", dtype=str, keep_default_na=False)
    frame["level"] = frame["level"].astype(int)
    return frame.set_index("code", drop=False)


def of_country(country: str, level: int | None = None) -> pd.DataFrame:
    """The subdivisions of ``country`` (ISO3), optionally of one level, sorted by code."""
    frame = subdivisions()
    frame = frame[frame["country"] == country]
    if level is not None:
        frame = frame[frame["level"] == level]
    return frame.sort_index()


def is_subdivision(code: object) -> bool:
    return isinstance(code, str) and code in subdivisions().index


def country_of(code: str) -> str | None:
    """The ISO3 country of a subdivision code (None if the code is not a subdivision)."""
    frame = subdivisions()
    return frame.at[code, "country"] if code in frame.index else None


def subdivision_name(code: str, lang: str = "en") -> str:
    frame = subdivisions()
    if code not in frame.index:
        return code
    return frame.at[code, f"name_{lang}"] or frame.at[code, "name_en"]


@cache
def _lookup(country: str) -> dict[str, frozenset[str]]:
    """Normalised code, code without the country prefix, name or alias -> the codes it names."""
    out: dict[str, set[str]] = {}
    for row in of_country(country).itertuples(index=False):
        keys = [row.code, row.code.split("-", 1)[1]]
        keys += [getattr(row, c) for c in NAME_COLUMNS]
        keys += [a for a in row.aliases.split("|") if a]
        for key in keys:
            if key:
                out.setdefault(normalise_name(key), set()).add(row.code)
    return {k: frozenset(v) for k, v in out.items()}


def _candidates(text: object, country: str, level: int | None) -> frozenset[str]:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return frozenset()
    found = _lookup(country).get(normalise_name(str(text)), frozenset())
    if level is not None:
        levels = subdivisions()["level"]
        found = frozenset(c for c in found if levels[c] == level)
    return found


def resolve_subdivision(text: object, country: str, level: int | None = None) -> str | None:
    """The code of subdivision ``text`` (an ISO 3166-2 code with or without the country prefix,
    a name in EN/FR/ES or the local form, an alias) within ``country``; None when unknown or when
    the text names two subdivisions (see :func:`ambiguous`)."""
    found = _candidates(text, country, level)
    return next(iter(found)) if len(found) == 1 else None


def ambiguous(text: object, country: str, level: int | None = None) -> list[str]:
    """The codes ``text`` could mean when it names more than one subdivision (else empty)."""
    found = _candidates(text, country, level)
    return sorted(found) if len(found) > 1 else []


def suggestions(text: object, country: str, n: int = 3) -> list[str]:
    """Close names of ``country``'s subdivisions for an unknown ``text`` (for the error message)."""
    names = {}
    for row in of_country(country).itertuples(index=False):
        for name in [row.name_en, row.name_local, *[a for a in row.aliases.split("|") if a]]:
            names.setdefault(normalise_name(name), name)
    close = difflib.get_close_matches(normalise_name(str(text)), list(names), n=n, cutoff=0.6)
    return [names[c] for c in close]
