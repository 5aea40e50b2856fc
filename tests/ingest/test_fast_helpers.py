"""The shortcuts of the CSV check against what they replace (numpy and pandas, or a full scan):
random cases, the edges (empty, one value, negative or out-of-range codes) and hand-made files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmicd.io import read
from mmicd.io.read import FileProblem, in_background, result
from mmicd.rules.base import first_appearance, sub_group_ids, take
from mmicd.rules.totals import _first_of_each


def test_take_compares_codes_exactly_as_a_gather():
    rng = np.random.default_rng(7)
    for _ in range(2000):
        m = int(rng.integers(1, 30))
        table = rng.random(m) < rng.random()
        index = rng.integers(0, m, int(rng.integers(1, 40))).astype(rng.choice([np.int8, np.int32, np.int64]))
        got = take(table, index)
        assert got.dtype == bool and np.array_equal(got, table[index])
    table = np.array([False, True, False])
    assert take(table, np.array([-1, 1, 0], dtype=np.int8)).tolist() == [False, True, False]   # -1: the last
    with pytest.raises(IndexError):            # out of range stays an error, never a silent False
        take(table, np.array([0, 3]))
    view = take(table, np.broadcast_to(np.int8(1), (5,)))
    assert view.tolist() == [True] * 5 and not view.flags.writeable


def test_first_appearance_numbers_as_factorize():
    rng = np.random.default_rng(3)
    for n, radix in [(0, 4), (1, 1), (7, 3), (5000, 40), (200_000, 300_000)]:
        gid = rng.integers(0, radix, n).astype("int32")
        assert np.array_equal(first_appearance(gid, radix), pd.factorize(gid)[0])
    assert first_appearance(np.array([5, 5, 2, 9, 2], dtype="int32"), 10).tolist() == [0, 0, 1, 2, 1]
    ids = pd.factorize(rng.integers(0, 500, 3000))[0].astype("int32")
    where = np.flatnonzero(rng.random(3000) < 0.3)
    assert np.array_equal(sub_group_ids(ids, where), pd.factorize(ids[where])[0])
    assert sub_group_ids(ids, np.zeros(0, dtype="int64")).tolist() == []


def test_first_of_each_is_the_sorted_first_positions():
    rng = np.random.default_rng(5)
    for n, size in [(0, 3), (1, 1), (60, 9), (100_000, 150_000)]:
        gid = rng.integers(0, size, n).astype("int32")
        assert np.array_equal(_first_of_each(gid, size), np.sort(np.unique(gid, return_index=True)[1]))
    assert _first_of_each(np.array([4, 1, 4, 0, 1], dtype="int32"), 5).tolist() == [0, 1, 3]


@pytest.mark.parametrize("body, key, line", [
    (b"a,b\n" * 3000, None, None),
    (b"a,b\r" * 3000, None, None),                                                    # old Mac line ends
    (b"a,b\n" * 1000 + b"x" * 100_001 + b"\n" + b"a,b\n" * 10, "ingest.file.long_line", 1001),
    (b"a,b\n" * 1000 + b"x" * 100_000 + b"\n", None, None),                            # at the limit: kept
    (b"a,b\n" * 1000 + b"," * 17_000 + b"\n" + b"a,b\n", "ingest.file.too_many_fields", 1001),
    (b"a,b\n" * 20 + b"x" * 16_000 + b"\n", None, None),                               # long, few fields
    (b"a," * 300_000, "ingest.file.long_line", 1),                                     # one line, no end
])
def test_check_lines_quick_pass_agrees_with_the_scan(body, key, line):
    book = read.Book("x.csv", body, "csv")
    if key is None:
        read.check_lines(book)
        return
    with pytest.raises(FileProblem) as exc:
        read.check_lines(book)
    assert exc.value.key == key and exc.value.fields["line"] == line


def test_line_count_without_decoding():
    for text in ("a\nb\nc\n", "a\nb\nc", "", "é,1\n" * 50, "a\r\nb\r\n"):
        book = read.Book("x.csv", text.encode("utf-8"), "csv")
        for n in range(0, 55):
            assert book.more_lines_than(n) == (text.count("\n") > n)
    utf16 = read.Book("x.csv", "a\nb\nc\n".encode("utf-16"), "csv")
    assert utf16.more_lines_than(2) and not utf16.more_lines_than(3)
    big = read.Book("x.csv", b"1,2\n" * 300_000, "csv")
    assert big.more_lines_than(299_999) and not big.more_lines_than(300_000)


def test_background_work_gives_its_result_or_its_error():
    assert result(in_background(sum, [1, 2, 3])) == 6
    with pytest.raises(ZeroDivisionError):
        result(in_background(lambda: 1 / 0))
