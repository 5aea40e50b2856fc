"""Reporting status on the seeded store (baseline) with the demo's national data, and M&E reports
on time, late, missing or pending on a hand-made portfolio."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mmicd import reporting
from mmicd.demo import ensure_demo_uploads
from mmicd.engine.catalogue import catalogue
from mmicd.me.config import MeConfig
from mmicd.me.model import Indicator, Intervention, Report
from mmicd.me.repository import Portfolio
from mmicd.reporting import DataStatus, ReportStatus
from mmicd.safe_export import to_csv

COUNTRIES, YEARS = ["NPL", "SEN"], ["2020", "2021", "2023"]


def status_of(store):
    versions = store.datasets()
    table = reporting.data_status(catalogue(), versions, reporting.coverage(store, versions), COUNTRIES, YEARS)
    return {(r.indicator, r.country, r.year): r.status for r in table.itertuples()}, table


@pytest.fixture(scope="module")
def with_demo(seeded_file, tmp_path_factory):
    import shutil

    from mmicd.store import Store

    copy = tmp_path_factory.mktemp("demo") / "mmicd.sqlite"
    shutil.copy(seeded_file, copy)
    s = Store(f"sqlite:///{copy}", data_dir=copy.parent)
    before, _ = status_of(s)
    ensure_demo_uploads(s)
    yield before, *status_of(s)
    s.engine.dispose()


def test_national_demo_data_baseline_only_and_none(with_demo):
    before, after, table = with_demo
    # UN DESA's migrant stock has 2020 for every country, nothing for 2021
    assert before[("imm_stock", "NPL", "2020")] == before[("imm_stock", "SEN", "2020")] == DataStatus.BASELINE
    assert before[("imm_stock", "NPL", "2021")] == DataStatus.NONE
    # the demo's Nepal census 2021 (synthetic, published by the "statistics office") makes it national
    assert after[("imm_stock", "NPL", "2021")] == DataStatus.NATIONAL
    assert after[("pop_total", "NPL", "2021")] == DataStatus.NATIONAL
    assert after[("imm_stock", "NPL", "2020")] == DataStatus.BASELINE  # the census says nothing of 2020
    # the demo Labour Force Survey 2023 is microdata: national in 2023 only
    assert after[("unemp_rate", "NPL", "2023")] == DataStatus.NATIONAL
    assert after[("unemp_rate", "NPL", "2021")] == DataStatus.NONE
    # Senegal has no national data: baseline only or none, as before the demo
    assert {k: v for k, v in after.items() if k[1] == "SEN"} == {k: v for k, v in before.items() if k[1] == "SEN"}
    assert after[("rem_in_usd", "SEN", "2020")] == DataStatus.BASELINE
    assert after[("work_permits", "SEN", "2020")] == DataStatus.NONE
    assert len(table) == len(catalogue()) * len(COUNTRIES) * len(YEARS)
    counts = reporting.counts(table, DataStatus)
    assert sum(counts.values()) == len(table) and counts["national"] >= 3


def indicator(**kw):
    fields = dict(id="I1", intervention_id="X1", name="=Placed", level="output", baseline_value=0,
                  baseline_date=date(2025, 1, 1), end_target=100, end_date=date(2026, 12, 31), frequency="quarterly")
    return Indicator(**(fields | kw))


def report(end, state, acted, start=None):
    return Report(indicator_id="I1", period_start=start or end.replace(day=1, month=end.month - 2), period_end=end,
                  value=5, state=state, acted_at=datetime.combine(acted, datetime.min.time(), UTC) if acted else None)


def test_reports_on_time_late_missing_and_pending_per_period():
    iv = Intervention(id="X1", country="SEN", title="t", sector="employment", lead="MoL", start=date(2025, 1, 1),
                      end=date(2026, 12, 31), status="ongoing")
    reports = [
        report(date(2025, 3, 31), "approved", date(2025, 4, 20)),  # due by 15 May: on time
        report(date(2025, 6, 30), "submitted", date(2025, 9, 1)),  # due by 14 August: late
        report(date(2025, 12, 31), "returned", date(2026, 1, 10)),  # returned: not received, missing
    ]
    portfolio = Portfolio([iv], [indicator(), indicator(id="L1", link={"indicator": "imm_stock"})], reports)
    table = reporting.report_status(portfolio, date(2026, 5, 1), MeConfig())
    assert [(r.period_end.isoformat(), r.status) for r in table.itertuples()] == [
        ("2025-03-31", "on_time"), ("2025-06-30", "late"), ("2025-09-30", "missing"), ("2025-12-31", "missing"),
        ("2026-03-31", "pending"),  # ended, due by 15 May 2026
    ]  # the linked indicator L1 takes published figures: no reports expected
    assert reporting.counts(table, ReportStatus) == {"on_time": 1, "late": 1, "missing": 2, "pending": 1}
    # a suspended intervention is not chased
    stopped = Portfolio([iv.model_copy(update={"status": "suspended"})], [indicator()], reports)
    assert reporting.report_status(stopped, date(2026, 5, 1), MeConfig()).empty
    # the CSV is safe: the indicator name "=Placed" is text, not a formula
    assert "'=Placed" in to_csv(table)


def test_legend_names_each_colour_in_words():
    assert reporting.legend(reporting.DATA_SYMBOLS, "data", "en") == "● National data · ◐ Baseline only · ○ None"
    assert reporting.legend(reporting.REPORT_SYMBOLS, "me", "fr") == (
        "● À temps · ▲ En retard · ■ Manquant · ○ En attente")
