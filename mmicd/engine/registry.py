"""The engine: one function per indicator ``type``, registered in :data:`REGISTRY`.

Each function receives the indicator definition and a :class:`Context` (the inputs, settings,
the list of Issues and the results computed so far) and returns rows of
``KEY + value + obs_status`` (and, from microdata, ``se``, ``n_obs`` and ``design``). :func:`compute_frames`
turns them into the output contract with provenance on every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.engine import aggregate, survey
from mmicd.engine.aggregate import KEY, T
from mmicd.engine.catalogue import Indicator, catalogue
from mmicd.engine.config import DEFAULT, EngineConfig
from mmicd.i18n import t
from mmicd.issues import Issue

OUTPUT_COLUMNS = [
    "indicator", "ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area", "value", "unit",
    "obs_status", "se", "ci_lower", "ci_upper", "cv", "n_obs", "design", "source", "edition", "dataset_id",
]
# ``design``: the survey design a microdata estimate's standard error rests on (survey.DESIGNS:
# full, no_psu, no_strata, none); empty for figures from tables
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
    _designs: dict[int, list[survey.Design]] = field(default_factory=dict)
    _tables: dict[tuple, pd.DataFrame] = field(default_factory=dict)

    def table(self, ind: Indicator, selection: dict, disaggregations: tuple[str, ...], *,
              derive: bool = True) -> pd.DataFrame:
        """:func:`aggregate.table` of the indicator's observations, computed once per run: indicators
        sharing a numerator or denominator (a stock, its share, the share of women) reuse it."""
        key = (tuple(sorted(k.value for k in ind.kinds)), ind.areas_from,
               tuple(sorted((d, tuple(v)) for d, v in selection.items())), tuple(disaggregations), derive)
        if key not in self._tables:
            self._tables[key] = aggregate.table(self.obs(ind), selection, disaggregations, self.issues, self.cfg,
                                                derive=derive)
        return self._tables[key]

    def obs(self, ind: Indicator) -> pd.DataFrame:
        """Observations of the indicator's kinds, with ref/counterpart swapped for areas_from."""
        kinds = [k.value for k in ind.kinds]
        frame = self.observations.loc[self.observations["kind"].isin(kinds)]
        if ind.areas_from == "counterpart_area":
            frame = frame.rename(columns={"ref_area": "counterpart_area", "counterpart_area": "ref_area"})
            dest = {c for c in frame["counterpart_area"].unique() if _is_country(c)}
            frame = frame.loc[(frame["ref_area"] != T) & frame["counterpart_area"].isin(dest)]
        if self.country is not None:
            frame = frame.loc[frame["ref_area"] == self.country]
        return frame

    def designs(self, md: Microdata) -> list[survey.Design]:
        if md.dataset_id not in self._designs:
            self._designs[md.dataset_id] = survey.prepare(md.frame)
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
    cells, members = survey.output_cells(ind.disaggregations, age_sel)
    num = survey.selection_vector(ind.numerator)
    den = survey.selection_vector(ind.denominator) if ratio else None
    out = []
    for md in ctx.microdata:
        if md.kind not in kinds:
            continue
        for design in ctx.designs(md):
            est = survey.estimate(design, num, den, members, ind.factor)
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
    num = ctx.table(ind, ind.numerator, ind.disaggregations)
    den = ctx.table(ind, ind.denominator or {}, ind.disaggregations)
    parts = [aggregate.ratio(num, den, ind.factor)]
    return pd.concat([*parts, *_from_microdata(ind, ctx, ratio=True)], ignore_index=True)


for _name in ("share", "ratio", "rate"):
    register(_name)(_ratio)


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


def _finish(ind: Indicator, rows: pd.DataFrame, provenance: pd.DataFrame, cfg: EngineConfig) -> pd.DataFrame:
    out = rows.copy()
    for col in ("se", "ci_lower", "ci_upper", "cv", "n_obs"):
        if col not in out.columns:
            out[col] = np.nan
    out["design"] = (out["design"] if "design" in out.columns else pd.Series(pd.NA, index=out.index)).astype("string")
    out["indicator"] = ind.id
    out["unit"] = ind.unit
    if ind.obs_status:
        out["obs_status"] = np.where(out["obs_status"].isin(["Q", "M"]), out["obs_status"], ind.obs_status)
    out = out.merge(provenance, on="dataset_id", how="left")
    if ind.type == "count" and ind.unit == "persons":
        small = (out["kind"].isin(cfg.small_cell_kinds) & out["se"].isna()
                 & (out["value"] > 0) & (out["value"] < cfg.small_cell))
        out.loc[small, "obs_status"] = "Q"
    if cfg.suppress:
        hidden = out["obs_status"] == "Q"
        out.loc[hidden, ["value", "se", "ci_lower", "ci_upper", "cv"]] = np.nan
    out["dataset_id"] = out["dataset_id"].astype("int64").astype("string")
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
    obs = obs.drop_duplicates(["dataset_id", "measure", *KEY[1:]])
    microdata = list(microdata)
    if country is not None:
        microdata = [Microdata(m.dataset_id, m.kind, m.source, m.edition,
                               m.frame.loc[m.frame["ref_area"] == country]) for m in microdata]
    ctx = Context(obs, microdata, cfg, definitions, country)
    provenance = pd.concat([
        obs[["dataset_id", "source", "edition", "kind"]].drop_duplicates("dataset_id"),
        pd.DataFrame([(m.dataset_id, m.source, m.edition, m.kind) for m in microdata],
                     columns=["dataset_id", "source", "edition", "kind"]),
    ], ignore_index=True).drop_duplicates("dataset_id")
    provenance["dataset_id"] = provenance["dataset_id"].astype("int64")
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
        tables.append(_finish(ind, rows, provenance, cfg))
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=OUTPUT_COLUMNS)
    table = table.sort_values(["indicator", "source", "edition", "ref_area", "time_period", "sex", "age",
                               "migrant_status", "counterpart_area"], kind="stable").reset_index(drop=True)
    unique = list(dict.fromkeys(ctx.issues))
    return Result(table, unique)
