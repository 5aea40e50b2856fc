"""Validation of mapped tables as the upload tells it: every problem of a file at once, as translated
:class:`Issue` values naming the cell (sheet, row as the spreadsheet shows it, column header as
written, value as written).

The rules are declared once, in :mod:`mmicd.rules` (the store runs the same ones on what it is
given). Input is a canonical frame (observations or microdata) with helper columns: ``_row`` (the
1-based sheet row), and where the reader has them ``_col`` (the source header of the value's cell,
for wide layouts), ``_cno`` (its 0-based column), ``_sheet``, ``_bad`` (text that is no number),
``_formula`` (a formula without a saved result) and ``_text`` (the value as written).
``columns`` maps canonical -> source header.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from mmicd import rules
from mmicd.i18n import t
from mmicd.issues import Issue
from mmicd.rules import MAX_PER_CHECK, Failure, Params

__all__ = ["MAX_PER_CHECK", "REQUIRED", "Context", "check_codes", "check_microdata", "check_observations",
           "check_required"]


@dataclass
class Context:
    file: str
    sheet: str | None
    lang: str
    columns: dict[str, str] = field(default_factory=dict)   # canonical -> source header
    issues: list[Issue] = field(default_factory=list)
    projections: bool = False                               # the file declares projections (see rules.Params)
    checked: set[tuple[str, str]] = field(default_factory=set)  # (message key, canonical column) already run

    def col(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)

    def issue(self, level: str, key: str, *, row: int | None = None, column: str | None = None,
              value: object = None, sheet: str | None = None, consequences: tuple[Issue, ...] = (),
              **fields: object) -> Issue:
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        fields.setdefault("value", text)
        fields.setdefault("column", column or "")
        return Issue(level, t(f"ingest.issue.{key}", self.lang, **fields), file=self.file,
                     sheet=sheet or self.sheet, row=row, column=column, value=text or None, check=key,
                     consequences=consequences)

    def add(self, level: str, key: str, *, row: int | None = None, column: str | None = None,
            value: object = None, sheet: str | None = None, **fields: object) -> None:
        self.issues.append(self.issue(level, key, row=row, column=column, value=value, sheet=sheet, **fields))

    def cells(self, level: str, key: str, frame: pd.DataFrame, mask: pd.Series, canonical: str,
              *, value_col: str | None = None, source_values: pd.Series | None = None, **fields) -> None:
        """One issue per offending cell (up to MAX_PER_CHECK), then a count."""
        self.checked.add((key, canonical))
        flags = mask.to_numpy(dtype=bool, na_value=False) if isinstance(mask, pd.Series) else np.asarray(mask, bool)
        idx = np.flatnonzero(flags)
        if not len(idx):
            return
        values = source_values if source_values is not None else frame[value_col or canonical]
        rows = frame["_row"].to_numpy() if "_row" in frame else np.arange(len(frame)) + 2
        cols = frame["_col"].to_numpy() if "_col" in frame and canonical == "value" else None
        sheets = frame["_sheet"].to_numpy() if "_sheet" in frame else None
        for i in idx[:MAX_PER_CHECK]:
            column = str(cols[i]) if cols is not None else self.col(canonical)
            self.add(level, key, row=int(rows[i]), column=column, value=values.iloc[i],
                     sheet=str(sheets[i]) if sheets is not None else None, **fields)
        if len(idx) > MAX_PER_CHECK:
            self.add(level, "more", column=self.col(canonical), n=len(idx) - MAX_PER_CHECK, check=key)

    # ---- the rules' failures, told at their cells ---------------------------------------------
    def report(self, frame: pd.DataFrame, failures: list[Failure], raw: dict[str, pd.Series]) -> None:
        """Issues of ``failures`` (from :func:`mmicd.rules.evaluate` on ``frame``) at their cells."""
        where = _Cells(frame, self, raw)
        told: dict[Issue, list[Issue]] = {}   # a wide table repeats a row's id cell once per value column:
        for f in failures:                    # one issue per cell, with the consequences of all
            issue = where.tell(f)
            told.setdefault(replace(issue, consequences=()), []).extend(issue.consequences)
        self.issues.extend(replace(i, consequences=tuple(dict.fromkeys(c))) for i, c in told.items())

    def run(self, frame: pd.DataFrame, form: str, raw: dict[str, pd.Series], params: Params, *,
            known: dict | None = None, **how) -> None:
        failures = rules.evaluate(frame, form, params, known=known, **how)
        for r in rules.applicable(frame, form, **how):
            if r.column:
                self.checked.update((k, r.column) for k in r.keys)
        self.report(frame, failures, raw)


class _Cells:
    """Where a failure is in the spreadsheet: sheet row, column header (or the wide label), sheet,
    and the value as written."""

    def __init__(self, frame: pd.DataFrame, ctx: Context, raw: dict[str, pd.Series]):
        self.ctx = ctx
        self.raw = raw
        self.rows = rules.row_labels(frame) if "_row" in frame else np.arange(len(frame)) + 2
        self.cols = frame["_col"].to_numpy() if "_col" in frame else None
        self.sheets = frame["_sheet"].to_numpy() if "_sheet" in frame else None

    def tell(self, f: Failure) -> Issue:
        ctx = self.ctx
        if f.pos is None:  # a summary: "... and N more"
            return ctx.issue(f.rule.level, f.key, column=ctx.col(f.column) if f.column else "", **f.fields)
        if f.column is None:
            column = None
        elif f.column == "value" and self.cols is not None:
            column = str(self.cols[f.pos])
        else:
            column = ctx.col(f.column)
        value = f.value
        if f.rule.column == f.column and f.column in self.raw and self.raw[f.column] is not None \
                and f.rule.id not in _FORMATTED:
            value = self.raw[f.column].iloc[f.pos]
        sheet = str(self.sheets[f.pos]) if self.sheets is not None else None
        return ctx.issue(f.rule.level, f.key, row=int(self.rows[f.pos]), column=column, value=value, sheet=sheet,
                         consequences=tuple(self.tell(c) for c in f.consequences), **f.fields)


# rules whose issue value is their own (formatted totals, a code), not the cell as written
_FORMATTED = {r.id for form in ("observations", "microdata") for r in rules.rules_for(form)
              if r.knock_on and r.level == "warning"} | {"duplicate", "age_bands"}


REQUIRED = {
    "observations": ["ref_area", "time_period", "value"],
    "microdata": ["time_period", "sex", "age", "weight"],
}


def check_required(ctx: Context, present: set[str], form: str, kind: str) -> bool:
    needed = list(REQUIRED[form])
    if form == "microdata" and "ref_area" not in present:
        needed.append("ref_area")
    if form == "observations" and kind in ("remittances",):
        needed.append("measure")
    missing = [c for c in needed if c not in present]
    for c in missing:
        ctx.add("error", "missing_column", column=c)
    return not missing


def check_codes(ctx: Context, frame: pd.DataFrame, raw: dict[str, pd.Series], columns: list[str],
                unknown_ok: bool, known: dict | None = None) -> None:
    """Unknown codes of ``columns`` (and bad periods when the frame has ``time_period``); ``known``:
    the codes of columns the caller has (see :func:`mmicd.rules.base.factorized_once`)."""
    wanted = {f"code.{c}" for c in columns} | ({"period"} if "time_period" in frame else set())
    form = "microdata" if unknown_ok else "observations"
    ctx.run(frame, form, raw, Params(unknown_ok=unknown_ok, projections=ctx.projections), only=wanted,
            known=known)


def check_observations(ctx: Context, frame: pd.DataFrame, raw: dict[str, pd.Series],
                       known: dict | None = None) -> None:
    """Errors and warnings of a canonical observation frame (with ``_row``/``_col``): every rule.
    ``known``: the codes of columns the caller has (see :func:`mmicd.rules.base.factorized_once`)."""
    ctx.run(frame, "observations", raw, Params(projections=ctx.projections), known=known)


def check_microdata(ctx: Context, frame: pd.DataFrame, raw: dict[str, pd.Series]) -> None:
    """The microdata rules the reader has not already run on these columns (it checks codes, ages and
    weights as it converts them; what is left, such as years out of range or infinite weights, is run here)."""

    def done(r: rules.Rule) -> bool:
        return r.column is not None and all((k, r.column) in ctx.checked for k in r.keys)

    ctx.run(frame, "microdata", raw, Params(unknown_ok=True), skip=done)
