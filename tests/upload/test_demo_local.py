"""The SYNTHETIC provincial demo data (scripts/build_demo_local.py): synthetic everywhere, loaded at
first start without any issue, the provinces adding up to the national demo figures."""

import openpyxl
import pytest

from mmicd.demo import demo_files, ensure_demo_uploads
from mmicd.ingest import Upload, prepare

LOCAL = [d for d in demo_files() if "provinces" in d.path.name]


def test_three_provincial_files_each_saying_synthetic():
    assert [d.kind for d in LOCAL] == ["census", "lfs", "migration_flows"]
    for d in LOCAL:
        assert "(synthetic)" in d.source and "synthetic" in d.edition and "SYNTHETIC" in d.title
        assert "SYNTHETIC" in d.notes and "synthetic" in d.path.name
        wb = openpyxl.load_workbook(d.path, read_only=True)
        head = [c for row in wb[wb.sheetnames[1]].iter_rows(max_row=3, values_only=True) for c in row if c]
        assert any("SYNTHETIC" in str(c) for c in head)
        wb.close()


@pytest.mark.parametrize("demo", LOCAL, ids=lambda d: d.kind)
def test_provincial_file_loads_with_no_issue_at_all(demo):
    prep = prepare([Upload(demo.path.name, demo.path.read_bytes())], kind=demo.kind, country=demo.country,
                   source=demo.source, edition=demo.edition)
    assert prep.issues == []
    [dataset] = prep.datasets
    areas = set(dataset.frame["ref_area"].astype(str))
    assert areas == {f"NP-P{i}" for i in range(1, 8)}


def test_first_start_loads_the_provinces_which_add_up_to_the_published_national_census(store):
    ensure_demo_uploads(store)
    census = next(v for v in store.datasets() if v.file_name == LOCAL[0].path.name)
    assert census.scope == "NPL" and "synthetic" in census.provenance
    obs = store.observations(dataset_ids=[census.id])
    total = obs.query("sex == '_T' and age == '_T' and migrant_status == '_T' and counterpart_area == '_T'")
    assert total.set_index("ref_area")["value"].to_dict() == LOCAL[0].checks["population"]
    national = next(d for d in demo_files() if d.path.name == "npl_census_2021_synthetic.xlsx")
    assert sum(LOCAL[0].checks["population"].values()) == national.checks["population_total"]
    # loading it again against the published national census: no difference to tell
    again = prepare([Upload("again.xlsx", LOCAL[0].path.read_bytes())], kind="census", country="NPL",
                    source="another office", store=store)
    assert not [i for i in again.issues if i.check == "subdivision_totals"]
