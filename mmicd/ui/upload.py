"""Renderers of the upload page: templates to download, files to check, what would be stored, confirm.

Every file is read once per content and options (the :class:`Preparation` is kept in the session,
keyed by the file's SHA-256, the options and the mapping), so reruns never re-parse a workbook.
A check runs within a budget (``MMICD_CHECK_SECONDS``, ``MMICD_CHECK_MB``): past it, the work stops
on the server and the file gets one clear message. The workbook with every problem marked is built
only when asked for (a button, then the download), within the same budget.
Everything written goes through :func:`mmicd.ingest.commit`; the role is checked again here, on
the server, before anything is stored. Uploaded text (file and sheet names, cell values, headers)
is only ever shown as text: in data frames, or escaped for Markdown.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from mmicd import codes, templates, workflow
from mmicd.auth import PermissionDenied, User
from mmicd.i18n import format_number, format_percent, language_name, languages
from mmicd.issues import Issue, IssuesError, walk
from mmicd.model import MICRODATA_COLUMNS, OBS_COLUMNS
from mmicd.store import Store, TranslatedStoreError
from mmicd.ui import current_lang, tr
from mmicd.ui import guards as ui_guards
from mmicd.ui.components import plain

log = logging.getLogger("mmicd.ui")

KINDS = ("auto", "census", "stocks", "remittances", "lfs", "flows", "refugees", "labour", "border")
FILE_TYPES = ["xlsx", "xlsm", "xls", "ods", "csv", "tsv", "txt"]
PREVIEW_ROWS = 20
DIFF_ROWS = 500
STATE = "_upload"
# canonical columns offered in the mapping editor, by stored kind
KIND_COLUMNS = {
    "census": templates.COLUMNS["census"],
    "migrant_stock": templates.COLUMNS["stocks"],
    "population": templates.COLUMNS["census"],
    "remittances": templates.COLUMNS["remittances"],
    "remittance_corridors": templates.COLUMNS["remittances"],
    "lfs": list(MICRODATA_COLUMNS),
    "migration_flows": templates.COLUMNS["flows"],
    "refugees": templates.COLUMNS["refugees"],
    "labour_migration": templates.COLUMNS["labour"],
    "border_movements": templates.COLUMNS["border"],
}


def _labels(prefix: str, keys) -> dict[str, str]:
    """Translated labels computed now: a format_func must not read the session (AppTest calls it
    outside the script run)."""
    return {k: tr(f"{prefix}{k}") for k in keys}


# ---- pure helpers (tested without a browser) ---------------------------------------------------
@dataclass
class FileCheck:
    """One uploaded file and what prepare found in it, with the mapping the user chose for it."""

    name: str
    data: bytes
    sha256: str
    signature: tuple
    prep: object  # mmicd.ingest.Preparation
    mapping_yaml: str | None = None
    stopped: str | None = None   # the message when the check was stopped by its budget


def issues_frame(issues: list[Issue], lang: str) -> pd.DataFrame:
    """The issues as a table with translated headers and levels (row numbers as the sheet shows them).

    The knock-on issues an issue causes follow it, indented (``↳``), and are filtered with it (their
    ``level`` key is their cause's): they are not problems of their own."""
    rows = []
    cause = None
    for depth, i in walk(issues):
        cause = i if depth == 0 else cause
        rows.append({
            "level": cause.level,
            tr("upload.col.level"): ("↳ " if depth else "") + tr(f"upload.level.{i.level}"),
            tr("upload.col.file"): i.file or "",
            tr("upload.col.sheet"): i.sheet or "",
            tr("upload.col.row"): i.row,
            tr("upload.col.column"): i.column or "",
            tr("upload.col.value"): "" if i.value is None else str(i.value),
            tr("upload.col.message"): (f"↳ {tr('ingest.consequence')}: " if depth else "") + i.message,
        })
    frame = pd.DataFrame(rows, columns=["level", tr("upload.col.level"), tr("upload.col.file"),
                                        tr("upload.col.sheet"), tr("upload.col.row"), tr("upload.col.column"),
                                        tr("upload.col.value"), tr("upload.col.message")])
    frame[tr("upload.col.row")] = frame[tr("upload.col.row")].astype("Int64")  # numeric: sorts as numbers
    return frame


def diff_counts(diff: pd.DataFrame | None) -> dict[str, int]:
    if diff is None or diff.empty or "change" not in diff:
        return {"added": 0, "changed": 0, "removed": 0}
    counts = diff["change"].value_counts()
    return {c: int(counts.get(c, 0)) for c in ("added", "changed", "removed")}


def combine(checks: list[FileCheck]):
    """One Preparation of every file, so that confirming stores them all in one transaction."""
    from mmicd.ingest import Preparation

    return Preparation(datasets=[d for c in checks for d in c.prep.datasets],
                       issues=[i for c in checks for i in c.prep.issues])


def signature(name: str, sha: str, kind: str, country: str | None, source: str, edition: str,
              mapping_yaml: str | None, lang: str) -> tuple:
    return (name, sha, kind, country, source.strip(), edition.strip(), mapping_yaml or "", lang)


# ---- templates -------------------------------------------------------------------------------
@st.cache_data(max_entries=24, show_spinner=False)
def _template(kind: str, lang: str) -> bytes:
    return templates.build_template(kind, lang)


def templates_section() -> None:
    lang = current_lang()
    with st.expander(tr("upload.templates.title"), icon=":material/download:"):
        st.caption(tr("upload.templates.caption"))
        left, mid, right = st.columns([2, 1, 1], vertical_alignment="bottom")
        kind = left.selectbox(tr("upload.templates.kind"), options=list(templates.TEMPLATE_KINDS),
                              format_func=_labels("upload.kind.", templates.TEMPLATE_KINDS).get, key="upload_tpl_kind")
        tpl_lang = mid.selectbox(tr("upload.templates.lang"), options=list(languages()),
                                 index=list(languages()).index(lang), format_func=language_name,
                                 key="upload_tpl_lang")
        right.download_button(
            tr("upload.templates.download"), data=_template(kind, tpl_lang),
            file_name=templates.template_filename(kind, tpl_lang),
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/table_view:", key="upload_tpl_download", width="stretch",
        )
        st.caption(tr(f"upload.tpl.{kind}.purpose"))


# ---- checking files --------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    kind: str
    country: str | None
    source: str
    edition: str
    basis: str = ""


# basis of the migrant status, stored on the dataset version (DatasetMeta.basis); "" = not stated
BASES = ("", "country of birth", "citizenship")


def options_form(lang: str) -> Options:
    one, two = st.columns(2)
    kind = one.selectbox(tr("upload.kind"), options=list(KINDS), format_func=_labels("upload.kind.", KINDS).get,
                         key="upload_kind", help=tr("upload.kind_help"))
    countries = [c for c in codes.area_options(lang) if codes.is_country(c)]
    country = two.selectbox(tr("upload.country"), options=[None, *countries], key="upload_country",
                            format_func={None: tr("upload.country_auto"),
                                         **{c: codes.area_name(c, lang) for c in countries}}.get,
                            help=tr("upload.country_help"))
    three, four = st.columns(2)
    source = three.text_input(tr("upload.source"), key="upload_source", help=tr("upload.source_help"),
                              max_chars=200)
    edition = four.text_input(tr("upload.edition"), key="upload_edition", help=tr("upload.edition_help"),
                              max_chars=100)
    basis_labels = {"": tr("upload.basis.none"), "country of birth": tr("upload.basis.birth"),
                    "citizenship": tr("upload.basis.citizenship")}
    basis = st.columns(2)[0].selectbox(tr("upload.basis"), options=list(BASES), format_func=basis_labels.get,
                                       key="upload_basis", help=tr("upload.basis_help"))
    return Options(kind=kind, country=country, source=source, edition=edition, basis=basis)


def with_basis(prep, basis: str):
    """The preparation with the chosen basis of migrant status on every dataset of a kind with a
    migrant status that has none (applied after the cached check, so changing it re-reads nothing)."""
    from mmicd.ingest import with_meta

    return with_meta(prep, basis=basis)


def file_sha(f) -> str:
    """SHA-256 of an uploaded file, computed once per upload (not on every rerun)."""
    cache = st.session_state.setdefault("_upload_sha", {})
    key = (getattr(f, "file_id", None) or f.name, f.size if hasattr(f, "size") else len(f.getvalue()))
    if key not in cache:
        cache[key] = hashlib.sha256(f.getvalue()).hexdigest()
    return cache[key]


def budget() -> dict[str, float]:
    """The time and memory a check (or an annotated workbook) may take on the server."""
    from mmicd.config import get_settings

    settings = get_settings()
    return {"seconds": settings.check_seconds, "megabytes": settings.check_megabytes}


def stopped_message(stop, name: str) -> str:
    if stop.reason in ("time", "memory"):
        return tr(f"upload.stopped.{stop.reason}", file=name, limit=format_number(stop.limit, current_lang()))
    return stop.message(current_lang(), file=name)


def unique_files(files: list) -> tuple[list, list[str]]:
    """The files with the same content dropped after the first (they would be stored twice)."""
    seen: set[str] = set()
    keep, dropped = [], []
    for f in files:
        sha = file_sha(f)
        if sha in seen:
            dropped.append(f.name)
        else:
            seen.add(sha)
            keep.append(f)
    return keep, dropped


WAIT = 20.0           # seconds a page run waits for a check (its progress bar, Cancel) before polling it
POLL = 1.0            # seconds between two looks at a check still running after that
SESSION_GRACE = 10.0  # seconds a browser session may be disconnected (a reconnect) before its check stops
JOBS = "_upload_jobs"


def check_files(files: list, opts: Options, store: Store, lang: str) -> list[FileCheck] | None:
    """Prepare every uploaded file (each once per content, options and mapping), with a progress bar
    and a Cancel button; None while a check still runs (the page shows its progress, and the result
    when it has ended).

    Each file is checked by a :class:`mmicd.ingest.Check` in a thread of its own, within
    :func:`budget`; the page waits for it in its run for up to :data:`WAIT` seconds (any click,
    Cancel included, interrupts the wait: Streamlit reruns the page), then looks at it every
    :data:`POLL` seconds. The check stops on the server past its budget, when cancelled, or when the
    browser session has gone; the file then keeps one error saying so, until it or the options
    change."""
    from mmicd.ingest import Upload

    state = st.session_state.setdefault(STATE, {})
    mappings = st.session_state.setdefault("_upload_mappings", {})
    checks: list[FileCheck] = []
    todo = []
    for f in files:
        data = f.getvalue()
        sha = file_sha(f)
        mapping_yaml = mappings.get((f.name, sha))
        sig = signature(f.name, sha, opts.kind, opts.country, opts.source, opts.edition, mapping_yaml, lang)
        cached = state.get((f.name, sha))
        if cached is not None and cached.signature == sig:
            checks.append(cached)
        else:
            todo.append((f.name, data, sha, sig, mapping_yaml))
            checks.append(None)
    jobs = st.session_state.setdefault(JOBS, {})
    for sig in [k for k in jobs if k not in {t[3] for t in todo}]:   # files or options changed
        jobs.pop(sig).cancel()
    cancel = bool(todo) and st.button(tr("upload.cancel"), key="upload_cancel", icon=":material/cancel:",
                                      help=tr("upload.cancel_help"))
    for name, data, sha, sig, mapping_yaml in todo:
        if sig not in jobs:   # a file not started yet when Cancel was clicked is stopped all the same
            jobs[sig] = _start_check(Upload(name, data), opts, store, lang, mapping_yaml, cancel)
        if cancel:
            jobs[sig].cancel()
        if not _await(jobs[sig], name):
            return None
        check = _finished(jobs.pop(sig), name, data, sha, sig, mapping_yaml)
        state[(name, sha)] = check
        checks[checks.index(None)] = check
    # forget files that were removed from the uploader
    keep = {(c.name, c.sha256) for c in checks}
    for k in [k for k in state if k not in keep]:
        del state[k]
    return checks


def _start_check(upload, opts: Options, store: Store, lang: str, mapping_yaml: str | None, cancelled: bool):
    from mmicd.ingest import Check, CheckStopped, MappingProfile, prepare

    def work(progress):
        if cancelled:
            raise CheckStopped("cancelled")
        mapping = MappingProfile.from_yaml(mapping_yaml) if mapping_yaml else None
        return prepare([upload], kind=opts.kind, country=opts.country, source=opts.source.strip() or None,
                       edition=opts.edition.strip() or None, mapping=mapping, store=store, lang=lang,
                       progress=progress)

    return Check(work, **budget(), alive=session_alive())


def session_alive():
    """Whether this browser session is still connected (or was, less than :data:`SESSION_GRACE`
    seconds ago), asked of Streamlit's runtime from any thread; None outside a Streamlit server."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return None
    runtime, session = Runtime.instance(), ctx.session_id
    gone: list[float] = []

    def alive() -> bool:
        if runtime.is_active_session(session):
            gone.clear()
            return True
        gone[:] = gone or [time.monotonic()]
        return time.monotonic() - gone[0] < SESSION_GRACE

    return alive


def _progress_text(check, name: str) -> str:
    return tr("upload.progress.file", file=plain(name), step=plain(check.message)) if check.message else \
        tr("upload.progress.start")


def _await(check, name: str) -> bool:
    """Wait for ``check`` in this run for up to :data:`WAIT` seconds, its progress shown: True when it
    has ended; else a fragment looks at it every :data:`POLL` seconds and reruns the page when it has."""
    bar = st.progress(min(check.fraction, 1.0), text=_progress_text(check, name))
    end = time.monotonic() + WAIT
    while not check.wait(0.25):
        if time.monotonic() >= end:
            bar.empty()
            _poll(check, name)
            return False
        bar.progress(min(check.fraction, 1.0), text=_progress_text(check, name))
    bar.empty()
    return True


@st.fragment(run_every=POLL)
def _poll(check, name: str) -> None:
    if check.done:
        st.rerun()
    st.progress(min(check.fraction, 1.0), text=_progress_text(check, name))


def _finished(check, name: str, data: bytes, sha: str, sig: tuple, mapping_yaml: str | None) -> FileCheck:
    """The file's check once ended: its preparation, or one error saying why it was stopped."""
    from mmicd.ingest import CheckStopped, Preparation
    from mmicd.io.xlsx_chunks import release_memory

    stopped = None
    if isinstance(check.error, CheckStopped):   # (logged by the check)
        stopped = stopped_message(check.error, name)
        prep = Preparation([], [Issue("error", stopped, file=name)])
        release_memory()
    elif check.error is not None:
        raise check.error
    else:
        prep = check.result
    return FileCheck(name=name, data=data, sha256=sha, signature=sig, prep=prep, mapping_yaml=mapping_yaml,
                     stopped=stopped)


# ---- showing what was found ----------------------------------------------------------------------
def summary_table(checks: list[FileCheck], lang: str) -> pd.DataFrame:
    rows = []
    for c in checks:
        errors = sum(1 for i in c.prep.issues if i.level == "error")
        warnings = sum(1 for i in c.prep.issues if i.level == "warning")
        if not c.prep.datasets:
            rows.append({tr("upload.col.file"): c.name, tr("upload.col.sheet"): "", tr("upload.col.layout"): "",
                         tr("upload.col.kind"): "", tr("upload.col.rows"): "", tr("upload.col.countries"): "",
                         tr("upload.col.years"): "", tr("upload.col.errors"): format_number(errors, lang),
                         tr("upload.col.warnings"): format_number(warnings, lang)})
        for d in c.prep.datasets:
            countries = d.countries
            years = d.years
            rows.append({
                tr("upload.col.file"): c.name,
                tr("upload.col.sheet"): d.sheet or "",
                tr("upload.col.layout"): d.layout,
                tr("upload.col.kind"): tr(f"kind.{d.meta.kind.value}"),
                tr("upload.col.rows"): format_number(d.rows, lang),
                tr("upload.col.countries"): _short_list([codes.area_name(a, lang) for a in countries]),
                tr("upload.col.years"): _span(years),
                tr("upload.col.errors"): format_number(errors, lang),
                tr("upload.col.warnings"): format_number(warnings, lang),
            })
    return pd.DataFrame(rows)


def _short_list(items: list[str], n: int = 4) -> str:
    return ", ".join(items) if len(items) <= n else ", ".join(items[:n]) + f" … (+{len(items) - n})"


def _span(years: list[str]) -> str:
    if not years:
        return ""
    ordered = sorted(years)
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]}–{ordered[-1]} ({len(ordered)})"


def status_banner(checks: list[FileCheck], lang: str) -> None:
    errors = sum(1 for c in checks for i in c.prep.issues if i.level == "error")
    warnings = sum(1 for c in checks for i in c.prep.issues if i.level == "warning")
    if errors:
        st.error(tr("upload.status.errors", errors=format_number(errors, lang), warnings=format_number(warnings, lang)),
                 icon=":material/error:")
    elif warnings:
        st.warning(tr("upload.status.warnings", warnings=format_number(warnings, lang)), icon=":material/warning:")
    else:
        st.success(tr("upload.status.clean"), icon=":material/check_circle:")


def previews(checks: list[FileCheck], lang: str) -> None:
    datasets = [(c, d) for c in checks for d in c.prep.datasets]
    if not datasets:
        return
    st.subheader(tr("upload.preview.title"))
    labels = [f"{c.name} · {d.sheet}" if d.sheet else c.name for c, d in datasets]
    for tab, (_c, d) in zip(st.tabs([plain(x) for x in labels]), datasets, strict=True):
        with tab:
            a, b, cc = st.columns(3)
            a.metric(tr("upload.col.rows"), format_number(d.rows, lang), border=True)
            b.metric(tr("upload.col.countries"), format_number(len(d.countries), lang), border=True)
            cc.metric(tr("upload.col.years"), _span(d.years) or "–", border=True)
            st.caption(tr("upload.preview.caption", n=PREVIEW_ROWS, kind=tr(f"kind.{d.meta.kind.value}"),
                          layout=plain(d.layout), source=plain(d.meta.source),
                          edition=plain(d.meta.edition or "–")))
            st.dataframe(d.frame.head(PREVIEW_ROWS), hide_index=True, width="stretch")


def issues_section(checks: list[FileCheck], lang: str) -> None:
    issues = [i for c in checks for i in c.prep.issues]
    st.subheader(tr("upload.issues.title"))
    if not issues:
        st.caption(tr("upload.issues.none"))
        return
    table = issues_frame(issues, lang)
    one, two, three = st.columns(3)
    levels = [lv for lv in ("error", "warning", "info") if (table["level"] == lv).any()]
    chosen_levels = one.multiselect(tr("upload.issues.filter_level"), options=levels, default=levels,
                                    format_func=_labels("upload.level.", levels).get, key="upload_f_level")
    file_col, sheet_col = tr("upload.col.file"), tr("upload.col.sheet")
    files = sorted(table[file_col].unique())
    chosen_files = two.multiselect(tr("upload.issues.filter_file"), options=files, default=files,
                                   key="upload_f_file")
    sheets = sorted(table[sheet_col].unique())
    chosen_sheets = three.multiselect(tr("upload.issues.filter_sheet"), options=sheets, default=sheets,
                                      format_func={s: s or "–" for s in sheets}.get, key="upload_f_sheet")
    shown = table[table["level"].isin(chosen_levels) & table[file_col].isin(chosen_files)
                  & table[sheet_col].isin(chosen_sheets)].drop(columns="level")
    st.caption(tr("upload.issues.count", shown=format_number(len(shown), lang), total=format_number(len(table), lang)))
    st.dataframe(shown, hide_index=True, width="stretch")
    _annotated_downloads(checks, lang)


def _annotated_downloads(checks: list[FileCheck], lang: str) -> None:
    """Per file with problems: a button that builds the workbook with every problem marked (within
    the check's budget), then its download. Only the current files' workbooks are kept."""
    from mmicd.ingest import CheckStopped, Upload, annotate, run_check

    store = st.session_state.setdefault("_upload_annotated", {})
    current = {("annotated", c.signature) for c in checks}
    for key in [k for k in store if k not in current]:
        del store[key]
    for n, c in enumerate(c for c in checks if c.prep.issues and not c.stopped):
        key = ("annotated", c.signature)
        if key not in store:
            if not st.button(tr("upload.annotated.make", file=plain(c.name)), key=f"upload_annot_make_{n}",
                             icon=":material/rule:", help=tr("upload.annotated.make_help")):
                continue
            try:
                with st.spinner(tr("upload.annotated.making", file=plain(c.name))):
                    store[key] = run_check(lambda progress, c=c: annotate(
                        Upload(c.name, c.data), c.prep.issues, lang, progress=progress), **budget())
            except CheckStopped as stop:
                store[key] = stop
            except Exception:  # an unreadable file cannot be annotated; the issue list says why
                log.exception("annotate failed for %s", c.name)
                store[key] = None
        data = store[key]
        if data is None:
            st.caption(tr("upload.annotated.unavailable", file=plain(c.name)))
            continue
        if not isinstance(data, bytes):
            st.warning(tr(f"upload.annotated.stopped_{data.reason}", file=plain(c.name), limit=format_number(data.limit, lang)),
                       icon=":material/timer_off:")
            continue
        stem = re.sub(r"\.[^.]*$", "", c.name) or "upload"
        st.download_button(tr("upload.annotated.download", file=plain(c.name)), data=data,
                           file_name=f"{stem}-{tr('upload.annotated.suffix')}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           icon=":material/download:", key=f"upload_annot_{n}")


@dataclass
class MappingTarget:
    """What the mapping editor edits for one file: the headers as read and the current choice."""

    check: FileCheck
    sheet: str | None
    layout: str
    kind: str
    source_columns: list[str]
    columns: dict[str, str]
    values: dict[str, dict[str, str]]
    header_row: int | None
    measure: str | None = None       # the mapping's constant measure and multiplier (None: as read)
    unit_mult: int | None = None

    @property
    def canonical(self) -> list[str]:
        base = KIND_COLUMNS.get(self.kind) or OBS_COLUMNS
        return list(dict.fromkeys([*base, *self.columns]))


@dataclass
class _Detected:
    """What the mapping editor needs of a table the ingestion detected (not its cells)."""

    sheet: str | None
    layout: str
    kind: str | None
    form: str
    source_columns: list
    columns: dict
    header_row: int | None


def mapping_targets(checks: list[FileCheck], kind: str) -> list[MappingTarget]:
    """Files whose columns can be mapped: every prepared table with headers, and files that gave no
    table because required columns were not recognised (their headers are read again, from the
    ingestion's own detection, so that the user can say which column is which)."""
    from mmicd.ingest import KIND_ALIASES, MappingProfile, detect, mapping_start
    from mmicd.io import open_book

    targets = []
    cache = st.session_state.setdefault("_upload_detected", {})
    current = {c.signature for c in checks}
    for key in [k for k in cache if k[0] not in current]:
        del cache[key]
    for c in checks:
        for d in c.prep.datasets:
            if d.source_columns:
                m = d.mapping
                targets.append(MappingTarget(c, d.sheet, d.layout, d.meta.kind.value, list(d.source_columns),
                                             dict(m.columns) if m else {}, dict(m.values) if m else {},
                                             m.header_row if m else None, m.measure if m else None,
                                             m.unit_mult if m else None))
        if c.prep.datasets or c.stopped:   # a stopped check is not read again on every rerun
            continue
        mapping = MappingProfile.from_yaml(c.mapping_yaml) if c.mapping_yaml else None
        if (c.signature, kind) not in cache:   # read once per file and options, not on every rerun
            try:
                book = open_book(c.name, c.data, c.sha256)
                found = detect(book, KIND_ALIASES.get(kind), mapping)
                if not found:   # nothing could be read: start the editor from the most header-like row
                    found = mapping_start(book, KIND_ALIASES.get(kind))
                cache[(c.signature, kind)] = [(r.sheet, r.layout, r.kind, r.form, list(r.source_columns),
                                               dict(r.columns), r.header_row) for r in found[:1]]
            except Exception:  # unreadable: the issue list already says why
                cache[(c.signature, kind)] = []
        raws = [_Detected(*x) for x in cache[(c.signature, kind)]]
        for raw in raws[:1]:
            if not raw.source_columns:
                continue
            chosen = KIND_ALIASES.get(kind)
            stored_kind = chosen.value if chosen else (raw.kind or ("lfs" if raw.form == "microdata" else "census"))
            targets.append(MappingTarget(c, raw.sheet, raw.layout, stored_kind, [str(h) for h in raw.source_columns],
                                         dict(mapping.columns) if mapping else dict(raw.columns),
                                         dict(mapping.values) if mapping else {}, raw.header_row,
                                         mapping.measure if mapping else None, mapping.unit_mult if mapping else None))
    return targets


def mapping_section(checks: list[FileCheck], lang: str, kind: str = "auto") -> None:
    """Per file: a selectbox of source columns for each canonical column, re-check, save/load YAML."""
    from mmicd.ingest import MappingProfile

    targets = mapping_targets(checks, kind)
    if not targets:
        return
    targets.sort(key=lambda t: bool(t.check.prep.datasets))  # files that gave no table first
    unmapped = any(not t.check.prep.datasets or unknown_values(t.check.prep.issues, t.columns, lang)
                   for t in targets)  # open when a file needs a column or a value recoded
    with st.expander(tr("upload.mapping.title"), icon=":material/swap_horiz:", expanded=unmapped):
        st.caption(tr("upload.mapping.caption"))
        chosen = st.selectbox(tr("upload.mapping.file"), options=range(len(targets)), key="upload_map_file",
                              format_func={n: f"{t.check.name} · {t.sheet}" if t.sheet else t.check.name
                                           for n, t in enumerate(targets)}.get)
        target = targets[chosen]
        c = target.check
        sources = list(dict.fromkeys(target.source_columns))
        if target.layout == "template":
            st.caption(tr("upload.mapping.template"))
        edited: dict[str, str] = {}
        none_label = tr("upload.mapping.none")
        labels = {None: none_label, **{h: str(h) for h in sources}}
        cols = st.columns(3)
        for j, canonical in enumerate(target.canonical):
            pre = target.columns.get(canonical)
            opts = [None, *sources]
            picked = cols[j % 3].selectbox(
                tr(f"upload.mapping.canon.{canonical}"), options=opts, index=opts.index(pre) if pre in opts else 0, format_func=labels.get,
                key=f"upload_map_{c.sha256[:12]}_{target.sheet}_{canonical}",
            )
            if picked is not None:
                edited[canonical] = picked
        header_row, measure, unit_mult = table_options(target, "measure" in edited, lang)
        values = value_editor(target, edited, lang)
        # a table the general reader read, with its columns and options left as read: only the
        # recodings are saved, so that checking again reads the file the same way (not as one
        # mapped table)
        as_read = edited == target.columns and (header_row, measure, unit_mult) == \
            (target.header_row, target.measure, target.unit_mult)
        columns = {} if target.layout == "table" and as_read else edited
        # a measure chosen for every value says the kind of data when the page leaves it to the file
        measure_kind = codes.codelist("measure")["kind"].get(measure) if measure else None
        measure_kind = measure_kind if isinstance(measure_kind, str) and measure_kind else None
        profile = MappingProfile(kind=(measure_kind or target.kind) if kind == "auto" else target.kind,
                                 columns=columns, values=values, sheet=target.sheet,
                                 header_row=header_row if columns else None, measure=measure if columns else None,
                                 unit_mult=unit_mult if columns else None)
        left, mid, right = st.columns(3, vertical_alignment="bottom")
        if left.button(tr("upload.mapping.apply"), key="upload_map_apply", icon=":material/refresh:"):
            st.session_state.setdefault("_upload_mappings", {})[(c.name, c.sha256)] = profile.to_yaml()
            st.rerun()
        mid.download_button(tr("upload.mapping.save"), data=profile.to_yaml().encode("utf-8"),
                            file_name=f"{re.sub(r'[.][^.]*$', '', c.name) or 'mapping'}-mapping.yml",
                            mime="application/x-yaml", icon=":material/save:", key="upload_map_save")
        loaded = right.file_uploader(tr("upload.mapping.load"), type=["yml", "yaml"], key="upload_map_load",
                                     help=tr("upload.mapping.load_help"))
        if loaded is not None:
            _load_mapping(loaded, c)


UNIT_MULTS = (None, 0, 3, 6, 9)


def table_options(target: MappingTarget, measure_column: bool, lang: str) -> tuple[int | None, str | None, int | None]:
    """The row holding the column headers, what every value measures (when no column says it) and
    the values' multiplier (when no column or title says it): the choices a table's own words may
    leave open, each saved with the mapping."""
    c = target.check
    key = f"upload_map_{c.sha256[:12]}_{target.sheet}"
    left, mid, right = st.columns(3)
    header_row = left.number_input(tr("upload.mapping.header_row"), min_value=1, max_value=10_000, step=1,
                                   value=int(target.header_row or 1), key=f"{key}__header_row",
                                   help=tr("upload.mapping.header_row_help"))
    measures = [None, *sorted(codes.codes("measure"))]
    none = tr("upload.mapping.as_read")
    measure = mid.selectbox(tr("upload.mapping.measure"), options=measures,
                            index=measures.index(target.measure) if target.measure in measures else 0,
                            format_func=lambda m: none if m is None else f"{m} · {codes.label('measure', m, lang)}",
                            key=f"{key}__measure", disabled=measure_column,
                            help=tr("upload.mapping.measure_help"))
    unit_mult = right.selectbox(tr("upload.mapping.unit_mult"), options=UNIT_MULTS,
                                index=UNIT_MULTS.index(target.unit_mult) if target.unit_mult in UNIT_MULTS else 0,
                                format_func=lambda u: none if u is None else tr(f"upload.mapping.unit_mult_{u}"),
                                key=f"{key}__unit_mult", help=tr("upload.mapping.unit_mult_help"))
    return int(header_row), (None if measure_column else measure), unit_mult


RECODED = ("sex", "age", "migrant_status", "labour_status", "obs_status", "ref_area", "counterpart_area")


def unknown_values(issues: list[Issue], columns: dict[str, str], lang: str) -> dict[str, list[str]]:
    """Source values reported as unknown codes, by canonical column (from the issues of the check)."""
    out: dict[str, list[str]] = {}
    for canonical, header in columns.items():
        if canonical not in RECODED:
            continue
        keys = ("unknown_area", "unknown_area_hint") if canonical in ("ref_area", "counterpart_area") else \
            ("unknown_code",)
        found = [i.value for i in issues if i.column == header and i.value and i.check in keys]
        if found:
            out[canonical] = list(dict.fromkeys(found))
    return out


def value_editor(target: MappingTarget, columns: dict[str, str], lang: str) -> dict[str, dict[str, str]]:
    """Recodings (source value -> code) of the code columns: the saved ones and every value the check
    reported as unknown, editable in a table; they go into the mapping profile."""
    values = {k: dict(v) for k, v in target.values.items()}
    unknown = unknown_values(target.check.prep.issues, columns, lang)
    rows = [{"column": col, "value": v, "code": values.get(col, {}).get(v)}
            for col in RECODED if col in columns
            for v in dict.fromkeys([*values.get(col, {}), *unknown.get(col, [])])]
    if not rows:
        return values
    st.markdown(f"**{tr('upload.mapping.values')}**")
    st.caption(tr("upload.mapping.values_caption"))
    options = sorted({c for col in RECODED if col not in ("ref_area", "counterpart_area") for c in codes.codes(col)}
                     | set(codes.country_codes()))
    edited = st.data_editor(
        pd.DataFrame(rows), hide_index=True, width="stretch", num_rows="fixed",
        key=f"upload_map_values_{target.check.sha256[:12]}_{target.sheet}", disabled=["column", "value"],
        column_config={"column": st.column_config.TextColumn(tr("upload.mapping.col_column")),
                       "value": st.column_config.TextColumn(tr("upload.mapping.col_value")),
                       "code": st.column_config.SelectboxColumn(tr("upload.mapping.col_code"), options=options)})
    out: dict[str, dict[str, str]] = {}
    for row in edited.itertuples(index=False):
        if row.code:
            out.setdefault(row.column, {})[str(row.value)] = str(row.code)
    return out


def _load_mapping(loaded, check: FileCheck) -> None:
    from mmicd.ingest import MappingProfile

    text = loaded.getvalue()
    marker = ("loaded", hashlib.sha256(text).hexdigest(), check.sha256)
    if st.session_state.get("_upload_map_loaded") == marker:
        return
    try:
        profile = MappingProfile.from_yaml(text.decode("utf-8-sig"))
    except Exception:  # YAML syntax, unknown keys, wrong types: one clear message
        st.error(tr("upload.mapping.load_error", file=plain(loaded.name)))
        return
    st.session_state["_upload_map_loaded"] = marker
    st.session_state.setdefault("_upload_mappings", {})[(check.name, check.sha256)] = profile.to_yaml()
    st.rerun()


def diff_section(checks: list[FileCheck], lang: str) -> None:
    datasets = [(c, d) for c in checks for d in c.prep.datasets]
    if not datasets:
        return
    st.subheader(tr("upload.diff.title"))
    st.caption(tr("upload.diff.caption"))
    for n, (c, d) in enumerate(datasets):
        counts = diff_counts(d.diff)
        label = f"{c.name} · {d.sheet}" if d.sheet else c.name
        if d.diff is None:
            st.markdown(f"**{plain(label)}** — {tr('upload.diff.first')}")
            continue
        st.markdown(f"**{plain(label)}** — " + tr("upload.diff.counts", added=format_number(counts["added"], lang),
                                                  changed=format_number(counts["changed"], lang),
                                                  removed=format_number(counts["removed"], lang)))
        if len(d.diff):
            with st.expander(tr("upload.diff.show", n=format_number(min(len(d.diff), DIFF_ROWS), lang))):
                table = d.diff.head(DIFF_ROWS).copy()
                table["change"] = table["change"].map(lambda v: tr(f"upload.diff.{v}"))
                st.dataframe(table, hide_index=True, width="stretch", key=f"upload_diff_{n}")


def confirm_section(checks: list[FileCheck], store: Store, user: User, lang: str, basis: str = "") -> None:
    prep = with_basis(combine(checks), basis)
    st.subheader(tr("upload.confirm.title"))
    if not prep.datasets:
        st.info(tr("upload.confirm.nothing"))
        return
    mode = st.radio(tr("upload.confirm.mode"), options=["replace", "add"], key="upload_mode",
                    format_func=_labels("upload.confirm.mode_", ("replace", "add")).get,
                    help=tr("upload.confirm.mode_help"))
    removed = sum(diff_counts(d.diff)["removed"] for d in prep.datasets)
    if mode == "replace" and removed:
        st.warning(tr("upload.confirm.replace_removes", n=format_number(removed, lang)), icon=":material/warning:")
    if mode == "replace" and prep.ok:  # most of a published series would go: say what, and what publishing needs
        for n, report in enumerate(r for r in ui_guards.upload_reports(store, prep) if r.needs_confirmation):
            ui_guards.drop_panel(report, key=f"upload_drops_{n}")
            st.info(tr("guards.drop.upload_note", threshold=format_percent(100 * report.threshold, lang, 0)),
                    icon=":material/fact_check:")
    if not prep.ok:
        st.button(tr("upload.confirm.button"), disabled=True, key="upload_confirm_off", type="primary")
        st.caption(tr("upload.confirm.blocked"))
        return
    if st.button(tr("upload.confirm.button"), key="upload_confirm", type="primary", icon=":material/check:"):
        try:
            versions = workflow.commit_upload(store, user, prep, mode=mode)  # role and countries checked there
        except PermissionDenied:
            st.error(tr("upload.confirm.forbidden"))
            return
        except IssuesError as err:
            st.error(tr("upload.confirm.refused", n=format_number(len(err.issues), lang)))
            st.dataframe(issues_frame(err.issues, lang).drop(columns="level"), hide_index=True, width="stretch")
            return
        except TranslatedStoreError as err:  # e.g. the series kept busy by concurrent loads: nothing stored
            st.error(err.message(lang))
            return
        except Exception:
            log.exception("commit failed")
            st.error(tr("upload.confirm.failed"))
            return
        ids = ", ".join(f"#{v.id}" for v in versions)
        st.session_state["_upload_done"] = tr("upload.confirm.done", ids=ids, n=format_number(len(versions), lang))
        st.session_state.pop(STATE, None)
        st.session_state.pop("_upload_mappings", None)
        st.session_state.pop("_upload_annotated", None)
        st.session_state.pop("_upload_sha", None)
        st.session_state.pop("_upload_detected", None)
        st.session_state["_upload_round"] = st.session_state.get("_upload_round", 0) + 1
        st.rerun()


def done_message() -> None:
    message = st.session_state.pop("_upload_done", None)
    if message:
        st.success(message, icon=":material/task_alt:")


def uploader():
    """The file uploader; a new one (empty) after each confirmed load."""
    round_ = st.session_state.get("_upload_round", 0)
    return st.file_uploader(tr("upload.files"), type=FILE_TYPES, accept_multiple_files=True,
                            key=f"upload_files_{round_}", help=tr("upload.files_help"))


def page(store: Store, user: User) -> None:
    """The whole page (called by pages/upload.py)."""
    lang = current_lang()
    st.title(tr("upload.title"))
    st.caption(tr("upload.caption"))
    done_message()
    templates_section()
    files = uploader()
    opts = options_form(lang)
    if not files:
        st.info(tr("upload.empty"))
        return
    files, duplicates = unique_files(files)
    if duplicates:
        st.info(tr("upload.duplicates", files=plain(", ".join(duplicates))))
    try:
        checks = check_files(files, opts, store, lang)
    except Exception:  # prepare returns problems as issues; anything else is a bug, never a traceback
        log.exception("prepare failed")
        st.error(tr("upload.failed"))
        return
    if checks is None:   # still checking: its progress and Cancel are shown
        return
    for c in checks:   # a check stopped by its budget: said first, in words
        if c.stopped:
            st.error(plain(c.stopped), icon=":material/timer_off:")
    status_banner(checks, lang)
    st.dataframe(summary_table(checks, lang), hide_index=True, width="stretch")
    issues_section(checks, lang)
    previews(checks, lang)
    mapping_section(checks, lang, opts.kind)
    diff_section(checks, lang)
    confirm_section(checks, store, user, lang, opts.basis)
