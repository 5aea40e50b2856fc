"""The reviewer's comparison (mmicd.review_diff) on small hand-made cases: the difference from the
published version, the baseline beside national figures, the stored validation report and the
status an M&E report would produce."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from mmicd import review_diff, workflow
from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import create_user
from mmicd.ingest import Upload, prepare
from mmicd.me.model import Indicator, Intervention, Milestone, Report
from mmicd.me.progress import ProgressStatus
from mmicd.me.repository import Portfolio
from mmicd.model import DatasetMeta, Kind, Status


def stock(rows: list[tuple[str, str, float | None]]) -> pd.DataFrame:
    """Migrant stock (POP, MS_MIGRANT) by area and year."""
    return pd.DataFrame([{"measure": "POP", "ref_area": a, "time_period": y, "migrant_status": "MS_MIGRANT",
                          "value": v} for a, y, v in rows])


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    from mmicd.model import normalise_observations

    return normalise_observations(frame)


OLD = canonical(stock([("NPL", "2019", 40), ("NPL", "2020", 100), ("NPL", "2021", 200), ("NPL", "2022", 10),
                       ("NPL", "2023", 0), ("SEN", "2020", 50)]))
NEW = canonical(stock([("NPL", "2019", None), ("NPL", "2020", 110), ("NPL", "2021", 150), ("NPL", "2022", 10),
                       ("NPL", "2023", 5), ("IND", "2020", 30)]))


def test_added_changed_and_removed_values_largest_change_first():
    rows, unchanged = review_diff.diff_frames(OLD, NEW)
    assert unchanged == 1  # NPL 2022: 10 in both
    got = [(r.ref_area, r.time_period, r.change, r.old, r.new, r.delta) for r in rows.itertuples()]
    expected = [
        ("NPL", "2021", "changed", 200, 150, -50),   # |−50|, NPL before SEN on the tie
        ("SEN", "2020", "removed", 50, None, -50),
        ("NPL", "2019", "changed", 40, None, -40),   # a value that became missing
        ("IND", "2020", "added", None, 30, 30),
        ("NPL", "2020", "changed", 100, 110, 10),
        ("NPL", "2023", "changed", 0, 5, 5),
    ]
    assert [(a, y, c) for a, y, c, *_ in got] == [(a, y, c) for a, y, c, *_ in expected]
    for (*_, old, new, delta), (*_, e_old, e_new, e_delta) in zip(got, expected, strict=True):
        assert (math.isnan(old) if e_old is None else old == e_old)
        assert (math.isnan(new) if e_new is None else new == e_new)
        assert delta == e_delta


def test_percentage_change_against_the_published_value():
    rows, _ = review_diff.diff_frames(OLD, NEW)
    pct = dict(zip(rows["ref_area"] + " " + rows["time_period"], rows["pct"], strict=True))
    assert pct["NPL 2021"] == pytest.approx(-25.0)
    assert pct["NPL 2020"] == pytest.approx(10.0)
    assert pct["SEN 2020"] == pytest.approx(-100.0)
    for undefined in ("IND 2020", "NPL 2023", "NPL 2019"):  # added, from 0, became missing
        assert math.isnan(pct[undefined]), undefined


def test_a_negative_published_value_changes_by_its_magnitude():
    rows, _ = review_diff.diff_frames(canonical(stock([("NPL", "2020", -200)])),
                                      canonical(stock([("NPL", "2020", -150)])))
    assert rows["pct"].tolist() == [pytest.approx(25.0)]  # net emigration shrank by a quarter


def test_identical_versions_have_no_difference():
    rows, unchanged = review_diff.diff_frames(OLD, OLD)
    assert rows.empty and unchanged == len(OLD)


def meta(**kw) -> DatasetMeta:
    fields = {"kind": Kind.MIGRANT_STOCK, "source": "ANSD", "edition": "2023", "scope": "SEN"}
    return DatasetMeta(**(fields | kw))


def test_version_diff_compares_with_the_published_version_of_the_same_series(store):
    first = store.add_dataset(meta(), stock([("SEN", "2019", 250_000), ("SEN", "2020", 260_000)]), actor="ana",
                              status=Status.PUBLISHED)
    store.add_dataset(meta(source="Other office"), stock([("SEN", "2020", 1)]), actor="ana",
                      status=Status.PUBLISHED)  # another series: not compared
    draft = store.add_dataset(meta(), stock([("SEN", "2020", 272_556), ("SEN", "2021", 280_000)]), actor="ana")
    diff = review_diff.version_diff(store, draft)
    assert diff.published.id == first.id and diff.unchanged == 0
    assert [(r.time_period, r.change, r.delta) for r in diff.rows.itertuples()] == [
        ("2021", "added", 280_000), ("2019", "removed", -250_000), ("2020", "changed", 12_556)]
    chart = review_diff.chart_frame(store, draft, diff.published)
    assert chart.groupby("which")["time_period"].apply(list).to_dict() == {
        "new": ["2020", "2021"], "published": ["2019", "2020"]}


def test_the_baseline_beside_the_national_figure(seeded_store):
    # Senegal's national migrant stock against UN DESA 2020 (274,929): same year, and the nearest for 2021
    draft = seeded_store.add_dataset(meta(), stock([("SEN", "2020", 272_556), ("SEN", "2021", 280_000),
                                                    ("SEN", "1984", 1)]), actor="ana")
    beside = review_diff.baseline_beside(seeded_store, draft)
    got = beside[["time_period", "national", "baseline", "baseline_year"]].values.tolist()
    assert got == [["2020", 272_556, 274_929, "2020"], ["2021", 280_000, 274_929, "2020"]]  # 1984: none near
    assert beside["pct"].tolist() == pytest.approx([(272_556 - 274_929) / 274_929 * 100,
                                                    (280_000 - 274_929) / 274_929 * 100])
    assert beside["baseline_source"].iloc[0].startswith("UN DESA")


def test_the_warnings_the_analyst_saw_are_stored_with_the_version(store):
    ana = create_user(store, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1", countries="SEN")
    csv = (b"ref_area,time_period,sex,migrant_status,value\nSEN,2015,_T,MS_MIGRANT,250000\n"
           b"SEN,2020,_T,MS_MIGRANT,9000000\nSEN,2020,F,MS_MIGRANT,100\nSEN,2020,M,MS_MIGRANT,100\n")
    prep = prepare([Upload("sen.csv", csv)], kind="migrant_stock", source="ANSD", country="SEN", store=store)
    warnings = [i for i in prep.issues if i.level == "warning"]
    assert len(warnings) == 2  # the parts by sex do not add up; a tenfold jump
    [draft] = workflow.commit_upload(store, ana, prep)
    found, kept = review_diff.validation_report(store, draft.id)
    assert kept and [i["message"] for i in found] == [w.message for w in warnings]
    # a version stored through the programming interface has no report kept
    other = store.add_dataset(meta(source="x"), stock([("SEN", "2020", 1)]), actor="ana")
    assert review_diff.validation_report(store, other.id) == ([], False)


def test_the_status_a_report_would_produce_once_approved():
    iv = Intervention(id="X1", title="Jobs", country="NPL", sector="employment", lead="Ministry of Labour",
                      start=date(2025, 1, 1), end=date(2028, 12, 31), status="ongoing")
    ind = Indicator(id="I1", intervention_id="X1", name="People placed in jobs", level="output", baseline_value=0,
                    baseline_date=date(2025, 3, 31), milestones=[Milestone(due=date(2027, 3, 31), target=84)],
                    end_target=120, end_date=date(2028, 3, 31), frequency="annual")
    earlier = Report(id=1, indicator_id="I1", period_start=date(2025, 4, 1), period_end=date(2026, 3, 31), value=30,
                     state="approved")
    pending = Report(id=2, indicator_id="I1", period_start=date(2026, 4, 1), period_end=date(2027, 3, 31), value=90,
                     state="submitted")
    p = Portfolio(interventions=[iv], indicators=[ind], reports=[earlier, pending])
    review = review_diff.report_review(p, 2, as_of=date(2027, 4, 15))
    assert [r.id for r in review.previous] == [1]
    # today: 30 of the expected 84 by March 2026 (half way: 42) -> 71% at risk; approved: 90 >= 84 -> on track
    assert review.now.status == ProgressStatus.AT_RISK
    assert review.if_approved.status == ProgressStatus.ON_TRACK and review.if_approved.current == 90
    assert review.if_approved.target == 84
    # submitted before its period ended: it counts once the period ends (31 March 2027)
    early = review_diff.report_review(p, 2, as_of=date(2027, 2, 1))
    assert (early.now.status, early.if_approved.status) == (ProgressStatus.AT_RISK, ProgressStatus.ON_TRACK)
