"""The local level: subdivisions of countries (provinces, regions, districts), kept as data.

The default code list is ISO 3166-2 for every country (``data/codelists/subdivisions.csv``, built by
``scripts/build_subdivisions.py`` from the iso-codes project): code, country (ISO3), parent, level,
type, names in English, French, Spanish and the local form, aliases and validity dates.

A subdivision is always resolved *within a country*: the same name ("Central", "Paris") exists in
many countries and sometimes at two levels of one country; a name that fits two codes is ambiguous
and never guessed (:func:`resolve_subdivision` returns None, :func:`ambiguous` says why).

Codes change. ``data/codelists/subdivision_changes.csv`` lists old codes, the code(s) that replaced
them, the date and the rule: ``rename``/``merge`` (the old code's values are shown and summed under
the new code) or ``split`` (the old values are never divided by a guess: they are kept at the parent
level only). Old codes are subdivisions too, valid until the change (``valid_to``); the new codes of
a change are valid from its date. Data of a year resolve against the codes valid in that year
(``year=``); :func:`to_current` carries older data onto today's codes.

A statistics office may extend or replace the list of its country with its own codes
(:mod:`mmicd.subdivision_lists` stores them, versioned and audited); :func:`set_office_lists`
puts them in force here, and every function then answers from them for that country.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache

import pandas as pd

from mmicd.codes import CODELIST_DIR, normalise_name

NAME_COLUMNS = ("name_en", "name_fr", "name_es", "name_local")


COLUMNS = ["code", "country", "parent", "level", "type", *NAME_COLUMNS, "aliases", "valid_from", "valid_to"]
RULES = ("rename", "merge", "split")
# an office's lists in force: country -> (mode "extend" or "replace", rows in COLUMNS)
_OFFICE: dict[str, tuple[str, pd.DataFrame]] = {}


@cache
def changes() -> pd.DataFrame:
    """The code changes (``old_code, country, old_name, new_codes, date, rule, note``), indexed by old code."""
    frame = pd.read_csv(CODELIST_DIR / "subdivision_changes.csv", dtype=str, keep_default_na=False, comment="#")
    return frame.set_index("old_code", drop=False)


def _default_list() -> pd.DataFrame:
    """ISO 3166-2 and the retired codes of :func:`changes` (valid until the change; under the parent
    of the codes that replaced them), the new codes valid from the change."""
    frame = pd.read_csv(CODELIST_DIR / "subdivisions.csv", dtype=str, keep_default_na=False)
    frame = frame.set_index("code", drop=False)
    retired = []
    for ch in changes().itertuples(index=False):
        new = ch.new_codes.split("|")
        for code in new:
            if code in frame.index and not frame.at[code, "valid_from"]:
                frame.at[code, "valid_from"] = ch.date
        first = frame.loc[new[0]]
        retired.append({"code": ch.old_code, "country": ch.country, "parent": first["parent"], "level": first["level"],
                        "type": first["type"], **dict.fromkeys(NAME_COLUMNS, ch.old_name), "aliases": "",
                        "valid_from": "", "valid_to": ch.date})
    return pd.concat([frame, pd.DataFrame(retired, columns=COLUMNS)], ignore_index=True)


@cache
def subdivisions() -> pd.DataFrame:
    """Every subdivision (ISO 3166-2, retired codes, offices' lists in force), indexed by ``code``
    (text columns; ``level`` as int)."""
    frame = _default_list()
    for country, (mode, rows) in _OFFICE.items():
        keep = frame["country"] != country if mode == "replace" else ~frame["code"].isin(rows["code"])
        frame = pd.concat([frame[keep], rows[COLUMNS]], ignore_index=True)
    frame["level"] = frame["level"].astype(int)
    return frame.set_index("code", drop=False)


_IN_FORCE: list[object] = [None]   # what the lists in force were read from (see set_office_lists)


def set_office_lists(lists: dict[str, tuple[str, pd.DataFrame]], origin: object = None) -> None:
    """Put offices' code lists in force (country -> (``extend`` or ``replace``, rows with
    :data:`COLUMNS`)), replacing those in force before; every cached answer is dropped.
    ``origin``: what they were read from (a store and its versions), see :func:`office_origin`."""
    _OFFICE.clear()
    _OFFICE.update(lists)
    _IN_FORCE[0] = origin
    for fn in (subdivisions, _lookup):
        fn.cache_clear()


def office_origin() -> object:
    """The ``origin`` given with the lists in force (None when set without one)."""
    return _IN_FORCE[0]


def office_mode(country: str) -> str | None:
    """``extend`` or ``replace`` when an office's list is in force for ``country``, else None."""
    return _OFFICE[country][0] if country in _OFFICE else None


def valid_in(code: str, year: int | str) -> bool:
    """Whether ``code`` was a subdivision during ``year`` (valid_from before its end and valid_to after
    its start: a code that changed during the year is valid in it, as are the codes that replaced it)."""
    frame = subdivisions()
    if code not in frame.index:
        return False
    year = int(str(year)[:4])
    start, end = frame.at[code, "valid_from"], frame.at[code, "valid_to"]
    return (not start or start <= f"{year}-12-31") and (not end or end > f"{year}-01-01")


def is_current(code: str) -> bool:
    return is_subdivision(code) and not subdivisions().at[code, "valid_to"]


def current_code(code: str) -> tuple[str | None, str]:
    """Where an old code's values go on today's list: (new code, rule) for a rename or merge (a chain
    of changes is followed), (None, ``split``) for a split (kept at the parent only); a current code
    is itself (rule ``""``)."""
    table = changes()
    seen = set()
    rule = ""
    while code in table.index and code not in seen:
        seen.add(code)
        row = table.loc[code]
        if row["rule"] == "split":
            return None, "split"
        code, rule = row["new_codes"].split("|")[0], row["rule"]
    return code, rule


def to_current(frame: pd.DataFrame, column: str = "ref_area", value: str = "value") -> pd.DataFrame:
    """``frame`` with old codes of ``column`` carried onto today's codes: renamed and merged codes
    become the new code and rows that then share every other column are summed (``value``; a
    missing part makes the sum missing); split codes are left as they are (their parent's totals
    count them, no current subdivision shows them). Other columns are kept."""
    old = frame[column].isin(changes().index)
    if not old.any():
        return frame
    mapped = {c: current_code(c)[0] for c in pd.unique(frame.loc[old, column])}
    out = frame.copy()
    out[column] = out[column].map(lambda c: mapped.get(c) or c)
    keys = [c for c in out.columns if c != value]
    summed = out.groupby(keys, dropna=False, sort=False)[value].agg(lambda v: v.sum(min_count=len(v)))
    return summed.reset_index()[list(frame.columns)]


def children(parent: str) -> frozenset[str]:
    """Today's subdivisions directly under ``parent`` (a country's first level, or a subdivision's)."""
    frame = subdivisions()
    current = frame[frame["valid_to"] == ""]
    return frozenset(current.loc[current["parent"].where(current["parent"] != "", current["country"]) == parent,
                                 "code"])


def covers_all(parent: str, codes_: Iterable[str]) -> bool:
    """Whether ``codes_`` cover every subdivision of today directly under ``parent``: renamed and merged
    old codes count as their new code, a split old code as the codes that replaced it."""
    covered = set()
    for code in codes_:
        new, rule = current_code(code)
        covered |= set(changes().at[code, "new_codes"].split("|")) if rule == "split" else {new or code}
    under = children(parent)
    return bool(under) and under <= covered


def parent_of(code: str) -> str | None:
    """The parent subdivision of ``code``; the country (ISO3) for a first-level one; None if unknown."""
    frame = subdivisions()
    if code not in frame.index:
        return None
    return frame.at[code, "parent"] or frame.at[code, "country"]


def of_country(country: str, level: int | None = None, *, current: bool = True) -> pd.DataFrame:
    """The subdivisions of ``country`` (ISO3), optionally of one level, sorted by code; today's
    only, unless ``current`` is False (retired codes too)."""
    frame = subdivisions()
    frame = frame[frame["country"] == country]
    if current:
        frame = frame[frame["valid_to"] == ""]
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
    for row in of_country(country, current=False).itertuples(index=False):
        keys = [row.code, row.code.split("-", 1)[1]]
        keys += [getattr(row, c) for c in NAME_COLUMNS]
        keys += [a for a in row.aliases.split("|") if a]
        for key in keys:
            if key:
                out.setdefault(normalise_name(key), set()).add(row.code)
    return {k: frozenset(v) for k, v in out.items()}


def _candidates(text: object, country: str, level: int | None, year: int | str | None = None,
                any_time: bool = False) -> frozenset[str]:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return frozenset()
    found = _lookup(country).get(normalise_name(str(text)), frozenset())
    if level is not None:
        levels = subdivisions()["level"]
        found = frozenset(c for c in found if levels[c] == level)
    if any_time:
        return found
    if year is None:
        return frozenset(c for c in found if is_current(c))
    return frozenset(c for c in found if valid_in(c, year))


def resolve_subdivision(text: object, country: str, level: int | None = None,
                        year: int | str | None = None) -> str | None:
    """The code of subdivision ``text`` (an ISO 3166-2 code with or without the country prefix,
    a name in EN/FR/ES or the local form, an alias) within ``country``, among today's codes or,
    with ``year``, the codes valid in that year; None when unknown or when the text names two
    subdivisions (see :func:`ambiguous`)."""
    found = _candidates(text, country, level, year)
    return next(iter(found)) if len(found) == 1 else None


def ambiguous(text: object, country: str, level: int | None = None, year: int | str | None = None) -> list[str]:
    """The codes ``text`` could mean when it names more than one subdivision (else empty)."""
    found = _candidates(text, country, level, year)
    return sorted(found) if len(found) > 1 else []


def not_valid_then(text: object, country: str, year: int | str) -> list[str]:
    """Codes of ``country`` that ``text`` names but that were not valid in ``year`` (a code used
    before it existed, or after it was replaced): for the error message."""
    return sorted(c for c in _candidates(text, country, None, any_time=True) if not valid_in(c, year))


def other_country(text: object, country: str) -> str | None:
    """The country (ISO3) of ``text`` when it is the code of another country's subdivision."""
    code = str(text).strip().upper() if text is not None else ""
    owner = country_of(code)
    return owner if owner and owner != country else None


def suggestions(text: object, country: str, n: int = 3) -> list[str]:
    """Close names of ``country``'s subdivisions for an unknown ``text`` (for the error message)."""
    names = {}
    for row in of_country(country, current=False).itertuples(index=False):
        for name in [row.name_en, row.name_local, *[a for a in row.aliases.split("|") if a]]:
            names.setdefault(normalise_name(name), name)
    close = difflib.get_close_matches(normalise_name(str(text)), list(names), n=n, cutoff=0.6)
    return [names[c] for c in close]
