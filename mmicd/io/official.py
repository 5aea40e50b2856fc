"""Known tidy CSV layouts, recognised from their header row.

Each detector returns :class:`Raw` tables already in canonical codes (``coded=True``) with the
sheet row of every value in ``_row`` and its column header in ``_col``:

* ``undesa_ims_origin``  UN DESA destination x origin x sex, tidy (gdidata ``geo,t,from,sex,n``)
* ``wdi``                World Bank WDI: long ``geo,var,t,v`` or a CSV download (``1990 [YR1990]``)
* ``wpp``                UN WPP population by age and sex (``country_code,year,age,popM,popF,pop``)
* ``ilostat``            ILOSTAT bulk CSV (``ref_area,indicator,sex,classif1,time,obs_value``)
* ``rpw``                Remittance Prices Worldwide corridor export (cost of sending USD 200, %)

Workbooks (the UN DESA IMS workbook, World Bank downloads in Excel, KNOMAD matrices, national
tables) are read by the general table reader (:mod:`mmicd.io.reader`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.io.layouts import YEAR, Raw, read_table
from mmicd.io.read import Book, cell_text, parse_numbers

UNDESA_IMS = "UN DESA, International Migrant Stock"
WDI_SOURCE = "World Bank, World Development Indicators"
WDI_MEASURES = {"BX.TRF.PWKR.CD.DT": "REM_IN", "BM.TRF.PWKR.CD.DT": "REM_OUT", "NY.GDP.MKTP.CD": "GDP",
                "SM.POP.NETM": "NET_MIG", "SP.POP.TOTL": "POP",
                "remin": "REM_IN", "remout": "REM_OUT", "gdp": "GDP", "nmig": "NET_MIG"}


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
