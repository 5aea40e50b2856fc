"""The rules' fast paths (mmicd/rules): integer codes handed over by the upload, text tests once per
distinct code, totals and equal sexes summed with numpy. Each gives what the reference gives: the
same issues (messages, rows, values, order) on frames built to fail in every way a wrong shortcut
would hide (totals that do not add up, equal counts, duplicate keys, unknown codes, missing cells)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmicd import rules
from mmicd.clean.mapping import MappingProfile
from mmicd.ingest import Upload, prepare
from mmicd.model import normalise_observations
from mmicd.rules import base, totals

AGES = [f"Y{a}T{a + 4}" for a in range(0, 65, 5)] + ["Y_GE65"]


def told(issues) -> list[tuple]:
    return [(i.level, i.check, i.row, i.column, i.value, i.message,
             tuple((c.check, c.row, c.value, c.message) for c in i.consequences)) for i in issues]


def reference(monkeypatch, frame: pd.DataFrame, **kw) -> list[tuple]:
    """The issues with the numpy shortcuts of the totals turned off (pandas groups and sums)."""
    with monkeypatch.context() as m:
        m.setattr(totals, "_exact", lambda *a: False)
        return told(rules.issues(frame, "observations", **kw))


def table(seed: int, *, fraction: bool = False, partner: bool = False) -> pd.DataFrame:
    """Complete tables by sex x age x migrant status for a few areas and years, totals equal to
    their parts, then broken on purpose: some totals off (a lot, or by rounding), parts missing,
    values empty, equal female and male counts, a duplicated key, an unknown code, a jump."""
    rng = np.random.default_rng(seed)
    rows = []
    for area in ("NPL", "IND", "BGD"):
        for year in ("2019", "2020", "2021"):
            base_ = rng.integers(1_000, 9_000, size=(2, len(AGES), 2)).astype(float)
            if fraction:
                base_ += rng.choice([0.0, 0.25, 0.1], size=base_.shape)
            full = np.zeros((3, len(AGES) + 1, 3))
            full[:2, :len(AGES), :2] = base_
            full[:2, :len(AGES), 2] = base_.sum(axis=2)
            full[2] = full[:2].sum(axis=0)
            full[:, len(AGES)] = full[:, :len(AGES)].sum(axis=1)
            for i, sex in enumerate(("F", "M", "_T")):
                for j, age in enumerate([*AGES, "_T"]):
                    for k, ms in enumerate(("MS_MIGRANT", "MS_NOMIGRANT", "_T")):
                        rows.append((area, year, sex, age, ms, full[i, j, k]))
    frame = pd.DataFrame(rows, columns=["ref_area", "time_period", "sex", "age", "migrant_status", "value"])
    if partner:
        frame["counterpart_area"] = rng.choice(["_T", "IND", "OOO"], size=len(frame))
    n = len(frame)
    v = frame["value"].to_numpy().copy()
    hit = rng.choice(n, size=12, replace=False)
    v[hit[:4]] += 5_000                      # far off
    v[hit[4:7]] += 1                         # off by rounding
    v[hit[7:10]] = np.nan                    # empty values (missing_status errors, knock-ons)
    v[hit[10]] *= 100                        # a jump
    frame["value"] = v
    # equal female and male counts in two groups
    f = frame.index[(frame["sex"] == "F") & (frame["age"] == "Y20T24") & (frame["migrant_status"] == "MS_MIGRANT")]
    m = frame.index[(frame["sex"] == "M") & (frame["age"] == "Y20T24") & (frame["migrant_status"] == "MS_MIGRANT")]
    frame.loc[m[:2], "value"] = frame.loc[f[:2], "value"].to_numpy()
    drop = rng.choice(n, size=5, replace=False)                 # parts missing: incomplete sets
    frame = pd.concat([frame.drop(index=drop), frame.iloc[[3, 40]]], ignore_index=True)   # duplicates
    frame.loc[7, "age"] = "Y7T9"                                                           # unknown code
    frame.loc[11, "sex"] = "X"
    frame.loc[20, "age"] = "_U"
    return normalise_observations(frame.assign(measure="POP"))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("fraction", [False, True])
@pytest.mark.parametrize("partner", [False, True])
def test_totals_and_equal_sexes_summed_by_numpy_tell_what_pandas_tells(monkeypatch, seed, fraction, partner):
    frame = table(seed, fraction=fraction, partner=partner)
    got = told(rules.issues(frame, "observations"))
    assert got == reference(monkeypatch, frame)
    checks = {g[1] for g in got} | {c[0] for g in got for c in g[6]}
    assert {"duplicate", "unknown_code", "missing_status"} <= checks
    if not partner:
        assert {"sum_mismatch", "rounding", "equal_sexes", "jump"} <= checks


def test_whole_numbers_only_take_the_numpy_sums():
    assert totals._exact(np.array([1.0, np.nan, -3.0, 2e15]))
    assert not totals._exact(np.array([1.0, 0.5]))
    assert not totals._exact(np.array([1.0, np.inf]))
    assert not totals._exact(np.array([2.0 ** 52, 2.0 ** 52]))    # the sum could round


def test_totals_count_parts_by_group_and_dimension():
    """A total off its parts is told at its row with the sum of its parts; an incomplete set is
    told only when its parts exceed the total; a complete one of whole numbers exactly."""
    frame = normalise_observations(pd.DataFrame({
        "ref_area": "NPL", "time_period": ["2020"] * 3 + ["2021"] * 3 + ["2022"] * 2,
        "sex": ["F", "M", "_T"] * 2 + ["F", "_T"], "value": [10.0, 20.0, 35.0, 10.0, 20.0, 30.0, 50.0, 40.0],
        "measure": "POP"}))
    found = [(i.check, i.row, i.value) for i in rules.issues(frame, "observations")]
    assert found == [("sum_mismatch", 3, "35"), ("parts_exceed", 8, "40")]


# ---- codes of each column -----------------------------------------------------------------------
TEXTS = ["b", "a", "", " a", "É", "e", "_T", "Z", "ä", "a ", "Y10T14", "Y5T9", "中", "a"]


@pytest.mark.parametrize("dtype", ["string", "str", object])
def test_column_codes_are_the_sorted_distinct_texts_whatever_the_storage(dtype):
    rng = np.random.default_rng(5)
    values = list(rng.choice(np.array(TEXTS, dtype=object), 400))
    frame = pd.DataFrame({"c": pd.Series(values, dtype=dtype)})
    index, uniques = base.column_codes(frame, "c")
    ref_index, ref_uniques = pd.factorize(frame["c"].astype("string").fillna(""), sort=True)
    assert list(uniques) == list(ref_uniques) and (index == ref_index).all()
    assert set(uniques) == set(values)     # only the texts present


def test_missing_cells_are_blank_codes_and_never_members_of_a_set_with_a_blank():
    frame = pd.DataFrame({"c": pd.Series(["F", None, "", "M", None], dtype="string")})
    index, uniques = base.column_codes(frame, "c")
    assert list(uniques) == ["", "F", "M"] and list(index) == [1, 0, 0, 2, 0]
    assert list(base.is_in(frame, "c", {"F"})) == [True, False, False, False, False]
    assert list(base.is_in(frame, "c", {"", "M"})) == [False, False, True, True, False]   # as pandas isin
    objects = pd.DataFrame({"c": pd.Series([1, "1", None], dtype=object)})
    assert list(base.is_in(objects, "c", {"1"})) == [False, True, False]                  # as pandas isin


def test_sorted_codes_keep_only_present_texts_in_sorted_order():
    index, uniques = base.sorted_codes(np.array([3, 0, 3, 1]), ["z", "b", "never", "a"])
    assert list(uniques) == ["a", "b", "z"] and list(index) == [0, 2, 0, 1]


def test_unknown_codes_are_told_at_their_cells_from_the_codes_handed_over():
    """The upload hands the rules the codes it recoded: an unknown code is still told at its sheet
    row, with the value as written, and the frame keeps the same texts."""
    text = "area,year,sex,age,value\nNPL,2020,F,15-19,10\nNPL,2020,Q,15-19,10\nNPL,2020,M, 99-104 ,10\n" \
           "NPL,2020,M,20-24,10\nNPL,2020,M,20-24,11\n"
    prep = prepare([Upload("t.csv", text.encode())])
    got = [(i.check, i.row, i.column, i.value) for i in prep.issues if i.level == "error"]
    assert ("unknown_code", 3, "sex", "Q") in got
    assert ("unknown_code", 4, "age", "99-104") in got
    assert ("duplicate", 6, None, None) in got


def test_the_codes_handed_over_are_what_the_rules_would_compute(monkeypatch):
    """Every column the upload hands over codes for (recoded dimensions, constants, units) gets the
    codes and texts :func:`mmicd.rules.base.column_codes` computes from the frame itself."""
    from mmicd.rules import run

    seen: list[str] = []
    real = run.factorized_once

    def checked(frame, known=None):
        for col, (index, uniques) in (known or {}).items():
            ref_index, ref_uniques = pd.factorize(frame[col].astype("string").fillna(""), sort=True)
            assert list(uniques) == list(ref_uniques), col
            assert np.array_equal(np.asarray(index), ref_index), col
            seen.append(col)
        return real(frame, known)

    monkeypatch.setattr(run, "factorized_once", checked)
    text = ("Country,Year,Sex,Age group,Migrant status,Value\n"
            "Nepal,2020,Female,15-19,Migrants,10\nNPL,2020, M ,15-19,MS_MIGRANT,12\nNPL,2020,,15-19,,22\n"
            "NPL,2021,Male,,Non-migrants,7\nnpl,2021,female,Total,_T,\nNPL,2021,X,15 - 19,?,5\n")
    columns = {"ref_area": "Country", "time_period": "Year", "sex": "Sex", "age": "Age group",
               "migrant_status": "Migrant status", "value": "Value"}
    prep = prepare([Upload("t.csv", text.encode())], mapping=MappingProfile(kind="census", columns=columns))
    assert ("unknown_code", 7, "Sex", "X") in [(i.check, i.row, i.column, i.value) for i in prep.issues]
    del columns["ref_area"]
    prepare([Upload("t.csv", text.encode())], country="NPL", mapping=MappingProfile(kind="census", columns=columns))
    assert {"ref_area", "time_period", "sex", "age", "migrant_status", "measure", "breakdown",
            "unit_measure"} <= set(seen)
    seen.clear()
    lfs = ("country,year,sex,age,migrant_status,labour_status,weight\n"
           "NPL,2022,F,30,MS_MIGRANT,EMP,1.5\nNPL,2022, M ,41,Migrant,UNE,2\nNPL,2022,Q,50,,INA,1\n"
           "NPL,2022,,19,MS_NOMIGRANT,XYZ,1\nNPL,20X2,Female,25,MS_MIGRANT,EMP,3\n")
    prep = prepare([Upload("lfs.csv", lfs.encode())], kind="lfs")
    assert {"ref_area", "time_period", "sex", "migrant_status", "labour_status"} <= set(seen)
    got = [(i.check, i.row, i.column, i.value) for i in prep.issues if i.level == "error"]
    assert ("unknown_code", 4, "sex", "Q") in got and ("unknown_code", 5, "labour_status", "XYZ") in got
    assert ("bad_period", 6, "year", "20X2") in got


# ---- the upload: every shortcut against the path it replaces ----------------------------------------
FIXTURES = sorted(p for p in (Path(__file__).parents[1] / "fixtures").glob("*/*") if p.suffix in (".csv", ".xlsx"))


def _reference(monkeypatch) -> None:
    """The upload as it was: each dimension stripped row by row and factorized by the rules, totals
    grouped by pandas, the frame normalised by :func:`mmicd.model.normalise_observations`."""
    from mmicd import ingest
    from mmicd.clean.mapping import take_labels
    from mmicd.rules import run

    def dimension_codes(index, labels):
        column = ingest._dimension(take_labels(list(labels), np.asarray(index), pd.RangeIndex(len(index))))
        codes_, uniques = pd.factorize(column.astype("string").fillna(""), sort=True)
        return codes_.astype("int64"), np.asarray(uniques, dtype=object)

    monkeypatch.setattr(ingest, "_dimension_codes", dimension_codes)
    monkeypatch.setattr(ingest, "_canonical", lambda out: normalise_observations(out[ingest.OBS_COLUMNS]))
    monkeypatch.setattr(run, "factorized_once", lambda frame, known=None: base.factorized_once(frame))
    monkeypatch.setattr(totals, "_exact", lambda *a: False)


@pytest.mark.parametrize("large", [False, True], ids=["reader", "column-mapped"])
def test_every_fixture_gives_the_same_issues_and_frames_as_the_reference_path(monkeypatch, large):
    """Every fixture file (good and bad), read by the general reader and, as a large plain CSV is,
    by the column-mapped reader: the same issues, in the same order, and the same frames."""
    from mmicd.io import read, reader

    if large:
        monkeypatch.setattr(reader, "TIDY_MIN_ROWS", 0)

    def run_all():
        out = []
        for path in FIXTURES:
            read._CACHE.clear()
            prep = prepare([Upload(path.name, path.read_bytes())])
            out.append((path.name, [(i.level, i.check, i.sheet, i.row, i.column, i.value, i.message,
                                     tuple(c.message for c in i.consequences)) for i in prep.issues],
                        [d.frame for d in prep.datasets]))
        return out

    fast = run_all()
    with monkeypatch.context() as m:
        _reference(m)
        slow = run_all()
    assert len(fast) == len(FIXTURES) > 30
    for (name, issues, frames), (_, ref_issues, ref_frames) in zip(fast, slow, strict=True):
        assert issues == ref_issues, name
        assert len(frames) == len(ref_frames), name
        for a, b in zip(frames, ref_frames, strict=True):
            pd.testing.assert_frame_equal(a, b, obj=name)


@pytest.mark.parametrize("radix", [1, 7, 1000])
def test_first_appearance_numbers_codes_as_factorize_does(radix):
    rng = np.random.default_rng(radix)
    for n in (0, 1, 50, 5000):
        gid = rng.integers(0, radix, n).astype("int64")
        assert np.array_equal(base.first_appearance(gid, radix), pd.factorize(gid)[0])
