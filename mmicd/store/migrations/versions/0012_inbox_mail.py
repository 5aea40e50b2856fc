"""E-mail addresses of accounts (``users.email``, for the inbox digest) and the digests sent
(``inbox_mail``: one row per account and day, so that a digest is never sent twice the same day).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.String(320), nullable=False, server_default=""))
    op.create_table(
        "inbox_mail",
        sa.Column("username", sa.String(200), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("inbox_mail")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
