"""The column-wise reader of large tidy tables gives exactly what the cell-by-cell reader gives.

Large CSVs (over ``reader.TIDY_MIN_ROWS`` lines) are read as frames, column by column; smaller ones
cell by cell. Both read the same real files here (UNHCR Data Finder exports, see
``../shared/reference/layouts/README.md``) with the threshold lowered, and must agree row for row."""

from __future__ import annotations

import pandas as pd
import pytest

from mmicd.ingest import prepare
from mmicd.io import reader
from tests.ingest.conftest import upload

KEY = ["measure", "ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area", "breakdown"]


def _frame(path, monkeypatch, threshold):
    monkeypatch.setattr(reader, "TIDY_MIN_ROWS", threshold)
    prep = prepare([upload(path)])
    # no errors; UNHCR's few rows whose origin is the country of asylum itself are warnings (both readers
    # must name the same rows, see tests/ingest/test_layouts.py)
    errors = [i for i in prep.issues if i.level == "error"]
    assert not errors, errors[:3]
    frame = pd.concat([d.frame for d in prep.datasets], ignore_index=True)
    return frame.sort_values(KEY).reset_index(drop=True), prep


@pytest.mark.parametrize("name", ["solutions.csv", "asylum-applications.csv"])
def test_column_wise_and_cell_wise_readers_agree(reference, monkeypatch, name):
    path = reference / "layouts" / "unhcr-datafinder-csv" / name
    grid, before = _frame(path, monkeypatch, 10**9)
    tidy, prep = _frame(path, monkeypatch, 10)
    assert len(tidy) == len(grid) > 1000
    refused = [(i.row, i.value) for i in prep.issues if i.check == "origin_is_asylum"]
    assert refused == [(i.row, i.value) for i in before.issues if i.check == "origin_is_asylum"]
    pd.testing.assert_frame_equal(tidy[[*KEY, "value", "obs_status"]], grid[[*KEY, "value", "obs_status"]])


def test_a_csv_with_lines_the_parser_would_drop_is_read_cell_by_cell(reference, monkeypatch):
    """population.csv has 147 names with unquoted commas: the fast reader would drop those lines,
    so the file is read as a grid, where they are joined again (and said)."""
    path = reference / "layouts" / "unhcr-datafinder-csv" / "population.csv"
    frame, prep = _frame(path, monkeypatch, 10)
    joined = [i for i in prep.issues if "not quoted" in i.message]
    assert len(joined) == 147 and all(i.level == "info" and i.row for i in joined)
    # nothing lost, nothing counted twice: the totals of the file's two value columns (the last two
    # fields of every line, whatever the commas before them) are the totals stored
    import csv

    with open(path, encoding="utf-8") as fh:
        lines = [r for r in csv.reader(fh)][1:]
    assert len(lines) == 32781
    refugees = sum(int(r[-2]) for r in lines)
    asylum = sum(int(r[-1]) for r in lines)
    assert frame.loc[frame.measure == "REFUG", "value"].sum() == refugees
    assert frame.loc[frame.measure == "ASY_SEEK", "value"].sum() == asylum
