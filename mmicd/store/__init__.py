"""Versioned dataset store on SQLAlchemy 2: SQLite by default, PostgreSQL via ``MMICD_DATABASE_URL``.

Every load creates a new version; nothing is overwritten. Versions of one series (same kind, scope
and source) supersede each other when published, and an earlier version can be re-published.
Every write is one transaction: a failure leaves the store exactly as it was. Everything, survey
microdata included, lives in the database: app servers sharing it need no shared folder.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, union, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from mmicd.codes import TOTAL
from mmicd.i18n import t
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
from mmicd.store.schema import audit, datasets, microdata_parts, observations

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
IN_DATABASE = "database"  # ``storage`` of microdata held in ``microdata_parts`` (older versions: a file path)
PART_BYTES = 4 * 1024 * 1024  # microdata Parquet bytes are stored in parts of at most this size
SQLITE_WAIT_S = 30  # a SQLite writer waits this long for another one to finish
WRITE_ATTEMPTS = 3  # a write that meets a concurrent new version of its series is retried this often


class StoreError(RuntimeError):
    """A store operation that cannot be done (unknown dataset, wrong status)."""


class TranslatedStoreError(StoreError):
    """A store error whose message users read: ``message(lang)`` in their language (``str``: English)."""

    key = ""

    def __init__(self, **fields):
        self.fields = fields
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        return t(self.key, lang, **self.fields)


class StoreBusy(TranslatedStoreError):
    """Concurrent loads of the same series kept colliding, or another write held the store too
    long: nothing was stored."""

    key = "store.busy"


class SchemaOutdated(TranslatedStoreError):
    """The database is behind the app's schema and this connection may not upgrade it."""

    key = "store.schema_outdated"


class MicrodataMissing(TranslatedStoreError):
    """Microdata of an older version, kept as a file, that this server's data folder does not hold."""

    key = "store.microdata_missing"


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
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_WAIT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest Alembic revision: the schema this code expects."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def schema_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None``: no schema yet)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, *, app_role: str | None = None) -> list[str]:
    """Create or upgrade the schema to the newest Alembic revision, connected as the owner of the
    tables. ``app_role`` (PostgreSQL): then give that role the app's rights (:func:`grant_app_role`,
    whose statements are returned)."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        # servers starting together upgrade one after the other (the later ones find it done)
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("mmicd.migrate", 0))))
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        if app_role and conn.dialect.name == "postgresql":
            return grant_app_role(conn, app_role)
    return []


# The rights of the application role (PostgreSQL), by table: the audit trail, observations and
# microdata are only ever added to; dataset versions change status; M&E milestones are replaced.
APP_RIGHTS = {
    "audit": "SELECT, INSERT",
    "observations": "SELECT, INSERT",
    "microdata_parts": "SELECT, INSERT",
    "me_target_changes": "SELECT, INSERT",
    "datasets": "SELECT, INSERT, UPDATE",
    "users": "SELECT, INSERT, UPDATE",
    "me_interventions": "SELECT, INSERT, UPDATE",
    "me_indicators": "SELECT, INSERT, UPDATE",
    "me_reports": "SELECT, INSERT, UPDATE",
    "me_stages": "SELECT, INSERT, UPDATE",
    "me_milestones": "SELECT, INSERT, UPDATE, DELETE",
    "alembic_version": "SELECT",
}
# Tables of later migrations not listed above (also through default privileges). Never TRUNCATE,
# REFERENCES or TRIGGER; never ownership, so never ALTER, DROP or disabling a trigger.
OTHER_TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"


def grant_app_role(conn: Connection, role: str) -> list[str]:
    """Give ``role`` exactly the app's rights on the tables of the current schema (the caller owns
    them), and the same for tables its later migrations create (default privileges). Returns the
    statements run."""
    quote = conn.dialect.identifier_preparer.quote
    schema = quote(conn.exec_driver_sql("SELECT current_schema()").scalar_one())
    who = quote(role)
    tables = conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                  "ORDER BY tablename").scalars().all()
    statements = [f"GRANT USAGE ON SCHEMA {schema} TO {who}",
                  f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}"]
    statements += [f"GRANT {APP_RIGHTS.get(name, OTHER_TABLE_RIGHTS)} ON {schema}.{quote(name)} TO {who}"
                   for name in tables]
    statements += [f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
                   f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {OTHER_TABLE_RIGHTS} ON TABLES TO {who}",
                   f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {who}"]
    for statement in statements:
        conn.exec_driver_sql(statement)
    return statements


def app_role_of(app_url: str, owner_url: str) -> str | None:
    """The application role to grant rights to: the user of ``app_url``, unless it is the owner."""
    role = make_url(app_url).username
    return role if role != make_url(owner_url).username else None


def _permission_denied(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "42501" or "permission denied" in str(exc.orig).lower()


class Store:
    """The store: observations, survey microdata (Parquet bytes, in parts), the audit trail, all in
    the database. ``data_dir`` is read only for microdata of versions stored before they moved into
    the database (``python -m mmicd store import-microdata`` moves them).

    At start the schema is upgraded if it is behind: through ``migration_url`` (default
    ``MMICD_MIGRATION_DATABASE_URL`` for the configured store), connected as the tables' owner, which
    then grants this URL's role its rights; without one, through ``url`` itself (one role, SQLite).
    An application role that may not upgrade gets :class:`SchemaOutdated`.
    """

    def __init__(self, url: str, *, data_dir: Path | None = None, upgrade: bool = True,
                 migration_url: str | None = None):
        from mmicd.config import get_settings

        settings = get_settings()
        self.url = url
        self.data_dir = Path(data_dir) if data_dir is not None else settings.data_dir
        self.engine = make_engine(url)
        if migration_url is None and url == settings.database_url:
            migration_url = settings.migration_database_url
        if upgrade and schema_revision(self.engine) != head_revision():
            self._upgrade(migration_url)

    def _upgrade(self, migration_url: str | None) -> None:
        if migration_url and migration_url != self.url:
            owner = make_engine(migration_url)
            try:
                migrate(owner, app_role=app_role_of(self.url, migration_url))
            finally:
                owner.dispose()
            return
        try:
            migrate(self.engine)
        except DBAPIError as exc:
            if not _permission_denied(exc):
                raise
            raise SchemaOutdated(revision=schema_revision(self.engine) or "-", head=head_revision()) from exc

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
    def _write(self, work: Callable[[Connection], list[int]]) -> list[int]:
        """Run ``work`` in one transaction; again (up to :data:`WRITE_ATTEMPTS` times) if a concurrent
        load took the version number it chose; :class:`StoreBusy` if that keeps happening or another
        writer held the store (SQLite) past :data:`SQLITE_WAIT_S`. Nothing of a failed attempt stays."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except IntegrityError as exc:
                if not _is_version_conflict(exc):
                    raise
                if attempt == WRITE_ATTEMPTS:
                    raise StoreBusy() from exc
                time.sleep(0.05 * attempt)
            except OperationalError as exc:
                if "database is locked" not in str(exc.orig):
                    raise
                raise StoreBusy() from exc
        raise AssertionError("unreachable")

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
        return self.add_many([(meta, Form.OBSERVATIONS, frame)], actor=actor, status=status, lang=lang)[0]

    def add_microdata(
        self,
        meta: DatasetMeta,
        frame: pd.DataFrame,
        *,
        actor: str,
        status: Status = Status.DRAFT,
        lang: str = "en",
    ) -> DatasetVersion:
        """Store survey microdata as a new version: its Parquet bytes and its dataset row, atomically.

        Raises :class:`IssuesError` with every problem before anything is written.
        """
        return self.add_many([(meta, Form.MICRODATA, frame)], actor=actor, status=status, lang=lang)[0]

    def add_many(
        self,
        items: list[tuple[DatasetMeta, Form, pd.DataFrame]],
        *,
        actor: str,
        status: Status = Status.DRAFT,
        checks: list[PublishCheck | None] | None = None,
        lang: str = "en",
        issues: list[list[dict]] | None = None,
    ) -> list[DatasetVersion]:
        """Store several datasets (observations or microdata) as new versions in ONE transaction.

        Every frame is checked first (:class:`IssuesError` with every problem, nothing written);
        a failure part-way rolls back every dataset row, observation and microdata part.
        ``checks`` (one per item, when publishing): see :class:`PublishCheck`. ``issues`` (one list
        per item): the validation warnings the person loading saw, kept in the audit entry of the
        creation for the reviewer (:func:`mmicd.review_diff.validation_report`).
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
        parquet = {n: _parquet_bytes(canonical) for n, (_, form, canonical) in enumerate(prepared)
                   if form == Form.MICRODATA}

        def work(conn: Connection) -> list[int]:
            ids = []
            for n, (meta, form, canonical) in enumerate(prepared):
                microdata = form == Form.MICRODATA
                dataset_id = _insert_version(conn, meta, len(canonical), actor, form,
                                             IN_DATABASE if microdata else "")
                if microdata:
                    _insert_parts(conn, dataset_id, parquet[n])
                else:
                    _bulk_insert(conn, dataset_id, canonical)
                detail = {"rows": len(canonical), "form": form.value}
                if issues is not None:
                    detail["issues"] = issues[n]
                _log(conn, actor, "created", dataset_id, detail)
                _initial_status(conn, dataset_id, status, actor, checks[n] if checks else None)
                ids.append(dataset_id)
            return ids

        return [self.dataset(i) for i in self._write(work)]

    # ---- microdata -------------------------------------------------------------------------
    def microdata(self, dataset_id: int) -> pd.DataFrame:
        """The person records of a microdata version, in canonical columns."""
        with self.microdata_file(self.dataset(dataset_id)) as file:
            return pd.read_parquet(file)

    @contextmanager
    def microdata_file(self, version: DatasetVersion) -> Iterator[io.BufferedIOBase]:
        """The Parquet file of a microdata version, as a binary file object: its parts joined in
        memory (the compressed bytes, not the frame), or the file of a version stored before
        microdata moved into the database (:class:`MicrodataMissing` if this data folder lacks it)."""
        if version.form != Form.MICRODATA:
            raise StoreError(f"dataset version {version.id} holds observations, not microdata")
        if version.storage != IN_DATABASE:
            path = self.data_dir / version.storage
            if not path.is_file():
                raise MicrodataMissing(id=version.id, path=str(path))
            with open(path, "rb") as file:
                yield file
            return
        with self.engine.connect() as conn:
            data = b"".join(conn.execute(select(microdata_parts.c.data).where(
                microdata_parts.c.dataset_id == version.id).order_by(microdata_parts.c.part)).scalars())
        yield io.BytesIO(data)

    def import_microdata_files(self, *, actor: str) -> tuple[list[int], list[MicrodataMissing]]:
        """Move the microdata of versions stored as files under ``data_dir`` into the database, one
        version per transaction (the dataset row then points to the database; the file stays, and
        may be deleted). Returns the ids moved and, for files this folder lacks, the errors."""
        moved, missing = [], []
        for version in self.datasets():
            if version.form != Form.MICRODATA or version.storage == IN_DATABASE:
                continue
            try:
                with self.microdata_file(version) as file:
                    data = file.read()
            except MicrodataMissing as exc:
                missing.append(exc)
                continue
            with self.engine.begin() as conn:
                _insert_parts(conn, version.id, data)
                conn.execute(update(datasets).where(datasets.c.id == version.id).values(storage=IN_DATABASE))
                _log(conn, actor, "microdata_moved", version.id, {"file": version.storage, "bytes": len(data)})
            moved.append(version.id)
        return moved, missing

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


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _insert_parts(conn: Connection, dataset_id: int, data: bytes) -> None:
    """The Parquet bytes of a microdata version, in parts of at most :data:`PART_BYTES`."""
    view = memoryview(data)
    for part, start in enumerate(range(0, max(len(data), 1), PART_BYTES)):
        conn.execute(insert(microdata_parts).values(dataset_id=dataset_id, part=part,
                                                    data=bytes(view[start:start + PART_BYTES])))


def _is_version_conflict(exc: IntegrityError) -> bool:
    """Whether a failed insert met another dataset row with the same series and version number."""
    text = str(exc.orig)
    return "ix_datasets_series" in text or "datasets.kind, datasets.scope, datasets.source, datasets.version" in text


def _lock_series(conn: Connection, kind: str, scope: str, source: str) -> None:
    """Hold the series until the transaction ends, so that concurrent loads number their versions
    one after the other, and concurrent publications of the series supersede one another in turn
    (never two published versions): on PostgreSQL a transaction-level advisory lock on the series; on SQLite
    the database's write lock, taken now by a write that changes nothing (a writer waits for it;
    readers never do)."""
    if conn.dialect.name == "postgresql":
        key = "\x1f".join(("mmicd.datasets", kind, scope, source))
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    else:
        conn.execute(update(datasets).where(datasets.c.id.is_(None)).values(id=datasets.c.id))


def _next_version(conn: Connection, meta: DatasetMeta) -> int:
    return conn.execute(
        select(func.coalesce(func.max(datasets.c.version), 0)).where(
            datasets.c.kind == meta.kind.value,
            datasets.c.scope == meta.scope,
            datasets.c.source == meta.source,
        )
    ).scalar_one() + 1


def _insert_version(conn: Connection, meta: DatasetMeta, rows: int, actor: str, form: Form, storage: str) -> int:
    """Insert the dataset row of a new draft version (the next number in its series); return its id."""
    _lock_series(conn, meta.kind.value, meta.scope, meta.source)
    version = _next_version(conn, meta)
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
    _lock_series(conn, row.kind, row.scope, row.source)
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
