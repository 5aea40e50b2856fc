"""Checks on the shipped reference tables in data/ (built by scripts/build_reference.py).

Every figure below was read from the publishers' own files (see data/reference/SOURCES.md).
Only the last test needs the raw files in ../shared/reference: it rebuilds everything and
compares bytes.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
RAW = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
TABLES = ["undesa_ims2020.csv.gz", "undesa_ims2020_refugees.csv.gz", "unhcr_solutions.csv.gz",
          "wpp2024_population.csv.gz", "wdi.csv.gz", "knomad_brm2021.csv.gz"]
COLUMNS = [
    "measure", "ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area",
    "labour_status", "value", "unit_measure", "unit_mult", "obs_status",
]
KEY = COLUMNS[:8]


def _load_script():
    spec = importlib.util.spec_from_file_location("build_reference", ROOT / "scripts" / "build_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_reference", module)
    spec.loader.exec_module(module)
    return module


build_reference = _load_script()
normalise_name = build_reference.normalise_name


@cache
def table(name: str) -> pd.DataFrame:
    df = pd.read_csv(DATA / "reference" / name, dtype=str, keep_default_na=False)
    df["value"] = pd.to_numeric(df["value"])
    return df


@cache
def areas() -> pd.DataFrame:
    return pd.read_csv(DATA / "codelists" / "areas.csv", dtype=str, keep_default_na=False)


def one(df: pd.DataFrame, **where) -> float:
    sel = df
    for col, val in where.items():
        sel = sel[sel[col] == val]
    assert len(sel) == 1, (where, len(sel))
    return float(sel["value"].iloc[0])


def ims(**where) -> float:
    where = {"counterpart_area": "_T", "migrant_status": "MS_MIGRANT", "time_period": "2020"} | where
    return one(table("undesa_ims2020.csv.gz"), measure="POP", **where)


def area_names(row) -> list[str]:
    return [row.name_en, row.name_fr, row.name_es, *[a for a in row.aliases.split("|") if a]]


@cache
def name_index() -> dict[str, str]:
    index = {}
    for row in areas().itertuples():
        for name in area_names(row):
            index[normalise_name(name)] = row.code
    return index


def resolve(name: str) -> str | None:
    return name_index().get(normalise_name(name))


# --- figures -----------------------------------------------------------------------------------
def test_germany_and_world_migrant_stock_2020():
    assert ims(ref_area="DEU", sex="_T") == 15_762_457
    assert ims(ref_area="DEU", sex="M") == 7_891_635
    assert ims(ref_area="DEU", sex="F") == 7_870_822
    assert ims(ref_area="WLD", sex="_T") == 280_598_105
    assert ims(ref_area="WLD", sex="M") == 145_655_844
    assert ims(ref_area="WLD", sex="F") == 134_942_261
    assert ims(ref_area="WLD", sex="_T", time_period="1990") == 152_986_157


def test_ims_table2_population_reproduces_table3_share():
    pop = ims(ref_area="DEU", sex="_T", migrant_status="_T")
    assert round(15_762_457 / pop * 100, 3) == 18.813
    rows = table("undesa_ims2020.csv.gz")
    assert set(rows.loc[rows.migrant_status == "_T", "unit_mult"]) == {"3"}
    assert set(rows.loc[rows.migrant_status == "MS_MIGRANT", "unit_mult"]) == {"0"}


def test_wpp_germany_2020():
    wpp = table("wpp2024_population.csv.gz")
    total = one(wpp, ref_area="DEU", time_period="2020", sex="_T", age="_T")
    assert abs(total - 83_628_708) <= 1
    ages = wpp[(wpp.ref_area == "DEU") & (wpp.time_period == "2020") & (wpp.sex == "_T") & (wpp.age != "_T")]
    assert len(ages) == 21 and abs(ages.value.sum() - total) <= 1
    by_sex = [one(wpp, ref_area="DEU", time_period="2020", sex=s, age="_T") for s in ("M", "F")]
    assert abs(sum(by_sex) - total) <= 2


def test_origin_detail_usa_from_mexico_2020():
    assert ims(ref_area="USA", counterpart_area="MEX", sex="F") == 5_056_331
    assert ims(ref_area="USA", counterpart_area="MEX", sex="M") == 5_796_774
    assert ims(ref_area="USA", counterpart_area="MEX", sex="_T") == 5_056_331 + 5_796_774


def _origin_sums() -> pd.DataFrame:
    rows = table("undesa_ims2020.csv.gz")
    rows = rows[rows.migrant_status == "MS_MIGRANT"]
    keys = ["ref_area", "time_period", "sex"]
    sums = rows[rows.counterpart_area != "_T"].groupby(keys).value.sum().rename("origins")
    totals = rows[rows.counterpart_area == "_T"].set_index(keys).value.rename("total")
    return pd.concat([sums, totals], axis=1, join="inner")


def test_sum_over_origins_equals_table1_totals():
    joined = _origin_sums()
    assert joined.loc[("DEU", "2020", "F"), "origins"] == 7_870_822
    assert joined.loc[("DEU", "2020", "M"), "origins"] == 7_891_635
    # every destination, year and sex with origin detail: documented in SOURCES.md as zero mismatches
    assert len(joined) > 4000
    off = joined[(joined.origins - joined.total).abs() > 0.5]
    assert off.empty, off.head(20)


def test_channel_islands_origin_code_is_mapped():
    # gdidata's XCX (destination and origin) is UN DESA's Channel Islands, shipped as CHI
    assert ims(ref_area="CHI", sex="_T") == 84_087
    rows = table("undesa_ims2020.csv.gz")
    assert ((rows.counterpart_area == "CHI") & (rows.ref_area == "GBR")).any()


def test_wdi_units():
    wdi = table("wdi.csv.gz")
    mex = one(wdi, measure="REM_IN", ref_area="MEX", time_period="2020")
    assert 40e9 < mex < 45e9
    nepal = one(wdi, measure="REM_IN", ref_area="NPL", time_period="2020") / one(
        wdi, measure="GDP", ref_area="NPL", time_period="2020")
    assert 0.20 < nepal < 0.26
    assert abs(one(wdi, measure="NET_MIG", ref_area="DEU", time_period="2020") - 203_468) < 1
    assert set(wdi.measure) == {"REM_IN", "REM_OUT", "GDP", "NET_MIG"}
    assert wdi.time_period.astype(int).min() >= 1990


def test_knomad_usa_to_mexico():
    brm = table("knomad_brm2021.csv.gz")
    v = one(brm, measure="REM_IN", ref_area="MEX", counterpart_area="USA", time_period="2021")
    assert round(v / 1e6, 2) == 52_595.34  # source: US$ million, full precision
    assert set(brm.obs_status) == {"E"} and set(brm.unit_mult) == {"6"}


REFUGEES = "undesa_ims2020_refugees.csv.gz"


def refug(measure: str = "REFUG", **where) -> float:
    return one(table(REFUGEES), measure=measure, **({"time_period": "2020"} | where))


def test_refugees_table6_published_figures():
    # IMS 2020 Table 6, "Refugee and asylum seekers at mid-year, both sexes combined"
    assert refug(ref_area="DEU") == 1_455_947
    assert refug(ref_area="WLD") == 33_807_795
    assert refug(ref_area="DEU", time_period="1990") == 722_250
    # "... as a percentage of the international migrant stock", kept as stored in the workbook
    assert refug("REFUG_SHARE", ref_area="DEU") == pytest.approx(9.236802358921583, abs=1e-12)
    rows = table(REFUGEES)
    assert set(rows.measure) == {"REFUG", "REFUG_SHARE"}
    assert set(rows.loc[rows.measure == "REFUG", "unit_measure"]) == {"PS"}
    assert set(rows.loc[rows.measure == "REFUG_SHARE", "unit_measure"]) == {"PT"}
    assert set(rows.sex) == {"_T"} and set(rows.counterpart_area) == {"_T"} and set(rows.unit_mult) == {"0"}
    assert set(rows.time_period) == {"1990", "1995", "2000", "2005", "2010", "2015", "2020"}


def test_refugees_share_agrees_with_table1_stock():
    # REFUG / Table 1 stock x 100 gives the published share for every area and year that has all three
    rows = table(REFUGEES)
    wide = rows.pivot_table(index=["ref_area", "time_period"], columns="measure", values="value")
    stock = table("undesa_ims2020.csv.gz")
    stock = stock[(stock.migrant_status == "MS_MIGRANT") & (stock.counterpart_area == "_T") & (stock.sex == "_T")]
    joined = wide.join(stock.set_index(["ref_area", "time_period"]).value.rename("stock"), how="inner").dropna()
    assert len(joined) > 1000
    off = (joined.REFUG / joined.stock * 100 - joined.REFUG_SHARE).abs()
    assert (off < 1e-6).all(), joined[off >= 1e-6].head()


def test_refugees_symbols_are_not_shipped_as_zeros():
    rows = table(REFUGEES)
    assert (rows.value > 0).all()  # '~' (under five) and '..' cells are left out, never written as 0
    assert not ((rows.ref_area == "PSE") & (rows.measure == "REFUG_SHARE")).any()  # '..' in the workbook
    assert refug(ref_area="PSE") == 2_319_073
    entry = next(e for e in build_reference_catalogue() if e["file"] == REFUGEES)
    assert entry["kind"] == "refugees" and entry["source"] == "UN DESA, International Migrant Stock"
    assert entry["edition"] == "2020" and entry["licence"] == "CC BY 3.0 IGO"
    assert "590 counts" in entry["notes"] and "UNHCR" in entry["basis"] and "UNRWA" in entry["basis"]
    assert "guyabel/stepladderChapter" in entry["provenance"] and entry["rows"] == len(rows)


def build_reference_catalogue() -> list[dict]:
    import yaml

    return yaml.safe_load((DATA / "reference" / "datasets.yml").read_text(encoding="utf-8"))


def test_refugees_figures_read_from_the_workbook():
    """The checked figures, read from the publisher's workbook itself (Table 6, row and column by label)."""
    if not RAW.is_dir():
        pytest.skip(f"raw reference files not found at {RAW} (CI has them)")
    raw = pd.read_excel(RAW / build_reference.IMS_FILE, sheet_name="Table 6", header=None, engine="calamine")
    names = raw[1].astype(str).str.strip().str.rstrip("*")
    years = list(raw.iloc[10])

    def cell(area: str, year: int) -> object:
        (row,) = raw.index[names == area]
        return raw.iat[row, years.index(year)]  # the first column of that year: the count

    assert cell("Germany", 2020) == 1_455_947 == refug(ref_area="DEU")
    assert cell("WORLD", 2020) == 33_807_795 == refug(ref_area="WLD")
    assert cell("Germany", 1990) == 722_250 == refug(ref_area="DEU", time_period="1990")


def test_refugees_are_seeded_as_a_published_refugees_dataset(seeded_store):
    (d,) = [d for d in seeded_store.datasets(kind="refugees") if d.file_name.endswith(REFUGEES)]
    assert d.status.value == "published" and d.source == "UN DESA, International Migrant Stock"
    assert d.edition == "2020" and "guyabel/stepladderChapter" in d.provenance and "590 counts" in d.notes
    obs = seeded_store.observations(dataset_ids=[d.id], measures=["REFUG"], ref_areas=["DEU"])
    sel = obs[obs.time_period == "2020"]
    assert sel.value.tolist() == [1_455_947]


SOLUTIONS = "unhcr_solutions.csv.gz"


def test_unhcr_solutions_published_figures_and_orientation():
    rows = table(SOLUTIONS)
    # layouts README ground truth: Iraq -> United States of America, 2015, resettlement arrivals
    assert one(rows, measure="RESETTLE", ref_area="USA", counterpart_area="IRQ", time_period="2015") == 10169
    # returns are reported by the origin they return to: Afghans back from Iran, 2015 (file row 2881)
    assert one(rows, measure="RET_REFUG", ref_area="AFG", counterpart_area="IRN", time_period="2015") == 2881
    assert one(rows, measure="RET_IDP", ref_area="AFG", counterpart_area="AFG", time_period="2015") == 123653
    assert set(rows.measure) == {"RET_REFUG", "RET_IDP", "RESETTLE", "NATURAL"}
    assert set(rows.time_period) == {str(y) for y in range(2015, 2024)}
    assert set(rows.sex) == {"_T"} and set(rows.unit_measure) == {"PS"} and (rows.value >= 0).all()
    entry = next(e for e in build_reference_catalogue() if e["file"] == SOLUTIONS)
    assert entry["kind"] == "refugees" and entry["licence"].startswith("CC BY 4.0")
    assert entry["source"] == "UNHCR, Refugee Data Finder" and entry["edition"] == "19/07/2024"
    assert "enadol/skmigration" in entry["provenance"] and "not shipped" in entry["notes"]


def test_unhcr_solutions_equal_what_the_upload_reads_from_the_same_file():
    """The build's own reading of the export and the app's upload path agree value for value."""
    path = RAW / build_reference.UNHCR_SOLUTIONS_FILE
    if not path.is_file():
        pytest.skip(f"raw reference file not found at {path} (CI has it)")
    from mmicd.ingest import Upload, prepare

    prep = prepare([Upload(path.name, path.read_bytes())])
    (d,) = prep.datasets
    read = d.frame[d.frame.value.notna()].set_index(["measure", "ref_area", "counterpart_area", "time_period"]).value
    built = table(SOLUTIONS).set_index(["measure", "ref_area", "counterpart_area", "time_period"]).value
    assert len(built) == len(read) > 6000
    assert (built.sort_index() == read.sort_index()).all()


# --- structure ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TABLES)
def test_layout_and_unique_keys(name):
    df = table(name)
    assert list(df.columns) == COLUMNS
    assert not df.duplicated(KEY).any()
    assert df.value.notna().all()
    assert set(df.sex) <= {"_T", "M", "F"}
    assert set(df.labour_status) == {"_T"}
    assert set(df.obs_status) <= {"A", "E", "M"}
    assert (DATA / "reference" / name).stat().st_size < 10_000_000


@pytest.mark.parametrize("name", TABLES)
def test_every_area_code_is_in_the_code_list(name):
    df = table(name)
    known = set(areas().code) | {"_T"}
    assert set(df.ref_area) <= known
    assert set(df.counterpart_area) <= known


def test_aggregates_are_not_countries():
    a = areas()
    assert a.code.is_unique
    aggregates = a[a.code.str.match(r"^(WLD|A\d+)$")]
    assert len(aggregates) > 50
    assert not (aggregates.kind == "country").any()
    assert set(aggregates.kind) <= {"world", "region", "income_group", "other_aggregate"}
    assert a.set_index("code").loc["WLD", "kind"] == "world"
    assert a.set_index("code").loc["A1834", "name_en"] == "Sub-Saharan Africa"
    assert a.set_index("code").loc["A1503", "kind"] == "income_group"
    countries = a[a.kind == "country"]
    assert countries.code.str.fullmatch(r"[A-Z]{3}").all() and len(countries) >= 249


def _collisions(normalise) -> list[str]:
    seen: dict[str, str] = {}
    bad = []
    for row in areas().itertuples():
        for name in area_names(row):
            key = normalise(name)
            if seen.setdefault(key, row.code) != row.code:
                bad.append(f"{name!r}: {seen[key]} / {row.code}")
    return bad


def test_alias_normalisation_has_no_collisions():
    assert _collisions(normalise_name) == []


def test_no_collisions_with_the_app_rule_and_codes():
    codes = pytest.importorskip("mmicd.codes")
    assert _collisions(codes.normalise_name) == []
    seen: dict[str, str] = {}
    for row in areas().itertuples():  # the app also looks up code, ISO2 and M49
        for key in [row.code, row.iso2, row.m49, *area_names(row)]:
            if key:
                k = codes.normalise_name(key)
                assert seen.setdefault(k, row.code) == row.code, (key, seen[k], row.code)


@pytest.mark.parametrize(("name", "code"), [
    ("Yemen, Rep.", "YEM"), ("France*", "FRA"), ("Türkiye", "TUR"), ("Turkey", "TUR"),
    ("Côte d'Ivoire", "CIV"), ("Cote d’Ivoire", "CIV"), ("Allemagne", "DEU"), ("Alemania", "DEU"),
    ("Egypt, Arab Rep.", "EGY"), ("Korea, Rep.", "KOR"), ("Congo, Dem. Rep.", "COD"), ("Gambia, The", "GMB"),
    ("Turkiye", "TUR"), ("United States of America*", "USA"), ("Viet Nam", "VNM"), ("China, Hong Kong SAR", "HKG"),
    ("Swaziland", "SWZ"), ("Cape Verde", "CPV"), ("Bolivia (Plurinational State of)", "BOL"),
    ("WORLD", "WLD"), ("Sub-Saharan Africa", "A1834"), ("Latin America and the Caribbean", "A904"),
    ("Australia and New Zealand", "A927"), ("Developed regions", "A901"), ("Micronesia", "A954"),
    ("Micronesia (Fed. States of)", "FSM"), ("Kosovo (under UNSC res. 1244)", "XKX"),
])
def test_aliases_resolve(name, code):
    assert resolve(name) == code


def test_every_source_name_resolves():
    """Every area name in the IMS workbook is an alias (checked against a stored list of names)."""
    names = ["Channel Islands*", "Réunion*", "United Republic of Tanzania*", "Saint Barthélemy*",
             "Polynesia*", "Small island developing States (SIDS)", "LATIN AMERICA AND THE CARIBBEAN",
             "Wallis and Futuna Islands*", "Curaçao*", "China, Taiwan Province of China", "Other North"]
    assert all(resolve(n) for n in names), [n for n in names if not resolve(n)]


# --- determinism -------------------------------------------------------------------------------
def test_rebuild_is_byte_identical(tmp_path):
    if not RAW.is_dir():
        pytest.skip(f"raw reference files not found at {RAW} (needed to rebuild; CI has them)")
    report = build_reference.build(RAW, tmp_path, verbose=False)
    assert report["unmapped_names"] == []
    assert report["origin_mismatches"] == []
    shipped = [DATA / "codelists" / "areas.csv", DATA / "reference" / "datasets.yml"]
    shipped += [DATA / "reference" / n for n in TABLES]
    for path in shipped:
        rebuilt = tmp_path / path.relative_to(ROOT)
        assert rebuilt.read_bytes() == path.read_bytes(), f"{path.relative_to(ROOT)} differs from a fresh build"
