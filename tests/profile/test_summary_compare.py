"""Country summaries with four countries: one comparison table, indicators as rows and a column per
country, every value shown (AppTest on the seeded store: UN DESA 2020 migrant stocks)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

from tests.hostile import displayed
from tests.profile.test_pages import run_page

DESA = Path(__file__).resolve().parents[2] / "data" / "reference" / "undesa_ims2020.csv.gz"
FOUR = ["DEU", "SEN", "NPL", "MEX"]
NAMES = ["Germany", "Senegal", "Nepal", "Mexico"]


def desa_stock_2020() -> dict[str, float]:
    """The migrant stocks of the four countries in 2020 read straight from the UN DESA reference file."""
    with gzip.open(DESA, "rt") as fh:
        table = pd.read_csv(fh, dtype=str)
    rows = table.loc[(table["measure"] == "POP") & table["ref_area"].isin(FOUR) & (table["time_period"] == "2020")
                     & (table["sex"] == "_T") & (table["age"] == "_T") & (table["migrant_status"] == "MS_MIGRANT")
                     & (table["counterpart_area"] == "_T")]
    return dict(zip(rows["ref_area"], rows["value"].astype(float), strict=True))


def test_four_countries_in_one_comparison_table(app_env):
    at = run_page("summary", country="DEU", year="2020")
    at.multiselect(key="summary_countries").set_value(FOUR).run()
    assert not at.exception, at.exception
    table = at.table[0].value
    assert table.index.name == "Indicator" and list(table.columns) == ["Unit", *NAMES]
    stock = table.loc["International migrant stock"]
    assert stock["Unit"] == "Persons"
    expected = desa_stock_2020()
    assert [stock[name] for name in NAMES] == [f"{expected[c]:,.0f} (2020)" for c in FOUR]
    share = table.loc["Migrants as % of population"]
    assert share["Unit"] == "Percent" and share["Germany"] == "18.8% (2020)"
    # each country's readings, regional comparison and brief in its own tab
    assert [t.label for t in at.tabs] == NAMES
    readings = " ".join(displayed(m.value) for m in at.markdown)
    assert "Migrants make up 18.8% of the population (2020)" in readings
    assert {b.key for b in at.button} >= {f"summary_brief_{c}_prepare" for c in FOUR}
