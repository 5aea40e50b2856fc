"""The profile's sections on movements and administrative data: migration flows, refugees and asylum,
returns, labour migration and border movements.

Every figure here is a catalogue indicator computed by the engine (``indicators/*.yml``); this module
only chooses which rows a block shows and says where they come from. Each block keeps, per
indicator, one dataset version -- a national upload before the international baseline, then the one
with the latest period up to the profile's year, then the newest version -- so editions are never
blended in one line. Yearly values are shown where a series has them; a series published only by
month or quarter (border crossings) is shown by month or quarter. An empty block names the upload
template that fills it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mmicd import codes
from mmicd.engine import catalogue
from mmicd.engine.export import note_text
from mmicd.i18n import t
from mmicd.overview import upto_year, yearly_or_all
from mmicd.profile.model import Block, Section
from mmicd.profile.tables import top_by_sex

T = codes.TOTAL
TOP_N = 10


@dataclass(frozen=True)
class Lines:
    """A block of series over time: one line per indicator (totals: both sexes, all ages)."""

    id: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class Top:
    """A block of the largest counterpart areas of one indicator in its latest period, by sex."""

    id: str
    indicator: str


@dataclass(frozen=True)
class SectionSpec:
    id: str
    template: str          # the upload template that fills the section (``profile.template.<name>``)
    blocks: tuple[Lines | Top, ...]


SECTIONS = (
    SectionSpec("flows", "flows", (
        Lines("flows_trend", ("immigrants", "emigrants", "net_migration_flows")),
        Lines("flow_rates", ("immigration_rate", "emigration_rate")),
        Top("flow_origins", "immigrants"),
    )),
    SectionSpec("refugees", "refugees", (
        Lines("refugees_trend", ("refugees", "refugees_abroad")),
        Top("refugee_origins", "refugees"),
        Top("refugee_hosts", "refugees_abroad"),
        Lines("asylum_trend", ("asylum_applications", "resettlement_arrivals")),
        Lines("asylum_rates", ("asylum_recognition_rate", "refugee_share_stock")),
        Lines("refugee_origin_rate", ("refugees_per_100k_origin",)),
    )),
    SectionSpec("returns", "returns", (
        Lines("returns_trend", ("returned_refugees", "returned_migrants")),
    )),
    SectionSpec("labour_migration", "labour", (
        Lines("labour_trend", ("workers_deployed", "work_permits")),
        Top("labour_destinations", "workers_deployed"),
        Lines("labour_rate", ("labour_emigration_rate",)),
    )),
    SectionSpec("border", "border", (
        Lines("border_trend", ("arrivals", "departures")),
        Top("border_nationalities", "arrivals"),
    )),
)
SECTION_IDS = frozenset(spec.id for spec in SECTIONS)
# the indicators these sections read (those missing from the catalogue are skipped, never guessed)
INDICATORS = tuple(dict.fromkeys(
    i for s in SECTIONS for b in s.blocks for i in (b.indicators if isinstance(b, Lines) else (b.indicator,))))


def available(ids=INDICATORS) -> tuple[str, ...]:
    defs = catalogue()
    return tuple(i for i in ids if i in defs)


def _one_version(rows: pd.DataFrame, national: set[int], year: str | None) -> pd.DataFrame:
    """The rows of one dataset version: national first, then the latest period, then the newest."""
    rows = upto_year(rows, year)
    if rows.empty:
        return rows
    ids = rows["dataset_id"].astype(int)
    latest = rows.groupby(ids)["time_period"].max()
    best = max(latest.index, key=lambda d: (d in national, latest[d], d))
    return rows.loc[ids == best]


def _one_frequency(rows: pd.DataFrame) -> pd.DataFrame:
    """Periods of one frequency on one axis: months or quarters when every series of the block is
    published so (border crossings), otherwise years (those the engine derived from complete months
    or quarters included)."""
    sub = rows["time_period"].str.len() > 4
    every = sub.groupby(rows["indicator"]).any().all()
    if every:
        return rows.loc[sub]
    return rows.loc[~sub]


def _block_unit(ids: tuple[str, ...]) -> str:
    defs = catalogue()
    units = [defs[i].unit for i in ids if i in defs]
    return units[0] if units else "persons"


def _lines(spec: Lines, table: pd.DataFrame, ctx: _Context) -> Block:
    block = Block(id=spec.id, title=t(f"profile.block.{spec.id}", ctx.lang), unit=_block_unit(spec.indicators),
                  chart="lines", columns=["time_period", "series", "value", "obs_status"],
                  empty_message=ctx.empty)
    parts = []
    for ind in spec.indicators:
        rows = table.loc[(table["indicator"] == ind) & (table["sex"] == T) & (table["age"] == T)
                         & (table["migrant_status"] == T) & (table["counterpart_area"] == T)
                         & table["value"].notna()]
        rows = _one_version(rows, ctx.national, ctx.year)
        if not rows.empty:
            parts.append(rows)
    if not parts:
        return block
    rows = _one_frequency(pd.concat(parts, ignore_index=True)).sort_values(["indicator", "time_period"])
    block.rows = rows.rename(columns={"indicator": "series"})[block.columns].to_dict("records")
    block.sources = ctx.refs(rows)
    block.notes = [t("profile.note.series_rule", ctx.lang), *_row_notes(rows, ctx.lang), *_criteria(rows, ctx)]
    return block


def _criteria(rows: pd.DataFrame, ctx: _Context) -> list[str]:
    """The criterion flows were counted by, where the source gives flows only by criterion."""
    from mmicd.templates import breakdown_label

    shown = {int(d) for d in rows["dataset_id"]}
    found = sorted({(d, c) for (d, _m), c in ctx.criteria.items() if d in shown})
    def name(code: str) -> str:
        label = breakdown_label(code, ctx.lang, with_type=False)
        return label[:1].lower() + label[1:]      # "by change of residence", inside a sentence

    return [t("profile.note.criterion", ctx.lang, id=d, criterion=name(c)) for d, c in found]


def _top(spec: Top, table: pd.DataFrame, ctx: _Context) -> Block:
    block = Block(id=spec.id, title=t(f"profile.block.{spec.id}", ctx.lang), unit=_block_unit((spec.indicator,)),
                  chart="bars", columns=["area", "name", "F", "M", "total"], empty_message=ctx.empty)
    rows = table.loc[(table["indicator"] == spec.indicator) & (table["age"] == T) & (table["migrant_status"] == T)
                     & (table["counterpart_area"] != T) & table["counterpart_area"].map(codes.is_country)
                     & table["value"].notna()]
    rows = _one_version(rows, ctx.national, ctx.year)
    if rows.empty:
        return block
    rows = yearly_or_all(rows)
    rows = rows.loc[rows["time_period"] == rows["time_period"].max()]
    block.rows = top_by_sex(rows, "counterpart_area", ctx.lang, TOP_N)
    block.sources = ctx.refs(rows)
    block.notes = [t("profile.note.top", ctx.lang, n=TOP_N, year=str(rows["time_period"].iloc[0])),
                   *_row_notes(rows, ctx.lang)]
    return block


def _row_notes(rows: pd.DataFrame, lang: str) -> list[str]:
    """How the engine made values that are not read as published (a year from its months, a rate
    over another dataset's population), once per indicator and kind of note."""
    defs = catalogue()
    out = []
    for (ind, note), _ in rows.loc[rows["note"].fillna("") != ""].groupby(["indicator", "note"], sort=False):
        out.append(t("profile.note.derived", lang, indicator=defs[ind].name.get(lang), note=note_text(note, lang)))
    return list(dict.fromkeys(out))


@dataclass
class _Context:
    lang: str
    year: str | None
    national: set[int]
    refs: object          # engine rows -> list[SourceRef] (numerators' and denominators' versions)
    empty: str = ""
    criteria: dict = field(default_factory=dict)   # (dataset version, measure) -> CRITERION:<code>


def sections(table: pd.DataFrame, *, lang: str, year: str | None, national: set[int], refs,
             criteria: dict[tuple[int, str], str] | None = None) -> list[Section]:
    """The five sections from the engine's rows of :data:`INDICATORS` for one country; ``criteria``:
    (dataset version, measure) -> the criterion its flows were counted by, where the source gives
    flows only by criterion (see :func:`mmicd.engine.inputs.one_criterion`)."""
    out = []
    for spec in SECTIONS:
        ctx = _Context(lang, year, national, refs,
                       t(f"profile.empty.{spec.id}", lang, template=t(f"profile.template.{spec.template}", lang)),
                       criteria or {})
        blocks = [_lines(b, table, ctx) if isinstance(b, Lines) else _top(b, table, ctx) for b in spec.blocks]
        out.append(Section(id=spec.id, title=t(f"profile.section.{spec.id}", lang), blocks=blocks))
    return out
