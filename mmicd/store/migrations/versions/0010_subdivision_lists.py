"""Statistics offices' own subdivision code lists (``subdivision_lists``): one row per uploaded
version of a country's list, never changed afterwards (see mmicd/subdivision_lists.py).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subdivision_lists",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("country", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("codes", sa.JSON, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False, server_default=""),
        sa.Column("sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ux_subdivision_lists_version", "subdivision_lists", ["country", "version"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_subdivision_lists_version", table_name="subdivision_lists")
    op.drop_table("subdivision_lists")
