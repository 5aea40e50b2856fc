"""SDMX-CSV read natively: version 1.0 (``DATAFLOW`` first) and 2.0 (``STRUCTURE,STRUCTURE_ID,ACTION``),
with codes only or "labels both" (a label column after each code column, or ``CODE: Label`` values);
and Eurostat's TSV (``freq,unit,citizen,age,sex,geo\\TIME_PERIOD`` then one column per period, values
with their flags: ``66912 p``, ``:``), the format of its bulk downloads, read into the same long shape.

What each publisher's dimension ids, codes and flags mean is data (``data/vocabulary/sdmx.yml``):
dimensions map onto the canonical ones by their ids in any case (``REF_AREA``/``geo``,
``CITIZENSHIP``/``citizen``, ``BIRTH_PLACE``/``c_birth``, ``SEX``, ``AGE``, ``COMPOSITE_BREAKDOWN``),
the series from a ``SERIES``/``MEASURE``/``INDICATOR`` column (codes in ``labels.yml`` ``measure_codes``)
or, when there is none, from the dataflow (Eurostat ``MIGR_IMM1CTZ``: immigration); ``OBS_VALUE`` is the
value, ``UNIT``/``UNIT_MEASURE`` its unit (rows of another unit than the measure's are left out and
said), ``UNIT_MULT`` its multiplier, ``OBS_STATUS``/``OBS_FLAG`` its status. Rows of a dimension the
project does not hold, at a value other than its whole, are left out and said, never added up; a
dimension with a single value throughout is read as it is, and said.
"""

from __future__ import annotations

import io
import re
from functools import cache

import pandas as pd
import yaml

from mmicd import DATA_DIR, codes
from mmicd.io.layouts import Raw, read_table
from mmicd.io.read import Book, cell_text

VOCABULARY = DATA_DIR / "vocabulary" / "sdmx.yml"
TSV_HEAD = re.compile(r"^[^\t]*\\\s*time(_period)?\s*\t", re.I)   # "freq,unit,...,geo\TIME_PERIOD<tab>"


@cache
def vocabulary() -> dict:
    with open(VOCABULARY, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def _ids(section: str) -> dict[str, str]:
    """Upper-case id -> what it is, for a section of ids by meaning (``dimensions``, ``basis``)."""
    return {i.upper(): meaning for meaning, ids in vocabulary()[section].items() for i in ids}


def _upper(section: str) -> tuple[str, ...]:
    """A list of ids of ``sdmx.yml`` in upper case, in its order (the first one present wins)."""
    return tuple(str(x).upper() for x in vocabulary()[section])


def is_sdmx_csv(headers: list[str]) -> str | None:
    """'1.0' or '2.0' when the header row is an SDMX-CSV header."""
    first = [h.strip().upper().split(":")[0] for h in headers[:3]]
    if first[:1] == ["DATAFLOW"]:
        return "1.0"
    if first[:2] == ["STRUCTURE", "STRUCTURE_ID"]:
        return "2.0"
    return None


def read(book: Book) -> list[Raw]:
    """The observations of an SDMX-CSV or Eurostat TSV file ([] when the file is neither)."""
    if book.ftype != "csv":
        return []
    if TSV_HEAD.match(book.text[:4096]):
        found = _eurostat_tsv(book)
        if found is None:
            return []
        src, headers, dataflow, layout = found
    else:
        head = book.grid("", 1)
        headers = [cell_text(c) for c in head[0]] if head else []
        version = is_sdmx_csv(headers)
        if version is None:
            return []
        src, headers = read_table(book, "", 0)
        dataflow = cell_text(src[headers[1 if version == "2.0" else 0]].iloc[0]) if len(src) else ""
        layout = f"sdmx_csv_{version}"
    return _interpret(src, headers, dataflow, layout)


def _eurostat_tsv(book: Book) -> tuple[pd.DataFrame, list[str], str, str] | None:
    """Eurostat's TSV in the long shape of SDMX-CSV: one row per series and period, the value and
    its flags apart (``66912 p`` -> ``66912``, ``p``; ``:`` -> missing). Its dataflow is in the file
    name (``estat_migr_imm1ctz.tsv``, ``migr_imm1ctz.tsv``)."""
    frame = pd.read_csv(io.StringIO(book.text), sep="\t", dtype=str, keep_default_na=False)
    if frame.shape[1] < 2:
        return None
    first = frame.columns[0]
    ids = [x.strip() for x in first.split("\\")[0].split(",")]
    keys = frame[first].str.split(",", expand=True)
    if keys.shape[1] != len(ids):
        return None
    keys.columns = ids
    periods = list(frame.columns[1:])
    rows = range(2, len(frame) + 2)                 # the file's line of each series
    long = frame[periods].assign(_row=rows).melt(id_vars="_row", var_name="TIME_PERIOD", value_name="cell")
    long = long.merge(keys.assign(_row=rows), on="_row", how="left")
    cell = long["cell"].str.strip()
    parts = cell.str.extract(r"^(?P<value>[^\s]*)\s*(?P<flag>[a-z]*)$")
    long["OBS_VALUE"] = parts["value"].where(parts["value"] != ":", "").fillna(cell)
    long["OBS_FLAG"] = parts["flag"].fillna("")
    long["TIME_PERIOD"] = long["TIME_PERIOD"].str.strip()
    long["_cno"] = long["TIME_PERIOD"].map({p.strip(): n + 1 for n, p in enumerate(periods)})
    name = re.sub(r"\.(tsv|txt|csv)(\.gz)?$", "", book.name.rsplit("/", 1)[-1], flags=re.I)
    dataflow = "ESTAT:" + re.sub(r"^estat_", "", name, flags=re.I).upper()
    headers = [*ids, "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG"]
    return long[["_row", "_cno", *headers]], headers, dataflow, "eurostat_tsv"


def _interpret(src: pd.DataFrame, headers: list[str], dataflow: str, layout: str) -> list[Raw]:
    from mmicd.clean.mapping import age_code, measure_codes

    voc = vocabulary()
    # "labels both" in 2.0: a column of labels after each code column ("REF_AREA", "Reference area")
    ids: dict[str, str] = {}
    for h in headers:
        code = h.split(":")[0].strip()
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*( UPDATE)?", code) and (code.upper() == code or code.lower() == code):
            ids.setdefault(code.upper(), h)
    if "OBS_VALUE" not in ids or "TIME_PERIOD" not in ids:
        return []
    problems: list[tuple[str, str, dict]] = []
    out = pd.DataFrame({"_row": src["_row"]})

    def codes_of(column: str) -> pd.Series:
        values = src[column].astype("string").fillna("").str.strip()
        return values.str.split(":", n=1).str[0].str.strip()          # "DEU: Germany" -> "DEU"

    value = src[ids["OBS_VALUE"]]
    out["value"] = value.mask(value.astype("string").str.strip() == "NaN", "")   # SDMX's missing value
    out["time_period"] = codes_of(ids["TIME_PERIOD"])
    out["_cno"] = src["_cno"] if "_cno" in src else headers.index(ids["OBS_VALUE"])
    out["_col"] = "OBS_VALUE"
    out["unit_mult"] = pd.to_numeric(codes_of(ids["UNIT_MULT"]), errors="coerce").fillna(0).astype(int) \
        if "UNIT_MULT" in ids else 0
    out["_status"] = _status(src, ids, problems)
    for dim in ("sex", "age", "migrant_status", "labour_status", "counterpart_area"):
        out[dim] = codes.TOTAL
    keep = pd.Series(True, index=src.index)
    flow_id = re.sub(r"\(.*$", "", dataflow.split(":")[-1]).strip().upper()
    measure_col = next((ids[m] for m in _upper("measure") if m in ids), None)
    if measure_col is not None:
        measures = codes_of(measure_col)
        found = {m: measure_codes().get(m) or _catalogue_measure(m) for m in measures.unique()}
        unknown = sorted(m for m, f in found.items() if f is None)
        if unknown:
            problems.append(("info", "unused_series", {"column": measure_col, "value": ", ".join(unknown[:20]),
                                                       "n": len(unknown)}))
        keep &= measures.map(lambda m: found.get(m) is not None)
        out["measure"] = measures.map(lambda m: (found.get(m) or {}).get("measure", m))
        fixed_ms = measures.map(lambda m: (found.get(m) or {}).get("migrant_status"))
    elif flow_id in voc["dataflows"]:
        out["measure"] = voc["dataflows"][flow_id]["measure"]
        fixed_ms = pd.Series(voc["dataflows"][flow_id].get("migrant_status"), index=src.index, dtype="object")
    else:   # nothing says what the values measure: said, nothing read
        return [_nothing(layout, headers, dataflow, ("error", "sdmx_unknown_dataflow", {"value": dataflow}))]
    unit_col = next((ids[u] for u in _upper("unit") if u in ids), None)
    if unit_col is not None:
        keep &= _units(codes_of(unit_col), out, unit_col, problems)
    dims, basis = _ids("dimensions"), _ids("basis")
    skipped = {*_upper("not_dimensions"), *_upper("measure"), *_upper("unit")}
    totals = set(_upper("totals"))
    basis_found = ""
    for sdmx_id, column in ids.items():
        if sdmx_id in skipped:
            continue
        dim = dims.get(sdmx_id)
        values = codes_of(column)
        if dim is None:
            keep &= _other_dimension(sdmx_id, column, values, problems)
            continue
        if dim in ("ref_area", "counterpart_area"):
            mapped, ms, aggregate = _areas(values, dim)
            if aggregate.any():
                problems.append(("info", "aggregates_skipped", {
                    "n": int(aggregate.sum()), "value": ", ".join(sorted(set(values[aggregate]))[:12])}))
                keep &= ~aggregate
            if dim == "counterpart_area":
                # several origin dimensions (citizenship, birth place): the one that is not a total
                out[dim] = out[dim].where(mapped == codes.TOTAL, mapped)
                out["migrant_status"] = out["migrant_status"].where(ms.isna(), ms)
                basis_found = basis_found or basis.get(sdmx_id, "")
            else:
                out[dim] = mapped
        elif dim == "sex":
            out[dim] = values.str.replace("SEX_", "", regex=False).replace({"T": codes.TOTAL, "O": codes.UNKNOWN})
        elif dim == "age":
            out[dim] = values.map(lambda v: age_code(v) or (codes.TOTAL if v in totals else v))
        else:
            out[dim] = values.where(~values.isin(totals), codes.TOTAL)
    out["migrant_status"] = fixed_ms.fillna(out["migrant_status"]).where(out["migrant_status"] == codes.TOTAL,
                                                                           out["migrant_status"])
    if "ref_area" not in {dims.get(i) for i in ids}:
        return [_nothing(layout, headers, dataflow, ("error", "no_ref_area", {}))]
    out["breakdown"] = codes.TOTAL
    out["_sheet"] = ""
    out["_part"] = False
    out["_unit"] = ""
    out["_basis"] = basis_found
    out["_tidy"] = True
    frame = out[keep].reset_index(drop=True)
    area_header = next(ids[i] for i in ids if dims.get(i) == "ref_area")
    raw = Raw(layout=layout, sheet=None, frame=frame,
              columns={"ref_area": area_header, "value": ids["OBS_VALUE"], "time_period": ids["TIME_PERIOD"]},
              source_columns=headers, coded=True, parsed=False, header_row=1,
              defaults={"source": _source(dataflow, src, ids), "edition": _edition(src, ids), "title": dataflow,
                        "decimal": "."})
    raw.problems = problems
    return [raw]


def _nothing(layout: str, headers: list[str], dataflow: str, problem: tuple[str, str, dict]) -> Raw:
    """An SDMX file whose rows cannot be read, with why."""
    raw = Raw(layout=layout, sheet=None, frame=pd.DataFrame(), columns={}, source_columns=headers, coded=True,
              parsed=False, header_row=1, defaults={"source": _source(dataflow), "edition": "", "title": dataflow})
    raw.problems = [problem]
    return raw


def _status(src: pd.DataFrame, ids: dict[str, str], problems: list) -> pd.Series | str:
    """OBS_STATUS codes, or OBS_FLAG letters turned into them (``p`` provisional, ``e`` estimated,
    ``c`` confidential …); letters with no status (``b`` break in series, ``d`` definition differs)
    are said once with how many values carry them."""
    if "OBS_STATUS" in ids:
        status = src[ids["OBS_STATUS"]].astype("string").fillna("").str.strip()
        return status.replace(vocabulary()["status_in"])
    if "OBS_FLAG" not in ids:
        return ""
    flags = src[ids["OBS_FLAG"]].astype("string").fillna("").str.strip()
    table = vocabulary()["flags"]
    order = ["Q", "M", "E", "P", "U"]          # the strongest status wins when a cell has several flags

    def status(letters: str) -> str:
        found = [table[ch] for ch in letters if ch in table]
        return next((s for s in order if s in found), "")

    lookup = {f: status(f) for f in flags.unique()}
    other = sorted({ch for f in lookup for ch in f if ch not in table and ch.isalpha()})
    if other:
        n = int(flags.map(lambda f: any(ch in other for ch in f)).sum())
        problems.append(("info", "sdmx_flags", {"value": ", ".join(other), "n": n, "column": ids["OBS_FLAG"]}))
    return flags.map(lookup)


def _units(units: pd.Series, out: pd.DataFrame, column: str, problems: list) -> pd.Series:
    """Rows whose unit is the measure's (a count of persons for a count): kept, with the unit's
    multiplier (thousands); other units (a percentage beside the counts) are left out and said."""
    table = vocabulary()["units"]
    measure_unit = codes.codelist("measure")["unit_measure"].to_dict()
    got = units.str.upper().map(lambda u: (table.get(u) or {}).get("unit"))
    wanted = out["measure"].map(lambda m: measure_unit.get(m))
    ok = got.notna() & (got == wanted)
    mult = units.str.upper().map(lambda u: (table.get(u) or {}).get("mult", 0)).fillna(0).astype(int)
    out["unit_mult"] = out["unit_mult"].where(mult == 0, mult)
    if (~ok).any():
        problems.append(("info", "sdmx_other_unit", {"column": column, "n": int((~ok).sum()),
                                                     "value": ", ".join(sorted(set(units[~ok]))[:10])}))
    return ok


def _other_dimension(sdmx_id: str, column: str, values: pd.Series, problems: list) -> pd.Series:
    """Rows to keep of a dimension the project does not hold: its totals (or its whole, e.g. every
    asylum applicant), or its only value when it has one; the rest is said, never added up."""
    present = [v for v in values.unique() if v != ""]
    if not _is_dimension(values):
        return pd.Series(True, index=values.index)
    if len(present) == 1:
        problems.append(("info", "sdmx_constant", {"column": column, "value": present[0]}))
        return pd.Series(True, index=values.index)
    whole = {str(w).upper() for w in vocabulary()["whole"].get(sdmx_id, [])} | set(_upper("totals"))
    other = ~values.str.upper().isin(whole) & (values != "")
    if other.any():
        problems.append(("info", "sdmx_other_dimension", {"column": column, "n": int(other.sum()),
                                                          "value": ", ".join(sorted(set(values[other]))[:10])}))
    return ~other


def _areas(values: pd.Series, dim: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(area codes, migrant status a group of people implies or <NA>, publisher aggregates) of an
    area dimension: ISO2/ISO3/M49 codes or names, the publisher's own codes (Eurostat ``EL``), totals,
    groups of people in an origin dimension (``FOR`` foreign citizens, ``NAT`` nationals)."""
    upper = values.str.upper()
    own = codes.area_code_systems().get("eurostat", {})
    groups = vocabulary()["origin_groups"] if dim == "counterpart_area" else {}
    totals = {str(t).upper() for t in vocabulary()["area_totals"]} if dim == "counterpart_area" else set()
    aggregates = codes.aggregate_lookup(None)
    m49 = _m49_aggregates()
    area, status, aggregate = {}, {}, {}
    for v in upper.unique():
        group = groups.get(v)
        status[v] = (group or {}).get("migrant_status")
        if group is not None:
            area[v] = (group or {}).get("counterpart_area", codes.TOTAL)
        elif v in totals:
            area[v] = codes.TOTAL
        else:
            area[v] = own.get(v) or m49.get(v) or codes.resolve_area(v) or v
        aggregate[v] = area[v] == v and not codes.resolve_area(v) and codes.normalise_name(v) in aggregates
    return upper.map(area), upper.map(status), upper.map(aggregate).astype(bool)


@cache
def _m49_aggregates() -> dict[str, str]:
    """M49 codes of World and the regions (``001``, ``002``…) -> the project's area codes."""
    from mmicd.sdmx.structure import area_codes

    return {m49: area for area, m49 in area_codes().items() if codes.area_kind(area) != "country"}


def _catalogue_measure(code: str) -> dict[str, str] | None:
    """The series of a catalogue indicator, as the project's SDMX exports name it (``INDICATOR``
    ``imm_stock``): a count or published value of one measure reads back as that measure (with the
    codes its numerator fixes), an SDG series as its series does (``rem_in_gdp``: BX_TRF_PWKR); other
    computed indicators (shares, rates) are no measure of their own."""
    from mmicd.clean.mapping import measure_codes
    from mmicd.engine import catalogue

    ind = catalogue().get(code)
    if ind is not None and ind.series in measure_codes():
        return measure_codes()[ind.series]
    if ind is None or ind.type not in ("count", "passthrough") or len(ind.numerator.get("measure", ())) != 1:
        return None
    fixed = {dim: values[0] for dim, values in ind.numerator.items()
             if dim in ("measure", "migrant_status", "labour_status") and len(values) == 1}
    return fixed if len(fixed) == len(ind.numerator) else None


def _is_dimension(values: pd.Series) -> bool:
    return values.str.fullmatch(r"[A-Za-z0-9_-]{1,24}").fillna(False).mean() > 0.9


def _source(dataflow: str, src: pd.DataFrame | None = None, ids: dict[str, str] | None = None) -> str:
    """The file's SOURCE_DETAIL when every row gives the same one (the project's own exports), else the
    publisher the dataflow's agency names."""
    if src is not None and ids and "SOURCE_DETAIL" in ids:
        details = set(src[ids["SOURCE_DETAIL"]].astype("string").fillna("").str.strip()) - {""}
        if len(details) == 1:
            return details.pop()
    agency = dataflow.split(":")[0] if ":" in dataflow else ""
    flow = re.sub(r"\(.*$", "", dataflow.split(":")[-1]).strip()
    name = {"OECD.ELS.IMD": "OECD, International Migration Database", "IAEG-SDGs": "UN, SDG Global Database",
            "ESTAT": f"Eurostat ({flow.lower()})" if flow else "Eurostat", "ILO": "ILO, ILOSTAT"}.get(agency)
    return name or (f"SDMX {dataflow}" if dataflow else "SDMX")


def _edition(src: pd.DataFrame, ids: dict[str, str]) -> str:
    """The data's last update when the file gives it (Eurostat's ``LAST UPDATE`` 27/03/2024 ->
    2024-03-27); SDMX-CSV's structure version is not the data's edition: else none is claimed."""
    if "LAST UPDATE" not in ids or not len(src):
        return ""
    stamp = pd.to_datetime(src[ids["LAST UPDATE"]].astype("string").str.strip(), errors="coerce", dayfirst=True,
                           format="mixed")
    return stamp.max().date().isoformat() if stamp.notna().any() else ""
