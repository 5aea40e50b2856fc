"""Every file of the layout corpus (``../shared/reference/layouts/``: real publisher files, copied
byte for byte from public repositories; provenance, commits and published figures in its README)
loads through the automatic path, with no mapping, and gives the figures read from the files.

Each test names the file's layout family; the figures are the README's "Ground-truth figures"."""

from __future__ import annotations

import pytest

from mmicd.ingest import commit, prepare
from tests.ingest.conftest import upload
from tests.ingest.conftest import value_of as _value

TOTALS = {"sex": "_T", "age": "_T", "labour_status": "_T"}


def _prepare(reference, rel, refused: set[tuple[int, str]] = frozenset(), **kw):
    """The file prepared, without errors; the cells ``refused`` ((row, value) of rows whose origin is the
    country of asylum itself: UNHCR's exports hold a few) are exactly those named in warnings."""
    prep = prepare([upload(reference / "layouts" / rel)], **kw)
    errors = [i for i in prep.issues if i.level == "error"]
    assert not errors, errors[:5]
    named = [i for i in prep.issues if i.check == "origin_is_asylum"]
    assert {(i.row, i.value) for i in named} == set(refused), named[:5]
    assert all(i.level == "warning" and i.column == "Country of origin" for i in named)
    return prep


def _origin_is_asylum(path, skip: int = 0) -> set[tuple[int, str]]:
    """(file row, origin code) of the rows of a UNHCR export whose origin ISO code is the asylum ISO code
    and that give a figure other than 0 -- read from the file itself."""
    import csv

    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    rows = list(csv.reader(lines[skip:]))
    head = rows[0]
    o, a = head.index("Country of origin (ISO)"), head.index("Country of asylum (ISO)")
    out = set()
    for n, r in enumerate(rows[1:], start=skip + 2):
        if len(r) != len(head):     # a name with an unquoted comma: the codes sit one further right
            r = r[:1] + [",".join(r[1:3])] + r[3:] if len(r) == len(head) + 1 else r
        figures = [v for v in r[a + 1:] if v.isdigit()]     # the counts after the asylum code
        if len(r) == len(head) and r[o] == r[a] and any(v != "0" for v in figures):
            out.add((n, r[o]))
    return out


def _frame(prep, kind):
    found = [d for d in prep.datasets if d.meta.kind.value == kind]
    assert len(found) == 1, [(d.meta.kind.value, d.rows) for d in prep.datasets]
    return found[0].frame




def test_wdi_api_excel_xls(reference):
    """World Bank WDI API download (.xls): title rows, years across as text, aggregates mixed in."""
    prep = _prepare(reference, "wdi-api-excel/API_BX.TRF.PWKR.CD.DT_DS2_en_excel_v2_6000901.xls")
    (d,) = prep.datasets
    assert d.meta.source == "World Bank, World Development Indicators" and d.meta.edition == "2023-10-26"
    f = d.frame
    key = dict(measure="REM_IN", counterpart_area="_T", **TOTALS)
    assert _value(f, ref_area="MEX", time_period="2022", **key) == 61099589343
    assert _value(f, ref_area="HTI", time_period="2021", **key) == 4196393882.96965
    assert _value(f, ref_area="WLD", time_period="2020", **key) == 657451859787.6354   # World kept as WLD
    assert _value(f, ref_area="PHL", time_period="2022", **key) == 9066861663.1763
    assert _value(f, ref_area="SYR", time_period="2019", **key) == 0   # a true zero stays a zero
    # the World Bank's regions and income groups are not countries: skipped with one line, never "unknown"
    assert not {"AFE", "ARB", "EAP", "HIC", "LMY"} & set(f["ref_area"])
    skipped = [i for i in prep.issues if "regions, groups or totals" in i.message]
    assert len(skipped) == 1 and "Arab World" in skipped[0].message
    assert "A1834" not in set(f["ref_area"])   # the World Bank's Sub-Saharan Africa is not the SDG region
    # an empty cell is no observation (not a zero, not a missing value stored)
    assert len(f[(f.ref_area == "AFG") & (f.time_period == "1990")]) == 0


def test_undesa_ims_workbook_2015(store, reference):
    """UN DESA IMS Rev.2015: titles, a group row (both sexes / male / female) over float years,
    regions interleaved with countries, Notes and Type of data columns, Tables 1-6."""
    prep = _prepare(reference, "undesa-ims-workbook/UN_MigrantStockTotal_2015.xlsx")
    stock = _frame(prep, "migrant_stock")
    key = dict(measure="POP", migrant_status="MS_MIGRANT", time_period="2015", counterpart_area="_T", age="_T",
               labour_status="_T")
    assert [_value(stock, ref_area="WLD", sex=s, **key) for s in ("_T", "M", "F")] == \
        [243700236, 126115435, 117584801]
    assert [_value(stock, ref_area="DEU", sex=s, **key) for s in ("_T", "M", "F")] == [12005690, 5709939, 6295751]
    assert _value(stock, ref_area="NPL", sex="_T", **key) == 518278
    share = _value(stock, ref_area="DEU", measure="MIG_SHARE", time_period="2015", migrant_status="_T",
                   counterpart_area="_T", **TOTALS)
    assert share == 14.87905129532327   # Table 3, as published
    # Table 2 is in thousands: the population is stored in persons, and reproduces Table 3
    pop = _value(stock, ref_area="DEU", measure="POP", migrant_status="_T", time_period="2015",
                 counterpart_area="_T", **TOTALS)
    assert 100 * 12005690 / pop == pytest.approx(share, rel=1e-6)
    refugees = _frame(prep, "refugees")     # Table 6
    assert _value(refugees, ref_area="WLD", measure="REFUG", time_period="2015", counterpart_area="_T",
                  migrant_status="_T", **TOTALS) == 19577474
    d = next(x for x in prep.datasets if x.meta.kind.value == "migrant_stock")
    assert d.meta.source == "UN DESA, International Migrant Stock" and d.meta.edition == "2015"
    # "Developed regions" (901) is a UN M49 aggregate: stored under its code, never as a country
    assert "A901" in d.aggregates and "A901" not in d.countries
    # the rates of change (Table 5: 1990-1995 ...) are between two years: said, not stored
    assert any("1990-1995" in i.message for i in prep.issues if i.sheet == "Table 5")
    versions = commit(prep, store, actor="test", publish=True)
    assert {v.kind.value for v in versions} == {"migrant_stock", "refugees"}


def test_undesa_origin_matrix_2015(reference):
    """UN DESA Table 16: destination rows x origin columns under a merged "Country of origin",
    "Other North" and "Other South" (the residual origin, summed)."""
    prep = _prepare(reference, "undesa-ims-origin/UN_MigrantStockByOriginAndDestination_2015.xlsx")
    f = _frame(prep, "migrant_stock")
    key = dict(measure="POP", migrant_status="MS_MIGRANT", time_period="2015", **TOTALS)
    assert _value(f, ref_area="USA", counterpart_area="MEX", **key) == 12050031
    assert _value(f, ref_area="DEU", counterpart_area="TUR", **key) == 1655996
    assert _value(f, ref_area="IND", counterpart_area="BGD", **key) == 3171022
    assert _value(f, ref_area="WLD", counterpart_area="_T", **key) == 243700236
    assert _value(f, ref_area="WLD", counterpart_area="OOO", **key) == 2139539 + 7644005   # Other North + South
    assert any("added up" in i.message for i in prep.issues)


def test_undesa_migration_flows(reference):
    """UN DESA flows: country x criterion x type x coverage rows, years across, '..' missing."""
    prep = _prepare(reference, "undesa-migration-flows/undesa_pd_2015_migration_flow_totals.xlsx")
    f = _frame(prep, "migration_flows")
    assert _value(f, ref_area="DEU", time_period="2013", measure="IMM", migrant_status="_T",
                  breakdown="CRITERION:RESIDENCE", counterpart_area="_T", **TOTALS) == 692713
    assert _value(f, ref_area="ESP", time_period="2010", measure="EMI", migrant_status="MS_MIGRANT",
                  breakdown="CRITERION:CITIZENSHIP", counterpart_area="_T", **TOTALS) == 363220
    # France counts immigrants by both criteria: two series, never one key twice
    fra = f[(f.ref_area == "FRA") & (f.measure == "IMM") & (f.migrant_status == "_T")]
    assert set(fra["breakdown"]) == {"CRITERION:RESIDENCE", "CRITERION:CITIZENSHIP"}
    assert f["value"].isna().sum() > 0 and set(f.loc[f["value"].isna(), "obs_status"]) == {"M"}   # '..'


def test_unhcr_global_trends_annex(reference):
    """UNHCR Global Trends 2015 annex: 29 tables, footnote numbers glued to names and headers,
    stacked header words, regional total rows, provisional data."""
    prep = _prepare(reference, "unhcr-global-trends-annex/15-WRD-tab_v3.xlsx")
    f = _frame(prep, "refugees")
    key = dict(time_period="2015", migrant_status="_T", **TOTALS)
    assert _value(f, ref_area="TUR", measure="REFUG", counterpart_area="_T", **key) == 2541352  # "Turkey36"
    assert [_value(f, ref_area="DEU", measure=m, counterpart_area="_T", **key)
            for m in ("REFUG", "ASY_SEEK", "POP_CONCERN")] == [316115, 420625, 749309]
    assert _value(f, ref_area="WLD", measure="REFUG", counterpart_area="_T", **key) == 15483893    # Total
    # Table 2 by origin: world totals by origin
    assert _value(f, ref_area="WLD", measure="REFUG", counterpart_area="SYR", **key) == 4850792
    assert _value(f, ref_area="WLD", measure="REFUG_INCL", counterpart_area="SYR", **key) == 4872585
    deu = f[(f.ref_area == "DEU") & (f.measure == "REFUG") & (f.counterpart_area == "_T")]
    assert deu["obs_status"].item() == "P"     # Table 1: "All data are provisional and subject to change"
    assert prep.datasets[0].meta.source == "UNHCR, Global Trends"
    # subsets ("Of whom assisted by UNHCR") are not read as refugees, and the report says so
    assert any("Of whom assisted" in i.message for i in prep.issues)


def test_unhcr_data_finder_csvs(reference):
    """UNHCR Refugee Data Finder exports: a preamble before the header, '-' for no value, names
    with unquoted commas, the literal code NA in the stage of procedure."""
    prep = _prepare(reference, "unhcr-datafinder-csv/solutions.csv")
    f = _frame(prep, "refugees")
    assert _value(f, ref_area="USA", counterpart_area="IRQ", measure="RESETTLE", time_period="2015",
                  breakdown="_T", migrant_status="_T", **TOTALS) == 10169
    assert prep.datasets[0].meta.source == "UNHCR, Refugee Data Finder"
    assert prep.datasets[0].meta.edition == "19/07/2024"
    path = reference / "layouts" / "unhcr-datafinder-csv" / "population.csv"
    refused = _origin_is_asylum(path)
    assert {v for _, v in refused} == {"AUS", "FIN", "TZA", "GBR"} and len(refused) == 6
    prep = _prepare(reference, "unhcr-datafinder-csv/population.csv", refused=refused)
    f = _frame(prep, "refugees")
    key = dict(ref_area="AUT", counterpart_area="AFG", time_period="2018", breakdown="_T", migrant_status="_T",
               **TOTALS)
    assert _value(f, measure="REFUG", **key) == 33103
    assert _value(f, measure="ASY_SEEK", **key) == 16093
    # "China, Hong Kong SAR" written without quotes: joined again, said, and read as Hong Kong
    assert any("Hong Kong SAR" in i.message for i in prep.issues if i.level == "info")
    assert "HKG" in set(f["ref_area"])
    assert set(f["time_period"]) == {str(y) for y in range(2018, 2024)}
    path = reference / "layouts" / "unhcr-datafinder-csv" / "asylum-applications.csv"
    refused = _origin_is_asylum(path)
    assert {v for _, v in refused} == {"GBR", "SWE", "SRB"}
    prep = _prepare(reference, "unhcr-datafinder-csv/asylum-applications.csv", refused=refused)
    f = _frame(prep, "refugees")
    assert _value(f, ref_area="DEU", counterpart_area="ALB", measure="ASY_APP", time_period="2015",
                  breakdown="APP_TYPE:N+AUTHORITY:G+STAGE:NA", migrant_status="_T", **TOTALS) == 53805


def test_oecd_sdmx_csv_labels_both(reference):
    """OECD Data Explorer SDMX-CSV 2.0, labels both: MEASURE B11, persons, UNIT_MULT 0."""
    prep = _prepare(reference, "oecd-migration/International-migration-database.csv")
    (d,) = prep.datasets
    assert d.layout == "sdmx_csv_2.0" and d.meta.source == "OECD, International Migration Database"
    key = dict(measure="IMM", migrant_status="MS_MIGRANT", counterpart_area="_T", breakdown="_T", **TOTALS)
    assert _value(d.frame, ref_area="DEU", time_period="2020", **key) == 994819
    assert _value(d.frame, ref_area="GRC", time_period="2014", **key) == 29510
    assert _value(d.frame, ref_area="ESP", time_period="2021", **key) == 752309


def test_oecd_annex_table_in_thousands(reference):
    """OECD International Migration Outlook annex table: title, a "Thousands" line, years as
    headers, "Türkiye", '..' missing, non-rounded thousands."""
    prep = _prepare(reference, "oecd-migration/Outflows of foreign population.xlsx")
    f = _frame(prep, "migration_flows")
    key = dict(measure="EMI", migrant_status="MS_MIGRANT", counterpart_area="_T", breakdown="_T", **TOTALS)
    assert _value(f, ref_area="DEU", time_period="2015", **key) == pytest.approx(859279, abs=1e-6)
    assert _value(f, ref_area="JPN", time_period="2021", **key) == pytest.approx(139986, abs=1e-6)
    assert set(f["unit_mult"]) == {3}
    assert "TUR" in set(f["ref_area"])
    assert prep.datasets[0].meta.edition == "2023"


def test_world_bank_databank_export(reference):
    """World Bank DataBank export: origin rows, destination columns "Belarus [BLR]", a footer."""
    prep = _prepare(reference, "wb-databank-export/Data_Extract_From_Global_Bilateral_Migration.xlsx")
    f = _frame(prep, "migrant_stock")
    key = dict(measure="POP", migrant_status="MS_MIGRANT", breakdown="_T", **TOTALS)
    assert _value(f, ref_area="RUS", counterpart_area="UKR", time_period="1960", **key) == 3500317
    assert _value(f, ref_area="RUS", counterpart_area="UKR", time_period="2000", **key) == 3559975
    assert _value(f, ref_area="DEU", counterpart_area="UKR", time_period="2000", **key) == 58163
    assert set(f["time_period"]) == {"1960", "1970", "1980", "1990", "2000"}   # the footer is not data
    assert prep.datasets[0].meta.source == "World Bank, Global Bilateral Migration"


def test_knomad_inflows_workbook(reference):
    """KNOMAD remittance inflows (.xls): US$ million, years as floats, "2018e" (an estimate), a
    share of GDP written as a fraction, aggregates, notes, an added sheet the reader leaves out."""
    prep = _prepare(reference, "knomad-remittances/Remittancedatainflows(Dec.2018).xls")
    f = _frame(prep, "remittances")
    key = dict(counterpart_area="_T", breakdown="_T", migrant_status="_T", **TOTALS)
    nepal_2018 = f[(f.ref_area == "NPL") & (f.time_period == "2018") & (f.measure == "REM_IN")]
    assert nepal_2018["value"].item() == pytest.approx(8209.838657280001e6)
    assert nepal_2018["obs_status"].item() == "E"       # "2018e"
    assert _value(f, ref_area="IND", time_period="2017", measure="REM_IN", **key) == pytest.approx(68967.177216e6)
    assert _value(f, ref_area="WLD", time_period="2018", measure="REM_IN", **key) == pytest.approx(688995.7881477819e6)
    # the share of GDP column holds fractions: read as a percentage, and said
    assert _value(f, ref_area="NPL", time_period="2018", measure="REM_IN_GDP", **key) == \
        pytest.approx(30.096923004912385)
    assert any(i.level == "warning" and "between 0 and 1" in i.message for i in prep.issues)
    assert prep.datasets[0].meta.edition == "December 2018"
    # the repository owner's extra sheet is not publisher content: not read, and said
    assert any(i.sheet == "Percentage Remmitance" for i in prep.issues)
    assert set(f["ref_area"]) >= {"YEM", "VEN"}   # "Yemen, Rep.", "Venezuela, RB"


def test_national_border_statistics_stacked_tables(reference):
    """Dominican Republic air arrivals by nationality: nine stacked tables (country, then one per
    airport), months across, hierarchy by indentation, regions, "Otros", non-integer values,
    months not yet published written as 0."""
    prep = _prepare(reference, "admin-flows-border/lleg_nacionalidad_2023.xls")
    f = _frame(prep, "border_movements")
    key = dict(measure="ARR", ref_area="DOM", **TOTALS)
    total = dict(counterpart_area="_T", migrant_status="_T", breakdown="_T")
    months = [f"2023-{m:02d}" for m in range(1, 10)]
    jan_sep = sum(_value(f, time_period=m, **key, **total) for m in months)
    assert jan_sep == pytest.approx(6737510)
    assert _value(f, time_period="2023-01", **key, **total) == 779599.0000000001
    # October to December are 0 in every row: not yet published, so missing, never zeros
    assert not {"2023-10", "2023-11", "2023-12"} & set(f["time_period"])
    assert "2023" not in set(f["time_period"])       # the year total covers January-September only
    assert any("not yet published" in i.message for i in prep.issues)
    usa = f[(f.counterpart_area == "USA") & (f.breakdown == "_T") & f.time_period.isin(months)]
    assert usa["value"].sum() == pytest.approx(1999984.5944122293)
    airport = "POE:AEROPUERTO_INTERNACIONAL_DE_LAS_AMERICAS"
    las_americas = sum(_value(f, time_period=m, counterpart_area="_T", migrant_status="_T", breakdown=airport,
                              **key) for m in months)
    assert las_americas == pytest.approx(1981486)
    # nationals and foreigners among residents
    assert _value(f, time_period="2023-01", counterpart_area="_T", migrant_status="MS_NOMIGRANT",
                  breakdown="RESIDENCE:RES", **key) == pytest.approx(87977.8294310799)
    # the source's regions are not stored; "Otros" of every region is the residual nationality
    assert any("AMERICA DEL NORTE" in i.message for i in prep.issues)
    assert "OOO" in set(f["counterpart_area"])
