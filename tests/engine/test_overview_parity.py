"""The Overview's interim key figures (mmicd/overview.py) equal the engine's, so that the page can
move onto the engine without changing a number."""

from __future__ import annotations

import pytest

from mmicd.engine import compute
from mmicd.overview import FIGURE_IDS, key_figures


@pytest.mark.parametrize("country", ["DEU", "NPL", "MEX"])
def test_overview_figures_equal_the_engine(seeded_store, country):
    own = seeded_store.observations(ref_areas=[country])
    abroad = seeded_store.observations(kinds=["migrant_stock"], counterpart_areas=[country])
    figures = key_figures(own, abroad, "2020")
    table = compute(seeded_store, country=country, indicators=list(FIGURE_IDS)).table
    totals = table.loc[(table["age"] == "_T") & (table["migrant_status"] == "_T") & (table["counterpart_area"] == "_T")]
    for fid, fig in figures.items():
        rows = totals.loc[(totals["indicator"] == fid) & (totals["time_period"] == fig.year)]
        by_sex = dict(zip(rows["sex"], rows["value"], strict=True))
        assert by_sex["_T"] == pytest.approx(fig.value, rel=1e-12), fid
        for sex, value in fig.by_sex.items():
            assert by_sex[sex] == pytest.approx(value, rel=1e-12), (fid, sex)
        assert set(rows["edition"]) == {fig.edition}, fid
