"""The M&E framework at the local level: which interventions work in a subdivision (their geographic
scope is a set of subdivision codes, or the country itself for national ones), and the portfolio
subdivision by subdivision, with each intervention's status."""

from __future__ import annotations

import pandas as pd

from mmicd.me.repository import Portfolio


def in_area(portfolio: Portfolio, area: str, *, national: bool = True) -> Portfolio:
    """The interventions working in subdivision ``area`` (and, with ``national``, those covering the
    whole country), with their indicators, reports and changes."""
    ids = {iv.id for iv in portfolio.interventions if area in iv.scope_areas or (national and iv.national())}
    indicators = [i for i in portfolio.indicators if i.intervention_id in ids]
    ind_ids = {i.id for i in indicators}
    return Portfolio([iv for iv in portfolio.interventions if iv.id in ids], indicators,
                     [r for r in portfolio.reports if r.indicator_id in ind_ids],
                     [c for c in portfolio.changes if c.indicator_id in ind_ids], portfolio.stages,
                     {k: v for k, v in portfolio.statistics.items() if k in ind_ids})


def by_area(portfolio: Portfolio, areas: list[str]) -> pd.DataFrame:
    """One row per subdivision of ``areas`` and intervention working there by name (national ones
    excluded: they cover every subdivision), with the intervention's status, lead and lead type."""
    rows = [{"area": area, "intervention": iv.id, "title": iv.title, "status": str(iv.status), "lead": iv.lead,
             "lead_type": str(iv.lead_type)}
            for area in areas for iv in sorted(portfolio.interventions, key=lambda i: i.id) if area in iv.scope_areas]
    return pd.DataFrame(rows, columns=["area", "intervention", "title", "status", "lead", "lead_type"])
