"""Assemble a country profile from published observations, microdata and dataset versions.

National uploads (dataset scope = the country) are preferred over the international baseline
(scope ``_ALL``) wherever both give a figure up to the chosen year; the other candidate is kept
beside it (``Figure.alternative``) and listed in the data-quality section when they disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.engine import Microdata, catalogue, compute_frames, read_inputs
from mmicd.engine.export import denominator_ids, design_notes
from mmicd.i18n import format_datetime, format_value, t
from mmicd.model import DatasetVersion
from mmicd.overview import FIGURE_IDS, KeyFigure, key_figures, upto_year
from mmicd.profile import movements, quality
from mmicd.profile.model import Alternative, Block, CountryProfile, Figure, Section, SourceRef
from mmicd.profile.regions import groups_of
from mmicd.profile.remittances import country_totals, group_ratio
from mmicd.profile.tables import top_by_sex

T = codes.TOTAL
TOP_N = 10
LABOUR_INDICATORS = ("lfpr", "emp_pop_ratio", "unemp_rate")
PROFILE_FIGURES = (*FIGURE_IDS, "lm_gap")
# figures of the movements sections shown in the key-figure row only where the country has data
OPTIONAL_FIGURES = ("immigrants", "emigrants", "refugees", "refugees_abroad", "refugees_per_100k_origin",
                    "workers_deployed")


@dataclass
class Inputs:
    """Everything a profile reads, all published: the country's observations (``own``), those where
    it is the counterpart (``abroad``: migrant stocks and refugees whose origin is the country, see
    :func:`mmicd.engine.read_inputs`), survey microdata of the country, the dataset
    versions, and remittances and GDP of every country (for the region and world comparison)."""

    own: pd.DataFrame
    abroad: pd.DataFrame
    versions: dict[int, DatasetVersion]
    microdata: list[Microdata] = field(default_factory=list)
    rem_world: pd.DataFrame | None = None


def inputs_from_store(store, country: str, *, microdata_reader=None, rem_world: pd.DataFrame | None = None) -> Inputs:
    """Read a country's published inputs from a store (``microdata_reader(id)`` may be a cache)."""
    inp = read_inputs(store, country, microdata_reader=microdata_reader)
    versions = inp.versions
    if rem_world is None:
        rem_world = world_remittances(store, versions)
    return Inputs(inp.own, inp.abroad, versions, inp.microdata, rem_world)


def world_remittances(store, versions: dict[int, DatasetVersion]) -> pd.DataFrame:
    """REM_IN and GDP of every area from the baseline remittance dataset(s)."""
    ids = [i for i, v in versions.items() if v.kind.value == "remittances" and v.scope == "_ALL"]
    if not ids:
        return pd.DataFrame(columns=["dataset_id", "measure", "ref_area", "time_period", "sex", "age",
                                     "counterpart_area", "value"])
    return store.observations(dataset_ids=ids, measures=["REM_IN", "GDP"])


def profile_from_store(store, country: str, year: str | None = None, lang: str = "en") -> CountryProfile:
    return build_profile(inputs_from_store(store, country), country, year, lang)


# ---- helpers -----------------------------------------------------------------------------
def _refs(ids, versions: dict[int, DatasetVersion], frame: pd.DataFrame | None = None) -> list[SourceRef]:
    out = []
    for i in sorted({int(x) for x in ids}):
        v = versions.get(i)
        if v is None:
            continue
        estimate = False
        if frame is not None and "obs_status" in frame.columns and not frame.empty:
            estimate = bool((frame.loc[frame["dataset_id"].astype(int) == i, "obs_status"] == "E").any())
        out.append(SourceRef(dataset_id=i, source=v.source, edition=v.edition, kind=v.kind.value,
                             national=v.scope != "_ALL", estimate=estimate or v.kind.value == "remittance_corridors"))
    return out


def _latest(frame: pd.DataFrame, year: str | None) -> pd.DataFrame:
    part = upto_year(frame, year)
    if part.empty:
        return part
    return part.loc[part["time_period"] == part["time_period"].max()]


def _national(frame: pd.DataFrame, versions: dict[int, DatasetVersion]) -> pd.Series:
    nat = {i for i, v in versions.items() if v.scope != "_ALL"}
    return frame["dataset_id"].astype(int).isin(nat)


def _figure(kf: KeyFigure, versions, lang: str, title: str) -> Figure:
    trend = kf.trend.to_dict("records") if not kf.trend.empty else []
    return Figure(id=kf.id, title=title, unit=kf.unit, value=kf.value, year=kf.year, previous=kf.previous,
                  previous_year=kf.previous_year, change=kf.change, by_sex=kf.by_sex, obs_status=kf.obs_status,
                  sources=_refs(kf.dataset_ids, versions), trend=trend,
                  national=any(versions[i].scope != "_ALL" for i in kf.dataset_ids if i in versions))


def _key_figures(inp: Inputs, year: str | None, lang: str) -> list[Figure]:
    own_nat = inp.own.loc[_national(inp.own, inp.versions)] if not inp.own.empty else inp.own
    own_base = inp.own.loc[~_national(inp.own, inp.versions)] if not inp.own.empty else inp.own
    abroad_nat = inp.abroad.loc[_national(inp.abroad, inp.versions)] if not inp.abroad.empty else inp.abroad
    abroad_base = inp.abroad.loc[~_national(inp.abroad, inp.versions)] if not inp.abroad.empty else inp.abroad
    optional = movements.available(OPTIONAL_FIGURES)
    ids = (*FIGURE_IDS, *optional)
    nat = key_figures(own_nat, abroad_nat, year, ids)
    base = key_figures(own_base, abroad_base, year, ids)
    defs = catalogue()
    out = []
    for fid in ids:
        a, b = nat[fid], base[fid]
        if fid in optional and not (a.available or b.available):
            continue   # a movements figure the country has no data for: not a card of dashes
        title = t(f"figure.{fid}", lang) if fid in FIGURE_IDS else defs[fid].name.get(lang)
        chosen, other = (a, b) if a.available else (b, a)
        fig = _figure(chosen, inp.versions, lang, title)
        if fid in optional:
            fig.definition = defs[fid].definition.get(lang)
        if other.available:
            fig.alternative = Alternative(value=other.value, year=other.year,
                                          sources=_refs(other.dataset_ids, inp.versions))
            if fig.national:
                src = fig.alternative.sources[0] if fig.alternative.sources else None
                fig.choice_note = t("profile.choice.national", lang, year=fig.year or "–",
                                    other=format_value(other.value, fig.unit, lang), other_year=other.year or "–",
                                    other_source=f"{src.source} {src.edition}" if src else "–")
        out.append(fig)
    return out


# ---- sections ----------------------------------------------------------------------------
def _immigration(inp: Inputs, figs: dict[str, Figure], year: str | None, lang: str) -> Section:
    blocks = []
    for fid, bid in (("imm_stock", "imm_stock_trend"), ("imm_share", "imm_share_trend")):
        fig = figs[fid]
        rows = [dict(r, origin="national" if fig.national else "international") for r in fig.trend]
        sources = list(fig.sources)
        if fig.alternative is not None:
            alt_ids = [s.dataset_id for s in fig.alternative.sources]
            alt_nat = any(s.national for s in fig.alternative.sources)
            other = _alt_trend(inp, fid, alt_ids, year)
            rows += [dict(r, origin="national" if alt_nat else "international") for r in other]
            sources += fig.alternative.sources
        blocks.append(Block(id=bid, title=t(f"profile.block.{bid}", lang), unit=fig.unit,
                            columns=["time_period", "series", "value", "origin"], rows=rows, sources=sources,
                            empty_message=t("profile.empty.immigration", lang)))
    blocks.append(_pyramid(inp, year, lang))
    blocks.append(_origins(inp, figs["imm_stock"], lang))
    return Section(id="immigration", title=t("profile.section.immigration", lang), blocks=blocks)


def _alt_trend(inp: Inputs, fid: str, ids: list[int], year: str | None) -> list[dict]:
    frame = inp.own.loc[inp.own["dataset_id"].astype(int).isin(ids)]
    kf = key_figures(frame, inp.abroad.iloc[0:0], year)[fid]
    return kf.trend.to_dict("records")


def _pyramid(inp: Inputs, year: str | None, lang: str) -> Block:
    own = inp.own
    rows = own.loc[(own["measure"] == "POP") & own["migrant_status"].isin(["MS_MIGRANT", "MS_NOMIGRANT"])
                   & own["sex"].isin(["F", "M"]) & (own["age"] != T) & (own["counterpart_area"] == T)
                   & (own["labour_status"] == T)] if not own.empty else own
    block = Block(id="pyramid", title=t("profile.block.pyramid", lang), unit="percent",
                  columns=["age", "sex", "migrant_status", "value", "pct"],
                  empty_message=t("profile.empty.pyramid", lang))
    rows = _latest(rows, year)
    if rows.empty:
        return block
    best = int(rows.groupby("dataset_id")["value"].size().idxmax())
    rows = rows.loc[rows["dataset_id"].astype(int) == best]
    bounds = {a: codes.age_bounds(a) for a in rows["age"].unique()}
    five = [a for a, (lo, hi) in bounds.items() if lo is not None and hi is not None and hi - lo == 4]
    opens = [a for a, (lo, hi) in bounds.items() if lo is not None and hi is None and lo > 0]
    if opens:
        five.append(max(opens, key=lambda a: bounds[a][0]))
    rows = rows.loc[rows["age"].isin(five)].copy()
    rows["lower"] = rows["age"].map(lambda a: bounds[a][0])
    totals = rows.groupby("migrant_status")["value"].transform("sum")
    rows["pct"] = np.where(totals > 0, rows["value"] / totals * 100, np.nan)
    rows = rows.sort_values(["migrant_status", "lower", "sex"])
    block.rows = rows[["age", "sex", "migrant_status", "value", "pct"]].to_dict("records")
    block.sources = _refs([best], inp.versions, rows)
    block.notes = [t("profile.note.pyramid", lang, year=str(rows["time_period"].iloc[0]))]
    return block


def _origins(inp: Inputs, fig: Figure, lang: str) -> Block:
    block = Block(id="origins", title=t("profile.block.origins", lang), unit="persons",
                  columns=["area", "name", "F", "M", "total"], empty_message=t("profile.empty.origins", lang))
    if not fig.available or inp.own.empty:
        return block
    ids = [s.dataset_id for s in fig.sources]
    own = inp.own
    rows = own.loc[own["dataset_id"].astype(int).isin(ids) & (own["measure"] == "POP")
                   & (own["migrant_status"] == "MS_MIGRANT") & (own["age"] == T) & (own["counterpart_area"] != T)
                   & (own["time_period"] == fig.year)]
    if rows.empty:
        return block
    block.rows = top_by_sex(rows, "counterpart_area", lang, TOP_N)
    block.sources = _refs(rows["dataset_id"].unique(), inp.versions, rows)
    block.notes = [t("profile.note.top", lang, n=TOP_N, year=fig.year)]
    return block


def _emigration(inp: Inputs, figs: dict[str, Figure], year: str | None, lang: str) -> Section:
    fig = figs["emig_stock"]
    trend = Block(id="emig_trend", title=t("profile.block.emig_trend", lang), unit="persons",
                  columns=["time_period", "series", "value"], rows=fig.trend, sources=fig.sources,
                  empty_message=t("profile.empty.emigration", lang))
    dest = Block(id="destinations", title=t("profile.block.destinations", lang), unit="persons",
                 columns=["area", "name", "F", "M", "total"], empty_message=t("profile.empty.emigration", lang))
    ab = inp.abroad
    if fig.available and not ab.empty:
        ids = [s.dataset_id for s in fig.sources]
        rows = ab.loc[ab["dataset_id"].astype(int).isin(ids) & (ab["measure"] == "POP")
                      & (ab["migrant_status"] == "MS_MIGRANT") & (ab["age"] == T) & (ab["time_period"] == fig.year)
                      & ab["ref_area"].map(codes.is_country)]
        if not rows.empty:
            dest.rows = top_by_sex(rows, "ref_area", lang, TOP_N)
            dest.sources = _refs(rows["dataset_id"].unique(), inp.versions, rows)
            dest.notes = [t("profile.note.top", lang, n=TOP_N, year=fig.year)]
            if any(s.estimate for s in dest.sources):
                dest.notes.append(t("profile.note.estimate", lang))
    return Section(id="emigration", title=t("profile.section.emigration", lang),
                   blocks=[dest, trend, _rem_per_emigrant(figs, year, lang)])


def _rem_per_emigrant(figs: dict[str, Figure], year: str | None, lang: str) -> Block:
    """Remittances received per emigrant living abroad, in the years both figures' series give (each
    series from its own chosen source; the note names both, the ratio is never carried to another year)."""
    rem, emig = figs["rem_in_usd"], figs["emig_stock"]
    block = Block(id="rem_per_emigrant", title=t("profile.block.rem_per_emigrant", lang), unit="usd",
                  chart="lines", columns=["time_period", "series", "value", "numerator", "denominator"],
                  empty_message=t("profile.empty.rem_per_emigrant", lang))

    def totals(fig: Figure) -> dict[str, float]:
        return {str(r["time_period"]): float(r["value"]) for r in fig.trend
                if r.get("series") == T and r.get("value") is not None
                and (year is None or str(r["time_period"])[:4] <= str(year))}

    num, den = totals(rem), totals(emig)
    years = sorted(y for y in num.keys() & den.keys() if den[y] > 0)
    if not years:
        return block
    block.rows = [{"time_period": y, "series": "rem_per_emigrant", "value": num[y] / den[y], "numerator": num[y],
                   "denominator": den[y]} for y in years]
    block.sources = list({s.dataset_id: s for s in (*rem.sources, *emig.sources)}.values())
    block.notes = [t("profile.note.rem_per_emigrant", lang, years=", ".join(years))]
    return block


def _remittances(inp: Inputs, year: str | None, lang: str, country: str) -> Section:
    own = inp.own
    rem = own.loc[(own["kind"] == "remittances") & (own["sex"] == T) & (own["counterpart_area"] == T)] \
        if not own.empty else own
    trend = Block(id="rem_trend", title=t("profile.block.rem_trend", lang), unit="usd",
                  columns=["time_period", "series", "value"], empty_message=t("profile.empty.remittances", lang))
    flows = rem.loc[rem["measure"].isin(["REM_IN", "REM_OUT"])] if not rem.empty else rem
    if not flows.empty:
        nat = flows.loc[_national(flows, inp.versions)]
        flows = nat if not nat.empty else flows
        flows = upto_year(flows, year)
        best = int(flows.groupby("dataset_id")["time_period"].max().idxmax()) if not flows.empty else None
        if best is not None:
            flows = flows.loc[flows["dataset_id"].astype(int) == best]
            trend.rows = flows.rename(columns={"measure": "series"})[["time_period", "series", "value"]] \
                .sort_values(["series", "time_period"]).to_dict("records")
            trend.sources = _refs([best], inp.versions, flows)
    blocks = [trend, _rem_gdp(inp, year, lang, country), _corridors(inp, year, lang), _cost(inp, year, lang)]
    return Section(id="remittances", title=t("profile.section.remittances", lang), blocks=blocks)


def _rem_gdp(inp: Inputs, year: str | None, lang: str, country: str) -> Block:
    block = Block(id="rem_gdp", title=t("profile.block.rem_gdp", lang), unit="percent",
                  columns=["time_period", "area", "name", "value", "numerator", "denominator", "reporting", "members"],
                  empty_message=t("profile.empty.rem_gdp", lang))
    world = inp.rem_world
    if world is None or world.empty:
        return block
    totals = upto_year(country_totals(world), year)
    mine = totals.loc[(totals["ref_area"] == country) & totals["REM_IN"].notna() & (totals["GDP"] > 0)]
    rows = [{"time_period": r.time_period, "area": country, "value": r.REM_IN / r.GDP * 100,
             "numerator": r.REM_IN, "denominator": r.GDP, "reporting": 1, "members": 1} for r in mine.itertuples()]
    region = groups_of(country)["sdg_region"]
    notes = []
    for group in [g for g in (region, "WLD") if g and g != country]:
        ratio = group_ratio(totals, group)
        if ratio.empty:
            continue
        for r in ratio.itertuples():
            rows.append({"time_period": r.time_period, "area": group, "value": r.value, "numerator": r.numerator,
                         "denominator": r.denominator, "reporting": r.reporting, "members": r.members})
        last = ratio.iloc[-1]
        missing = [codes.area_name(c, lang) for c in last["missing"]]
        shown = ", ".join(missing[:12]) + (t("profile.note.and_more", lang, n=len(missing) - 12) if len(missing) > 12 else "")
        notes.append(t("profile.note.group_ratio", lang, group=codes.area_name(group, lang), year=last["time_period"],
                       reporting=int(last["reporting"]), members=int(last["members"]), missing=shown or "–"))
    if not rows:
        return block
    for r in rows:
        r["name"] = codes.area_name(r["area"], lang)
    block.rows = sorted(rows, key=lambda r: (r["area"] != country, r["area"], r["time_period"]))
    block.sources = _refs(world["dataset_id"].unique(), inp.versions)
    block.notes = [t("profile.note.rem_gdp", lang), *notes]
    return block


def _corridors(inp: Inputs, year: str | None, lang: str) -> Block:
    block = Block(id="corridors", title=t("profile.block.corridors", lang), unit="usd",
                  columns=["area", "name", "value", "obs_status"], empty_message=t("profile.empty.corridors", lang))
    own = inp.own
    if own.empty:
        return block
    rows = own.loc[(own["kind"] == "remittance_corridors") & (own["measure"] == "REM_IN")
                   & own["counterpart_area"].map(codes.is_country)]
    rows = _latest(rows, year)
    if rows.empty:
        return block
    top = rows.sort_values("value", ascending=False).head(TOP_N)
    block.rows = [{"area": r.counterpart_area, "name": codes.area_name(r.counterpart_area, lang), "value": r.value,
                   "obs_status": r.obs_status} for r in top.itertuples()]
    block.sources = _refs(top["dataset_id"].unique(), inp.versions, top)
    block.notes = [t("profile.note.corridors", lang, year=str(top["time_period"].iloc[0]), n=TOP_N)]
    return block


def _cost(inp: Inputs, year: str | None, lang: str) -> Block:
    block = Block(id="cost", title=t("profile.block.cost", lang), unit="percent",
                  columns=["area", "name", "time_period", "value"], empty_message=t("profile.empty.cost", lang))
    own = inp.own
    rows = own.loc[own["measure"] == "REM_COST"] if not own.empty else own
    rows = _latest(rows, year)
    if rows.empty:
        return block
    block.rows = [{"area": r.counterpart_area, "name": codes.area_name(r.counterpart_area, lang) if r.counterpart_area != T
                   else t("profile.label.average", lang), "time_period": r.time_period, "value": r.value}
                  for r in rows.sort_values("value").itertuples()]
    block.sources = _refs(rows["dataset_id"].unique(), inp.versions, rows)
    block.notes = [t("profile.note.cost_target", lang)]
    return block


def _labour(inp: Inputs, year: str | None, lang: str, country: str) -> tuple[Section, Block]:
    block = Block(id="labour", title=t("profile.block.labour", lang), unit="percent",
                  columns=["indicator", "time_period", "sex", "age", "migrant_status", "value", "ci_lower",
                           "ci_upper", "cv", "n_obs", "obs_status", "design"],
                  empty_message=t("profile.empty.labour", lang))
    lfs_obs = inp.own.loc[inp.own["kind"] == "lfs"] if not inp.own.empty else inp.own
    micro = [m for m in inp.microdata if m.kind == "lfs"]
    if micro or not lfs_obs.empty:
        result = compute_frames(lfs_obs if not lfs_obs.empty else None, micro, indicators=LABOUR_INDICATORS,
                                country=country)
        table = upto_year(result.table, year)
        if not table.empty:
            table = table.loc[table["time_period"] == table["time_period"].max()]
            block.rows = table[block.columns].to_dict("records")
            ids = [int(i) for i in table["dataset_id"].unique()]
            block.sources = _refs(ids, inp.versions)
            n_u = int((table["obs_status"] == "U").sum())
            n_q = int((table["obs_status"] == "Q").sum())
            block.notes = [t("profile.note.labour", lang, u=n_u, q=n_q)]
            block.warnings = design_notes(table, lang)
    section = Section(id="labour", title=t("profile.section.labour", lang), blocks=[block])
    return section, block


def _gap_figure(labour: Block, lang: str, versions) -> Figure:
    """Participation gap (migrants minus non-migrants, both sexes, 15+), in percentage points."""
    fig = Figure(id="lm_gap", title=t("profile.figure.lm_gap", lang), unit="points")
    if labour.empty:
        return fig
    frame = labour.frame()
    part = frame.loc[(frame["indicator"] == "lfpr") & (frame["sex"] == T) & (frame["age"] == T)]
    wide = part.pivot_table(index="time_period", columns="migrant_status", values="value")
    if not {"MS_MIGRANT", "MS_NOMIGRANT"} <= set(wide.columns):
        return fig
    gap = (wide["MS_MIGRANT"] - wide["MS_NOMIGRANT"]).dropna().sort_index()
    if gap.empty:
        return fig
    fig.value, fig.year = float(gap.iloc[-1]), str(gap.index[-1])
    if len(gap) > 1:
        fig.previous, fig.previous_year = float(gap.iloc[-2]), str(gap.index[-2])
        fig.change = fig.value - fig.previous
    fig.sources = labour.sources
    fig.national = any(s.national for s in labour.sources)
    fig.trend = [{"time_period": p, "series": T, "value": float(v)} for p, v in gap.items()]
    return fig


def _movements(inp: Inputs, country: str, year: str | None, lang: str) -> list[Section]:
    """Flows, refugees and asylum, returns, labour migration and border movements (engine rows)."""
    frames = [f for f in (inp.own, inp.abroad) if not f.empty]
    ids = movements.available()
    if frames and ids:
        table = compute_frames(pd.concat(frames, ignore_index=True), indicators=ids, country=country).table
    else:
        table = pd.DataFrame(columns=["indicator", "ref_area", "time_period", "sex", "age", "migrant_status",
                                      "counterpart_area", "value", "obs_status", "dataset_id"])
    national = {i for i, v in inp.versions.items() if v.scope != "_ALL"}
    own = inp.own
    criteria = {} if own.empty or "criterion" not in own.columns else {
        (int(d), str(m)): str(c) for (d, m, c), _ in own.loc[own["criterion"].notna()].groupby(
            ["dataset_id", "measure", "criterion"])}
    return movements.sections(table, lang=lang, year=year, national=national, criteria=criteria,
                              refs=lambda rows: _refs({*rows["dataset_id"].astype(int), *denominator_ids(rows["note"])},
                                                      inp.versions, rows))


def build_profile(inp: Inputs, country: str, year: str | None = None, lang: str = "en") -> CountryProfile:
    """The profile of ``country`` up to ``year`` in ``lang``, from published inputs only."""
    figures = _key_figures(inp, year, lang)
    by_id = {f.id: f for f in figures}
    labour_section, labour_block = _labour(inp, year, lang, country)
    gap = _gap_figure(labour_block, lang, inp.versions)
    figures.append(gap)
    by_id["lm_gap"] = gap
    sections = [
        _immigration(inp, by_id, year, lang),
        _emigration(inp, by_id, year, lang),
        _remittances(inp, year, lang, country),
        labour_section,
        *_movements(inp, country, year, lang),
    ]
    sections.append(quality.section(inp, figures, sections, year, lang))
    groups = groups_of(country)
    ids = sorted({int(i) for f in (inp.own, inp.abroad) if not f.empty for i in f["dataset_id"].unique()}
                 | {m.dataset_id for m in inp.microdata})
    return CountryProfile(country=country, name=codes.area_name(country, lang), year=year, lang=lang,
                          generated_at=format_datetime(datetime.now(UTC), lang),
                          region=groups["sdg_region"], income_group=groups["income_group"],
                          key_figures=figures, sections=sections, dataset_ids=ids)
