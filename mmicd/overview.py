"""Key figures of one area: the headline rows of catalogue indicators, from the indicator engine
(no Streamlit here).

Each figure names the dataset, source and edition it came from. Ratios come from their numerator
and denominator in the *same* dataset version, so editions are never mixed in one figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from mmicd import codes
from mmicd.engine import catalogue, compute_frames

T = codes.TOTAL
FIGURE_IDS = (
    "pop_total", "imm_stock", "imm_share", "imm_female_share", "emig_stock", "net_mig", "rem_in_usd", "rem_in_gdp",
)


@dataclass
class KeyFigure:
    id: str
    unit: str  # "persons" | "percent" | "usd"
    value: float | None = None
    year: str | None = None
    previous: float | None = None
    previous_year: str | None = None
    by_sex: dict[str, float] = field(default_factory=dict)
    source: str = ""
    edition: str = ""
    dataset_ids: tuple[int, ...] = ()
    obs_status: str = ""
    trend: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["time_period", "series", "value"]))
    alternative: KeyFigure | None = None  # the next source giving this figure, shown beside it, never blended
    synthetic: bool = False  # from synthetic demo data (marked wherever it shows)

    @property
    def available(self) -> bool:
        return self.value is not None and not math.isnan(self.value)

    @property
    def change(self) -> float | None:
        if self.available and self.previous is not None:
            return self.value - self.previous
        return None


def _best_dataset(frame: pd.DataFrame, year: str | None) -> pd.DataFrame:
    """Keep one dataset: the one with the latest period up to ``year`` (newest version on a tie)."""
    if frame.empty:
        return frame
    upto = frame if year is None else frame.loc[frame["time_period"] <= year]
    if upto.empty:
        return upto
    latest = upto.groupby("dataset_id")["time_period"].max()
    best = max(latest.index, key=lambda d: (latest[d], int(d)))
    return frame.loc[frame["dataset_id"] == best]


def _figure(fid: str, unit: str, rows: pd.DataFrame, year: str | None) -> KeyFigure:
    """A figure from one dataset's engine rows by sex; the headline is the both-sexes series."""
    series = rows[["time_period", "sex", "value"]].rename(columns={"sex": "series"})
    fig = KeyFigure(id=fid, unit=unit, trend=series.sort_values(["series", "time_period"]).reset_index(drop=True))
    if rows.empty:
        return fig
    fig.source, fig.edition = str(rows["source"].iloc[0]), str(rows["edition"].iloc[0])
    fig.dataset_ids = tuple(sorted(int(i) for i in rows["dataset_id"].unique()))
    fig.obs_status = "".join(sorted(set(rows["obs_status"])))
    total = series.loc[(series["series"] == T) & series["value"].notna()].sort_values("time_period")
    if year is not None:
        total = total.loc[total["time_period"] <= year]
    if total.empty:
        return fig
    fig.value, fig.year = float(total["value"].iloc[-1]), str(total["time_period"].iloc[-1])
    if len(total) > 1:
        fig.previous, fig.previous_year = float(total["value"].iloc[-2]), str(total["time_period"].iloc[-2])
    at_year = series.loc[series["time_period"] == fig.year]
    fig.by_sex = {r.series: float(r.value) for r in at_year.itertuples() if r.series != T and pd.notna(r.value)}
    return fig


def upto_year(frame: pd.DataFrame, year: str | None) -> pd.DataFrame:
    """The rows of periods up to the end of ``year`` (months and quarters of that year included)."""
    return frame if year is None or frame.empty else frame.loc[frame["time_period"].str[:4] <= str(year)]


def yearly_or_all(rows: pd.DataFrame) -> pd.DataFrame:
    """Yearly rows where the series has them; a series given only by month or quarter as it is."""
    yearly = rows["time_period"].str.len() == 4
    return rows.loc[yearly] if yearly.any() else rows


def _area(own: pd.DataFrame, as_counterpart: pd.DataFrame) -> str | None:
    for frame, col in ((own, "ref_area"), (as_counterpart, "counterpart_area")):
        if not frame.empty:
            return str(frame[col].iloc[0])
    return None


def key_figures(own: pd.DataFrame, as_counterpart: pd.DataFrame, year: str | None = None,
                ids: tuple[str, ...] = FIGURE_IDS, synthetic: frozenset[int] = frozenset()) -> dict[str, KeyFigure]:
    """Key figures of one area, computed by the indicator engine.

    ``own``: published observations whose ref_area is the area; ``as_counterpart``: migrant-stock
    observations whose counterpart_area is the area (its emigrants, by destination). Each figure
    keeps one dataset version, the one with the latest period up to ``year``; ratios come from the
    engine, which takes their numerator and denominator from that same version. ``synthetic``: ids of
    synthetic (demo) versions, used for a figure only when no other version gives it up to ``year``
    (then it is the alternative, shown beside the real figure); their figures are marked.
    """
    defs = catalogue()
    figures = {fid: KeyFigure(fid, defs[fid].unit) for fid in ids}
    area = _area(own, as_counterpart)
    if area is None:
        return figures
    table = compute_frames(pd.concat([own, as_counterpart], ignore_index=True), indicators=ids,
                           country=area).table
    totals = table.loc[(table["age"] == T) & (table["migrant_status"] == T) & (table["counterpart_area"] == T)
                       & table["sex"].isin(["F", "M", T])]
    for fid, rows in totals.groupby("indicator", sort=False):
        rows = yearly_or_all(rows)  # a monthly series' headline is its year, when known
        real = rows.loc[~rows["dataset_id"].astype(str).isin({str(i) for i in synthetic})]
        best = _best_dataset(real, year)
        if best.empty:  # no real version gives it up to the year
            best = _best_dataset(rows, year)
        figures[fid] = _figure(fid, defs[fid].unit, best, year)
        rest = rows.loc[~rows["dataset_id"].isin(best["dataset_id"].unique())]
        other = _figure(fid, defs[fid].unit, _best_dataset(rest, year), year)
        if other.available:
            figures[fid].alternative = other
        for fig in (figures[fid], other):
            fig.synthetic = bool(set(fig.dataset_ids) & synthetic)
    return figures
