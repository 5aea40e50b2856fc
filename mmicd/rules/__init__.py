"""The rules of the canonical frame, declared once and run by the upload and by the store.

Every rule is data (pandera-style): an id, a level, the form it applies to (observations or
microdata), the canonical column its issues point at, the translation keys of its messages
(``ingest.issue.<key>`` in ``data/i18n/*/ingest.yml``), the helper columns it needs, whether its
failures can be knock-on effects of an error, and a vectorised check. :func:`evaluate` runs every
rule of a form over a frame lazily -- all failures come back at once, never the first only -- and
nests knock-on failures under the error that causes them (a text in a value cell makes its row's
total not add up: that warning becomes a consequence of the "not a number" error).

Two callers turn failures into :class:`~mmicd.issues.Issue` values with translated messages:
the upload (:class:`mmicd.clean.validate.Context`) names cells -- sheet, row and column as the
spreadsheet shows them, and the value as written -- from the helper columns ``_row``, ``_col``,
``_sheet`` it has; the store (:func:`issues`, used by :func:`mmicd.model.validated`) names dataset
rows (1-based) and canonical values. Helper columns only the upload has (``_bad``: text that is no
number; ``_formula``: a formula cell without a cached value; ``as_text``: the value as written) are
needed by a few rules, which are skipped where they are absent.

The dimension list is never written out here: rules go over :data:`mmicd.model.DIMENSIONS` and
:data:`mmicd.model.DIMENSION_CODELISTS`, so a new dimension is checked as soon as it is declared.
"""

from __future__ import annotations

from mmicd.rules import cells, totals  # noqa: F401 - registers the rules, in this order
from mmicd.rules.base import (
    MAX_PER_CHECK,
    PARTITIONS,
    RULES,
    Found,
    Params,
    Rule,
    fmt,
    row_labels,
)
from mmicd.rules.run import Failure, all_keys, applicable, describe, evaluate, issues, rules_for

__all__ = ["MAX_PER_CHECK", "PARTITIONS", "RULES", "Failure", "Found", "Params", "Rule", "all_keys", "applicable",
           "describe", "evaluate", "fmt", "issues", "row_labels", "rules_for"]

# registered after the rules of cells and totals (their issues come first): administrative data
from mmicd.rules import admin  # noqa: E402, F401
