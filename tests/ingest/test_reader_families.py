"""The general table reader on the layouts national offices write, built here cell by cell (with
merged cells where offices merge them): a French census table, the simplest tables a person
writes (English, French with ';' and decimal commas, Spanish, Portuguese), a DataBank export with
quarters, SDMX-CSV 1.0, stacked tables with a sex in each title, labels merged down the rows.

Each test asserts values a wrong reading would get wrong (a thousands multiplier, a sex, an
origin, a period), and that what is not read is said."""

from __future__ import annotations

import io

import openpyxl
import pytest

from mmicd.ingest import Upload, prepare
from tests.ingest.conftest import value_of as _value

TOT = {"age": "_T", "labour_status": "_T", "breakdown": "_T"}


def _xlsx(rows, merges=(), sheet="Tableau 1") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    for rng in merges:
        ws.merge_cells(rng)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _ok(name, data, **kw):
    prep = prepare([Upload(name, data)], **kw)
    assert prep.ok, [(i.message, i.sheet, i.row, i.column) for i in prep.issues if i.level == "error"][:5]
    return prep




FRENCH_CENSUS = [
    ["Tableau 3 : Population résidente selon le lieu de naissance, le sexe et le groupe d'âge"],
    ["Sénégal, RGPHAE 2013 (effectifs)"],
    [],
    ["Groupe d'âge", "Ensemble", None, None, "Nés au Sénégal", None, None, "Nés à l'étranger", None, None],
    [None, "Total", "Hommes", "Femmes", "Total", "Hommes", "Femmes", "Total", "Hommes", "Femmes"],
    ["0-14 ans", 2000, 1010, 990, 1990, 1005, 985, 10, 5, 5],
    ["15-64 ans", 10000, 5000, 5000, 9800, 4900, 4900, 200, 100, 100],
    ["65 ans et plus", 300, 140, 160, 290, 135, 155, 10, 5, 5],
    ["Non déclaré", 12, 6, 6, 10, 5, 5, 2, "..", ".."],
    ["Total", 12312, 6156, 6156, 12090, 6045, 6045, 222, 110, 110],
    [],
    ["Source : ANSD, RGPHAE 2013."],
]


def test_a_french_census_table_with_merged_headers():
    data = _xlsx(FRENCH_CENSUS, merges=["B4:D4", "E4:G4", "H4:J4", "A4:A5"])
    prep = _ok("recensement.xlsx", data)
    (d,) = prep.datasets
    f = d.frame
    assert d.meta.kind.value == "census" and set(f["ref_area"]) == {"SEN"} and set(f["time_period"]) == {"2013"}
    key = dict(measure="POP", counterpart_area="_T", labour_status="_T", breakdown="_T")
    assert _value(f, migrant_status="MS_MIGRANT", sex="F", age="Y_GE65", **key) == 5
    assert _value(f, migrant_status="MS_NOMIGRANT", sex="M", age="Y0T14", **key) == 1005   # born in Senegal
    assert _value(f, migrant_status="_T", sex="_T", age="_T", **key) == 12312
    assert _value(f, migrant_status="MS_MIGRANT", sex="_T", age="_U", **key) == 2   # "Non déclaré"
    unknown = f[(f.age == "_U") & (f.migrant_status == "MS_MIGRANT") & (f.sex == "M")]
    assert unknown["value"].isna().all() and set(unknown["obs_status"]) == {"M"}   # '..' is missing, not 0
    assert any("2013" in i.message for i in prep.issues if i.level == "info")       # the year came from the title


def test_the_simplest_table_a_person_writes():
    csv = ("country,year,sex,international migrant stock\n"
           "Nepal,2020,Female,250000\nNepal,2020,Male,237000\nNepal,2020,Both sexes,487000\n")
    (d,) = _ok("stock.csv", csv.encode()).datasets
    assert d.meta.kind.value == "migrant_stock"
    assert _value(d.frame, sex="F", measure="POP", migrant_status="MS_MIGRANT", ref_area="NPL",
                  time_period="2020", counterpart_area="_T", **TOT) == 250000


def test_a_french_table_with_semicolons_and_spaces_as_thousands():
    csv = ("Pays;Année;Sexe;Population née à l'étranger\n"
           "Sénégal;2013;Femmes;105 412\nSénégal;2013;Hommes;112 388\nSénégal;2013;Ensemble;217 800\n")
    (d,) = _ok("pop.csv", csv.encode("utf-8")).datasets
    assert _value(d.frame, sex="F", ref_area="SEN", migrant_status="MS_MIGRANT", counterpart_area="_T",
                  time_period="2013", measure="POP", **TOT) == 105412


def test_spanish_and_portuguese_tables():
    es = _xlsx([["Cuadro 2. Población nacida en el extranjero por sexo y edad, Ecuador 2022"],
                ["Grupos de edad", "Hombres", "Mujeres", "Total"],
                ["0 a 14 años", 20, 22, 42], ["15 a 64 años", 300, 280, 580], ["65 y más", 40, 44, 84],
                ["Ignorado", 1, 0, 1], ["Total", 361, 346, 707]], sheet="Cuadro 2")
    (d,) = _ok("censo.xlsx", es).datasets
    f = d.frame
    assert set(f["ref_area"]) == {"ECU"} and set(f["migrant_status"]) == {"MS_MIGRANT"}
    assert _value(f, age="Y_GE65", sex="F", measure="POP", time_period="2022", counterpart_area="_T",
                  migrant_status="MS_MIGRANT", labour_status="_T", breakdown="_T") == 44
    assert _value(f, age="_U", sex="M", measure="POP", time_period="2022", counterpart_area="_T",
                  migrant_status="MS_MIGRANT", labour_status="_T", breakdown="_T") == 1
    pt = _xlsx([["Tabela 1 - População nascida no exterior, por sexo, 2021"],
                ["País", "Homens", "Mulheres"], ["Cabo Verde", 1500, 1700], ["Moçambique", 800, 950]],
               sheet="Tabela 1")
    (d,) = _ok("censo_pt.xlsx", pt).datasets
    assert set(d.frame["ref_area"]) == {"CPV", "MOZ"}
    assert _value(d.frame, ref_area="MOZ", sex="F", measure="POP", migrant_status="MS_MIGRANT",
                  time_period="2021", counterpart_area="_T", **TOT) == 950


def test_a_databank_export_with_quarters_and_series_codes():
    rows = [["Series Name", "Series Code", "Country Name", "Country Code", "2011Q1 [YR2011Q1]", "2011Q2 [YR2011Q2]"],
            ["Average transaction cost of sending remittances to a specific country (%)", "SI.RMT.COST.IB.ZS",
             "Nepal", "NPL", "6.5", "6.1"],
            ["Average transaction cost of sending remittances to a specific country (%)", "SI.RMT.COST.IB.ZS",
             "Sub-Saharan Africa", "SSF", "12.1", "11.9"],
            ["Personal remittances, received (current US$)", "BX.TRF.PWKR.CD.DT", "Nepal", "NPL", "..", ".."],
            [], ["Data from database: World Development Indicators"], ["Last Updated: 12/19/2023"]]
    prep = _ok("Data_Extract_From_World_Development_Indicators.xlsx", _xlsx(rows, sheet="Data"))
    f = prep.datasets[0].frame
    cost = f[f.measure == "REM_COST"].set_index("time_period")["value"]
    assert cost.to_dict() == {"2011-Q1": 6.5, "2011-Q2": 6.1} and set(f["ref_area"]) == {"NPL"}
    assert any("Sub-Saharan Africa" in i.message for i in prep.issues)   # a World Bank region: skipped, said


def test_sdmx_csv_1_0_with_codes():
    csv = ("DATAFLOW,REF_AREA,SEX,AGE,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT,MEASURE\n"
           "OECD:DF_MIG(1.0),DEU,F,_T,2020,480000,P,0,B11\n"
           "OECD:DF_MIG(1.0),DEU,M,_T,2020,514819,P,0,B11\n"
           "OECD:DF_MIG(1.0),DEU,_T,_T,2020,994819,A,0,B11\n")
    (d,) = _ok("mig.csv", csv.encode()).datasets
    assert d.layout == "sdmx_csv_1.0"
    f = d.frame
    assert _value(f, sex="F", ref_area="DEU", measure="IMM", time_period="2020", migrant_status="MS_MIGRANT",
                  counterpart_area="_T", **TOT) == 480000
    assert set(f.loc[f.sex == "F", "obs_status"]) == {"P"}


def test_stacked_tables_each_with_a_sex_in_its_title():
    rows = [["International migrant stock, both sexes (thousands)"], ["Country", "2010", "2020"],
            ["Nepal", 480, 488], ["India", 5400, 5100], [],
            ["International migrant stock, females (thousands)"], ["Country", "2010", "2020"],
            ["Nepal", 300, 310], ["India", 2600, 2500], [],
            ["International migrant stock, males (thousands)"], ["Country", "2010", "2020"],
            ["Nepal", 180, 178], ["India", 2800, 2600]]
    (d,) = _ok("stacked.xlsx", _xlsx(rows, sheet="Stocks")).datasets
    f = d.frame
    key = dict(measure="POP", migrant_status="MS_MIGRANT", counterpart_area="_T", **TOT)
    assert _value(f, ref_area="NPL", time_period="2020", sex="F", **key) == 310_000
    assert _value(f, ref_area="IND", time_period="2010", sex="M", **key) == 2_800_000
    assert _value(f, ref_area="IND", time_period="2010", sex="_T", **key) == 5_400_000


def test_labels_merged_down_the_rows_are_filled_and_numbers_merged_are_refused():
    rows = [["Emigration flows by destination, sex and year"], ["Year", "Sex", "Destination", "Emigrants"],
            [2022, "Female", "India", 100], [None, None, "Qatar", 40], [None, "Male", "India", 300],
            [None, None, "Qatar", 900]]
    data = _xlsx(rows, merges=["A3:A6", "B3:B4", "B5:B6"], sheet="Emigration")
    prep = _ok("emig.xlsx", data, country="NPL")
    f = prep.datasets[0].frame
    assert _value(f, ref_area="NPL", counterpart_area="QAT", sex="M", time_period="2022", measure="EMI",
                  migrant_status="_T", **TOT) == 900
    assert any("merged" in i.message.lower() for i in prep.issues if i.level == "info")
    bad = _xlsx(rows[:4] + [[None, "Male", "India", 300]], merges=["A3:A5", "D3:D4"], sheet="Emigration")
    prep = prepare([Upload("emig.xlsx", bad)], country="NPL")
    errors = [i for i in prep.issues if i.level == "error"]
    assert not prep.ok and any(i.row == 3 and "merged" in i.message.lower() for i in errors)


def test_nothing_recognised_says_what_was_tried():
    data = _xlsx([["Contents of the census report"], ["Chapter", "Page"], ["Introduction", 3], ["Methods", 7]],
                 sheet="Contents")
    prep = prepare([Upload("contents.xlsx", data)])
    assert not prep.ok and not prep.datasets
    assert any(i.level == "error" and "No recognisable table" in i.message for i in prep.issues)
    # the table was found and its column of numbers was not understood: both are said
    assert any(i.level == "info" and "Page" in i.message for i in prep.issues)
    assert any(i.level == "info" and "Tried" in i.message for i in prep.issues)
    letter = prepare([Upload("letter.xlsx", _xlsx([["Dear colleagues,"], ["the census report is attached."]]))])
    assert [i.check for i in letter.issues] == [None] and "No recognisable table" in letter.issues[0].message


@pytest.mark.parametrize("header", ["Foreign-born population (per cent of total)", '"Migrants, % of population"',
                                    "Migrants, % of population"])   # the last one with its comma unquoted
def test_a_percentage_is_never_read_as_a_count(header):
    csv = f"country,year,{header}\nNepal,2020,1.7\nIndia,2020,0.4\n"
    prep = prepare([Upload("share.csv", csv.encode())])
    stored = [d.frame for d in prep.datasets]
    assert not any(((f["measure"] == "POP") & (f["value"] < 10)).any() for f in stored)


def test_a_mapping_profile_gives_header_row_measure_and_unit():
    """What the mapping editor saves for a table nothing could read: its header row, its columns,
    the measure of every value and their multiplier; `ingest --mapping` reads the same file alike."""
    from mmicd.ingest import MappingProfile

    rows = [["Bulletin trimestriel"], ["(milliers)"], ["Zone", "An", "Montant"], ["SN", "2021", "2 150,5"],
            ["SN", "2022", "2 300"]]
    csv = "\n".join(";".join(r) for r in rows) + "\n"
    profile = MappingProfile(kind="remittances", header_row=3, measure="REM_IN", unit_mult=6,
                             columns={"ref_area": "Zone", "time_period": "An", "value": "Montant"})
    again = MappingProfile.from_yaml(profile.to_yaml())
    assert again == profile
    prep = _ok("bulletin.csv", csv.encode(), mapping=again, kind="remittances")
    f = prep.datasets[0].frame
    # the multiplier said in the mapping (millions) wins over the title's "milliers"
    assert _value(f, ref_area="SEN", time_period="2021", measure="REM_IN", migrant_status="_T",
                  counterpart_area="_T", sex="_T", **TOT) == pytest.approx(2_150.5e6)


@pytest.mark.parametrize("header,area", [("District", "Kathmandu"), ("Provincia", "Pichincha"),
                                         ("Département", "Dakar"), ("Município", "Luanda")])
def test_areas_below_the_country_are_never_taken_as_the_country(header, area):
    """A table by district is read by subdivision (mmicd/clean/local_areas.py), never stored as the
    upload country's figures: an area that is no subdivision of the country is an error at its cells."""
    csv = f"Returned migrants by sex, 2021\n{header};Year;Sex;Persons\n{area};2021;Female;15\n{area};2021;Male;14\n"
    prep = prepare([Upload("district.csv", csv.encode())], country="NPL")
    assert not prep.ok      # nothing can be stored
    issue = next(i for i in prep.issues if i.check.startswith("unknown_subdivision"))
    assert (issue.level, issue.row, issue.column, issue.value) == ("error", 3, header, area)


CUADRO = ("Cuadro 3. Población extranjera residente según país de nacionalidad y sexo, 2021\n"
          "País de nacionalidad;Total;Hombres;Mujeres\nVenezuela;444.423;222.000;222.423\n"
          "Perú;234.677;110.000;124.677\nOtros países;621.070;300.000;321.070\nTotal;1.300.170;632.000;668.170\n")


def test_a_column_of_nationalities_is_the_origin_never_the_reporting_country():
    """"País de nacionalidad" names where the foreigners come from: with the upload's country they
    are Chile's foreigners by origin; without it nothing says whose foreigners they are, and the
    table is refused rather than stored as Venezuela's population."""
    prep = _ok("cuadro3.csv", CUADRO.encode(), country="CHL")
    f = prep.datasets[0].frame
    assert set(f["ref_area"]) == {"CHL"} and prep.datasets[0].meta.basis == "citizenship"
    key = dict(ref_area="CHL", time_period="2021", measure="POP", migrant_status="MS_MIGRANT", **TOT)
    assert _value(f, counterpart_area="VEN", sex="_T", **key) == 444423
    assert _value(f, counterpart_area="OOO", sex="F", **key) == 321070
    assert _value(f, counterpart_area="_T", sex="M", **key) == 632000
    alone = prepare([Upload("cuadro3.csv", CUADRO.encode())])
    assert not alone.ok and not alone.datasets
    assert any(i.check == "no_ref_area" for i in alone.issues)


def _csv_issues(name, body, **kw):
    prep = prepare([Upload(name, body.encode())], **kw)
    return prep, {i.check: i for i in prep.issues}


def test_units_and_ratios_said_only_below_or_beside_the_table():
    """A CSV title split at its comma is still a title; a unit only the note gives is taken (and
    said); a note that merely mentions millions is pointed at, never applied; a sex ratio beside the
    counts is not a count, nor a row label."""
    table = "International migrant stock by sex, 2020\nCountry,Male,Female\nNepal,250,237\nIndia,2500,2300\n"
    prep, said = _csv_issues("note.csv", table + "Note: figures are in thousands.\n")
    assert prep.ok and "unit_from_note" in said
    f = prep.datasets[0].frame
    assert _value(f, ref_area="NPL", sex="M", time_period="2020", measure="POP", migrant_status="MS_MIGRANT",
                  counterpart_area="_T", **TOT) == 250_000
    prep, said = _csv_issues("mention.csv", table + "In 2020 about 281 millions persons lived abroad, said UN DESA.\n")
    assert said["unit_in_note"].level == "warning" and set(prep.datasets[0].frame["unit_mult"]) == {0}
    assert prep.datasets[0].frame["value"].max() == 2500
    prep, said = _csv_issues("both.csv", table + "Note: figures are in thousands.\nNote: values in millions.\n")
    assert not prep.ok and "unit_notes_conflict" in said
    ratio = "International migrant stock, 2020\nCountry,Male,Female,Sex ratio (males per 100 females)\nNepal,250100,237200,105.4\n"
    prep, said = _csv_issues("ratio.csv", ratio)
    assert prep.ok and sorted(prep.datasets[0].frame["value"]) == [237200, 250100]
    assert "Sex ratio" in said["columns_not_read"].message


def test_a_later_edition_of_the_ims_workbook_with_group_headings_and_glued_footnotes():
    """The 2019 edition of UN DESA's IMS workbook (tried whole; its layout rebuilt here in small)
    adds heading rows of groups ("World Bank income groups") with '..' in every value, a footnote
    letter glued to a header ("(thousands)g") and "Australia / New Zealand" with spaces: the
    headings are said and not read, the header still gives thousands, the region is the M49 one,
    and its footnote letter "h" in the Notes column is no sex (h: hommes, hombres)."""
    rows = [["Table 2 - Total population at mid-year by sex, 1990-2019"],
            ["Suggested citation: United Nations, Department of Economic and Social Affairs. Population Division "
             "(2019). International Migrant Stock 2019 (United Nations database, POP/DB/MIG/Stock/Rev.2019)."], [],
            ["Sort\norder", "Major area, region, country or area of destination", "Notes", "Code",
             "Total population of both sexes at mid-year (thousands)g", None],
            [None, None, None, None, 2015, 2019],
            [1, "WORLD", None, 900, 7379797.139, 7713468.1],
            [2, "World Bank income groups", None, None, "..", ".."],
            [3, "Australia / New Zealand", "h", 927, 28511.242, 30322.163],
            [4, "Germany", None, 276, 81787.411, 83517.045]]
    prep = _ok("UN_MigrantStockTotal_2019.xlsx", _xlsx(rows, merges=("E4:F4",), sheet="Table 2"))
    f = prep.datasets[0].frame
    key = dict(measure="POP", migrant_status="_T", counterpart_area="_T", sex="_T", **TOT)
    assert _value(f, ref_area="DEU", time_period="2019", **key) == pytest.approx(83_517_045)
    assert _value(f, ref_area="A927", time_period="2015", **key) == pytest.approx(28_511_242)
    said = next(i for i in prep.issues if i.check == "rows_without_figures")
    assert "World Bank income groups" in said.message and said.level == "info"


def test_a_unit_said_only_on_another_sheet_is_pointed_at_never_applied():
    """"All figures are in thousands" on a contents sheet may or may not concern a table: its values
    are read as written, and a warning quotes the line; a table whose own title says it is read so."""
    wb = openpyxl.Workbook()
    about = wb.active
    about.title = "About"
    about.append(["International migrant stock, national estimates"])
    about.append(["All figures are in thousands"])
    data = wb.create_sheet("Data")
    for row in (["International migrant stock by sex, 2020"], ["Country", "Male", "Female"], ["Nepal", 250, 237]):
        data.append(row)
    out = io.BytesIO()
    wb.save(out)
    prep = _ok("stock.xlsx", out.getvalue())
    assert sorted(prep.datasets[0].frame["value"]) == [237, 250]
    warned = next(i for i in prep.issues if i.check == "unit_elsewhere")
    assert warned.level == "warning" and "All figures are in thousands" in warned.message


def test_a_plain_country_column_reports_and_a_nationality_beside_it_is_the_partner():
    """Departures by nationality: the country whose border is crossed reports, the travellers'
    nationality is the partner (an outward measure once stored the departures of Indians from Nepal
    as reported by India)."""
    text = ("Border crossings at Nepal's airports\ncountry,month,nationality,arrivals,departures\n"
            "NPL,2023-01,IND,101,91\nNPL,2023-02,IND,102,92\n")
    prep = prepare([Upload("border.csv", text.encode())], kind="auto")
    assert prep.ok and not [i for i in prep.issues if i.level != "info"]
    f = prep.datasets[0].frame
    assert set(f["ref_area"]) == {"NPL"} and set(f["counterpart_area"]) == {"IND"}
    key = dict(ref_area="NPL", counterpart_area="IND", sex="_T", migrant_status="_T", **TOT)
    assert _value(f, measure="DEP", time_period="2023-02", **key) == 92
    assert _value(f, measure="ARR", time_period="2023-01", **key) == 101
    # emigrants by citizenship (Eurostat's emi1ctz shape): the country reports, the citizenship is the partner
    text = "country,year,citizenship,emigrants (outflows)\nDEU,2022,POL,100\nDEU,2022,ROU,50\n"
    prep = prepare([Upload("emi.csv", text.encode())], kind="auto")
    f = prep.datasets[0].frame
    assert prep.datasets[0].meta.kind.value == "migration_flows"   # "(outflows)" makes "emigrants" a flow
    assert _value(f, measure="EMI", ref_area="DEU", counterpart_area="ROU", time_period="2022", sex="_T",
                  migrant_status="_T", **TOT) == 50


def test_deployments_by_occupation_are_isco_major_groups():
    """A labour ministry's table by destination and occupation: names and ISCO-08 codes of major
    groups both read as OCCUPATION, 'Total' as the total over them (never a group of its own)."""
    text = ("Workers deployed abroad by occupation, 2022\ncountry,year,country of destination,occupation,workers deployed\n"
            "NPL,2022,QAT,Elementary occupations,30000\nNPL,2022,QAT,Craft and related trades workers,12000\n"
            "NPL,2022,QAT,Total,42000\nNPL,2022,MYS,9,20000\nNPL,2022,MYS,7,5000\nNPL,2022,MYS,Total,25000\n")
    prep = prepare([Upload("occupation.csv", text.encode())], kind="auto")
    assert prep.ok and not [i for i in prep.issues if i.level != "info"]
    f = prep.datasets[0].frame
    assert prep.datasets[0].meta.kind.value == "labour_migration"
    key = dict(measure="DEPLOY", ref_area="NPL", time_period="2022", sex="_T", migrant_status="_T", age="_T",
               labour_status="_T")
    assert _value(f, counterpart_area="QAT", breakdown="OCCUPATION:9", **key) == 30000
    assert _value(f, counterpart_area="MYS", breakdown="OCCUPATION:7", **key) == 5000
    assert _value(f, counterpart_area="MYS", breakdown="_T", **key) == 25000


def test_immigrants_beside_emigrants_are_flows_and_it_is_said():
    """'Emigrants' can only be a flow here, so 'Immigrants' beside it are arrivals (not a stock of
    people born abroad, which a lone 'Immigrants' column stays): a warning names the column."""
    text = "country,year,immigrants,emigrants\nNPL,2019,1000,5000\nNPL,2020,1200,4000\n"
    prep = prepare([Upload("flows.csv", text.encode())], kind="auto")
    assert prep.ok and prep.datasets[0].meta.kind.value == "migration_flows"
    f = prep.datasets[0].frame
    key = dict(ref_area="NPL", time_period="2020", sex="_T", migrant_status="_T", counterpart_area="_T", **TOT)
    assert _value(f, measure="IMM", **key) == 1200 and _value(f, measure="EMI", **key) == 4000
    (said,) = [i for i in prep.issues if i.level == "warning"]
    assert "emigrants" in said.message and "flows" in said.message
    alone = prepare([Upload("stock.csv", b"country,year,immigrants\nNPL,2019,1000\n")], kind="auto")
    assert alone.datasets[0].frame["measure"].tolist() == ["POP"] and not alone.issues
