"""Guards against loads that silently remove published data.

1. **A table without data rows is never stored.** A header-only table, or one whose every value is
   blank or a missing-value marker, gives an error :class:`Issue` naming its file and sheet
   (:func:`no_data_issues`): ``prepare`` reports it and ``commit`` refuses it.
2. **A new version that drops most of a published series is published only with an explicit
   confirmation.** When a version would replace the published version of its series (same kind,
   scope and source) and would remove more than :func:`max_drop_share` of its values (default 50%,
   ``MMICD_MAX_DROP_SHARE``), publishing it (``commit(..., publish=True)``,
   :func:`mmicd.workflow.publish`) raises :class:`DropNotConfirmed` with a :class:`DropReport` of
   what would disappear, unless the caller passes the confirmation; the confirmation is recorded in
   the audit trail with its numbers (``confirmed_drop``) in the publishing transaction, and the
   published version is checked again there (:class:`mmicd.store.PublishCheck`). Drafts are never
   blocked.

A value "disappears" when the published version holds a number for its key (all dimensions) and
the new version has no number for it: the key is absent, or its value is now missing (``..``).
Survey microdata have no keys: their person records are counted per area and period. What
disappears is grouped by measure × area × detail (the dimensions a key is detailed by, e.g.
``sex+age+migrant_status``; "" for totals), with the years.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from mmicd.i18n import t
from mmicd.issues import Issue
from mmicd.model import DIMENSIONS, DatasetMeta, DatasetVersion, Form, Status
from mmicd.store import PublishCheck, Store, StoreError

DROP_SHARE_ENV = "MMICD_MAX_DROP_SHARE"
DEFAULT_MAX_DROP_SHARE = 0.5
GROUP_BY = ["measure", "ref_area", "detail"]  # observations: by measure × area × detail, with the years
MICRODATA_GROUP_BY = ["ref_area", "time_period"]
GROUP_COLUMNS = ["measure", "ref_area", "detail", "first", "last", "periods", "removed", "published"]
TOTAL = "_T"


def max_drop_share(env: dict[str, str] | None = None) -> float:
    """The share of a published series' values a new version may drop without an explicit
    confirmation: ``MMICD_MAX_DROP_SHARE`` as a fraction (``0.5``) or a percentage (``50``, ``50%``)."""
    env = os.environ if env is None else env
    raw = str(env.get(DROP_SHARE_ENV, "") or "").strip()
    if not raw:
        return DEFAULT_MAX_DROP_SHARE
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        raise ValueError(f"{DROP_SHARE_ENV}={raw!r} is not a share: write 0.5 or 50%") from None
    if raw.endswith("%") or value > 1:
        value /= 100
    if not 0 <= value <= 1:
        raise ValueError(f"{DROP_SHARE_ENV}={raw!r} must lie between 0 and 1 (0% and 100%)")
    return value


# ---- 1. a table without data rows -----------------------------------------------------------------
def has_data(frame: pd.DataFrame, form: Form) -> bool:
    """Whether a prepared frame holds data: a person record, or at least one value that is a number."""
    if len(frame) == 0:
        return False
    return Form(form) == Form.MICRODATA or bool(frame["value"].notna().any())


def no_data_issues(datasets: Iterable, lang: str = "en") -> list[Issue]:
    """One error per prepared dataset without data (``datasets``: :class:`mmicd.ingest.PreparedDataset`)."""
    issues = []
    for d in datasets:
        if has_data(d.frame, d.form):
            continue
        key = "guards.no_rows" if len(d.frame) == 0 else "guards.no_values"
        issues.append(Issue("error", t(key, lang, rows=len(d.frame)), file=d.file, sheet=d.sheet))
    return issues


# ---- 2. a new version that drops most of a published series ------------------------------------
@dataclass(frozen=True)
class DropReport:
    """What publishing a new version would remove from the published version of its series."""

    series: tuple[str, str, str]                 # kind, scope, source
    label: str                                   # the new version: "file · sheet" or "#id"
    current: DatasetVersion | None               # the published version it replaces (None: none)
    current_values: int                          # values (numbers) or records of the published version
    removed: int                                 # of those, how many the new version does not hold
    threshold: float
    groups: pd.DataFrame = field(repr=False)     # GROUP_COLUMNS, most removed first
    replaces: tuple[int, ...] = ()               # ids of every published version of the series

    @property
    def share(self) -> float:
        return self.removed / self.current_values if self.current_values else 0.0

    @property
    def needs_confirmation(self) -> bool:
        return self.removed > 0 and self.share > self.threshold

    def detail(self) -> dict:
        """The numbers recorded in the audit trail when the drop is confirmed."""
        c = self.current
        return {"replaces": c.id if c else None, "replaces_version": c.version if c else None,
                "kind": self.series[0], "scope": self.series[1], "source": self.series[2],
                "published_values": self.current_values, "removed": self.removed,
                "share": round(self.share, 4), "threshold": self.threshold,
                "groups": int(len(self.groups))}

    def check(self, confirmed: bool) -> PublishCheck:
        return PublishCheck(replaces=self.replaces,
                            confirmed_drop=self.detail() if confirmed and self.needs_confirmation else None)


class DropNotConfirmed(StoreError):
    """Publishing refused: it would drop more than the allowed share of a published series."""

    def __init__(self, reports: list[DropReport]):
        self.reports = list(reports)
        super().__init__("; ".join(
            f"{r.label} would drop {r.removed} of the {r.current_values} values of published version "
            f"#{r.current.id if r.current else '?'} ({r.share:.0%} > {r.threshold:.0%}); confirm to publish"
            for r in self.reports))


def published_versions(store: Store, kind: str, scope: str, source: str,
                       exclude: int | None = None) -> list[DatasetVersion]:
    """The published versions of a series (normally one), oldest first."""
    return [v for v in store.datasets(status=Status.PUBLISHED, kind=kind)
            if v.scope == scope and v.source == source and v.id != exclude]


def drop_report(store: Store, meta: DatasetMeta, frame: pd.DataFrame, form: Form, *, label: str = "",
                exclude: int | None = None, threshold: float | None = None) -> DropReport:
    """What ``frame`` (the rows a new version of ``meta``'s series would hold) drops of the series'
    published version (``exclude``: the new version's own id, when it is stored already)."""
    threshold = max_drop_share() if threshold is None else threshold
    series = (meta.kind.value, meta.scope, meta.source)
    published = published_versions(store, *series, exclude=exclude)
    if not published:
        return DropReport(series, label, None, 0, 0, threshold, pd.DataFrame(columns=GROUP_COLUMNS))
    current = published[-1]
    if current.form == Form.MICRODATA:
        old = store.microdata(current.id)[MICRODATA_GROUP_BY]
        new = frame[MICRODATA_GROUP_BY] if Form(form) == Form.MICRODATA else frame.iloc[0:0][MICRODATA_GROUP_BY]
        total, removed, groups = _records_dropped(old, new)
    else:
        old = store.observations(dataset_ids=[current.id], status=None)[[*DIMENSIONS, "value"]]
        new = frame if Form(form) == Form.OBSERVATIONS else pd.DataFrame(columns=[*DIMENSIONS, "value"])
        total, removed, groups = _values_dropped(old, new)
    return DropReport(series, label, current, total, removed, threshold, groups,
                      replaces=tuple(v.id for v in published))


def version_drop_report(store: Store, version: DatasetVersion, threshold: float | None = None) -> DropReport:
    """What publishing a stored version would drop of the published version of its series."""
    if version.form == Form.MICRODATA:
        frame = store.microdata(version.id)[MICRODATA_GROUP_BY]
    else:
        frame = store.observations(dataset_ids=[version.id], status=None)[[*DIMENSIONS, "value"]]
    return drop_report(store, version, frame, version.form, label=f"#{version.id}", exclude=version.id,
                       threshold=threshold)


def _values_dropped(old: pd.DataFrame, new: pd.DataFrame) -> tuple[int, int, pd.DataFrame]:
    valued = old.loc[old["value"].notna(), DIMENSIONS].astype(object)
    kept = new.loc[new["value"].notna(), DIMENSIONS].astype(object).drop_duplicates()
    joined = valued.merge(kept, on=DIMENSIONS, how="left", indicator=True)
    gone = joined.loc[joined["_merge"] == "left_only", DIMENSIONS]
    if gone.empty:
        return len(valued), 0, pd.DataFrame(columns=GROUP_COLUMNS)
    gone = gone.assign(detail=details(gone))
    groups = gone.groupby(GROUP_BY, sort=False)["time_period"].agg(["min", "max", "nunique", "size"])
    groups.columns = ["first", "last", "periods", "removed"]
    published = valued.assign(detail=details(valued)).groupby(GROUP_BY).size()
    groups["published"] = published.reindex(groups.index)
    return len(valued), len(gone), _ordered(groups.reset_index())


def details(frame: pd.DataFrame) -> pd.Series:
    """For each key, the dimensions it is detailed by (those not at the total ``_T``), e.g.
    ``sex+age+migrant_status`` or ``counterpart_area``; ``""`` for a total."""
    dims = [d for d in DIMENSIONS if d not in ("measure", "ref_area", "time_period")]
    out = pd.Series("", index=frame.index, dtype=object)
    for d in dims:
        detailed = (frame[d] != TOTAL).to_numpy()
        out = out.where(~detailed, out + d + "+")
    return out.str.rstrip("+")


def _records_dropped(old: pd.DataFrame, new: pd.DataFrame) -> tuple[int, int, pd.DataFrame]:
    before = old.astype(object).groupby(MICRODATA_GROUP_BY).size()
    after = new.astype(object).groupby(MICRODATA_GROUP_BY).size().reindex(before.index, fill_value=0)
    lost = (before - after).clip(lower=0)
    lost = lost[lost > 0]
    if lost.empty:
        return int(before.sum()), 0, pd.DataFrame(columns=GROUP_COLUMNS)
    groups = lost.rename("removed").reset_index()
    groups["published"] = before.reindex(lost.index).to_numpy()
    groups = groups.assign(measure="", detail="", first=groups["time_period"], last=groups["time_period"],
                           periods=1)
    return int(before.sum()), int(lost.sum()), _ordered(groups)


def _ordered(groups: pd.DataFrame) -> pd.DataFrame:
    out = groups[GROUP_COLUMNS].sort_values(["removed", "measure", "ref_area", "detail"],
                                            ascending=[False, True, True, True])
    for col in ("periods", "removed", "published"):
        out[col] = out[col].astype("int64")
    return out.reset_index(drop=True)


def stored_frames_reports(store: Store, items: list[tuple[DatasetMeta, Form, pd.DataFrame]],
                          labels: list[str], threshold: float | None = None) -> list[DropReport]:
    """A :class:`DropReport` for each dataset about to be stored and published (``items`` as given
    to :meth:`mmicd.store.Store.add_many`, in order). A later dataset of a series already in
    ``items`` is compared with that earlier one, which it will replace in the same transaction."""
    reports: list[DropReport] = []
    earlier: dict[tuple[str, str, str], tuple[Form, pd.DataFrame]] = {}
    for (meta, form, frame), label in zip(items, labels, strict=True):
        series = (meta.kind.value, meta.scope, meta.source)
        if series in earlier:
            reports.append(_within(series, label, *earlier[series], form, frame, threshold))
        else:
            reports.append(drop_report(store, meta, frame, form, label=label, threshold=threshold))
        earlier[series] = (Form(form), frame)
    return reports


def _within(series, label: str, old_form: Form, old: pd.DataFrame, form: Form, new: pd.DataFrame,
            threshold: float | None) -> DropReport:
    threshold = max_drop_share() if threshold is None else threshold
    if old_form == Form.MICRODATA:
        new_part = new[MICRODATA_GROUP_BY] if Form(form) == Form.MICRODATA else old.iloc[0:0][MICRODATA_GROUP_BY]
        total, removed, groups = _records_dropped(old[MICRODATA_GROUP_BY], new_part)
    else:
        new_part = new if Form(form) == Form.OBSERVATIONS else pd.DataFrame(columns=[*DIMENSIONS, "value"])
        total, removed, groups = _values_dropped(old, new_part)
    return DropReport(series, label, None, total, removed, threshold, groups, replaces=())


def publish_checks(store: Store, items: list[tuple[DatasetMeta, Form, pd.DataFrame]], labels: list[str], *,
                   confirm_drop: bool = False) -> list[PublishCheck | None]:
    """The checks of datasets stored and published in one transaction; raises
    :class:`DropNotConfirmed` (nothing stored) when one drops too much and ``confirm_drop`` is false."""
    reports = stored_frames_reports(store, items, labels)
    blocked = [r for r in reports if r.needs_confirmation]
    if blocked and not confirm_drop:
        raise DropNotConfirmed(blocked)
    seen: set[tuple[str, str, str]] = set()
    checks: list[PublishCheck | None] = []
    for r in reports:
        check = r.check(confirm_drop)
        if r.series in seen:  # replaces a version stored earlier in the same transaction: its id is not known yet
            check = PublishCheck(replaces=None, confirmed_drop=check.confirmed_drop)
        checks.append(check)
        seen.add(r.series)
    return checks


# ---- words and tables of a report (the page and the command line show the same) --------------------
def describe(report: DropReport, lang: str = "en") -> str:
    """One sentence: which version would replace which, and what share of its values it drops."""
    from mmicd.i18n import format_number, format_percent

    c = report.current
    current = t("guards.drop.current", lang, id=c.id, version=c.version) if c else \
        t("guards.drop.current_same_load", lang)
    kind, scope, source = report.series
    unit = "guards.unit.records" if c is not None and c.form == Form.MICRODATA else "guards.unit.values"
    return t("guards.drop.summary", lang, label=report.label, current=current,
             series=f"{t(f'kind.{kind}', lang)}, {_area(scope, lang)}, {source}",
             removed=format_number(report.removed, lang), total=format_number(report.current_values, lang),
             unit=t(unit, lang), share=format_percent(100 * report.share, lang),
             threshold=format_percent(100 * report.threshold, lang, 0))


def _area(code: str, lang: str) -> str:
    from mmicd import codes

    if code in ("_ALL", "_T", ""):
        return t("guards.all_areas", lang)
    return f"{codes.area_name(code, lang)} ({code})"


def detail_label(detail: str, lang: str = "en") -> str:
    """``sex+age`` as words in ``lang`` ("sex × age"); a total as "total"."""
    from mmicd.i18n import catalogue

    if not detail:
        return t("guards.dim.total", lang)
    names = catalogue(lang)
    return " × ".join(names.get(f"guards.dim.{d}", d) for d in detail.split("+"))


def groups_frame(report: DropReport, lang: str = "en") -> pd.DataFrame:
    """What disappears, by measure × area × detail, with the years and counts, columns in ``lang``."""
    from mmicd import codes

    g = report.groups
    years = [f if f == last else f"{f}–{last}" for f, last in zip(g["first"], g["last"], strict=True)]
    return pd.DataFrame({
        t("guards.col.measure", lang): [m or t("guards.unit.records", lang) for m in g["measure"]],
        t("guards.col.area", lang): [codes.area_name(a, lang) if a not in ("_T", "_U") else a
                                     for a in g["ref_area"]],
        t("guards.col.code", lang): g["ref_area"].astype(str),
        t("guards.col.detail", lang): [detail_label(b, lang) if m else "" for m, b in
                                       zip(g["measure"], g["detail"], strict=True)],
        t("guards.col.years", lang): years,
        t("guards.col.periods", lang): g["periods"].astype("int64"),
        t("guards.col.removed", lang): g["removed"].astype("int64"),
        t("guards.col.published", lang): g["published"].astype("int64"),
    })


def group_lines(report: DropReport, lang: str = "en", limit: int = 20) -> list[str]:
    """What disappears as text lines (the command line's listing), the largest groups first."""
    from mmicd.i18n import format_number

    table = groups_frame(report, lang)
    lines = [t("guards.drop.line", lang, measure=row[0], area=row[1], code=row[2], detail=row[3] or "–",
               years=row[4], removed=format_number(row[6], lang), published=format_number(row[7], lang))
             for row in table.head(limit).itertuples(index=False, name=None)]
    if len(table) > limit:
        lines.append(t("guards.drop.more", lang, n=format_number(len(table) - limit, lang)))
    return lines
