"""Validation by integer keys (mmicd.clean.keys) gives the issues the text-column checks gave, and the
observation frame the ingestion builds is already in the canonical shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mmicd.clean import validate
from mmicd.clean.keys import Keys
from mmicd.ingest import Upload, prepare
from mmicd.model import DIMENSIONS, normalise_observations

AGES = ["Y0T4", "Y5T9", "Y10T14", "Y15T19", "Y15T24", "Y20T24", "Y_GE75", "_T", "_U"]


def test_groups_follow_the_order_of_the_labels():
    frame = pd.DataFrame({"a": ["y", "x", "y", "x"], "b": ["2", "2", "1", "1"], "c": ["k"] * 4}, dtype="string")
    keys = Keys(frame)
    ids, k = keys.group(["a", "b", "c"])
    assert k == 4 and ids.tolist() == [3, 1, 2, 0]        # (x,1) (x,2) (y,1) (y,2)
    keys.give("a", np.array([1, 0, 1, 0]), ["y", "x"])     # unsorted labels given (x y x y): ranked
    codes, labels = keys.codes("a")
    assert labels == ["x", "y"] and codes.tolist() == [0, 1, 0, 1]
    assert keys.isin("b", {"1"}).tolist() == [False, False, True, True]


def _frame(draw_rows: list[tuple]) -> pd.DataFrame:
    f = pd.DataFrame(draw_rows, columns=["ref_area", "time_period", "sex", "age", "value"])
    for d in DIMENSIONS:
        if d not in f:
            f[d] = "POP" if d == "measure" else "_T"
    f = f.astype({d: "string" for d in DIMENSIONS})
    f["value"] = f["value"].astype("float64")
    f["unit_mult"] = 0
    f["obs_status"] = pd.Series("A", index=f.index, dtype="string")
    f["unit_measure"] = pd.Series("PS", index=f.index, dtype="string")
    f["_row"] = np.arange(len(f)) + 2
    return f


ROWS = st.lists(st.tuples(st.sampled_from(["NPL", "IND"]), st.sampled_from(["2019", "2020", "2021"]),
                          st.sampled_from(["F", "M", "_T"]), st.sampled_from(AGES),
                          st.sampled_from([1000.0, 5000.0, 20000.0, 2001.0, 150.0, float("nan")])),
                min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(ROWS)
def test_issues_do_not_depend_on_given_codes(rows):
    """The same issues, in the same order, whether the checks factorise the columns or get the codes."""
    frame = _frame(rows)
    plain = validate.Context(file="x", sheet=None, lang="en")
    validate.check_observations(plain, frame, {})
    coded = validate.Context(file="x", sheet=None, lang="en")
    keys = Keys(frame)
    for col in ("sex", "age"):
        codes, labels = pd.factorize(frame[col])
        keys.give(col, np.asarray(codes), [str(x) for x in labels])
    validate.check_observations(coded, frame, {}, keys)
    assert plain.issues == coded.issues


def test_duplicates_sums_bands_and_jumps_are_found_by_keys():
    rows = [("NPL", "2020", "F", "_T", 1000.0), ("NPL", "2020", "M", "_T", 1000.0), ("NPL", "2020", "_T", "_T", 3000.0),
            ("NPL", "2021", "_T", "_T", 50000.0), ("NPL", "2021", "_T", "_T", 50000.0),
            ("IND", "2020", "F", "Y0T4", 1.0), ("IND", "2020", "F", "Y10T14", 1.0)]
    ctx = validate.Context(file="x", sheet=None, lang="en")
    validate.check_observations(ctx, _frame(rows), {})
    found = {(i.row, i.message.split(" ")[0]) for i in ctx.issues}
    assert (6, "This") in found                                   # duplicate key, rows 5 and 6
    assert (4, "The") in found                                    # parts by sex 2000 vs 3000
    assert (8, "Gap") in found                                    # Y5T9 missing
    assert any("tenfold" in i.message for i in ctx.issues)        # 3000 -> 50000


def test_prepared_observations_are_in_canonical_shape():
    body = ("ref_area;time_period;sex;age;value\nNPL;2021;F;15-24;1.234\nNPL;2021;M;15-24;..\n"
            "Nepal;2021;Total;15-24; 2.468 \n")
    frame = prepare([Upload("x.csv", body.encode())]).datasets[0].frame
    canonical = normalise_observations(frame)
    pd.testing.assert_frame_equal(frame, canonical)
    assert frame["obs_status"].tolist() == ["A", "M", "A"] and frame["ref_area"].tolist() == ["NPL"] * 3
