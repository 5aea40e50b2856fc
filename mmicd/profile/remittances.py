"""Remittances as % of GDP for a country, its region and the world, from summed numerators and
denominators of the member countries (never averaged percentages), saying who lacks data."""

from __future__ import annotations

import pandas as pd

from mmicd import codes
from mmicd.profile.regions import members

T = codes.TOTAL


def country_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """REM_IN and GDP per (ref_area, time_period) of one dataset: columns REM_IN, GDP."""
    if frame.empty:
        return pd.DataFrame(columns=["ref_area", "time_period", "REM_IN", "GDP"])
    rows = frame.loc[(frame["sex"] == T) & (frame["age"] == T) & (frame["counterpart_area"] == T)
                     & frame["measure"].isin(["REM_IN", "GDP"])]
    wide = rows.pivot_table(index=["ref_area", "time_period"], columns="measure", values="value", aggfunc="first")
    for m in ("REM_IN", "GDP"):
        if m not in wide.columns:
            wide[m] = float("nan")
    return wide[["REM_IN", "GDP"]].reset_index()


def group_ratio(totals: pd.DataFrame, group: str) -> pd.DataFrame:
    """Per year: sum of REM_IN / sum of GDP × 100 over the group's countries reporting both.

    Columns: time_period, value, numerator, denominator, reporting, members, missing (list of codes).
    """
    member_codes = set(members(group))
    part = totals.loc[totals["ref_area"].isin(member_codes)]
    out = []
    for period, g in part.groupby("time_period"):
        both = g.loc[g["REM_IN"].notna() & g["GDP"].notna() & (g["GDP"] > 0)]
        if both.empty:
            continue
        num, den = float(both["REM_IN"].sum()), float(both["GDP"].sum())
        missing = sorted(member_codes - set(both["ref_area"]))
        out.append({"time_period": period, "value": num / den * 100, "numerator": num, "denominator": den,
                    "reporting": len(both), "members": len(member_codes), "missing": missing})
    return pd.DataFrame(out, columns=["time_period", "value", "numerator", "denominator", "reporting", "members",
                                      "missing"])
