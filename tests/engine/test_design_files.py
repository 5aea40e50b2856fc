"""Survey files whose design variables go by IPUMS, DHS or national names, loaded through the automatic
path (no mapping): estimates, SEs, CVs and counts equal svy's (the oracle) on the design the file
declares, to 1e-6 relative; a file without PSU gives estimates flagged ``no_psu``, with the note in
every export."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from bench.engine_oracle import oracle_catalogue
from mmicd.engine import EngineConfig, Microdata, catalogue, compute_frames
from mmicd.engine.export import EXPORT_COLUMNS, design_notes, export
from mmicd.i18n import t
from mmicd.ingest import Upload, prepare
from tests.fixtures import survey_design as sd

RAW = EngineConfig(suppress=False)
LABOUR = ["wap", "lfpr", "unemp_rate"]
CELL = ["indicator", "sex", "age", "migrant_status"]


@pytest.fixture(scope="module")
def md() -> pd.DataFrame:
    """4,000 persons, 12 strata, 96 PSUs, households of four nested in the PSUs."""
    return sd.records(4000)


def loaded(data: bytes, name: str) -> pd.DataFrame:
    prep = prepare([Upload(name, data)])
    assert prep.ok, prep.issues
    return prep.datasets[0].frame


def engine(frame: pd.DataFrame) -> pd.DataFrame:
    return compute_frames(None, [Microdata(1, "lfs", "Test", "2022", frame)], indicators=LABOUR, cfg=RAW).table


def assert_equal_to_oracle(ours: pd.DataFrame, expected: pd.DataFrame, design: str) -> None:
    oracle = oracle_catalogue(expected, [catalogue()[i] for i in LABOUR], design=design, counts=True)
    merged = oracle.merge(ours, on=CELL, how="inner", suffixes=("_o", ""))
    assert len(merged) >= 0.95 * len(oracle) and merged["value"].notna().all()
    np.testing.assert_allclose(merged["value"], merged["value_o"], rtol=1e-6)
    np.testing.assert_allclose(merged["se"], merged["se_o"], rtol=1e-6, atol=1e-9)
    ok = merged["value_o"].abs() > 0
    np.testing.assert_allclose(merged.loc[ok, "cv"], merged.loc[ok, "cv_o"], rtol=1e-6)
    np.testing.assert_array_equal(merged["n_obs"], merged["n_obs_o"])


def total(table: pd.DataFrame, indicator: str, column: str = "value") -> float:
    row = table.loc[(table["indicator"] == indicator) & (table["sex"] == "_T") & (table["age"] == "_T")
                    & (table["migrant_status"] == "_T")]
    assert len(row) == 1
    return float(row[column].iloc[0])


def test_ipums_extract_equals_svy_with_strata_and_clusters(md):
    data, expected = sd.ipums(md)
    ours = engine(loaded(data, "ipums.csv"))
    assert set(ours["design"]) == {"full"}
    assert_equal_to_oracle(ours, expected, "psu")
    # the household serial (which the ingestion took before) gives smaller standard errors
    households = engine(expected.assign(psu=md["household"].astype(str)))
    assert total(ours, "lfpr", "se") > 1.1 * total(households, "lfpr", "se")


def test_dhs_extract_equals_svy_with_v021_v022_and_weights_divided_by_a_million(md):
    data, expected = sd.dhs(md)
    ours = engine(loaded(data, "dhs.csv"))
    assert set(ours["design"]) == {"full"}
    assert_equal_to_oracle(ours, expected, "psu")
    age = pd.to_numeric(expected["age"])
    in_scope = age >= 15
    v005 = (md["weight"] * 1_000_000).round()
    assert total(ours, "wap") == pytest.approx((v005[in_scope] / 1_000_000).sum(), rel=1e-12)
    assert total(ours, "wap") == pytest.approx(md.loc[in_scope, "weight"].sum(), rel=1e-6)


def test_a_file_without_psu_is_flagged_and_equals_svy_with_strata_only(md):
    data, expected = sd.no_psu(md)
    ours = engine(loaded(data, "enemdu.csv"))
    assert set(ours["design"]) == {"no_psu"}
    assert_equal_to_oracle(ours, expected, "strata")
    clustered = engine(md.drop(columns="household"))
    assert total(ours, "lfpr", "se") < total(clustered, "lfpr", "se")


def test_the_exports_of_a_survey_without_psu_carry_the_flag_and_the_note(md):
    data, _ = sd.no_psu(md)
    ours = engine(loaded(data, "enemdu.csv"))
    for lang in ("en", "fr"):
        note = t("ind.design.note.no_psu", lang)
        csv = pd.read_csv(io.StringIO(export(ours, "csv", lang)), keep_default_na=False)
        assert list(csv.columns) == EXPORT_COLUMNS and len(csv) == len(ours)
        assert set(csv["design"]) == {"no_psu"} and set(csv["design_note"]) == {note}
        rows = json.loads(export(ours, "json", lang))["resources"][0]["data"]
        assert {(r["design"], r["design_note"]) for r in rows} == {("no_psu", note)}
        files = zipfile.ZipFile(io.BytesIO(export(ours, "sdmx-csv", lang)))   # SDG series and the others
        sdg, own = (pd.read_csv(io.BytesIO(files.read(f"data_{k}.csv")), keep_default_na=False) for k in ("SDG", "MMICD"))
        assert set(sdg["SERIES"]) == {"SL_TLF_UEM"} and set(sdg["COMMENT_OBS"]) == {note}
        assert set(own["SURVEY_DESIGN"]) == {"no_psu"} and set(own["COMMENT_OBS"]) == {note}
    assert "standard errors assume simple random sampling" in t("ind.design.note.no_psu", "en")


def test_a_note_that_holds_for_some_periods_names_them(md):
    frame = md.drop(columns="household")
    both = pd.concat([frame, frame.assign(time_period="2023", psu="")], ignore_index=True)
    table = engine(both)
    assert set(zip(table["time_period"], table["design"], strict=True)) == {("2022", "full"), ("2023", "no_psu")}
    assert design_notes(table, "es") == [f"2023: {t('ind.design.note.no_psu', 'es')}"]
    assert design_notes(table.loc[table["time_period"] == "2023"], "es") == [t("ind.design.note.no_psu", "es")]
    assert design_notes(table.loc[table["time_period"] == "2022"], "es") == []
