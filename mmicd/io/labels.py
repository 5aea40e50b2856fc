"""What a label says: the words of a header cell, a column path, a row label or a title, read
against the vocabularies kept as data (``data/vocabulary/labels.yml``, ``data/mappings/synonyms.yml``,
the code lists).

:func:`read_label` returns :class:`Facts`: the dimensions the label fixes (measure, sex, age, migrant
status, period, breakdown ...), the area it names, the geographic role or column role it names, its
unit and multiplier, and whatever words it could not explain (``residual``). The table reader
(:mod:`mmicd.io.tables`) decides with them; nothing here guesses: a label whose words contradict each
other (two sexes, a percentage and a count) says so in ``conflicts``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache

import yaml

from mmicd import DATA_DIR, codes

VOCABULARY = DATA_DIR / "vocabulary" / "labels.yml"
YEAR_MIN, YEAR_MAX = 1900, 2100
MAX_PHRASE = 14


@dataclass(frozen=True)
class Facts:
    dims: dict[str, str] = field(default_factory=dict)    # canonical dimension -> code
    area: str | None = None             # an area the label names (resolved code)
    area_text: str = ""                 # ... as written
    roles: frozenset[str] = frozenset()  # geographic roles named: destination, origin, across, down
    column: str | None = None           # a column role named: time_period, sex, measure_code, ignore ...
    breakdown_type: str | None = None   # a breakdown column (CRITERION, STAGE ...)
    unit: str | None = None             # USD, PS, PT
    mult: int | None = None             # 3, 6, 9
    estimate: bool = False              # "2018e"
    total: bool = False                 # "Total", "All", "Both sexes"
    subset: bool = False                # "of whom ..."
    derived: bool = False               # a percentage, rate, change ...
    start_of_year: bool = False         # "start-2015"
    month: int | None = None
    quarter: int | None = None
    years: tuple[str, ...] = ()         # every year named (outside edition words)
    edition_years: tuple[str, ...] = ()
    range_years: bool = False           # "1990-1995"
    basis: str | None = None            # citizenship / country of birth
    flow: bool = False                  # flow context words
    point_of_entry: bool = False
    other: bool = False                 # "Other", "Otros": the residual category of a list
    unknown: bool = False               # "Not stated", "Ignorado": the _U of the list's dimension
    status: str | None = None           # "Estimates" -> E, "Provisional" -> P
    group: str | None = None            # a group word over labels of one dimension ("Months", "Age group")
    nationals_of: str | None = None     # "Dominicanos": the citizens of an area
    born_in: str | None = None          # "Nés au Sénégal" -> SEN
    when: frozenset[str] = frozenset()  # measures that depend on flow/stock context: {"flow","stock"}
    alternatives: tuple[dict, ...] = () # context-dependent measure sets
    residual: tuple[str, ...] = ()      # words not explained
    conflicts: tuple[str, ...] = ()     # dimensions named twice with different codes
    text: str = ""

    @property
    def understood(self) -> bool:
        return not self.residual and not self.conflicts

    @property
    def period(self) -> str | None:
        """The one period the label names (a year, quarter or month of a named year)."""
        if len(self.years) != 1 or self.range_years or self.start_of_year:
            return None
        year = self.years[0]
        if self.month:
            return f"{year}-{self.month:02d}"
        if self.quarter:
            return f"{year}-Q{self.quarter}"
        return year

    @property
    def empty(self) -> bool:
        return not (self.dims or self.area or self.roles or self.column or self.breakdown_type or self.unit
                    or self.mult or self.total or self.subset or self.years or self.month or self.quarter
                    or self.other or self.born_in or self.alternatives or self.unknown or self.group
                    or self.nationals_of)


# ---- normalisation ----------------------------------------------------------------------------------
_REPLACE = [
    (re.compile(r"%"), " percent "),
    (re.compile(r"\bU\.?S\.?\s?\$", re.I), " usd "),
    (re.compile(r"\$"), " usd "),
    (re.compile(r"'000\b|\b000s\b|\(000\)"), " thousands "),
    (re.compile(r"(?<=\w)-\s*\n\s*(?=[a-z])"), ""),      # a word split over two header rows: "Conv-\nention"
    (re.compile(r"\u2013|\u2014|\u2212"), "-"),
]


def words(text: object) -> list[str]:
    """The words of a label: casefolded, accents and punctuation removed, "%" as "percent"."""
    s = str(text)
    for pattern, repl in _REPLACE:
        s = pattern.sub(repl, s)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    s = s.replace("\u2019", "'").replace("œ", "oe").replace("æ", "ae")
    s = re.sub(r"[^\w+]+|_", " ", s)
    tokens = s.split()
    # "M E S E S": a word written with spaced letters
    out: list[str] = []
    run: list[str] = []
    for tok in [*tokens, ""]:
        if len(tok) == 1 and tok.isalpha():
            run.append(tok)
            continue
        out.extend(["".join(run)] if len(run) >= 3 else run)
        run = []
        if tok:
            out.append(tok)
    return out


def key(text: object) -> str:
    return " ".join(words(text))


FOOTNOTE = re.compile(r"^(.*?(?:[^\W\d_)\]'.]|[^\W\d_]\.))\s?(\d{1,2}|\*+\d{0,2}|\d{1,2}\*+|[a-z]\))$", re.I)


def strip_footnote(text: str) -> str:
    """``Algeria10`` -> ``Algeria``, ``Refugees 2`` -> ``Refugees``, ``France*`` -> ``France``,
    ``(thousands)g`` -> ``(thousands)``."""
    t = str(text).strip()
    t = re.sub(r"\s*\(\s*[a-z]\s*\)\s*$", "", t)        # "Type of data (a)"
    t = re.sub(r"(?<=\S)\*+\d{0,2}$", "", t).strip()          # "France*", "Serbia ... (1999)**"
    t = re.sub(r"(?<=\))[a-z]$", "", t)                       # "... at mid-year (thousands)g"
    m = FOOTNOTE.match(t)
    return m.group(1).strip() if m else t


# ---- vocabularies -----------------------------------------------------------------------------------
@cache
def vocabulary() -> dict:
    with open(VOCABULARY, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@dataclass(frozen=True)
class _Effect:
    kind: str            # dim | measure | unit | mult | role | column | breakdown_col | breakdown | derived |
                         # subset | total | stop | month | quarter_word | edition | point | start | flow | poe | other
    key: str = ""
    value: object = None


def _add(trie: dict, phrase: str, effect: _Effect) -> None:
    tokens = tuple(words(phrase))
    if tokens:
        trie.setdefault(tokens, []).append(effect)


@cache
def _phrases() -> dict[tuple[str, ...], list[_Effect]]:
    v = vocabulary()
    trie: dict[tuple[str, ...], list[_Effect]] = {}
    for n, entry in enumerate(v["measures"]):
        for phrase in entry["phrases"]:
            _add(trie, phrase, _Effect("measure", str(n)))
    for phrase in v["derived"]:
        _add(trie, phrase, _Effect("derived"))
    for phrase in v["subset"]:
        _add(trie, phrase, _Effect("subset"))
    units = v["units"]
    for mult, phrases in units["multiplier"].items():
        for phrase in phrases:
            _add(trie, phrase, _Effect("mult", value=int(mult)))
    for unit in ("USD", "PT", "PS"):
        for phrase in units[unit]:
            _add(trie, phrase, _Effect("unit", value=unit))
    _add(trie, "usd million", _Effect("mult", value=6))
    _add(trie, "usd millions", _Effect("mult", value=6))
    _add(trie, "millions of usd", _Effect("mult", value=6))
    periods = v["periods"]
    for month, phrases in periods["months"].items():
        for phrase in phrases:
            _add(trie, phrase, _Effect("month", value=int(month)))
    for phrase in periods["edition"]:
        _add(trie, phrase, _Effect("edition"))
    for phrase in periods["point_in_year"]:
        _add(trie, phrase, _Effect("point"))
    for phrase in periods["start_of_year"]:
        _add(trie, phrase, _Effect("start"))
    for role, phrases in v["geo_roles"].items():
        for phrase in phrases:
            _add(trie, phrase, _Effect("role", role))
    for column, phrases in v["columns"].items():
        if column == "breakdown":
            for btype, bphrases in phrases.items():
                for phrase in bphrases:
                    _add(trie, phrase, _Effect("breakdown_col", btype))
            continue
        for phrase in phrases:
            _add(trie, phrase, _Effect("column", column))
    for code, phrases in v["coverage_values"].items():
        for phrase in phrases:
            _add(trie, phrase, _Effect("coverage", value=code))
    for btype, values in v["breakdown_values"].items():
        for code, phrases in values.items():
            for phrase in phrases:
                if len(words(phrase)) == 1 and len(phrase) <= 2:
                    continue  # one-letter codes only as a whole label (see _whole)
                _add(trie, phrase, _Effect("breakdown", btype, code))
    for phrase in v["row_words"]["other"]:
        _add(trie, phrase, _Effect("other"))
    for phrase in v["unknown"]:
        _add(trie, phrase, _Effect("unknown"))
    for status, phrases in v["status_words"].items():
        for phrase in phrases:
            _add(trie, phrase, _Effect("status", value=status))
    for dim, phrases in v["group_words"].items():
        for phrase in phrases:
            _add(trie, phrase, _Effect("group", dim))
    for code, names in demonyms().items():
        for name in names:
            _add(trie, name, _Effect("nationals", code))
    for phrase in v["context"]["flow"]:
        _add(trie, phrase, _Effect("flow"))
    for phrase in v["context"]["point_of_entry"]:
        _add(trie, phrase, _Effect("poe"))
    for phrase in v["stop_words"]:
        _add(trie, phrase, _Effect("stop"))
    # values of the code columns: sex, migrant status, labour status (synonyms.yml and code lists)
    from mmicd.clean.mapping import value_words

    # words whose meaning depends on the table (a flow or a stock) are read through their measure entry
    contextual = {tuple(words(p)) for e in v["measures"] if e.get("when") for p in e["phrases"]}
    unknown = {tuple(words(p)) for p in v["unknown"]}
    for column in ("sex", "migrant_status", "labour_status"):
        for word, code in value_words(column).items():
            if len(word) <= 2 or tuple(words(word)) in contextual:
                continue  # "f", "m", "t": only as a whole label
            if code == codes.UNKNOWN and tuple(words(word)) in unknown:
                continue  # "not stated" is the unknown of whatever the list holds
            effect = _Effect("total") if code == codes.TOTAL else _Effect("dim", column, code)
            _add(trie, word, effect)
    for word in ("total", "totals", "tot", "all", "both", "ensemble", "todos", "todas", "tous", "total general",
                 "grand total", "all persons", "all ages", "both sexes", "tout", "sum", "somme", "suma"):
        _add(trie, word, _Effect("total"))
    return trie


@cache
def _whole() -> dict[str, list[_Effect]]:
    """Short codes that mean something only as a whole label (``F``, ``M``, ``C``, ``P``)."""
    from mmicd.clean.mapping import value_words

    out: dict[str, list[_Effect]] = {}
    for column in ("sex", "migrant_status", "labour_status"):
        for word, code in value_words(column).items():
            if len(word) <= 2:
                effect = _Effect("total") if code == codes.TOTAL else _Effect("dim", column, code)
                out.setdefault(word, []).append(effect)
    for btype, values in vocabulary()["breakdown_values"].items():
        for code, phrases in values.items():
            for phrase in phrases:
                if len(words(phrase)) == 1 and len(phrase) <= 2:
                    out.setdefault(key(phrase), []).append(_Effect("breakdown", btype, code))
    return out


@cache
def demonyms() -> dict[str, list[str]]:
    """Area code -> names of its citizens (``data/vocabulary/demonyms.csv``)."""
    import csv

    out: dict[str, list[str]] = {}
    with open(DATA_DIR / "vocabulary" / "demonyms.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            out[row["code"]] = [w for w in row["words"].split("|") if w]
    return out


@cache
def measure_entry(n: int) -> dict:
    return vocabulary()["measures"][n]


@cache
def _area_words() -> dict[str, str]:
    """Area names (not codes) by their words, for areas named inside longer labels."""
    out: dict[str, str] = {}
    frame = codes.areas()
    for row in frame.itertuples(index=False):
        for name in [row.name_en, row.name_fr, row.name_es, *[a for a in row.aliases.split("|") if a]]:
            k = key(name)
            if len(k) >= 4 and not re.fullmatch(r"[a-z]{2,3}", k):
                out.setdefault(k, row.code)
    for alias in codes.extra_aliases():
        k = key(alias.alias)
        if len(k) >= 4:
            out.setdefault(k, alias.code)
    return out


_YEAR = re.compile(r"^(\d{4})(?:\.0+)?(e|p)?$")
_QUARTER = re.compile(r"^(\d{4})q([1-4])$|^q([1-4])(\d{4})$|^([1-4])q(\d{4})$")
_YRCODE = re.compile(r"^yr\d{4}(q[1-4]|m\d{2})?$")
_MONTHCODE = re.compile(r"^(\d{4})m(\d{2})$")
_RANGE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/]\s*((?:19|20)?\d{2})(?!\d)")
# an ISO month (2023-07, the canonical TIME_PERIOD): not a range when the two digits cannot be the year
# after (2023-01, 2023-07); 2011-12 stays ambiguous (December 2011 or the fiscal year 2011-12): a range
_ISO_MONTH = re.compile(r"^((?:19|20)\d{2})-(0[1-9]|1[0-2])$")
_EDITION_SPAN = re.compile(r"\((?:[^()]*\b(?:version|revision|edition|edición|édition|update[d]?)\b[^()]*)\)", re.I)


# ---- reading a label ----------------------------------------------------------------------------------
def read_label(text: object, *, whole: bool = True) -> Facts:
    """The facts of one label. ``whole``: the label is a complete cell (short codes such as ``F``
    or ``P`` count); False for a line of a longer text such as a title."""
    raw = "" if text is None else str(text).strip()
    if not raw:
        return Facts(text="")
    facts = _read(raw, whole)
    if not facts.understood or facts.empty:
        bare = strip_footnote(raw)
        if bare != raw and bare:
            alt = _read(bare, whole)
            if (alt.understood and not alt.empty) or (not facts.understood and len(alt.residual) < len(facts.residual)):
                return replace(alt, text=raw)
    return facts


@cache
def _cached(raw: str, whole: bool) -> Facts:
    return _read_uncached(raw, whole)


def _read(raw: str, whole: bool) -> Facts:
    return _cached(raw, whole)


def _read_uncached(raw: str, whole: bool) -> Facts:
    iso = _ISO_MONTH.match(raw)
    if iso and int(iso.group(2)) != (int(iso.group(1)) + 1) % 100:
        return replace(_read_uncached(f"{iso.group(1)}M{iso.group(2)}", whole), text=raw)
    tokens = words(raw)
    if not tokens:
        return Facts(text=raw)
    joined = " ".join(tokens)
    # a whole label that is an area (name or code), an age group, or a short code
    if whole:
        # a short code is an area only in capitals ("TO" Tonga, not the word "to")
        short = len(raw) <= 3 and not raw.isupper()
        area = None if short else (codes.resolve_area(raw) or codes.resolve_area(strip_footnote(raw)))
        if area is None:
            area = _bracket_area(raw)
        if area is not None and not _YEAR.match(joined):
            return Facts(area=area, area_text=raw, text=raw, other=area == "OOO")
        from mmicd.clean.mapping import age_code

        age = age_code(raw) if not _YEAR.match(joined) else None
        if age == codes.UNKNOWN:
            return Facts(unknown=True, text=raw)
        if age is not None and age != codes.TOTAL:
            return Facts(dims={"age": age}, text=raw)
        if joined in _whole():
            return _apply(Facts(text=raw), _whole()[joined], raw)
    trie = _phrases()
    effects: list[_Effect] = []
    residual: list[str] = []
    edition_years: list[str] = []
    years: list[str] = []
    estimate = False
    quarter = None
    range_years = bool(_RANGE.search(raw))
    in_edition = False
    # years inside "(December 2022 Version)" are the edition
    edition_spans = {y for m in _EDITION_SPAN.finditer(raw) for y in re.findall(r"(?:19|20)\d{2}", m.group(0))}
    areas: list[tuple[str, str]] = []
    born_at: list[str] = []
    excluding = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        m = _YEAR.match(tok)
        if m and YEAR_MIN <= int(m.group(1)) <= YEAR_MAX:
            if in_edition or m.group(1) in edition_spans:
                edition_years.append(m.group(1))
            else:
                years.append(m.group(1))
                estimate = estimate or m.group(2) == "e"
            i += 1
            continue
        q = _QUARTER.match(tok)
        if q:
            year = q.group(1) or q.group(4) or q.group(6)
            quarter = int(q.group(2) or q.group(3) or q.group(5))
            years.append(year)
            i += 1
            continue
        mc = _MONTHCODE.match(tok)
        if mc and 1 <= int(mc.group(2)) <= 12:
            years.append(mc.group(1))
            effects.append(_Effect("month", value=int(mc.group(2))))
            i += 1
            continue
        if _YRCODE.match(tok):
            i += 1
            continue
        if re.fullmatch(r"q[1-4]|t[1-4]", tok):
            quarter = int(tok[1])
            i += 1
            continue
        # the longest phrase starting here
        hit = None
        for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
            span = tuple(tokens[i:i + n])
            if span in trie:
                hit = (n, trie[span])
                break
        area_hit = None
        for n in range(min(8, len(tokens) - i), 0, -1):
            k = " ".join(tokens[i:i + n])
            if k in _area_words():
                area_hit = (n, _area_words()[k])
                break
        if area_hit and (hit is None or area_hit[0] > hit[0]):
            areas.append((area_hit[1], " ".join(tokens[i:i + area_hit[0]])))
            if _born_before(tokens, i):
                born_at.append(area_hit[1])
            i += area_hit[0]
            continue
        if hit is None:
            if tok.isdigit() and len(tok) <= 2:   # a footnote number or a rank
                i += 1
                continue
            residual.append(tok)
            i += 1
            continue
        n, found = hit
        if any(e.kind == "edition" for e in found):
            in_edition = True
        if excluding and not all(e.kind == "stop" for e in found):
            excluding = False      # "excluding asylum-seekers": what follows is left out, not named
            i += n
            continue
        if span_words(tokens[i:i + n]) in EXCLUDING:
            excluding = True
        effects.extend(found)
        i += n
    facts = Facts(text=raw, years=tuple(dict.fromkeys(years)), edition_years=tuple(dict.fromkeys(edition_years)),
                  estimate=estimate, quarter=quarter, range_years=range_years)
    facts = _apply(facts, effects, raw)
    if areas:
        distinct = list(dict.fromkeys(a for a, _ in areas))
        born = bool(born_at)
        if born and len(distinct) == 1:
            facts = replace(facts, born_in=distinct[0])
            residual = [w for w in residual if w not in BORN_WORDS]
        elif facts.point_of_entry:
            pass  # "Aeropuerto Internacional de Las Americas": the area is part of a name
        elif len(distinct) == 1:
            facts = replace(facts, area=distinct[0], area_text=areas[0][1])
        else:
            facts = replace(facts, conflicts=(*facts.conflicts, "area"))
    return replace(facts, residual=tuple(residual))


EXCLUDING = {"excluding", "excl", "except", "hors", "excepto", "excluyendo", "excluidos", "excluidas", "exceto",
             "sauf", "non compris", "not including"}


def span_words(tokens: list[str]) -> str:
    return " ".join(tokens)


BORN_WORDS = {"born", "nes", "nees", "ne", "nee", "nacidos", "nacidas", "nacido", "nacida", "nascidos", "nascidas",
              "nascido", "nascida"}
def _born_before(tokens: list[str], i: int) -> bool:
    """The area at token ``i`` follows "born in", "nés au", "nacidos en", "nascidos no"."""
    before = tokens[max(0, i - 3):i]
    return len(before) >= 2 and before[-2] in BORN_WORDS and before[-1] in {
        "in", "au", "en", "a", "aux", "no", "na", "em", "el", "la"} or (
        len(before) >= 3 and before[-3] in BORN_WORDS and before[-2] in {"en", "a"} and before[-1] in {"el", "la", "l"})


def _bracket_area(raw: str) -> str | None:
    """``Belarus [BLR]``, ``Germany (DEU)``: the code and the name must agree."""
    m = re.match(r"^(.*?)\s*[\[(]([A-Za-z0-9]{2,3})[\])]\s*$", raw)
    if not m:
        return None
    by_code = codes.resolve_area(m.group(2))
    by_name = codes.resolve_area(m.group(1))
    if by_code and (by_name is None or by_name == by_code):
        return by_code
    return None


# effects that only set a flag of the facts: effect kind -> Facts field
_FLAGS = {"derived": "derived", "subset": "subset", "total": "total", "start": "start_of_year", "flow": "flow",
          "poe": "point_of_entry", "other": "other", "unknown": "unknown"}


def _apply(facts: Facts, effects: list[_Effect], raw: str) -> Facts:
    dims = dict(facts.dims)
    conflicts = list(facts.conflicts)
    roles = set(facts.roles)
    upd: dict = {}
    measures: list[dict] = []
    alternatives: list[dict] = []
    when: set[str] = set()
    basis = None

    def put(dim: str, code: str) -> None:
        if dim in dims and dims[dim] != code:
            conflicts.append(dim)
        else:
            dims[dim] = code

    for e in effects:
        if e.kind == "dim":
            put(e.key, str(e.value))
        elif e.kind == "measure":
            entry = measure_entry(int(e.key))
            if entry.get("when"):
                when.add(entry["when"])
                alternatives.append({**entry["set"], "_when": entry["when"], "_basis": entry.get("basis")})
            else:
                measures.append(entry["set"])
                basis = basis or entry.get("basis")
                if entry.get("status"):
                    upd["status"] = entry["status"]
        elif e.kind == "unit":
            if upd.get("unit") not in (None, e.value):
                conflicts.append("unit")
            upd["unit"] = e.value
        elif e.kind == "mult":
            upd["mult"] = max(upd.get("mult") or 0, int(e.value))
        elif e.kind == "role":
            roles.add(e.key)
        elif e.kind == "column":
            upd.setdefault("column", e.key)
        elif e.kind == "breakdown_col":
            upd.setdefault("breakdown_type", e.key)
        elif e.kind == "breakdown":
            put(f"breakdown:{e.key}", str(e.value))
        elif e.kind == "coverage":
            upd.setdefault("coverage", str(e.value))
        elif e.kind in _FLAGS:
            upd[_FLAGS[e.kind]] = True
        elif e.kind == "month":
            upd["month"] = int(e.value)
        elif e.kind == "status":
            upd["status"] = e.value if upd.get("status") in (None, e.value) else "E"
        elif e.kind == "group":
            upd.setdefault("group", e.key)
        elif e.kind == "nationals":
            upd["nationals_of"] = e.key
    # several measure phrases: they must agree (e.g. "migrants" and "born abroad")
    for m in measures:
        for dim, code in m.items():
            put(dim, str(code))
    coverage = upd.pop("coverage", None)
    if coverage is not None:
        if coverage == codes.TOTAL:
            upd["total"] = True
        elif "migrant_status" not in dims:
            dims["migrant_status"] = coverage
    if upd.get("derived") and "measure" in dims and _unit_of(dims["measure"]) != "PT":
        # "... as a percentage of ..." is never a count of persons or dollars
        conflicts.append("derived")
    return replace(facts, dims=dims, conflicts=tuple(dict.fromkeys(conflicts)), roles=frozenset(roles),
                   basis=basis, when=frozenset(when), alternatives=tuple(alternatives), **upd)


@cache
def _unit_of(measure: str) -> str:
    frame = codes.codelist("measure")
    return frame.at[measure, "unit_measure"] if measure in frame.index else ""


def unit_of(measure: str) -> str:
    return _unit_of(measure)


def with_context(facts: Facts, *, flow: bool) -> Facts:
    """A label's context-dependent measure ("Immigrants": a flow in a table of flows, a stock
    otherwise) resolved by the table's context."""
    if not facts.alternatives:
        return facts
    wanted = "flow" if flow else "stock"
    chosen = [a for a in facts.alternatives if a["_when"] == wanted]
    if not chosen:
        return replace(facts, alternatives=(), residual=(*facts.residual, *words(facts.text)[:1]))
    dims = dict(facts.dims)
    conflicts = list(facts.conflicts)
    for dim, code in chosen[0].items():
        if dim.startswith("_"):
            continue
        if dim in dims and dims[dim] != code:
            conflicts.append(dim)
        dims[dim] = str(code)
    return replace(facts, dims=dims, alternatives=(), conflicts=tuple(conflicts),
                   basis=facts.basis or chosen[0].get("_basis"))


def merge(parts: list[Facts]) -> Facts:
    """The facts of a column path (group labels above, the column's own label below): a lower,
    more specific label wins over a higher one for the same dimension."""
    out = Facts()
    for f in parts:
        dims = {**out.dims, **f.dims}
        out = replace(out, dims=dims, area=f.area or out.area, area_text=f.area_text or out.area_text,
                      roles=out.roles | f.roles, column=f.column or out.column,
                      breakdown_type=f.breakdown_type or out.breakdown_type, unit=f.unit or out.unit,
                      mult=f.mult or out.mult, estimate=out.estimate or f.estimate, total=out.total or f.total,
                      subset=out.subset or f.subset, derived=out.derived or f.derived,
                      start_of_year=out.start_of_year or f.start_of_year, month=f.month or out.month,
                      quarter=f.quarter or out.quarter, years=f.years or out.years,
                      edition_years=out.edition_years + f.edition_years, range_years=out.range_years or f.range_years,
                      basis=f.basis or out.basis, flow=out.flow or f.flow,
                      point_of_entry=out.point_of_entry or f.point_of_entry, other=out.other or f.other,
                      born_in=f.born_in or out.born_in, when=out.when | f.when, unknown=out.unknown or f.unknown,
                      group=f.group or out.group, nationals_of=f.nationals_of or out.nationals_of,
                      status=f.status or out.status,
                      alternatives=f.alternatives or out.alternatives, residual=out.residual + f.residual,
                      conflicts=out.conflicts + f.conflicts, text=" / ".join(x for x in (out.text, f.text) if x))
    if out.derived and "measure" in out.dims and unit_of(out.dims["measure"]) != "PT" \
            and "derived" not in out.conflicts:
        out = replace(out, conflicts=(*out.conflicts, "derived"))
    return out
