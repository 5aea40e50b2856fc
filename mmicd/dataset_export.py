"""Raw-data export of one dataset version: its stored rows, as CSV (safe to open in Excel) or JSON.

Observations are written with every column of the canonical shape (:data:`mmicd.model.OBS_COLUMNS`:
the dimensions, value, unit_measure, unit_mult, obs_status), then the version's provenance
(source, edition, dataset_id, dataset_version, status). The metadata go with the rows: the JSON's
``dataset`` object (with the columns' types and titles and the time of writing), and for the CSV a
Frictionless ``datapackage.json`` (:func:`datapackage`). Survey microdata versions give their person
records (:data:`mmicd.model.MICRODATA_COLUMNS`) with the same provenance columns.

Rows are read from the store in pieces (``chunk_rows``) and written as they come, so exporting a
version never holds it whole as a frame: the command line streams to its file, the page builds
the file's bytes once (see :mod:`mmicd.ui.sources`).

CSV: UTF-8 with a byte-order mark (Excel then reads accents right), comma-separated, CRLF line
ends; a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab, CR or LF (or their full-width
forms) is prefixed with ``'`` (:mod:`mmicd.safe_export`) so that a spreadsheet shows it as text and
never runs it as a formula; numbers stay numbers (integral values without ``.0``, others in their shortest exact form);
a missing value is an empty cell (its ``obs_status`` says why). JSON: one object,
``{"dataset": {...metadata...}, "records": [{column: value}, ...]}``, missing values ``null``.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

import numpy as np
import pandas as pd
from sqlalchemy import select

from mmicd.model import DIMENSIONS, MICRODATA_COLUMNS, OBS_COLUMNS, DatasetVersion, Form, Status
from mmicd.safe_export import csv_cell, csv_column
from mmicd.store import Store

FORMATS = ("csv", "json")
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json"}
PROVENANCE_COLUMNS = ["source", "edition", "dataset_id", "dataset_version", "status"]
NUMERIC_COLUMNS = {Form.OBSERVATIONS: {"value", "unit_mult"}, Form.MICRODATA: {"age", "weight"}}
INTEGER_COLUMNS = {"dataset_id", "dataset_version"}
CHUNK_ROWS = 10_000
BOM = "\ufeff".encode()

Progress = Callable[[int, int], None]  # (rows written, rows in all)


def may_export(user, version: DatasetVersion) -> bool:
    """Whether a signed-in user (or the anonymous viewer) may download a version's rows on the page:
    a version the user may see (published ones: everybody; others: within the user's scope), and
    survey person records only for those who may see drafts of its country (analysts of the
    country, reviewers, admins) — person records are confidential microdata; viewers get the
    estimates computed from them (Indicators page), never the records."""
    from mmicd.auth import Action, can

    staff = can(user, Action.VIEW_DRAFTS, version.scope)
    if version.form == Form.MICRODATA:
        return staff
    return staff or (version.status == Status.PUBLISHED and can(user, Action.VIEW_PUBLISHED, version.scope))


def record_columns(version: DatasetVersion) -> list[str]:
    """The columns of a version's rows: the canonical ones of its form (read from the model, so a
    new dimension is exported without a change here)."""
    return list(MICRODATA_COLUMNS if version.form == Form.MICRODATA else OBS_COLUMNS)


def export_columns(version: DatasetVersion) -> list[str]:
    """The columns of the CSV: the rows' own, then the provenance of the version."""
    return [*record_columns(version), *PROVENANCE_COLUMNS]


def file_name(version: DatasetVersion, fmt: str) -> str:
    return f"mmicd-dataset-{version.id}-v{version.version}-{version.status.value}.{fmt}"


def metadata(version: DatasetVersion, generated: datetime | None = None) -> dict:
    """The ``dataset`` object of the JSON export: everything the store knows of the version, its
    columns with their types and titles (``schema``, as in the data package) and when it was written."""
    meta = version.model_dump(mode="json", exclude={"storage"})
    meta["dataset_id"] = meta.pop("id")
    meta["dataset_version"] = meta.pop("version")
    meta["columns"] = record_columns(version)
    meta["schema"] = {"fields": fields(version, record_columns(version))}
    meta["generated_at"] = _stamp(generated)
    return meta


def _stamp(when: datetime | None) -> str:
    return (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def field_type(version: DatasetVersion, column: str) -> str:
    if column in INTEGER_COLUMNS or (column == "unit_mult" and version.form == Form.OBSERVATIONS):
        return "integer"
    return "number" if column in NUMERIC_COLUMNS[version.form] else "string"


def fields(version: DatasetVersion, columns: list[str]) -> list[dict]:
    """Frictionless field descriptors: name, type, title and description in English, French and Spanish."""
    from mmicd.i18n import t

    own = {"unit_measure": "unit_stored", "value": "value_stored",
           **({"age": "age_years"} if version.form == Form.MICRODATA else {})}
    keys = {c: f"sdmx.field.{own.get(c, c)}" for c in columns}
    return [{"name": c, "type": field_type(version, c), "title": t(keys[c], "en"), "description": t(f"{keys[c]}.about", "en"),
             "mmicd:titles": {g: t(keys[c], g) for g in ("en", "fr", "es")},
             "mmicd:descriptions": {g: t(f"{keys[c]}.about", g) for g in ("en", "fr", "es")}} for c in columns]


def datapackage(version: DatasetVersion, generated: datetime | None = None) -> dict:
    """The Frictionless data package (``datapackage.json``) of the version's CSV export: its columns
    typed and described in three languages, the source and edition, the licence, the version's
    metadata and when it was written."""
    return {
        "profile": "tabular-data-package", "name": f"mmicd-dataset-{version.id}-v{version.version}",
        "title": version.title or version.source, "created": _stamp(generated),
        "licenses": [{"title": version.licence}] if version.licence else [],
        "sources": [{"title": version.source, "version": version.edition, **({"path": version.url} if version.url
                                                                               else {})}],
        "mmicd:dataset": {k: v for k, v in metadata(version, generated).items() if k != "schema"},
        "resources": [{"name": "rows", "profile": "tabular-data-resource", "path": file_name(version, "csv"),
                       "format": "csv", "mediatype": "text/csv", "encoding": "utf-8-sig",
                       "schema": {"fields": fields(version, export_columns(version)), "missingValues": [""]}}],
    }


# ---- reading in pieces -------------------------------------------------------------------------
def chunks(store: Store, version: DatasetVersion, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The rows of a version as frames of at most ``chunk_rows`` rows, in key order (observations
    sorted by their dimensions; person records in file order)."""
    columns = record_columns(version)
    for part in _pieces(store, version, chunk_rows):
        if isinstance(part, list):
            frame = pd.DataFrame(dict(zip(columns, zip(*part, strict=True), strict=True)), columns=columns)
            frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
            frame["unit_mult"] = frame["unit_mult"].astype("int64")
            yield frame
        else:  # person records: their text columns are dictionary columns (categoricals): as plain text
            frame = part.to_pandas()
            yield frame.astype({c: "str" for c, t in frame.dtypes.items() if isinstance(t, pd.CategoricalDtype)})


def _pieces(store: Store, version: DatasetVersion, chunk_rows: int) -> Iterator:
    """Pieces of a version's rows as they come from storage: lists of row tuples (observations, from
    the database, streamed) or Arrow record batches (microdata, decoded batch by batch from the
    version's Parquet bytes, which are held compressed)."""
    if version.form == Form.MICRODATA:
        import pyarrow.parquet as pq

        with store.microdata_file(version) as file, pq.ParquetFile(file) as parquet:
            yield from parquet.iter_batches(batch_size=chunk_rows, columns=MICRODATA_COLUMNS)
        return
    from mmicd.store.schema import observations

    with store.engine.connect() as conn:
        # byte order of the codes on every backend (PostgreSQL's default collation would ignore "_")
        binary = conn.dialect.name == "postgresql"
        order = [observations.c[d].collate("C") if binary else observations.c[d] for d in DIMENSIONS]
        query = (select(*(observations.c[c] for c in OBS_COLUMNS)).where(observations.c.dataset_id == version.id)
                 .order_by(*order))
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(query)
        for part in result.partitions(chunk_rows):
            yield [tuple(row) for row in part]


# ---- writing -----------------------------------------------------------------------------------
def number_text(values: pd.Series) -> pd.Series:
    """Numbers as CSV text: integral values without a decimal point, others in their shortest exact
    form (``repr``), missing values as empty cells."""
    array = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    out = np.full(len(array), "", dtype=object)
    present = ~np.isnan(array)
    integral = present & (np.abs(array) < 2**53) & (np.floor(np.nan_to_num(array)) == array)
    out[integral] = array[integral].astype(np.int64).astype(str)
    rest = np.flatnonzero(present & ~integral)
    out[rest] = [repr(float(x)) for x in array[rest]]
    return pd.Series(out, index=values.index)


def _provenance(version: DatasetVersion) -> dict[str, object]:
    return {"source": version.source, "edition": version.edition, "dataset_id": version.id,
            "dataset_version": version.version, "status": version.status.value}


def _csv_piece(frame: pd.DataFrame, version: DatasetVersion, provenance: dict[str, str], header: bool) -> bytes:
    out = pd.DataFrame(index=frame.index)
    numeric = NUMERIC_COLUMNS[version.form]
    for col in record_columns(version):
        out[col] = number_text(frame[col]) if col in numeric else csv_column(frame[col].fillna(""))
    for col, value in provenance.items():
        out[col] = value
    return out.to_csv(index=False, header=header, lineterminator="\r\n").encode("utf-8")


def _json_piece(part, columns: list[str], first: bool) -> bytes:
    """Records of one piece, one JSON object a line (a missing value or NaN is ``null``)."""
    if isinstance(part, list):
        records = [dict(zip(columns, row, strict=True)) for row in part]
    else:
        records = part.to_pylist()
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    for n, line in enumerate(lines):  # NaN/inf are no JSON (the store keeps missing values as NULL anyway)
        if "NaN" in line or "Infinity" in line:
            lines[n] = json.dumps({k: None if isinstance(v, float) and not math.isfinite(v) else v
                                   for k, v in records[n].items()}, ensure_ascii=False)
    if not lines:
        return b""
    return (("\n" if first else ",\n") + ",\n".join(lines)).encode("utf-8")


def write_export(store: Store, version: DatasetVersion, out: BinaryIO, fmt: str = "csv", *,
                 progress: Progress | None = None, chunk_rows: int = CHUNK_ROWS, generated: datetime | None = None) -> int:
    """Write a version's rows to the binary stream ``out`` as ``fmt`` (``csv`` or ``json``), piece
    by piece; return the number of rows written. ``progress(written, total)`` after each piece."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    total = version.rows
    written = 0
    if progress:
        progress(0, total)
    if fmt == "csv":
        provenance = {c: _provenance_text(v) for c, v in _provenance(version).items()}
        out.write(BOM)
        header = True
        for frame in chunks(store, version, chunk_rows):
            out.write(_csv_piece(frame, version, provenance, header))
            header = False
            written += len(frame)
            if progress:
                progress(written, total)
        if header:  # no row at all: the header alone
            out.write(_csv_piece(pd.DataFrame(columns=record_columns(version)), version, provenance, True))
    else:
        head = json.dumps({"dataset": metadata(version, generated)}, ensure_ascii=False, indent=1)
        out.write((head[:-2] + ',\n "records": [').encode("utf-8"))
        columns = record_columns(version)
        for part in _pieces(store, version, chunk_rows):
            out.write(_json_piece(part, columns, first=written == 0))
            written += len(part)
            if progress:
                progress(written, total)
        out.write(b"\n ]\n}\n")
    return written


def _provenance_text(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    return str(csv_cell(value))


def export_bytes(store: Store, version: DatasetVersion, fmt: str = "csv", *,
                 progress: Progress | None = None, chunk_rows: int = CHUNK_ROWS, generated: datetime | None = None) -> bytes:
    """The whole export as bytes (built piece by piece into one buffer, whose bytes are returned
    without a second copy)."""
    buffer = io.BytesIO()
    write_export(store, version, buffer, fmt, progress=progress, chunk_rows=chunk_rows, generated=generated)
    return buffer.getvalue()
