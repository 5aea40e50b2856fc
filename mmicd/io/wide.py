"""Wide national tables turned long.

Statistics offices publish tables whose value columns are labelled by one or more header rows:
years, sexes, age groups, migrant status or countries, with a group label merged over the columns
below it (``2011`` over *Total / Male / Female*, then ``2021`` over the same three). This module
finds that header block around the header row the generic reader chose, gives every value column
its codes (one per labelled dimension; a *Total* label leaves the dimension at ``_T``), and returns
one row per (data row, value column) with the sheet row in ``_row``, the 0-based column in ``_cno``
and, in ``_col``, the column's labels and its letter (``2021 / Female [E]``) so that issues and the
annotated workbook point at the very cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mmicd import codes
from mmicd.clean.mapping import _value_lookup, age_code, key, suggest_columns
from mmicd.io.layouts import FOOTER, YEAR
from mmicd.io.read import cell_text, column_letter

MAX_HEADER_ROWS = 4
TOTAL_WORDS = {"total", "totals", "all", "ensemble", "todos", "todas", "both sexes", "les deux sexes",
               "ambos sexos", "total general", "grand total", "tous", "all persons"}


@dataclass
class Wide:
    frame: pd.DataFrame           # _row, _col, id columns (source text), header dimensions (codes), value
    columns: dict[str, str]       # canonical -> source header (id columns; header dimensions: their labels)
    header_rows: list[int]        # 0-based sheet rows of the header block


def classify(label: str) -> tuple[str, str] | None:
    """(dimension, code) of a column label, ``("_total", "_T")`` for a total, None if not a label."""
    text = label.strip()
    if not text:
        return None
    m = YEAR.match(text)
    if m:
        return "time_period", m.group(1)
    k = key(text)
    if k in TOTAL_WORDS:
        return "_total", codes.TOTAL
    for dim in ("sex", "migrant_status"):
        code = _value_lookup(dim).get(k)
        if code:
            return (dim, code) if code != codes.TOTAL else ("_total", codes.TOTAL)
    age = age_code(text)
    if age:
        return ("age", age) if age != codes.TOTAL else ("_total", codes.TOTAL)
    area = codes.resolve_area(text)
    if area:
        return "area", area
    return None


def _label_row(cells: list[str]) -> tuple[dict[int, tuple[str, str]], dict[int, str]] | None:
    """Labels and id headers of a header-block row, or None when it is not one (a title, data)."""
    ids = suggest_columns([c for c in cells if c])
    by_header = {h: c for c, h in ids.items()}
    labels: dict[int, tuple[str, str]] = {}
    id_at: dict[int, str] = {}
    for j, text in enumerate(cells):
        if not text:
            continue
        hit = classify(text)  # a label first: "Male" is a GLD column name, but here a sex
        if hit is not None:
            labels[j] = hit
        elif text in by_header:
            id_at[j] = by_header[text]
        else:
            return None
    if len(labels) < 2:
        return None
    return labels, id_at


def detect(grid: list[list], header_row: int) -> tuple[list[int], dict[int, str], dict[int, dict[str, str]],
                                                      dict[int, list[str]]] | None:
    """The header block around ``header_row``: its rows, id columns (position -> canonical), the
    codes of each value column (position -> {dimension: code}) and its labels; None if not wide.

    Rows above belong to the block while they hold labels only (and id headers); rows below while
    they hold labels and nothing under an id column already known (a data row has its id filled).
    """
    # the block lies within MAX_HEADER_ROWS of the header row: only those rows are looked at
    texts = [[cell_text(c) for c in row] for row in grid[:header_row + MAX_HEADER_ROWS]]
    if header_row >= len(texts):
        return None
    parsed = {header_row: _label_row(texts[header_row])}
    if parsed[header_row] is None:
        return None
    id_pos = set(parsed[header_row][1])
    i = header_row - 1
    while i >= 0 and len(parsed) < MAX_HEADER_ROWS and (p := _label_row(texts[i])) is not None:
        parsed[i] = p
        id_pos |= set(p[1])
        i -= 1
    i = header_row + 1
    while i < len(texts) and len(parsed) < MAX_HEADER_ROWS and (p := _label_row(texts[i])) is not None \
            and not any(j < len(texts[i]) and texts[i][j] for j in id_pos - set(p[1])) \
            and not (id_pos and set(p[0]) & id_pos):
        parsed[i] = p
        id_pos |= set(p[1])
        i += 1
    rows = sorted(parsed)
    id_cols: dict[int, str] = {}
    dims: dict[int, dict[str, str]] = {}
    names: dict[int, list[str]] = {}
    width = max(len(texts[r]) for r in rows)
    for r in rows:
        labels, id_at = parsed[r]
        id_cols.update(id_at)
        current: tuple[str, str] | None = None
        current_text = ""
        for j in range(min(labels), width):
            if j in id_at:
                current = None
                continue
            if j in labels:
                current, current_text = labels[j], texts[r][j]
            elif current is None:
                continue
            # a blank cell right of a label continues it (merged or centred over its columns)
            dim, code = current
            cell_dims = dims.setdefault(j, {})
            if dim != "_total":
                if dim in cell_dims and cell_dims[dim] != code:
                    return None
                cell_dims[dim] = code
            names.setdefault(j, []).append(current_text)
    value_cols = {j: d for j, d in dims.items() if j not in id_cols}
    if len(value_cols) < 2 or not id_cols:
        return None
    return rows, id_cols, value_cols, names


def unpivot(grid: list[list], header_row: int, found: tuple | None = None) -> Wide | None:
    """The table under the header block as long rows, or None if the sheet is not a wide table.

    ``found``: what :func:`detect` returned for this grid's first rows, when the caller has it.
    Country columns are origins (``counterpart_area``) unless the rows already name them, in which
    case the columns are the reporting areas.
    """
    found = found or detect(grid, header_row)
    if found is None:
        return None
    rows, id_cols, value_cols, names = found
    area_dim = "ref_area" if "counterpart_area" in id_cols.values() else "counterpart_area"
    records = []
    for i in range(rows[-1] + 1, len(grid)):
        row = grid[i]
        texts = [cell_text(c) for c in row]
        filled = [t for t in texts if t]
        if not filled:
            continue
        if len(filled) <= 1 and FOOTER.match(filled[0]):
            break
        ids = {canonical: texts[j] if j < len(texts) else "" for j, canonical in id_cols.items()}
        if not any(ids.values()):
            continue
        for j, cell_dims in value_cols.items():
            value = texts[j] if j < len(texts) else ""
            label = " / ".join(dict.fromkeys(names.get(j, [])))
            rec = {"_row": i + 1, "_col": f"{label} [{column_letter(j)}]", **ids, "value": value, "_cno": j}
            for dim, code in cell_dims.items():
                rec[area_dim if dim == "area" else dim] = code
            records.append(rec)
    if not records:
        return None
    frame = pd.DataFrame.from_records(records)
    header_dims = sorted({area_dim if d == "area" else d for cd in value_cols.values() for d in cd})
    for dim in header_dims:
        frame[dim] = frame[dim].fillna(codes.TOTAL)
    columns = {canonical: next((cell_text(grid[r][j]) for r in reversed(rows)
                                if j < len(grid[r]) and cell_text(grid[r][j])), canonical)
               for j, canonical in id_cols.items()}
    for dim in header_dims:
        columns.setdefault(dim, dim)
    text = {c: "string" for c in frame.columns if c not in ("_row", "_cno")}
    return Wide(frame=frame.astype(text), columns=columns,
                header_rows=rows)
