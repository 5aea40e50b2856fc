"""Recomputing after an upload touches only the affected country and kind.

The engine's cache key for (country, indicator) is :func:`mmicd.engine.input_ids`: the published
versions of the indicator's kinds that hold the country. These tests publish new versions into the
seeded baseline and check which keys move, then that the Indicators page's cache recomputes only
the affected pair.
"""

from __future__ import annotations

import pytest

from mmicd.engine import input_ids
from mmicd.model import DatasetMeta, Kind, Status
from tests.engine.conftest import obs

PAIRS = [(c, i) for c in ("NPL", "DEU", "QAT") for i in ("lfpr", "imm_stock", "emig_stock", "pop_total", "rem_in_usd")]


def _keys(store) -> dict[tuple[str, str], tuple[int, ...]]:
    return {pair: input_ids(store, *pair) for pair in PAIRS}


def _census(store, country: str, origin: str) -> int:
    rows = obs([{"ref_area": country, "migrant_status": "MS_MIGRANT", "counterpart_area": origin, "value": 5000},
                {"ref_area": country, "migrant_status": "MS_MIGRANT", "value": 5000},
                {"ref_area": country, "value": 900000}], kind="census")
    v = store.add_dataset(DatasetMeta(kind=Kind.CENSUS, source="Census office", edition="2021", scope=country),
                          rows.drop(columns=["dataset_id", "source", "edition", "kind"]), actor="test",
                          status=Status.PUBLISHED)
    return v.id


def _moved(before: dict, after: dict) -> set[tuple[str, str]]:
    return {pair for pair in PAIRS if before[pair] != after[pair]}


def test_baseline_keys_name_only_versions_of_the_indicators_kinds(seeded_store):
    kinds = {v.id: v.kind.value for v in seeded_store.datasets()}
    keys = _keys(seeded_store)
    assert keys[("NPL", "lfpr")] == ()  # the baseline has no labour-force survey
    assert {kinds[i] for i in keys[("DEU", "imm_stock")]} == {"migrant_stock"}
    assert {kinds[i] for i in keys[("DEU", "pop_total")]} == {"population"}
    assert {kinds[i] for i in keys[("DEU", "rem_in_usd")]} == {"remittances"}
    # emigrants of Germany are read from stocks whose counterpart is DEU
    assert keys[("DEU", "emig_stock")]


def test_a_survey_for_one_country_moves_only_its_labour_indicators(seeded_store, lfs):
    before = _keys(seeded_store)
    v = seeded_store.add_microdata(DatasetMeta(kind=Kind.LFS, source="NSO LFS", edition="2022", scope="NPL"), lfs,
                                   actor="test", status=Status.PUBLISHED)
    after = _keys(seeded_store)
    assert _moved(before, after) == {("NPL", "lfpr")}
    assert after[("NPL", "lfpr")] == (v.id,)


def test_a_census_moves_its_country_and_the_origin_only_where_stocks_are_read(seeded_store):
    before = _keys(seeded_store)
    new = _census(seeded_store, "QAT", "NPL")
    after = _keys(seeded_store)
    # Qatar's stock and population (pop_total reads census totals too), nothing else: a census is
    # not a "migrant_stock" version, so its origin rows do not feed Nepal's emigrants
    assert _moved(before, after) == {("QAT", "imm_stock"), ("QAT", "pop_total")}
    assert new in after[("QAT", "imm_stock")]


def test_a_bilateral_stock_moves_the_origins_emigrants(seeded_store):
    before = _keys(seeded_store)
    rows = obs([{"ref_area": "QAT", "counterpart_area": "NPL", "migrant_status": "MS_MIGRANT", "value": 31200}])
    seeded_store.add_dataset(DatasetMeta(kind=Kind.MIGRANT_STOCK, source="Qatar PSA", edition="2020", scope="QAT"),
                             rows.drop(columns=["dataset_id", "source", "edition", "kind"]), actor="test",
                             status=Status.PUBLISHED)
    assert _moved(before, _keys(seeded_store)) == {("QAT", "imm_stock"), ("QAT", "emig_stock"),
                                                    ("NPL", "imm_stock"), ("NPL", "emig_stock")}


def test_drafts_do_not_move_published_keys(seeded_store, lfs):
    before = _keys(seeded_store)
    seeded_store.add_microdata(DatasetMeta(kind=Kind.LFS, source="NSO LFS", edition="2022", scope="NPL"), lfs,
                               actor="test", status=Status.DRAFT)
    assert _moved(before, _keys(seeded_store)) == set()


def test_indicators_page_cache_recomputes_only_the_affected_pair(seeded_store, lfs, monkeypatch):
    from mmicd.ui import indicators as page

    calls: list[tuple[str, tuple[str, ...]]] = []
    real = page.compute  # the page computes through the engine's one entry point

    def counting(store, *, indicators, country, **kw):
        calls.append((country, tuple(indicators)))
        return real(store, indicators=indicators, country=country, **kw)

    monkeypatch.setattr(page, "compute", counting)
    first = {pair: page.indicator_result(seeded_store, *pair)[0] for pair in [("DEU", "imm_stock"), ("NPL", "lfpr")]}
    assert len(calls) == 2
    assert first[("NPL", "lfpr")].empty
    seeded_store.add_microdata(DatasetMeta(kind=Kind.LFS, source="NSO LFS", edition="2022", scope="NPL"), lfs,
                               actor="test", status=Status.PUBLISHED)
    calls.clear()
    deu = page.indicator_result(seeded_store, "DEU", "imm_stock")[0]
    npl = page.indicator_result(seeded_store, "NPL", "lfpr")[0]
    assert calls == [("NPL", ("lfpr",))]  # Germany's stock came from the cache
    assert deu.equals(first[("DEU", "imm_stock")])
    total = npl.query("sex == '_T' and age == 'Y_GE15' and migrant_status == '_T'")
    assert len(total) == 1 and 0 < total["value"].iloc[0] < 100


@pytest.mark.parametrize("country", ["NPL", "DEU"])
def test_computing_from_the_key_equals_computing_from_everything(seeded_store, country):
    """The key is complete: computing from only its versions gives the table computed from all."""
    from mmicd.engine import compute

    for indicator in ("imm_stock", "emig_stock", "pop_total", "rem_in_gdp"):
        full = compute(seeded_store, country=country, indicators=[indicator]).table
        keyed = set(input_ids(seeded_store, country, indicator))
        assert set(full["dataset_id"].dropna().astype(int)) <= keyed, indicator
        assert not full.empty, indicator
