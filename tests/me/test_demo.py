"""The illustrative demo portfolio: loaded once, labelled illustrative, showing every status whenever it is loaded."""

from __future__ import annotations

from datetime import date

import pytest

from mmicd.me import repository as repo
from mmicd.me.demo import demo_portfolio, ensure_demo
from mmicd.me.progress import ProgressStatus, evaluate

EXPECTED = {
    "EMP-01-1": "on_track", "EMP-01-2": "at_risk", "EMP-01-3": "no_data", "REM-01-1": "at_risk",
    "REM-01-2": "no_data", "HLT-01-1": "at_risk", "EDU-01-1": "achieved", "GOV-01-1": "off_track",
    "GOV-01-2": "on_track", "RUR-01-1": "overdue", "RUR-01-2": "on_track", "URB-01-1": "no_data",
    "ENV-01-1": "off_track", "SEC-01-1": "on_track", "SEC-01-2": "on_track", "EMP-02-1": "at_risk",
    "PSD-01-1": "no_data", "HLT-02-1": "achieved",
}


def statuses(portfolio, today):
    return {i.id: evaluate(i, portfolio.reports, today, portfolio.intervention(i.intervention_id)).status.value
            for i in portfolio.indicators}


@pytest.mark.parametrize("today", [date(2026, 11, 1), date(2026, 11, 30), date(2027, 2, 28), date(2027, 7, 1),
                                   date(2028, 1, 31), date(2031, 12, 15)])
def test_the_demo_shows_the_same_statuses_whenever_it_is_loaded(today):
    portfolio, _ = demo_portfolio(today)
    assert statuses(portfolio, today) == EXPECTED
    assert set(EXPECTED.values()) == {s.value for s in ProgressStatus}


def test_the_demo_is_a_dozen_illustrative_interventions_across_sectors_and_statuses():
    portfolio, _ = demo_portfolio(date(2026, 11, 24))
    assert 10 <= len(portfolio.interventions) <= 14
    assert all(i.illustrative and i.country == "NPL" for i in portfolio.interventions)
    assert len({i.sector for i in portfolio.interventions}) >= 8
    assert {str(i.status) for i in portfolio.interventions} == {"pipeline", "ongoing", "completed", "suspended",
                                                                  "cancelled"}
    linked = {i.id: i.link.indicator for i in portfolio.indicators if i.link}
    assert linked == {"EMP-01-3": "unemp_rate", "REM-01-2": "rem_in_gdp"}
    assert sum(1 for r in portfolio.reports if r.breakdown) >= 10
    assert len(portfolio.stages) == 6


def test_ensure_demo_loads_once_into_an_empty_store(store):
    assert ensure_demo(store, today=date(2026, 11, 24)) is True
    assert ensure_demo(store, today=date(2026, 11, 24)) is False
    loaded = repo.load_portfolio(store, "NPL")
    expected, header = demo_portfolio(date(2026, 11, 24))
    def by_id(items):
        return sorted(items, key=lambda x: x.id)

    assert by_id(loaded.interventions) == by_id(expected.interventions)
    assert by_id(loaded.indicators) == by_id(expected.indicators)
    assert len(loaded.reports) == len(expected.reports)
    assert statuses(loaded, date(2026, 11, 24)) == EXPECTED
    approved = [r for r in loaded.reports if r.state == "approved"]
    assert approved and all(r.acted_by == header["reviewer"] == "task force reviewer (demo)" for r in approved)
