"""Indicators for subdivisions (provinces, districts) and their aggregation up to the country.

Tables (census counts): every indicator is computed for each subdivision its data cover, as for a
country. Old codes are first carried onto today's (:func:`mmicd.subdivisions.to_current`: merged
codes summed under the new code, a split code left whole). A parent without its own figure (the
country, or a province above districts) gets the **sum of its subdivisions' counts** when every
current subdivision of it is covered (a split old code covers the codes that replaced it) — never
from part of them; ratios are then computed from those sums (ratios of sums, never means of
ratios), and every such value says so in its ``note`` (:data:`AGGREGATED_NOTE`).

Survey microdata whose persons carry a subdivision code: the country's estimate comes from the
whole sample, and each subdivision (and each parent subdivision) is a *domain* of the whole design:
persons outside it weigh zero but every stratum and PSU is kept, so the standard error is the
design-based domain variance (what ``svy`` and R's ``survey::svyby`` give), right also when strata
cut across subdivisions; ``n_obs`` counts the persons inside only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmicd import subdivisions as sub
from mmicd.engine import survey
from mmicd.rules.base import ADDITIVE_UNITS

AGGREGATED_NOTE = "aggregated from {n} subdivisions (sum of their counts)"
CELL = ["dataset_id", "measure", "time_period", "sex", "age", "migrant_status", "counterpart_area",
        "labour_status", "breakdown"]


# ---- survey microdata: domains -----------------------------------------------------------------
def designs(md: pd.DataFrame) -> list[survey.Design]:
    """:func:`mmicd.engine.survey.prepare`, and when persons carry subdivision codes: one design for
    the whole country and one domain design per subdivision and parent subdivision."""
    column = md["ref_area"] if len(md) else pd.Series([], dtype=object)
    # (canonical microdata: a categorical, whose few categories are read, never its ten million rows)
    areas = column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype) else pd.unique(column)
    if not any(sub.is_subdivision(str(a)) for a in areas):
        return survey.prepare(md)
    out = []
    for period, g in md.groupby("time_period", sort=True, observed=True):
        area = g["ref_area"].astype(str).to_numpy()
        country_of = {a: sub.country_of(a) or a for a in pd.unique(area)}
        for country in sorted(set(country_of.values())):
            in_country = np.array([country_of[a] == country for a in area])
            gc, ac = g.loc[in_country], area[in_country]
            out.append(survey._prepare_one(country, str(period), gc))
            members: dict[str, set[str]] = {}
            for a in pd.unique(ac):
                x = a
                while sub.is_subdivision(x):
                    members.setdefault(x, set()).add(a)
                    x = sub.parent_of(x)
            for domain in sorted(members):
                out.append(_domain(domain, str(period), gc, np.isin(ac, list(members[domain]))))
    return out


def _domain(area: str, period: str, g: pd.DataFrame, inside: np.ndarray) -> survey.Design:
    """The design of the whole sample with zero weight outside the domain (the domain variance), its
    unweighted counts those of the persons inside."""
    design = survey._prepare_one(area, period, g.assign(weight=np.where(inside, g["weight"].to_numpy(), 0.0)))
    design.counts = survey._prepare_one(area, period, g.loc[inside]).counts
    return design


# ---- tables: parents from their subdivisions ----------------------------------------------------
def with_parents(obs: pd.DataFrame) -> tuple[pd.DataFrame, dict[tuple[int, str], int]]:
    """``obs`` with old codes carried onto today's and, for each parent lacking a figure of its own
    in a dataset version, the sums of its subdivisions' additive values (complete sets only), level
    by level up to the country. Returns the rows and {(dataset_id, parent): number of subdivisions
    summed} for the parents so made."""
    if obs.empty or not obs["ref_area"].isin(sub.subdivisions().index).any():
        return obs, {}
    obs = _carried(obs)
    made: dict[tuple[int, str], int] = {}
    table = sub.subdivisions()
    for level in sorted(set(table.loc[table.index.intersection(obs["ref_area"].unique()), "level"]), reverse=True):
        areas = obs["ref_area"].astype(str)
        is_part = areas.map(lambda a, lv=level: a in table.index and table.at[a, "level"] == lv).to_numpy(bool) & \
            obs["unit_measure"].isin(ADDITIVE_UNITS).to_numpy(bool)
        parts = obs.loc[is_part].assign(parent=areas[is_part].map(sub.parent_of))
        if parts.empty:
            continue
        present = set(zip(obs["dataset_id"], areas, strict=True))
        sums = parts.groupby([*CELL, "parent"], sort=False, dropna=False).agg(
            value=("value", lambda v: v.sum(min_count=len(v))), n=("value", "size"),
            children=("ref_area", frozenset), statuses=("obs_status", frozenset),
            unit_measure=("unit_measure", "first"), unit_mult=("unit_mult", "max")).reset_index()
        keep = [(d, p) not in present and sub.covers_all(p, ch)
                for d, p, ch in zip(sums["dataset_id"], sums["parent"], sums["children"], strict=True)]
        sums = sums.loc[keep]
        if sums.empty:
            continue
        extra = obs.drop_duplicates("dataset_id").set_index("dataset_id")
        new = sums.assign(ref_area=sums["parent"],
                          obs_status=[next(iter(s)) if len(s) == 1 else "E" for s in sums["statuses"]])
        for col in obs.columns:
            if col not in new.columns:
                new[col] = new["dataset_id"].map(extra[col]) if col in extra.columns else pd.NA
        for d, p, ch in zip(new["dataset_id"], new["parent"], new["children"], strict=True):
            made[(int(d), str(p))] = max(made.get((int(d), str(p)), 0), len(ch))
        obs = pd.concat([obs, new[obs.columns]], ignore_index=True)
    return obs, made


def _carried(obs: pd.DataFrame) -> pd.DataFrame:
    """Renamed and merged codes onto today's (values summed, obs_status E when the parts differ)."""
    old = obs["ref_area"].isin(sub.changes().index)
    if not old.any():
        return obs
    mapped = obs.loc[old].assign(ref_area=obs.loc[old, "ref_area"].map(lambda c: sub.current_code(c)[0] or c))
    keys = [c for c in obs.columns if c not in ("value", "obs_status")]
    summed = mapped.groupby(keys, sort=False, dropna=False).agg(
        value=("value", lambda v: v.sum(min_count=len(v))),
        obs_status=("obs_status", lambda s: s.iloc[0] if s.nunique() == 1 else "E")).reset_index()
    return pd.concat([obs.loc[~old], summed[obs.columns]], ignore_index=True)


# ---- the indicators of a country and its subdivisions -------------------------------------------
def areas_of(country: str) -> list[str]:
    """The country and every subdivision code of it (today's and old ones)."""
    return [country, *sub.of_country(country, current=False)["code"]]


def read_local_inputs(store, country: str):
    """Published observations of ``country`` and its subdivisions, and the survey microdata of its scope."""
    from mmicd.engine.inputs import CountryInputs, one_criterion, selected_breakdowns
    from mmicd.engine.registry import Microdata
    from mmicd.model import Form, Status

    versions = {v.id: v for v in store.datasets(status=Status.PUBLISHED)}
    obs = store.observations(ref_areas=areas_of(country), breakdown=selected_breakdowns())
    obs = one_criterion(obs)
    obs = obs.assign(scope=obs["dataset_id"].map({i: v.scope for i, v in versions.items()}).astype("object"))
    micro = [Microdata(v.id, v.kind.value, v.source, v.edition, store.microdata(v.id)) for v in versions.values()
             if v.form == Form.MICRODATA and v.scope == country]
    return CountryInputs(country, obs, obs.iloc[0:0], micro, versions)


def compute_local(observations: pd.DataFrame, microdata=(), *, country: str, indicators=None, cfg=None):
    """Every indicator (or ``indicators``) for ``country`` and its subdivisions: a
    :class:`mmicd.engine.registry.Result` whose rows are the country's and its subdivisions', the
    parents made from subdivisions noted :data:`AGGREGATED_NOTE`."""
    from mmicd.engine.config import DEFAULT
    from mmicd.engine.registry import Result, compute_frames

    obs, made = with_parents(observations)
    result = compute_frames(obs, microdata, indicators=indicators, cfg=cfg or DEFAULT)
    table = result.table.loc[result.table["ref_area"].isin(set(areas_of(country)))].copy()
    if made:
        keys = list(zip(table["dataset_id"].astype(int), table["ref_area"].astype(str), strict=True))
        extra = pd.Series([AGGREGATED_NOTE.format(n=made[k]) if k in made else "" for k in keys], index=table.index)
        note = table["note"].fillna("").astype(str)
        table["note"] = [("; ".join(filter(None, [a, b]))) for a, b in zip(note, extra, strict=True)]
        table["note"] = table["note"].astype("string")
    return Result(table.reset_index(drop=True), result.issues)
