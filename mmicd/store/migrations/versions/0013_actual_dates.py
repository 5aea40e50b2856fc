"""The actual start and end dates of an intervention (``me_interventions.actual_start`` and
``actual_end``, optional), written as the IATI actual dates; existing interventions have none recorded.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("me_interventions", sa.Column("actual_start", sa.Date))
    op.add_column("me_interventions", sa.Column("actual_end", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("me_interventions") as batch:
        batch.drop_column("actual_end")
        batch.drop_column("actual_start")
