"""Tables of the store. The Alembic migrations in ``migrations/versions`` create and upgrade them;
this module describes them for queries (and a test checks both agree)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

datasets = Table(
    "datasets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("scope", String(10), nullable=False),
    Column("source", String(200), nullable=False),
    Column("edition", String(100), nullable=False, default=""),
    Column("version", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("basis", Text, nullable=False, default=""),
    Column("file_name", Text, nullable=False, default=""),
    Column("sha256", String(64), nullable=False, default=""),
    Column("licence", Text, nullable=False, default=""),
    Column("url", Text, nullable=False, default=""),
    Column("provenance", Text, nullable=False, default=""),
    Column("notes", Text, nullable=False, default=""),
    Column("rows", Integer, nullable=False),
    Column("form", String(20), nullable=False, default="observations"),
    Column("storage", Text, nullable=False, default=""),
    Column("loaded_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status_changed_at", DateTime(timezone=True)),
    Column("status_changed_by", String(200)),
    Column("status_note", Text, nullable=False, default=""),
    Index("ix_datasets_series", "kind", "scope", "source", "version", unique=True),
    Index("ix_datasets_status", "status"),
)

observations = Table(
    "observations",
    metadata,
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="RESTRICT"), nullable=False),
    Column("measure", String(20), nullable=False),
    Column("ref_area", String(10), nullable=False),
    Column("time_period", String(10), nullable=False),
    Column("sex", String(4), nullable=False),
    Column("age", String(10), nullable=False),
    Column("migrant_status", String(20), nullable=False),
    Column("counterpart_area", String(10), nullable=False),
    Column("labour_status", String(10), nullable=False),
    Column("breakdown", String(200), nullable=False, server_default="_T"),
    Column("value", Float),
    Column("unit_measure", String(10), nullable=False),
    Column("unit_mult", Integer, nullable=False),
    Column("obs_status", String(2), nullable=False),
    Index(
        "ux_observations_key",
        "dataset_id", "measure", "ref_area", "time_period", "sex", "age",
        "migrant_status", "counterpart_area", "labour_status", "breakdown",
        unique=True,
    ),
    Index("ix_observations_ref_area", "ref_area", "dataset_id"),
    Index("ix_observations_counterpart", "counterpart_area", "dataset_id"),
)

# Survey microdata (one row per person) of a version: its Parquet file's bytes, in parts of a few MB
# (``storage`` of the version: "database"; older versions may name a file under the data folder).
microdata_parts = Table(
    "microdata_parts",
    metadata,
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="RESTRICT"), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

# The audit trail: append-only (triggers refuse UPDATE, DELETE and TRUNCATE), who did what, when, to which
# dataset, intervention, indicator or user, with old and new values and the reason where one is required.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("entity_type", String(40), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="RESTRICT")),
    Column("old", JSON),
    Column("new", JSON),
    Column("reason", Text, nullable=False, default=""),
    Column("detail", JSON, nullable=False, default=dict),
    Index("ix_audit_entity", "entity_type", "entity_id"),
    Index("ix_audit_at", "at"),
)

# Local accounts (passwords hashed with argon2) and accounts signed in through an identity
# provider (no password; matched by verified e-mail). countries: "*" or comma-separated ISO3 codes.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(200), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("password_hash", Text),
    Column("role", String(20), nullable=False),
    Column("countries", Text, nullable=False, default="*"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True)),
    Column("last_login_at", DateTime(timezone=True)),
    Column("email", String(320), nullable=False, default=""),  # for the inbox digest (mmicd.mail)
)

# Inbox digests sent (mmicd.mail): one per account and day, never twice.
inbox_mail = Table(
    "inbox_mail",
    metadata,
    Column("username", String(200), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("items", Integer, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)

# Failed sign-ins counted per client address (``address:<ip>``) and per unknown account name
# (``name:<username>``), shared by every server of the store; see :mod:`mmicd.auth.accounts`.
signin_throttle = Table(
    "signin_throttle",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
)

# Personal tokens of the data API (mmicd.api.tokens): only the SHA-256 hash of a token is kept; a
# revoked or expired token is refused. The account's role and countries apply at every request.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_api_tokens_user", "user_id"),
)

# Signed-in browser sessions (mmicd.auth.sessions): only the SHA-256 hash of a session id is kept; a
# session ends when idle too long, past its lifetime, or revoked (sign-out, password change, disabled).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("code_expires_at", DateTime(timezone=True)),  # the one-time exchange code (None once used)
    Column("binding", String(64), nullable=False, default=""),  # hash of the browser's XSRF token
    Index("ix_web_sessions_user", "user_id"),
)

# Requests to the data API counted per client address (``address:<ip>``) and per token
# (``token:<id>``) in fixed windows, shared by every server of the store (mmicd.api.limits).
api_rate = Table(
    "api_rate",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
)
