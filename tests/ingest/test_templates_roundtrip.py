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
