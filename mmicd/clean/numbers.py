"""Issues for the problems the number reader (:mod:`mmicd.io.numbers`) found in a column: one per
cell (up to :data:`mmicd.clean.validate.MAX_PER_CHECK` per kind, then a count), naming the cell,
its text and, for a contradiction, the cell of the same column written the other way."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmicd.clean.validate import MAX_PER_CHECK, Context
from mmicd.i18n import format_number
from mmicd.io.numbers import COMMA, POINT, Numbers, readings


def report(ctx: Context, frame: pd.DataFrame, got: Numbers, canonical: str, source: pd.Series) -> None:
    """Errors at the cells of ``frame`` (with ``_row``, and ``_col``/``_sheet`` when present) that
    are no number, not finite, ambiguous or contradictory; ``source`` holds the cells as written."""
    p = got.problems
    ctx.cells("error", "not_a_number", frame, p["not_a_number"], canonical, source_values=source)
    ctx.cells("error", "not_finite", frame, p["not_finite"], canonical, source_values=source)
    if not (p["ambiguous"].any() or p["contradictory"].any()):
        return
    texts = _Cells(source)
    rows = frame["_row"].to_numpy() if "_row" in frame else np.arange(len(frame)) + 2

    def ambiguous(i: int) -> dict:
        text = _text(texts[i])
        vp, vc = readings(text)
        mark = POINT if POINT in text else COMMA
        decimal, thousands = (vp, vc) if mark == POINT else (vc, vp)
        return {"mark": mark, "decimal": _fmt(decimal, ctx.lang), "thousands": _fmt(thousands, ctx.lang)}

    def contradictory(i: int) -> dict:
        j = int(got.other[i])
        return {"other": _text(texts[j]) if j >= 0 else "", "other_row": int(rows[j]) if j >= 0 else "",
                "mark": _mark(got, i), "other_mark": _mark(got, j) if j >= 0 else ""}

    _each(ctx, "number_ambiguous", frame, p["ambiguous"], canonical, texts, ambiguous)
    _each(ctx, "number_contradictory", frame, p["contradictory"] & ~got.by_unit, canonical, texts, contradictory)
    _each(ctx, "number_unit_conflict", frame, p["contradictory"] & got.by_unit, canonical, texts, contradictory)


class _Cells:
    """Cells of a column by position, read one at a time (not the whole column as Python objects)."""

    def __init__(self, source: pd.Series):
        self.source = source

    def __getitem__(self, i: int) -> object:
        return self.source.iloc[int(i)]


def _each(ctx: Context, key: str, frame: pd.DataFrame, mask: np.ndarray, canonical: str, texts: _Cells,
          fields) -> None:
    idx = np.flatnonzero(mask)
    if not len(idx):
        return
    rows = frame["_row"].to_numpy() if "_row" in frame else np.arange(len(frame)) + 2
    cols = frame["_col"].to_numpy() if "_col" in frame and canonical == "value" else None
    sheets = frame["_sheet"].to_numpy() if "_sheet" in frame else None
    for i in idx[:MAX_PER_CHECK]:
        ctx.add("error", key, row=int(rows[i]), column=str(cols[i]) if cols is not None else ctx.col(canonical),
                value=_text(texts[i]), sheet=str(sheets[i]) if sheets is not None else None, **fields(int(i)))
    if len(idx) > MAX_PER_CHECK:
        ctx.add("error", "more", column=ctx.col(canonical), n=len(idx) - MAX_PER_CHECK, check=key)


def _mark(got: Numbers, i: int) -> str:
    return {1: POINT, 2: COMMA}.get(int(got.implied[i]), "")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _fmt(value: float | None, lang: str) -> str:
    if value is None:
        return ""
    decimals = 0 if float(value).is_integer() else min(len(repr(float(value)).split(".")[-1]), 6)
    text = format_number(value, lang, decimals)
    return text if decimals else f"{value:.0f}"

