"""Key figures from the seeded baseline, checked against the UN DESA 2020 published tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mmicd.overview import key_figures


def figures_for(store, country, year="2020"):
    own = store.observations(ref_areas=[country])
    abroad = store.observations(kinds=["migrant_stock"], counterpart_areas=[country])
    return key_figures(own, abroad, year)


def test_germany_2020_matches_un_desa_tables_1_3_4(seeded_store):
    f = figures_for(seeded_store, "DEU")
    assert f["imm_stock"].value == 15_762_457 and f["imm_stock"].year == "2020"
    assert f["imm_stock"].by_sex == {"F": 7_870_822, "M": 7_891_635}
    assert round(f["imm_share"].value, 3) == 18.813  # Table 3
    assert round(f["imm_female_share"].value, 1) == 49.9  # Table 4: 7,870,822 / 15,762,457
    assert f["imm_stock"].previous_year == "2015"
    assert f["imm_stock"].source.startswith("UN DESA") and f["imm_stock"].edition == "2020"


def test_population_comes_from_wpp_with_its_edition(seeded_store):
    f = figures_for(seeded_store, "DEU")
    assert f["pop_total"].value == pytest.approx(83_628_708, abs=1)
    assert f["pop_total"].edition == "2024"
    assert f["pop_total"].previous_year == "2015"  # the WPP file is quinquennial


def test_share_uses_numerator_and_denominator_of_one_edition(seeded_store):
    f = figures_for(seeded_store, "DEU")
    stock_ids = set(f["imm_stock"].dataset_ids)
    assert set(f["imm_share"].dataset_ids) == stock_ids  # not the WPP 2024 population
    # the share by sex is computed per sex, not averaged
    trend = f["imm_share"].trend.set_index(["time_period", "series"])["value"]
    assert trend[("2020", "F")] != trend[("2020", "M")]


def test_emigrants_sum_destinations_by_sex(seeded_store):
    f = figures_for(seeded_store, "MEX")
    usa = seeded_store.observations(ref_areas=["USA"], counterpart_areas=["MEX"])
    usa = usa.loc[usa["time_period"] == "2020"].set_index("sex")["value"]
    assert (usa["F"], usa["M"]) == (5_056_331, 5_796_774)
    emig = f["emig_stock"]
    assert emig.year == "2020"
    assert emig.by_sex["F"] + emig.by_sex["M"] == pytest.approx(emig.value)
    assert emig.value > usa["F"] + usa["M"]  # more destinations than the United States
    assert emig.value < 1.2 * (usa["F"] + usa["M"])  # ...but the US dominates


def test_remittances_share_of_gdp_is_computed_from_both_series(seeded_store):
    f = figures_for(seeded_store, "NPL", year="2020")
    rem, gdp_share = f["rem_in_usd"], f["rem_in_gdp"]
    assert rem.year == gdp_share.year == "2020"
    obs = seeded_store.observations(ref_areas=["NPL"], measures=["GDP"])
    gdp = obs.loc[obs["time_period"] == "2020", "value"].iloc[0]
    assert gdp_share.value == pytest.approx(rem.value / gdp * 100)
    assert 15 < gdp_share.value < 30  # Nepal: about a fifth of GDP


def test_year_filter_takes_the_latest_value_up_to_the_year(seeded_store):
    f = figures_for(seeded_store, "DEU", year="2017")
    assert f["imm_stock"].year == "2015" and f["pop_total"].year == "2015"
    assert f["rem_in_usd"].year == "2017"  # WDI is annual


def test_an_area_without_data_gives_empty_figures_not_errors():
    empty = pd.DataFrame(columns=["dataset_id", "kind", "measure", "ref_area", "time_period", "sex", "age",
                                  "migrant_status", "counterpart_area", "labour_status", "value",
                                  "obs_status", "source", "edition"])
    f = key_figures(empty, empty, "2020")
    assert all(not fig.available for fig in f.values())
    assert all(fig.trend.empty for fig in f.values())


def test_aggregate_world_has_no_emigrants_but_has_a_stock(seeded_store):
    f = figures_for(seeded_store, "WLD")
    assert f["imm_stock"].value == 280_598_105
    assert not f["emig_stock"].available
    assert not math.isnan(f["imm_share"].value)


def test_net_migration_takes_the_value_of_the_chosen_year(seeded_store):
    germany, mexico = figures_for(seeded_store, "DEU"), figures_for(seeded_store, "MEX")
    assert (germany["net_mig"].year, germany["net_mig"].value) == ("2020", 203_468)  # a destination
    assert (mexico["net_mig"].year, mexico["net_mig"].value) == ("2020", -147_456)  # an origin
    assert mexico["net_mig"].previous_year == "2019"  # WDI is annual
    assert germany["net_mig"].source.startswith("World Bank")


def test_a_national_census_heads_the_figure_and_the_international_one_stays_beside_it(seeded_store):
    from mmicd.model import DatasetMeta, Kind, Status

    rows = pd.DataFrame([{"measure": "POP", "ref_area": "NPL", "time_period": "2021", "sex": sex,
                          "migrant_status": "MS_MIGRANT", "value": v} for sex, v in (("F", 400_000), ("M", 250_000))]
                        + [{"measure": "POP", "ref_area": "NPL", "time_period": "2021", "sex": "_T",
                            "value": 29_192_000}])
    seeded_store.add_dataset(DatasetMeta(kind=Kind.CENSUS, source="Nepal census office", edition="2021", scope="NPL"),
                             rows, actor="test", status=Status.PUBLISHED)
    f = figures_for(seeded_store, "NPL", year="2023")
    stock = f["imm_stock"]
    assert (stock.value, stock.year, stock.source) == (650_000, "2021", "Nepal census office")  # F + M derived
    assert stock.alternative is not None and stock.alternative.source.startswith("UN DESA")
    assert (stock.alternative.value, stock.alternative.year) == (487_564, "2020")
    assert f["imm_share"].value == pytest.approx(650_000 / 29_192_000 * 100)  # the census's own denominator
    assert f["imm_share"].alternative.edition == "2020"
    # up to 2020 the census does not exist yet: UN DESA heads, nothing beside it from the future
    before = figures_for(seeded_store, "NPL", year="2020")["imm_stock"]
    assert (before.value, before.source[:7], before.alternative) == (487_564, "UN DESA", None)
