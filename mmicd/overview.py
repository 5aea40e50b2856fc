"""Key figures of one area, computed from published observations (no Streamlit here).

Each figure names the dataset, source and edition it came from. Ratios are computed from their
numerator and denominator taken from the *same* dataset, so editions are never mixed in one figure.
The indicator engine generalises these definitions; ids match its catalogue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmicd import codes

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

    @property
    def available(self) -> bool:
        return self.value is not None and not math.isnan(self.value)

    @property
    def change(self) -> float | None:
        if self.available and self.previous is not None:
            return self.value - self.previous
        return None


def _totals(frame: pd.DataFrame, **dims: str) -> pd.DataFrame:
    """Rows whose unnamed dimensions are all totals, and whose named ones equal the given codes."""
    mask = pd.Series(True, index=frame.index)
    for col in ("age", "counterpart_area", "labour_status", "migrant_status"):
        mask &= frame[col] == dims.pop(col, T)
    for col, code in dims.items():
        mask &= frame[col] == code
    return frame.loc[mask]


def _best_dataset(frame: pd.DataFrame, year: str | None) -> pd.DataFrame:
    """Keep one dataset: the one with the latest period up to ``year`` (newest version on a tie)."""
    if frame.empty:
        return frame
    upto = frame if year is None else frame.loc[frame["time_period"] <= year]
    if upto.empty:
        return upto
    latest = upto.groupby("dataset_id")["time_period"].max()
    best = max(latest.index, key=lambda d: (latest[d], d))
    return frame.loc[frame["dataset_id"] == best]


def _figure(fid: str, unit: str, series: pd.DataFrame, year: str | None, meta: pd.DataFrame) -> KeyFigure:
    """Build a figure from a (time_period, series, value) frame; the headline is series ``_T``."""
    fig = KeyFigure(id=fid, unit=unit, trend=series.sort_values(["series", "time_period"]).reset_index(drop=True))
    if series.empty:
        return fig
    if not meta.empty:
        fig.source = str(meta["source"].iloc[0])
        fig.edition = str(meta["edition"].iloc[0])
        fig.dataset_ids = tuple(sorted(int(i) for i in meta["dataset_id"].unique()))
        fig.obs_status = "".join(sorted(set(meta["obs_status"])))
    total = series.loc[(series["series"] == T) & series["value"].notna()].sort_values("time_period")
    if year is not None:
        total = total.loc[total["time_period"] <= year]
    if total.empty:
        return fig
    fig.value, fig.year = float(total["value"].iloc[-1]), str(total["time_period"].iloc[-1])
    if len(total) > 1:
        fig.previous, fig.previous_year = float(total["value"].iloc[-2]), str(total["time_period"].iloc[-2])
    at_year = series.loc[series["time_period"] == fig.year]
    fig.by_sex = {r.series: float(r.value) for r in at_year.itertuples() if r.series != T}
    return fig


def _by_sex(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[["time_period", "sex", "value"]].rename(columns={"sex": "series"})
    return out.loc[out["series"].isin(["F", "M", T])]


def _ratio(num: pd.DataFrame, den: pd.DataFrame, factor: float = 100.0) -> pd.DataFrame:
    merged = num.merge(den, on=["time_period", "series"], suffixes=("_n", "_d"))
    merged["value"] = np.where(merged["value_d"] > 0, merged["value_n"] / merged["value_d"] * factor, np.nan)
    return merged[["time_period", "series", "value"]]


def key_figures(own: pd.DataFrame, as_counterpart: pd.DataFrame, year: str | None = None) -> dict[str, KeyFigure]:
    """Key figures of one area.

    ``own``: published observations whose ref_area is the area; ``as_counterpart``: migrant-stock
    observations whose counterpart_area is the area (its emigrants, by destination).
    """
    figures: dict[str, KeyFigure] = {}

    pop = _best_dataset(_totals(own.loc[own["kind"] == "population"], measure="POP"), year)
    figures["pop_total"] = _figure("pop_total", "persons", _by_sex(pop), year, pop)

    stock_all = own.loc[own["kind"] == "migrant_stock"]
    stock = _best_dataset(_totals(stock_all, measure="POP", migrant_status="MS_MIGRANT"), year)
    stock_series = _by_sex(stock)
    figures["imm_stock"] = _figure("imm_stock", "persons", stock_series, year, stock)

    # share: numerator and denominator from the same dataset (the edition's own population)
    if not stock.empty:
        same = stock_all.loc[stock_all["dataset_id"] == stock["dataset_id"].iloc[0]]
        denominator = _by_sex(_totals(same, measure="POP"))
        share_meta = pd.concat([stock, _totals(same, measure="POP")])
        figures["imm_share"] = _figure("imm_share", "percent", _ratio(stock_series, denominator), year, share_meta)
        female = stock_series.loc[stock_series["series"] == "F"].assign(series=T)
        total = stock_series.loc[stock_series["series"] == T]
        figures["imm_female_share"] = _figure("imm_female_share", "percent", _ratio(female, total), year, stock)
    else:
        figures["imm_share"] = KeyFigure("imm_share", "percent")
        figures["imm_female_share"] = KeyFigure("imm_female_share", "percent")

    figures["emig_stock"] = _emigrants(as_counterpart, year)

    net = _best_dataset(_totals(own, measure="NET_MIG"), year)
    figures["net_mig"] = _figure("net_mig", "persons", _by_sex(net), year, net)

    rem = own.loc[own["kind"] == "remittances"]
    rem_in = _best_dataset(_totals(rem, measure="REM_IN"), year)
    rem_series = _by_sex(rem_in)
    figures["rem_in_usd"] = _figure("rem_in_usd", "usd", rem_series, year, rem_in)
    if not rem_in.empty:
        gdp = _totals(rem.loc[rem["dataset_id"] == rem_in["dataset_id"].iloc[0]], measure="GDP")
        figures["rem_in_gdp"] = _figure(
            "rem_in_gdp", "percent", _ratio(rem_series, _by_sex(gdp)), year, pd.concat([rem_in, gdp])
        )
    else:
        figures["rem_in_gdp"] = KeyFigure("rem_in_gdp", "percent")
    return figures


def _emigrants(frame: pd.DataFrame, year: str | None) -> KeyFigure:
    """Emigrants abroad: the area's nationals/natives counted in every destination country."""
    rows = frame.loc[
        (frame["kind"] == "migrant_stock")
        & (frame["measure"] == "POP")
        & (frame["migrant_status"] == "MS_MIGRANT")
        & (frame["age"] == T)
        & frame["ref_area"].isin(codes.country_codes())
    ]
    rows = _best_dataset(rows, year)
    if rows.empty:
        return KeyFigure("emig_stock", "persons")
    by_sex = rows.pivot_table(index=["time_period", "ref_area"], columns="sex", values="value", aggfunc="sum")
    for sex in ("F", "M", T):
        if sex not in by_sex.columns:
            by_sex[sex] = np.nan
    # a destination's total is its both-sexes figure, or F + M where only the parts are given
    by_sex[T] = by_sex[T].fillna(by_sex[["F", "M"]].sum(axis=1, min_count=1))
    summed = by_sex.groupby("time_period")[["F", "M", T]].sum(min_count=1).reset_index()
    series = summed.melt(id_vars="time_period", var_name="series", value_name="value").dropna()
    return _figure("emig_stock", "persons", series, year, rows)

