"""Indicators linked to the catalogue take their actuals from the PUBLISHED statistics (the engine),
with the engine's value, CI, flag and provenance; a new published version changes them."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from mmicd.engine import compute
from mmicd.me import repository as repo
from mmicd.me import views
from mmicd.me.linked import StatActual, actuals_from_table, linked_statistics, period_dates, with_statistics
from mmicd.me.model import CatalogueLink, Indicator, Intervention
from mmicd.me.progress import ProgressStatus, evaluate, explain
from mmicd.model import DatasetMeta, Kind, Status
from tests.me.users import PLANNER

TODAY = date(2026, 11, 24)
IV = Intervention(id="NPL-EMP-09", country="NPL", title="Jobs for returnees", sector="employment", lead="MoLESS",
                  start=date(2022, 1, 1), end=date(2028, 12, 31), status="ongoing")
LINKED = Indicator(id="EMP-09-1", intervention_id=IV.id, name="Unemployment rate of migrants (LFS)", level="impact",
                   unit="percentage", direction="decrease", baseline_value=12.0, baseline_date=date(2021, 12, 31),
                   end_target=6.0, end_date=date(2027, 12, 31), disaggregation=["sex", "age"],
                   link={"indicator": "unemp_rate", "selection": {"migrant_status": "MS_MIGRANT"}})


def survey(unemployed_migrants: int, *, period: str = "2022", migrants: int = 400, seed: int = 1) -> pd.DataFrame:
    """A small LFS: ``migrants`` migrants aged 30, all in the labour force, ``unemployed_migrants`` of
    them unemployed (picked at random), and 600 employed non-migrants, weight 1, 4 strata × 8 PSUs:
    the migrants' unemployment rate is exactly unemployed_migrants / migrants × 100."""
    n = migrants + 600
    status = np.array(["EMP"] * n, dtype=object)
    status[np.random.default_rng(seed).choice(migrants, unemployed_migrants, replace=False)] = "UNE"
    return pd.DataFrame({
        "ref_area": "NPL", "time_period": period, "sex": np.where(np.arange(n) % 2 == 0, "F", "M"),
        "age": 30.0, "migrant_status": ["MS_MIGRANT"] * migrants + ["MS_NOMIGRANT"] * 600, "labour_status": status,
        "weight": 1.0, "stratum": np.arange(n) % 4, "psu": np.arange(n) % 8,
    })


META = DatasetMeta(kind=Kind.LFS, source="NSO Labour Force Survey", edition="2022", scope="NPL")


@pytest.fixture
def framework(store):
    repo.save_intervention(store, IV, user=PLANNER)
    repo.save_indicator(store, LINKED, user=PLANNER)
    return store


def test_period_dates():
    assert period_dates("2023") == (date(2023, 1, 1), date(2023, 12, 31))
    assert period_dates("2024-Q3") == (date(2024, 7, 1), date(2024, 9, 30))
    assert period_dates("2024-S2") == (date(2024, 7, 1), date(2024, 12, 31))
    assert period_dates("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert period_dates("2020-2021") is None


def test_the_actual_is_the_engines_published_figure_exactly(framework):
    store = framework
    store.add_microdata(META, survey(40), actor="nso", status=Status.PUBLISHED)
    engine = compute(store, country="NPL", indicators=["unemp_rate"]).table
    expected = engine.loc[(engine["sex"] == "_T") & (engine["age"] == "_T")
                          & (engine["migrant_status"] == "MS_MIGRANT")].iloc[0]
    assert expected["value"] == pytest.approx(10.0)  # 40 of 400, by hand
    p = with_statistics(store, repo.load_portfolio(store))
    (actual,) = p.statistics[LINKED.id]
    assert (actual.value, actual.ci_lower, actual.ci_upper) == (expected["value"], expected["ci_lower"],
                                                               expected["ci_upper"])
    assert actual.ci_lower < actual.value < actual.ci_upper
    assert (actual.time_period, actual.period_end, actual.obs_status) == ("2022", date(2022, 12, 31),
                                                                         expected["obs_status"])
    assert (actual.source, actual.edition, actual.dataset_id) == ("NSO Labour Force Survey", "2022",
                                                                  expected["dataset_id"])
    # it feeds the status like a reported actual: (10 − 12) / (6 − 12) = 1/3 achieved after 365/2191 of the time
    progress = evaluate(LINKED, [], TODAY, IV, statistics=p.statistics[LINKED.id])
    assert progress.from_statistics and progress.current == expected["value"]
    assert progress.achievement == pytest.approx(1 / 3)
    assert progress.expected_fraction == pytest.approx(365 / 2191)
    assert progress.status == ProgressStatus.ON_TRACK
    assert "national statistics 10.0%" in explain(progress, LINKED, "en")
    table = views.status_table(p, TODAY, "en").iloc[0]
    assert (table["current"], table["ci_lower"], table["ci_upper"], table["source"]) == (
        expected["value"], expected["ci_lower"], expected["ci_upper"], "NSO Labour Force Survey")
    # the sex breakdown comes from the same engine table, with its flags
    by_sex = views.results_by_sex(p, "en").set_index("sex")
    for sex in ("F", "M"):
        cell = engine.loc[(engine["sex"] == sex) & (engine["age"] == "_T") & (engine["migrant_status"] == "MS_MIGRANT")]
        assert (by_sex.at[sex, "value"], by_sex.at[sex, "obs_status"]) == (cell["value"].iloc[0],
                                                                          cell["obs_status"].iloc[0])
    assert by_sex.at["_T", "value"] == expected["value"]


def test_a_new_published_version_changes_the_actual_and_a_draft_does_not(framework):
    store = framework
    first = store.add_microdata(META, survey(40), actor="nso", status=Status.PUBLISHED)
    draft = store.add_microdata(META.model_copy(update={"edition": "2022 revised"}), survey(20), actor="nso")
    p = with_statistics(store, repo.load_portfolio(store))
    assert [a.value for a in p.statistics[LINKED.id]] == [pytest.approx(10.0)]  # the draft is not read
    store.publish(draft.id, actor="reviewer")  # supersedes the first version
    p = with_statistics(store, repo.load_portfolio(store))
    (actual,) = p.statistics[LINKED.id]
    assert actual.value == pytest.approx(5.0) and actual.dataset_id == str(draft.id) != str(first.id)
    assert actual.edition == "2022 revised"
    # a later survey (published under its own source, so both rounds stay published): the latest
    # published period is the current value (a rate is never summed)
    store.add_microdata(META.model_copy(update={"source": "NSO LFS round 2025", "edition": "2025"}),
                        survey(80, period="2025"), actor="nso", status=Status.PUBLISHED)
    p = with_statistics(store, repo.load_portfolio(store))
    assert [a.time_period for a in p.statistics[LINKED.id]] == ["2022", "2025"]
    progress = evaluate(LINKED, [], TODAY, IV, statistics=p.statistics[LINKED.id])
    assert progress.current == p.statistics[LINKED.id][-1].value == pytest.approx(20.0)
    assert progress.status == ProgressStatus.OFF_TRACK  # 20% is worse than the 12% baseline


def test_figures_up_to_the_baseline_and_suppressed_ones_do_not_count():
    def figure(period: str, value, status="A") -> StatActual:
        start, end = period_dates(period)
        return StatActual(LINKED.id, period, start, end, value, obs_status=status)

    before = [figure("2021", 11.0)]
    progress = evaluate(LINKED, [], TODAY, IV, statistics=before)
    assert progress.status == ProgressStatus.NO_DATA
    assert "is not after the baseline date" in explain(progress, LINKED, "en", before)
    suppressed = [*before, figure("2023", None, "Q")]
    progress = evaluate(LINKED, [], TODAY, IV, statistics=suppressed)
    assert progress.status == ProgressStatus.NO_DATA
    assert "suppressed (Q" in explain(progress, LINKED, "en", suppressed)
    unreliable = [*before, figure("2023", 5.5, "U")]
    progress = evaluate(LINKED, [], TODAY, IV, statistics=unreliable)
    assert progress.status == ProgressStatus.ACHIEVED and progress.current == 5.5
    assert "5.5% (low reliability (U))" in explain(progress, LINKED, "en", unreliable)
    # linked indicators are never overdue: nobody is asked for a report
    assert evaluate(LINKED, [], TODAY, IV, statistics=[]).status == ProgressStatus.NO_DATA


def test_the_selection_picks_country_sex_age_and_migrant_status():
    rows = []
    for area in ("NPL", "SEN"):
        for sex in ("_T", "F", "M"):
            for age in ("_T", "Y15T24", "Y25T54"):
                for ms in ("_T", "MS_MIGRANT"):
                    value = {"NPL": 0, "SEN": 100}[area] + {"_T": 0, "F": 10, "M": 20}[sex] \
                        + {"_T": 0, "Y15T24": 1, "Y25T54": 2}[age] + (0.5 if ms == "MS_MIGRANT" else 0)
                    rows.append({"indicator": "unemp_rate", "ref_area": area, "time_period": "2023", "sex": sex,
                                 "age": age, "migrant_status": ms, "counterpart_area": "_T", "value": value,
                                 "obs_status": "U" if age == "Y15T24" else "A", "ci_lower": value - 1,
                                 "ci_upper": value + 1, "source": "S", "edition": "E", "dataset_id": "7"})
    table = pd.DataFrame(rows)
    women_in_senegal = LINKED.model_copy(update={"link": CatalogueLink(indicator="unemp_rate", selection={
        "country": "SEN", "sex": "F", "migrant_status": "MS_MIGRANT"})})
    (a,) = actuals_from_table(women_in_senegal, IV, table, age_groups=["Y15T24", "Y25T54"])
    assert a.value == 110.5 and (a.ci_lower, a.ci_upper) == (109.5, 111.5)
    # an age breakdown at the selected sex (with flags); no sex breakdown when a sex is selected
    assert a.parts == {("F", "Y15T24"): (111.5, "U"), ("F", "Y25T54"): (112.5, "A")}
    (b,) = actuals_from_table(LINKED, IV, table, age_groups=["Y15T24", "Y25T54"])  # NPL, from the intervention
    assert b.value == 0.5 and b.parts[("F", "_T")] == (10.5, "A") and b.parts[("_T", "Y25T54")] == (2.5, "A")


def test_the_demo_lfs_feeds_the_demo_portfolio(seeded_store):
    from mmicd.demo import ensure_demo_uploads
    from mmicd.me.demo import ensure_demo

    ensure_demo_uploads(seeded_store)
    ensure_demo(seeded_store, today=TODAY)
    p = repo.load_portfolio(seeded_store, "NPL")
    stats = linked_statistics(seeded_store, p)
    engine = compute(seeded_store, country="NPL", indicators=["unemp_rate"]).table
    lfs = engine.loc[(engine["sex"] == "_T") & (engine["age"] == "_T") & (engine["migrant_status"] == "MS_MIGRANT")]
    (figure,) = stats["EMP-01-3"]
    assert (figure.value, figure.ci_lower, figure.ci_upper) == tuple(lfs.iloc[0][["value", "ci_lower", "ci_upper"]])
    assert round(figure.value, 2) == 10.18 and figure.edition == "Labour Force Survey 2023 (synthetic)"
    assert stats["REM-01-2"][-1].source == "World Bank, World Development Indicators"
    p.statistics = stats
    table = views.status_table(p, TODAY, "en").set_index("indicator_id")
    assert table.at["EMP-01-3", "status"] == "on_track" and bool(table.at["EMP-01-3", "from_statistics"])
    assert table.at["REM-01-2", "status"] == "on_track"


def test_an_indicator_linked_to_administrative_data_gets_its_actuals(store):
    """Permits issued to women and returned migrants, linked to the catalogue, take their actuals
    from published tables of the labour-migration and migration-flow kinds (issue #13)."""
    from tests.engine.conftest import add_flows_refugees_labour

    permits = Indicator(id="LAB-02-1", intervention_id=IV.id, name="Work permits issued to women", level="outcome",
                        unit="number", direction="increase", baseline_value=80, baseline_date=date(2021, 12, 31),
                        end_target=200, end_date=date(2027, 12, 31), disaggregation=[],
                        link={"indicator": "work_permits", "selection": {"sex": "F"}})
    returns = Indicator(id="LAB-02-2", intervention_id=IV.id, name="Returned migrants", level="outcome",
                        unit="number", direction="increase", baseline_value=100, baseline_date=date(2021, 12, 31),
                        end_target=400, end_date=date(2027, 12, 31), disaggregation=["sex"],
                        link={"indicator": "returned_migrants"})
    repo.save_intervention(store, IV, user=PLANNER)
    for ind in (permits, returns):
        repo.save_indicator(store, ind, user=PLANNER)
    add_flows_refugees_labour(store)
    stats = linked_statistics(store, repo.load_portfolio(store))
    (women,) = stats["LAB-02-1"]
    assert (women.value, women.time_period, women.source) == (120.0, "2022", "Test DoFE")  # women only, not 2,120
    (returned,) = stats["LAB-02-2"]
    assert returned.value == 200.0 and returned.parts[("F", "_T")] == (50.0, "A")
    progress = evaluate(permits, [], TODAY, IV, statistics=stats["LAB-02-1"])
    assert progress.from_statistics and progress.current == 120.0
    # monthly permits: the year (sum of 12 months) is an actual; a month never is (10 against a yearly target)
    monthly = pd.DataFrame([{"measure": "PERMIT", "ref_area": "NPL", "time_period": f"2024-{m:02d}", "sex": "F",
                             "age": "_T", "migrant_status": "_T", "counterpart_area": "QAT", "labour_status": "_T",
                             "value": 10.0, "obs_status": "A"} for m in range(1, 13)])
    store.add_dataset(DatasetMeta(kind=Kind.LABOUR_MIGRATION, source="Monthly DoFE", edition="2025"), monthly,
                      actor="test", status=Status.PUBLISHED)
    stats = linked_statistics(store, repo.load_portfolio(store))
    assert [(a.time_period, a.value) for a in stats["LAB-02-1"]] == [("2022", 120.0), ("2024", 120.0)]
