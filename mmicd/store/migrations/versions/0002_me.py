"""Joint M&E framework: interventions, indicators, milestones, progress reports, target changes, GMG stages.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "me_interventions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("sector", sa.String(40), nullable=False),
        sa.Column("lead", sa.Text, nullable=False),
        sa.Column("partners", sa.JSON, nullable=False),
        sa.Column("funders", sa.JSON, nullable=False),
        sa.Column("ndp_goal", sa.Text, nullable=False),
        sa.Column("sdg_targets", sa.JSON, nullable=False),
        sa.Column("gmg_stage", sa.String(30), nullable=False),
        sa.Column("geographic_scope", sa.Text, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("budget_planned", sa.Float, nullable=False),
        sa.Column("budget_disbursed", sa.Float, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("illustrative", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_me_interventions_country", "me_interventions", ["country"])
    op.create_table(
        "me_indicators",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("intervention_id", sa.String(40), sa.ForeignKey("me_interventions.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("unit", sa.String(12), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("baseline_value", sa.Float, nullable=False),
        sa.Column("baseline_date", sa.Date, nullable=False),
        sa.Column("end_target", sa.Float, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("period_rule", sa.String(12), nullable=False),
        sa.Column("disaggregation", sa.JSON, nullable=False),
        sa.Column("data_source", sa.Text, nullable=False),
        sa.Column("frequency", sa.String(12), nullable=False),
        sa.Column("responsible", sa.Text, nullable=False),
        sa.Column("link_indicator", sa.String(80)),
        sa.Column("link_selection", sa.JSON),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_me_indicators_intervention", "me_indicators", ["intervention_id"])
    op.create_table(
        "me_milestones",
        sa.Column("indicator_id", sa.String(40), sa.ForeignKey("me_indicators.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("due", sa.Date, primary_key=True),
        sa.Column("target", sa.Float, nullable=False),
    )
    op.create_table(
        "me_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("indicator_id", sa.String(40), sa.ForeignKey("me_indicators.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("numerator", sa.Float),
        sa.Column("denominator", sa.Float),
        sa.Column("breakdown", sa.JSON, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("justification", sa.Text, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("acted_by", sa.String(200), nullable=False),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ux_me_reports_period", "me_reports", ["indicator_id", "period_start", "period_end"],
                    unique=True)
    op.create_table(
        "me_target_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("indicator_id", sa.String(40), sa.ForeignKey("me_indicators.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old", sa.JSON),
        sa.Column("new", sa.JSON),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_me_target_changes_indicator", "me_target_changes", ["indicator_id"])
    op.create_table(
        "me_stages",
        sa.Column("country", sa.String(3), primary_key=True),
        sa.Column("stage", sa.String(30), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("me_stages")
    op.drop_table("me_target_changes")
    op.drop_table("me_reports")
    op.drop_table("me_milestones")
    op.drop_table("me_indicators")
    op.drop_table("me_interventions")
