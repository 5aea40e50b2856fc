"""Static PNG charts of the profile blocks (matplotlib, no network, fonts shipped with matplotlib),
for the HTML and PDF briefs. Same colours as the interactive charts."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from mmicd import codes  # noqa: E402
from mmicd.charts import LINE_COLOURS, SERIES_COLOURS, series_label  # noqa: E402
from mmicd.i18n import format_compact, format_number, format_percent, t  # noqa: E402
from mmicd.profile.charts import AXIS_KEYS, EXTRA  # noqa: E402
from mmicd.profile.model import Block  # noqa: E402

plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8, "axes.spines.top": False,
                     "axes.spines.right": False})


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=130)
    plt.close(fig)
    return buf.getvalue()


def _yfmt(ax, unit: str, lang: str) -> None:
    if unit == "percent":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_percent(v, lang, 1)))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_compact(v, lang)))


def _trend(block: Block, lang: str) -> bytes:
    frame = block.frame()
    fig, ax = plt.subplots(figsize=(7, 2.8))
    origin = frame["origin"] if "origin" in frame.columns else None
    for code in ("_T", "F", "M"):
        part = frame.loc[frame["series"] == code]
        if origin is not None:
            intl = part.loc[part["origin"] == "international"].sort_values("time_period")
            nat = part.loc[part["origin"] == "national"].sort_values("time_period")
        else:
            intl, nat = part.sort_values("time_period"), part.iloc[0:0]
        if not intl.empty:
            ax.plot(intl["time_period"].astype(int), intl["value"], marker="o", ms=3, color=SERIES_COLOURS[code],
                    lw=2.5 if code == "_T" else 1.5, label=series_label(code, lang))
        if not nat.empty:
            ax.plot(nat["time_period"].astype(int), nat["value"], "D", ms=7, color=SERIES_COLOURS[code],
                    label=f"{series_label(code, lang)} ({t('profile.origin.national', lang)})")
    ax.set_xlabel(t("axis.year", lang))
    ax.set_ylabel(t(AXIS_KEYS.get(block.unit, "profile.axis.persons"), lang))
    ax.set_ylim(bottom=0)
    _yfmt(ax, block.unit, lang)
    ax.legend(fontsize=7, frameon=False, ncol=3)
    return _png(fig)


def _pyramid(block: Block, lang: str) -> bytes:
    frame = block.frame()
    ages = list(dict.fromkeys(frame["age"]))
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.6), sharey=True)
    for ax, status in zip(axes, ("MS_MIGRANT", "MS_NOMIGRANT"), strict=True):
        for sex, sign in (("M", -1), ("F", 1)):
            part = frame.loc[(frame["migrant_status"] == status) & (frame["sex"] == sex)].set_index("age").reindex(ages)
            ax.barh(range(len(ages)), sign * part["pct"].fillna(0), color=SERIES_COLOURS[sex],
                    label=series_label(sex, lang))
        ax.set_title(t("profile.label.migrants" if status == "MS_MIGRANT" else "profile.label.non_migrants", lang))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(abs(v), lang, 0)))
        ax.set_xlabel(t("profile.axis.share_group", lang))
    axes[0].set_yticks(range(len(ages)), [codes.label("age", a, lang) for a in ages], fontsize=6)
    axes[0].legend(fontsize=7, frameon=False)
    return _png(fig)


def _bars(block: Block, lang: str) -> bytes:
    frame = block.frame().iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.25 * max(len(frame), 3)))
    y = range(len(frame))
    if "F" in frame.columns and frame[["F", "M"]].notna().any().any():
        f, m = frame["F"].fillna(0), frame["M"].fillna(0)
        ax.barh(y, f, color=SERIES_COLOURS["F"], label=series_label("F", lang))
        ax.barh(y, m, left=f, color=SERIES_COLOURS["M"], label=series_label("M", lang))
        ax.legend(fontsize=7, frameon=False)
    else:
        col = "total" if "total" in frame.columns else "value"
        ax.barh(y, frame[col], color=EXTRA["bar"], hatch="//" if block.id == "corridors" else None)
    if block.id == "cost":
        ax.axvline(3, color=SERIES_COLOURS["F"], ls="--", label=t("profile.label.target_3", lang))
        ax.axvline(5, color=SERIES_COLOURS["F"], ls=":", label=t("profile.label.ceiling", lang))
        ax.legend(fontsize=7, frameon=False)
    ax.set_yticks(list(y), frame["name"].astype(str).tolist())
    ax.set_xlabel(t(AXIS_KEYS.get(block.unit, "profile.axis.persons"), lang))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_compact(v, lang)))
    return _png(fig)


def _lines(block: Block, lang: str, key: str, country: str) -> bytes:
    frame = block.frame()
    fig, ax = plt.subplots(figsize=(7, 2.8))
    for name, part in frame.groupby(key, sort=False):
        part = part.sort_values("time_period")
        if key == "series":
            label, colour, width = t(f"profile.series.{name}", lang), EXTRA.get(str(name), "#333333"), 2
        else:
            role = "country" if name == country else ("world" if name == "WLD" else "region")
            label, colour, width = str(part["name"].iloc[0]), EXTRA[role], 2.5 if role == "country" else 1.5
        ax.plot(part["time_period"].astype(int), part["value"], color=colour, lw=width, label=label)
    ax.set_xlabel(t("axis.year", lang))
    ax.set_ylabel(t(AXIS_KEYS.get(block.unit, "profile.axis.persons"), lang))
    ax.set_ylim(bottom=0)
    _yfmt(ax, block.unit, lang)
    ax.legend(fontsize=7, frameon=False)
    return _png(fig)


def _series(block: Block, lang: str) -> bytes:
    """Lines of several indicators over periods (years, months or quarters, as categories)."""
    from mmicd.profile.tables import series_name

    frame = block.frame()
    periods = sorted(frame["time_period"].astype(str).unique())
    fig, ax = plt.subplots(figsize=(7, 2.8))
    for n, (code, part) in enumerate(frame.groupby("series", sort=False)):
        part = part.assign(x=part["time_period"].astype(str).map(periods.index)).sort_values("x")
        ax.plot(part["x"], part["value"], marker="o", ms=3, lw=2, color=LINE_COLOURS[n % len(LINE_COLOURS)],
                label=series_name(str(code), lang))
    step = max(1, len(periods) // 12)
    ax.set_xticks(range(0, len(periods), step), periods[::step], fontsize=7)
    ax.set_xlabel(t("axis.period", lang))
    ax.set_ylabel(t(AXIS_KEYS.get(block.unit, "profile.axis.persons"), lang))
    if not (frame["value"] < 0).any():
        ax.set_ylim(bottom=0)
    _yfmt(ax, block.unit, lang)
    ax.legend(fontsize=7, frameon=False)
    return _png(fig)


def _labour(block: Block, lang: str) -> bytes:
    frame = block.frame()
    frame = frame.loc[frame["age"] == "_T"]
    inds = [i for i in ("lfpr", "emp_pop_ratio", "unemp_rate") if i in set(frame["indicator"])]
    fig, axes = plt.subplots(1, len(inds), figsize=(7, 2.8), squeeze=False)
    sexes = ["_T", "F", "M"]
    for ax, ind in zip(axes[0], inds, strict=True):
        for k, status in enumerate(("MS_MIGRANT", "MS_NOMIGRANT")):
            part = frame.loc[(frame["indicator"] == ind) & (frame["migrant_status"] == status)].set_index("sex")
            part = part.reindex(sexes)
            x = [i + (k - 0.5) * 0.38 for i in range(len(sexes))]
            err = [(part["value"] - part["ci_lower"]).fillna(0), (part["ci_upper"] - part["value"]).fillna(0)]
            bars = ax.bar(x, part["value"].fillna(0), width=0.38, yerr=err, color=SERIES_COLOURS[status],
                          label=series_label(status, lang), capsize=2, error_kw={"elinewidth": 0.8})
            for bar, flag in zip(bars, part["obs_status"].fillna(""), strict=True):
                if flag == "U":
                    bar.set_hatch("///")
                    ax.annotate("U", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", fontsize=7)
                elif flag == "Q":
                    ax.annotate("Q", (bar.get_x() + bar.get_width() / 2, 0), ha="center", fontsize=7)
        ax.set_xticks(range(len(sexes)), [series_label(s, lang) for s in sexes])
        ax.set_title(t(f"profile.indicator.{ind}", lang), fontsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_percent(v, lang, 0)))
    axes[0][0].set_ylabel(t("profile.axis.percent", lang))
    axes[0][0].legend(fontsize=6, frameon=False)
    return _png(fig)


def chart(block: Block, lang: str, country: str) -> bytes | None:
    """PNG of a block, or None for blocks drawn as tables only (or empty ones)."""
    if block.empty:
        return None
    if block.id in ("imm_stock_trend", "imm_share_trend", "emig_trend"):
        return _trend(block, lang)
    if block.id == "pyramid":
        return _pyramid(block, lang)
    if block.id in ("origins", "destinations", "corridors", "cost"):
        return _bars(block, lang)
    if block.id == "rem_trend":
        return _lines(block, lang, "series", country)
    if block.id == "rem_gdp":
        return _lines(block, lang, "area", country)
    if block.id == "labour":
        return _labour(block, lang)
    if block.chart == "lines":
        return _series(block, lang)
    if block.chart == "bars":
        return _bars(block, lang)
    return None
