"""Versioned dataset store on SQLAlchemy 2: SQLite by default, PostgreSQL via ``MMICD_DATABASE_URL``.

Every load creates a new version; nothing is overwritten. Versions of one series (same kind, scope
and source) supersede each other when published, and an earlier version can be re-published.
Every write is one transaction: a failure leaves the store exactly as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, union, update

from mmicd.codes import TOTAL
from mmicd.issues import IssuesError
from mmicd.model import (
    MICRODATA_COLUMNS,
    OBS_COLUMNS,
    DatasetMeta,
    DatasetVersion,
    Form,
    Status,
    check_microdata,
    normalise_microdata,
    validated,
)
from mmicd.store.schema import audit, datasets, observations

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(RuntimeError):
    """A store operation that cannot be done (unknown dataset, wrong status)."""


class SeriesChanged(StoreError):
    """The published version of a series is no longer the one the person publishing was shown."""


@dataclass(frozen=True)
class PublishCheck:
    """What the person publishing was shown, checked again inside the publishing transaction.

    ``replaces``: the ids of the series' published versions at that moment (empty: none); if they
    differ when publishing, :class:`SeriesChanged` is raised and nothing changes (``None``: not
    checked, e.g. a version replacing one stored earlier in the same transaction).
    ``confirmed_drop``: the numbers of a large drop the person confirmed, appended to the audit
    trail (action ``confirmed_drop``, with the note as reason) in the same transaction.
    """

    replaces: tuple[int, ...] | None = ()
    confirmed_drop: dict | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """The store. Observations live in the database; survey microdata (one row per person) in
    Parquet files under ``<data_dir>/microdata/``, referenced by their dataset version."""

    def __init__(self, url: str, *, data_dir: Path | None = None, upgrade: bool = True):
        from mmicd.config import get_settings

        self.url = url
        self.data_dir = Path(data_dir) if data_dir is not None else get_settings().data_dir
        self.engine = make_engine(url)
        if upgrade:
            migrate(self.engine)

    # ---- reading ---------------------------------------------------------------------------
    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(datasets)).scalar_one() == 0

    def datasets(self, *, status: Status | str | None = None, kind: str | None = None) -> list[DatasetVersion]:
        query = select(datasets).order_by(datasets.c.id)
        if status is not None:
            query = query.where(datasets.c.status == str(status))
        if kind is not None:
            query = query.where(datasets.c.kind == kind)
        with self.engine.connect() as conn:
            return [DatasetVersion.model_validate(dict(r._mapping)) for r in conn.execute(query)]

    def dataset(self, dataset_id: int) -> DatasetVersion:
        with self.engine.connect() as conn:
            row = conn.execute(select(datasets).where(datasets.c.id == dataset_id)).first()
        if row is None:
            raise StoreError(f"no dataset version {dataset_id}")
        return DatasetVersion.model_validate(dict(row._mapping))

    def published_ids(self) -> tuple[int, ...]:
        """Ids of the published versions: the cache key of everything computed from them."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(datasets.c.id).where(datasets.c.status == Status.PUBLISHED).order_by(datasets.c.id)
            )
            return tuple(r[0] for r in rows)

    def covering(self, area: str, dataset_ids: Iterable[int],
                 counterpart_kinds: Iterable[str] = ("migrant_stock",)) -> tuple[int, ...]:
        """Which of ``dataset_ids`` hold ``area``: observations with it as reference area, versions of
        ``counterpart_kinds`` with it as counterpart (its emigrants abroad), microdata of its scope
        (or of every area, scope ``_ALL``). The lookups run on the (area, dataset_id) indexes.
        """
        ids = list(dataset_ids)
        query = union(
            select(observations.c.dataset_id).where(observations.c.ref_area == area,
                                                    observations.c.dataset_id.in_(ids)),
            select(observations.c.dataset_id).join(datasets, datasets.c.id == observations.c.dataset_id).where(
                observations.c.counterpart_area == area, observations.c.dataset_id.in_(ids),
                datasets.c.kind.in_(list(counterpart_kinds))),
            select(datasets.c.id).where(datasets.c.form == Form.MICRODATA.value, datasets.c.id.in_(ids),
                                        datasets.c.scope.in_([area, "_ALL"])),
        )
        with self.engine.connect() as conn:
            return tuple(sorted(r[0] for r in conn.execute(query)))

    def periods(self, dataset_ids: Iterable[int]) -> list[str]:
        """Distinct time periods in the given dataset versions, newest first."""
        query = select(observations.c.time_period).distinct().where(
            observations.c.dataset_id.in_(list(dataset_ids))
        )
        with self.engine.connect() as conn:
            return sorted((r[0] for r in conn.execute(query)), reverse=True)

    def observations(
        self,
        *,
        dataset_ids: Iterable[int] | None = None,
        status: Status | str | None = Status.PUBLISHED,
        kinds: Iterable[str] | None = None,
        measures: Iterable[str] | None = None,
        ref_areas: Iterable[str] | None = None,
        counterpart_areas: Iterable[str] | None = None,
        breakdown: str | Iterable[str] | None = TOTAL,
    ) -> pd.DataFrame:
        """Observations with their provenance (dataset_id, source, edition, kind).

        ``breakdown``: only rows of this source breakdown (default ``_T``: the figures that are not
        split by a source-specific classification such as a flow criterion or a point of entry, which
        is what every indicator reads); several codes for the rows of any of them (``_T`` and the
        codes indicators select, such as ``OUTCOME:REC``); ``None`` for every row (diffs, exports, previews).
        """
        query = select(
            observations,
            datasets.c.source,
            datasets.c.edition,
            datasets.c.kind,
        ).join(datasets, datasets.c.id == observations.c.dataset_id)
        if dataset_ids is not None:
            query = query.where(observations.c.dataset_id.in_(list(dataset_ids)))
        if status is not None:
            query = query.where(datasets.c.status == str(status))
        if kinds is not None:
            query = query.where(datasets.c.kind.in_(list(kinds)))
        if measures is not None:
            query = query.where(observations.c.measure.in_(list(measures)))
        if ref_areas is not None:
            query = query.where(observations.c.ref_area.in_(list(ref_areas)))
        if counterpart_areas is not None:
            query = query.where(observations.c.counterpart_area.in_(list(counterpart_areas)))
        if isinstance(breakdown, str):
            query = query.where(observations.c.breakdown == breakdown)
        elif breakdown is not None:
            query = query.where(observations.c.breakdown.in_(list(breakdown)))
        with self.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        frame["value"] = frame["value"].astype("float64")
        return frame

    def audit(
        self,
        *,
        entity_type: str | None = None,
        entity_id: str | int | None = None,
        dataset_id: int | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> pd.DataFrame:
        """The audit trail, oldest first, filtered by any of its columns."""
        query = select(audit).order_by(audit.c.id)
        for column, value in (("entity_type", entity_type), ("entity_id", entity_id), ("dataset_id", dataset_id),
                              ("actor", actor), ("action", action)):
            if value is not None:
                query = query.where(audit.c[column] == (str(value) if column == "entity_id" else value))
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)

    # ---- writing ---------------------------------------------------------------------------
    def add_dataset(
        self,
        meta: DatasetMeta,
        frame: pd.DataFrame,
        *,
        actor: str,
        status: Status = Status.DRAFT,
        lang: str = "en",
    ) -> DatasetVersion:
        """Store ``frame`` as a new version of its series, in one transaction.

        Raises :class:`mmicd.issues.IssuesError` (before touching the store) when the frame breaks a
        rule of :mod:`mmicd.rules` (unknown codes, duplicate keys, bad periods, non-finite values, ...),
        with messages in ``lang``.
        """
        canonical = validated(frame, file=meta.file_name or None, lang=lang)
        with self.engine.begin() as conn:
            dataset_id = _insert_version(conn, meta, len(canonical), actor, Form.OBSERVATIONS, "")
            _bulk_insert(conn, dataset_id, canonical)
            _log(conn, actor, "created", dataset_id, {"rows": len(canonical)})
            _initial_status(conn, dataset_id, status, actor)
        return self.dataset(dataset_id)

    def add_microdata(
        self,
        meta: DatasetMeta,
        frame: pd.DataFrame,
        *,
        actor: str,
        status: Status = Status.DRAFT,
        lang: str = "en",
    ) -> DatasetVersion:
        """Store survey microdata as a new version: a Parquet file plus its dataset row, atomically.

        Raises :class:`mmicd.issues.IssuesError` with every problem before anything is written.
        """
        canonical = normalise_microdata(frame)
        errors = [i for i in check_microdata(canonical, meta.file_name or None, lang=lang) if i.level == "error"]
        if errors:
            raise IssuesError(errors)
        folder = self.data_dir / "microdata"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.parquet"
        path = folder / name
        try:
            with self.engine.begin() as conn:
                dataset_id = _insert_version(conn, meta, len(canonical), actor, Form.MICRODATA, f"microdata/{name}")
                canonical.to_parquet(path, index=False)
                _log(conn, actor, "created", dataset_id, {"rows": len(canonical), "form": "microdata"})
                _initial_status(conn, dataset_id, status, actor)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return self.dataset(dataset_id)

    def add_many(
        self,
        items: list[tuple[DatasetMeta, Form, pd.DataFrame]],
        *,
        actor: str,
        status: Status = Status.DRAFT,
        checks: list[PublishCheck | None] | None = None,
        lang: str = "en",
    ) -> list[DatasetVersion]:
        """Store several datasets (observations or microdata) as new versions in ONE transaction.

        Every frame is checked first (:class:`IssuesError` with every problem, nothing written);
        a failure part-way rolls back every dataset row and removes the Parquet files written.
        ``checks`` (one per item, when publishing): see :class:`PublishCheck`.
        """
        prepared = []
        errors = []
        for meta, form, frame in items:
            if Form(form) == Form.MICRODATA:
                canonical = frame if _is_canonical_microdata(frame) else normalise_microdata(frame)
                errors += [i for i in check_microdata(canonical, meta.file_name or None, lang=lang)
                           if i.level == "error"]
            else:
                try:
                    canonical = validated(frame, file=meta.file_name or None, lang=lang)
                except IssuesError as exc:
                    errors += exc.issues
                    continue
            prepared.append((meta, Form(form), canonical))
        if errors:
            raise IssuesError(errors)
        folder = self.data_dir / "microdata"
        written: list[Path] = []
        ids: list[int] = []
        try:
            with self.engine.begin() as conn:
                for n, (meta, form, canonical) in enumerate(prepared):
                    storage = ""
                    if form == Form.MICRODATA:
                        folder.mkdir(parents=True, exist_ok=True)
                        name = f"{uuid.uuid4().hex}.parquet"
                        storage = f"microdata/{name}"
                        written.append(folder / name)
                        canonical.to_parquet(folder / name, index=False)
                    dataset_id = _insert_version(conn, meta, len(canonical), actor, form, storage)
                    if form == Form.OBSERVATIONS:
                        _bulk_insert(conn, dataset_id, canonical)
                    _log(conn, actor, "created", dataset_id, {"rows": len(canonical), "form": form.value})
                    _initial_status(conn, dataset_id, status, actor, checks[n] if checks else None)
                    ids.append(dataset_id)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        return [self.dataset(i) for i in ids]

    def microdata(self, dataset_id: int) -> pd.DataFrame:
        """The person records of a microdata version, in canonical columns."""
        version = self.dataset(dataset_id)
        if version.form != Form.MICRODATA:
            raise StoreError(f"dataset version {dataset_id} holds observations, not microdata")
        return pd.read_parquet(self.data_dir / version.storage)

    def publish(self, dataset_id: int, *, actor: str, note: str = "",
                check: PublishCheck | None = None) -> DatasetVersion:
        """Publish a version (also an earlier one again); the series' current one is superseded.
        ``check``: see :class:`PublishCheck`."""
        with self.engine.begin() as conn:
            _publish(conn, dataset_id, actor, note, check)
        return self.dataset(dataset_id)

    def set_status(self, dataset_id: int, status: Status, *, actor: str, note: str = "") -> DatasetVersion:
        if status == Status.PUBLISHED:
            return self.publish(dataset_id, actor=actor, note=note)
        with self.engine.begin() as conn:
            _set_status(conn, dataset_id, status, actor, note)
        return self.dataset(dataset_id)


def _is_canonical_microdata(frame: pd.DataFrame) -> bool:
    """Already in the shape :func:`normalise_microdata` returns (then normalising again is a no-op)."""
    if list(frame.columns) != MICRODATA_COLUMNS or not frame.index.equals(pd.RangeIndex(len(frame))):
        return False
    from mmicd.model import canonical_microdata_types

    return canonical_microdata_types(frame)


def _insert_version(conn: Connection, meta: DatasetMeta, rows: int, actor: str, form: Form, storage: str) -> int:
    """Insert the dataset row of a new draft version (the next number in its series); return its id."""
    version = conn.execute(
        select(func.coalesce(func.max(datasets.c.version), 0)).where(
            datasets.c.kind == meta.kind.value,
            datasets.c.scope == meta.scope,
            datasets.c.source == meta.source,
        )
    ).scalar_one() + 1
    return conn.execute(
        insert(datasets).values(
            **meta.model_dump(mode="json"),
            version=version,
            status=Status.DRAFT.value,
            rows=rows,
            form=form.value,
            storage=storage,
            loaded_by=actor,
            created_at=_now(),
            status_note="",
        )
    ).inserted_primary_key[0]


def record_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int,
    old: object = None,
    new: object = None,
    reason: str = "",
    dataset_id: int | None = None,
    detail: dict | None = None,
) -> None:
    """Append one entry to the audit trail, inside the caller's transaction."""
    conn.execute(
        insert(audit).values(
            at=_now(), actor=actor, action=action, entity_type=entity_type, entity_id=str(entity_id),
            dataset_id=dataset_id, old=old, new=new, reason=reason or "", detail=detail or {},
        )
    )


def _initial_status(conn: Connection, dataset_id: int, status: Status, actor: str,
                    check: PublishCheck | None = None) -> None:
    """Move a just-created draft to the status it was stored with (publishing supersedes its series)."""
    if status == Status.PUBLISHED:
        _publish(conn, dataset_id, actor, note="", check=check)
    elif status != Status.DRAFT:
        _set_status(conn, dataset_id, status, actor, note="")


def _log(conn: Connection, actor: str, action: str, dataset_id: int, detail: dict, *,
         old: object = None, new: object = None, reason: str = "") -> None:
    record_audit(conn, actor=actor, action=action, entity_type="dataset", entity_id=dataset_id,
                 dataset_id=dataset_id, old=old, new=new, reason=reason, detail=detail)


def _row(conn: Connection, dataset_id: int):
    row = conn.execute(select(datasets).where(datasets.c.id == dataset_id)).first()
    if row is None:
        raise StoreError(f"no dataset version {dataset_id}")
    return row


def _set_status(conn: Connection, dataset_id: int, status: Status, actor: str, note: str) -> None:
    old = _row(conn, dataset_id).status
    conn.execute(
        update(datasets)
        .where(datasets.c.id == dataset_id)
        .values(status=status.value, status_changed_at=_now(), status_changed_by=actor, status_note=note)
    )
    _log(conn, actor, f"status:{status.value}", dataset_id, {}, old=old, new=status.value, reason=note)


def _publish(conn: Connection, dataset_id: int, actor: str, note: str, check: PublishCheck | None = None) -> None:
    row = _row(conn, dataset_id)
    current = conn.execute(
        select(datasets.c.id).where(
            datasets.c.kind == row.kind,
            datasets.c.scope == row.scope,
            datasets.c.source == row.source,
            datasets.c.status == Status.PUBLISHED.value,
            datasets.c.id != dataset_id,
        )
    ).scalars().all()
    if check is not None:
        if check.replaces is not None and sorted(current) != sorted(check.replaces):
            raise SeriesChanged(f"the published version of the series of dataset version {dataset_id} changed "
                                f"(now {sorted(current) or 'none'}, shown {sorted(check.replaces or ()) or 'none'})")
        if check.confirmed_drop:
            _log(conn, actor, "confirmed_drop", dataset_id, dict(check.confirmed_drop), reason=note)
    for other in current:
        _set_status(conn, other, Status.SUPERSEDED, actor, note=f"superseded by version id {dataset_id}")
    _set_status(conn, dataset_id, Status.PUBLISHED, actor, note)


_INSERT_COLUMNS = ["dataset_id", *OBS_COLUMNS]


def _bulk_insert(conn: Connection, dataset_id: int, frame: pd.DataFrame) -> None:
    """Insert observations fast, inside the caller's transaction (COPY on PostgreSQL)."""
    columns = [[dataset_id] * len(frame)]
    for col in OBS_COLUMNS:
        values = frame[col].to_numpy(dtype=object)
        if col == "value":
            values[pd.isna(frame[col]).to_numpy()] = None
        columns.append(values.tolist())
    rows = list(zip(*columns, strict=True))
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(
            f"COPY observations ({', '.join(_INSERT_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        placeholders = ", ".join("?" for _ in _INSERT_COLUMNS)
        cur = raw.cursor()
        try:
            cur.executemany(
                f"INSERT INTO observations ({', '.join(_INSERT_COLUMNS)}) VALUES ({placeholders})", rows
            )
        finally:
            cur.close()
