"""Running the rules: every failure at once, knock-on ones nested under their cause; the store's issues."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmicd.i18n import t
from mmicd.issues import Issue
from mmicd.model import DIMENSION_CODELISTS, MICRODATA_CODELISTS
from mmicd.rules.base import MAX_PER_CHECK, MD, OBS, RULES, Found, Params, Rule, factorized_once
from mmicd.rules.cells import code_rules


def rules_for(form: str) -> list[Rule]:
    """Every rule of ``form``: codes first (from the model's code lists), then the registry."""
    lists = dict(DIMENSION_CODELISTS) | {"obs_status": "obs_status"} if form == OBS else dict(MICRODATA_CODELISTS)
    return code_rules(form, lists) + [r for r in RULES if r.form == form]


def all_keys() -> set[str]:
    """Every translation key a rule may use (a test checks each exists in every language)."""
    keys = {k for form in (OBS, MD) for r in rules_for(form) for k in r.keys}
    return keys | {"more", "unknown_code", "unknown_area"}


# ---- running them -------------------------------------------------------------------------------
@dataclass
class Failure:
    """One failure, ready to be told: the rule, the row position it points at, its column (canonical),
    its message key and fields; ``consequences`` are the knock-on failures it causes."""

    rule: Rule
    key: str
    pos: int | None
    column: str | None
    value: object
    fields: dict
    consequences: list[Failure] = field(default_factory=list)


def evaluate(frame: pd.DataFrame, form: str, params: Params | None = None, *,
             skip: Callable[[Rule], bool] | None = None, only: set[str] | None = None,
             known: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> list[Failure]:
    """Run every rule of ``form`` on ``frame``; return the failures to report, in order.

    ``known``: integer codes of columns the caller already has (see :func:`mmicd.rules.base.factorized_once`).

    All rules run (lazily: nothing stops at the first failure). Each rule, message key and column
    gives at most MAX_PER_CHECK failures one by one, then one summary failure (``more``) with the
    count of the rest. Failures of knock-on rules that involve a row with an error are attached to
    that error (its first reported failure) as consequences instead of being listed on their own;
    when that error is itself only counted in a summary, the consequence is dropped with it.
    """
    params = params or Params()
    n = len(frame)
    listed: list[Failure] = []
    owner = np.full(n, -1, dtype="int64")      # row -> index in ``listed`` of its first error
    in_error = np.zeros(n, dtype=bool)          # row has an error (listed or only counted)
    chosen = applicable(frame, form, skip=skip, only=only)
    with factorized_once(frame, known):
        for r in [r for r in chosen if not r.knock_on] + [r for r in chosen if r.knock_on]:
            found = _found(r, frame, params)
            if not len(found):
                continue
            attached = np.zeros(len(found), dtype=bool)
            if r.knock_on:
                attached = _attach(r, found, frame, params, listed, owner, in_error)
            _list(r, found, ~attached, frame, params, listed, owner, in_error)
    return listed


def applicable(frame: pd.DataFrame, form: str, *, skip: Callable[[Rule], bool] | None = None,
               only: set[str] | None = None) -> list[Rule]:
    """The rules of ``form`` that apply to ``frame`` (it has the columns they need)."""
    return [r for r in rules_for(form)
            if all(c in frame for c in r.needs) and (only is None or r.id in only) and not (skip and skip(r))]


def _found(r: Rule, frame: pd.DataFrame, params: Params) -> Found:
    got = r.check(frame, params)
    if isinstance(got, Found):
        return got
    mask = got.to_numpy(dtype=bool, na_value=False) if isinstance(got, pd.Series) else np.asarray(got, dtype=bool)
    return Found(np.flatnonzero(mask))


def _members(found: Found, k: int) -> np.ndarray:
    if found.ptr is None:
        return found.pos[k:k + 1]
    return found.members[found.ptr[k]:found.ptr[k + 1]]


def _failure(r: Rule, found: Found, k: int, frame: pd.DataFrame, params: Params) -> Failure:
    pos = int(found.pos[k])
    extra = r.fields(frame, params) if r.fields else {}
    column = r.column
    if found.fields is not None:
        row = found.fields.iloc[k].to_dict()
        key = row.pop("key", r.key)
        column = row.pop("column", column)
        value = row.pop("value", None)
        fields = {**extra, **row}
    else:
        key = r.key
        value = frame[r.column].iat[pos] if r.column in frame else None
        fields = extra
    return Failure(r, key, pos, column, value, fields)


def _attach(r: Rule, found: Found, frame, params, listed, owner, in_error) -> np.ndarray:
    """Attach failures involving a row in error to that error; True where attached (or dropped: when
    the error is only counted in a summary, or the failure is at the error's own cell)."""
    if found.ptr is None:
        hit = in_error[found.pos]
        first = owner[found.pos]
    else:
        err = in_error[found.members]
        mine = np.where(err, owner[found.members], -1)
        counts = np.diff(found.ptr)
        hit = np.zeros(len(found), dtype=bool)
        first = np.full(len(found), -1, dtype="int64")
        nonempty = counts > 0
        if nonempty.any():
            starts = found.ptr[:-1][nonempty]
            hit[nonempty] = np.maximum.reduceat(err.astype("int64"), starts) > 0
            big = np.where(mine < 0, np.iinfo("int64").max, mine)
            low = np.minimum.reduceat(big, starts)
            first[nonempty] = np.where(low == np.iinfo("int64").max, -1, low)
    for k in np.flatnonzero(hit & (first >= 0)):
        cause = listed[int(first[k])]
        if cause.pos == found.pos[k] and cause.column == r.column:
            continue  # the same cell, told again ("empty value" of a cell that is no number): dropped
        if len(cause.consequences) < MAX_PER_CHECK:
            cause.consequences.append(_failure(r, found, int(k), frame, params))
    return hit


def _list(r: Rule, found: Found, keep: np.ndarray, frame, params, listed, owner, in_error) -> None:
    idx = np.flatnonzero(keep)
    if not len(idx):
        return
    keys = found.fields["key"].to_numpy() if found.fields is not None and "key" in found.fields else None
    counts: dict[str, int] = {}
    extra: dict[str, int] = {}
    for k in idx:
        key = str(keys[k]) if keys is not None else r.key
        counts[key] = counts.get(key, 0) + 1
        if counts[key] > MAX_PER_CHECK:
            extra[key] = extra.get(key, 0) + 1
            if r.level == "error":
                in_error[found.pos[k]] = True
            continue
        listed.append(_failure(r, found, int(k), frame, params))
        if r.level == "error":
            rows = _members(found, int(k))
            for row in rows:
                if owner[row] < 0:
                    owner[row] = len(listed) - 1
            in_error[rows] = True
    if r.level == "error" and found.ptr is not None:
        in_error[found.members] = True
    for key, n in extra.items():
        listed.append(Failure(r, "more", None, r.column, None, {"n": n, "check": key}))


# ---- the store's issues: dataset rows -----------------------------------------------------------
def issues(frame: pd.DataFrame, form: str, *, file: str | None = None, lang: str = "en",
           params: Params | None = None, errors_only: bool = False) -> list[Issue]:
    """Every problem of a canonical frame as issues naming dataset rows (1-based) and canonical values.

    ``errors_only``: only the rules that can block storing run (what the store needs before a write)."""

    def tell(f: Failure) -> Issue:
        value = None if f.value is None or (isinstance(f.value, float) and np.isnan(f.value)) else str(f.value)
        fields = {"value": value or "", "column": f.column or "", **f.fields}
        return Issue(f.rule.level, t(f"ingest.issue.{f.key}", lang, **fields), file=file,
                     row=None if f.pos is None else f.pos + 1, column=f.column, value=value, check=f.key,
                     consequences=tuple(tell(c) for c in f.consequences))

    skip = (lambda r: r.level != "error") if errors_only else None
    return [tell(f) for f in evaluate(frame, form, params, skip=skip)]


def describe(form: str) -> Iterator[tuple[str, str, str]]:
    """(id, level, what it checks) of every rule of ``form``, for documentation."""
    for r in rules_for(form):
        yield r.id, r.level, r.doc

