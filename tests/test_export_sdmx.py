"""SDMX exports read back as a consumer would: the structure message by pysdmx (validated against the
SDMX-ML 2.1 schemas) and sdmx1, every data file against it, failing on any code not in its code list;
SDG series under the SDG DSD with M49 areas (World 001); re-imported through the upload path, the same
observations; the CSV and JSON data packages."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pysdmx.io as pysdmx_io
import pytest
import sdmx as sdmx1

from mmicd.engine import catalogue
from mmicd.engine.export import datapackage, export
from mmicd.engine.registry import OUTPUT_COLUMNS
from mmicd.sdmx import data_csv, edition_text, flow, frames, structure_message

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sdg-sdmx"


def row(**given) -> dict:
    out = {c: None for c in OUTPUT_COLUMNS}
    out.update(sex="_T", age="_T", migrant_status="_T", counterpart_area="_T", obs_status="A", time_period="2020",
               source="World Bank, World Development Indicators", edition="gdidata 1267fd37", dataset_id=3)
    out.update(given)
    return out


def known_table() -> pd.DataFrame:
    """SDG series (remittances in GDP for Nepal and the World, the unemployment rate of migrant women from
    a national survey, a corridor cost), counts with a missing and a suppressed value, an income group."""
    return pd.DataFrame([
        row(indicator="rem_in_gdp", ref_area="NPL", value=100 * 8e9 / 3e10, unit="percent"),
        row(indicator="rem_in_gdp", ref_area="WLD", value=0.7, unit="percent"),
        row(indicator="rem_in_gdp", ref_area="A1503", value=1.3, unit="percent"),          # income group: no M49
        row(indicator="unemp_rate", ref_area="NPL", value=12.34567, unit="percent", sex="F", age="Y15T24",
            migrant_status="MS_MIGRANT", ci_lower=10.1, ci_upper=14.6, se=1.2, n_obs=412.0, design="no_psu",
            source="NSO, Labour Force Survey", edition="2022/23", dataset_id=5),
        row(indicator="unemp_rate", ref_area="NPL", value=None, unit="percent", sex="M", age="Y15T24",
            migrant_status="MS_MIGRANT", obs_status="Q", n_obs=9.0, design="no_psu", source="NSO, Labour Force Survey",
            edition="2022/23", dataset_id=5),
        row(indicator="rem_cost_pct", ref_area="NPL", value=4.12, unit="percent", counterpart_area="QAT",
            source="World Bank, Remittance Prices Worldwide", edition="19/07/2024", dataset_id=7),
        row(indicator="imm_stock", ref_area="WLD", value=280598105.0, unit="persons", migrant_status="MS_MIGRANT",
            source="UN DESA, International Migrant Stock", edition="2020", dataset_id=9),
        row(indicator="imm_stock", ref_area="NPL", value=None, unit="persons", obs_status="M", sex="F",
            counterpart_area="IND", migrant_status="MS_MIGRANT", source="UN DESA, International Migrant Stock",
            edition="2020", dataset_id=9),
    ], columns=OUTPUT_COLUMNS)


SCOPES = {3: "_ALL", 5: "NPL", 7: "_ALL", 9: "_ALL"}


@pytest.fixture(scope="module")
def structure(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sdmx") / "structure.xml"
    path.write_bytes(structure_message())
    return path


def codelists(structure: Path) -> dict[str, dict[str, set[str]]]:
    """Dataflow ref -> component -> its codes, as pysdmx reads the structure message."""
    msg = pysdmx_io.read_sdmx(structure, validate=True)
    out = {}
    for dsd in msg.get_data_structure_definitions():
        out[f"{dsd.agency}:{dsd.id}"] = {c.id: {code.id for code in c.enumeration} for c in dsd.components
                                         if c.enumeration is not None}
    return out


def bad_codes(text: str, structure: Path) -> dict[str, set[str]]:
    """Codes of a SDMX-CSV file (1.0 or 2.0) that are not in their code list. pysdmx must resolve the
    file's dataflow to a DSD of the structure and find exactly its components; the codes are compared as
    the text of the cells (pysdmx would read ``001`` as the number 1)."""
    [dataset] = pysdmx_io.get_datasets(text, structure)
    components = {c.id for c in dataset.structure.components}
    rows = list(csv.DictReader(io.StringIO(text)))
    head = {"DATAFLOW", "STRUCTURE", "STRUCTURE_ID", "ACTION"}
    assert set(rows[0]) - head == components, "the file's columns are the DSD's components"
    dsd = dataset.structure
    lists = {c.id: {code.id for code in c.enumeration} for c in dsd.components if c.enumeration is not None}
    found = {}
    for component, allowed in lists.items():
        wrong = {r[component] for r in rows if r[component] and r[component] not in allowed}
        if wrong:
            found[component] = wrong
    return found


def sdmx1_keys(text: str, structure: Path, flow_id: str) -> list[dict]:
    """SDMX-CSV 2.0 read by sdmx1 against the dataflow: every observation's key and attributes, as text."""
    msg = sdmx1.read_sdmx(structure)
    tmp = structure.parent / f"{flow_id}.csv"
    tmp.write_text(text, encoding="utf-8")
    data = sdmx1.read_sdmx(tmp, structure=msg.dataflow[flow_id])
    return [{**{k: v.value for k, v in o.key.values.items()},
             **{k: v.value for k, v in o.attached_attribute.items()}, "OBS_VALUE": o.value}
            for ds in data.data for o in ds.obs]


# ---- the structure ---------------------------------------------------------------------------------
def test_structure_message_is_valid_sdmx_ml_with_both_flows_in_three_languages(structure):
    lists = codelists(structure)
    assert set(lists) == {"IAEG-SDGs:SDG_DSD", "MMICD:DSD_MIGRATION_INDICATORS"}
    sdg, own = lists["IAEG-SDGs:SDG_DSD"], lists["MMICD:DSD_MIGRATION_INDICATORS"]
    assert "001" in sdg["REF_AREA"] and "900" not in sdg["REF_AREA"] and "524" in sdg["REF_AREA"]
    assert "A1503" not in sdg["REF_AREA"] and "A1503" in own["REF_AREA"]   # no M49 code: MMICD's own only
    assert sdg["SERIES"] == {"BX_TRF_PWKR", "SI_RMT_COST", "SL_TLF_UEM", "SM_POP_REFG_OR"}
    assert own["INDICATOR"] == set(catalogue())
    for codes in (sdg, own):
        assert codes["OBS_STATUS"] == {"A", "E", "I", "O", "P", "Q", "U"}       # missing is O, never M
        assert codes["FREQ"] == {"A", "Q", "M"} and codes["REPORTING_TYPE"] == {"G", "N"}
        assert {"NUMBER", "PT"} <= codes["UNIT_MEASURE"] or codes is sdg
    assert own["UNIT_MEASURE"] == {"NUMBER", "PT", "USD", "YR", "PER_1000_POP", "PER_100000_POP"}
    text = structure.read_text(encoding="utf-8")
    assert '<com:Name xml:lang="fr">Zone de référence</com:Name>' in text
    assert '<com:Name xml:lang="es">Nepal</com:Name>' in text
    # sdmx1 reads it too: both dataflows, their DSDs' dimensions in order
    msg = sdmx1.read_sdmx(structure)
    dims = [d.id for d in msg.structure["SDG_DSD"].dimensions]
    assert dims[:4] == ["FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA"] and dims[-1] == "TIME_PERIOD"


def test_schema_validation_rejects_a_broken_structure(structure, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text(structure.read_text(encoding="utf-8").replace("<str:Code ", "<str:Kode ", 1)
                      .replace("</str:Code>", "</str:Kode>", 1), encoding="utf-8")
    with pytest.raises(Exception):  # noqa: B017 - pysdmx raises its Invalid on an XSD error
        pysdmx_io.read_sdmx(broken, validate=True)


def test_sdg_codes_follow_the_sdg_constraints():
    """Every catalogue series, its unit and allowed codes as in the SDG global content constraints."""
    path = REFERENCE / "sdmx_global_content_constraints.csv"
    if not path.exists():
        pytest.skip(f"reference data absent: {path}")
    constraints = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("SERIES")
    ours = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "codelists" / "sdg_series.csv", dtype=str,
                       comment="#", keep_default_na=False).set_index("code")
    series = {i.series for i in catalogue().values() if i.series}
    assert series == {"BX_TRF_PWKR", "SI_RMT_COST", "SL_TLF_UEM", "SM_POP_REFG_OR"} <= set(ours.index)
    for s in series:
        assert ours.at[s, "unit_measure"] == constraints.at[s, "UNIT_MEASURE"]
        for ours_col, theirs in (("sex", "SEX"), ("age", "AGE"), ("composite_breakdown", "COMPOSITE_BREAKDOWN")):
            assert ours.at[s, ours_col] == constraints.at[s, theirs]
    sexes = set(pd.read_csv(REFERENCE / "CL_SEX.csv", dtype=str)["id"])
    assert set(flow("SDG").codelists["CL_SEX"].codes) <= sexes
    statuses = set(pd.read_csv(REFERENCE / "CL_OBS_STATUS.csv", dtype=str)["id"])
    assert set(flow("SDG").codelists["CL_OBS_STATUS"].codes) <= statuses


# ---- the data --------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_every_export_reads_back_against_its_structure_with_no_unknown_code(structure, version):
    table = known_table()
    for key in ("SDG", "MMICD"):
        text = data_csv(table, key, version, scopes=SCOPES)
        assert bad_codes(text, structure) == {}, (key, version)


def test_a_wrong_code_is_caught(structure):
    """The check fails on World as 900 and a missing value as M (SDMX: 'cannot exist')."""
    text = data_csv(known_table(), "MMICD", "1.0", scopes=SCOPES)
    assert ",001," in text and ",O," in text
    assert bad_codes(text.replace(",001,", ",900,").replace(",O,", ",M,"), structure) == {
        "REF_AREA": {"900"}, "OBS_STATUS": {"M"}}
    sdg = data_csv(known_table(), "SDG", "2.0", scopes=SCOPES)
    assert bad_codes(sdg.replace(",PT,", ",CU_USD,"), structure) == {"UNIT_MEASURE": {"CU_USD"}}


def test_rows_go_to_the_sdg_flow_only_where_the_sdg_codes_allow_them(structure):
    got = frames(known_table(), scopes=SCOPES)
    sdg, own = got["SDG"], got["MMICD"]
    assert sdg[["SERIES", "REF_AREA", "REPORTING_TYPE", "SEX", "AGE", "COMPOSITE_BREAKDOWN", "OBS_VALUE",
                "OBS_STATUS"]].values.tolist() == [
        ["BX_TRF_PWKR", "524", "G", "_T", "_T", "_T", "26.667", "A"],   # computed ratio: 3 places
        ["BX_TRF_PWKR", "001", "G", "_T", "_T", "_T", "0.7", "A"],      # World is M49 001
        ["SL_TLF_UEM", "524", "N", "F", "Y15T24", "MS_MIGRANT", "12.346", "A"],
        ["SL_TLF_UEM", "524", "N", "M", "Y15T24", "MS_MIGRANT", "NaN", "Q"],
    ]
    assert set(sdg["FREQ"]) == {"A"} and set(sdg["UNIT_MULT"]) == {"0"} and set(sdg["UNIT_MEASURE"]) == {"PT"}
    # an income group (no M49), a corridor (the SDG DSD has no counterpart) and non-series: MMICD's flow
    assert own[["INDICATOR", "REF_AREA", "COUNTERPART_AREA", "OBS_VALUE", "UNIT_MEASURE", "OBS_STATUS"]].values.tolist() == [
        ["rem_in_gdp", "A1503", "_T", "1.3", "PT", "A"],
        ["rem_cost_pct", "524", "634", "4.12", "PT", "A"],
        ["imm_stock", "001", "_T", "280598105", "NUMBER", "A"],
        ["imm_stock", "524", "356", "NaN", "NUMBER", "O"],
    ]
    # editions as releases or dates: no commit hash, day-first dates as ISO
    assert set(sdg["SOURCE_DETAIL"]) == {"World Bank, World Development Indicators, gdidata",
                                         "NSO, Labour Force Survey, 2022/23"}
    assert own.loc[1, "SOURCE_DETAIL"] == "World Bank, Remittance Prices Worldwide, 2024-07-19"
    assert edition_text("gdidata 1267fd37") == "gdidata" and edition_text("2020") == "2020"


def test_sdmx1_reads_the_2_0_files_with_codes_as_text(structure):
    text = data_csv(known_table(), "SDG", "2.0", scopes=SCOPES)
    obs = sdmx1_keys(text, structure, "DF_SDG_GLH")
    assert [(o["SERIES"], o["REF_AREA"], o["OBS_STATUS"]) for o in obs] == [
        ("BX_TRF_PWKR", "524", "A"), ("BX_TRF_PWKR", "001", "A"), ("SL_TLF_UEM", "524", "A"),
        ("SL_TLF_UEM", "524", "Q")]
    codes_of = {d.id: set(d.local_representation.enumerated.items) for d in
                sdmx1.read_sdmx(structure).structure["SDG_DSD"].dimensions if d.local_representation.enumerated}
    for o in obs:
        assert all(o[d] in codes for d, codes in codes_of.items()), o


@pytest.mark.parametrize("fmt", ["sdmx-csv", "sdmx-csv-2.0"])
def test_zip_holds_each_flow_and_the_structure(fmt):
    z = zipfile.ZipFile(io.BytesIO(export(known_table(), fmt)))
    assert z.namelist() == ["data_SDG.csv", "data_MMICD.csv", "structure.xml"]
    first = z.read("data_MMICD.csv").decode().split("\n")[1]
    assert first.startswith("MMICD:DF_MIGRATION_INDICATORS(1.0)," if fmt == "sdmx-csv"
                            else "dataflow,MMICD:DF_MIGRATION_INDICATORS(1.0),I,")


@pytest.mark.parametrize("fmt", ["sdmx-csv", "sdmx-csv-2.0"])
def test_reimported_export_gives_back_the_same_observations(fmt):
    """Both files of the zip through the upload path: the counts and the SDG ratio, value for value."""
    from mmicd.ingest import Upload, prepare

    table = known_table()
    z = zipfile.ZipFile(io.BytesIO(export(table, fmt)))
    read = []
    for name in ("data_SDG.csv", "data_MMICD.csv"):
        prep = prepare([Upload(name, z.read(name))])
        assert prep.ok, [i.message for i in prep.issues]
        read += [d.frame for d in prep.datasets]
    back = pd.concat(read, ignore_index=True)
    key = ["ref_area", "time_period", "sex", "age", "counterpart_area"]
    got = {m: back[back["measure"] == m].sort_values(key)[[*key, "value"]].values.tolist()
           for m in ("REM_IN_GDP", "POP")}
    assert got["POP"] == [["NPL", "2020", "F", "_T", "IND", pytest.approx(float("nan"), nan_ok=True)],
                          ["WLD", "2020", "_T", "_T", "_T", 280598105.0]]
    assert got["REM_IN_GDP"] == [["A1503", "2020", "_T", "_T", "_T", 1.3], ["NPL", "2020", "_T", "_T", "_T", 26.667],
                                 ["WLD", "2020", "_T", "_T", "_T", 0.7]]
    pop = back[back["measure"] == "POP"]
    assert set(pop["migrant_status"]) == {"MS_MIGRANT"}
    assert pop.set_index("ref_area").at["NPL", "obs_status"] == "M"      # O read back as the project's M


# ---- CSV and JSON with their data package ----------------------------------------------------------
def test_csv_package_and_json_carry_their_metadata_in_three_languages():
    table = known_table()
    z = zipfile.ZipFile(io.BytesIO(export(table, "csv-package", "fr")))
    package = json.loads(z.read("datapackage.json"))
    frame = pd.read_csv(io.BytesIO(z.read("indicators.csv")), dtype=str, keep_default_na=False)
    fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    assert list(fields) == list(frame.columns)
    assert fields["n_obs"]["type"] == "integer" and fields["dataset_id"]["type"] == "integer"
    assert fields["value"]["type"] == "number" and fields["ref_area"]["type"] == "string"
    assert fields["n_obs"]["title"] == "Taille de l'échantillon"
    assert fields["n_obs"]["mmicd:titles"]["es"] == "Tamaño de la muestra"
    # integers as integers; the suppressed value's sample size is blank, the other one kept
    assert frame["n_obs"].tolist() == ["", "", "", "412", "", "", "", ""]
    assert frame["unit_measure"].tolist()[-2:] == ["NUMBER", "NUMBER"] and set(frame["unit_mult"]) == {"0"}
    assert frame["dataset_id"].tolist()[:4] == ["3", "3", "3", "5"]
    unemp = {i["id"]: i for i in package["mmicd:indicators"]}["unemp_rate"]
    assert unemp["sdg_series"] == "SL_TLF_UEM" and unemp["unit_measure"] == "PT" and unemp["unit_mult"] == 0
    assert set(unemp["name"]) == {"en", "fr", "es"} and unemp["definition"]["es"].startswith("Personas desocupadas")
    assert {"title": "World Bank, World Development Indicators", "version": "gdidata"} in package["sources"]
    assert package["created"].endswith("Z") and package["licenses"]
    doc = json.loads(export(table, "json"))
    rows = doc["resources"][0]["data"]
    assert len(rows) == len(table) and rows[3]["n_obs"] == 412 and rows[4]["n_obs"] is None
    assert isinstance(rows[0]["dataset_id"], int)


def test_licences_come_from_the_dataset_versions():
    table = known_table()
    versions = {3: type("V", (), {"licence": "CC BY 4.0", "scope": "_ALL"})(),
                5: type("V", (), {"licence": "", "scope": "NPL"})()}
    package = datapackage(table, "en", versions)
    assert package["licenses"] == [{"title": "CC BY 4.0"}]


def test_baseline_exports_read_back_with_no_unknown_code(seeded_store, structure):
    """The real baseline (UN DESA stock, World Bank remittances): Nepal and the World, both versions."""
    from mmicd.engine import compute
    from mmicd.engine.export import versions_of

    tables = [compute(seeded_store, country=c, indicators=["imm_stock", "rem_in_gdp", "rem_in_usd"]).table
              for c in ("NPL", "WLD")]
    table = pd.concat(tables, ignore_index=True)
    versions = versions_of(seeded_store, table)
    for fmt, version in (("sdmx-csv", "1.0"), ("sdmx-csv-2.0", "2.0")):
        z = zipfile.ZipFile(io.BytesIO(export(table, fmt, "en", versions)))
        texts = {n: z.read(n).decode() for n in z.namelist() if n.endswith(".csv")}
        assert set(texts) == {"data_SDG.csv", "data_MMICD.csv"}
        for name, text in texts.items():
            assert bad_codes(text, structure) == {}, (name, version)
    got = frames(table, scopes={i: v.scope for i, v in versions.items()})
    sdg, own = got["SDG"], got["MMICD"]
    assert len(sdg) == (table["indicator"] == "rem_in_gdp").sum() > 0     # Nepal's remittances in GDP
    assert set(sdg["SERIES"]) == {"BX_TRF_PWKR"} and set(sdg["REF_AREA"]) == {"524"}
    assert set(sdg["REPORTING_TYPE"]) == {"G"} and set(sdg["UNIT_MEASURE"]) == {"PT"}
    world = own[own["REF_AREA"] == "001"]                                   # UN DESA's World stock
    assert set(world["INDICATOR"]) == {"imm_stock"} and len(world) == (table["ref_area"] == "WLD").sum()
    assert not sdg["SOURCE_DETAIL"].str.contains("1267fd37").any()


def test_command_line_writes_the_zip_and_the_structure(seeded_store, monkeypatch, capsysbinary):
    from mmicd.cli import main

    monkeypatch.setenv("MMICD_DATABASE_URL", seeded_store.url)
    assert main(["indicators", "--country", "NPL", "--indicator", "rem_in_gdp", "--format", "sdmx-csv-2.0"]) == 0
    z = zipfile.ZipFile(io.BytesIO(capsysbinary.readouterr().out))
    assert z.namelist() == ["data_SDG.csv", "structure.xml"]
    assert z.read("data_SDG.csv").decode().startswith("STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REPORTING_TYPE,SERIES,")
    assert main(["indicators", "--country", "NPL", "--indicator", "rem_in_gdp", "--format", "sdmx-structure"]) == 0
    msg = pysdmx_io.read_sdmx(capsysbinary.readouterr().out.decode(), validate=True)
    assert {f.id for f in msg.get_dataflows()} == {"DF_SDG_GLH", "DF_MIGRATION_INDICATORS"}
