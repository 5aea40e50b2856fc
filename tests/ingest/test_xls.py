"""Old binary Excel (.xls, BIFF8) through the automatic path: real files written by xlwt
(``tests/fixtures/make_xls.py``; the committed files are read, xlwt is not needed to test)."""

from __future__ import annotations

import pytest

from mmicd.ingest import commit, prepare
from mmicd.io import detect_type
from mmicd.issues import IssuesError

from .conftest import BAD, GOOD, snapshot, upload


def test_census_table_xls_loads_with_the_right_values(store):
    path = GOOD / "census_nepal_2021.xls"
    assert detect_type(path.read_bytes()).kind == "xls"
    prep = prepare([upload(path)])                     # kind, layout, header row: all automatic
    assert prep.ok and prep.issues == []
    (d,) = prep.datasets
    assert (d.layout, d.meta.kind.value, d.sheet, d.countries, d.years) == \
        ("table", "census", "Table 1", ["NPL"], ["2021"])
    values = {(r.sex, r.migrant_status): r.value for r in d.frame.itertuples()}
    # the published Nepal 2021 census totals; the place-of-birth split is synthetic
    assert values[("_T", "_T")] == 29_164_578
    assert values[("F", "_T")] == 14_911_027 and values[("M", "_T")] == 14_253_551
    assert values[("F", "MS_MIGRANT")] == 320_000 and values[("M", "MS_NOMIGRANT")] == 14_085_993
    (version,) = commit(prep, store, actor="test")
    stored = store.observations(dataset_ids=[version.id], status=None)
    assert stored["value"].sum() == pytest.approx(sum(values.values()))


def test_lfs_microdata_xls_keeps_codes_as_text(store):
    prep = prepare([upload(GOOD / "lfs_nepal_2022.xls")])
    assert prep.ok and prep.issues == []
    (d,) = prep.datasets
    assert (d.layout, d.meta.kind.value, d.form.value, d.rows) == ("microdata", "lfs", "microdata", 240)
    f = d.frame
    assert f["stratum"].iloc[0] == "01" and f["stratum"].iloc[11] == "12"      # leading zeros kept
    assert f["psu"].iloc[6] == "0007" and f["psu"].str.len().eq(4).all()
    assert set(f["ref_area"]) == {"NPL"} and set(f["time_period"]) == {"2022"}
    assert f["age"].tolist()[:3] == [15, 22, 29] and f["weight"].iloc[1] == pytest.approx(937.25)
    assert (f["migrant_status"] == "MS_MIGRANT").sum() == 24
    assert f["labour_status"].iloc[:3].tolist() == ["EMP", "UNE", "INA"]
    (version,) = commit(prep, store, actor="test")
    back = store.microdata(version.id)
    assert back["psu"].iloc[6] == "0007" and back["weight"].sum() == pytest.approx(f["weight"].sum())


def test_bad_xls_names_sheet_row_and_column(store):
    before = snapshot(store)
    prep = prepare([upload(BAD / "lfs_text_in_age.xls")])
    errors = [i for i in prep.issues if i.level == "error"]
    assert len(errors) == 1
    (e,) = errors
    assert (e.file, e.sheet, e.row, e.column, e.value) == ("lfs_text_in_age.xls", "persons", 27, "Age", "forty")
    assert "forty" in e.message and "Age" in e.message
    with pytest.raises(IssuesError):
        commit(prep, store, actor="test")
    assert snapshot(store) == before
