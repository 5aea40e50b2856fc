"""Official layouts recognised from the file itself.

Each detector returns :class:`Raw` tables already in canonical codes (``coded=True``) with the
sheet row of every value in ``_row`` and its column header in ``_col``:

* ``undesa_ims_by_sex``  UN DESA International Migrant Stock workbook (Table 1 stock, Table 2 population)
* ``undesa_ims_origin``  UN DESA destination x origin x sex, tidy (gdidata ``geo,t,from,sex,n``)
* ``wdi``                World Bank WDI: long ``geo,var,t,v`` or the download layout (``1990 [YR1990]``)
* ``knomad_matrix``      KNOMAD/World Bank bilateral remittance or migration matrix
* ``wpp``                UN WPP population by age and sex (``country_code,year,age,popM,popF,pop``)
* ``ilostat``            ILOSTAT bulk CSV (``ref_area,indicator,sex,classif1,time,obs_value``)
* ``rpw``                Remittance Prices Worldwide corridor export (cost of sending USD 200, %)
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.io.layouts import YEAR, Raw, read_table, unit_mult_from
from mmicd.io.read import Book, cell_text, parse_numbers

SEX_WORDS = [(re.compile(r"\bfemales?\b|\bwomen\b|\bfemmes\b|\bmujeres\b", re.I), "F"),
             (re.compile(r"\bmales?\b|\bmen\b|\bhommes\b|\bhombres\b", re.I), "M"),
             (re.compile(r"both sexes|total|ensemble|ambos", re.I), "_T")]
UNDESA_IMS = "UN DESA, International Migrant Stock"
WDI_SOURCE = "World Bank, World Development Indicators"
WDI_MEASURES = {"BX.TRF.PWKR.CD.DT": "REM_IN", "BM.TRF.PWKR.CD.DT": "REM_OUT", "NY.GDP.MKTP.CD": "GDP",
                "SM.POP.NETM": "NET_MIG", "SP.POP.TOTL": "POP",
                "remin": "REM_IN", "remout": "REM_OUT", "gdp": "GDP", "nmig": "NET_MIG"}


def detect(book: Book) -> list[Raw]:
    for detector in (ims_by_sex, csv_layouts, wdi_download, knomad_matrix):
        found = detector(book)
        if found:
            return found
    return []


def _headers(book: Book, sheet: str = "") -> list[str]:
    grid = book.grid(sheet, 1)
    return [cell_text(c) for c in grid[0]] if grid else []


def _frame(**cols) -> pd.DataFrame:
    n = max(len(v) for v in cols.values() if isinstance(v, (pd.Series, np.ndarray, list)))
    return pd.DataFrame({k: (v if isinstance(v, (pd.Series, np.ndarray, list)) else [v] * n)
                         for k, v in cols.items()})


def _areas(values: pd.Series, *fallbacks: pd.Series) -> pd.Series:
    """Area codes for names/codes; unresolved ones keep their text (validation reports them)."""
    uniq = {u: codes.resolve_area(u) for u in pd.unique(values.astype(str))}
    out = values.astype(str).map(uniq)
    for fb in fallbacks:
        fb_uniq = {u: codes.resolve_area(u) for u in pd.unique(fb[out.isna()].astype(str))}
        out = out.fillna(fb.astype(str).map(fb_uniq))
    return out.fillna(values.astype(str).str.strip())


# ---- UN DESA IMS workbook by sex and destination ------------------------------------------------
def ims_by_sex(book: Book) -> list[Raw]:
    if book.ftype == "csv" or "Table 1" not in book.sheet_names:
        return []
    head = " ".join(cell_text(c) for row in book.grid("Table 1", 8) for c in row)
    if "International Migrant Stock" not in head and "international migrant stock" not in head.lower():
        return []
    edition = (re.search(r"International Migrant Stock (\d{4})", head) or [None, ""])[1]
    # Table 1 (stock) and Table 2 (population, thousands) form ONE dataset, as in the baseline: the
    # migrant share is computed from numerator and denominator of the same dataset and edition.
    parts, first = [], None
    for sheet, scale, migrant, mult in (("Table 1", 1, "MS_MIGRANT", 0), ("Table 2", 1000, "_T", 3)):
        if sheet not in book.sheet_names:
            continue
        raw = _wide_by_sex(book, sheet, scale)
        if raw is None:
            continue
        raw.frame["migrant_status"] = migrant
        raw.frame["unit_mult"] = mult
        raw.frame["_sheet"] = sheet
        parts.append(raw.frame)
        first = first or raw
    if first is None:
        return []
    first.frame = pd.concat(parts, ignore_index=True)
    first.kind = "migrant_stock"
    first.layout = "undesa_ims_by_sex"
    first.defaults = {"source": UNDESA_IMS, "edition": edition,
                      "title": "; ".join(t for t in (_title(book, s) for s in ("Table 1", "Table 2")) if t),
                      "licence": "CC BY 3.0 IGO",
                      "basis": "country of birth (or citizenship where birth data are missing)"}
    return [first]


def _title(book: Book, sheet: str) -> str:
    for row in book.grid(sheet, 8):
        for c in row:
            text = cell_text(c)
            if text.lower().startswith("table"):
                return text
    return ""


def _wide_by_sex(book: Book, sheet: str, scale: float) -> Raw | None:
    """Title rows, a sex group row over repeated years (merged cells), a header row of years."""
    grid = book.grid(sheet)
    header = next((i for i, r in enumerate(grid[:40]) if sum(1 for c in r if YEAR.match(cell_text(c))) >= 3), None)
    if header is None:
        return None
    cells = [cell_text(c) for c in grid[header]]
    year_cols = [j for j, c in enumerate(cells) if YEAR.match(c)]
    # group labels above the years: nearest non-empty cell to the left on the rows above (merged ranges)
    sex_of: dict[int, str] = {}
    for j in year_cols:
        for i in range(header - 1, max(header - 6, -1), -1):
            label = next((cell_text(grid[i][k]) for k in range(j, -1, -1) if cell_text(grid[i][k])), "")
            hit = next((code for pattern, code in SEX_WORDS if pattern.search(label)), None)
            if hit:
                sex_of[j] = hit
                break
        sex_of.setdefault(j, "_T")
    name_col = next((j for j, c in enumerate(cells) if "country or area" in c.lower() or "region" in c.lower()), 1)
    code_col = next((j for j, c in enumerate(cells) if "code" in c.lower()), None)
    rows = []
    for i in range(header + 1, len(grid)):
        r = grid[i]
        name = cell_text(r[name_col]) if name_col < len(r) else ""
        if not name:
            break
        code = cell_text(r[code_col]) if code_col is not None else ""
        for j in year_cols:
            rows.append((i + 1, name, code, cells[j], sex_of[j], r[j] if j < len(r) else ""))
    frame = pd.DataFrame(rows, columns=["_row", "name", "code", "_col", "sex", "value"])
    area = _areas(frame["code"], frame["name"]) if code_col is not None else _areas(frame["name"])
    values, status, bad = parse_numbers(frame["value"].map(lambda v: v if isinstance(v, (int, float)) else str(v)))
    frame = _frame(_row=frame["_row"], _col=frame["_col"] + " (" + frame["sex"] + ")", measure="POP",
                   ref_area=area, time_period=frame["_col"].str[:4], sex=frame["sex"],
                   value=(values * scale).where(~bad, np.nan), obs_status=status.fillna("A"),
                   _bad=bad, _text=frame["value"].astype(str))
    frame = _drop_identical(frame)
    return Raw(layout="", sheet=sheet, frame=frame, columns={"ref_area": cells[name_col], "value": "value"},
               source_columns=cells, coded=True, header_row=header + 1)


def _drop_identical(frame: pd.DataFrame) -> pd.DataFrame:
    """Aggregates published twice under two codes that resolve to one (same key, same value)."""
    key = [c for c in frame.columns if c not in ("_row", "_col", "_bad", "_text", "obs_status")]
    return frame.drop_duplicates(key, keep="first").reset_index(drop=True)


# ---- CSV layouts --------------------------------------------------------------------------------
def csv_layouts(book: Book) -> list[Raw]:
    if book.ftype != "csv":
        return []
    headers = {h.strip().lower() for h in _headers(book)}
    if {"geo", "t", "from", "sex", "n"} <= headers:
        return [_undesa_origin(book)]
    if {"geo", "var", "t", "v"} <= headers:
        return [_wdi_long(book)]
    if {"country_code", "year", "age", "popm", "popf", "pop"} <= headers:
        return [_wpp(book)]
    if {"ref_area", "indicator", "sex", "time", "obs_value"} <= headers:
        return [_ilostat(book)]
    if {"period", "source_code", "destination_code"} <= headers or \
            {"period", "source_name", "destination_name"} <= headers:
        return [_rpw(book)]
    if {"country code", "series code"} <= headers and any(YEAR.match(h) for h in headers):
        return [_wdi_wide(book, "")]
    return []


def _lower(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [c if c == "_row" else c.strip().lower() for c in frame.columns]
    return frame


def _undesa_origin(book: Book) -> Raw:
    src, headers = read_table(book, "", 0)
    src = _lower(src)
    sex = src["sex"].str.strip().str.lower().map({"female": "F", "male": "M", "f": "F", "m": "M",
                                                  "both": "_T", "total": "_T"}).fillna(src["sex"])
    values, status, bad = parse_numbers(src["n"])
    frame = _frame(_row=src["_row"], _col="n", measure="POP", ref_area=_areas(src["geo"]),
                   time_period=src["t"].str.strip(), sex=sex, migrant_status="MS_MIGRANT",
                   counterpart_area=_areas(src["from"]), value=values, obs_status=status.fillna("A"),
                   _bad=bad, _text=src["n"])
    years = sorted(set(frame["time_period"]))
    edition = years[-1] if years else ""
    if edition and edition > "2020":
        edition += " (preliminary)" if edition == "2024" else ""
    return Raw(layout="undesa_ims_origin", sheet=None, frame=frame, kind="migrant_stock",
               columns={"ref_area": "geo", "time_period": "t", "sex": "sex", "counterpart_area": "from",
                        "value": "n"},
               source_columns=headers, coded=True, header_row=1,
               defaults={"source": UNDESA_IMS + " (destination and origin)", "edition": edition,
                         "title": "International migrant stock by destination, origin and sex",
                         "licence": "CC BY 3.0 IGO"})


def _unused_measures(raw: Raw, found: pd.Series, column: str) -> None:
    unused = sorted(set(found.dropna().astype(str)) - set(WDI_MEASURES))
    if unused:
        raw.problems.append(("info", "unused_series", {"column": column, "value": ", ".join(unused[:30]),
                                                       "n": len(unused)}))


def _wdi_long(book: Book) -> Raw:
    src, headers = read_table(book, "", 0)
    src = _lower(src)
    keep = src["var"].isin(list(WDI_MEASURES))
    raw = Raw(layout="wdi", sheet=None, frame=pd.DataFrame(), kind="remittances",
              columns={"ref_area": "geo", "measure": "var", "time_period": "t", "value": "v"},
              source_columns=headers, coded=True, header_row=1,
              defaults={"source": WDI_SOURCE, "title": "World Bank indicators (long)",
                        "licence": "CC BY 4.0"})
    _unused_measures(raw, src["var"], "var")
    src = src[keep]
    values, status, bad = parse_numbers(src["v"])
    frame = _frame(_row=src["_row"], _col="v", measure=src["var"].map(WDI_MEASURES), ref_area=_areas(src["geo"]),
                   time_period=src["t"].str.strip(), value=values, obs_status=status.fillna("A"), _bad=bad,
                   _text=src["v"])
    # rows without a value are not data (the long file lists every country-year)
    raw.frame = frame[frame["value"].notna() | bad].reset_index(drop=True)
    return raw


def wdi_download(book: Book) -> list[Raw]:
    if book.ftype == "csv":
        return []
    for sheet in book.sheet_names:
        headers = {cell_text(c).lower() for c in (book.grid(sheet, 1) or [[]])[0]}
        if {"country code", "series code"} <= headers:
            return [_wdi_wide(book, sheet)]
    return []


def _wdi_wide(book: Book, sheet: str) -> Raw:
    src, headers = read_table(book, sheet, 0)
    by_lower = {h.lower(): h for h in headers}
    years = {h: YEAR.match(h).group(1) for h in headers if YEAR.match(h)}
    code_h, series_h = by_lower["country code"], by_lower["series code"]
    raw = Raw(layout="wdi", sheet=sheet or None, frame=pd.DataFrame(), kind="remittances",
              columns={"ref_area": code_h, "measure": series_h, "value": "value"}, source_columns=headers,
              coded=True, header_row=1,
              defaults={"source": WDI_SOURCE, "title": "World Development Indicators (download)",
                        "licence": "CC BY 4.0"})
    src = src[src[code_h].astype("string").str.strip().fillna("") != ""]
    _unused_measures(raw, src[series_h], series_h)
    src = src[src[series_h].isin(list(WDI_MEASURES))]
    long = src.melt(id_vars=[code_h, series_h, "_row"], value_vars=list(years), var_name="_col", value_name="v")
    values, status, bad = parse_numbers(long["v"])
    raw.frame = _frame(_row=long["_row"], _col=long["_col"], measure=long[series_h].map(WDI_MEASURES),
                       ref_area=_areas(long[code_h]), time_period=long["_col"].map(years), value=values,
                       obs_status=status.fillna("A"), _bad=bad, _text=long["v"])
    return raw


M49_SYNONYMS = {"947": "1834", "921": "1831", "1830": "904", "1836": "927"}
WPP_AGES = {f"{a}-{a + 4}": f"Y{a}T{a + 4}" for a in range(0, 100, 5)} | {"100+": "Y_GE100"}


def _wpp(book: Book) -> Raw:
    src, headers = read_table(book, "", 0)
    src = _lower(src)
    parts = []
    # aggregates WPP also publishes under a second M49 code (same countries, same figures): keep one
    m49 = src["country_code"].str.strip()
    synonyms = m49.isin(list(M49_SYNONYMS)) & m49.map(M49_SYNONYMS).isin(set(m49))
    src = src[~synonyms]
    area = _areas(src["country_code"].str.strip().replace(M49_SYNONYMS))
    age = src["age"].str.strip().map(WPP_AGES).fillna(src["age"])
    for col, sex in (("pop", "_T"), ("popm", "M"), ("popf", "F")):
        values, status, bad = parse_numbers(src[col])
        parts.append(_frame(_row=src["_row"], _col=col, measure="POP", ref_area=area,
                            time_period=src["year"].str.strip(), sex=sex, age=age, value=values * 1000,
                            unit_mult=3, obs_status=status.fillna("A"), _bad=bad, _text=src[col]))
    frame = pd.concat(parts, ignore_index=True)
    five = frame[frame["age"].isin(list(WPP_AGES.values()))]
    totals = five.groupby(["ref_area", "time_period", "sex"], as_index=False, sort=False).agg(
        value=("value", lambda v: v.sum(min_count=1)), _row=("_row", "min"))
    totals = totals.assign(_col="age total", measure="POP", age="_T", unit_mult=3, obs_status="A", _bad=False,
                           _text="")
    frame = pd.concat([frame, totals], ignore_index=True)
    frame["value"] = frame["value"].round(3)
    frame = _drop_identical(frame)
    return Raw(layout="wpp", sheet=None, frame=frame, kind="population",
               columns={"ref_area": "country_code", "time_period": "year", "age": "age", "value": "pop"},
               source_columns=headers, coded=True, header_row=1,
               defaults={"source": "UN DESA, World Population Prospects", "title": "Population by sex and age",
                         "licence": "CC BY 3.0 IGO", "basis": "de facto population at 1 July"})


ILO_INDICATORS = {  # indicator prefix -> (measure, labour_status)
    "POP_XWAP": ("POP", "_T"), "EMP_TEMP": ("POP", "EMP"), "UNE_TUNE": ("POP", "UNE"), "EIP_TEIP": ("POP", "INA"),
}
ILO_SEX = {"SEX_T": "_T", "SEX_M": "M", "SEX_F": "F", "SEX_O": "_U"}


def _ilostat(book: Book) -> Raw:
    src, headers = read_table(book, "", 0)
    src = _lower(src)
    prefix = src["indicator"].str.strip().str[:8]
    known = prefix.isin(list(ILO_INDICATORS)) & src["indicator"].str.endswith("_NB")
    raw = Raw(layout="ilostat", sheet=None, frame=pd.DataFrame(), kind="lfs",
              columns={"ref_area": "ref_area", "measure": "indicator", "sex": "sex", "age": "classif1",
                       "time_period": "time", "value": "obs_value", "obs_status": "obs_status"},
              source_columns=headers, coded=True, header_row=1,
              defaults={"source": "ILO, ILOSTAT", "title": "Labour force statistics (ILOSTAT bulk download)",
                        "licence": "CC BY 4.0"})
    unused = sorted(set(src.loc[~known, "indicator"]))
    if unused:
        raw.problems.append(("info", "unused_series", {"column": "indicator", "value": ", ".join(unused[:30]),
                                                       "n": len(unused)}))
    src, prefix = src[known], prefix[known]
    from mmicd.clean.mapping import age_code  # code tables only; no later stage logic

    classif = src["classif1"] if "classif1" in src else pd.Series("AGE_AGGREGATE_TOTAL", index=src.index)
    ages = {a: age_code(a) or a for a in pd.unique(classif)}
    values, status, bad = parse_numbers(src["obs_value"])
    given = src["obs_status"].str.strip() if "obs_status" in src else pd.Series("", index=src.index)
    given = given.where(given.isin(codes.codes("obs_status")), "A")
    raw.frame = _frame(_row=src["_row"], _col="obs_value", measure=prefix.map(lambda p: ILO_INDICATORS[p][0]),
                       labour_status=prefix.map(lambda p: ILO_INDICATORS[p][1]), ref_area=_areas(src["ref_area"]),
                       time_period=src["time"].str.strip(), sex=src["sex"].map(ILO_SEX).fillna(src["sex"]),
                       age=classif.map(ages), value=values * 1000, unit_mult=3,
                       obs_status=status.fillna(given), _bad=bad, _text=src["obs_value"])
    return raw


def _rpw(book: Book) -> Raw:
    """Remittance Prices Worldwide: cost of sending USD 200 (%), averaged over firms per corridor and period."""
    src, headers = read_table(book, "", 0)
    src = _lower(src)
    cost_col = next((c for c in src.columns if re.search(r"cc1.*total cost|total cost.*%|total_cost", c)), None)
    send = "source_code" if "source_code" in src else "source_name"
    recv = "destination_code" if "destination_code" in src else "destination_name"
    raw = Raw(layout="rpw", sheet=None, frame=pd.DataFrame(), kind="remittance_corridors",
              columns={"counterpart_area": send, "ref_area": recv, "time_period": "period",
                       "value": cost_col or "cc1 total cost %"},
              source_columns=headers, coded=True, header_row=1,
              defaults={"source": "World Bank, Remittance Prices Worldwide",
                        "title": "Total average cost of sending USD 200 by corridor (%)",
                        "notes": "simple average over the firms surveyed in each corridor and period"})
    if cost_col is None:
        raw.problems.append(("error", "missing_column", {"column": "cc1 total cost %"}))
        return raw
    from mmicd.clean.mapping import recode

    values, status, bad = parse_numbers(src[cost_col])
    period = recode("time_period", src["period"])
    frame = _frame(_row=src["_row"], _col=cost_col, measure="REM_COST", ref_area=_areas(src[recv]),
                   counterpart_area=_areas(src[send]), time_period=period, value=values,
                   obs_status=status.fillna("A"), _bad=bad, _text=src[cost_col])
    keys = ["measure", "ref_area", "counterpart_area", "time_period"]
    good = frame[~frame["_bad"]]
    avg = good.groupby(keys, as_index=False, sort=False).agg(
        value=("value", "mean"), _row=("_row", "min"), n=("value", "count"))
    avg["obs_status"] = np.where(avg["n"] > 0, "A", "M")
    avg = avg.drop(columns="n").assign(_col=cost_col, _bad=False, _text="")
    raw.frame = pd.concat([avg, frame[frame["_bad"]]], ignore_index=True)
    return raw


# ---- KNOMAD bilateral matrices ------------------------------------------------------------------
def knomad_matrix(book: Book) -> list[Raw]:
    if book.ftype == "csv":
        return []
    for sheet in book.sheet_names:
        grid = book.grid(sheet, 6)
        for h, row in enumerate(grid[:5]):
            names = [cell_text(c) for c in row[1:]]
            if sum(1 for n in names if n and codes.resolve_area(n)) < 20:
                continue
            return [_matrix(book, sheet, h)]
    return []


def _matrix(book: Book, sheet: str, h: int) -> Raw:
    grid = book.grid(sheet)
    title = " ".join(cell_text(c) for row in grid[:h] for c in row if cell_text(c))
    corner = cell_text(grid[h][0])
    remit = "remittance" in (title + corner).lower()
    mult = unit_mult_from([title]) if remit else 0
    year = (re.search(r"\b(19|20)\d{2}\b", title) or re.search(r"\b(19|20)\d{2}\b", sheet))
    year = year.group(0) if year else ""
    across = [cell_text(c) for c in grid[h]]
    rows = []
    for i in range(h + 1, len(grid)):
        name = cell_text(grid[i][0])
        if not name:
            break
        for j in range(1, len(across)):
            if across[j]:
                v = grid[i][j] if j < len(grid[i]) else ""
                if v == "" or v is None:
                    continue
                rows.append((i + 1, name, across[j], v))
    frame = pd.DataFrame(rows, columns=["_row", "down", "_col", "v"])
    values, status, bad = parse_numbers(frame["v"].map(lambda v: v if isinstance(v, (int, float)) else str(v)))
    frame = _frame(_row=frame["_row"], _col=frame["_col"], measure="REM_IN" if remit else "POP",
                   migrant_status="_T" if remit else "MS_MIGRANT", ref_area=_areas(frame["_col"]),
                   counterpart_area=_areas(frame["down"]), time_period=year,
                   value=(values * 10.0 ** mult).round(3), unit_mult=mult, obs_status=status.fillna("E"),
                   _bad=bad, _text=frame["v"].astype(str))
    # "Other North" and "Other South" are both the residual partner OOO: their sum is kept
    key = ["measure", "ref_area", "counterpart_area", "time_period", "migrant_status"]
    dup = frame.duplicated(key, keep=False) & (frame["counterpart_area"] == "OOO") | \
        frame.duplicated(key, keep=False) & (frame["ref_area"] == "OOO")
    if dup.any():
        summed = frame[dup].groupby(key, as_index=False, sort=False).agg(
            value=("value", "sum"), _row=("_row", "min"), _col=("_col", "first"), unit_mult=("unit_mult", "first"),
            obs_status=("obs_status", "first"), _bad=("_bad", "any"), _text=("_text", "first"))
        frame = pd.concat([frame[~dup], summed], ignore_index=True)
    source = "KNOMAD/World Bank, Bilateral " + ("Remittance" if remit else "Migration") + " Matrix"
    return Raw(layout="knomad_matrix", sheet=sheet, frame=frame,
               kind="remittance_corridors" if remit else "migrant_stock",
               columns={"ref_area": across[1] if len(across) > 1 else "", "counterpart_area": corner,
                        "value": "value"},
               source_columns=across, coded=True, header_row=h + 1,
               defaults={"source": source, "edition": year, "title": title[:300],
                         "basis": "modelled estimates" if remit else "estimates from census and UN DESA data",
                         "notes": "cite: KNOMAD/World Bank Bilateral Remittance Matrix " + year if remit else ""})
