"""The language of an intervention's texts (``me_interventions.language``, an ISO 639-1 code), written
as ``xml:lang`` in the IATI export; existing interventions are in English.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("me_interventions", sa.Column("language", sa.String(2), nullable=False, server_default="en"))


def downgrade() -> None:
    with op.batch_alter_table("me_interventions") as batch:
        batch.drop_column("language")
