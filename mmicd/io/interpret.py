"""What a table says: its labels read into dimensions, one observation per value cell.

Given a :class:`~mmicd.io.tables.Table`, every value column gets the facts of its column path
(group labels above, its own label below), every row the facts of its label columns (an area with
its name and code, a year, a sex, a series code, a row label with its hierarchy by indentation),
and the table the facts of its titles, unit line and sheet name. Each observation takes, for each
dimension, the most specific source: its column, then its row, then the table, then the upload.
Whatever cannot be decided is a problem naming the cell or column, never a guess: a column whose
words are not understood is not read (and the report says so), two areas without a role are an
error, a percentage is never read as a count.

The result is a :class:`~mmicd.io.layouts.Raw` in canonical codes whose values are still the
cells as written (``value``), with ``_row`` (1-based sheet row), ``_cno`` (0-based column) and
``_col`` (the column's labels and letter) for every value, so that numbers are parsed, and problems
reported, at their cells.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np
import pandas as pd
import yaml

from mmicd import DATA_DIR, codes
from mmicd.io import labels as L
from mmicd.io.read import column_letter
from mmicd.io.tables import BLANK, MARK, NUM, TEXT, YEAR, Sheet, Table

PUBLISHERS = DATA_DIR / "vocabulary" / "publishers.yml"
ORIGIN_ROLES = {"origin"}
AREA_DIMS = ("ref_area", "counterpart_area")
MAX_VALUES_TO_CLASSIFY = 400
MAX_CELL_ISSUES = 50     # cell-level problems of one kind per table; then a count


# ---- publishers -----------------------------------------------------------------------------------------
@cache
def publishers() -> list[dict]:
    with open(PUBLISHERS, encoding="utf-8") as fh:
        return yaml.safe_load(fh)["publishers"]


def publisher_of(texts: list[str]) -> dict | None:
    """The publisher whose words occur in the texts of a file (titles, notes, preamble): the one
    named in the earliest line, the longest phrase of that line first ("KNOMAD ... staff estimates
    based on UNHCR, OECD ..." is KNOMAD's file, not UNHCR's)."""
    best: tuple[int, int, int] | None = None
    found = None
    for n, text in enumerate(t for t in texts if t):
        line = f" {L.key(text)} "
        for order, entry in enumerate(publishers()):
            for phrase in entry["phrases"]:
                k = f" {L.key(phrase)} "
                if k in line:
                    rank = (n, -len(k), line.index(k), order)
                    if best is None or rank < best:
                        best, found = rank, entry
        if found is not None:
            return found
    return None


EDITION_PATTERNS = [
    re.compile(r"\b(?:the\s+)?((?:19|20)\d{2})\s+revision\b", re.I),
    re.compile(r"\brev\.?\s*((?:19|20)\d{2})\b", re.I),
    re.compile(r"\(([^()]*\b(?:19|20)\d{2})\s+version\)", re.I),
    re.compile(r"\b(?:last updated(?: date)?|date extracted|updated|date)\s*:?\s*([0-9][0-9/.\-]+[0-9]|[A-Za-z]+\.?\s+(?:19|20)\d{2})", re.I),
    re.compile(r"\b(?:outlook|trends|yearbook)\s+((?:19|20)\d{2})\b", re.I),
    re.compile(r"\b(?:international migrant stock)\s+((?:19|20)\d{2})\b", re.I),
]


def edition_of(texts: list[str]) -> str:
    """The edition a file names (``2015 Revision``, ``December 2022 Version``, ``Last Updated Date
    2023-10-26``), as written; '' when it names none."""
    for pattern in EDITION_PATTERNS:
        for text in texts:
            m = pattern.search(text or "")
            if m:
                return m.group(1).strip()
    return ""


# ---- context of a reading -----------------------------------------------------------------------------
@dataclass
class ReadContext:
    file: str
    sheet: str | None
    country: str | None = None                  # the upload's country (reporting area)
    publisher: dict | None = None
    explicit: dict[str, dict[str, str]] = field(default_factory=dict)   # mapping editor recodes
    kind: str | None = None
    formula_cells: frozenset[tuple[int, int]] = frozenset()   # (1-based row, 0-based column) without a saved value
    problems: list[tuple[str, str, dict]] = field(default_factory=list)

    def add(self, level: str, key: str, **fields) -> None:
        self.problems.append((level, key, fields))


@dataclass
class Column:
    index: int
    path: list[str]
    facts: L.Facts
    role: str = ""               # stub: area, time, sex, age, migrant_status, labour_status, measure_code,
                                 # measure_name, breakdown, coverage, label, ignore, value; "value" for values
    geo: str | None = None       # destination | origin (area columns)
    code_like: bool = False
    breakdown_type: str | None = None
    generic: bool = False            # headed by a plain word for values ("value", "count", "valeur")
    value_type: str | None = None    # the breakdown type whose codes the column's values all are
    skip: str | None = None      # why a value column is not read

    plain: bool = False          # its one header cell names it alone (a table with one header row)

    @property
    def label(self) -> str:
        text = " / ".join(dict.fromkeys(p for p in self.path if p))
        if self.plain and text:
            return text
        return f"{text} [{column_letter(self.index)}]" if text else f"[{column_letter(self.index)}]"


def _path(sheet: Sheet, table: Table, c: int) -> list[str]:
    """The labels above column ``c``: its own header cells, and group labels to its left in the
    header rows that span it (merged, or written once over the following empty cells)."""
    out = []
    first_value = min(table.value_cols) if table.value_cols else sheet.width
    for r in table.header:
        text = sheet.text(r, c)
        if text:
            out.append(text)
            continue
        raw = sheet.raw(r, c)
        if isinstance(raw, str) and raw != "":
            continue  # an explicitly blank cell (" ") stops a group label
        if c < first_value or c not in table.value_cols:
            continue
        for k in range(c - 1, first_value - 1, -1):
            if sheet.text(r, k):
                span = sheet.merged_span.get((r, k))
                if span is None or k + span[1] > c:    # a merged label covers its range only
                    out.append(sheet.text(r, k))
                break
            raw_k = sheet.raw(r, k)
            if isinstance(raw_k, str) and raw_k != "":
                break
    return out


def names_a_column(text: str) -> bool:
    """A label that names a column of a table ("Country or territory", "Year"), not a category."""
    f = L.read_label(text)
    return bool(f.column or f.roles or f.breakdown_type) and not f.area and not f.dims and f.understood


def _facts(path: list[str]) -> L.Facts:
    return L.merge([L.read_label(p) for p in path]) if path else L.Facts()


# ---- table-level facts --------------------------------------------------------------------------------
@dataclass
class TableFacts:
    measure: dict[str, str] = field(default_factory=dict)
    unit: str | None = None
    mult: int | None = None
    period: str | None = None
    area: str | None = None
    poe: str | None = None
    flow: bool = False
    basis: str | None = None
    status: str | None = None     # E (the title says estimates) or P (provisional)
    dims: dict[str, str] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)
    notes_conflict: str = ""      # notes below the table naming different multipliers


def table_facts(table: Table, ctx: ReadContext, extra_titles: list[str] = ()) -> TableFacts:
    titles = [*extra_titles, *table.title_texts()]
    out = TableFacts(titles=titles)
    measures, periods, areas, captions = [], [], [], []
    for line in titles:
        if BOILERPLATE.search(line):
            continue   # a citation or copyright line names the edition, not the data
        f = L.read_label(line, whole=False)
        edition_years = {y for pattern in EDITION_PATTERNS for m in pattern.finditer(line)
                         for y in re.findall(r"(?:19|20)\d{2}", m.group(0))}
        if edition_years and f.years and set(f.years) <= edition_years:
            f = replace(f, years=())   # "International Migrant Stock 2020": the edition's year
        if f.point_of_entry:
            out.poe = _slug(re.sub(r"[,;]?\s*\b(?:19|20)\d{2}\b.*$", "", line))
            continue
        out.flow = out.flow or f.flow or bool(set(L.words(line)) & flow_words())
        if f.status and out.status != "E":
            out.status = f.status
        if "measure" in f.dims and "derived" not in f.conflicts and "measure" not in f.conflicts:
            found = {k: v for k, v in f.dims.items() if k in ("measure", "migrant_status")}
            measures.append(found)
            if CAPTION.match(line):
                captions.append(found)
            out.basis = out.basis or f.basis
        if f.mult and not out.mult:
            out.mult = f.mult
        if f.unit and not out.unit:
            out.unit = f.unit
        if not f.range_years and not f.start_of_year:
            periods += [f.period] if f.period else []
        if f.area and not f.point_of_entry:
            areas.append(f.area)
        for dim in ("sex",):
            if dim in f.dims and dim not in f.conflicts:
                out.dims.setdefault(dim, f.dims[dim])
    distinct = [dict(t) for t in {tuple(sorted(m.items())) for m in measures}]
    if captions:
        distinct = [captions[0]]      # the table's own caption ("Table 2 - Total population ...") wins
    if len(distinct) == 1:
        out.measure = distinct[0]
    elif len(distinct) > 1:
        # the most specific one when the others are its parts ("International migrant stock" + "by sex")
        full = [m for m in distinct if all(set(o.items()) <= set(m.items()) for o in distinct)]
        out.measure = full[0] if len(full) == 1 else {}
    if len(set(periods)) == 1:
        out.period = periods[0]
    if len(set(areas)) == 1 and codes.is_country(areas[0]):
        out.area = areas[0]
    if not out.mult:
        _mult_from_notes(table, ctx, out)
    sheet_facts = L.read_label(ctx.sheet or "")
    if not out.period and sheet_facts.period and not sheet_facts.residual:
        out.period = sheet_facts.period
    return out


def unit_statement(line: str) -> tuple[int | None, bool]:
    """The multiplier a line names, and whether the line says nothing else ("Note: figures are in
    thousands." -> (3, True); a sentence that mentions millions -> (6, False); none -> (None, False))."""
    f = L.read_label(line, whole=False)
    names_more = f.years or f.area or f.roles or any(not d.startswith("breakdown:") for d in f.dims)
    return f.mult, bool(f.mult) and not names_more and set(f.residual) <= set(L.vocabulary()["unit_note_words"])


def _mult_from_notes(table: Table, ctx: ReadContext, out: TableFacts) -> None:
    """A multiplier only a note below the table gives ("Note: figures are in thousands."): taken,
    and said; notes naming different multipliers: the table is not read (which one applies?)."""
    found, mentioned = {}, []
    for line in table.note_texts():
        mult, only = unit_statement(line)
        if only:
            found.setdefault(mult, line)
        elif mult:
            mentioned.append(line)
    if len(found) == 1:
        (out.mult, line), = found.items()
        ctx.add("info", "unit_from_note", value=line[:160])
    elif len(found) > 1:
        out.notes_conflict = "; ".join(v[:80] for v in found.values())
    elif mentioned:
        ctx.add("warning", "unit_in_note", value=mentioned[0][:160])


CAPTION = re.compile(r"^\s*(table|tableau|cuadro|tabla|quadro|tabela)\s*[A-Z]?[\d.]+\b", re.I)
BOILERPLATE = re.compile(r"citation|copyright|\u00a9|all rights reserved|^source|^sources|licen[cs]e|disclaimer|"
                         r"^population division$|^department of economic and social affairs$|^united nations$|"
                         r"/rev\.|\brev\.\s*\d{4}|last updated|date extracted|^note", re.I)


@cache
def flow_words() -> frozenset[str]:
    """Single words that say a table holds flows, even inside a measure's name ("Emigration flows")."""
    return frozenset(w for p in L.vocabulary()["context"]["flow"] for w in L.words(p) if len(L.words(p)) == 1)


def _slug(text: str) -> str:
    return "_".join(L.words(text)).upper()[:60]


# ---- columns ------------------------------------------------------------------------------------------
def _values(sheet: Sheet, table: Table, c: int) -> list[str]:
    return [sheet.text(r, c) for r in table.body if sheet.kinds[r][c] != BLANK] if c < sheet.width else []


def _classify_values(values: list[str]) -> tuple[str | None, float]:
    """The dimension most values of a label column hold, and the share of values that hold it."""
    distinct = list(dict.fromkeys(v for v in values if v))[:MAX_VALUES_TO_CLASSIFY]
    if not distinct:
        return None, 0.0
    hits: Counter[str] = Counter()
    for v in distinct:
        f = L.read_label(v)
        if f.area:
            hits["area"] += 1
        if f.period or (f.years and not f.residual):
            hits["time"] += 1
        for dim in ("sex", "age", "migrant_status", "labour_status"):
            if dim in f.dims:
                hits[dim] += 1
        if "measure" in f.dims or f.alternatives:
            hits["measure_name"] += 1
        if any(k.startswith("breakdown:") for k in f.dims):
            hits["breakdown"] += 1
        if f.total or f.other or f.unknown:
            for k in list(hits):
                hits[k] += 0
    if not hits:
        return None, 0.0
    dim, n = hits.most_common(1)[0]
    special = sum(1 for v in distinct if (lambda f: f.total or f.other or f.unknown)(L.read_label(v)))
    return dim, n / max(len(distinct) - special, 1)


def _codes_type(values: list[str]) -> str | None:
    """The one breakdown type whose closed code list holds every value of a column (UNHCR's
    ``G``/``U``/``J`` are authorities whatever the header calls them)."""
    distinct = {v.strip().upper() for v in values if v.strip()}
    if not distinct:
        return None
    fits = [t for t, allowed in codes.breakdown_types().items() if allowed and distinct <= allowed]
    return fits[0] if len(fits) == 1 else None


CODE_VALUE = re.compile(r"^[A-Za-z]{2,3}$|^\d{1,4}$")


def columns(table: Table, ctx: ReadContext, tf: TableFacts) -> list[Column]:
    out = _columns(table, ctx, tf)
    if len(table.header) == 1:
        # one header row whose names are unique: a column is named by its header alone
        names = Counter(c.path[-1] for c in out if c.path)
        for c in out:
            c.plain = len(c.path) == 1 and names[c.path[0]] == 1
    if any(c.role == "measure_code" for c in out):
        for c in out:
            if c.role == "measure_name":
                c.role = "ignore"     # "Series Name" beside "Series Code": the code says it
    # a code column beside a name column of the same areas is one area: the role one of them names
    # is both's ("Country code" beside "Major area, region, country or area of destination")
    areas = [c for c in out if c.role == "area"]
    coded, named = [c for c in areas if c.code_like], [c for c in areas if not c.code_like]
    if len(coded) == 1 and len(named) == 1 and (coded[0].geo is None) != (named[0].geo is None) \
            and _same_areas(table, coded[0].index, named[0].index):
        coded[0].geo = named[0].geo = coded[0].geo or named[0].geo
    return out


def _same_areas(table: Table, a: int, b: int, sample: int = 60) -> bool:
    """Do two columns name the same area on (nearly) every row where both name one?"""
    both = same = 0
    for r in table.body[:sample]:
        x, y = codes.resolve_area(table.sheet.text(r, a)), codes.resolve_area(table.sheet.text(r, b))
        if x and y:
            both += 1
            same += x == y
    return both > 0 and same >= 0.9 * both


def _columns(table: Table, ctx: ReadContext, tf: TableFacts) -> list[Column]:
    sheet = table.sheet
    out = []
    cols = sorted(set(table.stub_cols) | set(table.value_cols))
    paths = {c: _path(sheet, table, c) for c in cols}
    owns = {c: _facts(paths[c]) for c in cols}
    # a header that can only be a flow ("Emigrants": never a stock here) makes the table one of flows,
    # so "Immigrants" beside it are arrivals, not a stock -- said, since no title says so
    only_flow = next((c for c in cols if owns[c].alternatives and not owns[c].flow
                      and all(a["_when"] == "flow" for a in owns[c].alternatives)), None)
    flow = tf.flow
    if not flow and only_flow is not None and any(
            owns[c].alternatives and any(a["_when"] == "stock" for a in owns[c].alternatives) for c in cols):
        flow = True
        ctx.add("warning", "flows_from_header", row=table.header[-1] + 1 if table.header else None,
                column=column_letter(only_flow), value=paths[only_flow][-1])
    for c in cols:
        path = paths[c]
        own = owns[c]
        facts = L.with_context(own, flow=flow or own.flow)   # "Emigrants (outflows)": its own words say
        col = Column(c, path, facts)
        values = _values(sheet, table, c)
        numeric = sum(1 for r in table.body if sheet.kinds[r][c] in (NUM, MARK, YEAR))
        text = sum(1 for r in table.body if sheet.kinds[r][c] == TEXT)
        synonym = _column_synonym(path[-1] if path else "")
        # a column of numbers is a value column unless its own label names a column of the table
        # (a year, a code, a sort order); a group label above ("Country of origin") does not count
        own = L.read_label(path[-1]) if path else L.Facts()
        category = bool(own.dims or own.years or own.area or own.month or own.total or own.unknown)
        if category:
            synonym = None      # "Male" over numbers is a sex, not the GLD column named "male"
        numbers = c in table.value_cols and text <= numeric and synonym in (None, "value")
        # a column of numbers named as a ratio, a rate or a share ("Sex ratio (males per 100
        # females)") holds values, never labels: read as a value column, and refused there
        if synonym == "value" or (numbers and (not (own.column or own.roles) or own.derived)):
            col.role = "value"
            col.generic = synonym == "value" and not own.dims
        else:
            col.role = _stub_role(col, values, numeric, text, synonym, filled=len(values) / max(1, len(table.body)))
        out.append(col)
    return out


@cache
def _column_synonym(header: str) -> str | None:
    from mmicd.clean.mapping import suggest_columns

    found = suggest_columns([header]) if header else {}
    return next(iter(found), None)


def _stub_role(col: Column, values: list[str], numeric: int, text: int, synonym: str | None,
               filled: float = 1.0) -> str:
    f = col.facts
    by_values, share = _classify_values(values)
    if filled < 0.5:
        by_values = None   # letters in a few rows ("f" of a Notes column) are footnotes, not sexes
    col.code_like = bool(values) and sum(1 for v in values if CODE_VALUE.match(v)) >= 0.9 * len(values)
    if f.breakdown_type:
        col.breakdown_type = f.breakdown_type
        col.value_type = _codes_type(values)
        return "breakdown"
    if f.column in ("coverage", "subnational"):
        return f.column
    if f.column == "ignore" or (f.column is None and not f.roles and synonym is None and not by_values):
        if by_values in ("measure_name", "breakdown", "sex", "migrant_status") and share >= 0.9:
            return "breakdown" if by_values == "breakdown" else by_values
        return "ignore"
    if f.column in ("measure_code", "measure_name"):
        return f.column
    if f.column == "time_period" or synonym == "time_period":
        return "time"
    if f.column in ("sex", "age", "migrant_status", "unit") or synonym in ("sex", "age", "migrant_status",
                                                                          "labour_status"):
        return f.column or synonym
    if f.roles & {"destination", "origin", "across", "down", "reporting"} or synonym in ("ref_area", "counterpart_area"):
        # a generic word beside an origin word ("País de nacionalidad", "Country of nationality"):
        # the origin word is the specific one
        col.geo = "origin" if f.roles & ORIGIN_ROLES or synonym == "counterpart_area" else \
            ("destination" if f.roles & {"destination"} else None)   # None: the reporting area
        if f.roles >= {"across", "down"}:
            col.geo = None   # a matrix corner: decided with the value columns
            return "corner"
        return "area"
    if synonym == "measure":
        return "measure_name"
    if by_values == "area" and share >= 0.8:
        return "area"
    if by_values and share >= 0.9:
        return {"time": "time", "measure_name": "measure_name"}.get(by_values, by_values)
    if text and not numeric:
        return "label"
    return "ignore"


# ---- areas ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaRead:
    code: str | None = None      # our code, or None
    skip: str | None = None      # "aggregate": a publisher's region or group, not stored
    part: bool = False           # a part of the area (summed into it)
    total: bool = False


def read_area(text: str, ctx: ReadContext, system: str | None = None) -> AreaRead:
    """An area named by a cell: our code, or an aggregate to skip, or nothing."""
    raw = re.sub(r"^[-\u2013\u2014\u2022\u00b7*]+\s*", "", str(text).strip())   # "- Western Africa": a list marker
    if not raw:
        return AreaRead()
    for dim in AREA_DIMS:
        if raw in ctx.explicit.get(dim, {}):
            return AreaRead(code=ctx.explicit[dim][raw])
    return _read_area(raw, (ctx.publisher or {}).get("aggregates"), system)


@cache
def _read_area(raw: str, aggregates: str | None, system: str | None) -> AreaRead:
    bare = L.strip_footnote(raw)
    # UN DESA's regions and groups are the M49 aggregates of the code list; other publishers'
    # regions and groups are theirs (the World Bank's Sub-Saharan Africa is not the SDG region)
    if aggregates != "undesa":
        lookup = codes.aggregate_lookup(aggregates)
        for name in (raw, bare):
            k = codes.normalise_name(name)
            if k in lookup:
                return AreaRead(code=lookup[k]) if lookup[k] else AreaRead(skip="aggregate")
    if system:
        hit = codes.area_code_systems().get(system, {}).get(raw.upper())
        if hit:
            return AreaRead(code=hit)
    code = codes.resolve_area(raw) or codes.resolve_area(bare) or L._bracket_area(raw)
    if code is None:
        if aggregates == "undesa" and codes.normalise_name(bare) in codes.aggregate_lookup("undesa"):
            return AreaRead(skip="aggregate")
        facts = L.read_label(raw)
        if facts.other:
            return AreaRead(code="OOO", part=True)
        if facts.total and (facts.area or facts.residual):
            return AreaRead(skip="aggregate")    # "Total Africa": the total of a region of the source
        if facts.total:
            return AreaRead(total=True)
        return AreaRead()
    part = code == "OOO" or codes.normalise_name(raw) in codes.part_aliases() or \
        codes.normalise_name(bare) in codes.part_aliases()
    kind = codes.area_kind(code)
    if kind not in ("country", "other", "world") and aggregates != "undesa":
        return AreaRead(skip="aggregate")   # a region named by a publisher whose regions are not UN M49's
    return AreaRead(code=code, part=part)


def code_system(values: list[str], names: list[str] | None, ctx: ReadContext, header: str) -> str | None:
    """Which code system a column of area codes uses: ISO/M49 (None) or the publisher's own
    (UNHCR's ``ALG``, ``GFR``): the one under which the codes agree with the names beside them,
    else the one under which they all resolve; ISO when the header says so."""
    system = (ctx.publisher or {}).get("area_codes")
    if not system or "iso" in L.words(header):
        return None
    own = codes.area_code_systems().get(system, {})
    if names:
        iso_ok = sum(1 for v, n in zip(values, names, strict=False) if codes.resolve_area(v) == codes.resolve_area(n))
        own_ok = sum(1 for v, n in zip(values, names, strict=False) if own.get(v.upper()) == codes.resolve_area(n))
        return system if own_ok > iso_ok else None
    iso_ok = sum(1 for v in values if codes.resolve_area(v))
    own_ok = sum(1 for v in values if v.upper() in own)
    return system if own_ok > iso_ok else None


# ---- value columns ------------------------------------------------------------------------------------
CELL_DIMS = ("measure", "sex", "age", "migrant_status", "labour_status")


@dataclass
class ColRead:
    dims: dict[str, str] = field(default_factory=dict)
    period: str | None = None
    month: int | None = None       # a month without its year (the year comes from the table)
    period_total: bool = False     # "TOTAL" beside months: the year
    area: str | None = None
    area_role: str | None = None
    breakdown: dict[str, str] = field(default_factory=dict)
    unit: str | None = None
    mult: int | None = None
    estimate: bool = False
    unknown: bool = False
    total: bool = False
    part: bool = False
    status: str | None = None


def _share_measure(f: L.Facts) -> bool:
    """The label names a measure that is itself a percentage (share of GDP, % of population)."""
    return "measure" in f.dims and L.unit_of(f.dims["measure"]) == "PT"


def read_value_column(col: Column, ctx: ReadContext, corner_roles: dict[str, str]) -> ColRead | None:
    """What a value column fixes, or None (with ``col.skip`` saying why) when it is not read."""
    f = col.facts
    if col.generic:
        return ColRead()      # "value", "count": what they measure comes from the rows or the title
    if f.subset:
        col.skip = "subset"
        return None
    if "derived" in f.conflicts or (f.derived and not _share_measure(f)):
        col.skip = "derived"     # a rate, ratio or change: never stored as the table's count
        return None
    if f.conflicts or f.residual:
        col.skip = "words"
        return None
    if f.start_of_year or f.range_years:
        col.skip = "period"
        return None
    if f.alternatives:
        col.skip = "words"
        return None
    out = ColRead(unit=f.unit, mult=f.mult, estimate=f.estimate, unknown=f.unknown, total=f.total, status=f.status)
    for dim, code in f.dims.items():
        if dim.startswith("breakdown:"):
            out.breakdown[dim.split(":", 1)[1]] = code
        elif dim in CELL_DIMS:
            out.dims[dim] = code
    if f.years:
        if len(f.years) > 1:
            col.skip = "period"
            return None
        out.period = f.period
    elif f.month:
        out.month = f.month
    elif f.quarter:
        out.month = None
    if f.area:
        out.area = f.area
        out.part = f.area == "OOO" or codes.normalise_name(L.strip_footnote(f.area_text)) in codes.part_aliases()
        out.area_role = "origin" if f.roles & ORIGIN_ROLES and "destination" not in f.roles else (
            "destination" if "destination" in f.roles else corner_roles.get("across"))
    if f.born_in:
        out.area = f.born_in
        out.area_role = "born_in"
    if f.nationals_of:
        out.area = f.nationals_of
        out.area_role = "nationals_of"
    return out


# ---- rows ---------------------------------------------------------------------------------------------
@dataclass
class RowRead:
    dims: dict[str, str] = field(default_factory=dict)
    areas: list[tuple[str, str | None, bool]] = field(default_factory=list)   # (code, role, part)
    breakdown: dict[str, str] = field(default_factory=dict)
    period: str | None = None
    skip: str | None = None        # aggregate | series | label
    unknown_area: tuple[int, str] | None = None   # (column, text) of an area not recognised
    part: bool = False
    nationals_of: str | None = None
    born_in: str | None = None
    unknown: bool = False
    total_area: bool = False


def read_rows(table: Table, cols: list[Column], ctx: ReadContext, tf: TableFacts) -> list[RowRead]:
    sheet = table.sheet
    stubs = [c for c in cols if c.role not in ("value", "ignore")]
    by_role: dict[str, list[Column]] = {}
    for c in stubs:
        by_role.setdefault(c.role, []).append(c)
    # area columns: a name column and a code column of the same role are one area
    area_cols = by_role.get("area", []) + by_role.get("label", []) + by_role.get("corner", [])
    systems: dict[int, str | None] = {}
    for c in area_cols:
        if c.code_like:
            partner = next((o for o in area_cols if o is not c and not o.code_like and o.geo == c.geo), None)
            vals = [sheet.text(r, c.index) for r in table.body]
            names = [sheet.text(r, partner.index) for r in table.body] if partner else None
            systems[c.index] = code_system(vals, names, ctx, c.path[-1] if c.path else "")
    label_cols = [c for c in area_cols]
    hierarchy = {c.index: _has_indent(sheet, table, c.index) for c in label_cols}
    stacks: dict[int, list[tuple[int, L.Facts]]] = {c.index: [] for c in label_cols}
    rows = []
    for r in table.body:
        row = RowRead()
        # a row holding anything in a value column is a row of data (a text there is reported at
        # its cell, never dropped); a row of labels only heads the rows below it
        data = any(sheet.kinds[r][c.index] != BLANK or (r + 1, c.index) in ctx.formula_cells
                   for c in cols if c.role == "value")
        # areas and row labels
        seen: dict[str | None, str] = {}
        unknown: list[tuple[int, str | None, str]] = []
        for c in label_cols:
            text = sheet.text(r, c.index)
            if not text:
                continue
            facts = L.read_label(text)
            if facts.subset or SUBSET_ROW.match(text):
                row.skip = "subset"      # "- of which Kosovo": a part of the row above
                break
            if hierarchy[c.index]:
                stack = stacks[c.index]
                indent = sheet.indent(r, c.index)
                while stack and stack[-1][0] >= indent:
                    stack.pop()
                parent = L.merge([f for _, f in stack]) if stack else None
                stack.append((indent, facts))
                if parent is not None:
                    for dim, code in parent.dims.items():
                        if dim not in facts.dims and not dim.startswith("measure"):
                            row.dims.setdefault(dim.replace("breakdown:", "b:"), code)
            area = read_area(text, ctx, systems.get(c.index))
            if area.skip:
                row.skip = row.skip or "aggregate"
                continue
            if area.total:
                row.total_area = True
                continue
            if area.code:
                previous = seen.get(c.geo)
                if previous and previous != area.code:
                    row.skip = "conflict"
                    ctx.add("error", "area_name_code", row=r + 1, column=c.label, value=text, other=previous)
                    continue
                seen[c.geo] = area.code
                if (area.code, c.geo, area.part) not in row.areas:
                    row.areas.append((area.code, c.geo, area.part))
                row.part = row.part or area.part
                continue
            # not an area: a category of another dimension, or a word not understood
            understood = facts.understood and not facts.empty
            for dim, code in facts.dims.items():
                if dim.startswith("breakdown:"):
                    row.breakdown[dim.split(":", 1)[1]] = code
                elif dim in CELL_DIMS:
                    row.dims[dim] = code
            row.nationals_of = facts.nationals_of or row.nationals_of
            row.born_in = facts.born_in or row.born_in
            row.unknown = row.unknown or facts.unknown
            if facts.total:
                row.total_area = True
            says_nothing = c.role == "area" and not (facts.dims or facts.total or facts.nationals_of
                                                      or facts.born_in or facts.unknown or facts.breakdown_type)
            if (not understood or says_nothing) and hierarchy[c.index] and _heads_group(sheet, table, r, c.index):
                row.skip = "aggregate"   # a heading of the indented rows below it (a region of the source)
                continue
            if not understood or says_nothing:
                unknown.append((c.index, c.geo, text))
        # a name not recognised beside a code that is (or the reverse) names the area all the same
        for index, geo, text in unknown:
            if not any(g == geo for _, g, _ in row.areas) and row.unknown_area is None:
                row.unknown_area = (index, text)
        if row.unknown_area and not row.skip and not any(sheet.kinds[r][c.index] in (NUM, YEAR)
                                                         for c in cols if c.role == "value"):
            row.skip = "no figure"   # a heading of the source ("World Bank income groups" over '..')
        # the other stub columns
        for c in stubs:
            if c in label_cols:
                continue
            text = sheet.text(r, c.index)
            _stub_value(row, c, text, ctx, tf)
        if not data and not row.skip:
            row.skip = "label"
        rows.append(row)
    return rows


SUBSET_ROW = re.compile(r"^\s*[-\u2013\u2014]?\s*(of which|of whom|o/w|dont|de los cuales|de las cuales|"
                        r"dos quais|das quais)\b", re.I)


def _heads_group(sheet: Sheet, table: Table, r: int, c: int) -> bool:
    """The rows right below are more indented: this row heads them."""
    mine = sheet.indent(r, c)
    for k in table.body:
        if k <= r or not sheet.text(k, c):
            continue
        return sheet.indent(k, c) > mine
    return False


@cache
def _code_words(dim: str) -> dict[str, str]:
    from mmicd.clean.mapping import value_words

    return {L.key(w): code for w, code in value_words(dim).items()} if dim != "age" else {}


def _has_indent(sheet: Sheet, table: Table, c: int) -> bool:
    indents = {sheet.indent(r, c) for r in table.body if sheet.text(r, c)}
    return len(indents) > 1


def _stub_value(row: RowRead, col: Column, text: str, ctx: ReadContext, tf: TableFacts) -> None:
    from mmicd.clean.mapping import measure_codes

    if col.role == "time":
        if not text:
            return
        f = L.read_label(text)
        period = f.period if f.period and not f.residual else None
        if period is None and f.range_years:
            row.skip = row.skip or "range"          # "1997-1998": a change between two years
            return
        if period is None:
            period = ctx.explicit.get("time_period", {}).get(text, text)   # reported by validation
        if row.period and row.period != period:
            row.skip = "conflict"
        row.period = period
        return
    if col.role in ("sex", "age", "migrant_status", "labour_status"):
        if not text:
            return
        explicit = ctx.explicit.get(col.role, {})
        if text in explicit:
            row.dims[col.role] = explicit[text]
            return
        from mmicd.clean.mapping import recode_for

        numeric = recode_for(col.path[-1] if col.path else "", col.role)
        if text in numeric:
            row.dims[col.role] = numeric[text]
            return
        exact = _code_words(col.role).get(L.key(text))
        if exact is not None:
            row.dims[col.role] = exact     # a value of the column's own code list or its synonyms
            return
        f = L.read_label(text)
        if f.total:
            row.dims[col.role] = codes.TOTAL
        elif f.unknown:
            row.dims[col.role] = codes.UNKNOWN
        elif col.role in f.dims:
            row.dims[col.role] = f.dims[col.role]
        elif col.role == "migrant_status" and f.born_in:
            row.born_in = f.born_in
        else:
            row.dims[col.role] = text       # unknown code: reported by validation with its cell
        return
    if col.role == "coverage":
        f = L.read_label(text)
        if f.total:
            row.dims["migrant_status"] = codes.TOTAL
        elif "migrant_status" in f.dims:
            row.dims["migrant_status"] = f.dims["migrant_status"]
        elif text:
            row.dims["migrant_status"] = text
        return
    if col.role in ("measure_code", "measure_name") and text.strip() in codes.codes("measure"):
        row.dims["measure"] = text.strip()     # our own measure codes (the templates' long format)
        return
    if col.role == "measure_code":
        found = measure_codes().get(text) or measure_codes().get(text.strip().upper())
        if found is None:
            row.skip = row.skip or "series"
            row.dims["_series"] = text
            return
        for dim, code in found.items():
            if dim == "area":
                row.dims["_area_role"] = code
            else:
                row.dims[dim] = code
        return
    if col.role == "measure_name":
        if "measure" in row.dims or row.skip == "series":
            return
        f = L.read_label(text)
        f = L.with_context(f, flow=tf.flow or f.flow)
        if "measure" in f.dims and "derived" not in f.conflicts and not f.conflicts:
            for dim in ("measure", "migrant_status"):
                if dim in f.dims:
                    row.dims[dim] = f.dims[dim]
        elif text:
            row.skip = row.skip or "series"
            row.dims["_series"] = text
        return
    if col.role == "breakdown":
        if not text:
            return
        btype = col.breakdown_type
        f = L.read_label(text)
        found = next((code for dim, code in f.dims.items() if dim == f"breakdown:{btype}"), None) if btype else None
        if found is None and f.total and not f.dims and f.understood:
            found = codes.TOTAL     # "Total" in a breakdown column: the sum over its codes
        if found is None and btype:
            allowed = codes.breakdown_types().get(btype)
            upper = text.strip().upper()
            found = upper if allowed is None or upper in allowed else None
            if found is None and col.value_type and col.value_type != btype:
                btype, found = col.value_type, upper
        if found is None and not btype:
            # a column recognised from its values (criteria, residence ...)
            hit = next(((d.split(":", 1)[1], code) for d, code in f.dims.items() if d.startswith("breakdown:")), None)
            if hit:
                row.breakdown[hit[0]] = hit[1]
                return
        if found is None:
            row.breakdown[btype or "?"] = text.strip()     # unknown code: reported by validation
        elif found != codes.TOTAL:
            row.breakdown[btype] = found
        return
    if col.role == "unit":
        f = L.read_label(text)
        if f.mult:
            row.dims["_mult"] = str(f.mult)
        if f.unit:
            row.dims["_unit"] = f.unit
        return


# ---- observations ---------------------------------------------------------------------------------------
@cache
def _direction(measure: str) -> str:
    frame = codes.codelist("measure")
    return frame.at[measure, "direction"] if measure in frame.index and "direction" in frame.columns else ""


@cache
def _allowed_dims(measure: str) -> frozenset[str]:
    frame = codes.codelist("measure")
    if measure not in frame.index or "dims" not in frame.columns:
        return frozenset({"sex", "age", "migrant_status", "counterpart_area", "labour_status", "breakdown"})
    return frozenset(frame.at[measure, "dims"].split())


_DIM_OF_ROLE = {"time": "time_period", "sex": "sex", "age": "age", "migrant_status": "migrant_status",
                "labour_status": "labour_status", "coverage": "migrant_status", "measure_code": "measure",
                "measure_name": "measure", "breakdown": "breakdown"}


def source_headers(cols: list[Column], value_cols: list) -> dict[str, str]:
    """Canonical column -> the source header it was read from (for messages about its values and
    for the mapping editor): the label columns, the areas by role, the one value column."""
    out = {_DIM_OF_ROLE[c.role]: (c.path[-1] if c.path else c.label) for c in cols if c.role in _DIM_OF_ROLE}
    for c in cols:
        if c.role == "area" and c.path:
            out.setdefault("counterpart_area" if c.geo == "origin" else "ref_area", c.path[-1])
    if len(value_cols) == 1 and value_cols[0][0].path:
        out["value"] = value_cols[0][0].path[-1]
    return out


def _why(col: Column) -> str:
    if col.skip == "words" and col.facts.residual:
        return "words: " + " ".join(col.facts.residual[:4])
    return col.skip or "words"


def _corner_roles(cols: list[Column]) -> dict[str, str]:
    corner = next((c for c in cols if c.role == "corner"), None)
    if corner is None:
        return {}
    text = " ".join(corner.path)
    out = {}
    for axis in ("across", "down"):
        m = re.search(rf"([^()\-]+?)\(\s*{axis}\s*\)", text, re.I)
        if m:
            roles = L.read_label(m.group(1)).roles & {"destination", "origin"}
            if len(roles) == 1:
                out[axis] = next(iter(roles))
    return out


def _siblings(value_cols: list[tuple[Column, ColRead]]) -> None:
    """A "Total" or "Not stated" column among columns of one dimension takes that dimension's
    total or unknown; "TOTAL" beside months is the year."""
    for col, cr in value_cols:
        if not (cr.unknown or cr.total) or cr.dims.get("age") or cr.month or cr.period:
            continue
        group = col.path[:-1]
        near = [o for c, o in value_cols if c is not col and c.path[:-1] == group]
        varying = Counter(d for o in near for d in o.dims if d not in cr.dims)
        months = sum(1 for c, o in value_cols if o.month)     # "TOTAL | JAN. FEB. ...": the year
        if cr.total and months >= 2:
            cr.period_total = True
            continue
        if cr.unknown and varying:
            cr.dims[varying.most_common(1)[0][0]] = codes.UNKNOWN


def _table_columns(table: Table, ctx: ReadContext, extra_titles: list[str]) -> tuple[TableFacts, list[Column]] | None:
    """What the table's titles say and what each column is; None (said) when a column holds areas
    below the country, which are not stored yet: its figures would be taken as the whole country's."""
    tf = table_facts(table, ctx, extra_titles)
    cols = columns(table, ctx, tf)
    for col in cols:
        # the header of a label column may name what the table measures ("Migrant remittance
        # inflows (US$ million)" over a column of countries)
        f = col.facts
        if col.role not in ("value", "measure_name", "measure_code") and "measure" in f.dims and not f.conflicts:
            tf.measure = tf.measure or {k: v for k, v in f.dims.items() if k in ("measure", "migrant_status")}
            tf.unit = tf.unit or f.unit
            tf.mult = tf.mult or f.mult
    if not tf.measure and (ctx.publisher or {}).get("measure"):
        tf.measure = dict(ctx.publisher["measure"])
    if tf.notes_conflict:
        ctx.add("error", "unit_notes_conflict", row=table.body[0] + 1 if table.body else None, value=tf.notes_conflict)
        return None
    sheet = table.sheet
    for col in cols:
        if col.role != "subnational":
            continue
        first = next((r for r in table.body if sheet.text(r, col.index)), None)
        if first is not None:
            ctx.add("error", "subnational_areas", row=first + 1, column=col.label, value=sheet.text(first, col.index))
            return None
    return tf, cols


def read_table(table: Table, ctx: ReadContext, extra_titles: list[str] = ()) -> pd.DataFrame | None:
    """The observations of one table (codes; values as written) or None when nothing is read."""
    sheet = table.sheet
    found = _table_columns(table, ctx, extra_titles)
    if found is None:
        return None
    tf, cols = found
    corner = _corner_roles(cols)
    value_cols: list[tuple[Column, ColRead]] = []
    not_read: list[Column] = []
    labelled = [c for c in cols if c.role == "value" and any(c.path)]
    for col in cols:
        if col.role != "value":
            continue
        if not any(col.path) and labelled:
            # a column of numbers without any label beside labelled ones (a sort order, a rank):
            # nothing says what it holds
            col.skip = "no label"
            not_read.append(col)
            continue
        cr = read_value_column(col, ctx, corner)
        if cr is None:
            if any(sheet.kinds[r][col.index] in (NUM, MARK) for r in table.body):
                not_read.append(col)
            continue
        value_cols.append((col, cr))
    if not_read:
        ctx.add("info", "columns_not_read", n=len(not_read), column=not_read[0].label,
                value="; ".join(c.label for c in not_read[:8]) + (" …" if len(not_read) > 8 else ""),
                why=", ".join(sorted({_why(c) for c in not_read})))
    if not value_cols:
        return None
    _siblings(value_cols)
    rows = read_rows(table, cols, ctx, tf)
    persons_table = _persons_table(cols)
    down_role = corner.get("down")
    # months beside a year total: months never published (0 in every row, after the last published
    # month) are missing, and the year total then covers part of the year only
    unpublished = _unpublished_months(table, value_cols)
    reporting = tf.area or ctx.country
    if reporting is None:
        nationals = {r.nationals_of for r in rows if r.nationals_of}
        if len(nationals) == 1:
            reporting = nationals.pop()
            ctx.add("info", "reporting_from_nationals", area=reporting)
    records = []
    skipped: Counter[str] = Counter()
    series: Counter[str] = Counter()
    unknown_areas: dict[tuple[int, str], int] = {}
    world_default = False
    ranges = 0
    conflicts = 0
    title_year = 0
    merged_values: list[tuple[int, Column]] = []
    gaps: dict[str, tuple[int, str]] = {}
    no_figure = [row.unknown_area[1] for row in rows if row.skip == "no figure"]
    if no_figure:
        ctx.add("info", "rows_without_figures", n=len(no_figure),
                value=", ".join(no_figure[:12]) + (" …" if len(no_figure) > 12 else ""))
    for r, row in zip(table.body, rows, strict=True):
        if row.skip in ("aggregate", "label", "conflict", "subset", "no figure"):
            if row.skip == "aggregate":
                skipped[sheet.text(r, next((c.index for c in cols if c.role in ("area", "label", "corner")), 0))
                        .strip()] += 1
            continue
        if row.skip == "series":
            series[row.dims.get("_series", "")] += 1
            continue
        if row.skip == "range":
            ranges += 1
            continue
        if row.unknown_area:
            unknown_areas[(r, row.unknown_area[1])] = row.unknown_area[0]
            continue
        for col, cr in value_cols:
            cell = sheet.raw(r, col.index)
            k = sheet.kinds[r][col.index]
            if k == BLANK and (r + 1, col.index) not in ctx.formula_cells:
                continue    # an empty cell is no observation (a formula never computed is one, reported)
            if not sheet.own(r, col.index):
                merged_values.append((r, col))   # a number spread over merged cells is never copied
                continue
            if cr.month in unpublished and cr.month:
                continue
            if cr.period_total and unpublished:
                continue
            dims: dict[str, str] = {}
            conflict = None
            measure = _measure(cr.dims.get("measure"), row.dims.get("measure"), tf.measure.get("measure"))
            from_table = measure is not None and measure == tf.measure.get("measure") and \
                measure not in (cr.dims.get("measure"), row.dims.get("measure"))
            if measure:
                dims["measure"] = measure
            allowed = _allowed_dims(measure) if measure else None
            for dim in CELL_DIMS[1:]:
                c_val, r_val = cr.dims.get(dim), row.dims.get(dim)
                if c_val and r_val and c_val != r_val:
                    conflict = (dim, c_val, r_val)
                chosen = c_val or r_val
                if not chosen:
                    # from the title: only the dimensions the measure has ("Remittance estimates using
                    # migrant stocks" does not make remittances a figure of migrants)
                    chosen = (tf.measure.get(dim) if from_table else None) or tf.dims.get(dim)
                    if allowed is not None and dim not in allowed:
                        chosen = None
                elif allowed is not None and dim not in allowed and chosen != codes.TOTAL:
                    conflict = (dim, chosen, codes.TOTAL)
                if chosen:
                    dims[dim] = chosen
            if conflict:
                conflicts += 1
                if conflicts <= MAX_CELL_ISSUES:
                    ctx.add("error", "cell_conflict", row=r + 1, column=col.label, dimension=conflict[0],
                            value=conflict[1], other=conflict[2])
                continue
            measure = dims.get("measure")
            if measure is None and (ctx.kind in ("census", "migrant_stock", "population") or
                                    (col.generic and persons_table)):
                measure = dims["measure"] = "POP"
            # period
            period = cr.period or row.period
            if cr.month:
                year = row.period or tf.period
                period = f"{year}-{cr.month:02d}" if year and len(year) == 4 else None
            elif cr.period_total:
                period = row.period or tf.period
            if not period and tf.period:
                period = tf.period
                title_year += 1
            # areas
            cands: list[tuple[str, str | None]] = []
            if cr.area and cr.area_role not in ("born_in", "nationals_of"):
                cands.append((cr.area, cr.area_role))
            for code, role_col, _part in row.areas:
                cands.append((code, role_col if role_col is not None else down_role))
            ref, cp, problem = _areas(cands, measure, reporting, ctx)
            if ref is None and row.total_area and not problem:
                skipped[sheet.text(r, next((c.index for c in cols if c.role in ("area", "label", "corner")), 0))
                        .strip()] += 1
                continue    # a "Total" row of the areas listed, with no area of its own
            if problem == "world":
                world_default = True
            elif problem:
                ctx.add("error", "areas_without_role", row=r + 1, column=col.label,
                        value=", ".join(c for c, _ in cands))
                continue
            nat = cr.area if cr.area_role in ("born_in", "nationals_of") else (row.nationals_of or row.born_in)
            if nat:
                if ref is None:
                    ref = reporting
                if nat == ref:
                    dims["migrant_status"] = "MS_NOMIGRANT"
                else:
                    cp = cp or nat
                    dims["migrant_status"] = "MS_MIGRANT"
            if row.dims.get("_area_role") == "origin" and ref and not cp:
                ref, cp = "WLD", ref
            breakdown = {**{k.split(":", 1)[1]: v for k, v in row.dims.items() if k.startswith("b:")},
                         **row.breakdown, **cr.breakdown}
            if tf.poe:
                breakdown.setdefault("POE", tf.poe)
            unit_mult = cr.mult if cr.mult is not None else (int(row.dims["_mult"]) if "_mult" in row.dims
                                                              else (tf.mult or 0))
            unit = cr.unit or row.dims.get("_unit") or tf.unit
            missing = [dim for dim, found in (("measure", measure), ("time_period", period), ("ref_area", ref))
                       if not found]
            for dim in missing:
                gaps.setdefault(dim, (r + 1, col.label))
            if missing:
                continue     # said once for the table (below), not stored
            records.append({
                "_row": r + 1, "_cno": col.index, "_col": col.label, "_sheet": ctx.sheet or "",
                "measure": measure or "", "ref_area": ref or "", "time_period": period or "",
                "sex": dims.get("sex", codes.TOTAL), "age": dims.get("age", codes.TOTAL),
                "migrant_status": dims.get("migrant_status", codes.TOTAL),
                "counterpart_area": cp or codes.TOTAL, "labour_status": dims.get("labour_status", codes.TOTAL),
                "breakdown": codes.breakdown_code(breakdown), "value": cell, "unit_mult": unit_mult,
                "_unit": unit or "", "_status": "E" if cr.estimate or cr.status == "E" else (cr.status or tf.status or ""), "_part": bool(row.part or cr.part),
                "_basis": tf.basis or "",
            })
    _report_rows(ctx, skipped, series, unknown_areas, sheet, world_default,
                 {c.index: c.path[-1] for c in cols if c.path})
    if ranges:
        ctx.add("info", "period_ranges", n=ranges)
    _report_merges(ctx, table, cols, merged_values)
    if title_year:
        line = next((t for t in tf.titles if tf.period and tf.period[:4] in t), ctx.sheet or "")
        ctx.add("info", "year_from_title", year=tf.period, title=line[:120])
    if conflicts > MAX_CELL_ISSUES:
        ctx.add("error", "more", n=conflicts - MAX_CELL_ISSUES, check="cell_conflict", column="")
    for dim, (row_number, label) in gaps.items():
        # what the values measure, when, or where, named nowhere: the table is not read
        ctx.add("error", f"no_{dim}", row=row_number, column=label)
    if unpublished:
        ctx.add("warning", "months_unpublished", months=", ".join(str(m) for m in sorted(unpublished)),
                sheet=ctx.sheet or "")
    if not records:
        return None
    frame = pd.DataFrame.from_records(records)
    # in a plain table (one header row, one column per dimension) a row written twice is a
    # duplicate to report, even with the same value; in a table of groups it may be a total repeated
    frame["_tidy"] = tidy_ok(table, cols)
    # the source header of each dimension read from a column, for messages about its values
    frame.attrs["columns"] = source_headers(cols, value_cols)
    key = ["measure", "ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area",
           "labour_status", "breakdown"]
    dup = frame.duplicated(key, keep=False) & ~frame["_part"]
    if dup.any():
        # the same figure printed twice (a total repeated under two groupings) is not a difference
        texts = frame.loc[dup, "value"].map(str)
        differs = texts.groupby([frame.loc[dup, k] for k in key], sort=False).transform("nunique") > 1
        dup = dup & differs.reindex(frame.index, fill_value=False)
    if dup.any():
        # rows that differ only by something not read (a column left aside, a word not understood)
        first = frame[dup].iloc[0]
        unread = [c.label for c in cols if c.role == "ignore"] or [c.label for c in not_read]
        ctx.add("error", "rows_differ_unread", row=int(first["_row"]), column=str(first["_col"]),
                n=int(dup.sum()), value="; ".join(unread[:6]))
    return frame


def _persons_table(cols: list[Column]) -> bool:
    """A table whose values stand under a plain "value" header, with a column of sexes, age groups,
    migrant statuses or origins, counts persons (the long format of the templates, where the measure
    defaults to the population); the reader says so in a note (``measure_persons``)."""
    canonical = any(c.path and c.path[-1].strip() in ("ref_area", "time_period") for c in cols)  # our long format
    return canonical or any(c.role in ("sex", "age", "migrant_status") or (c.role == "area" and c.geo == "origin")
                            for c in cols)


def _measure(col: str | None, row: str | None, table: str | None) -> str | None:
    """Column, then row, then table; a population word ("Foreigners") yields to a measure that is
    not a population count ("Arrivals") named elsewhere, keeping its migrant status."""
    found = [m for m in (col, row, table) if m]
    if not found:
        return None
    strong = [m for m in found if m != "POP"]
    return strong[0] if strong else found[0]


def _areas(cands: list[tuple[str, str | None]], measure: str | None, reporting: str | None,
           ctx: ReadContext) -> tuple[str | None, str | None, str | None]:
    """(ref_area, counterpart_area, problem) from the areas of a cell and their roles."""
    direction = _direction(measure) if measure else ""
    ref = [c for c, role in cands if role and _is_ref(role, direction)]
    cp = [c for c, role in cands if role and not _is_ref(role, direction)]
    unknown = [c for c, role in cands if not role]
    if len(unknown) > 1 or len(ref) > 1 or len(cp) > 1:
        return None, None, "roles"
    r, c = _plain_reports(ref, cp, unknown)
    ref, cp = [x for x in (r,) if x is not None], [x for x in (c,) if x is not None]
    if not ref and cp:
        if reporting:
            ref = [reporting]
        elif not direction:
            ref, cp = cp, []     # a measure with no direction (GDP, net migration): the area reports it
        elif ctx.publisher is None:
            return None, None, None   # an origin (a destination of emigrants) is not who reports: no area
        else:
            return "WLD", cp[0], "world"
    if not ref and reporting:
        ref = [reporting]
    return (ref[0] if ref else None), (cp[0] if cp else None), None


def _plain_reports(ref: list, cp: list, unknown: list) -> tuple:
    """(reporting, partner) of at most one area of each kind: an area without a role (a plain Country
    column) reports, and a role column beside it (nationality, citizenship, origin) is then the partner,
    whatever the measure's direction; ``None`` where there is none. Used by the cell-wise and the
    column-wise readers alike (areas as codes or as columns of codes)."""
    if unknown and not cp:
        return unknown[0], (ref[0] if ref else None)
    if unknown and not ref:
        return unknown[0], cp[0]
    return (ref[0] if ref else None), (cp[0] if cp else None)


def _is_ref(role: str, direction: str) -> bool:
    if direction == "out":
        return role == "origin"
    return role != "origin"


def _report_merges(ctx: ReadContext, table: Table, cols: list[Column], merged_values: list) -> None:
    """Label cells merged down the rows are read as the label of each row (said once); numbers
    merged over several cells are refused at their cell."""
    sheet = table.sheet
    body = set(table.body)
    stubs = {c.index for c in cols if c.role not in ("value", "ignore")}
    filled = [(r0, c0) for (r0, c0), (nr, nc) in sheet.merged_span.items()
              if nr > 1 and c0 in stubs and (set(range(r0, r0 + nr)) & body)]
    if filled:
        r0, c0 = min(filled)
        ctx.add("info", "merged_labels", row=r0 + 1, column=column_letter(c0), n=len(filled),
                value=sheet.text(r0, c0))
    for r, col in merged_values[:MAX_CELL_ISSUES]:
        top = sheet.merged_into.get((r, col.index), (r, col.index))
        ctx.add("error", "merged_values", row=top[0] + 1, column=col.label, value=sheet.text(*top))


def _unpublished_months(table: Table, value_cols: list[tuple[Column, ColRead]]) -> set[int]:
    months = sorted((cr.month, col) for col, cr in value_cols if cr.month)
    if len(months) < 2 or not any(cr.period_total for _, cr in value_cols):
        return set()
    sheet = table.sheet
    out: set[int] = set()
    for month, col in reversed(months):
        cells = [sheet.raw(r, col.index) for r in table.body if sheet.kinds[r][col.index] in (NUM, YEAR)]
        if cells and all(float(v) == 0 for v in cells if isinstance(v, (int, float))) and \
                all(isinstance(v, (int, float)) for v in cells):
            out.add(month)
        else:
            break
    return out if len(out) < len(months) else set()


def _report_rows(ctx: ReadContext, skipped: Counter, series: Counter, unknown: dict, sheet: Sheet,
                 world_default: bool, headers: dict[int, str] | None = None) -> None:
    headers = headers or {}
    if skipped:
        names = ", ".join(list(skipped)[:12]) + (" …" if len(skipped) > 12 else "")
        ctx.add("info", "aggregates_skipped", n=len(skipped), value=names)
    if series:
        names = ", ".join(list(series)[:12]) + (" …" if len(series) > 12 else "")
        ctx.add("info", "series_not_read", value=names, n=len(series))
    for (r, text), c in list(unknown.items())[:100]:
        hint = _close_names(text)
        ctx.add("error", "unknown_area_hint" if hint else "unknown_area", row=r + 1,
                column=headers.get(c) or column_letter(c), value=text, hint=hint)
    if len(unknown) > 100:
        ctx.add("error", "more", n=len(unknown) - 100, check="unknown_area", column="")
    if world_default:
        ctx.add("info", "world_by_origin")


@cache
def _close_names(text: str) -> str:
    import difflib

    names = {}
    for row in codes.areas().itertuples(index=False):
        for n in (row.name_en, row.name_fr, row.name_es):
            names[n] = row.code
    close = difflib.get_close_matches(str(text).strip(), list(names), n=3, cutoff=0.75)
    return ", ".join(close)


# ---- large tidy tables, column by column -----------------------------------------------------------------
def _why_not(skip: pd.Series, mask: pd.Series, reason: str) -> pd.Series:
    """``skip`` with ``reason`` where ``mask`` holds and no reason is given yet."""
    current = skip.to_numpy()
    return pd.Series(np.where((current == "") & np.asarray(mask, dtype=bool), reason, current), index=skip.index)


def _take(per_unique: list, ids: np.ndarray, dtype=object) -> pd.Series:
    """One value per row from one value per distinct cell (``ids`` from ``pd.factorize``; -1 = blank)."""
    filler = False if dtype is bool else ("" if isinstance(dtype, str) else None)
    table = np.array([*per_unique, filler], dtype=dtype)
    return pd.Series(table[np.where(ids < 0, len(per_unique), ids)])


def tidy_ok(table: Table, cols: list[Column]) -> bool:
    """A table the column-wise reader can take: one header row, and stub columns that each hold
    one kind of thing (no row labels of mixed kinds, no hierarchy by indentation, no matrix corner)."""
    return len(table.header) == 1 and all(c.role not in ("label", "corner") for c in cols) and \
        not any(c.role == "area" and _has_indent(table.sheet, table, c.index) for c in cols)


def read_tidy(body: pd.DataFrame, rows: pd.Series, table: Table, ctx: ReadContext,
              extra_titles: list[str] = ()) -> pd.DataFrame | None:
    """The observations of a large tidy table, from its body read as a frame (``body``: one text
    column per sheet column, in order; ``rows``: the 1-based sheet row of each) with the column
    meanings read on its first rows (``table``). Same rules as :func:`read_table`, column by column."""
    found = _table_columns(table, ctx, extra_titles)
    if found is None:
        return None
    tf, cols = found
    n = len(body)
    index = pd.RangeIndex(n)
    value_cols, not_read = [], []
    for col in cols:
        if col.role != "value":
            continue
        cr = read_value_column(col, ctx, {})
        if cr is None:
            not_read.append(col)
            continue
        value_cols.append((col, cr))
    if not_read:
        ctx.add("info", "columns_not_read", n=len(not_read), column=not_read[0].label,
                value="; ".join(c.label for c in not_read[:8]), why=", ".join(sorted({_why(c) for c in not_read})))
    if not value_cols:
        return None

    def text(col: Column) -> pd.Series:
        return body.iloc[:, col.index].astype("string").fillna("").str.strip().reset_index(drop=True)

    skip = pd.Series(np.full(n, "", dtype="<U12"), index=index)   # why a row is not read ('' = read)
    # areas, one code per geographic role (a name column and a code column agreeing)
    geo_code: dict[str | None, pd.Series] = {}
    part = pd.Series(False, index=index)
    unknown_text = pd.Series("", index=index, dtype="object")
    unknown_col = pd.Series(-1, index=index)
    area_cols = [c for c in cols if c.role == "area"]
    for c in area_cols:
        values = text(c)
        system = None
        if c.code_like:
            partner = next((o for o in area_cols if o is not c and not o.code_like and o.geo == c.geo), None)
            system = code_system(values.head(2000).tolist(), text(partner).head(2000).tolist() if partner else None,
                                 ctx, c.path[-1] if c.path else "")
        ids, uniques = pd.factorize(values)
        reads = [read_area(v, ctx, system) for v in uniques]
        code = _take([a.code for a in reads], ids)
        skip = _why_not(skip, _take([a.skip == "aggregate" for a in reads], ids, bool), "aggregate")
        skip = _why_not(skip, _take([a.total for a in reads], ids, bool), "total")
        part |= _take([a.part for a in reads], ids, bool)
        unresolved = (values != "") & code.isna() & skip.eq("")
        unknown_text = unknown_text.mask(unresolved & (unknown_text == ""), values)
        unknown_col = unknown_col.mask(unresolved & (unknown_col < 0), c.index)
        previous = geo_code.get(c.geo)
        if previous is None:
            geo_code[c.geo] = code
        else:
            clash = previous.notna() & code.notna() & (previous != code)
            for i in list(clash[clash].index[:MAX_CELL_ISSUES]):
                ctx.add("error", "area_name_code", row=int(rows.iloc[i]), column=c.label, value=values.iloc[i],
                        other=previous.iloc[i])
            skip = _why_not(skip, clash, "conflict")
            geo_code[c.geo] = previous.fillna(code)
    # a name not recognised is forgiven when the code beside it is (or the reverse)
    for c in area_cols:
        resolved = geo_code[c.geo].notna()
        unknown_text = unknown_text.mask(resolved & (unknown_col == c.index), "")
    # the other stub columns: what each distinct value says
    row_dims: dict[str, pd.Series] = {}
    period = pd.Series(None, index=index, dtype="object")
    breakdown_parts: dict[str, pd.Series] = {}
    for c in cols:
        if c.role in ("value", "ignore", "area"):
            continue
        values = text(c)
        ids, uniques = pd.factorize(values)
        reads = []
        for v in uniques:
            rr = RowRead()
            _stub_value(rr, c, str(v), ctx, tf)
            reads.append(rr)
        why = _take([rr.skip or "" for rr in reads], ids, "<U12")
        skip = pd.Series(np.where((skip.to_numpy() == "") & (why.to_numpy() != ""), why.to_numpy(), skip.to_numpy()),
                         index=index)
        series_name = values.where(why.eq("series"), "")
        if (series_name != "").any():
            row_dims.setdefault("_series", series_name)
        p = _take([rr.period for rr in reads], ids)
        period = period.where(period.notna(), p)
        for dim in {d for rr in reads for d in rr.dims if not d.startswith("_")}:
            s = _take([rr.dims.get(dim) for rr in reads], ids)
            row_dims[dim] = row_dims[dim].where(row_dims[dim].notna(), s) if dim in row_dims else s
        for btype in {b for rr in reads for b in rr.breakdown}:
            breakdown_parts[btype] = _take([rr.breakdown.get(btype) for rr in reads], ids)
        if any(rr.dims.get("_area_role") for rr in reads):
            row_dims["_area_role"] = _take([rr.dims.get("_area_role") for rr in reads], ids)
    keep = skip.eq("") & (unknown_text == "")
    reporting = tf.area or ctx.country
    frames = []
    for col, cr in value_cols:
        cells = body.iloc[:, col.index].reset_index(drop=True)
        filled = cells.astype("string").fillna("").str.strip() != ""
        ok = keep & filled
        if not ok.any():
            continue
        sub = pd.DataFrame({"_row": rows.reset_index(drop=True)[ok].to_numpy()}, index=index[ok])
        sub["_cno"] = col.index
        sub["_col"] = col.label
        sub["_sheet"] = ctx.sheet or ""
        # measure: the column's, else the row's, else the table's; a population word yields
        row_m = row_dims.get("measure", pd.Series(None, index=index, dtype="object"))[ok]
        col_m, tab_m = cr.dims.get("measure"), tf.measure.get("measure")
        measure = row_m.copy()
        if col_m and col_m != "POP":
            measure[:] = col_m
        else:
            strong_row = measure.notna() & (measure != "POP")
            fallback = tab_m if tab_m and tab_m != "POP" else (col_m or tab_m)
            measure = measure.where(strong_row, fallback if fallback else measure)
        if ctx.kind in ("census", "migrant_stock", "population") or (col.generic and _persons_table(cols)):
            measure = measure.fillna("POP")
        sub["measure"] = measure.fillna("")
        from_table = sub["measure"].eq(tab_m or "\0") & ~sub["measure"].eq(col_m or "\0") & \
            ~row_m.fillna("").eq(tab_m or "\0")
        conflict = pd.Series(False, index=sub.index)
        for dim in CELL_DIMS[1:]:
            c_val = cr.dims.get(dim)
            r_val = row_dims.get(dim, pd.Series(None, index=index, dtype="object"))[ok]
            if c_val:
                conflict |= r_val.notna() & (r_val != c_val)
                chosen = pd.Series(c_val, index=sub.index, dtype="object")
            else:
                chosen = r_val.copy()
            # from the title: a measure's own dimension only where the measure is the title's, and
            # only dimensions the measure has
            if dim in tf.measure:
                use, title = from_table, tf.measure[dim]
            elif dim in tf.dims:
                use, title = pd.Series(True, index=sub.index), tf.dims[dim]
            else:
                use, title = None, None
            if use is not None:
                allowed = sub["measure"].map(lambda m, dim=dim: dim in _allowed_dims(m) if m else True)
                chosen = chosen.where(chosen.notna() | ~(use & allowed), title)
            sub[dim] = chosen.fillna(codes.TOTAL)
        if conflict.any():
            for i in conflict[conflict].index[:MAX_CELL_ISSUES]:
                ctx.add("error", "cell_conflict", row=int(sub.at[i, "_row"]), column=col.label, dimension="",
                        value="", other="")
            sub = sub[~conflict]
        # period
        per = period[sub.index]
        if cr.period:
            per = pd.Series(cr.period, index=sub.index, dtype="object")
        elif cr.month:
            year = per.fillna(tf.period or "")
            per = year.map(lambda y, m=cr.month: f"{y}-{m:02d}" if len(str(y)) == 4 else None)
        per = per.fillna(tf.period) if tf.period else per
        sub["time_period"] = per.fillna("")
        # areas by the measure's direction
        ref = pd.Series(None, index=sub.index, dtype="object")
        cp = pd.Series(None, index=sub.index, dtype="object")
        for m in pd.unique(sub["measure"]):
            sel = sub["measure"] == m
            cands = [(geo, geo_code[geo][sub.index[sel]]) for geo in geo_code]
            if cr.area:
                cands.append((cr.area_role, pd.Series(cr.area, index=sub.index[sel], dtype="object")))
            direction = _direction(m) if m else ""
            r_parts = [s for geo, s in cands if geo and _is_ref(geo, direction)]
            c_parts = [s for geo, s in cands if geo and not _is_ref(geo, direction)]
            unk = [s for geo, s in cands if not geo]
            if len(unk) > 1 or len(r_parts) > 1 or len(c_parts) > 1:
                ctx.add("error", "areas_without_role", row=int(sub.loc[sel, "_row"].iloc[0]), column=col.label,
                        value="")
                sub = sub[~sel]
                continue
            r_s, c_s = _plain_reports(r_parts, c_parts, unk)
            if r_s is None and c_s is not None:
                if reporting:
                    r_s = pd.Series(reporting, index=c_s.index, dtype="object")
                elif not direction:
                    r_s, c_s = c_s, None     # a measure with no direction: the area reports it
                elif ctx.publisher is None:
                    c_s = None               # an origin is not who reports: no area (said below)
                else:
                    r_s = pd.Series("WLD", index=c_s.index, dtype="object")
                    ctx.add("info", "world_by_origin")
            if r_s is None and reporting:
                r_s = pd.Series(reporting, index=sub.index[sel], dtype="object")
            if r_s is not None:
                ref[sub.index[sel]] = r_s.reindex(sub.index[sel])
            if c_s is not None:
                cp[sub.index[sel]] = c_s.reindex(sub.index[sel])
        if "_area_role" in row_dims:
            origin = row_dims["_area_role"].reindex(ref.index).eq("origin") & cp.isna() & ref.notna()
            cp = cp.mask(origin, ref)
            ref = ref.mask(origin, "WLD")
        sub["ref_area"] = ref.reindex(sub.index).fillna("")
        sub["counterpart_area"] = cp.reindex(sub.index).fillna(codes.TOTAL)
        bd = {b: s[sub.index] for b, s in breakdown_parts.items()}
        for b, v in cr.breakdown.items():
            bd[b] = pd.Series(v, index=sub.index, dtype="object")
        if tf.poe:
            bd.setdefault("POE", pd.Series(tf.poe, index=sub.index, dtype="object"))
        if bd:
            # one code per distinct combination, not per row
            frame_bd = pd.DataFrame(bd).fillna("").astype(str)
            combos = frame_bd.drop_duplicates()
            codes_of = {tuple(r): codes.breakdown_code(dict(zip(frame_bd.columns, r, strict=True)))
                        for r in combos.itertuples(index=False, name=None)}
            sub["breakdown"] = [codes_of[t] for t in frame_bd.itertuples(index=False, name=None)]
        else:
            sub["breakdown"] = codes.TOTAL
        sub["value"] = cells[sub.index]
        sub["unit_mult"] = cr.mult if cr.mult is not None else (tf.mult or 0)
        sub["_unit"] = cr.unit or tf.unit or ""
        sub["_status"] = "E" if cr.estimate or cr.status == "E" else (cr.status or tf.status or "")
        sub["_part"] = part[sub.index].to_numpy()
        sub["_basis"] = tf.basis or ""
        gap = pd.Series(False, index=sub.index)
        for dim, label in (("measure", "no_measure"), ("time_period", "no_time_period"), ("ref_area", "no_ref_area")):
            missing = sub[dim] == ""
            if missing.any():
                ctx.add("error", label, row=int(sub.loc[missing, "_row"].iloc[0]), column=col.label)
                gap |= missing
        frames.append(sub[~gap])
    skipped = Counter()
    for c in area_cols:
        values = text(c)
        for v in pd.unique(values[skip.isin(["aggregate", "total"])].to_numpy()):
            skipped[v] += 1
    series = Counter(row_dims["_series"][row_dims["_series"] != ""].tolist()) if "_series" in row_dims else Counter()
    unknown = {(int(rows.iloc[i]) - 1, unknown_text[i]): int(unknown_col[i])
               for i in unknown_text[unknown_text != ""].index[:101]}
    _report_rows(ctx, skipped, series, unknown, table.sheet, False, {c.index: c.path[-1] for c in cols if c.path})
    if not frames:
        return None
    frame = pd.concat(frames, ignore_index=True)
    frame.attrs["columns"] = source_headers(cols, value_cols)
    frame["_tidy"] = True
    return frame[["_row", "_cno", "_col", "_sheet", "measure", "ref_area", "time_period", "sex", "age",
                  "migrant_status", "counterpart_area", "labour_status", "breakdown", "value", "unit_mult", "_unit",
                  "_status", "_part", "_basis", "_tidy"]]
