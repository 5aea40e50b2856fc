"""Ingestion: uploads -> prepared datasets (dry run with issues and diff) -> one-transaction commit.

``prepare`` reads every upload once (real type from its bytes), detects its layout (our templates,
UN DESA, World Bank WDI, KNOMAD, UN WPP, ILOSTAT, Remittance Prices Worldwide, or a generic table
mapped through synonyms), recodes to canonical codes and validates; nothing is written.
``commit`` stores every dataset of a preparation in one transaction or none; ``annotate`` returns
the user's workbook with every problem cell highlighted and commented.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.clean import local_areas, validate
from mmicd.clean import numbers as number_issues
from mmicd.clean.mapping import (
    MappingProfile,
    as_written,
    divisor_for,
    factorize_text,
    is_fallback,
    recode,
    recode_codes,
    suggest_columns,
    take_labels,
)
from mmicd.guards import no_data_issues, publish_checks
from mmicd.i18n import format_number, t
from mmicd.io import FileProblem, open_book, workbook_facts
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
from mmicd.io.read import NOT_FOUND, arrow_pool, arrow_text, cell_text, in_background, result
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
from mmicd.rules.base import COUNT_UNITS, sorted_codes
from mmicd.rules.base import take as rules_take

__all__ = ["MappingProfile", "PreparedDataset", "Preparation", "Upload", "annotate", "commit", "prepare",
           "with_meta", "KIND_ALIASES", "BASES", "CheckStopped", "budgeted", "Check", "Interrupted",
           "run_check"]

KIND_ALIASES = {"auto": None, "census": Kind.CENSUS, "stocks": Kind.MIGRANT_STOCK, "remittances": Kind.REMITTANCES,
                "lfs": Kind.LFS, "interventions": Kind.INTERVENTIONS, "population": Kind.POPULATION,
                "remittance_corridors": Kind.REMITTANCE_CORRIDORS, "migrant_stock": Kind.MIGRANT_STOCK,
                "flows": Kind.MIGRATION_FLOWS, "migration_flows": Kind.MIGRATION_FLOWS, "refugees": Kind.REFUGEES,
                "border_movements": Kind.BORDER_MOVEMENTS, "labour_migration": Kind.LABOUR_MIGRATION,
                "border": Kind.BORDER_MOVEMENTS, "labour": Kind.LABOUR_MIGRATION}
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
    """Raised by a progress callback to stop a check (:func:`budgeted`, :class:`Check`);
    :func:`prepare` lets it through (naming the file it was reading in ``file``), so the work stops
    at once and nothing half-checked is kept. ``reason``: the ``time`` or ``memory`` budget
    (``limit``: seconds or MB) was spent, the user ``cancelled`` it, or the ``session`` that asked
    for it has gone."""

    def __init__(self, reason: Literal["time", "memory", "cancelled", "session"], limit: float = 0.0,
                 file: str | None = None):
        super().__init__(f"check stopped: {reason}" + (f" budget of {limit:g} spent" if limit else ""))
        self.reason = reason
        self.limit = limit
        self.file = file

    def message(self, lang: str = "en", file: str | None = None) -> str:
        """What happened, in words (``ingest.stopped.*``), naming the file."""
        return t(f"ingest.stopped.{self.reason}", lang, file=file or self.file or "",
                 limit=format_number(self.limit, lang, 0 if float(self.limit).is_integer() else 1))


class Interrupted(BaseException):
    """Raised inside a :class:`Check`'s thread by its watchdog when the check must stop and has not
    reached a progress call in time (a long step): a BaseException, so that no ``except Exception``
    on the way swallows it."""


class _Budget:
    def __init__(self, seconds: float | None, megabytes: float | None, clock: Callable[[], float]):
        self.seconds, self.megabytes, self.clock = seconds, megabytes, clock
        self.start, self.base = clock(), _resident_mb()

    def spent(self) -> CheckStopped | None:
        if self.seconds is not None and self.clock() - self.start > self.seconds:
            return CheckStopped("time", self.seconds)
        if self.megabytes is not None and _resident_mb() - self.base > self.megabytes:
            return CheckStopped("memory", self.megabytes)
        return None


def budgeted(progress: Callable[..., None] | None, *, seconds: float | None = None,
             megabytes: float | None = None, clock: Callable[[], float] = time.monotonic) -> Callable[..., None]:
    """A progress callback that raises :class:`CheckStopped` once the work has run ``seconds`` or
    grown the process's resident memory by ``megabytes`` since this call, else passes on to
    ``progress``. The ingestion reports progress often (every piece of a large sheet, every column
    converted), so the check stops within a step of its budget; :class:`Check` also stops a step
    that takes longer."""
    budget = _Budget(seconds, megabytes, clock)

    def check(*args) -> None:
        stop = budget.spent()
        if stop is not None:
            raise stop
        if progress is not None:
            progress(*args)

    return check


class Check:
    """``work(progress)`` run in a thread of its own within a budget, with its progress readable,
    which can be cancelled and which stops by itself when ``alive()`` says that whoever asked for
    it has gone (the browser session closed).

    ``progress(fraction, message)`` (handed to ``work``; pass it on to :func:`prepare`) records the
    progress and raises :class:`CheckStopped` once the check must stop. A watchdog thread looks every
    :attr:`POLL` seconds too: when the check must stop and has not reached a progress call within
    :attr:`GRACE` seconds (one long step), it raises :class:`Interrupted` in the check's thread
    (``PyThreadState_SetAsyncExc``; it takes effect between two Python instructions, so a single
    call into C, such as the CSV parser, finishes first), again until the thread has ended.
    When done: :attr:`result`, or :attr:`error` (a :class:`CheckStopped`, or what ``work`` raised).
    """

    POLL = 0.2
    GRACE = 1.0

    def __init__(self, work: Callable[[Callable[[float, str], None]], object], *, seconds: float | None = None,
                 megabytes: float | None = None, alive: Callable[[], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.fraction, self.message = 0.0, ""
        self.result: object = None
        self.error: BaseException | None = None
        self.stop: CheckStopped | None = None
        self._budget = _Budget(seconds, megabytes, clock)
        self._alive, self._clock = alive, clock
        self._cancelled, self._done = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,), name="mmicd-check", daemon=True)
        self._thread.start()
        threading.Thread(target=self._watch, name="mmicd-check-watchdog", daemon=True).start()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the check has ended (waits up to ``timeout`` seconds)."""
        return self._done.wait(timeout)

    def _why(self) -> CheckStopped | None:
        if self.stop is None:
            if self._cancelled.is_set():
                self.stop = CheckStopped("cancelled")
            elif self._alive is not None and not self._alive():
                self.stop = CheckStopped("session")
            else:
                self.stop = self._budget.spent()
        return self.stop

    def progress(self, fraction: float, message: str = "") -> None:
        stop = self._why()
        if stop is not None:
            raise CheckStopped(stop.reason, stop.limit)
        self.fraction, self.message = fraction, message or self.message

    def _run(self, work) -> None:
        try:
            self.result = work(self.progress)
        except Interrupted as exc:
            self.error = CheckStopped(self.stop.reason, self.stop.limit, getattr(exc, "file", None)) \
                if self.stop else CheckStopped("cancelled")
        except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the check
            self.error = exc
        finally:
            if isinstance(self.error, CheckStopped):
                logging.getLogger("mmicd.ingest").warning("%s (%s)", self.error, self.error.file or "-")
            self._done.set()

    def _watch(self) -> None:
        since = None
        while not self._done.wait(self.POLL):
            if not self._thread.is_alive():   # ended by an interruption that came too late to be caught
                self.error = self.error or self.stop
                self._done.set()
                return
            if self._why() is None:
                continue
            since = self._clock() if since is None else since
            if self._clock() - since >= self.GRACE:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread.ident),
                                                           ctypes.py_object(Interrupted))
                since = self._clock()


def run_check(work: Callable[[Callable[[float, str], None]], object], *, seconds: float | None = None,
              megabytes: float | None = None) -> object:
    """``work(progress)`` run as a :class:`Check` within a budget (by default the configured one,
    ``MMICD_CHECK_SECONDS`` and ``MMICD_CHECK_MB``), waiting for its end: its result, or raises its
    error (:class:`CheckStopped` when it was stopped). Ctrl-C cancels it. For the command line."""
    if seconds is None and megabytes is None:
        from mmicd.config import get_settings

        settings = get_settings()
        seconds, megabytes = settings.check_seconds, settings.check_megabytes
    check = Check(work, seconds=seconds, megabytes=megabytes)
    try:
        while not check.wait(0.5):
            pass
    except KeyboardInterrupt:
        check.cancel()
        check.wait()
        raise
    if check.error is not None:
        raise check.error
    return check.result


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
            progress: Callable[[float, str], None] | None = None, projections: bool = False) -> Preparation:
    """Read, detect, map and validate every upload; nothing is written (``store`` only for the diff).

    ``title`` replaces the title a layout gives; ``notes`` come before a layout's own notes;
    ``basis`` (``country of birth`` or ``citizenship``) is recorded on datasets of kinds with a
    migrant status whose layout does not state one. ``progress(fraction, phase)`` is called as the
    work goes: ``fraction`` of all uploads in [0, 1], ``phase`` a translated word (reading a file,
    large .xlsx sheets piece by piece; checking its values; done).
    ``projections=True`` declares that the files hold projections: values after next year are then
    accepted and stored as modelled (obs_status ``E``); otherwise such years are errors at their cells.
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
    if store is not None:   # subdivisions: an office's own code list, where one is in force
        from mmicd import subdivision_lists

        subdivision_lists.apply(store)
    total = max(len(uploads), 1)
    for n, upload in enumerate(uploads):
        def report(phase: str, fraction: float, n: int = n) -> None:
            if progress:
                lo, hi = PHASES[phase]
                progress((n + lo + (hi - lo) * min(max(fraction, 0.0), 1.0)) / total,
                         t(f"ingest.progress.{phase}", lang))

        try:
            found, file_issues = _prepare_one(upload, wanted, country, source, edition, mapping, store, lang,
                                              report, projections=projections)
        except (CheckStopped, Interrupted) as stop:
            stop.file = getattr(stop, "file", None) or upload.name
            raise
        except FileProblem as exc:
            found, file_issues = [], [Issue("error", t(exc.key, lang, **exc.fields), file=upload.name,
                                            row=exc.fields.get("line"))]
        except MemoryError:
            found, file_issues = [], [Issue("error", t("ingest.file.too_large_memory", lang), file=upload.name)]
        except Exception as exc:  # noqa: BLE001 - no traceback reaches a user; the message names the file
            if os.environ.get("MMICD_INGEST_DEBUG"):
                raise
            found, file_issues = [], [Issue("error", t("ingest.file.unreadable", lang, error=type(exc).__name__),
                                            file=upload.name)]
        if not any(i.level == "error" for i in file_issues):  # (values in error are not "no values")
            file_issues += no_data_issues(found, lang)  # a table without data rows is never stored
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
                 report: Callable[[str, float], None], *, projections: bool = False):
    report("reading", 0.0)
    sha = hashlib.sha256(upload.data).hexdigest()
    book = open_book(upload.name, upload.data, sha)
    portfolio = book.ftype == "xlsx" and is_portfolio(book.sheet_names)
    if portfolio or wanted == Kind.INTERVENTIONS:
        # interventions are read by the M&E import (its own model, the same kind of issues and dry run)
        return [], [Issue("error", t("ingest.issue.portfolio" if portfolio else "ingest.issue.not_portfolio", lang),
                          file=upload.name)]
    book.progress = lambda fraction: report("reading", fraction)
    tried: list[tuple[str, str, dict]] = []
    try:
        raws = detect(book, wanted, mapping, country, report=tried)
    finally:
        book.progress = None
    report("checking", 0.0)
    issues: list[Issue] = []
    if not raws:
        # say what was tried: the tables the reader found and why none could be read
        ctx = validate.Context(file=upload.name, sheet=None, lang=lang)
        for level, key, fields in tried:
            ctx.add(level, key, **fields)
        return [], [Issue("error", t("ingest.issue.no_table", lang), file=upload.name), *ctx.issues]
    out = []
    facts = workbook_facts.of_book(book)
    for n, raw in enumerate(raws):
        def step(fraction: float, n: int = n) -> None:
            report("checking", (n + fraction) / len(raws))

        ctx = validate.Context(file=upload.name, sheet=raw.sheet or None, lang=lang, columns=dict(raw.columns),
                               projections=projections)
        for level, key, fields in raw.problems:
            ctx.add(level, key, **fields)
        _workbook_checks(ctx, facts, book, raw)
        k = Kind(wanted or raw.kind or _guess_kind(raw))
        typed = _typed_lookup(book, raw)
        if raw.form == "microdata" or k == Kind.LFS and _looks_microdata(raw):
            frame = _microdata(ctx, raw, country, step, typed=typed)
            if frame is not None:
                _microdata_rules(ctx, raw, frame)
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
        if form == Form.OBSERVATIONS:   # subdivisions against the national figure (warnings)
            issues += local_areas.check_totals(frame, store=store, country=country or scope, file=upload.name,
                                               lang=lang)
        diff = _diff(store, meta, frame) if store is not None and form == Form.OBSERVATIONS else None
        used = mapping if mapping is not None and raw.layout in ("generic_table", "microdata") else \
            (MappingProfile(kind=k, columns=dict(raw.columns), sheet=raw.sheet or None, header_row=raw.header_row)
             if raw.layout in ("generic_table", "microdata", "template", "table") else None)
        out.append(PreparedDataset(meta=meta, form=form, frame=frame, layout=raw.layout, file=upload.name,
                                   sheet=raw.sheet or None, source_columns=raw.source_columns, mapping=used,
                                   diff=diff))
    return out, issues


def _workbook_checks(ctx: validate.Context, facts: workbook_facts.WorkbookFacts, book, raw: Raw) -> None:
    """What the cell values do not tell (:func:`mmicd.io.workbook_facts.check_table`): a hidden sheet,
    formulas without a saved result (value cells marked in ``_formula`` for the rules)."""
    header = book.grid(raw.sheet, 60)[raw.header_row - 1] if raw.sheet and raw.header_row else None
    for level, key, fields in workbook_facts.check_table(facts, raw, header):
        ctx.add(level, key, **fields)


def _microdata_rules(ctx: validate.Context, raw: Raw, frame: pd.DataFrame) -> None:
    """The microdata rules the reader did not already run as it converted the columns (see
    :func:`mmicd.clean.validate.check_microdata`), at the sheet rows of the records."""
    rows = raw.frame["_row"].to_numpy() if "_row" in raw.frame and len(raw.frame) == len(frame) else None
    view = frame.assign(_row=rows) if rows is not None else frame
    validate.check_microdata(ctx, view, {})


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
def detect(book, wanted: Kind | None = None, mapping: MappingProfile | None = None,
           country: str | None = None, report: list | None = None) -> list[Raw]:
    """Raw tables of a book: our template, a known tidy CSV layout, survey microdata, else the
    general table reader (:mod:`mmicd.io.reader`); with a mapping profile that names columns, the
    mapped table."""
    if mapping is None or not mapping.columns:
        tpl = is_template(book) if mapping is None else None
        if tpl is not None:
            return _template(book, tpl[0])
        from mmicd.io import official, reader

        found = official.csv_layouts(book) if mapping is None else []
        if found:
            return found
        if mapping is None and wanted != Kind.LFS and (_plain_long_table(book) or _has_subdivisions(book)):
            return _generic(book, wanted, None)
        if wanted != Kind.LFS and not _microdata_like(book):
            explicit = dict(mapping.values) if mapping is not None else {}
            found = reader.read_book(book, country=country, kind=wanted.value if wanted else None,
                                     explicit=explicit, report=report)
            if found or mapping is not None or any(k == "tables_tried" and f.get("n") for _, k, f in report or []):
                # tables were found but none could be read: they are reported, never read by a
                # looser reader that would not know what the reader refused
                return found
    return _generic(book, wanted, mapping)


def mapping_start(book, wanted: Kind | None = None) -> list[Raw]:
    """Where the mapping editor starts for a file nothing could read: the table under its most
    header-like row, with the columns the synonyms suggest (nothing is stored from this)."""
    return _generic(book, wanted, None)


def _plain_long_table(book) -> bool:
    """A large CSV in the plain long format (every header one of the canonical columns or their
    synonyms — area, year, sex, age, migrant status, a plain "value" — and nothing else): read by
    the column-mapped reader, which does such files fastest; there is nothing for the general
    reader to understand in them."""
    from mmicd.io import reader

    if book.ftype != "csv" or not reader._large(book, ""):
        return False
    grid = book.grid("", 60)
    row = find_header(grid, _header_score) if grid else 0
    head = [str(c).strip() for c in grid[row]] if grid and row < len(grid) else []
    found = suggest_columns(head)
    return bool(head) and all(found.get(c) for c in ("ref_area", "time_period", "value")) and \
        len(found) == len([h for h in head if h]) and "measure" not in found and row == 0


def _has_subdivisions(book) -> bool:
    """A long table with a column of provinces, districts ... (synonyms of ``subdivision``), a period
    and values: read by the column-mapped reader, which places them within the country
    (mmicd/clean/local_areas.py)."""
    for sheet in [s for s in book.sheet_names if not s.startswith("_")][:3]:
        grid = book.grid(sheet, 60)
        row = find_header(grid, _header_score) if grid else 0
        head = [str(c).strip() for c in grid[row]] if grid and row < len(grid) else []
        found, years = suggest_columns(head), year_columns(head)
        if "subdivision" in found and ("time_period" in found or years) and ("value" in found or years):
            return True
    return False


def _microdata_like(book) -> bool:
    """Person records (a weight column and no value column): read as survey microdata."""
    sheets = [s for s in book.sheet_names if not s.startswith("_")]
    for sheet in sheets[:3]:
        grid = book.grid(sheet, 60)
        if not grid:
            continue
        row = find_header(grid, _header_score)
        found = suggest_columns([str(c).strip() for c in grid[row]]) if row < len(grid) else {}
        if "weight" in found and "value" not in found and ("sex" in found or "age" in found):
            return True
    return False


def _template(book, kind: str) -> list[Raw]:
    """Our template's data sheet; rows whose measure is of another kind than the marker's (the returns
    template: returned refugees are kind ``refugees``, returned migrants ``migration_flows``) are a
    table of that kind (measure.csv, column ``kind``); unknown measures stay with the marker's kind."""
    sheet = "data" if "data" in book.sheet_names else book.sheet_names[0]
    frame, headers = read_table(book, sheet, 0)
    columns = {h: h for h in headers if h in (*OBS_CANONICAL, *MICRODATA_COLUMNS, "unit_measure", "subdivision")}
    form = "microdata" if kind == Kind.LFS.value else "observations"
    stored = kind if kind in {k.value for k in Kind} else None

    def raw(part: pd.DataFrame, k: str | None) -> Raw:
        return Raw(layout="template", sheet=sheet, frame=part, columns=columns, source_columns=headers, kind=k,
                   form=form, header_row=1, defaults={"decimal": book.decimal})

    if form == "microdata" or "measure" not in frame or stored is None:
        return [raw(frame, stored)]
    measure = recode("measure", frame["measure"])
    of_measure = measure.map(codes.codelist("measure")["kind"]).astype("string").fillna("").replace("", stored)
    found = {k: Kind(k) for k in pd.unique(of_measure.to_numpy()) if k in {x.value for x in Kind}}
    if set(found) <= {stored}:
        return [raw(frame, stored)]
    of_measure = of_measure.where(of_measure.isin(list(found)), stored)
    return [raw(frame[of_measure == k], k) for k in pd.unique(of_measure.to_numpy())]


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
    at = {}   # header -> 0-based sheet column, for _cno (the value cell's column)
    for j, cell in enumerate(grid[row] if row < len(grid) else []):
        at.setdefault(cell_text(cell), j)
    if "value" in columns and columns["value"] in at:
        raw_frame["_cno"] = at[columns["value"]]
    if years and "value" not in columns and "time_period" not in columns:
        id_cols = [c for c in columns if c not in ("value", "time_period")]
        wide = pd.concat([raw_frame, frame[list(years)]], axis=1)
        raw_frame = melt_years(wide, id_cols, years)
        raw_frame["_cno"] = raw_frame["_col"].map(at)
        columns["time_period"] = next(iter(years))
    mult = unit_mult_from(title_texts(grid, row))
    if mapping is not None and mapping.unit_mult is not None:
        mult = mapping.unit_mult       # said by the person mapping the table: wins over the title
    if mult and "unit_mult" not in columns:
        raw_frame["unit_mult"] = str(mult)
        raw_frame["_scaled"] = True
    if mapping is not None and mapping.measure and "measure" not in columns:
        raw_frame["measure"] = mapping.measure
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
    """Observations in canonical shape (the shape :func:`mmicd.model.normalise_observations` gives),
    every rule of :mod:`mmicd.rules` run on them at their cells."""
    src = raw.frame
    present = set(raw.columns) | {c for c in ("ref_area", "time_period", "value", "measure") if c in src}
    if country and "ref_area" not in present:
        present.add("ref_area")
    if "subdivision" in src:   # provinces, districts ...: their codes become ref_area
        local_areas.place(ctx, src, country)
        present.add("ref_area")
    if not validate.check_required(ctx, present, "observations", kind.value):
        return None
    explicit = _explicit_values(raw)
    out = pd.DataFrame(index=src.index)
    rawvals: dict[str, pd.Series] = {}
    known: dict[str, tuple[np.ndarray, np.ndarray]] = {}   # column -> its codes, handed to the rules
    # the Arrow work of the columns (their distinct texts, then their label columns) runs on worker
    # threads beside the lookups of each column's distinct values, done here in order
    encoding = {col: in_background(factorize_text, src[col]) for col in DIMENSIONS if col in src and not raw.coded}
    labelled: dict[str, object] = {}
    for n, col in enumerate(DIMENSIONS):
        if col in src:
            rawvals[col] = src[col]
        if col in src and raw.coded:
            out[col] = _dimension(src[col])
        else:   # recoded once per distinct source value; a constant is one label
            if col in src:
                factorized = result(encoding.pop(col))
                found, labels = recode_codes(col, src[col], explicit.get(col), raw.columns.get(col),
                                             factorized=factorized)
                # the source text is dropped: its cells stay as written, as codes (for the issues)
                rawvals[col] = as_written(src[col], factorized)
                del src[col], factorized
            else:
                value = country if col == "ref_area" and country else "POP" if col == "measure" else codes.TOTAL
                found, labels = np.broadcast_to(np.int32(0), (len(src),)), [value]
            known[col] = _dimension_codes(found, labels)
            labelled[col] = in_background(take_labels, list(known[col][1]), known[col][0], src.index)
        if step:
            step(0.5 * (n + 1) / len(DIMENSIONS))
    for col, taken in labelled.items():
        out[col] = result(taken)
    release_memory()
    units = codes.codelist("measure")["unit_measure"]
    if "measure" in known:   # the unit of each distinct measure
        index, labels = known["measure"]
        known["unit_measure"] = sorted_codes(
            index, pd.Series(labels, dtype=object).map(units).astype("string").fillna("").to_numpy(dtype=object),
            present=True)
        out["unit_measure"] = take_labels(list(known["unit_measure"][1]), known["unit_measure"][0], src.index)
    else:
        out["unit_measure"] = out["measure"].map(units).astype("string").fillna("")
    mult = _unit_mult(ctx, src, raw)
    why = None
    if raw.coded and raw.parsed:  # official layouts: numbers parsed and scaled to base units by the reader
        values = src["value"].astype("float64")
        status = src["obs_status"].astype("string").where(values.isna())
        bad = src["_bad"].astype(bool) if "_bad" in src else pd.Series(False, index=src.index)
        rawvals["value"] = src["_text"] if "_text" in src else src["value"]
    else:
        # each source column decides its number convention; a count of persons with no multiplier
        # is whole, which settles cells like 45.678
        counts = _is_in(out, known, "unit_measure", COUNT_UNITS)
        whole = counts & (mult.to_numpy() == 0)
        got = _read_values(src, "value", raw, whole, typed)
        values, status, bad = _non_finite_kept(got, src["value"]), got.status, got.problems["not_a_number"]
        why = number_issues.undecided(got, src["value"], src["_row"].to_numpy(), ctx.lang)
        rawvals["value"] = src["value"]
        if raw.coded or "_scaled" in src or "unit_mult" in raw.columns:   # in base units (not percentages)
            share = (out["unit_measure"] == "PT").to_numpy()
            values = values * np.where(share, 1.0, np.power(10.0, mult.to_numpy(dtype=float)))
        if raw.coded:  # the general reader: percentages given as fractions, flags
            values, status = _reader_numbers(ctx, src, out, values, status)
    out["value"] = values
    out["unit_mult"] = mult
    if "obs_status" in src:
        given = src["obs_status"] if raw.coded else recode("obs_status", src["obs_status"],
                                                           explicit.get("obs_status"), raw.columns.get("obs_status"))
        given = given.astype("string").replace("", pd.NA)
        rawvals["obs_status"] = src["obs_status"]
    else:
        given = pd.Series(pd.NA, index=src.index, dtype="string")
    default = raw.defaults.get("obs_status", "A")
    if "obs_status" not in src and not raw.coded and isinstance(default, str):
        # M or Q from markers, else the default: three labels taken by the reader's status codes
        out["obs_status"] = take_labels([default, "M", "Q"], got.status_codes, src.index)
        if not ctx.projections:   # (projections mark values E below)
            known["obs_status"] = sorted_codes(got.status_codes, [default, "M", "Q"])
    else:
        out["obs_status"] = status.fillna(given).fillna(default)
    for helper in ("_row", "_col", "_sheet", "_cno", "_formula"):
        if helper in src:   # numbers shared with the source (no copy), other helpers as numpy objects
            out[helper] = src[helper] if isinstance(src[helper].dtype, np.dtype) else src[helper].to_numpy()
    out["_bad"] = np.asarray(bad, dtype=bool)   # text that is no number: an error at its cell (mmicd.rules)
    if why is not None:
        out["_why"] = why                       # ... or a number no evidence settles (mmicd.clean.numbers)
    out["_text"] = rawvals["value"]             # the value as written: "inf", "NaN" typed in are errors too
    if ctx.projections:
        _mark_projections(ctx, out)
    if step:
        step(0.7)
    validate.check_observations(ctx, out, rawvals, known)
    return _canonical(out)


def _canonical(out: pd.DataFrame) -> pd.DataFrame:
    """``normalise_observations(out[OBS_COLUMNS])`` without stripping the dimensions and units row by
    row again: they are built canonical above (:func:`_dimension`, :func:`_dimension_codes`); the
    other columns are normalised as :func:`mmicd.model.normalise_observations` does."""
    frame = out[OBS_COLUMNS].reset_index(drop=True)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["unit_mult"] = pd.to_numeric(frame["unit_mult"], errors="coerce").fillna(0).astype("int64")
    frame["obs_status"] = frame["obs_status"].astype("string").fillna("A").replace("", "A")
    return frame


def _is_in(out: pd.DataFrame, known: dict, col: str, values) -> np.ndarray:
    """``out[col].isin(values)`` as booleans, once per distinct label when the codes are known."""
    if col not in known:
        return out[col].isin(values).to_numpy()
    index, labels = known[col]
    return rules_take(np.array([label in values for label in labels], dtype=bool), index)


def _dimension(values: pd.Series) -> pd.Series:
    """A dimension column as :func:`mmicd.model.normalise_observations` makes it: text, stripped,
    blanks (and missing cells) ``_T``."""
    return values.astype("string").fillna(codes.TOTAL).str.strip().replace("", codes.TOTAL)


def _dimension_codes(index: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a recoded dimension (``labels[index]``) made canonical through its distinct labels
    (:func:`_dimension`, once per label), numbered as the rules number a column's texts
    (:func:`mmicd.rules.base.column_codes`): the column is ``labels[codes]``, never stripped row by row."""
    if all(isinstance(x, str) and x and x == x.strip() for x in labels):
        canonical = np.asarray(labels, dtype=object)    # canonical already (the usual case): no pandas pass
    else:
        canonical = _dimension(pd.Series(labels, dtype=object)).to_numpy(dtype=object)
    return sorted_codes(index, canonical, present=True)


def _reader_numbers(ctx: validate.Context, src: pd.DataFrame, out: pd.DataFrame, values: pd.Series,
                    status: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The general reader's values: a percentage column whose every value lies between 0 and 1 read
    as fractions (x100, said in a warning; with fewer than ten values an error), estimates flagged
    by the reader (``_status``)."""
    share = (out["unit_measure"] == "PT").to_numpy()
    if share.any():
        for _cno, part in out[share].groupby(src["_cno"][share] if "_cno" in src else 0, sort=False):
            v = values.loc[part.index].dropna()
            if not (len(v) and v.between(0, 1).all() and (v > 0).any()):
                continue
            where = {"column": str(src.loc[part.index[0], "_col"]), "sheet": str(src.loc[part.index[0], "_sheet"]) or None}
            if len(v) >= 10:
                values.loc[part.index] = values.loc[part.index] * 100
                ctx.add("warning", "percent_fractions", n=len(v), **where)
            else:
                ctx.add("error", "percent_or_fraction", n=len(v), **where)
    if "_status" in src:
        flagged = src["_status"].astype("string").fillna("").replace("", pd.NA)
        status = status.fillna(flagged.where(values.notna()))
    return values, status


def _mark_projections(ctx: validate.Context, out: pd.DataFrame) -> None:
    """A file declared to hold projections: its values after next year are projections, stored
    with obs_status E (modelled), said in one note; the rules accept those years only so marked."""
    from mmicd.rules import Params

    last = Params().last_year
    year = pd.to_numeric(out["time_period"].str[:4], errors="coerce")
    later = (year > last) & out["value"].notna()
    if later.any():
        out.loc[later, "obs_status"] = "E"
        ctx.add("info", "projections", n=int(later.sum()), year=last)


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
    if "subdivision" in src:   # each person's province or district becomes their ref_area
        local_areas.place(ctx, src, country)
        present.add("ref_area")
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
            validate.check_codes(ctx, view, {col: src[col]}, [col], unknown_ok=True,
                                 known={col: sorted_codes(found, labels, present=True)})
            del src[col], view, found
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
    _design_issues(ctx, raw, out)
    view = pd.DataFrame({"_row": rows}, copy=False)
    for col in ("age", "weight"):
        got = _read_values(src, col, raw, col == "age", typed)
        values, bad = got.values, got.bad
        if col == "weight":   # an infinite weight is told by the rules (weight_finite), in their order
            values = _non_finite_kept(got, src[col])
            bad = bad & ~got.problems["not_finite"]
        number = values.to_numpy()
        number_issues.report(ctx, view, got, col, src[col], finite=col != "weight")
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
            divisor = divisor_for(raw.columns.get(col), col)
            if divisor:  # declared in synonyms.yml (DHS v005: six implied decimals)
                values = values / divisor
                ctx.add("info", "weight_divided", column=ctx.col(col),
                        divisor=format_number(divisor, ctx.lang))
            out[col] = values
        del src[col], got, values, number
        release_memory()
        if step:
            step(len(out) / len(MICRODATA_COLUMNS))
    frame = pd.DataFrame({c: out.pop(c) for c in MICRODATA_COLUMNS}, index=index, copy=False)
    return frame.reset_index(drop=True)


def _design_issues(ctx: validate.Context, raw: Raw, out: dict[str, pd.Series]) -> None:
    """Say what the survey design is: a household serial taken as the PSU (no cluster column), or no
    PSU or no strata at all (standard errors would then assume simple random sampling)."""
    psu = raw.columns.get("psu")
    has = {col: bool((out[col] != "").any()) for col in ("stratum", "psu")}
    if has["psu"] and is_fallback(psu, "psu"):
        ctx.add("info", "household_psu", column=psu)
    if not has["psu"]:
        ctx.add("warning", "no_psu_column", column=raw.columns.get("psu"))
    if not has["stratum"]:
        ctx.add("warning", "no_strata_column", column=raw.columns.get("stratum"))


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


def _non_finite_kept(got: Numbers, cells: pd.Series) -> pd.Series:
    """The values with ``inf``/``NaN`` written in a cell kept as such (the rules tell them, with what
    they knock on: a total that cannot add up), not as an empty value."""
    infinite = got.problems["not_finite"]
    if not infinite.any():
        return got.values
    return got.values.mask(infinite, pd.to_numeric(cells.where(infinite), errors="coerce"))


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
    old = store.observations(dataset_ids=[current.id], status=None, breakdown=None)[[*DIMENSIONS, "value"]]
    old = old.rename(columns={"value": "old_value"})
    joined = old.merge(new, on=DIMENSIONS, how="outer", indicator=True)
    change = np.select([joined["_merge"] == "right_only", joined["_merge"] == "left_only",
                        ~np.isclose(joined["old_value"].fillna(-1e300), joined["new_value"].fillna(-1e300))],
                       ["added", "removed", "changed"], default="")
    joined["change"] = change
    return joined[joined["change"] != ""][cols].reset_index(drop=True)


# ---- commit -----------------------------------------------------------------------------------------
def commit(prep: Preparation, store, *, actor: str, mode: Literal["replace", "add"] = "replace",
           publish: bool = False, lang: str = "en", confirm_drop: bool = False,
           progress: Callable[[float, str], None] | None = None) -> list[DatasetVersion]:
    """Store every dataset of ``prep`` in ONE transaction (or none). Refuses a preparation with errors
    and a dataset without data rows (:class:`IssuesError`).

    With ``publish=True``, a dataset that would drop more than the allowed share of the values of
    its series' published version raises :class:`mmicd.guards.DropNotConfirmed` (nothing stored)
    unless ``confirm_drop`` is true; the confirmation is then recorded in the audit trail.
    ``progress(fraction, phase)``: 0 when storing starts, 1 when the transaction is committed (it
    is one transaction, so there is nothing in between to report)."""
    errors = [i for i in prep.issues if i.level == "error"] or no_data_issues(prep.datasets, lang)
    if errors:
        raise IssuesError(errors)
    if mode not in ("replace", "add"):
        raise ValueError(f"mode must be 'replace' or 'add', not {mode!r}")
    items = stored_items(prep, store, mode)
    checks = publish_checks(store, items, [dataset_label(d) for d in prep.datasets], confirm_drop=confirm_drop) \
        if publish else None
    status = Status.PUBLISHED if publish else Status.DRAFT
    if progress:
        progress(0.0, t("ingest.progress.storing", lang))
    from mmicd.review_diff import issues_for

    versions = store.add_many(items, actor=actor, status=status, checks=checks,
                              issues=[issues_for(prep.issues, d.file, d.sheet) for d in prep.datasets])
    if progress:
        progress(1.0, t("ingest.progress.done", lang))
    return versions


def dataset_label(d: PreparedDataset) -> str:
    """How a prepared dataset is named in messages: its file, and sheet."""
    return f"{d.file} · {d.sheet}" if d.sheet else d.file


def stored_items(prep: Preparation, store, mode: str = "replace") -> list[tuple[DatasetMeta, Form, pd.DataFrame]]:
    """What :func:`commit` stores for each dataset of ``prep``: its frame, or with ``mode="add"`` the
    current published rows of its series with the new ones added (or updated)."""
    items = []
    for d in prep.datasets:
        frame = d.frame
        if mode == "add" and d.form == Form.OBSERVATIONS:
            current = _current(store, d.meta)
            if current is not None and current.form == Form.OBSERVATIONS:
                old = store.observations(dataset_ids=[current.id], status=None, breakdown=None)[OBS_COLUMNS]
                frame = pd.concat([old, frame], ignore_index=True).drop_duplicates(DIMENSIONS, keep="last")
        elif mode == "add" and d.form == Form.MICRODATA:
            current = _current(store, d.meta)
            if current is not None and current.form == Form.MICRODATA:
                frame = pd.concat([store.microdata(current.id), frame], ignore_index=True)
        items.append((d.meta, d.form, frame))
    return items


# ---- annotate ---------------------------------------------------------------------------------------
def annotate(upload: Upload, issues: list[Issue], lang: str = "en",
             progress: Callable[[float], None] | None = None) -> bytes:
    """The user's workbook with every problem cell highlighted and commented, plus a summary sheet
    (``progress`` as in :func:`prepare`: a :func:`budgeted` callback stops it)."""
    from mmicd.io.annotate import annotate_workbook

    return annotate_workbook(upload.name, upload.data, issues, lang, progress)
