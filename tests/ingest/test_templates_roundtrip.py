"""Every template, filled, loads through the automatic path without any issue (layout "template")."""

from __future__ import annotations

import pandas as pd
import pytest

from mmicd.ingest import Upload, prepare

templates = pytest.importorskip("mmicd.templates")

FILLED = {
    "census": pd.DataFrame({"ref_area": ["SEN"] * 3, "time_period": ["2013"] * 3, "sex": ["F", "M", "_T"],
                            "age": ["Y15T24"] * 3, "migrant_status": ["MS_MIGRANT"] * 3,
                            "counterpart_area": ["_T"] * 3, "value": [1200, 1300, 2500], "obs_status": ["A"] * 3}),
    "stocks": pd.DataFrame({"ref_area": ["SEN", "SEN"], "time_period": ["2020", "2020"], "sex": ["_T", "_T"],
                            "age": ["_T", "_T"], "migrant_status": ["MS_MIGRANT"] * 2,
                            "counterpart_area": ["MLI", "GIN"], "value": [50_000, 40_000], "obs_status": ["A", "E"]}),
    "remittances": pd.DataFrame({"ref_area": ["SEN", "SEN"], "time_period": ["2022", "2022"],
                                 "measure": ["REM_IN", "REM_COST"], "counterpart_area": ["_T", "FRA"],
                                 "value": [2_700.5, 6.2], "unit_mult": [6, 0], "obs_status": ["A", "A"]}),
    "lfs": pd.DataFrame({"ref_area": ["SEN"] * 3, "time_period": ["2022"] * 3, "sex": ["F", "M", "F"],
                         "age": [34, 41, 19], "migrant_status": ["MS_MIGRANT", "MS_NOMIGRANT", "MS_NOMIGRANT"],
                         "labour_status": ["EMP", "UNE", "INA"], "weight": [120.5, 98.0, 101.25],
                         "stratum": ["01", "01", "02"], "psu": ["0101", "0102", "0201"]}),
}


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
@pytest.mark.parametrize("kind", sorted(FILLED))
def test_filled_template_loads_without_warnings(kind, lang):
    data = templates.build_template(kind, lang, FILLED[kind])
    prep = prepare([Upload(f"{kind}-{lang}.xlsx", data)])
    assert prep.issues == []
    (d,) = prep.datasets
    assert d.layout == "template" and d.rows == len(FILLED[kind])
    if kind == "remittances":
        rem = d.frame.set_index("measure")["value"]
        assert rem["REM_IN"] == pytest.approx(2_700.5e6) and rem["REM_COST"] == pytest.approx(6.2)
    if kind == "lfs":
        assert d.frame["stratum"].tolist() == ["01", "01", "02"]  # codes keep their leading zeros


def test_template_accepts_labels_in_another_language():
    frame = FILLED["census"].assign(ref_area="Sénégal", sex=["Femmes", "Hommes", "Ensemble"], age="15-24",
                                    migrant_status="Migrants")
    prep = prepare([Upload("fr.xlsx", templates.build_template("census", "fr", frame))])
    assert prep.issues == [] and prep.datasets[0].frame["sex"].tolist() == ["F", "M", "_T"]


# ---- administrative templates: a filled template uploads back to the same stored values ---------------
ADMIN = {
    "flows": pd.DataFrame({
        "ref_area": ["ESP"] * 5, "time_period": ["2022", "2022", "2022", "2023-Q1", "2023-Q2"],
        "measure": ["IMM", "IMM", "EMI", "IMM", "IMM"], "sex": ["_T", "_T", "F", "_T", "_T"], "age": ["_T"] * 5,
        "migrant_status": ["MS_MIGRANT", "MS_NOMIGRANT", "MS_NOMIGRANT", "_T", "_T"],
        "counterpart_area": ["_T", "_T", "FRA", "MAR", "MAR"],
        "breakdown": ["CRITERION:RESIDENCE", "CRITERION:RESIDENCE", "CRITERION:CITIZENSHIP", "_T", "_T"],
        "value": [1200, 150, 300, 45, 52], "obs_status": ["A", "A", "P", "A", "A"]}),
    "refugees": pd.DataFrame({
        "ref_area": ["SEN"] * 8, "time_period": ["2023"] * 8,
        "measure": ["REFUG", "ASY_SEEK", "ASY_APP", "ASY_DEC", "ASY_DEC", "ASY_DEC", "ASY_DEC", "ASY_DEC"],
        "sex": ["_T", "F", "_T", "_T", "_T", "_T", "_T", "_T"], "age": ["_T", "_T", "Y0T17", "_T", "_T", "_T", "_T", "_T"],
        "counterpart_area": ["MRT", "MLI", "GMB", "GIN", "GIN", "GIN", "GIN", "GIN"],
        "breakdown": ["_T", "_T", "_T", "_T", "OUTCOME:REC", "OUTCOME:COMP", "OUTCOME:REJ", "OUTCOME:CLOSED"],
        "value": [14_000, 520, 88, 100, 40, 10, 45, 5], "obs_status": ["A"] * 8}),
    "returns": pd.DataFrame({
        "ref_area": ["SEN", "SEN", "SEN"], "time_period": ["2023", "2023", "2023"],
        "measure": ["RET_MIG", "RET_MIG", "RET_REFUG"], "sex": ["_T", "F", "_T"], "age": ["_T"] * 3,
        "counterpart_area": ["LBY", "MAR", "MRT"], "value": [2_300, 410, 1_150], "obs_status": ["A", "A", "P"]}),
    "labour": pd.DataFrame({
        "ref_area": ["NPL"] * 3, "time_period": ["2023", "2023", "2023-Q4"], "measure": ["DEPLOY", "DEPLOY", "PERMIT"],
        "sex": ["F", "M", "_T"], "age": ["_T", "Y25T54", "_T"], "counterpart_area": ["QAT", "MYS", "ARE"],
        "breakdown": ["_T", "OCCUPATION:9", "_T"], "value": [4_800, 61_000, 9_950], "obs_status": ["A", "A", "A"]}),
    "border": pd.DataFrame({
        "ref_area": ["DOM"] * 4, "time_period": ["2023-07", "2023-08", "2023-07", "2023-Q3"],
        "measure": ["ARR", "ARR", "DEP", "ARR"], "sex": ["_T"] * 4,
        "migrant_status": ["MS_MIGRANT", "MS_MIGRANT", "MS_NOMIGRANT", "_T"],
        "counterpart_area": ["USA", "USA", "_T", "CAN"],
        "breakdown": ["RESIDENCE:NONRES", "RESIDENCE:NONRES", "POE:AEROPUERTO_PUNTA_CANA", "_T"],
        "value": [180_250, 176_000, 35_500, 23_000], "obs_status": ["A", "A", "A", "P"]}),
}
ADMIN_KIND = {"flows": {"migration_flows"}, "refugees": {"refugees"}, "returns": {"migration_flows", "refugees"},
              "labour": {"labour_migration"}, "border": {"border_movements"}}


def _stored(datasets) -> pd.DataFrame:
    frame = pd.concat([d.frame for d in datasets], ignore_index=True)
    return frame.sort_values(["measure", "time_period", "counterpart_area", "breakdown", "sex", "age",
                              "migrant_status"]).reset_index(drop=True)


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
@pytest.mark.parametrize("kind", sorted(ADMIN))
def test_filled_admin_template_uploads_back_to_the_same_values(kind, lang):
    filled = ADMIN[kind]
    data = templates.build_template(kind, lang, filled)
    prep = prepare([Upload(f"{kind}-{lang}.xlsx", data)])
    assert prep.issues == []
    assert {d.meta.kind.value for d in prep.datasets} == ADMIN_KIND[kind]
    assert all(d.layout == "template" for d in prep.datasets)
    stored = _stored(prep.datasets)
    expected = filled.reindex(columns=stored.columns)
    for col in expected.columns:
        if col in filled:
            continue
        expected[col] = {"unit_measure": "PS", "unit_mult": 0}.get(col, "_T")
    expected = expected.sort_values(["measure", "time_period", "counterpart_area", "breakdown", "sex", "age",
                                     "migrant_status"]).reset_index(drop=True)
    expected["value"] = expected["value"].astype("float64")
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False)


def test_returns_template_gives_one_dataset_per_kind():
    prep = prepare([Upload("returns.xlsx", templates.build_template("returns", "en", ADMIN["returns"]))])
    by_kind = {d.meta.kind.value: set(d.frame["measure"]) for d in prep.datasets}
    assert by_kind == {"migration_flows": {"RET_MIG"}, "refugees": {"RET_REFUG"}}
