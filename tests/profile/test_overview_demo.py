"""Synthetic demo figures are never the default headline: the Overview's key figures come from real
data (the international baseline) and synthetic demo data is marked wherever it shows."""

from __future__ import annotations

import pandas as pd

from mmicd.model import DatasetMeta, Kind, Status
from mmicd.overview import key_figures
from tests.profile.test_pages import metrics, run_page

CENSUS = pd.DataFrame([{"measure": "POP", "ref_area": "NPL", "time_period": "2021", "sex": sex,
                        "migrant_status": "MS_MIGRANT", "value": v} for sex, v in (("F", 400_000), ("M", 250_000))]
                      + [{"measure": "POP", "ref_area": "NPL", "time_period": "2021", "sex": "_T", "value": 29_192_000}])


def test_a_synthetic_version_stands_beside_the_real_figure_never_before_it(seeded_store):
    demo = seeded_store.add_dataset(DatasetMeta(kind=Kind.CENSUS, source="Demo (synthetic)", scope="NPL"), CENSUS,
                                    actor="system (demo data)", status=Status.PUBLISHED)
    own = seeded_store.observations(ref_areas=["NPL"])
    abroad = seeded_store.observations(kinds=["migrant_stock"], counterpart_areas=["NPL"])
    f = key_figures(own, abroad, "2023", synthetic=frozenset({demo.id}))
    stock = f["imm_stock"]
    assert (stock.value, stock.year, stock.synthetic) == (487_564, "2020", False)  # UN DESA, although older
    assert (stock.alternative.value, stock.alternative.synthetic) == (650_000, True)
    assert f["pop_total"].edition == "2024" and not f["pop_total"].synthetic  # WPP, not the demo's 29,192,000
    # the same version, not synthetic, heads the figure (the newest one wins)
    assert key_figures(own, abroad, "2023")["imm_stock"].value == 650_000
    # with nothing real, the synthetic figure is shown, and marked
    only = key_figures(own.loc[own["dataset_id"] == demo.id], abroad.iloc[0:0], "2023",
                       synthetic=frozenset({demo.id}))["imm_stock"]
    assert (only.value, only.synthetic, only.alternative) == (650_000, True, None)


def test_the_overview_heads_with_real_data_and_marks_the_demo(demo_env):
    at = run_page("overview", country="NPL")
    shown = metrics(at)
    assert shown["International migrant stock (2020)"] == "487,564"      # UN DESA, not the demo's 650,000
    assert "29,192,000" not in shown.values()
    assert any(w.value.startswith("The figures on this page are international data. Synthetic demo data is shown "
                                  "beside some of them") for w in at.warning)
    stock = next(m for m in at.metric if m.label == "International migrant stock (2020)")
    assert "⚠ SYNTHETIC DEMO DATA:" in stock.proto.help and "650,000" in stock.proto.help
    assert any(c.value.startswith("⚠ SYNTHETIC DEMO DATA:") and "650,000" in c.value for c in at.caption)
