"""A statistics office's own subdivision codes: upload, check, store (versioned, audited), put in force.

An office uploads a code list for its country (CSV or XLSX, one row per subdivision, columns
``code, name, parent, level`` and optionally ``name_fr, name_es, name_local, aliases`` (``|``
between aliases), ``valid_from, valid_to``) that either *extends* the ISO 3166-2 list (its codes
are added, or replace the ISO entry of the same code) or *replaces* it for that country. Every code
starts with the country's ISO 3166-1 alpha-2 code and a hyphen (``NP-`` for Nepal), so that a
subdivision code never looks like a country code, and is at most 10 characters (the store's width).

Every upload is a new version of the country's list (table ``subdivision_lists``, created by
migration 0010, never updated); the latest version is in force. :func:`apply` puts the lists of
the store in force in :mod:`mmicd.subdivisions`.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text, func, insert, select

from mmicd import codes
from mmicd import subdivisions as sub
from mmicd.i18n import t
from mmicd.issues import Issue, IssuesError
from mmicd.store.schema import metadata

subdivision_lists = Table(
    "subdivision_lists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("country", String(10), nullable=False),
    Column("version", Integer, nullable=False),
    Column("mode", String(10), nullable=False),
    Column("codes", JSON, nullable=False),
    Column("file_name", Text, nullable=False, default=""),
    Column("sha256", String(64), nullable=False, default=""),
    Column("loaded_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Index("ux_subdivision_lists_version", "country", "version", unique=True),
)

MODES = ("extend", "replace")
REQUIRED = ("code", "name", "level")
OPTIONAL = ("parent", "name_fr", "name_es", "name_local", "aliases", "valid_from", "valid_to", "type")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_ROWS = 20_000


def read(name: str, data: bytes, country: str, mode: str, *, lang: str = "en") -> pd.DataFrame:
    """The rows of an uploaded code list in :data:`mmicd.subdivisions.COLUMNS`; :class:`IssuesError`
    with every problem (naming row and column) when it cannot be used as it is."""
    def error(key: str, row: int | None = None, column: str | None = None, value: object = None, **fields):
        text = "" if value is None else str(value)
        return Issue("error", t(f"local.codes.{key}", lang, row=row or "", column=column or "", value=text, **fields),
                     file=name, row=row, column=column, value=text or None, check=key)

    if mode not in MODES:
        raise ValueError(f"mode is one of {MODES}")
    iso2 = codes.areas().at[country, "iso2"] if codes.is_country(country) else ""
    if not iso2:
        raise IssuesError([error("bad_country", value=country)])
    try:
        if name.lower().endswith((".xlsx", ".xlsm")):
            frame = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False, engine="openpyxl")
        else:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                sep=None, engine="python")
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one message
        raise IssuesError([error("unreadable", value=type(exc).__name__)]) from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise IssuesError([error("missing_column", column=c) for c in missing])
    if len(frame) > MAX_ROWS or frame.empty:
        raise IssuesError([error("size", n=len(frame), limit=MAX_ROWS)])
    frame = frame.apply(lambda col: col.astype(str).str.strip())
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    levels: dict[str, int] = {}
    for i, r in enumerate(frame.to_dict("records")):
        row = i + 2
        code = r["code"].upper()
        if not re.fullmatch(rf"{iso2}-[A-Z0-9]{{1,7}}", code):
            issues.append(error("bad_code", row, "code", r["code"], prefix=f"{iso2}-"))
        elif code in seen:
            issues.append(error("duplicate", row, "code", r["code"], first=seen[code]))
        seen.setdefault(code, row)
        if not r["name"]:
            issues.append(error("no_name", row, "name"))
        if r["level"] not in ("1", "2", "3"):
            issues.append(error("bad_level", row, "level", r["level"]))
        else:
            levels[code] = int(r["level"])
        for col in ("valid_from", "valid_to"):
            if r.get(col) and not DATE.match(r[col]):
                issues.append(error("bad_date", row, col, r[col]))
    inherited = sub.of_country(country, current=False)
    for i, r in enumerate(frame.to_dict("records")):
        code, parent = r["code"].upper(), r.get("parent", "").upper()
        if code not in levels:
            continue
        if levels[code] == 1:
            if parent:
                issues.append(error("parent_of_first", i + 2, "parent", r["parent"]))
            continue
        parent_level = levels.get(parent) if parent in levels else (
            int(inherited.at[parent, "level"]) if mode == "extend" and parent in inherited.index else None)
        if parent_level is None:
            issues.append(error("unknown_parent", i + 2, "parent", r.get("parent", "")))
        elif parent_level != levels[code] - 1:
            issues.append(error("parent_level", i + 2, "parent", r["parent"]))
    if issues:
        raise IssuesError(issues)
    out = pd.DataFrame({
        "code": frame["code"].str.upper(), "country": country,
        "parent": frame["parent"].str.upper() if "parent" in frame else "",
        "level": frame["level"], "type": frame.get("type", ""), "name_en": frame["name"],
    })
    for col in ("name_fr", "name_es", "name_local"):
        out[col] = frame[col].where(frame[col] != "", frame["name"]) if col in frame else frame["name"]
    for col in ("aliases", "valid_from", "valid_to"):
        out[col] = frame.get(col, "")
    return out[sub.COLUMNS].reset_index(drop=True)


def save(store, country: str, rows: pd.DataFrame, mode: str, *, actor: str, file_name: str = "",
         data: bytes = b"", note: str = "") -> int:
    """Store ``rows`` (from :func:`read`) as the next version of ``country``'s list, audited, and
    put the store's lists in force. Returns the version number."""
    from mmicd.store import record_audit

    records = rows[sub.COLUMNS].astype(str).to_dict("records")

    def work(conn) -> list[int]:
        version = (conn.execute(select(func.max(subdivision_lists.c.version))
                                .where(subdivision_lists.c.country == country)).scalar() or 0) + 1
        conn.execute(insert(subdivision_lists).values(
            country=country, version=version, mode=mode, codes=records, file_name=file_name,
            sha256=hashlib.sha256(data).hexdigest() if data else "", loaded_by=actor,
            created_at=datetime.now(UTC), note=note))
        record_audit(conn, actor=actor, action="subdivision_list", entity_type="subdivision_list",
                     entity_id=country, new={"version": version, "mode": mode, "codes": len(records)},
                     reason=note, detail={"file_name": file_name})
        return [version]

    version = store._write(work)[0]
    apply(store)
    return version


def versions(store, country: str | None = None) -> pd.DataFrame:
    """Every stored version (without the codes): country, version, mode, file, who, when, note."""
    cols = [c for c in subdivision_lists.c if c.name != "codes"]
    query = select(*cols).order_by(subdivision_lists.c.country, subdivision_lists.c.version)
    if country is not None:
        query = query.where(subdivision_lists.c.country == country)
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).mappings().all(), columns=[c.name for c in cols])


def in_force(store) -> dict[str, tuple[str, pd.DataFrame]]:
    """The latest version of each country's list: country -> (mode, rows)."""
    latest = select(subdivision_lists.c.country, func.max(subdivision_lists.c.version).label("v")).group_by(
        subdivision_lists.c.country).subquery()
    query = select(subdivision_lists).join(latest, (subdivision_lists.c.country == latest.c.country)
                                           & (subdivision_lists.c.version == latest.c.v))
    with store.engine.connect() as conn:
        found = conn.execute(query).mappings().all()
    return {r["country"]: (r["mode"], pd.DataFrame(r["codes"], columns=sub.COLUMNS)) for r in found}


def apply(store) -> None:
    """Put the store's lists in force in :mod:`mmicd.subdivisions` (the ISO list elsewhere); a
    cheap query when they are in force already."""
    query = select(subdivision_lists.c.country, func.max(subdivision_lists.c.version)).group_by(
        subdivision_lists.c.country)
    with store.engine.connect() as conn:
        origin = (store.url, tuple(sorted(tuple(r) for r in conn.execute(query).all())))
    if sub.office_origin() != origin:
        sub.set_office_lists(in_force(store), origin)
