"""The local profile: one subdivision (province, district) of a country beside the national figures.

:func:`local_table` computes every indicator of :data:`INDICATORS` for the country and its
subdivisions (:func:`mmicd.engine.local.compute_local`: subdivisions where data exist, the country
from its own figures or aggregated from its subdivisions); the functions below pick what each
section shows. Nothing is computed where no data exist: each section says so plainly.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mmicd import codes
from mmicd import subdivisions as sub
from mmicd.engine import catalogue
from mmicd.engine.local import compute_local, read_local_inputs
from mmicd.i18n import format_number, format_value, t
from mmicd.safe_export import to_csv
from mmicd.store import Store
from mmicd.ui import _store

KEY = ["pop_total", "imm_stock", "imm_share", "imm_female_share", "returned_migrants", "lfpr", "unemp_rate"]
MOVEMENTS = ["emigrants", "workers_deployed", "returned_migrants"]
INDICATORS = tuple(dict.fromkeys([*KEY, *MOVEMENTS]))
T = codes.TOTAL
TOTAL_CELL = {"sex": T, "age": T, "migrant_status": T, "counterpart_area": T}


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _table(url: str, published: tuple[int, ...], country: str) -> pd.DataFrame:
    inputs = read_local_inputs(_store(url), country)
    return compute_local(inputs.own, inputs.microdata, country=country, indicators=list(INDICATORS)).table


def local_table(s: Store, country: str) -> pd.DataFrame:
    """Every indicator of the country and its subdivisions (cached by the published versions)."""
    return _table(s.url, s.published_ids(), country)


def areas_with_data(table: pd.DataFrame, country: str) -> list[str]:
    present = set(table["ref_area"])
    return [c for c in sub.of_country(country)["code"] if c in present]


def _cell(table: pd.DataFrame, **cell) -> pd.DataFrame:
    mask = pd.Series(True, index=table.index)
    for col, value in cell.items():
        mask &= table[col] == value
    return table.loc[mask]


def headline(table: pd.DataFrame, indicator: str, area: str, dataset: str | None = None) -> pd.Series | None:
    """The latest total of ``indicator`` for ``area`` (from version ``dataset`` when given and it has one)."""
    rows = _cell(table, indicator=indicator, ref_area=area, **TOTAL_CELL)
    rows = rows.loc[rows["value"].notna()]
    if dataset is not None and (rows["dataset_id"] == dataset).any():
        rows = rows.loc[rows["dataset_id"] == dataset]
    if rows.empty:
        return None
    return rows.sort_values(["time_period", "dataset_id"]).iloc[-1]


def _shown(row: pd.Series | None, unit: str, lang: str) -> str:
    if row is None:
        return t("local.no_value", lang)
    text = format_value(row["value"], unit, lang)
    if pd.notna(row["ci_lower"]) and pd.notna(row["ci_upper"]):
        text += " " + t("local.ci", lang, low=format_value(row["ci_lower"], unit, lang),
                        high=format_value(row["ci_upper"], unit, lang))
    return text


def key_figures(table: pd.DataFrame, area: str, country: str, lang: str) -> pd.DataFrame:
    """One row per key indicator with data for the area: the area's figure and the national one
    (same dataset version when it has one), year, source and note."""
    defs = catalogue()
    rows = []
    for ind in KEY:
        local = headline(table, ind, area)
        if local is None:
            continue
        nat = headline(table, ind, country, dataset=local["dataset_id"])
        unit = defs[ind].unit
        rows.append({
            t("local.col.indicator", lang): defs[ind].name.get(lang) or defs[ind].name["en"],
            t("local.col.area", lang, area=sub.subdivision_name(area, lang)): _shown(local, unit, lang),
            t("local.col.national", lang, area=codes.area_name(country, lang)): _shown(nat, unit, lang),
            t("local.col.year", lang): str(local["time_period"]),
            t("local.col.source", lang): f"{local['source']} ({local['edition']})" if local["edition"] else local["source"],
            t("local.col.note", lang): _note(nat, lang),
        })
    return pd.DataFrame(rows)


def _note(national: pd.Series | None, lang: str) -> str:
    if national is None:
        return ""
    note = str(national["note"] or "")
    return t("local.aggregated", lang) if "aggregated from" in note else ""


def by_sex_and_age(table: pd.DataFrame, area: str, country: str, lang: str) -> pd.DataFrame:
    """Migrants by sex and five-year age group: the area's count and share of its migrants, and the
    national share, for the latest year the area has."""
    rows = _cell(table, indicator="imm_stock", ref_area=area, migrant_status=T, counterpart_area=T)
    rows = rows.loc[rows["value"].notna() & rows["sex"].isin(["F", "M"])]
    if rows.empty:
        return pd.DataFrame()
    year, dataset = rows["time_period"].max(), rows["dataset_id"].iloc[0]
    ages = [a for a in codes.codelist("age").query("kind == '5y'")["code"]]
    out = []
    for where in (area, country):
        got = _cell(table, indicator="imm_stock", ref_area=where, migrant_status=T, counterpart_area=T,
                    time_period=year, dataset_id=dataset)
        got = got.loc[got["sex"].isin(["F", "M"]) & got["age"].isin(ages)].set_index(["sex", "age"])["value"]
        out.append(got / got.sum() * 100 if got.sum() else got)
        if where == area:
            counts = got
    frame = pd.DataFrame({"count": counts, "share": out[0], "national": out[1]}).reset_index()
    frame = frame.loc[frame["count"].fillna(0) > 0]
    age_rank = {a: i for i, a in enumerate(ages)}
    frame = frame.sort_values(["sex", "age"], key=lambda s: s.map(age_rank) if s.name == "age" else s)
    return pd.DataFrame({
        t("local.col.sex", lang): frame["sex"].map(lambda c: codes.label("sex", c, lang)),
        t("local.col.age", lang): frame["age"].map(lambda c: codes.label("age", c, lang)),
        t("local.col.migrants", lang): frame["count"].map(lambda v: format_number(v, lang)),
        t("local.col.share_area", lang): frame["share"].map(lambda v: format_value(v, "percent", lang)),
        t("local.col.share_national", lang): frame["national"].map(lambda v: format_value(v, "percent", lang)),
    })


def origins(table: pd.DataFrame, area: str, country: str, lang: str, top: int = 10) -> pd.DataFrame:
    """Migrants by country of birth (the first ``top``): count and share in the area and the nation."""
    rows = _cell(table, indicator="imm_stock", ref_area=area, sex=T, age=T, migrant_status=T)
    rows = rows.loc[rows["value"].notna() & (rows["counterpart_area"] != T)]
    if rows.empty:
        return pd.DataFrame()
    year, dataset = rows["time_period"].max(), rows["dataset_id"].iloc[0]
    rows = rows.loc[rows["time_period"] == year].set_index("counterpart_area")["value"]
    nat = _cell(table, indicator="imm_stock", ref_area=country, sex=T, age=T, migrant_status=T, time_period=year,
                dataset_id=dataset)
    nat = nat.loc[nat["counterpart_area"] != T].set_index("counterpart_area")["value"]
    shown = rows.sort_values(ascending=False).head(top)
    return pd.DataFrame({
        t("local.col.origin", lang): [codes.area_name(c, lang) for c in shown.index],
        t("local.col.migrants", lang): [format_number(v, lang) for v in shown],
        t("local.col.share_area", lang): [format_value(v / rows.sum() * 100, "percent", lang) for v in shown],
        t("local.col.share_national", lang): [format_value(nat.get(c, float("nan")) / nat.sum() * 100, "percent", lang)
                                              if nat.sum() else "–" for c in shown.index],
    })


def movements(table: pd.DataFrame, area: str, country: str, lang: str) -> pd.DataFrame:
    """Emigrants, workers deployed abroad and returned migrants by year, where data exist: the
    area, the nation (same dataset version) and the area's share of the national figure."""
    defs = catalogue()
    out = []
    for ind in MOVEMENTS:
        rows = _cell(table, indicator=ind, ref_area=area, **TOTAL_CELL)
        for r in rows.loc[rows["value"].notna()].sort_values("time_period").itertuples(index=False):
            nat = _cell(table, indicator=ind, ref_area=country, time_period=r.time_period, dataset_id=r.dataset_id,
                        **TOTAL_CELL)["value"]
            national = float(nat.iloc[0]) if len(nat) else float("nan")
            out.append({
                t("local.col.indicator", lang): defs[ind].name.get(lang) or defs[ind].name["en"],
                t("local.col.year", lang): r.time_period,
                t("local.col.area", lang, area=sub.subdivision_name(area, lang)): format_number(r.value, lang),
                t("local.col.national", lang, area=codes.area_name(country, lang)): format_number(national, lang),
                t("local.col.share_of_national", lang): format_value(r.value / national * 100, "percent", lang)
                if national else "–"})
    return pd.DataFrame(out)


def download_rows(table: pd.DataFrame, area: str, country: str) -> pd.DataFrame:
    """Every figure of the area and of the nation (codes, values, intervals, sources, notes)."""
    keep = ["indicator", "ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area", "value",
            "unit", "obs_status", "se", "ci_lower", "ci_upper", "n_obs", "source", "edition", "note"]
    return table.loc[table["ref_area"].isin([area, country]), keep].reset_index(drop=True)


def synthetic(table: pd.DataFrame, area: str) -> bool:
    """Whether any figure of the area comes from synthetic (demo) data."""
    return table.loc[table["ref_area"] == area, "source"].astype(str).str.contains("synthetic", case=False).any()


# ---- rendering -----------------------------------------------------------------------------------------
def section(title: str, frame: pd.DataFrame, empty: str) -> None:
    st.subheader(title)
    if frame.empty:
        st.info(empty)
    else:
        # every column at least medium: a value with its interval ("9,4 % (IC à 95 % 8,1 % – 10,7 %)")
        # must show whole under a short header such as the area's name
        st.dataframe(frame, hide_index=True, width="stretch",
                     column_config={c: st.column_config.Column(width="medium") for c in frame.columns})


def download(table: pd.DataFrame, area: str, country: str, lang: str) -> None:
    rows = download_rows(table, area, country)
    st.download_button(t("local.download", lang), data=to_csv(rows).encode("utf-8-sig"),
                       file_name=f"mmicd-local-{area}.csv", mime="text/csv", key="local_download",
                       disabled=rows.empty)


def brief_and_exports(s: Store, table: pd.DataFrame, area: str, country: str, lang: str) -> None:
    """The subdivision's brief in the four formats of the country brief (:mod:`mmicd.profile.local`), and its
    indicator data as CSV and JSON data packages and SDMX-CSV 1.0/2.0 (:func:`mmicd.ui.indicators.downloads`),
    REF_AREA the subdivision's ISO 3166-2 code (the national figures are in the CSV above and the country's
    own exports)."""
    from mmicd.profile.local import local_profile
    from mmicd.ui.components import plain
    from mmicd.ui.indicators import downloads
    from mmicd.ui.profile import download as brief_download

    name = sub.subdivision_name(area, lang)
    versions = {v.id: v for v in s.datasets()}
    brief_download(local_profile(table, area, lang, versions), key="local_brief",
                   title=t("localbrief.download.title", lang, area=name))
    with st.container(border=True):
        st.markdown(f"**{plain(t('localbrief.exports.title', lang, area=name))}**")
        st.caption(t("localbrief.exports.help", lang))
        downloads(table.loc[table["ref_area"] == area].reset_index(drop=True), "indicators", area, lang)


def code_list_form(s: Store, user, country: str, lang: str) -> None:
    """For a user who may upload data of ``country`` (its office): upload the office's own subdivision codes (extend or replace the
    ISO 3166-2 list), stored as a new version, audited; the versions so far."""
    from mmicd import subdivision_lists as lists
    from mmicd.auth import Action, can, require
    from mmicd.issues import IssuesError
    from mmicd.ui.components import plain

    if not can(user, Action.UPLOAD, country):
        return
    with st.expander(t("local.codes.title", lang, country=codes.area_name(country, lang))):
        st.caption(t("local.codes.help", lang))
        file = st.file_uploader(t("local.codes.file", lang), type=["csv", "xlsx"], key="local_codes_file")
        mode = st.radio(t("local.codes.mode", lang), lists.MODES, key="local_codes_mode", horizontal=True,
                        format_func=lambda m: t(f"local.codes.mode.{m}", lang))
        note = st.text_input(t("local.codes.note", lang), key="local_codes_note")
        if st.button(t("local.codes.save", lang), key="local_codes_save", disabled=file is None):
            require(user, Action.UPLOAD, country)
            data = file.getvalue()
            try:
                rows = lists.read(file.name, data, country, mode, lang=lang)
            except IssuesError as err:
                for issue in err.issues:
                    st.error(plain(issue.message))
            else:
                version = lists.save(s, country, rows, mode, actor=user.username, file_name=file.name, data=data,
                                     note=note)
                st.success(t("local.codes.saved", lang, version=version, n=len(rows)))
        versions = lists.versions(s, country)
        if not versions.empty:
            st.dataframe(versions[["version", "mode", "file_name", "loaded_by", "created_at", "note"]],
                         hide_index=True, width="stretch")
