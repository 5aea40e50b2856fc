"""Tables of the joint M&E framework, on the store's own ``MetaData`` (created by migration 0002).

Interventions, their indicators and milestones, progress reports (one per indicator and reporting
period, with the breakdown as JSON and the approval state), the history of baseline and target
changes (old and new value, reason, who, when), and the GMG mainstreaming stages of each country.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from mmicd.store.schema import metadata

me_interventions = Table(
    "me_interventions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("country", String(3), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("sector", String(40), nullable=False),
    Column("lead", Text, nullable=False),
    Column("partners", JSON, nullable=False, default=list),
    Column("funders", JSON, nullable=False, default=list),
    Column("ndp_goal", Text, nullable=False, default=""),
    Column("sdg_targets", JSON, nullable=False, default=list),
    Column("gmg_stage", String(30), nullable=False),
    Column("geographic_scope", Text, nullable=False, default=""),
    Column("scope_areas", JSON, nullable=False, default=list),  # subdivision codes, or the country (national)
    Column("lead_type", String(30), nullable=False, default="government"),  # OrgType of the lead institution
    Column("partner_types", JSON, nullable=False, default=list),  # OrgType of each partner, in their order
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("actual_start", Date),  # actual dates, when recorded (0013)
    Column("actual_end", Date),
    Column("budget_planned", Float, nullable=False),
    Column("budget_disbursed", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("illustrative", Boolean, nullable=False, default=False),
    Column("language", String(2), nullable=False, default="en", server_default="en"),  # ISO 639-1 (0008)
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
    Index("ix_me_interventions_country", "country"),
)

me_indicators = Table(
    "me_indicators",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("intervention_id", String(40), ForeignKey("me_interventions.id", ondelete="RESTRICT"), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("name", Text, nullable=False),
    Column("level", String(10), nullable=False),
    Column("unit", String(12), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("baseline_value", Float, nullable=False),
    Column("baseline_date", Date, nullable=False),
    Column("end_target", Float, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("period_rule", String(12), nullable=False),
    Column("disaggregation", JSON, nullable=False, default=list),
    Column("data_source", Text, nullable=False, default=""),
    Column("frequency", String(12), nullable=False),
    Column("responsible", Text, nullable=False, default=""),
    Column("link_indicator", String(80)),
    Column("link_selection", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
    Index("ix_me_indicators_intervention", "intervention_id"),
)

me_milestones = Table(
    "me_milestones",
    metadata,
    Column("indicator_id", String(40), ForeignKey("me_indicators.id", ondelete="CASCADE"), primary_key=True),
    Column("due", Date, primary_key=True),
    Column("target", Float, nullable=False),
)

me_reports = Table(
    "me_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("indicator_id", String(40), ForeignKey("me_indicators.id", ondelete="RESTRICT"), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("value", Float),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("breakdown", JSON, nullable=False, default=list),
    Column("comment", Text, nullable=False, default=""),
    Column("evidence", Text, nullable=False, default=""),
    Column("justification", Text, nullable=False, default=""),
    Column("state", String(12), nullable=False),
    Column("acted_by", String(200), nullable=False),
    Column("acted_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Index("ux_me_reports_period", "indicator_id", "period_start", "period_end", unique=True),
)

me_target_changes = Table(
    "me_target_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("indicator_id", String(40), ForeignKey("me_indicators.id", ondelete="RESTRICT"), nullable=False),
    Column("field", String(40), nullable=False),
    Column("old", JSON),
    Column("new", JSON),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_me_target_changes_indicator", "indicator_id"),
)

me_stages = Table(
    "me_stages",
    metadata,
    Column("country", String(3), primary_key=True),
    Column("stage", String(30), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("evidence", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
)
