"""The general table reader: a whole file (every sheet, every table in it) read into raw datasets.

``read_book`` finds the tables of each sheet (:mod:`mmicd.io.tables`), reads them
(:mod:`mmicd.io.interpret`) with the publisher and edition the file's own words name, and returns
one :class:`~mmicd.io.layouts.Raw` per kind of data (stocks, flows, refugees, remittances, ...): its
frame in canonical codes with the values still as written, each with its sheet, row and column.
Everything it leaves out (a column whose words are not understood, a region row, a series it does
not know) is said in ``Raw.problems``.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.io import interpret
from mmicd.io.layouts import Raw
from mmicd.io.numbers import markers
from mmicd.io.read import Book, cell_text
from mmicd.io.tables import Sheet, find_tables

MAX_GRID_ROWS = 200_000        # sheets longer than this are read by the tidy-table reader
KEY = ["measure", "ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area", "labour_status",
       "breakdown"]


def _texts(book: Book) -> list[str]:
    """Words of the file outside its tables: the first lines of every sheet (titles, contents,
    "About this file", a CSV's preamble), for the publisher and edition."""
    out = []
    for sheet in book.sheet_names:
        for row in book.grid(sheet, 40):
            line = " ".join(cell_text(c) for c in row if cell_text(c))
            if line:
                out.append(line)
    return out


def read_book(book: Book, *, country: str | None = None, kind: str | None = None,
              explicit: dict[str, dict[str, str]] | None = None, report: list | None = None) -> list[Raw]:
    """Every table of the book read into raw datasets (one per kind of data). When nothing could be
    read, ``report`` (if given) receives the reader's problems: what it found and why it stopped."""
    from mmicd.io import sdmx_csv

    sdmx = sdmx_csv.read(book)
    if sdmx:
        raw = sdmx[0]
        if not len(raw.frame):   # an SDMX file none of whose rows could be read: said, never read looser
            if report is not None:
                report += [*raw.problems, ("info", "tables_tried", {"n": 1})]
            return []
        if country:
            raw.frame = raw.frame[raw.frame["ref_area"] == country] if (raw.frame["ref_area"] == country).any() \
                else raw.frame
        return _split(raw.frame, raw.problems, {"source": raw.defaults["source"]}, raw.defaults["edition"],
                      raw.defaults["title"], kind, book.decimal, layout=raw.layout)
    texts = _texts(book)
    frames: list[pd.DataFrame] = []
    problems: list[tuple[str, str, dict]] = []
    sheets = [s for s in book.sheet_names if not s.startswith("_")]
    parsed: list[tuple[str, Sheet, list]] = []
    tidy: list[tuple[str, Sheet, object, pd.DataFrame, pd.Series]] = []
    for name in sheets:
        if _large(book, name):
            found = _read_large(book, name)
            if found is not None:
                tidy.append((name, *found))
                texts += found[1].title_texts()
                continue
        grid = book.grid(name)
        if not grid or len(grid) > MAX_GRID_ROWS:
            if grid:
                problems.append(("error", "too_large_for_layout", {"sheet": name if book.ftype != "csv" else None,
                                                                   "n": len(grid)}))
            continue
        if book.ftype == "csv":
            grid, repaired = repair_ragged(grid)
            problems += repaired
        sheet = Sheet.from_grid(name, grid, book.merged(name))
        sheet.header_word = interpret.names_a_column
        tables = find_tables(sheet)
        parsed.append((name, sheet, tables))
        for t in tables:
            texts += t.title_texts() + t.note_texts()
    publisher = interpret.publisher_of(texts)
    edition = interpret.edition_of(texts)
    from mmicd.io import workbook_facts

    facts = workbook_facts.of_book(book)
    results = []
    columns: dict[str, str] = {}
    for name, _sheet, table, body, rows in tidy:
        ctx = interpret.ReadContext(file=book.name, sheet=name if book.ftype != "csv" else None,
                                    country=country, publisher=publisher, explicit=explicit or {}, kind=kind)
        frame = interpret.read_tidy(body, rows, table, ctx)
        found = [(level, key, {**fields, "sheet": ctx.sheet} if ctx.sheet else fields)
                 for level, key, fields in ctx.problems]
        results.append((name, table, frame, found))
    for name, _sheet, tables in parsed:
        formulas = frozenset((r, c) for r, cs in facts.formulas_without_value(name).items() for c in cs) \
            if book.ftype == "xlsx" else frozenset()
        for table in tables:
            ctx = interpret.ReadContext(file=book.name, sheet=name if book.ftype != "csv" else None,
                                        country=country, publisher=publisher, explicit=explicit or {}, kind=kind,
                                        formula_cells=formulas)
            frame = interpret.read_table(table, ctx)
            found = [(level, key, {**fields, "sheet": ctx.sheet} if ctx.sheet else fields)
                     for level, key, fields in ctx.problems]
            results.append((name, table, frame, found))
    clean = [r for r in results if r[2] is not None and len(r[2]) and not _errors(r[3])]
    for name, table, frame, found in results:
        if (frame is None or not len(frame)) and not (_errors(found) and clean):
            problems += found
            continue
        if _errors(found) and clean and len(results) > 1:
            # a workbook of many tables: a table with labels it cannot read is left out, and the
            # report says which cells stopped it; the other tables load
            problems.append(("warning", "table_not_read", {"sheet": name, "row": table.first + 1,
                                                           "n": sum(1 for p in found if p[0] == "error")}))
            problems += [("warning" if level == "error" else level, key, fields) for level, key, fields in found]
            continue
        problems += found
        if frame is not None and len(frame):
            frames.append(frame)
        for dim, header in frame.attrs.get("columns", {}).items():
            columns.setdefault(dim, header)
    unique: dict[tuple, tuple[str, str, dict]] = {}
    for level, key, fields in problems:   # the same remark from several tables of a sheet, once
        unique.setdefault((level, key, tuple(sorted((k, str(v)) for k, v in fields.items()))), (level, key, fields))
    problems = list(unique.values())
    if not frames:
        found_tables = sum(len(t) for _, _, t in parsed) + len(tidy)
        if report is not None and found_tables:
            report += problems
            report.append(("info", "tables_tried", {"n": found_tables}))
        return []
    frame = pd.concat(frames, ignore_index=True)
    problems += _units_elsewhere(book, frame)
    return _split(frame, problems, publisher or {}, edition, _title(texts), kind, book.decimal, columns=columns)


def _units_elsewhere(book: Book, frame: pd.DataFrame) -> list[tuple[str, str, dict]]:
    """A line of the file that only states a multiplier ("All figures are in thousands", on a
    contents sheet or above stacked tables) while some counts or amounts were read with none:
    they are read as written, and the line is pointed at (never applied to tables it may not
    concern)."""
    stated = [(sheet, line) for sheet in book.sheet_names for row in book.grid(sheet, 40)
              for line in [" ".join(cell_text(c) for c in row if cell_text(c))]
              if line and interpret.unit_statement(line)[1]]
    if not stated:
        return []
    units = frame["measure"].map(codes.codelist("measure")["unit_measure"]).fillna("")
    plain = (pd.to_numeric(frame["unit_mult"], errors="coerce").fillna(0) == 0) & units.isin(["PS", "USD"])
    if not plain.any():
        return []
    sheet, line = stated[0]
    return [("warning", "unit_elsewhere", {"value": line[:160], "n": int(plain.sum()),
                                           "sheet": sheet if book.ftype != "csv" else None})]


def _split(frame: pd.DataFrame, problems: list, publisher: dict, edition: str, title: str, kind: str | None,
           decimal: str, layout: str = "table", columns: dict[str, str] | None = None) -> list[Raw]:
    """Duplicate rows merged where they may be, then one raw dataset per kind of data."""
    frame, more = _merge_duplicates(frame)
    problems = [*problems, *more]
    basis = next((b for b in frame["_basis"].unique() if b), "")
    out = []
    for k, part in _by_kind(frame, kind, international=bool(publisher.get("source"))):
        sheets = [x for x in part["_sheet"].unique() if x]
        raw = Raw(layout=layout, sheet=sheets[0] if len(sheets) == 1 else None, frame=part.reset_index(drop=True),
                  columns={"value": "value", **(columns or {})}, source_columns=list((columns or {}).values()), kind=k,
                  form="observations", coded=True, parsed=False,
                  defaults={"source": publisher.get("source", ""), "edition": edition, "title": title,
                            "licence": publisher.get("licence", ""), "basis": basis, "decimal": decimal})
        raw.problems = list(problems) if not out else []
        out.append(raw)
    return out


TIDY_MIN_ROWS = 20_000          # CSV longer than this: the body is read as a frame, column by column


def _large(book: Book, sheet: str) -> bool:
    if book.ftype == "csv":
        return book.more_lines_than(TIDY_MIN_ROWS)
    return len(book.data) > 2_000_000


def _read_large(book: Book, sheet: str):
    """A large sheet holding one tidy table: its first rows say what the columns are, its body is
    read as a frame (fast, never cell by cell). None when the sheet is something else (several
    tables, header rows over groups, labels by indentation), to be read as a grid if it fits."""
    preview = book.grid(sheet, 60)
    if not preview:
        return None
    sheet_view = Sheet.from_grid(sheet, preview, book.merged(sheet) if book.ftype != "csv" else [])
    sheet_view.header_word = interpret.names_a_column
    tables = find_tables(sheet_view)
    if len(tables) != 1 or len(tables[0].header) != 1:
        return None
    table = tables[0]
    ctx = interpret.ReadContext(file=book.name, sheet=sheet)
    cols = interpret.columns(table, ctx, interpret.table_facts(table, ctx))
    if not interpret.tidy_ok(table, cols):
        return None
    header_row = table.header[0]
    body, rows = book.table_rows(sheet, header_row)
    if book.ftype == "csv":
        # every line of the file must be a row of the frame: a line the CSV parser dropped (more
        # fields than the header) is read as a grid instead, where it is repaired or reported
        text = book.text
        lines = text.count("\n") + (not text.endswith("\n")) - (header_row + 1)
        blank = len(re.findall(r"^[ \t\r]*$", text, flags=re.M)) - (1 if text.endswith("\n") else 0)
        if lines - blank != len(body):
            return None
    if body.shape[1] < max(c.index for c in cols) + 1:
        return None
    return sheet_view, table, body.reset_index(drop=True), pd.Series(np.asarray(rows), dtype="int64")


def _errors(found: list) -> bool:
    return any(level == "error" for level, _, _ in found)


def repair_ragged(grid: list[list]) -> tuple[list[list], list[tuple[str, str, dict]]]:
    """CSV rows with more fields than their header: a name holding a comma that was not quoted
    ("China, Hong Kong SAR") is joined again when exactly one join gives a known area or a field
    starting with a space; otherwise the row is reported (never shifted into the wrong columns)."""
    lengths = Counter(len([c for c in r]) for r in grid if sum(1 for c in r if str(c).strip()) >= 2)
    if not lengths:
        return grid, []
    width = lengths.most_common(1)[0][0]
    out, problems = [], []
    first = next((n for n, r in enumerate(grid) if len(r) == width and sum(1 for c in r if str(c).strip()) >= 2),
                 len(grid))
    for n, row in enumerate(grid):
        if n < first and _split_title(row, grid[n + 1:]):
            # a title holding a comma, above the table ("Migrants by age group, 2020"): one line
            out.append([",".join(str(c) for c in row), *([""] * (len(row) - 1))])
            continue
        extra = len(row) - width
        if extra <= 0 or sum(1 for c in row if str(c).strip()) < 2:
            out.append(row)
            continue
        fixed = None
        candidates = []
        for i in range(len(row) - extra):
            joined = ",".join(str(c) for c in row[i:i + extra + 1])
            if codes.resolve_area(joined) or all(str(c).startswith(" ") for c in row[i + 1:i + extra + 1]):
                candidates.append((i, joined))
        if len(candidates) == 1:
            i, joined = candidates[0]
            fixed = [*row[:i], joined, *row[i + extra + 1:]]
            problems.append(("info", "csv_joined", {"row": n + 1, "value": joined}))
        else:
            problems.append(("error", "csv_fields", {"row": n + 1, "n": len(row), "expected": width,
                                                     "value": ",".join(str(c) for c in row)[:120]}))
            fixed = row
        out.append(fixed)
    return out, problems


def _split_title(row: list, below: list[list]) -> bool:
    """A line of a few fields above the table whose next line has more filled fields than it has
    fields at all: a title the CSV split at its commas (never a header with trailing commas below)."""
    filled = sum(1 for c in row if str(c).strip())
    if filled < 2:
        return False
    following = next((r for r in below if sum(1 for c in r if str(c).strip()) >= 2), None)
    return following is not None and sum(1 for c in following if str(c).strip()) > len(row)


def _title(texts: list[str]) -> str:
    for t in texts:
        if len(t) > 12 and not t.lower().startswith(("data source", "last updated", "united nations")):
            return t[:300]
    return ""


def _by_kind(frame: pd.DataFrame, wanted: str | None, international: bool = False) -> list[tuple[str, pd.DataFrame]]:
    """One dataset per kind of data: a workbook of stocks and refugees gives two datasets."""
    table = codes.codelist("measure")
    kinds = frame["measure"].map(table["kind"] if "kind" in table.columns else {}).fillna("").astype(str)
    pop = kinds == ""
    if pop.any():
        sub = frame[pop]
        if (sub["counterpart_area"] != codes.TOTAL).any() or (
                (sub["migrant_status"] == "MS_MIGRANT").any() and not (sub["migrant_status"] == "MS_NOMIGRANT").any()
                and (sub["age"] == codes.TOTAL).all()):
            pop_kind = "migrant_stock"
        elif (sub["migrant_status"] != codes.TOTAL).any() or not international:
            pop_kind = "census"       # a national table of the population (the upload's own kind)
        else:
            pop_kind = "population"   # an international publisher's population series
        kinds = kinds.mask(pop, pop_kind)
    # remittances between two countries are corridors
    corridors = (kinds == "remittances") & (frame["counterpart_area"] != codes.TOTAL)
    kinds = kinds.mask(corridors, "remittance_corridors")
    # a population table that goes with a migrant-stock table (IMS Table 2) is one dataset with it
    if (kinds == "migrant_stock").any():
        kinds = kinds.mask(kinds == "population", "migrant_stock")
    if wanted:
        return [(wanted, frame)]
    return [(k, frame[kinds == k]) for k in pd.unique(kinds.to_numpy())]


def _merge_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str, dict]]]:
    """Rows with one key: parts of one area ("Other North" + "Other South", "England" +
    "Scotland") are summed; the same figure published twice (an aggregate in two tables of one
    workbook) is kept once; anything else is left for validation to report as duplicates."""
    problems: list[tuple[str, str, dict]] = []
    dup = frame.duplicated(KEY, keep=False)
    if not dup.any():
        return frame, problems
    rows = frame[dup]
    numbers = rows["value"].map(_number)
    marker = rows["value"].map(lambda v: str(v).strip().lower() in markers())
    groups = rows.groupby(KEY, sort=False, dropna=False)
    gid = groups.ngroup()
    stats = pd.DataFrame({"gid": gid, "num": numbers, "ok": numbers.notna() | marker, "part": rows["_part"],
                          "text": numbers.astype(str).where(numbers.notna(), rows["value"].astype(str))})
    per = stats.groupby("gid").agg(distinct=("text", "nunique"), parts=("part", "any"), ok=("ok", "all"),
                                   numeric=("num", "count"), total=("num", "sum"))
    tidy = stats.assign(tidy=rows.get("_tidy", False)).groupby("gid")["tidy"].all()
    same = per.index[(per["distinct"] == 1) & ~per["parts"] & (per["numeric"] > 0) & ~tidy.reindex(per.index)]
    summed = per.index[per["parts"] & per["ok"]]
    drop = rows.index[gid.isin(same) & gid.duplicated()]
    # parts: the first row of each group carries the sum (or its marker when none has a number)
    firsts = rows.loc[~gid.duplicated() & gid.isin(summed)].copy()
    totals = per.loc[gid[firsts.index], ["total", "numeric"]].to_numpy()
    firsts["value"] = [float(t) if n else v for (t, n), v in zip(totals, firsts["value"], strict=True)]
    counts = stats.groupby("gid").size()
    firsts["_col"] = [f"{c} (+{int(counts[g]) - 1})" for c, g in zip(firsts["_col"], gid[firsts.index], strict=True)]
    drop = drop.union(rows.index[gid.isin(summed)])
    frame = pd.concat([frame.drop(index=drop), firsts], ignore_index=True)
    if len(summed):
        where = firsts["counterpart_area"].where(firsts["counterpart_area"] != codes.TOTAL, firsts["ref_area"])
        problems.append(("info", "parts_summed", {"value": ", ".join(dict.fromkeys(where.astype(str))),
                                                  "n": len(summed)}))
    if len(same):
        problems.append(("info", "duplicates_identical", {"n": len(same)}))
    return frame.reset_index(drop=True), problems


def _number(v: object) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(str(v).strip())
    except ValueError:
        return None
