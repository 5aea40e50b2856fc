"""Checking a boundary file's features: every feature's code known in the country's code list (the
property holding the code or name detected, or chosen), no code twice, polygonal geometry that is
valid (or repaired with ``make_valid``, and said so).

The code list is ISO 3166-2 by default (:mod:`mmicd.subdivisions`); a statistics office whose codes
are not ISO gives its own rows (code, name, parent, level), e.g. taken from the boundary file itself
with :func:`codes_from_boundaries`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import shapely
from shapely.geometry import shape

from mmicd import subdivisions
from mmicd.boundaries.read import RawFeature
from mmicd.codes import normalise_name
from mmicd.i18n import t
from mmicd.issues import Issue


class CodeRow(NamedTuple):
    code: str
    name: str
    parent: str
    level: int


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class CodeList:
    """The codes the features of one level of one country may carry.

    ``rows`` None: the country's ISO 3166-2 subdivisions of that level (names in every language and
    aliases, resolved by :func:`mmicd.subdivisions.resolve_subdivision`); else an office's own rows.
    """

    country: str
    level: int
    rows: tuple[CodeRow, ...] | None = None

    @classmethod
    def from_rows(cls, country: str, level: int, rows: Iterable[CodeRow]) -> CodeList:
        return cls(country, level, tuple(CodeRow(*r) for r in rows if int(r[3]) == level))

    def codes(self) -> dict[str, str]:
        """Code -> English (or the office's) name."""
        if self.rows is None:
            return dict(zip(*subdivisions.of_country(self.country, self.level)[["code", "name_en"]].T.values,
                            strict=True))
        return {r.code: r.name for r in self.rows}

    def _office_lookup(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for r in self.rows or ():
            for key in (r.code, r.name):
                out.setdefault(normalise_name(key), set()).add(r.code)
        return out

    def resolve(self, value: object) -> str | None:
        text = _text(value)
        if not text:
            return None
        if self.rows is None:
            return subdivisions.resolve_subdivision(text, self.country, self.level)
        found = self._office_lookup().get(normalise_name(text), set())
        return next(iter(found)) if len(found) == 1 else None

    def suggestions(self, value: object) -> list[str]:
        if self.rows is None:
            return subdivisions.suggestions(_text(value), self.country)
        import difflib

        names = {normalise_name(r.name): r.name for r in self.rows}
        return [names[c] for c in difflib.get_close_matches(normalise_name(_text(value)), list(names), n=3)]


def codes_from_boundaries(features: list[RawFeature], *, code_property: str, name_property: str, level: int,
                          parent_property: str | None = None) -> list[CodeRow]:
    """An office code list taken from a boundary file: one row (code, name, parent, level) per
    feature, codes and names as the file writes them (integers without a decimal part)."""
    return [CodeRow(_text(f.properties.get(code_property)), _text(f.properties.get(name_property)),
                    _text(f.properties.get(parent_property)) if parent_property else "", level)
            for f in features if _text(f.properties.get(code_property))]


def detect_code_property(features: list[RawFeature], codes: CodeList) -> str | None:
    """The property whose values resolve to the most distinct known codes (None: no property does)."""
    names = list(dict.fromkeys(k for f in features for k in f.properties))
    best, score = None, 0
    for name in names:
        resolved = {codes.resolve(f.properties.get(name)) for f in features} - {None}
        if len(resolved) > score:
            best, score = name, len(resolved)
    return best


@dataclass
class Checked:
    """The features that passed, as (code, name, geometry), the code property, and every issue."""

    features: list[tuple[str, str, shapely.Geometry]] = field(default_factory=list)
    code_property: str | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.level == "error" for i in self.issues)


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def check_features(features: list[RawFeature], codes: CodeList, *, code_property: str | None = None,
                   lang: str = "en", file: str | None = None) -> Checked:
    """Check every feature (nothing is stored). Errors: unknown or missing code, a code twice, a
    geometry that is not a polygon or cannot be repaired. Warnings: a repaired geometry, the code
    list's subdivisions without a feature."""
    out = Checked(code_property=code_property or detect_code_property(features, codes))
    prop = out.code_property

    def issue(level, key, feature=None, cell=None, **fields):
        out.issues.append(Issue(level, t(key, lang, **fields), file=file,
                                row=feature.number if feature else None, column=prop,
                                value=None if cell is None else str(cell)[:200], check=key))

    if prop is None:
        properties = ", ".join(dict.fromkeys(k for f in features for k in f.properties)) or "-"
        issue("error", "lmap.issue.no_code_property", properties=properties, country=codes.country)
        return out
    known = codes.codes()
    seen: dict[str, int] = {}
    for feature in features:
        raw = feature.properties.get(prop)
        code = codes.resolve(raw)
        if code is None:
            close = codes.suggestions(raw)
            issue("error", "lmap.issue.unknown_code", feature, raw, n=feature.number, name=_text(raw) or "-",
                  property=prop, country=codes.country,
                  suggestions=t("lmap.issue.did_you_mean", lang, names=", ".join(close)) if close else "")
            continue
        if code in seen:
            issue("error", "lmap.issue.duplicate", feature, raw, n=feature.number, code=code, first=seen[code])
            continue
        seen[code] = feature.number
        try:
            geometry = shape(feature.geometry) if feature.geometry else None
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
            geometry = None
        if geometry is None or geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            issue("error", "lmap.issue.not_polygon", feature, raw, n=feature.number, code=code,
                  kind=(feature.geometry or {}).get("type", "-") if isinstance(feature.geometry, dict) else "-")
            continue
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            geometry = _polygonal(shapely.make_valid(geometry))
            if geometry.is_empty or not geometry.is_valid:
                issue("error", "lmap.issue.invalid_geometry", feature, raw, n=feature.number, code=code, reason=reason)
                continue
            issue("warning", "lmap.issue.repaired", feature, raw, n=feature.number, code=code, reason=reason)
        out.features.append((code, known.get(code, code), geometry))
    missing = sorted(set(known) - set(seen))
    if missing and out.ok:
        issue("warning", "lmap.issue.missing", codes=", ".join(missing), n=len(missing))
    return out
