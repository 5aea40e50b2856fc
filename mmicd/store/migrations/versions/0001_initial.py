"""Initial schema: versioned datasets, observations, events.

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
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="RESTRICT")),
        sa.Column("detail", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("observations")
    op.drop_table("datasets")
