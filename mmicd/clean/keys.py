"""Integer codes of a frame's dimension columns, computed once, so that validation groups a million
observations by integer keys instead of comparing text (no Python object per row).

Codes are ranks of the sorted labels, so a key combined from several columns sorts like the tuple
of their labels. The ingestion hands over the codes recoding already produced (:meth:`Keys.give`);
other columns are factorised on first use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class Keys:
    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.n = len(frame)
        self._codes: dict[str, tuple[np.ndarray, list[str]]] = {}
        self._isin: dict[tuple[str, frozenset], np.ndarray] = {}

    def give(self, column: str, codes: np.ndarray, labels: list[str]) -> None:
        """Codes already known for ``column``: ``labels[codes]`` is the column (labels unique)."""
        if not labels:
            self._codes[column] = (np.zeros(self.n, np.int32), [])
            return
        if all(a < b for a, b in zip(labels, labels[1:], strict=False)):   # sorted already: codes are ranks
            self._codes[column] = (np.asarray(codes, dtype=np.int32), list(labels))
            return
        order = np.argsort(np.asarray(labels, dtype=object), kind="stable")
        rank = np.empty(len(labels), dtype=np.int32)
        rank[order] = np.arange(len(labels))
        self._codes[column] = (rank[codes], [labels[i] for i in order])

    def codes(self, column: str) -> tuple[np.ndarray, list[str]]:
        """(code of each row, sorted labels) of ``column``."""
        if column not in self._codes:
            codes, uniques = pd.factorize(self.frame[column], sort=True, use_na_sentinel=False)
            self._codes[column] = (np.asarray(codes, dtype=np.int32), [str(u) for u in uniques])
        return self._codes[column]

    def isin(self, column: str, labels) -> np.ndarray:
        """Rows whose ``column`` is one of ``labels`` (decided once per distinct label)."""
        wanted = frozenset(labels)
        if (column, wanted) not in self._isin:
            codes, uniques = self.codes(column)
            found = np.array([u in wanted for u in uniques], dtype=bool)[codes] if uniques else np.zeros(self.n, bool)
            found.flags.writeable = False   # kept for the next check that asks: read-only
            self._isin[(column, wanted)] = found
        return self._isin[(column, wanted)]

    def equals(self, column: str, label: str) -> np.ndarray:
        return self.isin(column, [label])

    def map(self, column: str, mapping, dtype=bool) -> np.ndarray:
        """``mapping(label)`` for every row, computed once per distinct label."""
        codes, uniques = self.codes(column)
        return np.asarray([mapping(u) for u in uniques], dtype=dtype)[codes] if uniques else \
            np.zeros(self.n, dtype=dtype)

    def group(self, columns: list[str]) -> tuple[np.ndarray, int]:
        """(dense group id of each row, number of groups) of the combination of ``columns``; ids
        follow the order of the label tuples (computed on each call: not kept, to hold less memory)."""
        combined = None
        size = 1
        for col in columns:
            codes, uniques = self.codes(col)
            card = len(uniques)
            if card <= 1:                # a constant column does not split any group
                continue
            if combined is None:
                combined, size = codes.astype(np.int64), card
                continue
            if size * card >= 1 << 62:   # too wide for one integer: renumber what we have so far
                combined, size = _dense(combined, size)
                combined = combined.astype(np.int64)
            combined *= card
            combined += codes
            size *= card
        if combined is None:
            return np.zeros(self.n, dtype=np.int32), 1 if self.n else 0
        return _dense(combined, size)


def _dense(key: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """Dense ids 0..k-1 of integer keys in [0, size), in the keys' order."""
    if not len(key):
        return key.astype(np.int32), 0
    if size <= 4 * len(key) + 1024:   # a table over the key range: no sort, no hash
        present = np.zeros(size, dtype=bool)
        present[key] = True
        remap = np.cumsum(present, dtype=np.int32) - 1
        return remap[key], int(remap[-1]) + 1
    ids, uniques = pd.factorize(key, sort=True)
    return ids.astype(np.int32), len(uniques)
