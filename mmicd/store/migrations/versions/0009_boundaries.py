"""Boundaries of subdivisions, per country and level, versioned: the display GeoJSON (simplified within
a size budget), the codes it carries, the original file's name and SHA-256, source and licence
(``boundaries``); the latest loaded version of a country and level is the current one unless an
earlier one is made current again. M&E interventions get a geographic scope as subdivision codes
(``me_interventions.scope_areas``) and the organisation type of their lead institution and partners
(``lead_type``, ``partner_types``: e.g. local authority).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boundaries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("licence", sa.Text, nullable=False),
        sa.Column("code_property", sa.String(200), nullable=False),
        sa.Column("codes", sa.JSON, nullable=False),
        sa.Column("tolerance", sa.Float, nullable=False),
        sa.Column("geojson", sa.Text, nullable=False),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_boundaries_version", "boundaries", ["country", "level", "version"], unique=True)
    with op.batch_alter_table("me_interventions") as batch:
        batch.add_column(sa.Column("scope_areas", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("lead_type", sa.String(30), nullable=False, server_default="government"))
        batch.add_column(sa.Column("partner_types", sa.JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("me_interventions") as batch:
        batch.drop_column("partner_types")
        batch.drop_column("lead_type")
        batch.drop_column("scope_areas")
    op.drop_index("ux_boundaries_version", "boundaries")
    op.drop_table("boundaries")
