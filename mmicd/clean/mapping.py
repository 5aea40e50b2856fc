"""Column mapping: synonyms kept as data (``data/mappings/synonyms.yml``), suggestions for a
table's headers, value recoding to canonical codes, and reusable :class:`MappingProfile` files."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict

from mmicd import DATA_DIR, codes
from mmicd.io.labels import vocabulary as label_vocabulary
from mmicd.model import Kind

SYNONYMS_FILE = DATA_DIR / "mappings" / "synonyms.yml"
CODE_COLUMNS = ("sex", "migrant_status", "labour_status", "obs_status")


class MappingProfile(BaseModel):
    """How a source table maps onto canonical columns; saved and loaded as YAML."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    columns: dict[str, str]
    values: dict[str, dict[str, str]] = {}
    sheet: str | None = None
    header_row: int | None = None
    measure: str | None = None      # what every value measures, when no column says it (a measure code)
    unit_mult: int | None = None    # the values' multiplier, when no column or title says it (3: thousands)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str) -> MappingProfile:
        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict):
            raise ValueError("a mapping profile is a YAML mapping")
        data["values"] = {str(k): {str(a): str(b) for a, b in (v or {}).items()}
                          for k, v in (data.get("values") or {}).items()}
        return cls.model_validate(data)


def key(text: object) -> str:
    """Matching key: casefold, no accents, punctuation and underscores as single spaces."""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    s = re.sub(r"[^\w+]+|_", " ", s)
    return re.sub(r"\s+", " ", s).strip()


@cache
def synonyms() -> dict:
    with open(SYNONYMS_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def _column_lookup() -> dict[str, str]:
    out: dict[str, str] = {}
    for canonical, names in synonyms()["columns"].items():
        for name in [canonical, *names]:
            out.setdefault(key(name), canonical)
    return out


@cache
def _column_rank() -> dict[str, int]:
    """Matching key -> its place in its column's synonym list, for the ``ranked`` columns."""
    out: dict[str, int] = {}
    for canonical in synonyms().get("ranked") or ():
        for i, name in enumerate([canonical, *synonyms()["columns"][canonical]]):
            out.setdefault(key(name), i)
    return out


@cache
def _fallbacks() -> dict[str, list[str]]:
    """canonical column -> matching keys of headers used for it only when nothing else is."""
    return {c: [key(n) for n in names] for c, names in (synonyms().get("fallbacks") or {}).items()}


def suggest_columns(headers: list[str], wanted: list[str] | None = None) -> dict[str, str]:
    """canonical column -> source header, from synonyms.

    The first matching header wins, except for the ``ranked`` columns (survey design: the synonym
    listed first wins); a ``fallbacks`` header (a household serial as PSU) is taken only when no
    header of the column's synonyms is present."""
    lookup, rank = _column_lookup(), _column_rank()
    out: dict[str, str] = {}
    for header in headers:
        k = key(header)
        canonical = lookup.get(k)
        if not canonical or (wanted is not None and canonical not in wanted):
            continue
        if canonical not in out or rank.get(k, 0) < rank.get(key(out[canonical]), 0):
            out[canonical] = header
    for canonical, keys in _fallbacks().items():
        if canonical in out or (wanted is not None and canonical not in wanted):
            continue
        found = sorted((keys.index(key(h)), i) for i, h in enumerate(headers) if key(h) in keys)
        if found:
            out[canonical] = headers[found[0][1]]
    return out


def is_fallback(header: str | None, column: str) -> bool:
    """Whether ``header`` is one of the ``fallbacks`` of ``column`` (a household serial as PSU)."""
    return header is not None and key(header) in _fallbacks().get(column, [])


def divisor_for(header: str | None, column: str) -> float | None:
    """The number a known source column's values are divided by (DHS ``v005`` weights: 1,000,000)."""
    if header is None:
        return None
    table = {str(k).casefold(): v for k, v in (synonyms().get("divisors") or {}).items()}
    value = (table.get(str(header).casefold()) or {}).get(column)
    return float(value) if value else None


@cache
def _value_lookup(column: str) -> dict[str, str]:
    """Source value key -> canonical code for a code column: codes, code-list names, synonyms."""
    out: dict[str, str] = {}
    listname = {"sex": "sex", "migrant_status": "migrant_status", "labour_status": "labour_status",
                "obs_status": "obs_status", "age": "age", "measure": "measure"}.get(column)
    if listname:
        frame = codes.codelist(listname)
        for row in frame.itertuples(index=False):
            for name in (row.code, row.name_en, row.name_fr, row.name_es):
                if name:
                    out.setdefault(key(name), row.code)
    for code, names in (synonyms()["values"].get(column) or {}).items():
        for name in names:
            out.setdefault(key(name), code)
    if column == "measure":
        for name, facts in measure_codes().items():
            out.setdefault(key(name), facts["measure"])
    return out


@cache
def measure_codes() -> dict[str, dict[str, str]]:
    """Publishers' series codes (WDI ``BX.TRF.PWKR.CD.DT``, OECD ``B11`` ...) -> the dimensions they fix
    (``data/vocabulary/labels.yml`` ``measure_codes``)."""
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in label_vocabulary()["measure_codes"].items()}


def value_words(column: str) -> dict[str, str]:
    """Normalised value words of a code column (synonyms and code-list names) -> code."""
    return dict(_value_lookup(column))


def recode_for(header: str, column: str) -> dict[str, str]:
    """Numeric recodes for a known harmonised variable (IPUMS SEX 1/2 ...), by source header."""
    table = {k.casefold(): v for k, v in synonyms()["recode"].items()}
    return {str(a): str(b) for a, b in (table.get(str(header).casefold(), {}).get(column) or {}).items()}


_AGE_RANGE = re.compile(r"^(?:y|age|ages|de|from)?\s*(\d{1,3})\s*(?:-|to|a|à|t|y|al|\s)\s*(\d{1,3})(?:\s*(?:years|ans|anos|años|y))?$")
_AGE_OPEN = re.compile(r"^(?:y ge|ge|y)?\s*(\d{1,3})\s*(?:\+|plus|and over|and older|or more|et plus|ans et plus|"
                       r"ans et \+|y mas|anos y mas|o mas|\+ years|years and over)$")


_AGE_UNDER = re.compile(r"^(?:under|less than|below|moins de|menos de|y lt|lt)\s*(\d{1,3})(?:\s*(?:years|ans|anos))?$")


@cache
def _unknown_words() -> frozenset[str]:
    """Labels meaning "not stated" (``data/vocabulary/labels.yml`` ``unknown``)."""
    return frozenset(key(w) for w in label_vocabulary()["unknown"])


@cache
def _age_by_bounds() -> dict[tuple[int | None, int | None], str]:
    frame = codes.codelist("age")
    out = {}
    for code in frame.index:
        if code in ("_T", "_U"):
            continue
        out[codes.age_bounds(code)] = code
    return out


def age_code(value: object) -> str | None:
    """Canonical age code for a label (``15-24``, ``65+``, ``Y15-24``, ``AGE_YTHADULT_Y15-24``, ``Total``)."""
    text = str(value).strip()
    if text in codes.codes("age"):
        return text
    k = key(text.replace("AGE_", "").split("_Y")[-1] if text.upper().startswith("AGE_") else text)
    hit = _value_lookup("age").get(k)
    if hit:
        return hit
    if k in ("total", "all ages", "all", "tous ages", "todas las edades", "ensemble", "ytotal", "agetotal",
             "aggregate total", "age aggregate total"):
        return codes.TOTAL
    if k in _unknown_words() or k == "unk":
        return codes.UNKNOWN
    k = k.replace(" ", "") if re.fullmatch(r"[\d\s+-]+", k) else k
    m = _AGE_RANGE.match(k.replace("–", "-"))
    if m:
        return _age_by_bounds().get((int(m.group(1)), int(m.group(2))))
    m = _AGE_OPEN.match(k) or re.fullmatch(r"y? ?ge ?(\d{1,3})", k)
    if m:
        return _age_by_bounds().get((int(m.group(1)), None))
    m = _AGE_UNDER.match(k)
    if m and int(m.group(1)) > 0:
        return _age_by_bounds().get((0, int(m.group(1)) - 1))
    return None


def recode(column: str, values: pd.Series, explicit: dict[str, str] | None = None,
           header: str | None = None, default: str | None = None) -> pd.Series:
    """Map source values of ``column`` to canonical codes; unmapped values are kept as written
    (validation reports them as unknown codes). With ``default``, blank results become it."""
    codes_, labels = recode_codes(column, values, explicit, header, default)
    return _take(labels, codes_, values.index)


def recode_codes(column: str, values: pd.Series, explicit: dict[str, str] | None = None,
                 header: str | None = None, default: str | None = None,
                 factorized: tuple[np.ndarray, list] | None = None) -> tuple[np.ndarray, list[str]]:
    """:func:`recode` as (code of each row, distinct canonical labels, sorted, each taken by some row):
    each distinct source value is looked up once; the caller builds the text column (or groups by
    the codes) without a Python object per row. ``factorized``: :func:`factorize_text` of ``values``
    when the caller has it."""
    codes_, uniques = factorized if factorized is not None else factorize_text(values)
    uniques = [str(u).strip() for u in uniques]
    mapping: dict[str, str] = {}
    numeric = recode_for(header, column) if header else {}
    lookup = _value_lookup(column) if column in (*CODE_COLUMNS, "measure") else {}
    for u in [*uniques, ""]:
        if u in mapping:
            continue
        if explicit and u in explicit:
            mapping[u] = explicit[u]
            continue
        bare = u[:-2] if u.endswith(".0") and u[:-2].isdigit() else u
        if bare in numeric:
            mapping[u] = numeric[bare]
        elif column == "age":
            mapping[u] = (age_code(u) or u) if u else codes.TOTAL
        elif column in ("ref_area", "counterpart_area"):
            mapping[u] = (codes.resolve_area(u) or u) if u else codes.TOTAL
        elif column == "time_period":
            mapping[u] = _period(bare)
        elif lookup:
            mapping[u] = lookup.get(key(u), u) if u else ""
        else:
            mapping[u] = u
    mapped = [mapping[u] for u in uniques] + [mapping.get("", codes.TOTAL if column in (
        "age", "ref_area", "counterpart_area") else "")]
    if default is not None:
        mapped = [m if m is not None and str(m).strip() != "" else default for m in mapped]
    # one label per canonical code: source values that map to the same code share it
    labels, remap = np.unique(np.asarray([str(m) for m in mapped], dtype=object), return_inverse=True)
    remap = remap.astype(np.int32).reshape(-1)
    # only labels some cell takes (the blank's only when a cell is blank), in their sorted order
    used = np.zeros(len(labels), dtype=bool)
    used[remap[:-1] if not (len(codes_) and codes_.min() < 0) else remap] = True
    if not used.all():
        renumber = np.cumsum(used, dtype=np.int32) - 1
        labels, remap = labels[used], renumber[remap]
    return remap[codes_], [str(x) for x in labels]   # codes -1 (blank) take the last: the blank's code


def factorize_text(values: pd.Series) -> tuple[np.ndarray, list]:
    """(int32 code of each cell, distinct values); -1 for a missing cell. Arrow text columns are
    dictionary-encoded in Arrow (no Python object per cell)."""
    from mmicd.io.read import arrow_pool, arrow_text

    arrow = arrow_text(values)
    if arrow is None:
        text = values if isinstance(values.dtype, pd.StringDtype | pd.ArrowDtype) else values.astype("string")
        codes_, uniques = pd.factorize(text, use_na_sentinel=True)
        return codes_.astype(np.int32), list(uniques)
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(arrow, memory_pool=arrow_pool())   # one dictionary for all chunks
    chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    if not chunks:
        return np.zeros(0, np.int32), []
    indices = [c.indices if c.null_count == 0 else pc.fill_null(c.indices, -1) for c in chunks]
    codes_ = np.concatenate([np.asarray(i.to_numpy(zero_copy_only=False), dtype=np.int32) for i in indices])
    return codes_, chunks[-1].dictionary.to_pylist()


def as_written(values: pd.Series, factorized: tuple[np.ndarray, list]) -> pd.Series:
    """The cells of ``values`` as written, kept as codes into their distinct texts (a categorical
    column: 4 bytes a cell) once the text column itself is dropped; ``values`` itself when it has
    missing cells or is no Arrow text (those are told as they are)."""
    from mmicd.io.read import arrow_text

    codes_, uniques = factorized
    if arrow_text(values) is None or (len(codes_) and codes_.min() < 0):
        return values
    return pd.Series(pd.Categorical.from_codes(codes_, categories=pd.Index(uniques, dtype=object)),
                     index=values.index, name=values.name)


def _take(mapped: list[str], codes_: np.ndarray, index: pd.Index) -> pd.Series:
    """``mapped[codes_]`` as a text column, built in Arrow (no Python object per row); -1 -> last."""
    return take_labels(mapped, codes_, index)


def take_labels(mapped: list[str], codes_: np.ndarray, index: pd.Index) -> pd.Series:
    """``mapped[codes_]`` as a ``string`` column, built in Arrow (no Python object per row); -1 -> last."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from mmicd.io.read import arrow_pool

    if len(mapped) == 1:   # one label (every code 0 or -1): repeated, no gather
        taken = pa.repeat(pa.scalar(mapped[0], pa.large_string()), len(codes_), memory_pool=arrow_pool())
        return pd.Series(pd.array(taken, dtype="string"), index=index)
    positions = np.where(codes_ < 0, len(mapped) - 1, codes_) if len(codes_) and codes_.min() < 0 else codes_
    taken = pc.take(pa.array(mapped, type=pa.large_string()), pa.array(positions), memory_pool=arrow_pool())
    return pd.Series(pd.array(taken, dtype="string"), index=index)


def _period(text: str) -> str:
    """2020, 2020-Q3, 2020-07 from '2020', '2020.0', '2020Q3', '2020 [YR2020]', '2020_3Q'."""
    t = text.strip()
    m = re.fullmatch(r"(\d{4})(?:\.0)?(?:\s*\[YR\d{4}\])?", t)
    if m:
        return m.group(1)
    m = re.fullmatch(r"(\d{4})\s*[-_ ]?\s*[Qq]([1-4])", t) or re.fullmatch(r"(\d{4})[-_ ]([1-4])[Qq]", t)
    if m:
        return f"{m.group(1)}-Q{m.group(2)}"
    m = re.fullmatch(r"(\d{4})[-/.M](\d{1,2})", t)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    return t
