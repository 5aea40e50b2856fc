"""Streamlit renderers of the Indicators page: definition, chart with confidence intervals,
flagged (U) and suppressed (Q) values marked, the survey design note, the table and downloads.

Results are cached by (database, the dataset version ids the indicator reads for the country,
country, indicator) — never by hashing frames.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from mmicd import codes
from mmicd.charts import SERIES_COLOURS
from mmicd.engine import Indicator, catalogue, compute, input_ids
from mmicd.engine.export import design_notes, export, note_text, versions_of
from mmicd.i18n import format_number, format_percent, plotly_separators
from mmicd.store import Store
from mmicd.ui import _store, tr
from mmicd.ui.components import plain

T = codes.TOTAL
# the page's downloads: label key, export format, file name suffix, media type
DOWNLOADS = (("csv", "csv-package", ".zip", "application/zip"), ("json", "json", ".datapackage.json", "application/json"),
             ("sdmx_csv", "sdmx-csv", "_sdmx-csv-1.0.zip", "application/zip"),
             ("sdmx_csv_2_0", "sdmx-csv-2.0", "_sdmx-csv-2.0.zip", "application/zip"))
SDG_URL = "https://unstats.un.org/sdgs/metadata/?Text=&Goal={goal}&Target={target}"
UNIT_KEYS = {"persons": "unit.persons", "percent": "unit.percent", "usd": "unit.usd", "years": "ind.unit.years",
             "percent_per_year": "ind.unit.percent_per_year", "per_1000": "ind.unit.per_1000",
             "per_100000": "ind.unit.per_100000"}


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _microdata(url: str, dataset_id: int) -> pd.DataFrame:
    return _store(url).microdata(dataset_id)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _compute(url: str, inputs: tuple[int, ...], country: str, indicator: str) -> tuple[pd.DataFrame, list[dict]]:
    s = _store(url)
    published = set(s.published_ids())  # the key holds published versions only
    result = compute(s, country=country, indicators=[indicator], dataset_ids=[i for i in inputs if i in published],
                     microdata_reader=lambda i: _microdata(url, i))
    return result.table, [i.as_dict() for i in result.issues]


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _inputs(url: str, published: tuple[int, ...], country: str, indicator: str) -> tuple[int, ...]:
    return input_ids(_store(url), country, indicator, published)


def indicator_result(s: Store, country: str, indicator: str) -> tuple[pd.DataFrame, list[dict]]:
    """The indicator's table for a country, cached by the versions it reads (its kinds, holding the
    country): an upload for another country or kind does not recompute it."""
    return _compute(s.url, _inputs(s.url, s.published_ids(), country, indicator), country, indicator)


ORDER = ["pop_total", "imm_stock", "imm_share", "imm_female_share", "imm_stock_growth", "imm_median_age", "emig_stock",
         "net_mig", "rem_in_usd", "rem_out_usd", "rem_in_gdp", "rem_corridor_usd", "rem_cost_pct", "wap", "lfpr",
         "emp_pop_ratio", "unemp_rate", "migrant_share_employed",
         "immigrants", "emigrants", "net_migration_flows", "immigration_rate", "emigration_rate", "returned_migrants",
         "refugees", "refugees_abroad", "refugee_share_stock", "refugees_per_100k_origin", "asylum_applications",
         "asylum_recognition_rate", "resettlement_arrivals", "returned_refugees", "workers_deployed", "work_permits",
         "labour_emigration_rate", "arrivals", "departures"]


def indicator_options() -> list[str]:
    """Catalogue ids in the order of the issue's table (population, migration, remittances, labour)."""
    ids = [i for i, ind in catalogue().items() if not ind.draft]
    return sorted(ids, key=lambda i: (ORDER.index(i) if i in ORDER else len(ORDER), i))


def definition(ind: Indicator, lang: str, table: pd.DataFrame) -> None:
    st.markdown(f"**{ind.name.get(lang)}**: {ind.definition.get(lang)}")
    parts = []
    if ind.sdg:
        goal, _, rest = ind.sdg.partition(".")
        target = f"{goal}.{rest.split('.')[0]}" if rest else goal
        parts.append(tr("ind.sdg", sdg=ind.sdg, url=SDG_URL.format(goal=goal, target=target)))
    if ind.target is not None:
        parts.append(tr("ind.target", target=format_percent(ind.target, lang, 0)))
    if parts:
        st.markdown(" · ".join(parts))
    if ind.notes:
        st.caption(tr("ind.method", notes=ind.notes))
    sources = table[["source", "edition", "dataset_id"]].drop_duplicates()
    if not sources.empty:
        st.caption(tr("ind.sources", sources="; ".join(
            tr("ind.source_item", source=plain(r.source), edition=plain(r.edition or "–"), id=r.dataset_id)
            for r in sources.itertuples())))


def fine_ages(present: set[str]) -> list[str]:
    """The finest non-overlapping age groups present (five-year groups, and 75+ when it closes them)."""
    table = codes.codelist("age")
    fine = [c for c in table["code"] if c in present and table.at[c, "kind"] == "5y"]
    if "Y_GE75" in present and not any(c in present for c in ("Y75T79", "Y80T84")):
        fine.append("Y_GE75")
    return fine


def broad_ages(present: set[str]) -> list[str]:
    table = codes.codelist("age")
    return [c for c in table["code"] if c in present and table.at[c, "kind"] == "broad" and c != "Y_GE75"]


def _fmt(value: float, unit: str, lang: str) -> str:
    if unit in ("percent", "percent_per_year"):
        return format_percent(value, lang, 1)
    return format_number(value, lang, 1 if unit in ("years", "per_1000", "per_100000") else 0)


def label(dim: str, code: str, lang: str) -> str:
    if dim == "counterpart_area":
        return tr("ind.total") if code == T else codes.area_name(code, lang)
    listname = {"sex": "sex", "age": "age", "migrant_status": "migrant_status"}[dim]
    return codes.label(listname, code, lang)


def one_frequency(part: pd.DataFrame, over_time: bool) -> pd.DataFrame:
    """Never years and months on one axis: over time, the monthly or quarterly values when there are
    any (their annual values stay in the table); for a single period, the latest year."""
    sub = part["time_period"].astype(str).str.len() > 4
    if not sub.any() or sub.all():
        return part
    return part.loc[sub] if over_time else part.loc[~sub]


def chart(table: pd.DataFrame, ind: Indicator, lang: str, migrant_status: str = T, broad: bool = False) -> go.Figure:
    """By age (bars, latest year) when ages are given, else over time (lines); sexes as colours;
    95% confidence intervals as error bars; U values hatched, Q values drawn as a marked gap.
    Five-year groups, or the broad groups when ``broad`` (never both on one axis)."""
    part = table.loc[table["migrant_status"] == migrant_status]
    if "counterpart_area" in ind.disaggregations and (part["counterpart_area"] != T).any():
        part = part.loc[(part["sex"] == T) & (part["age"] == T)]
    fig = go.Figure()
    present = set(part["age"])
    ages = broad_ages(present) if broad else fine_ages(present)
    by_age = len(ages) > 1
    by_counterpart = "counterpart_area" in ind.disaggregations and (part["counterpart_area"] != T).any()
    part = one_frequency(part, over_time=not (by_age or by_counterpart))
    if by_age or by_counterpart:
        latest = part["time_period"].max()
        part = part.loc[part["time_period"] == latest]
    if by_counterpart:
        part = part.loc[part["counterpart_area"] != T].nlargest(15, "value")
        x_dim, x_order = "counterpart_area", list(part["counterpart_area"])
    elif by_age:
        part = part.loc[part["age"].isin(ages)]
        x_dim, x_order = "age", ages
    else:
        part = part.loc[part["age"] == T]
        x_dim, x_order = "time_period", sorted(part["time_period"].unique())
    for sex in ("_T", "F", "M"):
        rows = part.loc[part["sex"] == sex].set_index(x_dim).reindex(x_order).dropna(subset=["indicator"])
        if rows.empty:
            continue
        x = [label(x_dim, c, lang) if x_dim != "time_period" else c for c in rows.index]
        status = rows["obs_status"].fillna("A")
        err = None
        if rows["se"].notna().any():
            err = {"type": "data", "symmetric": False, "array": (rows["ci_upper"] - rows["value"]).tolist(),
                   "arrayminus": (rows["value"] - rows["ci_lower"]).tolist(), "visible": True}
        text = [tr("ind.flag.q") if s == "Q" else tr("ind.flag.u") if s == "U" else "" for s in status]
        common = {"name": label("sex", sex, lang), "x": x, "y": rows["value"].fillna(0).tolist(), "error_y": err,
                  "text": text, "hovertext": [f"{_fmt(v, ind.unit, lang)} ({s})" for v, s in zip(
                      rows["value"], status, strict=True)], "hoverinfo": "text+name"}
        if x_dim == "time_period":
            fig.add_trace(go.Scatter(mode="lines+markers+text", textposition="top center",
                                     line={"color": SERIES_COLOURS[sex], "width": 3 if sex == T else 2}, **common))
        else:
            fig.add_trace(go.Bar(marker={"color": SERIES_COLOURS[sex], "pattern": {
                "shape": ["/" if s == "U" else "x" if s == "Q" else "" for s in status]}},
                textposition="outside", **common))
    if ind.target is not None:
        fig.add_hline(y=ind.target, line_dash="dash", annotation_text=tr("ind.target_line"))
    fig.update_layout(barmode="group", height=380, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": -0.25}, separators=plotly_separators(lang),
                      yaxis_title=tr(UNIT_KEYS[ind.unit]))
    fig.update_xaxes(type="category")
    return fig


def display_table(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The output table with labels and translated column names (codes kept in the downloads),
    newest period first, ages in code-list order."""
    age_order = {c: i for i, c in enumerate(codes.codelist("age")["code"])}
    sex_order = {T: 0, "F": 1, "M": 2}
    table = table.assign(_a=table["age"].map(age_order), _s=table["sex"].map(sex_order)).sort_values(
        ["time_period", "migrant_status", "counterpart_area", "_s", "_a"], ascending=[False, True, True, True, True])
    decimals = 0 if table["unit"].isin(["persons", "usd"]).all() else 3
    out = pd.DataFrame({
        tr("ind.col.time_period"): table["time_period"],
        tr("ind.col.sex"): [label("sex", c, lang) for c in table["sex"]],
        tr("ind.col.age"): [label("age", c, lang) for c in table["age"]],
        tr("ind.col.migrant_status"): [label("migrant_status", c, lang) for c in table["migrant_status"]],
        tr("ind.col.counterpart_area"): [label("counterpart_area", c, lang) for c in table["counterpart_area"]],
        tr("ind.col.value"): table["value"].round(decimals),
        tr("ind.col.ci_lower"): table["ci_lower"].round(decimals),
        tr("ind.col.ci_upper"): table["ci_upper"].round(decimals),
        tr("ind.col.cv"): table["cv"].round(1),
        tr("ind.col.n_obs"): table["n_obs"],
        tr("ind.col.obs_status"): [codes.label("obs_status", c, lang) for c in table["obs_status"]],
        tr("ind.col.design"): [tr(f"ind.design.{d}") if isinstance(d, str) else "–" for d in table["design"]],
        tr("ind.col.source"): table["source"] + ", " + table["edition"].fillna(""),
        tr("ind.col.note"): [note_text(n, lang) for n in table["note"]],
    })
    if not out[tr("ind.col.note")].astype(bool).any():  # every value as published
        out = out.drop(columns=[tr("ind.col.note")])
    if table["n_obs"].isna().all():  # tables, not a survey: no uncertainty columns to show
        out = out.drop(columns=[tr(f"ind.col.{c}") for c in ("ci_lower", "ci_upper", "cv", "n_obs", "design")])
    return out


def design_warnings(table: pd.DataFrame, lang: str) -> None:
    """What a survey without strata or PSUs means for the standard errors shown (one note per design)."""
    for note in design_notes(table, lang):
        st.warning(note, icon=":material/warning:")


def downloads(table: pd.DataFrame, indicator: str, country: str, lang: str = "en") -> None:
    """CSV (zip with its data package), JSON (a data package), SDMX-CSV 1.0 and 2.0 (zips with the structure
    message) and the SDMX structure on its own, each labelled. Each file is built when its button is
    clicked (a callable: the page is not slowed down by four exports at every rerun)."""
    from mmicd.sdmx import structure_message
    from mmicd.ui import store

    versions = versions_of(store(), table)
    stem = f"{indicator}_{country}"
    columns = st.columns(len(DOWNLOADS) + 1)
    for column, (key, fmt, suffix, mime) in zip(columns, DOWNLOADS, strict=False):
        column.download_button(tr(f"sdmx.download.{key}"), lambda fmt=fmt: export(table, fmt, lang, versions),
                               file_name=stem + suffix, mime=mime, key=f"ind_dl_{key}", width="stretch")
    columns[-1].download_button(tr("sdmx.download.structure"), structure_message, file_name="mmicd_sdmx_structure.xml",
                                mime="application/xml", key="ind_dl_structure", width="stretch")
    st.caption(tr("sdmx.download.help"))


def issues(found: list[dict]) -> None:
    if not found:
        return
    with st.expander(tr("ind.issues", n=len(found))):
        st.dataframe(pd.DataFrame(found)[["level", "file", "column", "message"]], hide_index=True, width="stretch")
