"""Issues for the problems the number reader (:mod:`mmicd.io.numbers`) found in a column: one per
cell (up to :data:`mmicd.clean.validate.MAX_PER_CHECK` per kind, then a count), naming the cell,
its text and, for a contradiction, the cell of the same column written the other way."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmicd.clean.validate import MAX_PER_CHECK, Context
from mmicd.i18n import format_number
from mmicd.io.numbers import COMMA, POINT, Numbers, readings

UNDECIDED = ("number_ambiguous", "number_contradictory", "number_unit_conflict")


def report(ctx: Context, frame: pd.DataFrame, got: Numbers, canonical: str, source: pd.Series, *,
           finite: bool = True) -> None:
    """Errors at the cells of ``frame`` (with ``_row``, and ``_col``/``_sheet`` when present) that
    are no number, not finite (unless ``finite`` is False: a rule tells them), ambiguous or
    contradictory; ``source`` holds the cells as written.
    (Observations tell the same through the rules: :func:`undecided` gives them the last two.)"""
    p = got.problems
    ctx.cells("error", "not_a_number", frame, p["not_a_number"], canonical, source_values=source)
    if finite:
        ctx.cells("error", "non_finite", frame, p["not_finite"], canonical, source_values=source)
    rows = frame["_row"].to_numpy() if "_row" in frame else np.arange(len(frame)) + 2
    why = undecided(got, source, rows, ctx.lang)
    if why is None:
        return
    cols = frame["_col"].to_numpy() if "_col" in frame and canonical == "value" else None
    sheets = frame["_sheet"].to_numpy() if "_sheet" in frame else None
    counts = dict.fromkeys(UNDECIDED, 0)
    for i in np.flatnonzero(pd.notna(why.to_numpy(dtype=object))):
        fields = dict(why.iat[i])
        key = fields.pop("key")
        counts[key] += 1
        if counts[key] <= MAX_PER_CHECK:
            ctx.add("error", key, row=int(rows[i]), column=str(cols[i]) if cols is not None else ctx.col(canonical),
                    value=_text(source.iloc[i]), sheet=str(sheets[i]) if sheets is not None else None, **fields)
    for key, n in counts.items():
        if n > MAX_PER_CHECK:
            ctx.add("error", "more", column=ctx.col(canonical), n=n - MAX_PER_CHECK, check=key)


def undecided(got: Numbers, source: pd.Series, rows: np.ndarray, lang: str) -> pd.Series | None:
    """Per cell (``rows``: their sheet rows), None or what to say of a number no evidence settles: ``{"key": ..., fields}`` —
    ambiguous (``45.678``: which reading?), contradictory (written with the other decimal mark than
    a cell of the same column), or whole only with the other mark (a count). Fields are built for the
    first :data:`MAX_PER_CHECK` cells of each key (the rest are only counted). None: no such cell."""
    p = got.problems
    if not (p["ambiguous"].any() or p["contradictory"].any()):
        return None
    why = np.full(len(source), None, dtype=object)

    def ambiguous(i: int) -> dict:
        text = _text(source.iloc[i])
        vp, vc = readings(text)
        mark = POINT if POINT in text else COMMA
        decimal, thousands = (vp, vc) if mark == POINT else (vc, vp)
        return {"mark": mark, "decimal": _fmt(decimal, lang), "thousands": _fmt(thousands, lang)}

    def contradictory(i: int) -> dict:
        j = int(got.other[i])
        return {"other": _text(source.iloc[j]) if j >= 0 else "", "other_row": int(rows[j]) if j >= 0 else "",
                "mark": _mark(got, i), "other_mark": _mark(got, j) if j >= 0 else ""}

    for key, mask, fields in (("number_ambiguous", p["ambiguous"], ambiguous),
                              ("number_contradictory", p["contradictory"] & ~got.by_unit, contradictory),
                              ("number_unit_conflict", p["contradictory"] & got.by_unit, contradictory)):
        idx = np.flatnonzero(mask)
        for n, i in enumerate(idx):
            why[i] = {"key": key, **fields(int(i))} if n < MAX_PER_CHECK else {"key": key}
    return pd.Series(why, index=source.index, dtype=object)


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

