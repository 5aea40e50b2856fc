"""Which region and income group each country belongs to (UN M49 SDG regions, UN income groups).

``membership.csv`` beside this module is derived from the UN location list shipped with UN WPP 2024
(``wpp2024/UNlocations.txt``, CC BY 3.0 IGO) by :func:`build_membership`; only the codes are kept.
Aggregates of the region are always recomputed from their member countries' numerators and
denominators (never by averaging percentages).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from mmicd import codes

MEMBERSHIP_FILE = Path(__file__).resolve().parent / "membership.csv"
SDG_REGIONS = {"1829": "A1829", "1830": "A904", "1831": "A1831", "1832": "A1832", "1833": "A1833",
               "1834": "A1834", "1835": "A1835", "1836": "A927"}  # 1830 = 904 and 1836 = 927 (same members)
INCOME_GROUPS = {"1500": "A1500", "1501": "A1501", "1502": "A1502", "1503": "A1503"}


def build_membership(unlocations: Path) -> pd.DataFrame:
    """Country (ISO3) -> sub-region, SDG region and income group codes, from UNlocations.txt."""
    src = pd.read_csv(unlocations, sep="\t", dtype=str, keep_default_na=False)
    areas = codes.areas()
    by_m49 = {m.lstrip("0"): c for m, c in zip(areas["m49"], areas["code"], strict=True) if m}
    rows = []
    for r in src.loc[src["location_type"] == "4"].to_dict("records"):
        code = by_m49.get(r["country_code"].lstrip("0"))
        if code is None or not codes.is_country(code):
            continue
        sub = f"A{r['reg_code']}"
        sdg = next((v for k, v in SDG_REGIONS.items() if r.get(f"agcode_{k}000", "-1") != "-1"), "")
        inc = next((v for k, v in INCOME_GROUPS.items() if r.get(f"agcode_{k}000", "-1") != "-1"), "")
        rows.append({"code": code, "subregion": sub if sub in areas.index else "", "sdg_region": sdg,
                     "income_group": inc})
    return pd.DataFrame(rows).sort_values("code").reset_index(drop=True)


@cache
def membership() -> pd.DataFrame:
    return pd.read_csv(MEMBERSHIP_FILE, dtype=str, keep_default_na=False).set_index("code", drop=False)


def groups_of(country: str) -> dict[str, str]:
    """{"subregion": ..., "sdg_region": ..., "income_group": ...} of a country (empty strings if unknown)."""
    frame = membership()
    if country not in frame.index:
        return {"subregion": "", "sdg_region": "", "income_group": ""}
    row = frame.loc[country]
    return {k: str(row[k]) for k in ("subregion", "sdg_region", "income_group")}


def members(group: str) -> list[str]:
    """Member countries of an aggregate code (WLD: every country in the list)."""
    frame = membership()
    if group == "WLD":
        return frame["code"].tolist()
    mask = (frame["subregion"] == group) | (frame["sdg_region"] == group) | (frame["income_group"] == group)
    return frame.loc[mask, "code"].tolist()
