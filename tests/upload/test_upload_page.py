"""The upload page under AppTest: a filled template is previewed with no issue and stored as a draft
on confirm; a broken file shows its issues (sheet, row, column) and stores nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mmicd.auth import Role, User
from mmicd.issues import Issue
from mmicd.model import Status
from mmicd.store import Store
from mmicd.templates import build_template
from tests.conftest import DASHBOARD

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / DASHBOARD)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ANALYST = User("ana", Role.ANALYST, id=5)


def open_upload_page(user: User | None = ANALYST) -> AppTest:
    """The app as a signed-in user, then its upload page (which is in that user's navigation)."""
    at = AppTest.from_file(APP, default_timeout=180)
    if user is not None:
        at.session_state["_auth"] = {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    at.run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.get("file_uploader")[0].set_value([(name, data, XLSX) for name, data in files])
    at.run()
    assert not at.exception, at.exception
    return at


def census_rows() -> pd.DataFrame:
    rows = []
    for sex, value in (("F", 600), ("M", 400), ("_T", 1000)):
        rows.append({"ref_area": "NPL", "time_period": "2021", "sex": sex, "age": "_T", "migrant_status": "_T",
                     "counterpart_area": "_T", "value": value, "obs_status": "A"})
    return pd.DataFrame(rows)


def broken_template() -> bytes:
    """A census template with an unknown sex code in C3 and text in the value column in G4."""
    wb = openpyxl.load_workbook(io.BytesIO(build_template("census", "en", census_rows())))
    ws = wb["data"]
    ws["C3"] = "Z"
    ws["G4"] = "lots"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_filled_template_is_previewed_without_issues_and_stored_as_draft_on_confirm(app_env):
    before = {v.id for v in Store(app_env).datasets()}
    at = open_upload_page()
    assert at.title[0].value == "Upload data"
    at = upload(at, ("npl-census.xlsx", build_template("census", "en", census_rows())))
    assert [s.value for s in at.success] == ["Every file can be stored: no problem found."]
    assert any(c.value == "No problem found in any file." for c in at.caption)
    summary = at.dataframe[0].value
    assert summary["File"].tolist() == ["npl-census.xlsx"]
    assert summary["Layout"].tolist() == ["template"] and summary["Rows"].tolist() == ["3"]
    preview = at.dataframe[1].value
    assert len(preview) == 3 and set(preview["sex"]) == {"F", "M", "_T"}
    assert not button(at, "Confirm and store as draft").disabled

    at.selectbox(key="upload_basis").set_value("country of birth")
    at.radio(key="upload_mode").set_value("replace")
    button(at, "Confirm and store as draft").click().run()
    assert not at.exception, at.exception
    store = Store(app_env)
    new = [v for v in store.datasets() if v.id not in before]
    assert len(new) == 1
    [version] = new
    assert version.status == Status.DRAFT
    assert version.loaded_by == "ana"
    assert version.scope == "NPL" and version.file_name == "npl-census.xlsx"
    assert version.basis == "country of birth"
    assert store.observations(dataset_ids=[version.id], status=None)["value"].sum() == 2000
    assert any(f"#{version.id}" in s.value for s in at.success)
    # the uploader is empty again: nothing is stored twice
    assert not at.get("file_uploader")[0].value


def test_broken_file_shows_sheet_row_column_and_stores_nothing(app_env):
    before = len(Store(app_env).datasets())
    at = open_upload_page()
    at = upload(at, ("broken.xlsx", broken_template()))
    assert at.error and "block storing" in at.error[0].value
    issues = at.dataframe[1].value
    assert {"Level", "File", "Sheet", "Row", "Column", "Value", "Problem"} <= set(issues.columns)
    found = {(r.Sheet, int(r.Row), r.Column) for r in issues.itertuples()}
    assert ("data", 3, "sex") in found
    assert ("data", 4, "value") in found
    assert set(issues["File"]) == {"broken.xlsx"}
    assert button(at, "Confirm and store as draft").disabled
    assert len(Store(app_env).datasets()) == before


def test_several_files_at_once_one_broken_blocks_all(app_env):
    before = len(Store(app_env).datasets())
    at = open_upload_page()
    at = upload(at, ("good.xlsx", build_template("census", "en", census_rows())), ("broken.xlsx", broken_template()))
    summary = at.dataframe[0].value
    assert summary["File"].tolist() == ["good.xlsx", "broken.xlsx"]
    assert summary["Errors"].tolist()[0] == "0" and int(summary["Errors"].tolist()[1]) >= 2
    assert button(at, "Confirm and store as draft").disabled
    assert len(Store(app_env).datasets()) == before


def test_page_speaks_french(app_env):
    # The page file alone: under AppTest the sidebar's language widget (drawn by app.py) vanishes on a
    # rerun, which would switch the language back to English between the two runs.
    at = AppTest.from_file(str(ROOT / "pages" / "upload.py"), default_timeout=120)
    at.session_state["_auth"] = {"user": ANALYST, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    at.session_state["lang"] = "fr"
    at.run()
    assert at.title[0].value == "Charger des données"
    at = upload(at, ("recensement.xlsx", build_template("census", "fr", census_rows())))
    assert at.success[0].value.startswith("Tous les fichiers peuvent être enregistrés")
    assert "Fichier" in at.dataframe[0].value.columns


@pytest.mark.parametrize("user", [None, User("v", Role.VIEWER, id=9)])
def test_page_is_refused_without_the_upload_role(app_env, user):
    at = AppTest.from_file(str(ROOT / "pages" / "upload.py"), default_timeout=120)
    if user is not None:
        at.session_state["_auth"] = {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    at.run()
    assert not at.exception
    assert at.error and "does not allow" in at.error[0].value
    assert not at.get("file_uploader")


def test_issues_frame_translates_and_keeps_user_text_as_text(app_env):
    from mmicd.ui.upload import diff_counts, issues_frame, plain

    at = AppTest.from_string("import streamlit as st")  # tr() needs a session; any will do
    at.run()
    frame = issues_frame([Issue("error", "unknown code", file="a.xlsx", sheet="data", row=3, column="sex",
                                value="<b>Z</b>")], "en")
    assert frame.loc[0, "Level"] == "Error" and frame.loc[0, "Row"] == 3 and frame.loc[0, "Value"] == "<b>Z</b>"
    assert plain("[x](http://evil) **b**") == "\\[x\\]\\(http\u2060://evil\\) \\*\\*b\\*\\*"
    diff = pd.DataFrame({"change": ["added", "added", "changed", "removed"]})
    assert diff_counts(diff) == {"added": 2, "changed": 1, "removed": 1}
    assert diff_counts(None) == {"added": 0, "changed": 0, "removed": 0}


OWN_TABLE = ("Country;Year;Gender;Age group;Persons counted\n"
             "Nepal;2021;Female;Total;15018538\nNepal;2021;Male;Total;14173462\nNepal;2021;Total;Total;29192000\n")


def test_unrecognised_column_is_fixed_in_the_mapping_editor_and_saved_as_yaml(app_env):
    """A national table whose value column has an unknown header: the page offers its headers, the
    user picks the value column, the file is checked again and can be stored; the mapping is YAML."""
    from mmicd.ingest import MappingProfile

    at = open_upload_page()
    at.get("file_uploader")[0].set_value([("own.csv", OWN_TABLE.encode(), "text/csv")])
    at.run()
    assert not at.exception, at.exception
    assert at.error, "the missing value column blocks storing"
    value = at.selectbox(key=next(k for k in (s.key for s in at.selectbox) if k and k.endswith("_value")))
    assert "Persons counted" in value.options
    value.set_value("Persons counted")
    button(at, "Check again with this mapping").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Every file can be stored: no problem found."]
    preview = at.dataframe[1].value
    assert preview.set_index("sex")["value"].to_dict() == {"F": 15018538, "M": 14173462, "_T": 29192000}
    profile = MappingProfile.from_yaml(at.session_state["_upload_mappings"][("own.csv", _sha(OWN_TABLE))])
    assert profile.columns["value"] == "Persons counted" and profile.columns["sex"] == "Gender"


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def test_same_file_twice_is_checked_once(app_env):
    data = build_template("census", "en", census_rows())
    at = open_upload_page()
    at = upload(at, ("a.xlsx", data), ("copy-of-a.xlsx", data))
    assert any("copy-of-a.xlsx" in i.value for i in at.info)
    assert at.dataframe[0].value["File"].tolist() == ["a.xlsx"]


def test_analyst_of_another_country_cannot_store(app_env):
    before = len(Store(app_env).datasets())
    at = open_upload_page(User("deu-analyst", Role.ANALYST, countries="DEU", id=6))
    at = upload(at, ("npl.xlsx", build_template("census", "en", census_rows())))
    button(at, "Confirm and store as draft").click().run()
    assert not at.exception, at.exception
    assert any("does not allow uploading data for this country" in e.value for e in at.error)
    assert len(Store(app_env).datasets()) == before


def test_replacing_a_version_that_holds_more_values_warns_how_many_are_dropped(app_env):
    from mmicd.model import DatasetMeta, Kind

    store = Store(app_env)
    published = census_rows().assign(measure="POP")
    extra = published.assign(age="Y0T4", value=published["value"] / 10)  # age detail the new file lacks
    source = "Central Bureau of Statistics"
    store.add_dataset(DatasetMeta(kind=Kind.CENSUS, source=source, edition="2021", scope="NPL"),
                      pd.concat([published, extra], ignore_index=True), actor="test", status=Status.PUBLISHED)
    at = open_upload_page()
    at.text_input(key="upload_source").set_value(source).run()
    at = upload(at, ("npl-census.xlsx", build_template("census", "en", census_rows())))
    at.radio(key="upload_mode").set_value("replace").run()
    warnings = [w.value for w in at.warning if "Replacing drops" in w.value]
    assert warnings == ["Replacing drops 3 values that the current published version holds and this upload does "
                        "not (for example the origin detail of an official file, or age groups your table leaves "
                        "out). Choose “Add” to keep them."]
    at.radio(key="upload_mode").set_value("add").run()
    assert not [w for w in at.warning if "Replacing drops" in w.value]


CODED_TABLE = ("Country;Year;Gender;Age group;Value\n"
               "Nepal;2021;Fem.;Total;15018538\nNepal;2021;Masc.;Total;14173462\nNepal;2021;Total;Total;29192000\n")


def test_unknown_values_are_offered_for_recoding_and_the_recoding_travels_with_the_mapping(app_env):
    from mmicd.ingest import MappingProfile

    at = open_upload_page()
    at.get("file_uploader")[0].set_value([("coded.csv", CODED_TABLE.encode(), "text/csv")])
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert errors, "unknown sex labels block storing"
    editors = [d.value for d in at.dataframe if list(d.value.columns) == ["column", "value", "code"]]
    assert len(editors) == 1
    assert editors[0][["column", "value"]].values.tolist() == [["sex", "Fem."], ["sex", "Masc."]]
    # the user picks F and M in that table and checks again (AppTest cannot type into a data editor:
    # the profile the Apply button stores is set directly)
    columns = {"ref_area": "Country", "time_period": "Year", "sex": "Gender", "age": "Age group", "value": "Value"}
    profile = MappingProfile(kind="census", columns=columns, values={"sex": {"Fem.": "F", "Masc.": "M"}})
    at.session_state["_upload_mappings"] = {("coded.csv", _sha(CODED_TABLE)): profile.to_yaml()}
    at.run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Every file can be stored: no problem found."]
    editors = [d.value for d in at.dataframe if list(d.value.columns) == ["column", "value", "code"]]
    assert editors[0].values.tolist() == [["sex", "Fem.", "F"], ["sex", "Masc.", "M"]]  # saved recodings shown


def test_unknown_values_are_read_from_the_issues_of_their_column():
    from mmicd.i18n import t
    from mmicd.ui.upload import unknown_values

    issues = [Issue("error", t("ingest.issue.unknown_code", "fr", value="Fem.", column="Genre"), column="Genre",
                    value="Fem.", check="unknown_code"),
              Issue("error", t("ingest.issue.unknown_code", "fr", value="Fem.", column="Genre"), column="Genre",
                    value="Fem.", check="unknown_code"),
              Issue("error", t("ingest.issue.unknown_area_hint", "fr", value="Nepall", column="Pays", hint="Nepal"),
                    column="Pays", value="Nepall", check="unknown_area_hint"),
              Issue("error", t("ingest.issue.not_a_number", "fr", value="x", column="Genre"), column="Genre",
                    value="x", check="not_a_number")]
    assert unknown_values(issues, {"sex": "Genre", "ref_area": "Pays", "value": "Valeur"}, "fr") == {
        "sex": ["Fem."], "ref_area": ["Nepall"]}


BULLETIN = "Bulletin trimestriel\n(milliers)\nZone;An;Montant\nSN;2021;2 150,5\nSN;2022;2 300\n"


def test_a_table_nothing_reads_is_mapped_with_its_header_row_measure_and_unit(app_env):
    """Nothing names what 'Montant' measures: the editor opens on the header row it found, the user
    names the area and year columns, says every value is remittances received, in millions (not the
    title's thousands), and the file is read so; all of it travels in the saved mapping."""
    from mmicd.ingest import MappingProfile

    at = open_upload_page()
    at.get("file_uploader")[0].set_value([("bulletin.csv", BULLETIN.encode(), "text/csv")])
    at.run()
    assert not at.exception, at.exception
    assert at.error, "nothing could be read: storing is blocked"
    key = next(k for k in (s.key for s in at.selectbox) if k and k.endswith("_value")).removesuffix("_value")
    assert at.number_input(key=f"{key}__header_row").value == 3
    at.selectbox(key=f"{key}_ref_area").set_value("Zone")
    at.selectbox(key=f"{key}_time_period").set_value("An")
    measure = at.selectbox(key=f"{key}__measure")
    assert any(o.startswith("REM_IN · ") for o in measure.options)
    measure.set_value("REM_IN")
    at.selectbox(key=f"{key}__unit_mult").set_value(6)
    button(at, "Check again with this mapping").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Every file can be stored: no problem found."]
    preview = at.dataframe[1].value.set_index("time_period")
    assert preview.loc["2021", "value"] == pytest.approx(2_150.5e6) and preview.loc["2022", "value"] == 2_300e6
    assert set(preview["measure"]) == {"REM_IN"} and set(preview["ref_area"]) == {"SEN"}
    profile = MappingProfile.from_yaml(at.session_state["_upload_mappings"][("bulletin.csv", _sha(BULLETIN))])
    assert (profile.kind.value, profile.header_row, profile.measure, profile.unit_mult) == ("remittances", 3, "REM_IN", 6)


def test_a_store_kept_busy_by_concurrent_loads_is_said_in_the_users_words(app_env, monkeypatch):
    # the store refuses a load that kept colliding with concurrent loads of its series (StoreBusy):
    # the page says so with the store's own message, not the generic failure, and stores nothing
    from mmicd import workflow
    from mmicd.i18n import t
    from mmicd.store import StoreBusy

    def busy(*args, **kwargs):
        raise StoreBusy()

    monkeypatch.setattr(workflow, "commit_upload", busy)
    before = len(Store(app_env).datasets())
    at = open_upload_page()
    at = upload(at, ("npl-census.xlsx", build_template("census", "en", census_rows())))
    button(at, "Confirm and store as draft").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [t("store.busy", "en")]
    assert len(Store(app_env).datasets()) == before
