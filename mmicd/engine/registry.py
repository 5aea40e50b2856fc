"""The engine: one function per indicator ``type``, registered in :data:`REGISTRY`.

Each function receives the indicator definition and a :class:`Context` (the inputs, settings,
the list of Issues and the results computed so far) and returns rows of
``KEY + value + obs_status`` (and, from microdata, ``se``, ``n_obs`` and ``design``). :func:`compute_frames`
turns them into the output contract with provenance on every row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.engine import aggregate, local, periods, survey
from mmicd.engine.aggregate import KEY, T
from mmicd.engine.catalogue import Indicator, catalogue
from mmicd.engine.config import DEFAULT, EngineConfig
from mmicd.i18n import t
from mmicd.issues import Issue

OUTPUT_COLUMNS = [
    "indicator", "ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area", "value", "unit",
    "obs_status", "se", "ci_lower", "ci_upper", "cv", "n_obs", "design", "source", "edition", "dataset_id", "note",
]
# ``design``: the survey design a microdata estimate's standard error rests on (survey.DESIGNS:
# full, no_psu, no_strata, none); empty for figures from tables.
# ``source``/``edition``/``dataset_id``: the numerator's version. A value whose denominator comes from
# another version (``denominator_kinds``) says both: source "UNHCR; denominator: UN DESA WPP", edition
# "2024; denominator: 2024", and ``note`` "denominator: dataset #7 (<rule>)".
# ``note``: how a value was made when it is not read as published: "annual: sum of the 12 months"
# (and the other rules of mmicd/engine/periods.py), the denominator's version; empty otherwise.
DENOMINATOR_NOTE = "denominator: dataset #{id} ({rule})"
DIMS_OUT = ["ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area"]


@dataclass(frozen=True)
class Microdata:
    """A microdata dataset version and its person records."""

    dataset_id: int
    kind: str
    source: str
    edition: str
    frame: pd.DataFrame


@dataclass
class Context:
    observations: pd.DataFrame
    microdata: list[Microdata]
    cfg: EngineConfig
    catalogue: dict[str, Indicator]
    country: str | None = None
    issues: list[Issue] = field(default_factory=list)
    derived: periods.Derived = field(default_factory=dict)
    provenance: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["dataset_id", "source", "edition", "kind", "scope"]))
    _designs: dict[int, list[survey.Design]] = field(default_factory=dict)
    _tables: dict[tuple, pd.DataFrame] = field(default_factory=dict)

    def table(self, ind: Indicator, selection: dict, disaggregations: tuple[str, ...], *,
              derive: bool = True, kinds: Iterable[str] | None = None, areas_from: str | None = None,
              require_breakdown: tuple[str, ...] = ()) -> pd.DataFrame:
        """:func:`aggregate.table` of the indicator's observations, computed once per run: indicators
        sharing a numerator or denominator (a stock, its share, the share of women) reuse it.
        ``kinds``/``areas_from`` read other kinds than the indicator's (a denominator from another dataset)."""
        kinds = tuple(sorted(kinds if kinds is not None else (k.value for k in ind.kinds)))
        areas_from = areas_from or ind.areas_from
        key = (kinds, areas_from, tuple(sorted((d, tuple(v)) for d, v in selection.items())),
               tuple(disaggregations), derive, tuple(require_breakdown))
        if key not in self._tables:
            self._tables[key] = aggregate.table(self.frame(kinds, areas_from), selection, disaggregations,
                                                self.issues, self.cfg, derive=derive,
                                                require_breakdown=tuple(require_breakdown))
        return self._tables[key]

    def obs(self, ind: Indicator) -> pd.DataFrame:
        """Observations of the indicator's kinds, with ref/counterpart swapped for areas_from."""
        return self.frame([k.value for k in ind.kinds], ind.areas_from)

    def frame(self, kinds: Iterable[str], areas_from: str = "ref_area") -> pd.DataFrame:
        """Observations of these kinds, with ref/counterpart swapped when the country is the counterpart."""
        frame = self.observations.loc[self.observations["kind"].isin(list(kinds))]
        if areas_from == "counterpart_area":
            frame = frame.rename(columns={"ref_area": "counterpart_area", "counterpart_area": "ref_area"})
            dest = {c for c in frame["counterpart_area"].unique() if _is_country(c)}
            frame = frame.loc[(frame["ref_area"] != T) & frame["counterpart_area"].isin(dest)]
        if self.country is not None:
            frame = frame.loc[frame["ref_area"] == self.country]
        return frame

    def designs(self, md: Microdata) -> list[survey.Design]:
        if md.dataset_id not in self._designs:
            self._designs[md.dataset_id] = local.designs(md.frame)   # (subdivisions: domains of the survey)
            for d in self._designs[md.dataset_id]:
                if d.design != "full":  # the same words as the note beside every estimate
                    self.issues.append(Issue(
                        "warning", t("ind.design.issue", "en", area=d.ref_area, period=d.time_period,
                                     note=t(f"ind.design.note.{d.design}", "en")),
                        file=f"dataset #{md.dataset_id}", column="psu" if not d.has_psu else "stratum"))
                if d.has_psu and (d.n_psu == 1).any():
                    self.issues.append(Issue(
                        "warning", f"{int((d.n_psu == 1).sum())} strata have a single PSU; they add no variance",
                        file=f"dataset #{md.dataset_id}", column="psu"))
        return self._designs[md.dataset_id]


_COUNTRY_CACHE: dict[str, bool] = {}


def _is_country(code: str) -> bool:
    if code not in _COUNTRY_CACHE:
        _COUNTRY_CACHE[code] = codes.is_country(code)
    return _COUNTRY_CACHE[code]


Handler = Callable[[Indicator, Context], pd.DataFrame]
REGISTRY: dict[str, Handler] = {}


def register(type_name: str) -> Callable[[Handler], Handler]:
    def wrap(fn: Handler) -> Handler:
        REGISTRY[type_name] = fn
        return fn
    return wrap


def _from_microdata(ind: Indicator, ctx: Context, ratio: bool) -> list[pd.DataFrame]:
    if "microdata" not in {f.value for f in ind.forms}:
        return []
    kinds = {k.value for k in ind.kinds}
    age_sel = aggregate.age_range(ind.numerator["age"]) if "age" in ind.numerator else (0, aggregate.OPEN_UPPER)
    cells, margins = survey.output_cells(ind.disaggregations, age_sel)
    num = survey.selection_vector(ind.numerator)
    den = survey.selection_vector(ind.denominator) if ratio else None
    out = []
    for md in ctx.microdata:
        if md.kind not in kinds:
            continue
        for design in ctx.designs(md):
            est = survey.estimate(design, num, den, margins, ind.factor)
            frame = pd.concat([cells, est], axis=1).assign(
                dataset_id=md.dataset_id, ref_area=design.ref_area, time_period=design.time_period,
                counterpart_area=T, labour_status=T, design=design.design)
            if ratio:
                frame = frame.loc[frame["denominator"] > 0]
            else:  # an unknown-code cell nobody is in is not a combination worth a row
                empty_unknown = (frame["n_obs"] == 0) & (frame[["sex", "age", "migrant_status"]] == codes.UNKNOWN).any(
                    axis=1)
                frame = frame.loc[~empty_unknown]
            out.append(survey.reliability(frame, ctx.cfg))
    return out


@register("count")
def count(ind: Indicator, ctx: Context) -> pd.DataFrame:
    parts = [ctx.table(ind, ind.numerator, ind.disaggregations)]
    return pd.concat([*parts, *_from_microdata(ind, ctx, ratio=False)], ignore_index=True)


def _ratio(ind: Indicator, ctx: Context) -> pd.DataFrame:
    # parts of a source breakdown (decision outcomes): numerator and denominator from the same cells
    den_sel = ind.denominator or {}
    both = tuple(dict.fromkeys([*ind.numerator["breakdown"], *den_sel["breakdown"]])) if (
        not ind.denominator_kinds and "breakdown" in ind.numerator and "breakdown" in den_sel) else ()
    num = ctx.table(ind, ind.numerator, ind.disaggregations, require_breakdown=both)
    if ind.denominator_kinds:
        return _across(ind, ctx, num)
    den = ctx.table(ind, ind.denominator or {}, ind.disaggregations, require_breakdown=both)
    parts = [aggregate.ratio(num, den, ind.factor)]
    return pd.concat([*parts, *_from_microdata(ind, ctx, ratio=True)], ignore_index=True)


DEN_DIMS = ("sex", "age")  # the dimensions a denominator from another dataset is matched on (with area, year)
RULES = {0: "the numerator's own dataset version", 1: "same source and edition as the numerator",
         2: "same source as the numerator, most recent edition",
         3: "national source of the area, most recent edition", 4: "international source, most recent edition"}


def _edition_year(edition: object) -> int:
    years = re.findall(r"(?:19|20)\d{2}", str(edition or ""))
    return max(int(y) for y in years) if years else -1


def _across(ind: Indicator, ctx: Context, num: pd.DataFrame) -> pd.DataFrame:
    """numerator / denominator × factor with the denominator read from datasets of
    ``denominator_kinds`` for the same area and year (and sex/age where disaggregated).

    One denominator version per numerator (version, area, year), by rank (indicators/README.md):
    0 the numerator's own version; 1 same source and edition; 2 same source, most recent edition;
    3 a national version (its scope is the area); 4 an international one. Ties: the most recent
    edition (latest year named in the edition), then the latest version id. Only annual values get a rate. No denominator version for
    the area and year: no value and an Issue naming indicator, area and year."""
    den_dis = tuple(d for d in ind.disaggregations if d in DEN_DIMS)
    den = ctx.table(ind, ind.denominator or {}, den_dis, kinds=[k.value for k in ind.denominator_kinds],
                    areas_from="ref_area")
    num = num.loc[num["time_period"].astype(str).str.fullmatch(r"\d{4}")
                  & ~num[list(den_dis)].isin([codes.UNKNOWN]).any(axis=1)]
    empty = num.iloc[0:0][KEY].assign(value=pd.Series(dtype=float), obs_status=pd.Series(dtype=object),
                                      _den_id=pd.Series(dtype="int64"), _den_rule=pd.Series(dtype=object))
    if num.empty:
        return empty
    prov = ctx.provenance.set_index("dataset_id")
    series = ["dataset_id", "ref_area", "time_period"]
    wanted = num[series].drop_duplicates()
    held = den.loc[den["value"].notna(), ["dataset_id", "ref_area", "time_period"]].drop_duplicates().rename(
        columns={"dataset_id": "_den_id"})
    cand = wanted.merge(held, on=["ref_area", "time_period"], how="left")
    missing = cand.loc[cand["_den_id"].isna()]
    if len(missing) > ctx.cfg.max_issues:
        ctx.issues.append(Issue(
            "warning", f"{ind.id}: no denominator for {len(missing)} area-years: no value for them (the first "
                       f"{ctx.cfg.max_issues} are listed)", column="time_period"))
    for row in missing.head(ctx.cfg.max_issues).itertuples(index=False):
        ctx.issues.append(Issue(
            "warning", f"{ind.id}: no denominator ({_names(ind.denominator or {})} from "
                       f"{', '.join(k.value for k in ind.denominator_kinds)}) for {row.ref_area} {row.time_period}: "
                       f"no value (a denominator of another year is never used)",
            file=f"dataset #{row.dataset_id}", column="time_period", value=f"{row.ref_area} {row.time_period}"))
    cand = cand.dropna(subset=["_den_id"])
    if cand.empty:
        return empty
    cand["_den_id"] = cand["_den_id"].astype("int64")
    src_n = cand["dataset_id"].astype("int64").map(prov["source"]).astype(str)
    ed_n = cand["dataset_id"].astype("int64").map(prov["edition"]).astype(str)
    src_d = cand["_den_id"].map(prov["source"]).astype(str)
    ed_d = cand["_den_id"].map(prov["edition"]).astype(str)
    national = cand["_den_id"].map(prov["scope"]).astype(str) == cand["ref_area"].astype(str)
    cand["_rank"] = np.select([cand["_den_id"] == cand["dataset_id"].astype("int64"),
                               (src_d == src_n) & (ed_d == ed_n), src_d == src_n, national], [0, 1, 2, 3], 4)
    cand["_year"] = ed_d.map(_edition_year)
    cand = cand.sort_values(["_rank", "_year", "_den_id"], ascending=[True, False, False])
    chosen = cand.drop_duplicates(series)
    chosen = chosen.assign(_den_rule=chosen["_rank"].map(RULES))[[*series, "_den_id", "_den_rule"]]
    merged = num.merge(chosen, on=series).merge(
        den.rename(columns={"dataset_id": "_den_id"})[["_den_id", "ref_area", "time_period", *den_dis, "value",
                                                       "obs_status"]],
        on=["_den_id", "ref_area", "time_period", *den_dis], how="left", suffixes=("_n", "_d"))
    lacking = merged.loc[merged["value_d"].isna()]
    for (ds, area, year), g in lacking.groupby(series, sort=False):
        cell = ", ".join(f"{d}={g[d].iloc[0]}" for d in den_dis)
        ctx.issues.append(Issue(
            "warning", f"{ind.id}: the denominator version #{g['_den_id'].iloc[0]} chosen for {area} {year} lacks "
                       f"{len(g)} cell(s) (e.g. {cell}): no value for them",
            file=f"dataset #{ds}", column="time_period", value=f"{area} {year}"))
    merged = merged.loc[merged["value_d"].notna()]
    d = merged["value_d"].to_numpy(dtype=float)
    n = merged["value_n"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(d > 0, n / d * ind.factor, np.nan)
    status = np.where(merged["obs_status_n"] == merged["obs_status_d"], merged["obs_status_n"], "E")
    return merged[KEY].assign(value=value, obs_status=status, _den_id=merged["_den_id"].to_numpy(),
                              _den_rule=merged["_den_rule"].to_numpy()).reset_index(drop=True)


for _name in ("share", "ratio", "rate"):
    register(_name)(_ratio)


@register("difference")
def difference(ind: Indicator, ctx: Context) -> pd.DataFrame:
    """numerator − minus, cell by cell within one dataset version (immigrants − emigrants). A cell with
    only one of the two has no value; an Issue per dataset version says how many."""
    a = ctx.table(ind, ind.numerator, ind.disaggregations)
    b = ctx.table(ind, ind.minus or {}, ind.disaggregations)
    merged = a.merge(b, on=KEY, how="outer", suffixes=("_a", "_b"), indicator=True)
    lone = merged.loc[merged["_merge"] != "both"]
    names = (_names(ind.numerator), _names(ind.minus or {}))
    for ds, g in lone.groupby("dataset_id", sort=False):
        side = g["_merge"].iloc[0]
        has, lacks = names if side == "left_only" else names[::-1]
        whole = not ((merged["dataset_id"] == ds) & (merged["_merge"] == "both")).any()
        cell = ", ".join(f"{c}={g[c].iloc[0]}" for c in KEY[1:])
        issues_text = (f"{ind.id}: dataset #{ds} gives {has} but not {lacks}" if whole else
                       f"{ind.id}: {len(g)} cell(s) of dataset #{ds} have only one of {names[0]} and {names[1]} "
                       f"(e.g. {cell}: no {lacks})")
        ctx.issues.append(Issue("info" if whole else "warning", f"{issues_text}: no difference is computed for them",
                                file=f"dataset #{ds}", column="measure", value=cell))
    both = merged.loc[merged["_merge"] == "both"]
    value = both["value_a"].astype(float) - both["value_b"].astype(float)
    status = np.where(both["obs_status_a"] == both["obs_status_b"], both["obs_status_a"], "E")
    return both[KEY].assign(value=value.to_numpy(), obs_status=status).reset_index(drop=True)


def _names(selection: dict) -> str:
    return "+".join(selection.get("measure", ("?",)))


@register("passthrough")
def passthrough(ind: Indicator, ctx: Context) -> pd.DataFrame:
    return ctx.table(ind, ind.numerator, ind.disaggregations, derive=False)


@register("growth")
def growth(ind: Indicator, ctx: Context) -> pd.DataFrame:
    base = ctx.catalogue[ind.base]
    return aggregate.growth(ctx.table(base, base.numerator, ind.disaggregations))


@register("median")
def median(ind: Indicator, ctx: Context) -> pd.DataFrame:
    base = ctx.catalogue[ind.base]
    dis = tuple(dict.fromkeys([*ind.disaggregations, "age"]))
    return aggregate.median_age(ctx.table(base, base.numerator, dis))


def _measures(ind: Indicator) -> set[str]:
    return {m for sel in (ind.numerator, ind.minus or {}, ind.denominator or {}) for m in sel.get("measure", ())}


def _notes(ind: Indicator, out: pd.DataFrame, derived: periods.Derived) -> pd.Series:
    """The ``note`` of each row: the rule of a derived annual value, the denominator's version."""
    notes = pd.Series("", index=out.index, dtype="object")
    if derived:
        measures = _measures(ind)
        by_year: dict[tuple[int, str], str] = {}
        for (ds, measure, year), text in derived.items():
            if measure in measures:
                by_year[(ds, year)] = "; ".join(dict.fromkeys(filter(None, [by_year.get((ds, year)), text])))
        if by_year:
            keys = zip(out["dataset_id"].astype("int64"), out["time_period"].astype(str), strict=True)
            notes = pd.Series([by_year.get(k, "") for k in keys], index=out.index, dtype="object")
    if "_den_id" in out.columns:
        other = out["_den_id"].notna() & (out["_den_id"] != out["dataset_id"].astype("int64"))
        den = pd.Series([DENOMINATOR_NOTE.format(id=int(i), rule=r) if o else "" for i, r, o in
                         zip(out["_den_id"].fillna(-1), out["_den_rule"], other, strict=True)], index=out.index)
        notes = pd.Series(["; ".join(filter(None, [a, b])) for a, b in zip(notes, den, strict=True)], index=out.index)
    return notes


def _finish(ind: Indicator, rows: pd.DataFrame, provenance: pd.DataFrame, cfg: EngineConfig,
            derived: periods.Derived | None = None) -> pd.DataFrame:
    out = rows.copy()
    for col in ("se", "ci_lower", "ci_upper", "cv", "n_obs"):
        if col not in out.columns:
            out[col] = np.nan
    out["design"] = (out["design"] if "design" in out.columns else pd.Series(pd.NA, index=out.index)).astype("string")
    out["indicator"] = ind.id
    out["unit"] = ind.unit
    if ind.obs_status:
        out["obs_status"] = np.where(out["obs_status"].isin(["Q", "M"]), out["obs_status"], ind.obs_status)
    out["dataset_id"] = out["dataset_id"].astype("int64")
    out = out.merge(provenance, on="dataset_id", how="left")
    out["note"] = _notes(ind, out, derived or {})
    if "_den_id" in out.columns:  # a denominator from another version: both provenances
        other = out["_den_id"].notna() & (out["_den_id"] != out["dataset_id"])
        den = provenance.set_index("dataset_id")
        src_d = out["_den_id"].map(den["source"]).astype("object")
        ed_d = out["_den_id"].map(den["edition"]).astype("object")
        out.loc[other, "source"] = out.loc[other, "source"].astype(str) + "; denominator: " + src_d[other].astype(str)
        out.loc[other, "edition"] = (out.loc[other, "edition"].fillna("").astype(str) + "; denominator: "
                                     + ed_d[other].fillna("").astype(str))
    if ind.type == "count" and ind.unit == "persons":
        small = (out["kind"].isin(cfg.small_cell_kinds) & out["se"].isna()
                 & (out["value"] > 0) & (out["value"] < cfg.small_cell))
        out.loc[small, "obs_status"] = "Q"
    if cfg.suppress:
        hidden = out["obs_status"] == "Q"
        out.loc[hidden, ["value", "se", "ci_lower", "ci_upper", "cv"]] = np.nan
    out["dataset_id"] = out["dataset_id"].astype("int64").astype("string")
    out["note"] = out["note"].astype("string")
    for col in ("value", "se", "ci_lower", "ci_upper", "cv", "n_obs"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    return out[OUTPUT_COLUMNS]


@dataclass
class Result:
    table: pd.DataFrame
    issues: list[Issue]


def compute_frames(
    observations: pd.DataFrame | None,
    microdata: Iterable[Microdata] = (),
    *,
    indicators: Iterable[str] | None = None,
    country: str | None = None,
    year: str | None = None,
    cfg: EngineConfig = DEFAULT,
    definitions: dict[str, Indicator] | None = None,
) -> Result:
    """Compute indicators from observations (with dataset_id, source, edition, kind) and microdata."""
    definitions = definitions if definitions is not None else catalogue()
    obs = observations if observations is not None else pd.DataFrame(
        columns=[*KEY, "measure", "value", "obs_status", "source", "edition", "kind"])
    if "breakdown" not in obs.columns:
        obs = obs.assign(breakdown=T)
    obs = obs.drop_duplicates(["dataset_id", "measure", *KEY[1:], "breakdown"])
    issues: list[Issue] = []
    obs, derived = periods.annualise(obs, issues, cfg)
    microdata = list(microdata)
    if country is not None:
        microdata = [Microdata(m.dataset_id, m.kind, m.source, m.edition,
                               m.frame.loc[m.frame["ref_area"] == country]) for m in microdata]
    if "scope" not in obs.columns:  # the version's scope (ISO3 of a national source; _ALL): Store rows via read_inputs
        obs = obs.assign(scope="_ALL")
    provenance = pd.concat([
        obs[["dataset_id", "source", "edition", "kind", "scope"]].drop_duplicates("dataset_id"),
        pd.DataFrame([(m.dataset_id, m.source, m.edition, m.kind, "") for m in microdata],
                     columns=["dataset_id", "source", "edition", "kind", "scope"]),
    ], ignore_index=True).drop_duplicates("dataset_id")
    provenance["dataset_id"] = provenance["dataset_id"].astype("int64")
    ctx = Context(obs, microdata, cfg, definitions, country, issues=issues, derived=derived, provenance=provenance)
    wanted = list(indicators) if indicators is not None else list(definitions)
    unknown = [i for i in wanted if i not in definitions]
    if unknown:
        raise KeyError(f"unknown indicator(s): {', '.join(unknown)}")
    tables = []
    for ind_id in wanted:
        ind = definitions[ind_id]
        rows = REGISTRY[ind.type](ind, ctx)
        if country is not None:
            rows = rows.loc[rows["ref_area"] == country]
        if year is not None:
            rows = rows.loc[rows["time_period"].str[:4] == str(year)]
        if rows.empty:
            continue
        tables.append(_finish(ind, rows, provenance, cfg, derived))
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=OUTPUT_COLUMNS)
    table = table.sort_values(["indicator", "source", "edition", "ref_area", "time_period", "sex", "age",
                               "migrant_status", "counterpart_area"], kind="stable").reset_index(drop=True)
    unique = list(dict.fromkeys(ctx.issues))
    return Result(table, unique)
