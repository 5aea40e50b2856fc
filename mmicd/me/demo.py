"""The illustrative demo portfolio (``data/me/demo_portfolio.yml``), loaded when the M&E tables are empty.

Every date of the file is shifted by the whole number of months between its ``reference_date`` and
the loading day, so that the demo always shows every status (the rules depend on today's date) —
except the baseline date of an indicator linked to the statistical catalogue: its actuals are the
published statistics, which keep their own calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import yaml

from mmicd.me.model import ME_DATA, Indicator, Intervention, Report, StageRecord
from mmicd.me.progress import add_months
from mmicd.me.repository import (
    Portfolio,
    is_empty,
    write_indicator,
    write_intervention,
    write_report,
    write_stage,
)
from mmicd.store import Store

DEMO_FILE = ME_DATA / "demo_portfolio.yml"
DATE_FIELDS = {"start", "end", "actual_start", "actual_end", "baseline_date", "end_date", "due", "period_start",
               "period_end"}


def _shift(node: object, months: int) -> object:
    if isinstance(node, dict):
        fixed = {"baseline_date"} if node.get("link") else set()
        return {k: (add_months(v, months) if k in DATE_FIELDS - fixed and isinstance(v, date) else _shift(v, months))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_shift(v, months) for v in node]
    return node


def months_between(earlier: date, later: date) -> int:
    return (later.year * 12 + later.month) - (earlier.year * 12 + earlier.month)


def demo_portfolio(today: date | None = None, path: Path = DEMO_FILE) -> tuple[Portfolio, dict]:
    """The demo portfolio with its dates shifted to ``today``, and the file's header (actor, reviewer)."""
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    today = today or date.today()
    months = months_between(raw["reference_date"], today)
    data = _shift({k: v for k, v in raw.items() if k in ("interventions", "stages")}, months)
    portfolio = Portfolio()
    for entry in data["interventions"]:
        indicators = entry.pop("indicators", [])
        portfolio.interventions.append(Intervention(**entry, country=raw["country"],
                                                    illustrative=bool(raw.get("illustrative"))))
        for position, ind in enumerate(indicators):
            reports = ind.pop("reports", [])
            portfolio.indicators.append(Indicator(**ind, intervention_id=entry["id"], position=position))
            for rep in reports:
                portfolio.reports.append(Report(indicator_id=ind["id"], **rep))
    for stage in data.get("stages", []):
        portfolio.stages.append(StageRecord(country=raw["country"], **stage))
    header = {"actor": raw.get("actor", "demo"), "reviewer": raw.get("reviewer", raw.get("actor", "demo")),
              "months": months}
    return portfolio, header


def load_demo(store: Store, today: date | None = None) -> Portfolio:
    """Write the demo portfolio into the store in one transaction."""
    today = today or date.today()
    portfolio, header = demo_portfolio(today)
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        for iv in portfolio.interventions:
            write_intervention(conn, iv, header["actor"])
        for ind in portfolio.indicators:
            write_indicator(conn, ind, header["actor"])
        for rep in portfolio.reports:
            acted_at = min(now, datetime.combine(rep.period_end + timedelta(days=30), time(9), tzinfo=UTC))
            actor = header["reviewer"] if rep.state == "approved" else header["actor"]
            write_report(conn, rep, actor, acted_at=acted_at)
        for stage in portfolio.stages:
            write_stage(conn, stage, header["actor"])
    return portfolio


def ensure_demo(store: Store, today: date | None = None) -> bool:
    """Load the illustrative demo portfolio when the M&E tables are empty; True if it was loaded."""
    if not is_empty(store):
        return False
    load_demo(store, today)
    return True
