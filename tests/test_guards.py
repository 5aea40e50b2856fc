"""Guards against loads that silently remove published data (mmicd.guards): a file without data rows is
never stored; a new version dropping most of a published series is published only with an explicit
confirmation, which the audit trail records with its numbers. Every path: prepare/commit, the
workflow (Review page), workflow.commit_upload (upload page) and ``python -m mmicd ingest``."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest

from mmicd import guards, workflow
from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import create_user
from mmicd.cli import main
from mmicd.demo import DEMO_DIR, demo_files
from mmicd.ingest import Preparation, Upload, commit, prepare
from mmicd.issues import IssuesError
from mmicd.model import DatasetMeta, Kind, Status, normalise_observations
from mmicd.store import PublishCheck, SeriesChanged
from mmicd.templates import build_template
from tests.ingest.conftest import snapshot

CENSUS = DEMO_DIR / "npl_census_2021_synthetic.xlsx"
SOURCE = "Nepal CBS"


def census_upload() -> Upload:
    return Upload(CENSUS.name, CENSUS.read_bytes())


def totals_only() -> Upload:
    """A census template holding only the three national totals of the 228-row demo census."""
    rows = pd.DataFrame({"ref_area": "NPL", "time_period": "2021", "sex": ["_T", "F", "M"], "age": "_T",
                         "migrant_status": "_T", "counterpart_area": "_T",
                         "value": [29_192_000, 15_018_538, 14_173_462], "obs_status": "A"})
    return Upload("npl-totals.xlsx", build_template("census", "en", rows))


def header_only() -> Upload:
    return Upload("npl-empty.xlsx", build_template("census", "en"))


def markers_only() -> Upload:
    # the blank cell of the third row is no observation (not stored); the two markers are missing values
    return Upload("npl-markers.csv", b"Country;Year;Sex;Value\nNepal;2021;Female;..\nNepal;2021;Male;-\n"
                  b"Nepal;2021;Total;\n")


@pytest.fixture
def published_census(store):
    """The demo census (228 values) published as the current version of its series."""
    [v] = commit(prepare([census_upload()], source=SOURCE, country="NPL"), store, actor="cli", publish=True)
    assert v.rows == 228 and v.status == Status.PUBLISHED
    return v


# ---- 1. a file without data rows -------------------------------------------------------------------
@pytest.mark.parametrize(("make", "sheet", "message"), [
    (header_only, "data", "No data rows: the table has its header but not one row below it."),
    (lambda: Upload("empty.csv", b"ref_area,time_period,sex,value\n"), None, "No data rows"),
    (lambda: Upload("blank.csv", b"ref_area,time_period,sex,value\n,,,\n,,,\n"), None, "No data rows"),
    (markers_only, None, "None of its 2 rows holds a value: every value is blank or a missing-value marker"),
])
def test_a_table_without_data_rows_is_an_error_naming_file_and_sheet(store, make, sheet, message):
    upload = make()
    prep = prepare([upload], source=SOURCE, country="NPL")
    assert not prep.ok
    [error] = [i for i in prep.issues if i.level == "error"]
    assert (error.file, error.sheet) == (upload.name, sheet)
    assert error.message.startswith(message)
    before = snapshot(store)
    with pytest.raises(IssuesError):
        commit(prep, store, actor="cli", publish=True)
    assert snapshot(store) == before


def test_messages_are_translated():
    prep = prepare([header_only()], lang="fr")
    assert prep.issues[0].message.startswith("Aucune ligne de données : le tableau a son en-tête")
    prep = prepare([markers_only()], lang="es")
    assert prep.issues[0].message.startswith("Ninguna de sus 2 filas contiene un valor")


def test_a_header_only_file_is_never_published_over_the_census(store, published_census):
    analyst = create_user(store, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1",
                          countries="NPL")
    prep = prepare([header_only()], source=SOURCE, country="NPL", store=store)
    before = snapshot(store)
    with pytest.raises(IssuesError):
        commit(prep, store, actor="cli", publish=True)
    # even a preparation whose issues were dropped (built by hand) is refused by commit itself
    with pytest.raises(IssuesError) as refused:
        commit(Preparation(prep.datasets, []), store, actor="cli", publish=True, mode="add")
    assert refused.value.issues[0].file == "npl-empty.xlsx" and refused.value.issues[0].sheet == "data"
    with pytest.raises(IssuesError):
        workflow.commit_upload(store, analyst, Preparation(prep.datasets, []))
    assert snapshot(store) == before
    assert store.published_ids() == (published_census.id,)


def test_the_command_line_refuses_a_header_only_file(store, published_census, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MMICD_DATABASE_URL", store.url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(store.data_dir))
    path = tmp_path / "npl-empty.xlsx"
    path.write_bytes(header_only().data)
    before = snapshot(store)
    assert main(["ingest", str(path), "--source", SOURCE, "--country", "NPL", "--publish", "--confirm-drop"]) == 2
    err = capsys.readouterr().err
    assert "Error: npl-empty.xlsx, data: No data rows" in err and "Nothing was stored: 1 error." in err
    assert snapshot(store) == before


# ---- 2. a new version that drops most of a published series ---------------------------------------------
def test_publishing_a_large_drop_is_refused_and_leaves_the_store_unchanged(store, published_census):
    prep = prepare([totals_only()], source=SOURCE, country="NPL", store=store)
    assert prep.ok
    before = snapshot(store)
    with pytest.raises(guards.DropNotConfirmed) as refused:
        commit(prep, store, actor="cli", publish=True)
    assert snapshot(store) == before
    [report] = refused.value.reports
    assert report.current.id == published_census.id and report.label == "npl-totals.xlsx · data"
    assert (report.current_values, report.removed, report.threshold) == (228, 225, 0.5)
    assert round(report.share, 4) == 0.9868 and report.needs_confirmation
    groups = report.groups.set_index("detail")
    assert groups["removed"].to_dict() == {
        "sex+age+migrant_status": 84, "age+migrant_status": 42, "sex+age": 42, "age": 21,
        "sex+migrant_status+counterpart_area": 20, "migrant_status+counterpart_area": 10,
        "sex+migrant_status": 4, "migrant_status": 2}
    assert (groups["removed"] == groups["published"]).all()  # every value of those breakdowns goes
    assert set(report.groups["measure"]) == {"POP"} and set(report.groups["first"]) == {"2021"}
    assert guards.describe(report) == (
        "npl-totals.xlsx · data would replace published version #1 (v1) of “Census table, Nepal (NPL), "
        "Nepal CBS” and drop 225 of its 228 values (98.7%), more than the 50% allowed without an explicit "
        "confirmation.")


def test_the_confirmed_drop_is_published_and_recorded_with_its_numbers(store, published_census):
    prep = prepare([totals_only()], source=SOURCE, country="NPL", store=store)
    [new] = commit(prep, store, actor="cli", publish=True, confirm_drop=True)
    assert new.status == Status.PUBLISHED and store.dataset(published_census.id).status == Status.SUPERSEDED
    trail = store.audit(dataset_id=new.id)
    assert trail["action"].tolist() == ["created", "confirmed_drop", "status:published"]
    detail = trail.loc[trail["action"] == "confirmed_drop", "detail"].iloc[0]
    assert detail == {"replaces": published_census.id, "replaces_version": 1, "kind": "census", "scope": "NPL",
                      "source": SOURCE, "published_values": 228, "removed": 225, "share": 0.9868,
                      "threshold": 0.5, "groups": 8}


def test_drafts_are_never_blocked_and_add_drops_nothing(store, published_census):
    prep = prepare([totals_only()], source=SOURCE, country="NPL", store=store)
    [draft] = commit(prep, store, actor="ana")
    assert draft.status == Status.DRAFT and draft.rows == 3
    [added] = commit(prep, store, actor="cli", mode="add", publish=True)  # current rows kept: nothing drops
    assert added.rows == 228 and "confirmed_drop" not in store.audit()["action"].tolist()


def test_values_that_become_missing_count_as_dropped(store):
    meta = DatasetMeta(kind=Kind.CENSUS, source=SOURCE, scope="NPL")
    rows = normalise_observations(pd.DataFrame({"measure": "POP", "ref_area": "NPL", "time_period": ["2011", "2021"],
                                                "value": [26_494_504.0, 29_192_000.0]}))
    store.add_dataset(meta, rows, actor="x", status=Status.PUBLISHED)
    half = guards.drop_report(store, meta, rows.assign(value=[None, 29_192_000.0]), "observations")
    assert (half.removed, half.current_values, half.needs_confirmation) == (1, 2, False)  # 50% is not more than 50%
    none = guards.drop_report(store, meta, rows.iloc[1:].assign(value=[None]), "observations")
    assert (none.removed, none.needs_confirmation) == (2, True)
    assert none.groups[["detail", "first", "last", "periods", "removed"]].values.tolist() == [
        ["", "2011", "2021", 2, 2]]


@pytest.mark.parametrize(("setting", "share", "blocked"), [
    ("0.99", 0.99, False), ("90%", 0.9, True), ("50", 0.5, True), ("0", 0.0, True), ("100%", 1.0, False)])
def test_the_threshold_is_configuration(store, published_census, monkeypatch, setting, share, blocked):
    monkeypatch.setenv("MMICD_MAX_DROP_SHARE", setting)
    assert guards.max_drop_share() == share
    prep = prepare([totals_only()], source=SOURCE, country="NPL", store=store)
    if blocked:
        with pytest.raises(guards.DropNotConfirmed):
            commit(prep, store, actor="cli", publish=True)
    else:
        assert commit(prep, store, actor="cli", publish=True)[0].status == Status.PUBLISHED


@pytest.mark.parametrize("setting", ["half", "150%", "-0.1"])
def test_a_wrong_threshold_is_explained(setting):
    with pytest.raises(ValueError, match="MMICD_MAX_DROP_SHARE"):
        guards.max_drop_share({"MMICD_MAX_DROP_SHARE": setting})


@pytest.fixture
def people(store):
    return {"ana": create_user(store, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1",
                               countries="NPL"),
            "rev": create_user(store, SYSTEM, username="rev", role=Role.REVIEWER, password="long enough 1")}


def test_review_publish_needs_the_confirmation_and_records_it(store, published_census, people):
    ana, rev = people["ana"], people["rev"]
    [draft] = workflow.commit_upload(store, ana, prepare([totals_only()], source=SOURCE, country="NPL",
                                                         store=store))
    workflow.submit(store, ana, draft.id)  # submitting is not publishing: never blocked
    before = snapshot(store)
    with pytest.raises(guards.DropNotConfirmed) as refused:
        workflow.publish(store, rev, draft.id, note="totals only")
    assert refused.value.reports[0].removed == 225
    assert snapshot(store) == before and store.dataset(draft.id).status == Status.SUBMITTED
    workflow.publish(store, rev, draft.id, note="The 2021 detail is withdrawn for revision", confirm_drop=True)
    assert store.published_ids() == (draft.id,)
    entry = store.audit(dataset_id=draft.id, action="confirmed_drop").iloc[0]
    assert entry["actor"] == "rev" and entry["reason"] == "The 2021 detail is withdrawn for revision"
    assert (entry["detail"]["removed"], entry["detail"]["published_values"]) == (225, 228)
    # re-publishing the full census over the totals drops nothing: no confirmation needed
    workflow.publish(store, rev, published_census.id, note="detail back")
    assert store.published_ids() == (published_census.id,)
    # and re-publishing the totals again is a large drop once more
    with pytest.raises(guards.DropNotConfirmed):
        workflow.publish(store, rev, draft.id)


def test_a_publication_made_meanwhile_is_noticed_in_the_transaction(store, published_census, people):
    [draft] = commit(prepare([totals_only()], source=SOURCE, country="NPL", store=store), store, actor="ana")
    shown = guards.version_drop_report(store, draft)          # what the reviewer was shown ...
    [other] = commit(prepare([census_upload()], source=SOURCE, country="NPL"), store, actor="x", publish=True)
    before = snapshot(store)                                  # ... before another version was published
    with pytest.raises(SeriesChanged):
        store.publish(draft.id, actor="rev", check=shown.check(confirmed=True))
    assert snapshot(store) == before and store.published_ids() == (other.id,)
    store.publish(draft.id, actor="rev", check=PublishCheck(replaces=(other.id,)))
    assert store.published_ids() == (draft.id,)


def test_two_files_of_one_series_in_one_load(store, published_census):
    """The second file replaces the first within the same transaction: compared with it."""
    prep = prepare([census_upload(), totals_only()], source=SOURCE, country="NPL", store=store)
    with pytest.raises(guards.DropNotConfirmed) as refused:
        commit(prep, store, actor="cli", publish=True)
    [report] = refused.value.reports
    assert report.current is None and (report.removed, report.current_values) == (225, 228)
    assert "the version stored just before it in the same load" in guards.describe(report)
    versions = commit(prep, store, actor="cli", publish=True, confirm_drop=True)
    assert [v.status for v in versions] == [Status.SUPERSEDED, Status.PUBLISHED]
    assert store.audit(action="confirmed_drop")["dataset_id"].tolist() == [versions[1].id]


def lfs_sample(n: int) -> Upload:
    """The first ``n`` persons of the demo LFS, as a template."""
    wb = openpyxl.load_workbook(DEMO_DIR / "npl_lfs_2023_synthetic.xlsx")
    ws = wb["data"]
    ws.delete_rows(n + 2, ws.max_row)
    out = io.BytesIO()
    wb.save(out)
    return Upload("npl-lfs-sample.xlsx", out.getvalue())


def test_microdata_records_dropped_are_counted(store):
    lfs = next(d for d in demo_files() if d.kind == "lfs")
    [full] = commit(prepare([Upload(lfs.path.name, lfs.path.read_bytes())], source="NSO LFS", country="NPL"),
                    store, actor="x", publish=True)
    prep = prepare([lfs_sample(100)], source="NSO LFS", country="NPL", store=store)
    assert prep.ok and prep.datasets[0].rows == 100
    with pytest.raises(guards.DropNotConfirmed) as refused:
        commit(prep, store, actor="x", publish=True)
    [report] = refused.value.reports
    assert (report.current_values, report.removed) == (30_337, 30_237)
    assert report.groups[["ref_area", "first", "removed", "published"]].values.tolist() == [
        ["NPL", "2023", 30_237, 30_337]]
    assert "30,237 of its 30,337 person records (99.7%)" in guards.describe(report)
    assert store.published_ids() == (full.id,)


# ---- the command line ---------------------------------------------------------------------------------
@pytest.fixture
def cli_env(store, monkeypatch, tmp_path):
    monkeypatch.setenv("MMICD_DATABASE_URL", store.url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(store.data_dir))
    path = tmp_path / "npl-totals.xlsx"
    path.write_bytes(totals_only().data)
    return ["--source", SOURCE, "--country", "NPL"], str(path)


def test_ingest_publish_refuses_a_large_drop_listing_what_disappears(store, published_census, cli_env, capsys):
    options, path = cli_env
    before = snapshot(store)
    assert main(["ingest", path, *options, "--publish"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("npl-totals.xlsx · data would replace published version #1 (v1)")
    assert err[1] == "  POP · Nepal (NPL) · sex × age × migrant status · 2021: 84 of 84 gone"
    assert len(err) == 1 + 8 + 1 and err[-1].startswith("Nothing was stored or published.")
    assert snapshot(store) == before
    assert main(["--lang", "fr", "ingest", path, *options, "--publish", "--dry-run"]) == 2
    assert "retirerait 225 de ses 228 valeurs (98,7\u00a0%)" in capsys.readouterr().err
    assert snapshot(store) == before


def test_ingest_publish_with_confirm_drop_publishes_and_records(store, published_census, cli_env, capsys):
    options, path = cli_env
    assert main(["ingest", path, *options, "--publish", "--confirm-drop"]) == 0
    out = capsys.readouterr()
    assert out.err.startswith("Confirmed with --confirm-drop: npl-totals.xlsx · data would replace")
    [new] = [v for v in store.datasets() if v.status == Status.PUBLISHED]
    assert new.rows == 3 and f"Stored 1 dataset version: {new.id}" in out.out
    entry = store.audit(action="confirmed_drop").iloc[0]
    assert (entry["actor"], entry["dataset_id"], entry["detail"]["removed"]) == ("admin", new.id, 225)


def test_ingest_json_reports_the_drop(store, published_census, cli_env, capsys):
    options, path = cli_env
    assert main(["ingest", path, *options, "--publish", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "error"
    [drop] = report["drops"]
    assert (drop["replaces"], drop["published_values"], drop["removed"]) == (published_census.id, 228, 225)
    assert drop["what_disappears"][0] == {"measure": "POP", "ref_area": "NPL", "detail": "sex+age+migrant_status",
                                          "first": "2021", "last": "2021", "periods": 1, "removed": 84,
                                          "published": 84}
    assert report["issues"][-1]["level"] == "error" and "--confirm-drop" in report["issues"][-1]["message"]
    # stored as a draft (no --publish): allowed, with a note
    assert main(["ingest", path, *options]) == 0
    assert capsys.readouterr().err.startswith("Note: npl-totals.xlsx · data would replace published version #1")
    assert [v.status for v in store.datasets()] == [Status.PUBLISHED, Status.DRAFT]
