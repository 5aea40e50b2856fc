"""Streamlit renderers of the migration profile and the country summaries.

Data are cached by the ids of the published versions they read (never by hashing frames): switching country
reads only that country's observations from the database; survey microdata files are read once per
dataset version.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mmicd import codes
from mmicd.engine import read_inputs
from mmicd.i18n import format_value
from mmicd.profile import charts, tables
from mmicd.profile.assemble import Inputs, build_profile, world_remittances
from mmicd.profile.model import Block, CountryProfile, Figure, SourceRef
from mmicd.profile.movements import SECTION_IDS
from mmicd.profile.summary import comparison, summary_rows
from mmicd.store import Store
from mmicd.ui import _store, covering_ids, current_lang, tr
from mmicd.ui.components import plain

FORMATS = ("pdf", "xlsx", "html", "json")


# ---- cached data ---------------------------------------------------------------------------
@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _microdata(url: str, dataset_id: int) -> pd.DataFrame:
    """Person records of one microdata version: the Parquet file is read once per version."""
    return _store(url).microdata(dataset_id)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _world_ids(url: str, published: tuple[int, ...]) -> tuple[int, ...]:
    """Published international remittance series (scope ``_ALL``): the region and world comparison."""
    return tuple(v.id for v in _store(url).datasets(status="published")
                 if v.id in published and v.kind.value == "remittances" and v.scope == "_ALL")


@st.cache_data(ttl=3600, max_entries=4, show_spinner=False)
def _rem_world(url: str, world: tuple[int, ...]) -> pd.DataFrame:
    s = _store(url)
    return world_remittances(s, {v.id: v for v in s.datasets(status="published") if v.id in world})


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _profile(url: str, covering: tuple[int, ...], world: tuple[int, ...], country: str, year: str | None,
             lang: str) -> CountryProfile:
    """Keyed by the versions holding the country (and the world remittance series), so an upload
    for another country leaves this profile cached."""
    s = _store(url)
    versions = {v.id: v for v in s.datasets(status="published") if v.id in covering or v.id in world}
    inp = read_inputs(s, country, dataset_ids=covering, microdata_reader=lambda i: _microdata(url, i))
    return build_profile(Inputs(inp.own, inp.abroad, versions, inp.microdata, _rem_world(url, world)), country,
                         year, lang)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _aggregates(url: str, published: tuple[int, ...], areas: tuple[str, ...]) -> pd.DataFrame:
    return _store(url).observations(dataset_ids=published, kinds=["migrant_stock"], ref_areas=list(areas))


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def _memo(country: str, year: str | None, lang: str, dataset_ids: tuple[int, ...], generated_at: str) -> dict:
    """Figures and display tables of one profile, built once and reused by every rerun."""
    return {}


def memo(profile: CountryProfile, key: tuple, build):
    store = _memo(profile.country, profile.year, profile.lang, tuple(profile.dataset_ids), profile.generated_at)
    if key not in store:
        store[key] = build()
    return store[key]


def country_profile(s: Store, country: str, year: str | None, lang: str) -> CountryProfile:
    return _profile(s.url, covering_ids(s, country), _world_ids(s.url, s.published_ids()), country, year, lang)


def country_comparison(s: Store, profile: CountryProfile) -> Block:
    areas = tuple(a for a in (profile.region, profile.income_group, "WLD") if a)
    published = s.published_ids()
    return comparison(profile, _aggregates(s.url, published, areas), _rem_world(s.url, _world_ids(s.url, published)))


# ---- small renderers -----------------------------------------------------------------------
def sources_line(sources: list[SourceRef]) -> str:
    """The sources of a block for Markdown (source names and editions are user text)."""
    return plain(tables.sources_text(sources, current_lang()))


def display_frame(block: Block, lang: str) -> pd.DataFrame:
    """The block's rows with labels instead of codes and translated column names."""
    return tables.display(block, lang)


def block(profile: CountryProfile, b: Block, build=None, key: str = "", variant: str = "") -> None:
    """A block: title, chart (or a translated empty state), sources and notes, data table one click away.

    ``build()`` makes the plotly figure; figures and tables are memoised per profile."""
    lang = profile.lang
    st.markdown(f"**{plain(b.title)}**")
    if b.empty:
        st.info(plain(b.empty_message))
        return
    for warning in b.warnings:
        st.warning(warning, icon=":material/warning:")  # design notes: translations and period codes
    if build is not None:
        figure = memo(profile, ("figure", b.id, variant), build)
        st.plotly_chart(figure, key=key or f"chart_{b.id}", width="stretch", config=charts.PLOTLY_CONFIG)
    line = sources_line(b.sources)
    st.caption("  \n".join([x for x in (line, *map(plain, b.notes)) if x]))
    with st.expander(tr("table.show")):
        st.dataframe(memo(profile, ("table", b.id), lambda: display_frame(b, lang)), width="stretch",
                     hide_index=True)


def figure_card(f: Figure, lang: str) -> None:
    label = f.title if not f.year else f"{f.title} ({f.year})"
    if not f.available:
        st.metric(f.title, "–", help=tr("figure.no_data"), border=True)
        return
    delta = None
    if f.change is not None:
        change = format_value(f.change, "points" if f.unit in ("percent", "points") else f.unit, lang)
        delta = tr("delta.since", change=("+" if f.change > 0 else "") + change, year=f.previous_year)
    help_text = "\n\n".join(x for x in (
        f.definition or (tr(f"figure.{f.id}.help") if f.id != "lm_gap" else tr("profile.figure.lm_gap.help")),
        tr("profile.choice.national_badge") if f.national else tr("profile.choice.international"),
        plain(f.choice_note) if f.choice_note else "", sources_line(f.sources)) if x)
    spark = [r["value"] for r in sorted(f.trend, key=lambda r: r["time_period"])
             if r.get("series") == "_T" and r.get("value") is not None]
    st.metric(label, format_value(f.value, f.unit, lang), delta=delta, delta_color="off", help=help_text, border=True,
              chart_data=spark if len(spark) > 1 else None, chart_type="line")


def key_figures(profile: CountryProfile) -> None:
    figs = profile.key_figures
    for start in range(0, len(figs), 3):
        for column, f in zip(st.columns(3), figs[start:start + 3], strict=False):
            with column:
                figure_card(f, profile.lang)
    notes = [plain(f"{f.title}: {f.choice_note}") for f in figs if f.choice_note]
    if notes:
        st.caption("  \n".join(notes))


def download(profile: CountryProfile, key: str, title: str | None = None) -> None:
    """Choose a format, prepare the brief with visible progress, then download it."""
    from mmicd.profile import brief

    with st.container(border=True):
        st.markdown(f"**{plain(title or tr('profile.download.title'))}**")
        left, right = st.columns([1, 2])
        fmt_choice = left.selectbox(tr("profile.download.format"), FORMATS, key=f"{key}_format",
                                    format_func=str.upper)
        name = brief.file_name(profile, fmt_choice)
        cache_key = f"_brief_{key}_{profile.country}_{profile.year}_{profile.lang}_{fmt_choice}"
        if right.button(tr("profile.download.prepare"), key=f"{key}_prepare"):
            with st.status(tr("profile.download.preparing", format=fmt_choice.upper()), expanded=True) as status:
                bar = st.progress(0.0)

                def progress(done: float, step: str) -> None:
                    bar.progress(min(done, 1.0), text=tr(f"profile.download.step.{step}"))

                try:
                    st.session_state[cache_key] = brief.render(profile, fmt_choice, progress=progress)
                    status.update(label=tr("profile.download.ready"), state="complete", expanded=False)
                except Exception as exc:  # a user never sees a traceback
                    status.update(label=tr("profile.download.error", message=str(exc)), state="error")
        data = st.session_state.get(cache_key)
        if data:
            right.download_button(tr("profile.download.button", file=name), data=data, file_name=name,
                                  mime=brief.MIME[fmt_choice], key=f"{key}_download")


# ---- page sections -------------------------------------------------------------------------
def sections(profile: CountryProfile) -> None:
    lang, country = profile.lang, profile.country
    imm, emi, rem, lab, qua = (profile.section(s) for s in
                               ("immigration", "emigration", "remittances", "labour", "quality"))

    st.header(imm.title)
    _side_by_side(profile, (imm.block("imm_stock_trend"), charts.trend), (imm.block("imm_share_trend"), charts.trend))
    b = imm.block("pyramid")
    block(profile, b, lambda b=b: charts.pyramid(b, lang))
    _bar_and_map(profile, imm.block("origins"), "profile.block.origins_map", lines=False)

    st.header(emi.title)
    _bar_and_map(profile, emi.block("destinations"), "profile.block.destinations_map", lines=False)
    _side_by_side(profile, (emi.block("emig_trend"), charts.trend), (emi.block("rem_per_emigrant"), charts.lines))

    st.header(rem.title)
    _side_by_side(profile, (rem.block("rem_trend"), charts.rem_trend),
                  (rem.block("rem_gdp"), lambda b, lang: charts.rem_gdp(b, lang, country)))
    _bar_and_map(profile, rem.block("corridors"), "profile.block.corridors_map", lines=True)
    b = rem.block("cost")
    block(profile, b, lambda b=b: charts.cost(b, lang))

    st.header(lab.title)
    b = lab.block("labour")
    if b.empty:
        block(profile, b)
    else:
        ages = sorted(dict.fromkeys(r["age"] for r in b.rows),
                      key=lambda a: (a != "_T", codes.age_bounds(a)[0] or 0, codes.age_bounds(a)[1] or 999))
        age = st.selectbox(tr("profile.filter.labour_age"), ages, key="profile_labour_age",
                           format_func=lambda a: codes.label("age", a, lang) if a != "_T" else
                           codes.label("age", "Y_GE15", lang))
        block(profile, b, lambda: charts.labour(b, lang, age), variant=age)

    for sec in profile.sections:
        if sec.id in SECTION_IDS:
            _movement_section(profile, sec)

    st.header(qua.title)
    for b in qua.blocks:  # tables are the content here: shown directly
        st.markdown(f"**{plain(b.title)}**")
        if b.empty:
            st.info(plain(b.empty_message))
            continue
        st.dataframe(memo(profile, ("table", b.id), lambda b=b: display_frame(b, lang)), width="stretch",
                     hide_index=True)
        st.caption("  \n".join(x for x in (sources_line(b.sources), *map(plain, b.notes)) if x))


def _movement_section(profile: CountryProfile, sec) -> None:
    """Flows, refugees, returns, labour migration, border: a section with no data at all is one
    line naming its template; otherwise its blocks with data, two by two."""
    st.header(sec.title)
    if all(b.empty for b in sec.blocks):
        st.info(sec.blocks[0].empty_message)
        return
    shown = [(b, charts.lines if b.chart == "lines" else charts.top_bar) for b in sec.blocks if not b.empty]
    for start in range(0, len(shown), 2):
        _side_by_side(profile, *shown[start:start + 2])


def _side_by_side(profile: CountryProfile, *pairs) -> None:
    """Blocks in two columns, each drawn by its ``draw(block, lang)``."""
    for column, (b, draw) in zip(st.columns(2), pairs, strict=False):
        with column:
            block(profile, b, lambda b=b, draw=draw: draw(b, profile.lang))


def _bar_and_map(profile: CountryProfile, b: Block, map_title: str, lines: bool) -> None:
    lang, country = profile.lang, profile.country
    left, right = st.columns(2)
    with left:
        block(profile, b, lambda: charts.top_bar(b, lang), key=f"bar_{b.id}")
    with right:
        if b.empty:
            return
        st.markdown(f"**{tr(map_title)}**")
        figure = memo(profile, ("map", b.id), lambda: charts.world_map(b, lang, country if lines else None))
        st.plotly_chart(figure, key=f"map_{b.id}", width="stretch", config=charts.PLOTLY_CONFIG)


def summary(s: Store, profile: CountryProfile, table: bool = True) -> None:
    """One country's summary: the key indicators as a table with sparklines, targets and readings
    (``table=False``: readings and comparison only, when a comparison table shows the values)."""
    rows = summary_rows(profile)
    lang = profile.lang
    if table:
        frame = pd.DataFrame({
            tr("summary.indicator"): [r.title for r in rows],
            tr("summary.latest"): [format_value(r.value, r.unit, lang) for r in rows],
            tr("summary.year"): [r.year or "–" for r in rows],
            tr("summary.trend"): [r.trend for r in rows],
            tr("summary.target"): [r.target or tr("summary.no_target") for r in rows],
        })
        st.dataframe(frame, hide_index=True, width="stretch", row_height=40, height=40 * (len(frame) + 1) + 4,
                     column_config={tr("summary.trend"): st.column_config.LineChartColumn(width="small"),
                                    tr("summary.target"): st.column_config.TextColumn(width="medium")})
    st.markdown("\n".join(f"- **{plain(r.title)}**: {plain(r.reading)}" for r in rows if r.reading))
    refs = list({r.dataset_id: r for row in rows for r in row.sources}.values())
    st.caption(sources_line(sorted(refs, key=lambda r: r.dataset_id)))
    comp = country_comparison(s, profile)
    st.markdown(f"**{comp.title}**")
    if comp.empty:
        st.info(comp.empty_message)
    else:
        table = pd.DataFrame({
            tr("summary.compare_area"): [r["name"] for r in comp.rows],
            tr("figure.imm_share"): [f"{format_value(r['imm_share'], 'percent', lang)} ({r['imm_share_year'] or '–'})"
                                     for r in comp.rows],
            tr("figure.rem_in_gdp"): [f"{format_value(r['rem_in_gdp'], 'percent', lang)} ({r['rem_in_gdp_year'] or '–'})"
                                      for r in comp.rows],
        })
        st.dataframe(table, hide_index=True, width="stretch")
        st.caption(plain(" ".join(comp.notes)))
