"""Ingestion: uploads -> prepared datasets (dry run with issues and diff) -> one-transaction commit.

``prepare`` reads every upload once (real type from its bytes), detects its layout (our templates,
UN DESA, World Bank WDI, KNOMAD, UN WPP, ILOSTAT, Remittance Prices Worldwide, or a generic table
mapped through synonyms), recodes to canonical codes and validates; nothing is written.
``commit`` stores every dataset of a preparation in one transaction or none; ``annotate`` returns
the user's workbook with every problem cell highlighted and commented.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.clean import numbers as number_issues
from mmicd.clean import validate
from mmicd.clean.mapping import MappingProfile, recode_codes, suggest_columns, take_labels
from mmicd.i18n import t
from mmicd.io import FileProblem, open_book
from mmicd.io.layouts import (
    Raw,
    find_header,
    is_template,
    melt_years,
    read_table,
    title_texts,
    unit_mult_from,
    year_columns,
)
from mmicd.io.numbers import Numbers, read_numbers
from mmicd.io.read import NOT_FOUND, arrow_pool, arrow_text, cell_text
from mmicd.io.xlsx_chunks import release_memory
from mmicd.issues import Issue, IssuesError
from mmicd.me.workbook import is_portfolio
from mmicd.model import (
    DIMENSIONS,
    MICRODATA_COLUMNS,
    OBS_COLUMNS,
    DatasetMeta,
    DatasetVersion,
    Form,
    Kind,
    Status,
)

__all__ = ["MappingProfile", "PreparedDataset", "Preparation", "Upload", "annotate", "commit", "prepare",
           "with_meta", "KIND_ALIASES", "BASES", "CheckStopped", "budgeted"]

KIND_ALIASES = {"auto": None, "census": Kind.CENSUS, "stocks": Kind.MIGRANT_STOCK, "remittances": Kind.REMITTANCES,
                "lfs": Kind.LFS, "interventions": Kind.INTERVENTIONS, "population": Kind.POPULATION,
                "remittance_corridors": Kind.REMITTANCE_CORRIDORS, "migrant_stock": Kind.MIGRANT_STOCK}
DEFAULT_SOURCE = "Uploaded table"
OBS_CANONICAL = [*DIMENSIONS, "value", "unit_mult", "obs_status"]


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


@dataclass
class PreparedDataset:
    meta: DatasetMeta
    form: Form
    frame: pd.DataFrame
    layout: str
    file: str
    sheet: str | None
    source_columns: list[str]
    mapping: MappingProfile | None
    diff: pd.DataFrame | None

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def countries(self) -> list[str]:
        """Countries (and territories) in ``ref_area``; aggregates are listed apart (:attr:`aggregates`)."""
        return sorted(a for a in set(map(str, self.frame["ref_area"].dropna().unique()))
                      if codes.area_kind(a) == "country")

    @property
    def aggregates(self) -> list[str]:
        """World, regions, income groups and other aggregates in ``ref_area``."""
        return sorted(a for a in set(map(str, self.frame["ref_area"].dropna().unique()))
                      if codes.area_kind(a) not in (None, "country"))

    @property
    def years(self) -> list[str]:
        return sorted(set(map(str, self.frame["time_period"].dropna().unique())))


@dataclass
class Preparation:
    datasets: list[PreparedDataset]
    issues: list[Issue]

    @property
    def ok(self) -> bool:
        return not any(i.level == "error" for i in self.issues)


class CheckStopped(Exception):
    """Raised by a progress callback to stop a check (:func:`budgeted`); :func:`prepare` lets it
    through, so the work stops at once and nothing half-checked is kept."""

    def __init__(self, reason: Literal["time", "memory"], limit: float):
        super().__init__(f"check stopped: {reason} budget of {limit:g} spent")
        self.reason = reason
        self.limit = limit


def budgeted(progress: Callable[..., None] | None, *, seconds: float | None = None,
             megabytes: float | None = None, clock: Callable[[], float] = time.monotonic) -> Callable[..., None]:
    """A progress callback that raises :class:`CheckStopped` once the work has run ``seconds`` or
    grown the process's resident memory by ``megabytes`` since this call, else passes on to
    ``progress``. The ingestion reports progress often (every piece of a large sheet, every column
    converted), so the check stops within a step of its budget."""
    start, base = clock(), _resident_mb()

    def check(*args) -> None:
        if seconds is not None and clock() - start > seconds:
            raise CheckStopped("time", seconds)
        if megabytes is not None and _resident_mb() - base > megabytes:
            raise CheckStopped("memory", megabytes)
        if progress is not None:
            progress(*args)

    return check


def _resident_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- prepare --------------------------------------------------------------------------------------
BASES = ("country of birth", "citizenship")                 # basis of the migrant status (DatasetMeta.basis)
NO_MIGRANT_STATUS = {Kind.REMITTANCES, Kind.REMITTANCE_CORRIDORS, Kind.INTERVENTIONS}
PHASES = {"reading": (0.0, 0.8), "checking": (0.8, 1.0)}    # share of one file's progress


def prepare(uploads: list[Upload], *, kind: str = "auto", country: str | None = None, source: str | None = None,
            edition: str | None = None, mapping: MappingProfile | None = None, store=None, lang: str = "en",
            title: str | None = None, basis: str | None = None, notes: str | None = None,
            progress: Callable[[float, str], None] | None = None) -> Preparation:
    """Read, detect, map and validate every upload; nothing is written (``store`` only for the diff).

    ``title`` replaces the title a layout gives; ``notes`` come before a layout's own notes;
    ``basis`` (``country of birth`` or ``citizenship``) is recorded on datasets of kinds with a
    migrant status whose layout does not state one. ``progress(fraction, phase)`` is called as the
    work goes: ``fraction`` of all uploads in [0, 1], ``phase`` a translated word (reading a file,
    large .xlsx sheets piece by piece; checking its values; done).
    """
    datasets: list[PreparedDataset] = []
    issues: list[Issue] = []
    if kind not in KIND_ALIASES:
        issues.append(Issue("error", t("ingest.issue.bad_kind", lang, kind=kind)))
        return Preparation([], issues)
    if basis and basis not in BASES:
        issues.append(Issue("error", t("ingest.issue.bad_basis", lang, value=basis, allowed=", ".join(BASES))))
        return Preparation([], issues)
    wanted = KIND_ALIASES[kind]
    if country is not None and codes.resolve_area(country) is None:
        issues.append(Issue("error", t("ingest.issue.unknown_area", lang, value=country, column="--country")))
        return Preparation([], issues)
    country = codes.resolve_area(country) if country else None
    total = max(len(uploads), 1)
    for n, upload in enumerate(uploads):
        def report(phase: str, fraction: float, n: int = n) -> None:
            if progress:
                lo, hi = PHASES[phase]
                progress((n + lo + (hi - lo) * min(max(fraction, 0.0), 1.0)) / total,
                         t(f"ingest.progress.{phase}", lang))

        try:
            found, file_issues = _prepare_one(upload, wanted, country, source, edition, mapping, store, lang,
                                              report)
        except CheckStopped:
            raise
        except FileProblem as exc:
            found, file_issues = [], [Issue("error", t(exc.key, lang, **exc.fields), file=upload.name)]
        except MemoryError:
            found, file_issues = [], [Issue("error", t("ingest.file.too_large_memory", lang), file=upload.name)]
        except Exception as exc:  # noqa: BLE001 - no traceback reaches a user; the message names the file
            if os.environ.get("MMICD_INGEST_DEBUG"):
                raise
            found, file_issues = [], [Issue("error", t("ingest.file.unreadable", lang, error=type(exc).__name__),
                                            file=upload.name)]
        datasets += found
        issues += file_issues
    if progress:
        progress(1.0, t("ingest.progress.done", lang))
    return with_meta(Preparation(datasets, issues), title=title, basis=basis, notes=notes)


def with_meta(prep: Preparation, *, title: str | None = None, basis: str | None = None,
              notes: str | None = None) -> Preparation:
    """The preparation with a title, basis of migrant status and notes given by the person loading.

    The title replaces the layout's; notes come first, before the layout's own; the basis goes on
    datasets of kinds with a migrant status whose layout states none. The input is left unchanged.
    """
    title, basis, notes = (title or "").strip(), (basis or "").strip(), (notes or "").strip()
    if not (title or basis or notes):
        return prep
    datasets = []
    for d in prep.datasets:
        update: dict[str, str] = {}
        if title:
            update["title"] = title
        if notes:
            update["notes"] = "\n".join(x for x in (notes, d.meta.notes) if x)
        if basis and not d.meta.basis and d.meta.kind not in NO_MIGRANT_STATUS:
            update["basis"] = basis
        datasets.append(replace(d, meta=d.meta.model_copy(update=update)) if update else d)
    return Preparation(datasets=datasets, issues=prep.issues)


def _prepare_one(upload: Upload, wanted: Kind | None, country: str | None, source: str | None,
                 edition: str | None, mapping: MappingProfile | None, store, lang: str,
                 report: Callable[[str, float], None]):
    report("reading", 0.0)
    sha = hashlib.sha256(upload.data).hexdigest()
    book = open_book(upload.name, upload.data, sha)
    portfolio = book.ftype == "xlsx" and is_portfolio(book.sheet_names)
    if portfolio or wanted == Kind.INTERVENTIONS:
        # interventions are read by the M&E import (its own model, the same kind of issues and dry run)
        return [], [Issue("error", t("ingest.issue.portfolio" if portfolio else "ingest.issue.not_portfolio", lang),
                          file=upload.name)]
    book.progress = lambda fraction: report("reading", fraction)
    try:
        raws = detect(book, wanted, mapping)
    finally:
        book.progress = None
    report("checking", 0.0)
    issues: list[Issue] = []
    if not raws:
        return [], [Issue("error", t("ingest.issue.no_table", lang), file=upload.name)]
    out = []
    for n, raw in enumerate(raws):
        def step(fraction: float, n: int = n) -> None:
            report("checking", (n + fraction) / len(raws))

        ctx = validate.Context(file=upload.name, sheet=raw.sheet or None, lang=lang, columns=dict(raw.columns))
        for level, key, fields in raw.problems:
            ctx.add(level, key, **fields)
        k = Kind(wanted or raw.kind or _guess_kind(raw))
        typed = _typed_lookup(book, raw)
        if raw.form == "microdata" or k == Kind.LFS and _looks_microdata(raw):
            frame = _microdata(ctx, raw, country, step, typed=typed)
            form = Form.MICRODATA
        else:
            frame = _observations(ctx, raw, k, country, typed=typed, step=step)
            form = Form.OBSERVATIONS
        issues += dict.fromkeys(ctx.issues)  # a wide table repeats a row's id cell once per value column
        step(1.0)
        if frame is None:
            continue
        d = raw.defaults
        areas = sorted(set(frame["ref_area"].dropna().unique()) - {codes.UNKNOWN, codes.TOTAL}) if len(frame) else []
        scope = country or (areas[0] if len(areas) == 1 else "_ALL")
        try:
            meta = DatasetMeta(kind=k, source=source or d.get("source") or DEFAULT_SOURCE,
                               edition=edition if edition is not None else str(d.get("edition", "")),
                               scope=scope, title=d.get("title", ""), basis=d.get("basis", ""),
                               file_name=upload.name, sha256=sha, licence=d.get("licence", ""),
                               provenance=f"{raw.layout}" + (f", sheet {raw.sheet}" if raw.sheet else ""),
                               notes=d.get("notes", ""))
        except ValueError as exc:
            issues.append(Issue("error", t("ingest.issue.bad_meta", lang, error=str(exc).splitlines()[0]),
                                file=upload.name))
            continue
        diff = _diff(store, meta, frame) if store is not None and form == Form.OBSERVATIONS else None
        used = mapping if mapping is not None and raw.layout in ("generic_table", "microdata") else \
            (MappingProfile(kind=k, columns=dict(raw.columns), sheet=raw.sheet or None, header_row=raw.header_row)
             if raw.layout in ("generic_table", "microdata", "template") else None)
        out.append(PreparedDataset(meta=meta, form=form, frame=frame, layout=raw.layout, file=upload.name,
                                   sheet=raw.sheet or None, source_columns=raw.source_columns, mapping=used,
                                   diff=diff))
    return out, issues


def _guess_kind(raw: Raw) -> str:
    cols = set(raw.columns)
    if {"weight"} & cols and "value" not in cols:
        return Kind.LFS.value
    if "labour_status" in cols:
        return Kind.LFS.value
    if "measure" in cols:
        return Kind.REMITTANCES.value
    if "counterpart_area" in cols:
        return Kind.MIGRANT_STOCK.value
    return Kind.CENSUS.value


def _looks_microdata(raw: Raw) -> bool:
    return "weight" in raw.columns or "value" not in raw.columns


# ---- detection --------------------------------------------------------------------------------------
def detect(book, wanted: Kind | None = None, mapping: MappingProfile | None = None) -> list[Raw]:
    """Raw tables of a book: our template, an official layout, else the best generic table."""
    if mapping is None:
        tpl = is_template(book)
        if tpl is not None:
            return [_template(book, tpl[0])]
        from mmicd.io import official

        found = official.detect(book)
        if found:
            return found
    return _generic(book, wanted, mapping)


def _template(book, kind: str) -> Raw:
    sheet = "data" if "data" in book.sheet_names else book.sheet_names[0]
    frame, headers = read_table(book, sheet, 0)
    columns = {h: h for h in headers if h in (*OBS_CANONICAL, *MICRODATA_COLUMNS, "unit_measure")}
    frame = frame.rename(columns={})
    form = "microdata" if kind == Kind.LFS.value else "observations"
    return Raw(layout="template", sheet=sheet, frame=frame, columns=columns, source_columns=headers,
               kind=kind if kind in {k.value for k in Kind} else None, form=form, header_row=1,
               defaults={"decimal": book.decimal})


def _header_score(texts: list[str]) -> float:
    return len(suggest_columns(texts)) + 0.5 * len(year_columns(texts))


def _generic(book, wanted: Kind | None, mapping: MappingProfile | None) -> list[Raw]:
    sheets = [mapping.sheet] if mapping is not None and mapping.sheet in book.sheet_names else book.sheet_names
    best: tuple[float, str, int] | None = None
    for sheet in sheets:
        if sheet.startswith("_"):
            continue
        grid = book.grid(sheet, 60)
        wanted_headers = set(mapping.columns.values()) if mapping is not None else set()

        def score(texts: list[str], wanted_headers=wanted_headers) -> float:
            return _header_score(texts) + sum(1 for h in texts if h and h.strip() in wanted_headers)

        if mapping is not None and mapping.header_row:
            row = mapping.header_row - 1
        else:
            row = find_header(grid, score)
        found = score([str(c) for c in grid[row]]) if grid and row < len(grid) else 0
        if best is None or found > best[0]:
            best = (found, sheet, row)
    if best is None or best[0] < 1:
        return []
    _, sheet, row = best
    if mapping is None and wanted != Kind.LFS:
        wide = _wide(book, sheet, row, wanted)
        if wide is not None:
            return [wide]
    grid = book.grid(sheet, 60)
    head = [str(c).strip() for c in grid[row]] if row < len(grid) else []
    planned = {c: h for c, h in mapping.columns.items()} if mapping is not None else suggest_columns(head)
    numeric = {h for c, h in planned.items() if c in ("value", "age", "weight")}
    frame, headers = read_table(book, sheet, row, numeric)
    if mapping is not None:
        columns = {c: h for c, h in mapping.columns.items() if h in headers}
        missing = {c: h for c, h in mapping.columns.items() if h not in headers}
    else:
        columns, missing = suggest_columns(headers), {}
    years = year_columns(headers)
    raw_frame = pd.DataFrame({"_row": frame["_row"]})
    for canonical, header in columns.items():
        raw_frame[canonical] = frame[header]
    if years and "value" not in columns and "time_period" not in columns:
        id_cols = [c for c in columns if c not in ("value", "time_period")]
        wide = pd.concat([raw_frame, frame[list(years)]], axis=1)
        raw_frame = melt_years(wide, id_cols, years)
        columns["time_period"] = next(iter(years))
    mult = unit_mult_from(title_texts(grid, row))
    if mult and "unit_mult" not in columns:
        raw_frame["unit_mult"] = str(mult)
        raw_frame["_scaled"] = True
    is_micro = ("weight" in columns and "value" not in columns) or (wanted == Kind.LFS and "value" not in columns)
    raw = Raw(layout="microdata" if is_micro else "generic_table", sheet=sheet if book.ftype != "csv" else None,
              frame=raw_frame, columns=columns, source_columns=headers, kind=wanted.value if wanted else None,
              form="microdata" if is_micro else "observations", header_row=row + 1,
              defaults={"decimal": book.decimal, "values": dict(mapping.values) if mapping is not None else {}})
    for canonical, header in missing.items():
        raw.problems.append(("error", "mapped_column_absent", {"column": header, "canonical": canonical}))
    if not is_micro:
        _year_from_title(raw, title_texts(grid, row))
    return [raw]


TITLE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def _year_from_title(raw: Raw, titles: list[str]) -> None:
    """A table without a year column whose title rows name exactly one year ("Census 2021"):
    that year is the reference period, said in an info issue; several or none: nothing guessed."""
    if "time_period" in raw.columns or "time_period" in raw.frame:
        return
    years = {m.group(1) for text in titles for m in TITLE_YEAR.finditer(text)}
    if len(years) == 1:
        year = years.pop()
        raw.frame = raw.frame.assign(time_period=year)
        raw.columns = {**raw.columns, "time_period": "time_period"}
        title = next(text for text in titles if year in text)
        raw.problems.append(("info", "year_from_title", {"year": year, "title": title[:120]}))


def _wide(book, sheet: str, row: int, wanted: Kind | None) -> Raw | None:
    """A table whose value columns are labelled by one or more header rows (years, sexes, age
    groups, countries, migrant status; group labels merged over the columns below them)."""
    from mmicd.io import wide

    head = book.grid(sheet, 60)
    found = wide.detect(head, row)
    if found is None:
        return None
    rows, _, value_cols, _ = found
    if len(rows) == 1 and all(set(d) <= {"time_period"} for d in value_cols.values()):
        return None  # a single row of years: the tidy reader melts it (and copes with large sheets)
    table = wide.unpivot(book.grid(sheet), row, found)
    if table is None:
        return None
    frame = table.frame
    titles = title_texts(head, rows[0])
    mult = unit_mult_from(titles)
    if mult:
        frame = frame.assign(unit_mult=str(mult), _scaled=True)
    raw = Raw(layout="wide_table", sheet=sheet if book.ftype != "csv" else None, frame=frame, columns=table.columns,
              source_columns=[cell_text(c) for c in head[rows[-1]]], kind=wanted.value if wanted else None,
              form="observations", header_row=rows[-1] + 1, defaults={"decimal": book.decimal, "values": {}})
    _year_from_title(raw, titles)
    return raw


# ---- canonical frames -----------------------------------------------------------------------------
def _observations(ctx: validate.Context, raw: Raw, kind: Kind, country: str | None,
                  typed: Callable | None = None, step: Callable[[float], None] | None = None) -> pd.DataFrame | None:
    """Observations in canonical shape (the shape :func:`mmicd.model.normalise_observations` gives).

    Each dimension is recoded once per distinct source value and kept as integer codes, from which
    the text columns are built in Arrow and by which validation groups (:class:`validate.Keys`):
    no Python object per row, no copy of the frame."""
    src = raw.frame
    present = set(raw.columns) | {c for c in ("ref_area", "time_period", "value", "measure") if c in src}
    if country and "ref_area" not in present:
        present.add("ref_area")
    if not validate.check_required(ctx, present, "observations", kind.value):
        return None
    explicit = _explicit_values(raw)
    index = pd.RangeIndex(len(src))
    out: dict[str, pd.Series] = {}
    given: dict[str, tuple[np.ndarray, list[str]]] = {}
    rawvals: dict[str, pd.Series] = {}
    rows = src["_row"].to_numpy()
    for col in DIMENSIONS:
        if col in src:
            if raw.coded:
                found, labels = pd.factorize(src[col], use_na_sentinel=False)
                found, labels = np.asarray(found, dtype=np.int32), [_blank_total(x) for x in labels]
            else:
                found, labels = recode_codes(col, src[col], explicit.get(col), raw.columns.get(col))
            found, labels = _canonical_labels(found, labels)
            # unknown codes reported now, from the source cells, which are then let go
            view = pd.DataFrame({col: take_labels(labels, found, index), "_row": rows}, copy=False)
            view_keys = validate.Keys(view)
            view_keys.give(col, found, labels)
            validate.check_codes(ctx, view, {col: src[col]}, [col], unknown_ok=False, keys=view_keys)
            out[col] = view[col]
            del view, view_keys, src[col]
            if step:
                step(0.6 * (DIMENSIONS.index(col) + 1) / len(DIMENSIONS))
        else:
            constant = country if col == "ref_area" and country else "POP" if col == "measure" else codes.TOTAL
            found, labels = np.zeros(len(src), dtype=np.int32), [constant]
            out[col] = take_labels(labels, found, index)
        given[col] = (found, labels)
    units = codes.codelist("measure")["unit_measure"].to_dict()
    found, labels = given["measure"]
    unit_labels, unit_codes = np.unique(np.asarray([str(units.get(m, "") or "") for m in labels], dtype=object),
                                        return_inverse=True)
    given["unit_measure"] = (unit_codes.astype(np.int32)[found], [str(u) for u in unit_labels])
    out["unit_measure"] = take_labels(given["unit_measure"][1], given["unit_measure"][0], index)
    mult = _unit_mult(ctx, src, raw)
    release_memory()   # the source code columns are gone: their pages back before numbers and checks
    if raw.coded:  # official layouts: numbers parsed and scaled to base units by the reader
        values = src["value"].astype("float64")
        status = src["obs_status"].astype("string").where(values.isna())
        bad = src["_bad"].astype(bool) if "_bad" in src else pd.Series(False, index=src.index)
        rawvals["value"] = src["_text"] if "_text" in src else src["value"]
        ctx.cells("error", "not_a_number", src, bad, "value", source_values=rawvals["value"])
    else:
        # a count of persons with no multiplier is whole: evidence for cells like 45.678
        unit_of = np.asarray([u in validate.COUNT_UNITS for u in given["unit_measure"][1]], dtype=bool)
        whole = unit_of[given["unit_measure"][0]] & (mult.to_numpy() == 0)
        got = _read_values(src, "value", raw, whole, typed)
        values, status = got.values, got.status
        rawvals["value"] = src["value"]
        number_issues.report(ctx, src, got, "value", src["value"])
        if "_scaled" in src or "unit_mult" in raw.columns:
            values = values * np.power(10.0, mult.to_numpy())
    out["value"] = pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=index)
    out["unit_mult"] = pd.Series(mult.to_numpy(dtype="int64"), index=index)
    if "obs_status" in src:
        found, labels = (pd.factorize(src["obs_status"], use_na_sentinel=False) if raw.coded else
                         recode_codes("obs_status", src["obs_status"], explicit.get("obs_status"),
                                      raw.columns.get("obs_status")))
        given_status = take_labels([_blank_na(x) for x in labels], np.asarray(found, dtype=np.int32), index)
        rawvals["obs_status"] = src["obs_status"]
    else:
        given_status = None
    out["obs_status"] = _status(status, given_status, raw.defaults.get("obs_status", "A"), index)
    check = pd.DataFrame(out, index=index, copy=False)
    check["_row"] = rows
    for helper in ("_col", "_sheet"):
        if helper in src:
            check[helper] = pd.Series(src[helper].array, index=index)
    release_memory()
    if step:
        step(0.7)
    keys = validate.Keys(check)
    for col, (found, labels) in given.items():
        keys.give(col, found, labels)
    # every dimension is checked: source columns above, constants are canonical codes
    validate.check_observations(ctx, check, rawvals, keys, codes_checked=DIMENSIONS)
    return pd.DataFrame({c: out[c] for c in OBS_COLUMNS}, index=index, copy=False)


def _blank_total(label: object) -> str:
    return codes.TOTAL if label is None or label is pd.NA or (isinstance(label, float) and np.isnan(label)) \
        else str(label)


def _blank_na(label: object) -> str | None:
    if label is None or label is pd.NA or (isinstance(label, float) and np.isnan(label)):
        return None
    return str(label) or None


def _canonical_labels(found: np.ndarray, labels: list) -> tuple[np.ndarray, list[str]]:
    """Labels as stored: stripped, blank -> ``_T``; labels that become equal share one code."""
    clean = [(str(x).strip() or codes.TOTAL) if x is not None else codes.TOTAL for x in labels]
    if len(set(clean)) == len(clean):
        return found, clean
    unique, remap = np.unique(np.asarray(clean, dtype=object), return_inverse=True)
    return remap.astype(np.int32)[found], [str(u) for u in unique]


def _status(status: pd.Series, given: pd.Series | None, default: str, index: pd.Index) -> pd.Series:
    """OBS_STATUS: the markers' status, else the file's status column, else the default ('' is none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = [pa.array(status.array)]
    if given is not None:
        parts.append(pa.array(given.array))
    merged = pc.coalesce(*[p.cast(pa.large_string()) for p in parts], pa.scalar(default, pa.large_string()),
                         memory_pool=arrow_pool())
    return pd.Series(pd.array(merged, dtype="string"), index=index)


def _unit_mult(ctx: validate.Context, src: pd.DataFrame, raw: Raw) -> pd.Series:
    """UNIT_MULT per row: 0/3/6/9 as numbers, or words (thousands, milliers, millones ...)."""
    if "unit_mult" not in src:
        return pd.Series(0, index=src.index, dtype="int64")
    text = src["unit_mult"].astype("string").str.strip().fillna("")
    lookup = {}
    for u in pd.unique(text.to_numpy()):
        u = str(u)
        number = pd.to_numeric(u, errors="coerce")
        if u == "":
            lookup[u] = 0
        elif pd.notna(number) and float(number) in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12):
            lookup[u] = int(number)
        elif unit_mult_from([u]) or u.lower().startswith(("unit", "unité", "unidad")):
            lookup[u] = unit_mult_from([u])
        else:
            lookup[u] = -1
    mult = text.map(lookup).astype("int64")
    if not raw.coded:
        ctx.cells("error", "unknown_code", src, mult < 0, "unit_mult", source_values=src["unit_mult"])
    return mult.clip(lower=0)


def _microdata(ctx: validate.Context, raw: Raw, country: str | None,
               step: Callable[[float], None] | None = None, typed: Callable | None = None) -> pd.DataFrame | None:
    """Person records in canonical shape (text codes, ``Int64`` age, ``float64`` weight).

    Built column by column in Arrow (no Python object per row); each source column is validated
    as soon as it is converted and then dropped from the raw frame, so the source and the result
    are never both held whole.
    """
    src = raw.frame
    present = set(raw.columns) | ({"ref_area"} if country else set())
    if not validate.check_required(ctx, present, "microdata", Kind.LFS.value):
        return None
    explicit = _explicit_values(raw)
    index = src.index
    rows = pd.Series(src["_row"].to_numpy(), index=index, name="_row")
    out: dict[str, pd.Series] = {}

    for col in ("ref_area", "time_period", "sex", "migrant_status", "labour_status"):
        if col in src:
            found, labels = recode_codes(col, src[col], explicit.get(col), raw.columns.get(col), default=codes.UNKNOWN)
            out[col] = take_labels(labels, found, index)
            # unknown codes (and bad periods) of the converted column, named by their source cells
            view = pd.DataFrame({col: out[col], "_row": rows}, copy=False)
            keys = validate.Keys(view)
            keys.give(col, found, labels)
            validate.check_codes(ctx, view, {col: src[col]}, [col], unknown_ok=True, keys=keys)
            del src[col], view, keys, found
            release_memory()
            if step:
                step(len(out) / len(MICRODATA_COLUMNS))
        else:
            out[col] = _constant(country if col == "ref_area" and country else codes.UNKNOWN, index)
    for col in ("stratum", "psu"):
        out[col] = _stripped(src[col]) if col in src else _constant("", index)
        if col in src:
            del src[col]
            release_memory()
    view = pd.DataFrame({"_row": rows}, copy=False)
    for col in ("age", "weight"):
        got = _read_values(src, col, raw, col == "age", typed)
        values, bad = got.values, got.bad
        number = values.to_numpy()
        number_issues.report(ctx, view, got, col, src[col])
        if col == "age":
            fraction = ~np.isnan(number) & (number != np.floor(np.nan_to_num(number)))
            ctx.cells("error", "not_a_number", view, fraction, col, source_values=src[col])
            ctx.cells("error", "age_range", view, ~np.isnan(number) & ((number < 0) | (number > 130)), col,
                      source_values=src[col])
            out[col] = pd.Series(pd.array(np.where(fraction, np.nan, number), dtype="Int64"), index=index)
        else:
            ctx.cells("error", "bad_weight", view, ~bad & np.isnan(number), col, source_values=src[col])
            ctx.cells("error", "negative_weight", view, ~np.isnan(number) & (number <= 0), col,
                      source_values=src[col])
            out[col] = values
        del src[col], got, values, number
        release_memory()
        if step:
            step(len(out) / len(MICRODATA_COLUMNS))
    frame = pd.DataFrame({c: out.pop(c) for c in MICRODATA_COLUMNS}, index=index, copy=False)
    return frame.reset_index(drop=True)


def _read_values(src: pd.DataFrame, col: str, raw: Raw, whole, typed: Callable | None) -> Numbers:
    """The numbers of one source column (of several, for wide tables: each source column decides
    its own convention). A spreadsheet read as text gets its ambiguous or contradictory cells
    looked up again with their cell types: a number cell needs no convention."""
    groups = src["_cno"] if "_cno" in src else src["_col"] if "_col" in src and col == "value" else None
    hint = _decimal(raw)
    got = read_numbers(src[col], groups=groups, hint=hint, whole=whole)
    if typed is None or not (got.problems["ambiguous"].any() or got.problems["contradictory"].any()):
        return got
    values = src[col].to_numpy(dtype=object, na_value=None).copy()
    open_ = got.problems["ambiguous"] | got.problems["contradictory"]
    if groups is not None:
        open_ = groups.isin(pd.unique(groups[open_])).to_numpy(dtype=bool)
    else:
        open_ = np.ones(len(values), dtype=bool)
    where = np.flatnonzero(open_)
    labels = groups.to_numpy()[where] if groups is not None else np.full(len(where), raw.columns.get(col, col))
    found = typed(src["_row"].to_numpy()[where], labels)
    for i, cell in zip(where, found, strict=True):
        if cell is not NOT_FOUND:
            values[i] = cell
    return read_numbers(pd.Series(values, index=src.index, dtype=object), groups=groups, hint=hint, whole=whole)


def _typed_lookup(book, raw: Raw) -> Callable | None:
    """For a spreadsheet read as text, a function giving the typed values of cells (by sheet row
    and column label); None for CSV and official layouts (their readers use cell types already)."""
    if book.ftype == "csv" or raw.coded:
        return None
    return lambda rows, labels: book.typed_cells(raw.sheet, raw.header_row, rows, labels)


def _constant(value: str, index: pd.Index) -> pd.Series:
    import pyarrow as pa

    return pd.Series(pd.array(pa.repeat(pa.scalar(value, pa.large_string()), len(index), memory_pool=arrow_pool()),
                              dtype="string"),
                     index=index)


def _stripped(values: pd.Series) -> pd.Series:
    """Text without surrounding spaces, blanks as ''."""
    arrow = arrow_text(values)
    if arrow is not None:
        import pyarrow.compute as pc

        pool = arrow_pool()
        text = pc.fill_null(pc.utf8_trim_whitespace(arrow, memory_pool=pool), "")
        return pd.Series(pd.array(text, dtype="string"), index=values.index)
    return values.astype("string").str.strip().fillna("")


def _explicit_values(raw: Raw) -> dict[str, dict[str, str]]:
    return raw.defaults.get("values", {}) if isinstance(raw.defaults.get("values"), dict) else {}


def _decimal(raw: Raw) -> str | None:
    """The file's locale hint for the number reader ('.', ',' or None)."""
    return raw.defaults.get("decimal")


# ---- diff -------------------------------------------------------------------------------------------
def _current(store, meta: DatasetMeta) -> DatasetVersion | None:
    for v in store.datasets(status=Status.PUBLISHED, kind=meta.kind.value):
        if v.scope == meta.scope and v.source == meta.source:
            return v
    return None


def _diff(store, meta: DatasetMeta, frame: pd.DataFrame) -> pd.DataFrame:
    current = _current(store, meta)
    cols = [*DIMENSIONS, "old_value", "new_value", "change"]
    new = frame[[*DIMENSIONS, "value"]].rename(columns={"value": "new_value"})
    if current is None or current.form != Form.OBSERVATIONS:
        return new.assign(old_value=np.nan, change="added")[cols]
    old = store.observations(dataset_ids=[current.id], status=None)[[*DIMENSIONS, "value"]]
    old = old.rename(columns={"value": "old_value"})
    joined = old.merge(new, on=DIMENSIONS, how="outer", indicator=True)
    change = np.select([joined["_merge"] == "right_only", joined["_merge"] == "left_only",
                        ~np.isclose(joined["old_value"].fillna(-1e300), joined["new_value"].fillna(-1e300))],
                       ["added", "removed", "changed"], default="")
    joined["change"] = change
    return joined[joined["change"] != ""][cols].reset_index(drop=True)


# ---- commit -----------------------------------------------------------------------------------------
def commit(prep: Preparation, store, *, actor: str, mode: Literal["replace", "add"] = "replace",
           publish: bool = False, lang: str = "en",
           progress: Callable[[float, str], None] | None = None) -> list[DatasetVersion]:
    """Store every dataset of ``prep`` in ONE transaction (or none). Refuses a preparation with errors.

    ``progress(fraction, phase)``: 0 when storing starts, 1 when the transaction is committed (it
    is one transaction, so there is nothing in between to report)."""
    errors = [i for i in prep.issues if i.level == "error"]
    if errors:
        raise IssuesError(errors)
    if mode not in ("replace", "add"):
        raise ValueError(f"mode must be 'replace' or 'add', not {mode!r}")
    items = []
    for d in prep.datasets:
        frame = d.frame
        if mode == "add" and d.form == Form.OBSERVATIONS:
            current = _current(store, d.meta)
            if current is not None and current.form == Form.OBSERVATIONS:
                old = store.observations(dataset_ids=[current.id], status=None)[OBS_COLUMNS]
                frame = pd.concat([old, frame], ignore_index=True).drop_duplicates(DIMENSIONS, keep="last")
        elif mode == "add" and d.form == Form.MICRODATA:
            current = _current(store, d.meta)
            if current is not None and current.form == Form.MICRODATA:
                frame = pd.concat([store.microdata(current.id), frame], ignore_index=True)
        items.append((d.meta, d.form, frame))
    status = Status.PUBLISHED if publish else Status.DRAFT
    if progress:
        progress(0.0, t("ingest.progress.storing", lang))
    versions = store.add_many(items, actor=actor, status=status)
    if progress:
        progress(1.0, t("ingest.progress.done", lang))
    return versions


# ---- annotate ---------------------------------------------------------------------------------------
def annotate(upload: Upload, issues: list[Issue], lang: str = "en",
             progress: Callable[[float], None] | None = None) -> bytes:
    """The user's workbook with every problem cell highlighted and commented, plus a summary sheet
    (``progress`` as in :func:`prepare`: a :func:`budgeted` callback stops it)."""
    from mmicd.io.annotate import annotate_workbook

    return annotate_workbook(upload.name, upload.data, issues, lang, progress)
