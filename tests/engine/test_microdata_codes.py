"""Microdata with integer-coded text columns (pandas categoricals): the canonical frame, its Parquet
round trip, the engine's results (the same as from text columns) and the other readers of stored
person records (CSV export)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from mmicd import dataset_export
from mmicd.engine import EngineConfig, Microdata, compute_frames
from mmicd.engine.synthetic import lfs_microdata
from mmicd.model import MICRODATA_TEXT, DatasetMeta, Kind, canonical_microdata_types, normalise_microdata

LABOUR = ["wap", "lfpr", "emp_pop_ratio", "unemp_rate", "migrant_share_employed"]
KEY = ["indicator", "ref_area", "time_period", "sex", "age", "migrant_status"]


def test_normalise_codes_text_columns_once_stripped_with_defaults():
    raw = pd.DataFrame({
        "ref_area": ["NPL", " NPL", None, "NPL"], "time_period": [2022, "2022", "2022 ", "2021"],
        "sex": ["F", "", None, "M "], "age": [3, None, "40", 7], "labour_status": ["EMP", "UNE", "INA", "EMP"],
        "migrant_status": pd.Categorical(["MS_MIGRANT", "x", None, "x"], categories=["x", "MS_MIGRANT", "unused"]),
        "weight": [1, 2, 3, 4], "stratum": [None, " S1", "", "S1"],
    })
    out = normalise_microdata(raw)
    for col in MICRODATA_TEXT:
        assert isinstance(out[col].dtype, pd.CategoricalDtype), col
        assert out[col].cat.codes.dtype == np.int8  # integer codes, not text per row
        assert list(out[col].cat.categories) == sorted(out[col].cat.categories)
    assert out["ref_area"].tolist() == ["NPL", "NPL", "_U", "NPL"]
    assert out["time_period"].tolist() == ["2022", "2022", "2022", "2021"]  # 2022 and "2022 " are one code
    assert list(out["time_period"].cat.categories) == ["2021", "2022"]
    assert out["sex"].tolist() == ["F", "_U", "_U", "M"]
    assert out["migrant_status"].tolist() == ["MS_MIGRANT", "x", "_U", "x"]
    assert list(out["migrant_status"].cat.categories) == ["MS_MIGRANT", "_U", "x"]  # the unused one dropped
    assert out["stratum"].tolist() == ["", "S1", "", "S1"] and out["psu"].tolist() == [""] * 4
    assert out["age"].tolist()[:1] == [3] and out["age"].isna().tolist() == [False, True, False, False]
    # text behaviour: comparisons, membership and conversion to text as on a text column
    assert (out["sex"] == "F").tolist() == [True, False, False, False]
    assert out["sex"].isin(["M", "_U"]).sum() == 3
    assert out["sex"].astype(str).tolist() == ["F", "_U", "_U", "M"]
    assert canonical_microdata_types(out) and not canonical_microdata_types(raw.reindex(columns=out.columns))
    assert normalise_microdata(out).equals(out)  # normalising canonical records changes nothing


def test_normalise_many_codes_and_missing_values_of_a_categorical():
    psu = pd.Categorical([f"P{i:03d}" for i in range(126)] + [None] * 2)  # int8 codes 0..125 and -1 (missing)
    out = normalise_microdata(pd.DataFrame({"psu": psu, "weight": 1.0}))
    assert out["psu"].tolist() == [f"P{i:03d}" for i in range(126)] + ["", ""]
    assert len(out["psu"].cat.categories) == 127 and out["psu"].cat.categories[0] == ""


def test_canonical_types_refuse_uncoded_or_unstripped_columns():
    good = normalise_microdata(lfs_microdata(50, strata=2, psus=4))
    assert canonical_microdata_types(good)
    assert not canonical_microdata_types(good.assign(sex=good["sex"].astype(str)))
    padded = good.assign(sex=good["sex"].cat.rename_categories({"F": " F"}))
    assert not canonical_microdata_types(padded)
    assert not canonical_microdata_types(good.assign(sex=good["sex"].cat.rename_categories({"F": ""})))
    assert canonical_microdata_types(good.assign(stratum=good["stratum"].cat.add_categories("")))  # blank allowed
    assert not canonical_microdata_types(good.assign(sex=good["sex"].cat.set_categories(["M", "_U"])))  # F -> NA


def test_parquet_keeps_the_codes(tmp_path):
    canonical = normalise_microdata(lfs_microdata(300, strata=3, psus=12))
    canonical.to_parquet(tmp_path / "p.parquet", index=False)
    import pyarrow.parquet as pq

    schema = pq.read_schema(tmp_path / "p.parquet")
    assert all(str(schema.field(c).type).startswith("dictionary<values=string") for c in MICRODATA_TEXT)
    back = pd.read_parquet(tmp_path / "p.parquet")
    assert back.equals(canonical) and back.dtypes.equals(canonical.dtypes)
    # frames with different categories concatenate to text; normalising codes them again
    both = pd.concat([back, normalise_microdata(lfs_microdata(20, ref_area="PHL"))], ignore_index=True)
    assert not isinstance(both["ref_area"].dtype, pd.CategoricalDtype)
    assert list(normalise_microdata(both)["ref_area"].cat.categories) == ["NPL", "PHL"]


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    t = compute_frames(None, [Microdata(1, "lfs", "t", "1", frame)], indicators=LABOUR,
                       cfg=EngineConfig(suppress=False)).table
    return t.sort_values(KEY).reset_index(drop=True)


def _mixed_records() -> pd.DataFrame:
    """Two surveys (areas), one with strata and PSUs, one with strata only; odd codes and blanks."""
    a = lfs_microdata(3_000, strata=6, psus=30, seed=3)
    b = lfs_microdata(2_000, strata=4, psus=8, seed=4, ref_area="PHL", time_period="2021").assign(psu="")
    a.loc[a.index[:40], "sex"] = "X"            # not a sex code: unknown
    a.loc[a.index[40:60], "labour_status"] = None
    b.loc[b.index[:30], "migrant_status"] = " "  # blank: unknown
    return pd.concat([a, b], ignore_index=True)


def test_engine_results_identical_from_codes_and_from_text():
    text = _mixed_records()
    coded = normalise_microdata(text)
    as_text = coded.astype({c: "str" for c in MICRODATA_TEXT})
    expected, got = _table(as_text), _table(coded)
    assert len(got) > 2_000 and set(got["design"]) == {"full", "no_psu"}
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, atol=1e-9)
    # a subset keeps every category (unused ones): the same estimates as the subset as text
    sub = coded.loc[coded["ref_area"] == "PHL"].reset_index(drop=True)
    pd.testing.assert_frame_equal(_table(sub), _table(sub.astype({c: "str" for c in MICRODATA_TEXT})),
                                  check_exact=False, rtol=1e-12, atol=1e-9)
    assert set(_table(sub)["ref_area"]) == {"PHL"}


def test_stored_records_read_back_coded_and_export_as_neutralised_text(store):
    records = lfs_microdata(200, strata=2, psus=8, seed=5)
    records.loc[0, "psu"] = "=1+2"     # design variables are free text: a formula must stay text
    records.loc[1, "stratum"] = "-S1"
    version = store.add_microdata(DatasetMeta(kind=Kind.LFS, source="T", scope="NPL"), records, actor="t")
    back = store.microdata(version.id)
    assert all(isinstance(back[c].dtype, pd.CategoricalDtype) for c in MICRODATA_TEXT)
    pd.testing.assert_frame_equal(_table(back), _table(records), check_exact=False, rtol=1e-12, atol=1e-9)
    rows = list(csv.DictReader(io.StringIO(dataset_export.export_bytes(store, version, "csv").decode("utf-8-sig"))))
    assert len(rows) == 200
    assert rows[0]["psu"] == "'=1+2" and rows[1]["stratum"] == "'-S1"
    assert [r["sex"] for r in rows] == records["sex"].tolist()
    assert [r["labour_status"] for r in rows] == records["labour_status"].tolist()


@pytest.mark.parametrize("age", [pd.array([5, None, 80, 14], dtype="Int64"), [5.0, np.nan, 80.0, 14.0],
                                 ["5", None, "80", "14"]])
def test_age_groups_from_any_numeric_column(age):
    frame = normalise_microdata(lfs_microdata(4)).assign(age=age, labour_status="EMP", weight=1.0)
    t = _table(frame)
    wap = t.loc[(t["indicator"] == "wap") & (t["sex"] == "_T") & (t["migrant_status"] == "_T")].set_index("age")
    assert wap.loc["_T", "value"] == 1.0 and wap.loc["Y_GE75", "value"] == 1.0  # 80: 75+; 5, 14 and unknown out
