"""Reading and writing the joint M&E framework in the store, each write in one transaction.

Every write is also appended to the store's audit trail (who, when, old and new values, reason).
Changes to a baseline or a target need a reason; each is kept in ``me_target_changes`` with the old
and the new value. Progress reports go through draft → submitted → approved, or back (returned)
with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from mmicd.auth import Action, User, require
from mmicd.issues import IssuesError
from mmicd.me.model import (
    BreakdownValue,
    CatalogueLink,
    Indicator,
    Intervention,
    Milestone,
    Report,
    ReportState,
    StageRecord,
    TargetChange,
    check_report,
)
from mmicd.me.schema import (
    me_indicators,
    me_interventions,
    me_milestones,
    me_reports,
    me_stages,
    me_target_changes,
)
from mmicd.store import Store, StoreError, record_audit

# Allowed report state changes (the approval cycle).
TRANSITIONS: dict[ReportState, frozenset[ReportState]] = {
    ReportState.DRAFT: frozenset({ReportState.SUBMITTED}),
    ReportState.SUBMITTED: frozenset({ReportState.APPROVED, ReportState.RETURNED}),
    ReportState.RETURNED: frozenset({ReportState.SUBMITTED, ReportState.DRAFT}),
    ReportState.APPROVED: frozenset(),
}
TARGET_FIELDS = ("baseline_value", "baseline_date", "end_target", "end_date")
STAGE_FIELDS = ("status", "start_date", "end_date", "evidence", "note")


class MeError(StoreError):
    """An M&E write that cannot be done; ``key`` is a translation key, ``fields`` fill it."""

    def __init__(self, key: str, message: str, **fields: object):
        self.key, self.fields = key, fields
        super().__init__(message)


@dataclass
class Portfolio:
    """Everything of the M&E framework (of one country, or all)."""

    interventions: list[Intervention] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    changes: list[TargetChange] = field(default_factory=list)
    stages: list[StageRecord] = field(default_factory=list)
    # indicator id -> actuals from the published statistics (linked indicators; mmicd.me.linked)
    statistics: dict[str, list] = field(default_factory=dict)

    def intervention(self, intervention_id: str) -> Intervention | None:
        return next((i for i in self.interventions if i.id == intervention_id), None)

    def indicator(self, indicator_id: str) -> Indicator | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)

    def indicators_of(self, intervention_id: str) -> list[Indicator]:
        return sorted((i for i in self.indicators if i.intervention_id == intervention_id),
                      key=lambda i: (i.position, i.id))

    def reports_of(self, indicator_id: str) -> list[Report]:
        return sorted((r for r in self.reports if r.indicator_id == indicator_id),
                      key=lambda r: (r.period_end, r.period_start))


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


# ---- reading ----------------------------------------------------------------------------------
def is_empty(store: Store) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(me_interventions)).scalar_one() == 0


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # SQLite returns naive datetimes (stored in UTC)
    return value


def _intervention(row) -> Intervention:
    m = row._mapping
    return Intervention(
        id=m["id"], country=m["country"], title=m["title"], description=m["description"], sector=m["sector"],
        lead=m["lead"], partners=list(m["partners"] or []), funders=list(m["funders"] or []),
        ndp_goal=m["ndp_goal"], sdg_targets=list(m["sdg_targets"] or []), gmg_stage=m["gmg_stage"],
        geographic_scope=m["geographic_scope"], scope_areas=list(m["scope_areas"] or []), lead_type=m["lead_type"],
        partner_types=list(m["partner_types"] or []), start=_as_date(m["start_date"]), end=_as_date(m["end_date"]),
        actual_start=_as_date(m["actual_start"]), actual_end=_as_date(m["actual_end"]),
        budget_planned=m["budget_planned"], budget_disbursed=m["budget_disbursed"], currency=m["currency"],
        status=m["status"], illustrative=bool(m["illustrative"]), language=m["language"],
    )


def _indicator(row, milestones: list[Milestone]) -> Indicator:
    m = row._mapping
    link = CatalogueLink(indicator=m["link_indicator"], selection=dict(m["link_selection"] or {})) \
        if m["link_indicator"] else None
    return Indicator(
        id=m["id"], intervention_id=m["intervention_id"], position=m["position"], name=m["name"],
        level=m["level"], unit=m["unit"], direction=m["direction"], baseline_value=m["baseline_value"],
        baseline_date=_as_date(m["baseline_date"]), end_target=m["end_target"], end_date=_as_date(m["end_date"]),
        milestones=milestones, period_rule=m["period_rule"], disaggregation=list(m["disaggregation"] or []),
        data_source=m["data_source"], frequency=m["frequency"], responsible=m["responsible"], link=link,
    )


def _report(row) -> Report:
    m = row._mapping
    return Report(
        id=m["id"], indicator_id=m["indicator_id"], period_start=_as_date(m["period_start"]),
        period_end=_as_date(m["period_end"]), value=m["value"], numerator=m["numerator"],
        denominator=m["denominator"], breakdown=[BreakdownValue(**b) for b in (m["breakdown"] or [])],
        comment=m["comment"], evidence=m["evidence"], justification=m["justification"], state=m["state"],
        acted_by=m["acted_by"], acted_at=_aware(m["acted_at"]), note=m["note"],
    )


def load_portfolio(store: Store, country: str | None = None) -> Portfolio:
    """The interventions (of ``country``, or all) with their indicators, reports, changes and stages."""
    with store.engine.connect() as conn:
        query = select(me_interventions).order_by(me_interventions.c.id)
        if country:
            query = query.where(me_interventions.c.country == country)
        interventions = [_intervention(r) for r in conn.execute(query)]
        ids = [i.id for i in interventions]
        rows = conn.execute(select(me_indicators).where(me_indicators.c.intervention_id.in_(ids))
                            .order_by(me_indicators.c.intervention_id, me_indicators.c.position,
                                      me_indicators.c.id)).all()
        indicator_ids = [r.id for r in rows]
        milestones: dict[str, list[Milestone]] = {}
        for m in conn.execute(select(me_milestones).where(me_milestones.c.indicator_id.in_(indicator_ids))
                              .order_by(me_milestones.c.due)):
            milestones.setdefault(m.indicator_id, []).append(Milestone(due=_as_date(m.due), target=m.target))
        indicators = [_indicator(r, milestones.get(r.id, [])) for r in rows]
        reports = [_report(r) for r in conn.execute(
            select(me_reports).where(me_reports.c.indicator_id.in_(indicator_ids))
            .order_by(me_reports.c.indicator_id, me_reports.c.period_end, me_reports.c.id))]
        changes = [TargetChange(indicator_id=r.indicator_id, field=r.field, old=r.old, new=r.new, reason=r.reason,
                                actor=r.actor, at=_aware(r.at))
                   for r in conn.execute(select(me_target_changes)
                                         .where(me_target_changes.c.indicator_id.in_(indicator_ids))
                                         .order_by(me_target_changes.c.id))]
        query = select(me_stages).order_by(me_stages.c.country, me_stages.c.stage)
        if country:
            query = query.where(me_stages.c.country == country)
        stages = [StageRecord(country=r.country, stage=r.stage, status=r.status, start=_as_date(r.start_date),
                              end=_as_date(r.end_date), evidence=r.evidence, note=r.note)
                  for r in conn.execute(query)]
    return Portfolio(interventions, indicators, reports, changes, stages)


# ---- writing inside a transaction (used by the public functions, the demo and the importer) ----
def _intervention_values(iv: Intervention) -> dict:
    data = iv.model_dump(mode="python")
    data["start_date"], data["end_date"] = data.pop("start"), data.pop("end")
    for key in ("gmg_stage", "status", "lead_type"):
        data[key] = str(data[key])
    data["partner_types"] = [str(p) for p in data["partner_types"]]
    return data


def write_intervention(conn: Connection, iv: Intervention, actor: str, reason: str = "") -> None:
    """Insert or update an intervention (its country never changes: another country's intervention
    cannot be taken over by reusing its id)."""
    values = _intervention_values(iv)
    old = conn.execute(select(me_interventions).where(me_interventions.c.id == iv.id)).first()
    stamp = {"updated_at": _now(), "updated_by": actor}
    if old is None:
        conn.execute(insert(me_interventions).values(**values, **stamp))
        record_audit(conn, actor=actor, action="me:intervention_created", entity_type="intervention",
                     entity_id=iv.id, new=_json(values), reason=reason.strip())
        return
    if old.country != iv.country:
        raise MeError("forms.error.id_taken", f"intervention {iv.id} belongs to {old.country}", id=iv.id,
                      country=old.country)
    before = {k: old._mapping[k] for k in values}
    changed = {k: v for k, v in values.items() if before[k] != v}
    if changed:
        conn.execute(update(me_interventions).where(me_interventions.c.id == iv.id).values(**changed, **stamp))
        record_audit(conn, actor=actor, action="me:intervention_updated", entity_type="intervention",
                     entity_id=iv.id, old=_json({k: before[k] for k in changed}), new=_json(changed),
                     reason=reason.strip())


def _json(values: dict) -> dict:
    return {k: _iso(v) for k, v in values.items()}


def _indicator_values(ind: Indicator) -> dict:
    return {
        "intervention_id": ind.intervention_id, "position": ind.position, "name": ind.name,
        "level": str(ind.level), "unit": str(ind.unit), "direction": str(ind.direction),
        "baseline_value": ind.baseline_value, "baseline_date": ind.baseline_date, "end_target": ind.end_target,
        "end_date": ind.end_date, "period_rule": str(ind.period_rule), "disaggregation": list(ind.disaggregation),
        "data_source": ind.data_source, "frequency": str(ind.frequency), "responsible": ind.responsible,
        "link_indicator": ind.link.indicator if ind.link else None,
        "link_selection": dict(ind.link.selection) if ind.link else None,
    }


def target_differences(old: Indicator, new: Indicator) -> list[tuple[str, object, object]]:
    """(field, old, new) for every baseline, end-target or milestone change between two versions."""
    diffs = [(f, _iso(getattr(old, f)), _iso(getattr(new, f))) for f in TARGET_FIELDS
             if getattr(old, f) != getattr(new, f)]
    before = {m.due: m.target for m in old.milestones}
    after = {m.due: m.target for m in new.milestones}
    for due in sorted(set(before) | set(after)):
        if before.get(due) != after.get(due):
            diffs.append((f"milestone:{due.isoformat()}", before.get(due), after.get(due)))
    return diffs


def write_indicator(conn: Connection, ind: Indicator, actor: str, reason: str = "") -> list[tuple]:
    """Insert or update an indicator with its milestones; a changed baseline or target needs ``reason``.

    Returns the target changes recorded.
    """
    if conn.execute(select(me_interventions.c.id).where(me_interventions.c.id == ind.intervention_id)).first() is None:
        raise MeError("me.error.unknown_intervention", f"no intervention '{ind.intervention_id}'",
                      id=ind.intervention_id)
    values = _indicator_values(ind)
    stamp = {"updated_at": _now(), "updated_by": actor}
    row = conn.execute(select(me_indicators).where(me_indicators.c.id == ind.id)).first()
    if row is None:
        conn.execute(insert(me_indicators).values(id=ind.id, **values, **stamp))
        _write_milestones(conn, ind)
        record_audit(conn, actor=actor, action="me:indicator_created", entity_type="indicator", entity_id=ind.id,
                     new=_json(values) | {"milestones": [[m.due.isoformat(), m.target] for m in ind.milestones]})
        return []
    milestones = [Milestone(due=_as_date(m.due), target=m.target) for m in
                  conn.execute(select(me_milestones).where(me_milestones.c.indicator_id == ind.id))]
    old = _indicator(row, milestones)
    diffs = target_differences(old, ind)
    if diffs and not reason.strip():
        raise MeError("me.error.reason_required", f"indicator {ind.id}: a change of baseline or target needs a reason",
                      id=ind.id)
    before = _indicator_values(old)
    changed = {k: v for k, v in values.items() if before[k] != v}
    if changed:
        conn.execute(update(me_indicators).where(me_indicators.c.id == ind.id).values(**changed, **stamp))
        record_audit(conn, actor=actor, action="me:indicator_updated", entity_type="indicator", entity_id=ind.id,
                     old=_json({k: before[k] for k in changed}), new=_json(changed), reason=reason.strip())
    if any(f.startswith("milestone:") for f, _, _ in diffs):
        _write_milestones(conn, ind)
    now = _now()
    for name, old_value, new_value in diffs:
        conn.execute(insert(me_target_changes).values(indicator_id=ind.id, field=name, old=old_value,
                                                      new=new_value, reason=reason.strip(), actor=actor, at=now))
        record_audit(conn, actor=actor, action="me:target_changed", entity_type="indicator", entity_id=ind.id,
                     old={name: old_value}, new={name: new_value}, reason=reason.strip())
    return diffs


def _write_milestones(conn: Connection, ind: Indicator) -> None:
    conn.execute(delete(me_milestones).where(me_milestones.c.indicator_id == ind.id))
    if ind.milestones:
        conn.execute(insert(me_milestones), [{"indicator_id": ind.id, "due": m.due, "target": m.target}
                                             for m in ind.milestones])


def _report_values(report: Report) -> dict:
    return {
        "indicator_id": report.indicator_id, "period_start": report.period_start, "period_end": report.period_end,
        "value": report.value, "numerator": report.numerator, "denominator": report.denominator,
        "breakdown": [b.model_dump() for b in report.breakdown], "comment": report.comment,
        "evidence": report.evidence, "justification": report.justification, "state": str(report.state),
        "note": report.note,
    }


def write_report(conn: Connection, report: Report, actor: str, *, lang: str = "en",
                 acted_at: datetime | None = None, acted_by: str | None = None) -> int:
    """Insert or replace the report of an indicator for a period (refused while approved). Returns its id.

    ``actor`` is who writes (audit trail); ``acted_by``/``acted_at`` (default: the actor, now) are stored
    as who last acted on the report, e.g. the reviewer named in an imported workbook.
    """
    row = conn.execute(select(me_indicators).where(me_indicators.c.id == report.indicator_id)).first()
    if row is None:
        raise MeError("me.error.unknown_indicator", f"no indicator '{report.indicator_id}'", id=report.indicator_id)
    errors = [i for i in check_report(report, _indicator(row, []), lang=lang) if i.level == "error"]
    if errors:
        raise IssuesError(errors)
    values = _report_values(report) | {"acted_by": acted_by or actor, "acted_at": acted_at or _now()}
    existing = conn.execute(select(me_reports).where(
        me_reports.c.indicator_id == report.indicator_id, me_reports.c.period_start == report.period_start,
        me_reports.c.period_end == report.period_end)).first()
    if existing is None:
        report_id = conn.execute(insert(me_reports).values(**values)).inserted_primary_key[0]
        record_audit(conn, actor=actor, action="me:report_recorded", entity_type="report", entity_id=report_id,
                     new=_json({k: v for k, v in values.items() if k != "acted_at"}))
        return report_id
    if existing.state == ReportState.APPROVED and values["state"] == ReportState.APPROVED and \
            _same_report(existing, values):
        return existing.id  # re-importing an unchanged approved report
    if existing.state == ReportState.APPROVED:
        raise MeError("me.error.report_approved", f"the report of {report.indicator_id} for "
                      f"{report.period_start}–{report.period_end} is approved and cannot be replaced",
                      id=report.indicator_id)
    conn.execute(update(me_reports).where(me_reports.c.id == existing.id).values(**values))
    record_audit(conn, actor=actor, action="me:report_updated", entity_type="report", entity_id=existing.id,
                 old={"state": existing.state, "value": existing.value, "numerator": existing.numerator,
                      "denominator": existing.denominator},
                 new=_json({k: v for k, v in values.items() if k != "acted_at"}))
    return existing.id


def _same_report(row, values: dict) -> bool:
    return all(row._mapping[k] == v for k, v in values.items() if k not in ("acted_by", "acted_at"))


def write_stage(conn: Connection, stage: StageRecord, actor: str, reason: str = "") -> None:
    values = {"status": str(stage.status), "start_date": stage.start, "end_date": stage.end,
              "evidence": stage.evidence, "note": stage.note, "updated_at": _now(), "updated_by": actor}
    where = (me_stages.c.country == stage.country, me_stages.c.stage == str(stage.stage))
    old = conn.execute(select(me_stages).where(*where)).first()
    if old is None:
        conn.execute(insert(me_stages).values(country=stage.country, stage=str(stage.stage), **values))
    else:
        conn.execute(update(me_stages).where(*where).values(**values))
    record_audit(conn, actor=actor, action="me:stage_saved", entity_type="gmg_stage",
                 entity_id=f"{stage.country}:{stage.stage}",
                 old=None if old is None else _json({k: old._mapping[k] for k in STAGE_FIELDS}),
                 new=_json({k: values[k] for k in STAGE_FIELDS}), reason=reason.strip())


# ---- public functions: the role checked on the server, then one transaction each ---------------
# Each checks the acting user's permission with :func:`mmicd.auth.require` before touching the store,
# so a refused call (:class:`mmicd.auth.PermissionDenied`) leaves everything unchanged, whatever the
# page offered. Editing interventions, indicators, targets and stages is the reviewers' (task force)
# job (``EDIT_TARGETS``); recording and submitting reports needs ``REPORT_PROGRESS`` for the country
# of the intervention; approving or returning a report needs ``REVIEW``.
def _country_of_indicator(store: Store, indicator_id: str) -> str | None:
    with store.engine.connect() as conn:
        return conn.execute(select(me_interventions.c.country).join(
            me_indicators, me_indicators.c.intervention_id == me_interventions.c.id)
            .where(me_indicators.c.id == indicator_id)).scalar_one_or_none()


def _refuse_existing(conn: Connection, table, entity_id: str, key: str) -> None:
    if conn.execute(select(table.c.id).where(table.c.id == entity_id)).first() is not None:
        raise MeError(key, f"{entity_id} exists already", id=entity_id)


def save_intervention(store: Store, iv: Intervention, *, user: User, reason: str = "", create: bool = False) -> None:
    """Create or update an intervention (reviewers of its country); ``reason`` goes to the audit trail;
    ``create``: refused if the id is taken."""
    require(user, Action.EDIT_TARGETS, iv.country)
    with store.engine.begin() as conn:
        if create:
            _refuse_existing(conn, me_interventions, iv.id, "forms.error.iv_exists")
        write_intervention(conn, iv, user.label, reason)


def save_indicator(store: Store, ind: Indicator, *, user: User, reason: str = "", create: bool = False) -> list[tuple]:
    """Create or update an indicator; changing its baseline or targets needs ``reason`` (kept with old/new).

    The user needs ``EDIT_TARGETS`` for the country of the intervention it belongs to (and, when it is
    moved, of the one it belonged to)."""
    with store.engine.connect() as conn:
        target = conn.execute(select(me_interventions.c.country)
                              .where(me_interventions.c.id == ind.intervention_id)).scalar_one_or_none()
    for country in {target, _country_of_indicator(store, ind.id)}:
        require(user, Action.EDIT_TARGETS, country)
    with store.engine.begin() as conn:
        if create:
            _refuse_existing(conn, me_indicators, ind.id, "forms.error.ind_exists")
        return write_indicator(conn, ind, user.label, reason)


def change_targets(store: Store, indicator_id: str, *, user: User, reason: str, **changes: object) -> list[tuple]:
    """Change baseline/end target/dates (keyword arguments) or ``milestones`` of an indicator, with a reason."""
    require(user, Action.EDIT_TARGETS, _country_of_indicator(store, indicator_id))
    portfolio = load_portfolio(store)
    current = portfolio.indicator(indicator_id)
    if current is None:
        raise MeError("me.error.unknown_indicator", f"no indicator '{indicator_id}'", id=indicator_id)
    changed = Indicator.model_validate(current.model_dump() | changes)
    return save_indicator(store, changed, user=user, reason=reason)


def record_report(store: Store, report: Report, *, user: User, lang: str = "en") -> int:
    """Record (or replace, while not approved) a progress report as draft or submitted; returns its id.

    Raises :class:`IssuesError` when the breakdown does not add up without a justification.
    """
    require(user, Action.REPORT_PROGRESS, _country_of_indicator(store, report.indicator_id))
    if report.state not in (ReportState.DRAFT, ReportState.SUBMITTED):
        raise MeError("me.error.new_report_state", "a new report is a draft or submitted", id=report.indicator_id)
    with store.engine.begin() as conn:
        return write_report(conn, report, user.label, lang=lang)


def _report_country(conn: Connection, report_id: int) -> str | None:
    return conn.execute(select(me_interventions.c.country)
                        .join(me_indicators, me_indicators.c.intervention_id == me_interventions.c.id)
                        .join(me_reports, me_reports.c.indicator_id == me_indicators.c.id)
                        .where(me_reports.c.id == report_id)).scalar_one_or_none()


def set_report_state(store: Store, report_id: int, state: ReportState | str, *, user: User, note: str = "") -> Report:
    """Submit, approve, or return (with a note) a report; who acted and when are stored and audited.

    Submitting (or taking a returned report back to draft) needs ``REPORT_PROGRESS`` for the
    intervention's country; approving or returning needs ``REVIEW``.
    """
    state = ReportState(state)
    action = Action.REVIEW if state in (ReportState.APPROVED, ReportState.RETURNED) else Action.REPORT_PROGRESS
    with store.engine.begin() as conn:
        require(user, action, _report_country(conn, report_id))
        row = conn.execute(select(me_reports).where(me_reports.c.id == report_id)).first()
        if row is None:
            raise MeError("me.error.unknown_report", f"no report {report_id}", id=report_id)
        old = ReportState(row.state)
        if state not in TRANSITIONS[old]:
            raise MeError("me.error.transition", f"a {old.value} report cannot become {state.value}",
                          old=old.value, new=state.value)
        if state == ReportState.RETURNED and not note.strip():
            raise MeError("me.error.note_required", "returning a report needs a note", id=report_id)
        conn.execute(update(me_reports).where(me_reports.c.id == report_id)
                     .values(state=state.value, acted_by=user.label, acted_at=_now(), note=note.strip()))
        record_audit(conn, actor=user.label, action=f"me:report_{state.value}", entity_type="report",
                     entity_id=report_id, old={"state": old.value}, new={"state": state.value}, reason=note.strip())
        return _report(conn.execute(select(me_reports).where(me_reports.c.id == report_id)).one())


def save_stage(store: Store, stage: StageRecord, *, user: User, reason: str = "") -> None:
    """Record where the country stands in one stage of the GMG cycle, with its evidence (reviewers)."""
    require(user, Action.EDIT_TARGETS, stage.country)
    with store.engine.begin() as conn:
        write_stage(conn, stage, user.label, reason)
