"""Every real file in ../shared/reference loads through the automatic path; stored values match
the figures of its README (UN DESA IMS 2020, gdidata, KNOMAD, WPP 2024)."""

from __future__ import annotations

import pandas as pd
import pytest

from mmicd.ingest import commit, prepare
from tests.ingest.conftest import upload
from tests.ingest.conftest import value_of as _value

IMS = "undesa-ims2020/undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"


def _load(store, path):
    prep = prepare([upload(path)], store=store)
    assert prep.ok, [i for i in prep.issues if i.level == "error"][:5]
    versions = commit(prep, store, actor="test", publish=True)
    frames = {v.kind.value: store.observations(dataset_ids=[v.id]) for v in versions}
    return prep, versions, frames




def test_ims_workbook(store, reference):
    prep, versions, frames = _load(store, reference / IMS)
    # read by the general table reader: Tables 1-4 (stocks, population, published shares) are one
    # dataset, Table 6 (refugees) another; Table 5 (rates of change between two years) is not read
    assert {d.layout for d in prep.datasets} == {"table"} and len(versions) == 2
    assert {d.meta.kind.value for d in prep.datasets} == {"migrant_stock", "refugees"}
    stock = pop = frames["migrant_stock"]  # Table 1 and Table 2 in one dataset, like the baseline
    base = dict(measure="POP", time_period="2020", age="_T", counterpart_area="_T", migrant_status="MS_MIGRANT")
    assert _value(stock, ref_area="DEU", sex="_T", **base) == 15_762_457
    assert _value(stock, ref_area="DEU", sex="M", **base) == 7_891_635
    assert _value(stock, ref_area="DEU", sex="F", **base) == 7_870_822
    assert _value(stock, ref_area="WLD", sex="_T", **base) == 280_598_105
    assert _value(stock, ref_area="WLD", sex="F", **base) == 134_942_261
    share = 100 * 15_762_457 / _value(pop, ref_area="DEU", sex="_T", **(base | {"migrant_status": "_T"}))
    assert round(share, 3) == 18.813  # Table 3
    published = _value(stock, ref_area="DEU", sex="_T", measure="MIG_SHARE", time_period="2020", age="_T",
                       counterpart_area="_T", migrant_status="_T")
    assert published == pytest.approx(share, rel=1e-9)  # Table 3 as published equals Table 1 / Table 2
    refugees = frames["refugees"]
    assert _value(refugees, ref_area="DEU", sex="_T", measure="REFUG", time_period="2020", age="_T",
                  counterpart_area="_T", migrant_status="_T") == 1_455_947  # Table 6
    assert any("1990-1995" in i.message and i.sheet == "Table 5" for i in prep.issues)  # said, not stored
    assert set(pop.loc[(pop.migrant_status == "_T") & (pop.measure == "POP"), "unit_mult"]) == {3}
    # Table 2's population (migrant status _T) beside Table 1's stock (MS_MIGRANT) is no partition: the
    # stock is only checked not to exceed the population (5,337 "do not add up" warnings before, none now)
    assert not [i for i in prep.issues if i.check in ("sum_mismatch", "rounding", "parts_exceed")]
    assert not [i for i in prep.issues if i.check == "fraction"]  # float noise (…0000000001) is no fraction
    assert prep.ok and not [i for i in prep.issues if i.level == "error"]
    jumps = [i for i in prep.issues if "tenfold" in i.message]
    assert jumps and all(i.sheet in ("Table 1", "Table 2", "Table 6") and i.row > 11 for i in jumps)
    assert versions[0].edition == "2020" and versions[0].source.startswith("UN DESA")
    d = prep.datasets[0]
    assert "DEU" in d.countries and "WLD" not in d.countries and {"WLD", "A1829"} <= set(d.aggregates)
    assert 232 <= len(d.countries) <= 240  # 232 countries and areas with a migrant stock (Table 2 lists a few more)


def test_ims_origin_2020(store, reference):
    prep, _, frames = _load(store, reference / "iom-gdidata/undesa_stocks_2020.csv")
    assert prep.datasets[0].layout == "undesa_ims_origin"
    od = frames["migrant_stock"]
    deu = od[(od.ref_area == "DEU") & (od.time_period == "2020")].groupby("sex")["value"].sum()
    assert deu["F"] == 7_870_822 and deu["M"] == 7_891_635
    usa = od[(od.ref_area == "USA") & (od.counterpart_area == "MEX") & (od.time_period == "2020")]
    assert usa.set_index("sex")["value"].to_dict() == {"F": 5_056_331, "M": 5_796_774}


def test_ims_origin_2024_flags_equal_sexes(reference):
    prep = prepare([upload(reference / "iom-gdidata/undesa_stocks.csv")])
    assert prep.ok
    od = prep.datasets[0].frame
    deu = od[(od.ref_area == "DEU") & (od.time_period == "2020")].groupby("sex")["value"].sum()
    assert deu["F"] == 7_585_757  # the 2024 edition revises 2020
    flagged = [i for i in prep.issues if i.level == "warning" and "DEU" in i.message and "2024" in i.message
               and "exactly equal" in i.message]
    assert len(flagged) == 1 and flagged[0].value == "8,375,042"
    assert prep.datasets[0].meta.edition.startswith("2024")


def test_wdi_long(store, reference):
    prep, _, frames = _load(store, reference / "iom-gdidata/wdi.csv")
    assert prep.datasets[0].layout == "wdi"
    raw = pd.read_csv(reference / "iom-gdidata/wdi.csv", keep_default_na=False)
    want = float(raw[(raw.geo == "NPL") & (raw["var"] == "remin") & (raw.t == 2020)]["v"].iloc[0])
    got = frames["remittances"]
    assert _value(got, ref_area="NPL", measure="REM_IN", time_period="2020") == want
    assert {"REM_IN", "REM_OUT", "GDP", "NET_MIG"} <= set(got["measure"])


def test_knomad_remittance_matrix(store, reference):
    prep, _, frames = _load(store, reference / "knomad-brm2021/bilateral_remittance_matrix_2021.xlsx")
    assert prep.datasets[0].layout == "table"
    assert prep.datasets[0].meta.source == "KNOMAD/World Bank, Bilateral Remittance Matrix"
    got = frames["remittance_corridors"]
    row = got[(got.ref_area == "MEX") & (got.counterpart_area == "USA")]
    assert len(row) == 1
    assert row["value"].iloc[0] == pytest.approx(52_595.34e6, abs=1e4)
    assert row["obs_status"].iloc[0] == "E" and row["unit_mult"].iloc[0] == 6


def test_knomad_migration_matrix(reference):
    prep = prepare([upload(reference / "knomad-brm2021/bilateral_migration_matrix_2021_latest.xlsx")])
    assert prep.ok and prep.datasets[0].layout == "table"
    assert prep.datasets[0].meta.source == "KNOMAD/World Bank, Bilateral Migration Matrix"
    frame = prep.datasets[0].frame
    assert set(frame["measure"]) == {"POP"} and set(frame["migrant_status"]) == {"MS_MIGRANT"}
    mex_to_usa = frame[(frame.ref_area == "USA") & (frame.counterpart_area == "MEX")]["value"]
    assert len(mex_to_usa) == 1 and mex_to_usa.iloc[0] > 10_000_000  # about 11 million Mexicans in the US


def test_wpp(store, reference):
    prep = prepare([upload(reference / "wpp2024/popAge5dt.csv")])
    assert prep.ok and prep.datasets[0].layout == "wpp"
    frame = prep.datasets[0].frame
    deu = frame[(frame.ref_area == "DEU") & (frame.time_period == "2020") & (frame.sex == "_T")
                & (frame.age == "_T")]
    assert deu["value"].iloc[0] == pytest.approx(83_628_708, abs=0.5)
    assert set(frame["unit_mult"]) == {3}
