"""Stored boundaries: one version per upload of a country's level, in one transaction with its audit
entry; the newest is current unless an admin makes an earlier one current again (audited too)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import JSON as SAJSON
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy import update as sa_update

from mmicd.auth import Action, PermissionDenied, Role, User
from mmicd.boundaries.check import CodeList, check_features
from mmicd.boundaries.read import MAX_BYTES, BoundaryRefused, read_boundaries
from mmicd.boundaries.simplify import BUDGET_BYTES, OverBudget, simplify_to_budget
from mmicd.issues import Issue, IssuesError
from mmicd.store import Store, record_audit
from mmicd.store.schema import metadata

boundaries = Table(
    "boundaries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("country", String(3), nullable=False),
    Column("level", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("current", Boolean, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("licence", Text, nullable=False),
    Column("code_property", String(200), nullable=False),
    Column("codes", SAJSON, nullable=False),
    Column("tolerance", Float, nullable=False),
    Column("geojson", Text, nullable=False),
    Column("notes", SAJSON, nullable=False),
    Column("loaded_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ux_boundaries_version", "country", "level", "version", unique=True),
)


@dataclass(frozen=True)
class Boundaries:
    id: int
    country: str
    level: int
    version: int
    current: bool
    file_name: str
    sha256: str
    source: str
    licence: str
    code_property: str
    codes: list[str]
    tolerance: float
    geojson: str
    notes: list[str]
    loaded_by: str
    created_at: datetime

    def feature_collection(self) -> dict:
        return json.loads(self.geojson)

    def names(self) -> dict[str, str]:
        return {f["id"]: f["properties"]["name"] for f in self.feature_collection()["features"]}


def _refused(message: str) -> IssuesError:
    return IssuesError([Issue("error", message)])


def load_boundaries(store: Store, source: bytes | BinaryIO | Path, *, file_name: str, country: str, level: int,
                    user: User, code_property: str | None = None, codes: CodeList | None = None,
                    source_name: str = "", licence: str = "", lang: str = "en", budget: int = BUDGET_BYTES,
                    max_bytes: int = MAX_BYTES) -> Boundaries:
    """Check, simplify and store a boundary file as the new current version of ``country``'s
    ``level``; admins only. Raises :class:`IssuesError` with every problem (messages in ``lang``,
    naming the feature or the reason) and stores nothing when the file is refused."""
    if user.role != Role.ADMIN:
        raise PermissionDenied(user, Action.MANAGE_USERS, country)
    try:
        raw = read_boundaries(source, file_name, max_bytes=max_bytes)
    except BoundaryRefused as exc:
        raise _refused(exc.message(lang)) from exc
    codes = codes or CodeList(country, level)
    checked = check_features(raw, codes, code_property=code_property, lang=lang, file=file_name)
    if not checked.ok:
        raise IssuesError(checked.issues)
    try:
        text, tolerance = simplify_to_budget(checked.features, budget)
    except OverBudget as exc:
        from mmicd.i18n import t

        raise _refused(t("lmap.refused.over_budget", lang, kb=budget // 1000)) from exc
    data = source.read_bytes() if isinstance(source, Path) else source if isinstance(source, bytes) else None
    if data is None:
        source.seek(0)
        data = source.read()
    sha = hashlib.sha256(data).hexdigest()
    notes = [i.message for i in checked.issues]
    with store.engine.begin() as conn:
        _lock(conn, country, level)
        version = conn.execute(select(func.coalesce(func.max(boundaries.c.version), 0)).where(
            boundaries.c.country == country, boundaries.c.level == level)).scalar_one() + 1
        conn.execute(sa_update(boundaries).where(boundaries.c.country == country, boundaries.c.level == level)
                     .values(current=False))
        new_id = conn.execute(insert(boundaries).values(
            country=country, level=level, version=version, current=True, file_name=file_name, sha256=sha,
            source=source_name, licence=licence, code_property=checked.code_property or "",
            codes=[c for c, _, _ in checked.features], tolerance=tolerance, geojson=text, notes=notes,
            loaded_by=user.label, created_at=datetime.now(UTC))).inserted_primary_key[0]
        record_audit(conn, actor=user.label, action="boundaries_loaded", entity_type="boundaries",
                     entity_id=new_id, new={"country": country, "level": level, "version": version},
                     detail={"file": file_name, "sha256": sha, "features": len(checked.features),
                             "bytes": len(text.encode()), "tolerance": tolerance, "notes": notes})
    return boundary(store, new_id)


def _lock(conn, country: str, level: int) -> None:
    """Versions of one country's level numbered one after the other (see mmicd.store._lock_series)."""
    from mmicd.store import _lock_series

    _lock_series(conn, "boundaries", country, str(level))


def make_current(store: Store, boundary_id: int, *, user: User, reason: str = "") -> Boundaries:
    """Make an earlier version current again (admins; audited with the reason)."""
    if user.role != Role.ADMIN:
        raise PermissionDenied(user, Action.MANAGE_USERS)
    old = boundary(store, boundary_id)
    with store.engine.begin() as conn:
        _lock(conn, old.country, old.level)
        previous = conn.execute(select(boundaries.c.id).where(
            boundaries.c.country == old.country, boundaries.c.level == old.level, boundaries.c.current)).scalar()
        conn.execute(sa_update(boundaries).where(boundaries.c.country == old.country,
                                                 boundaries.c.level == old.level).values(current=False))
        conn.execute(sa_update(boundaries).where(boundaries.c.id == boundary_id).values(current=True))
        record_audit(conn, actor=user.label, action="boundaries_current", entity_type="boundaries",
                     entity_id=boundary_id, old={"current": previous}, new={"current": boundary_id}, reason=reason)
    return boundary(store, boundary_id)


def _from_row(row) -> Boundaries:
    return Boundaries(**{k: row._mapping[k] for k in Boundaries.__dataclass_fields__})


def boundary(store: Store, boundary_id: int) -> Boundaries:
    with store.engine.connect() as conn:
        row = conn.execute(select(boundaries).where(boundaries.c.id == boundary_id)).first()
    if row is None:
        raise KeyError(f"no boundary version {boundary_id}")
    return _from_row(row)


def current_boundaries(store: Store, country: str, level: int = 1) -> Boundaries | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(boundaries).where(boundaries.c.country == country, boundaries.c.level == level,
                                                    boundaries.c.current)).first()
    return None if row is None else _from_row(row)


def versions(store: Store, country: str | None = None) -> list[Boundaries]:
    """Every stored version (without comparing geometry), newest first per country and level."""
    query = select(boundaries).order_by(boundaries.c.country, boundaries.c.level, boundaries.c.version.desc())
    if country is not None:
        query = query.where(boundaries.c.country == country)
    with store.engine.connect() as conn:
        return [_from_row(r) for r in conn.execute(query)]


def countries_with_boundaries(store: Store) -> dict[str, list[int]]:
    """Country -> the levels that have current boundaries."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(boundaries.c.country, boundaries.c.level).where(boundaries.c.current)
                            .order_by(boundaries.c.country, boundaries.c.level)).all()
    out: dict[str, list[int]] = {}
    for country, level in rows:
        out.setdefault(country, []).append(level)
    return out
