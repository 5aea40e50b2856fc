"""Observations get a ninth dimension, ``breakdown``: classifications of a source that the core
dimensions do not hold (a flow statistic's criterion, an asylum procedure's authority and stage, a
point of entry), as ``TYPE:CODE`` pairs joined by ``+``; ``_T`` when there are none.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KEY = ["dataset_id", "measure", "ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area",
       "labour_status"]


def upgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.add_column(sa.Column("breakdown", sa.String(200), nullable=False, server_default="_T"))
    op.drop_index("ux_observations_key", table_name="observations")
    op.create_index("ux_observations_key", "observations", [*KEY, "breakdown"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_observations_key", table_name="observations")
    op.create_index("ux_observations_key", "observations", KEY, unique=True)
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("breakdown")
