"""Round trip: every template, filled (codes or labels in its language), loads without any issue,
and the values stored are the values typed (units applied)."""

from __future__ import annotations

import pandas as pd
import pytest

from mmicd import codes
from mmicd.config import LANGUAGES
from mmicd.ingest import Upload, commit, prepare
from mmicd.model import Form, Kind
from mmicd.templates import TEMPLATE_KINDS, build_template


def label(listname: str, code: str, lang: str) -> str:
    return codes.label(listname, code, lang)


def census_rows(lang: str) -> pd.DataFrame:
    """Population by sex x two age groups x migrant status with every total, plus origins; sex written
    as labels in the template's language, ages as codes, a country as its name."""
    ages = ["Y0T4", "Y5T9", "Y10T14", "Y_GE15"]
    per_age = {"Y0T4": (3, 330, 4, 346), "Y5T9": (3, 330, 4, 346), "Y10T14": (4, 330, 4, 346),
               "Y_GE15": (240, 2760, 88, 2812)}  # F migrant, F non-migrant, M migrant, M non-migrant
    cells = {}
    for age, (fm, fn, mm, mn) in per_age.items():
        cells.update({("F", age, "MS_MIGRANT"): fm, ("F", age, "MS_NOMIGRANT"): fn,
                      ("M", age, "MS_MIGRANT"): mm, ("M", age, "MS_NOMIGRANT"): mn})
    rows = []
    for sex in ("F", "M", "_T"):
        for age in [*ages, "_T"]:
            for ms in ("MS_MIGRANT", "MS_NOMIGRANT", "_T"):
                value = sum(v for (s, a, m), v in cells.items()
                            if sex in (s, "_T") and age in (a, "_T") and ms in (m, "_T"))
                rows.append({"sex": label("sex", sex, lang) if sex != "_T" else "_T", "age": age,
                             "migrant_status": ms, "counterpart_area": "_T", "value": value})
    for sex, ind, other in (("F", 210, 40), ("M", 70, 30), ("_T", 280, 70)):
        rows.append({"sex": sex, "age": "_T", "migrant_status": "MS_MIGRANT", "counterpart_area": "IND",
                     "value": ind})
        rows.append({"sex": sex, "age": "_T", "migrant_status": "MS_MIGRANT", "counterpart_area": "OOO",
                     "value": other})
    frame = pd.DataFrame(rows)
    frame.insert(0, "ref_area", codes.area_name("NPL", lang))
    frame.insert(1, "time_period", "2021")
    frame["obs_status"] = "A"
    return frame


def stocks_rows(lang: str) -> pd.DataFrame:
    rows = []
    for dest, f, m in (("IND", 300, 500), ("QAT", 20, 400), ("MYS", 15, 350)):
        for sex, v in (("F", f), ("M", m), ("_T", f + m)):
            rows.append({"ref_area": dest, "time_period": "2020", "sex": sex, "age": "_T",
                         "migrant_status": "MS_MIGRANT", "counterpart_area": "NPL", "value": v, "obs_status": "E"})
    return pd.DataFrame(rows)


def remittances_rows(lang: str) -> pd.DataFrame:
    rows = [
        {"ref_area": "NPL", "time_period": "2022", "measure": "REM_IN", "counterpart_area": "_T", "value": 11_000,
         "unit_mult": 6, "obs_status": "A"},
        {"ref_area": "NPL", "time_period": "2022", "measure": "GDP", "counterpart_area": "_T", "value": 40.8,
         "unit_mult": 9, "obs_status": "A"},
        {"ref_area": "NPL", "time_period": "2023", "measure": "REM_IN", "counterpart_area": "_T", "value": None,
         "unit_mult": 6, "obs_status": "M"},
        {"ref_area": "NPL", "time_period": "2022", "measure": "REM_OUT", "counterpart_area": "_T",
         "value": 250_000_000, "unit_mult": 0, "obs_status": "P"},
    ]
    if "REM_COST" in codes.codes("measure"):
        rows.append({"ref_area": "NPL", "time_period": "2023-Q2", "measure": "REM_COST", "counterpart_area": "MYS",
                     "value": 4.1, "unit_mult": 0, "obs_status": "A"})
    return pd.DataFrame(rows)


def lfs_rows(lang: str) -> pd.DataFrame:
    rows = []
    for i in range(40):
        rows.append({"ref_area": "NPL", "time_period": "2023", "sex": label("sex", "F" if i % 2 else "M", lang),
                     "age": 15 + i, "migrant_status": "MS_MIGRANT" if i % 10 == 0 else "MS_NOMIGRANT",
                     "labour_status": ("EMP", "UNE", "INA")[i % 3], "weight": 500.5 + i,
                     "stratum": f"S{i % 4:02d}", "psu": f"{i % 8:04d}"})
    return pd.DataFrame(rows)


def admin_rows(measures: tuple[str, ...], area: str, partner: str, extra: dict | None = None):
    """Rows of an administrative template, measures and countries written as labels in the template's
    language (the drop-downs accept them), sexes as codes."""
    def rows(lang: str) -> pd.DataFrame:
        out = []
        for n, measure in enumerate(measures):
            for sex, v in (("F", 10 + n), ("M", 20 + n), ("_T", 30 + 2 * n)):
                out.append({"ref_area": codes.area_name(area, lang), "time_period": "2023",
                            "measure": label("measure", measure, lang), "sex": sex,
                            "counterpart_area": codes.area_name(partner, lang), "value": v, "obs_status": "A",
                            **(extra or {})})
        return pd.DataFrame(out)

    return rows


FILLERS = {"census": census_rows, "stocks": stocks_rows, "remittances": remittances_rows, "lfs": lfs_rows,
           "flows": admin_rows(("IMM", "EMI"), "SEN", "FRA", {"migrant_status": "MS_MIGRANT",
                                                             "breakdown": "CRITERION:RESIDENCE"}),
           "refugees": admin_rows(("REFUG", "ASY_SEEK", "ASY_APP", "RESETTLE"), "SEN", "MLI"),
           "returns": admin_rows(("RET_MIG", "RET_REFUG"), "SEN", "MRT"),
           "labour": admin_rows(("DEPLOY", "PERMIT"), "NPL", "QAT", {"age": "Y25T54"}),
           "border": admin_rows(("ARR", "DEP"), "DOM", "USA", {"breakdown": "RESIDENCE:NONRES"})}
KINDS = {"census": {Kind.CENSUS}, "stocks": {Kind.MIGRANT_STOCK}, "remittances": {Kind.REMITTANCES},
         "lfs": {Kind.LFS}, "flows": {Kind.MIGRATION_FLOWS}, "refugees": {Kind.REFUGEES},
         "returns": {Kind.MIGRATION_FLOWS, Kind.REFUGEES}, "labour": {Kind.LABOUR_MIGRATION},
         "border": {Kind.BORDER_MOVEMENTS}}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_filled_template_loads_without_any_issue(kind, lang):
    rows = FILLERS[kind](lang)
    data = build_template(kind, lang, rows)
    prep = prepare([Upload(f"filled-{kind}-{lang}.xlsx", data)], source="Test office", lang=lang)
    assert prep.issues == []
    assert prep.ok
    assert all(d.layout == "template" for d in prep.datasets)
    assert {d.meta.kind for d in prep.datasets} == KINDS[kind]
    assert sum(d.rows for d in prep.datasets) == len(rows)
    assert all(d.form == (Form.MICRODATA if kind == "lfs" else Form.OBSERVATIONS) for d in prep.datasets)
    if "measure" in rows and kind != "remittances":   # labels in the template's language read as codes
        stored = pd.concat([d.frame for d in prep.datasets])
        assert set(stored["measure"]) == {m for m in FILLERS_MEASURES[kind]}


FILLERS_MEASURES = {"flows": ("IMM", "EMI"), "refugees": ("REFUG", "ASY_SEEK", "ASY_APP", "RESETTLE"),
                    "returns": ("RET_MIG", "RET_REFUG"), "labour": ("DEPLOY", "PERMIT"), "border": ("ARR", "DEP")}


def test_filled_census_values_and_codes_are_what_was_typed():
    prep = prepare([Upload("c.xlsx", build_template("census", "fr", census_rows("fr")))], source="Test")
    frame = prep.datasets[0].frame
    assert set(frame["sex"]) == {"F", "M", "_T"}
    assert set(frame["ref_area"]) == {"NPL"}
    total = frame.query("sex == '_T' and age == '_T' and migrant_status == '_T' and counterpart_area == '_T'")
    assert total["value"].tolist() == [7950.0]  # F 4,000 + M 3,950
    assert frame.query("counterpart_area == 'IND' and sex == 'F'")["value"].tolist() == [210.0]


def test_filled_remittances_apply_unit_mult_and_keep_missing_values():
    prep = prepare([Upload("r.xlsx", build_template("remittances", "es", remittances_rows("es")))], source="Test")
    frame = prep.datasets[0].frame.set_index(["measure", "time_period"])
    assert frame.loc[("REM_IN", "2022"), "value"] == pytest.approx(11_000e6)
    assert frame.loc[("GDP", "2022"), "value"] == pytest.approx(40.8e9)
    assert frame.loc[("REM_OUT", "2022"), "value"] == pytest.approx(250e6)
    assert frame.loc[("REM_OUT", "2022"), "obs_status"] == "P"
    missing = frame.loc[("REM_IN", "2023")]
    assert pd.isna(missing["value"]) and missing["obs_status"] == "M"


def test_filled_lfs_template_is_stored_as_microdata(store):
    prep = prepare([Upload("l.xlsx", build_template("lfs", "en", lfs_rows("en")))], source="Test")
    [version] = commit(prep, store, actor="test")
    stored = store.microdata(version.id)
    assert len(stored) == 40
    assert stored["weight"].sum() == pytest.approx(sum(500.5 + i for i in range(40)))
    assert stored["psu"].iloc[0] == "0000"  # codes keep their leading zeros
    assert set(stored["labour_status"]) == {"EMP", "UNE", "INA"}
