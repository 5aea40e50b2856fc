"""Initial schema: versioned datasets, observations, the append-only audit trail, users.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("edition", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("licence", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("provenance", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("form", sa.String(20), nullable=False),
        sa.Column("storage", sa.Text, nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True)),
        sa.Column("status_changed_by", sa.String(200)),
        sa.Column("status_note", sa.Text, nullable=False),
    )
    op.create_index("ix_datasets_series", "datasets", ["kind", "scope", "source", "version"], unique=True)
    op.create_index("ix_datasets_status", "datasets", ["status"])
    op.create_table(
        "observations",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("measure", sa.String(20), nullable=False),
        sa.Column("ref_area", sa.String(10), nullable=False),
        sa.Column("time_period", sa.String(10), nullable=False),
        sa.Column("sex", sa.String(4), nullable=False),
        sa.Column("age", sa.String(10), nullable=False),
        sa.Column("migrant_status", sa.String(20), nullable=False),
        sa.Column("counterpart_area", sa.String(10), nullable=False),
        sa.Column("labour_status", sa.String(10), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("unit_measure", sa.String(10), nullable=False),
        sa.Column("unit_mult", sa.Integer, nullable=False),
        sa.Column("obs_status", sa.String(2), nullable=False),
    )
    op.create_index(
        "ux_observations_key",
        "observations",
        ["dataset_id", "measure", "ref_area", "time_period", "sex", "age",
         "migrant_status", "counterpart_area", "labour_status"],
        unique=True,
    )
    op.create_index("ix_observations_ref_area", "observations", ["ref_area", "dataset_id"])
    op.create_index("ix_observations_counterpart", "observations", ["counterpart_area", "dataset_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("entity_type", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="RESTRICT")),
        sa.Column("old", sa.JSON),
        sa.Column("new", sa.JSON),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_entity", "audit", ["entity_type", "entity_id"])
    op.create_index("ix_audit_at", "audit", ["at"])
    _append_only("audit")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(200), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("countries", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
    )


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` in the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$"
        )
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_change()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END")


def downgrade() -> None:
    op.drop_table("users")
    op.drop_table("audit")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS refuse_change()")
    op.drop_table("observations")
    op.drop_table("datasets")
