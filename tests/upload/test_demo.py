"""The SYNTHETIC Nepal demo data: built deterministically, labelled as synthetic everywhere, loaded
through the ordinary ingestion path with no issue at all, and stored with the intended figures."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from mmicd.demo import DEMO_ACTOR, demo_files, ensure_demo_uploads
from mmicd.ingest import Upload, prepare
from mmicd.model import Form, Status

ROOT = Path(__file__).resolve().parents[2]


NATIONAL = ("npl_census_2021_synthetic.xlsx", "npl_lfs_2023_synthetic.xlsx")   # (the provinces: tests/engine)


def by_kind() -> dict:
    return {d.kind: d for d in demo_files() if d.path.name in NATIONAL}


def test_demo_files_are_synthetic_small_and_named_so():
    files = demo_files()
    assert {d.kind for d in files} == {"census", "lfs", "migration_flows"}
    total = sum(p.stat().st_size for p in (ROOT / "data" / "demo").iterdir())
    assert total < 3 * 1024 * 1024
    for d in files:
        assert "synthetic" in d.path.name
        assert "(synthetic)" in d.source and "synthetic" in d.edition.lower()
        assert "SYNTHETIC" in d.title and "SYNTHETIC" in d.notes
        wb = openpyxl.load_workbook(d.path, read_only=True)
        notes = [c for row in wb[wb.sheetnames[1]].iter_rows(max_row=3, values_only=True) for c in row if c]
        assert any("SYNTHETIC" in str(c) for c in notes), "the instructions sheet says it is synthetic"
        wb.close()


@pytest.mark.parametrize("kind", ["census", "lfs"])
def test_demo_file_loads_with_no_issue_at_all(kind):
    demo = by_kind()[kind]
    prep = prepare([Upload(demo.path.name, demo.path.read_bytes())], kind=demo.kind, country=demo.country,
                   source=demo.source, edition=demo.edition)
    assert prep.issues == []
    [dataset] = prep.datasets
    assert dataset.layout == "template"
    assert dataset.countries == ["NPL"]


def test_census_figures_are_realistic_and_consistent():
    checks = by_kind()["census"].checks
    assert 29.0e6 < checks["population_total"] < 29.4e6
    assert 0.5e6 <= checks["foreign_born_total"] <= 0.8e6
    assert checks["foreign_born_female"] / checks["foreign_born_total"] > 0.5
    assert checks["foreign_born_from_india"] / checks["foreign_born_total"] > 0.8


def test_lfs_design_and_labour_patterns_are_realistic():
    c = by_kind()["lfs"].checks
    assert 20_000 <= c["persons"] <= 40_000
    assert c["strata"] == 50 and c["psus"] == 600
    assert c["weighted_population_15_plus"] == pytest.approx(c["population_15_plus_target"], abs=1)
    assert 37 <= c["participation_rate_women"] <= 43
    assert 52 <= c["participation_rate_men"] <= 58
    assert 8 <= c["unemployment_rate"] <= 12
    assert c["migrant_share_weighted"] < 6
    # enough migrants for some reliable estimates, few enough unemployed migrants to be flagged
    assert c["migrant_persons"] >= 500 and c["migrant_unemployed_persons"] < 100


def test_ensure_demo_uploads_stores_the_intended_numbers_once(store):
    versions = ensure_demo_uploads(store)
    assert {v.kind.value for v in versions} == {"census", "lfs", "migration_flows"}
    for v in versions:
        assert v.status == Status.PUBLISHED
        assert v.loaded_by == DEMO_ACTOR
        assert v.scope == "NPL"
        assert "synthetic" in v.source and "synthetic" in v.file_name and "SYNTHETIC" in v.title
        assert v.basis == "country of birth"
    census = next(v for v in versions if v.file_name == NATIONAL[0])
    lfs = next(v for v in versions if v.file_name == NATIONAL[1])
    checks = by_kind()
    obs = store.observations(dataset_ids=[census.id])
    total = obs.query("sex == '_T' and age == '_T' and migrant_status == '_T' and counterpart_area == '_T'")
    assert total["value"].tolist() == [checks["census"].checks["population_total"]]
    migrants = obs.query("sex == '_T' and age == '_T' and migrant_status == 'MS_MIGRANT' and counterpart_area == '_T'")
    assert migrants["value"].tolist() == [checks["census"].checks["foreign_born_total"]]
    adults = obs[(obs["sex"] == "_T") & (obs["migrant_status"] == "_T") & (obs["counterpart_area"] == "_T")
                 & ~obs["age"].isin(["_T", "Y0T4", "Y5T9", "Y10T14"])]
    assert adults["value"].sum() == checks["census"].checks["population_15_plus"]
    assert lfs.form == Form.MICRODATA
    persons = store.microdata(lfs.id)
    assert len(persons) == checks["lfs"].checks["persons"]
    assert persons["weight"].sum() == pytest.approx(checks["lfs"].checks["weighted_population_15_plus"], abs=0.5)
    assert persons["age"].min() >= 15
    # a second start loads nothing: the files are recognised by their SHA-256
    assert ensure_demo_uploads(store) == []
    assert len(store.datasets()) == len(demo_files()) == 5


def test_build_script_is_deterministic(tmp_path):
    """Rebuilding gives byte-identical files (fixed seed, fixed timestamps)."""
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ROOT / "data" / "demo").iterdir()}
    script = (ROOT / "scripts" / "build_demo.py").read_text(encoding="utf-8")
    copy = tmp_path / "scripts" / "build_demo.py"
    copy.parent.mkdir()
    copy.write_text(script.replace('OUT = ROOT / "data" / "demo"', f'OUT = Path({str(tmp_path / "out")!r})'),
                    encoding="utf-8")
    # the copy imports mmicd from the repository
    copy.write_text(copy.read_text(encoding="utf-8").replace("ROOT = Path(__file__).resolve().parents[1]",
                                                             f"ROOT = Path({str(ROOT)!r})"), encoding="utf-8")
    subprocess.run([sys.executable, str(copy)], check=True, capture_output=True)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "out").iterdir()}
    assert set(after) == {"demo.yml", *NATIONAL}
    assert after == {name: before[name] for name in after}
