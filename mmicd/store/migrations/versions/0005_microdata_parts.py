"""Survey microdata in the database: the Parquet bytes of a version in parts (``microdata_parts``),
written in the transaction of its dataset row. Versions stored earlier keep their file under the
data folder (``storage``) until ``python -m mmicd store import-microdata`` moves them in.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "microdata_parts",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="RESTRICT"), primary_key=True),
        sa.Column("part", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("microdata_parts")
