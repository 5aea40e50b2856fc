"""What changes the M&E framework from the Interventions page: the Excel import, the review of reports,
and the forms to enter a progress report, edit an intervention and change a baseline or target.

Every write goes through :mod:`mmicd.me.repository` (or the importer), which checks the user's role on
the server and validates exactly as the Excel path does; the forms only show what the user may do and
translate what comes back.
"""

from __future__ import annotations

from datetime import date

import streamlit as st
from pydantic import ValidationError

from mmicd.auth import Action, PermissionDenied, User, can
from mmicd.i18n import format_number, format_period
from mmicd.issues import IssuesError
from mmicd.me.config import me_config
from mmicd.me.model import (
    FREQUENCY_MONTHS,
    BreakdownValue,
    GmgStage,
    Indicator,
    Intervention,
    InterventionStatus,
    Milestone,
    OrgType,
    Report,
    ReportState,
    Unit,
    sector_codes,
    sector_name,
)
from mmicd.me.progress import add_months, format_date, reporting_periods
from mmicd.me.repository import (
    MeError,
    Portfolio,
    change_targets,
    record_report,
    save_intervention,
    set_report_state,
)
from mmicd.store import Store
from mmicd.ui import current_lang, tr
from mmicd.ui.components import plain
from mmicd.ui.me_common import issues_frame, today, wide_columns
from mmicd.ui.me_local import area_label, area_options

FLASH = "_me_forms_flash"


def flash() -> None:
    """The outcome of the last write, shown once after the rerun that follows it."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message)


def _done(message: str) -> None:
    st.session_state[FLASH] = message
    st.rerun()


def _refused(err: Exception) -> None:
    """A refused write, in the user's language (never a traceback)."""
    if isinstance(err, PermissionDenied):
        st.error(tr("auth.error.forbidden"))
    elif isinstance(err, MeError):
        st.error(tr(err.key, **{k: plain(v) for k, v in err.fields.items()}))
    elif isinstance(err, IssuesError):
        for issue in err.issues:
            st.error(plain(issue.message))
    elif isinstance(err, ValidationError):
        for e in err.errors():
            field = ".".join(str(x) for x in e.get("loc", ()))
            text = tr("me.xl.issue.invalid", detail=e.get("msg", ""))
            st.error(plain(f"{field}: {text}" if field else text))


def importer(store: Store, user: User) -> None:
    """Upload a filled template: dry run with every problem listed, then store it in one transaction."""
    from mmicd.me.workbook_read import import_workbook

    if not can(user, Action.EDIT_TARGETS):
        st.caption(tr("me.import.need_role"))
        return
    upload = st.file_uploader(tr("me.import.upload"), type=["xlsx"], key="me_import_file")
    if upload is None:
        return
    data = upload.getvalue()
    lang = current_lang()
    check = import_workbook(store, data, user=user, lang=lang, file=upload.name, dry_run=True)
    errors = [i for i in check.issues if i.level == "error"]
    st.markdown(tr("me.import.counts", **{k: format_number(v, lang) for k, v in check.counts.items()}))
    if check.issues:
        st.dataframe(issues_frame(check.issues), hide_index=True, width="stretch",
                     column_config=wide_columns(issues_frame(check.issues[:1]), "me.issue.message"))
    if errors:
        st.error(tr("me.import.refused", n=format_number(len(errors), lang)))
        return
    if st.button(tr("me.import.store"), type="primary", key="me_import_store"):
        try:
            done = import_workbook(store, data, user=user, lang=lang, file=upload.name, dry_run=False)
        except PermissionDenied as err:
            _refused(err)
            return
        if done.stored:
            st.success(tr("me.import.stored"))
        else:
            st.error(tr("me.import.refused", n=format_number(len(done.issues), lang)))
            st.dataframe(issues_frame(done.issues), hide_index=True, width="stretch")


def review_reports(store: Store, p: Portfolio, intervention_id: str, user: User) -> None:
    """Reviewers approve submitted reports of the intervention, or return them with a note."""
    flash_key = st.session_state.pop("_me_review_flash", None)
    if flash_key:
        st.success(tr(flash_key))
    pending = [r for ind in p.indicators_of(intervention_id) for r in p.reports_of(ind.id)
               if r.state == "submitted"]
    if not pending:
        return
    st.markdown(f"**{tr('me.review.title')}**")
    if not can(user, Action.REVIEW):
        st.caption(tr("me.review.need_role", n=len(pending)))
        return
    lang = current_lang()
    names = {i.id: i.name for i in p.indicators}
    chosen = st.selectbox(tr("me.review.report"), [r.id for r in pending], key="me_review_report",
                          format_func=lambda rid: next(f"{names[r.indicator_id]} · "
                                                       f"{format_period(r.period_start, r.period_end, lang)}"
                                                       for r in pending if r.id == rid))
    note = st.text_input(tr("me.review.note"), key="me_review_note")
    left, right, _ = st.columns([1, 1, 3])
    approve = left.button(tr("me.review.approve"), type="primary", key="me_review_approve")
    send_back = right.button(tr("me.review.return"), key="me_review_return")
    if approve or send_back:
        if send_back and not note.strip():
            st.error(tr("me.error.note_required", id=plain(chosen)))
            return
        try:
            set_report_state(store, chosen, "approved" if approve else "returned", user=user, note=note)
        except (MeError, PermissionDenied) as err:
            _refused(err)
            return
        st.session_state["_me_review_flash"] = "me.review.done_approved" if approve else "me.review.done_returned"
        st.rerun()  # the statuses above now count the approved report


# ---- progress report ---------------------------------------------------------------------------
def open_periods(ind: Indicator, iv: Intervention, as_of: date) -> list[tuple[date, date]]:
    """The reporting periods one may report on: by the indicator's frequency, from its baseline (or the
    intervention's start) to its end, the ended ones and the one running at ``as_of``."""
    step = FREQUENCY_MONTHS[ind.frequency]
    start = max(ind.baseline_date, iv.start)
    end = min(ind.end_date, iv.end)
    periods = reporting_periods(ind.frequency, start, end)
    horizon = add_months(as_of, step)
    return [(a, b) for a, b in periods if a <= as_of and b <= horizon]


def _parts(label_key: str, groups: list[tuple[str, str]], pct: bool, key: str) -> dict[str, tuple]:
    """Number inputs for the parts of a breakdown; blank when not given."""
    st.markdown(f"**{tr(label_key)}**")
    out = {}
    cols = st.columns(len(groups))
    for col, (code, label) in zip(cols, groups, strict=True):
        if pct:
            num = col.number_input(tr("me.form.numerator_of", group=label), min_value=0.0, value=None,
                                   key=f"{key}_{code}_num")
            den = col.number_input(tr("me.form.denominator_of", group=label), min_value=0.0, value=None,
                                   key=f"{key}_{code}_den")
            out[code] = (num, den)
        else:
            out[code] = (col.number_input(label, min_value=0.0, value=None, key=f"{key}_{code}"),)
    return out


def _breakdown(parts: dict[str, tuple], dim: str, pct: bool) -> list[BreakdownValue]:
    """The parts given (a part with nothing entered is left out; partly entered, it is kept and
    the check names it)."""
    out = []
    for code, values in parts.items():
        if all(v is None for v in values):
            continue
        fields = {"numerator": values[0], "denominator": values[1]} if pct else {"value": values[0]}
        out.append(BreakdownValue(sex=code if dim == "sex" else "_T", age=code if dim == "age" else "_T", **fields))
    return out


def report_form(store: Store, p: Portfolio, intervention_id: str, user: User) -> None:
    """Enter a progress report: period, total, the breakdowns the indicator requires, comment, evidence;
    saved as a draft or submitted for review. A breakdown that does not add up is refused with the
    difference shown, unless a justification is given (the same check as the Excel import)."""
    from mmicd import codes

    iv = p.intervention(intervention_id)
    indicators = [i for i in p.indicators_of(intervention_id) if i.link is None]
    st.markdown(f"**{tr('me.form.report.title')}**")
    if not indicators:
        st.caption(tr("me.form.report.none"))
        return
    if not can(user, Action.REPORT_PROGRESS, iv.country):
        st.caption(tr("me.form.report.need_role"))
        return
    lang = current_lang()
    chosen = st.selectbox(tr("me.form.indicator"), [i.id for i in indicators],
                          key=f"me_form_report_indicator_{intervention_id}",
                          format_func=lambda i: p.indicator(i).name)
    ind = p.indicator(chosen)
    periods = open_periods(ind, iv, today())
    if not periods:
        st.caption(tr("me.form.report.no_period"))
        return
    received = {(r.period_start, r.period_end) for r in p.reports_of(ind.id) if r.state in ("submitted", "approved")}
    ended = [k for k, (_, end) in enumerate(periods) if end <= today()]
    missing = [k for k in ended if periods[k] not in received]
    # the latest ended period without a report; else the first one still without a report (the running one)
    open_ = [k for k in range(len(periods)) if periods[k] not in received]
    default = missing[-1] if missing else open_[0] if open_ else len(periods) - 1
    pct = ind.unit == Unit.PERCENTAGE
    with st.form(key=f"me_form_report_{ind.id}"):
        period = st.selectbox(tr("me.form.period"), list(range(len(periods))), index=default,
                              format_func=lambda k: format_period(*periods[k], lang), key=f"me_form_period_{ind.id}")
        st.caption(tr("me.form.unit_percentage") if pct else tr("me.form.unit_number"))
        if pct:
            left, right = st.columns(2)
            numerator = left.number_input(tr("me.form.numerator"), min_value=0.0, value=None, key=f"me_form_num_{ind.id}")
            denominator = right.number_input(tr("me.form.denominator"), min_value=0.0, value=None,
                                             key=f"me_form_den_{ind.id}")
            value = None
        else:
            value = st.number_input(tr("me.form.total"), min_value=0.0, value=None, key=f"me_form_total_{ind.id}")
            numerator = denominator = None
        sex_parts = age_parts = {}
        if "sex" in ind.disaggregation:
            sex_parts = _parts("me.form.by_sex", [(s, codes.label("sex", s, lang)) for s in ("F", "M")], pct,
                               f"me_form_sex_{ind.id}")
        if "age" in ind.disaggregation:
            age_parts = _parts("me.form.by_age", [(a, codes.label("age", a, lang)) for a in me_config().age_groups],
                               pct, f"me_form_age_{ind.id}")
        comment = st.text_area(tr("me.form.comment"), key=f"me_form_comment_{ind.id}", height=80)
        evidence = st.text_input(tr("me.form.evidence"), key=f"me_form_evidence_{ind.id}", placeholder="https://…")
        justification = st.text_input(tr("me.form.justification"), key=f"me_form_justification_{ind.id}",
                                      help=tr("me.form.justification_help"))
        left, right, _ = st.columns([1, 1, 3])
        draft = left.form_submit_button(tr("me.form.save_draft"), key=f"me_form_draft_{ind.id}")
        submit = right.form_submit_button(tr("me.form.submit"), type="primary", key=f"me_form_submit_{ind.id}")
    if not (draft or submit):
        return
    start, end = periods[period]
    try:
        report = Report(indicator_id=ind.id, period_start=start, period_end=end, value=value, numerator=numerator,
                        denominator=denominator,
                        breakdown=_breakdown(sex_parts, "sex", pct) + _breakdown(age_parts, "age", pct),
                        comment=comment.strip(), evidence=evidence.strip(), justification=justification.strip(),
                        state=ReportState.SUBMITTED if submit else ReportState.DRAFT)
        record_report(store, report, user=user, lang=lang)
    except (IssuesError, MeError, PermissionDenied, ValidationError) as err:
        _refused(err)
        return
    _done(tr("me.form.report.submitted" if submit else "me.form.report.saved",
             period=format_period(start, end, lang)))


# ---- intervention -------------------------------------------------------------------------------
def _list(text: str) -> list[str]:
    return [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]


def intervention_form(store: Store, iv: Intervention, user: User) -> None:
    """Edit an intervention's fields (reviewers), validated as the Excel import validates them."""
    if not can(user, Action.EDIT_TARGETS, iv.country):
        return
    lang = current_lang()
    sectors = sorted(sector_codes())
    statuses = [s.value for s in InterventionStatus]
    stages = [s.value for s in GmgStage]
    with st.expander(tr("me.form.iv.title")), st.form(key=f"me_form_iv_{iv.id}"):
        title = st.text_input(tr("me.xl.col.title"), iv.title, key=f"me_form_iv_title_{iv.id}")
        description = st.text_area(tr("me.xl.col.description"), iv.description, key=f"me_form_iv_description_{iv.id}")
        left, right = st.columns(2)
        sector = left.selectbox(tr("me.filter.sector"), sectors, index=sectors.index(iv.sector),
                                format_func=lambda c: sector_name(c, lang), key=f"me_form_iv_sector_{iv.id}")
        status = right.selectbox(tr("me.col.iv_status"), statuses, index=statuses.index(str(iv.status)),
                                 format_func=lambda s: tr(f"me.iv_status.{s}"), key=f"me_form_iv_status_{iv.id}")
        lead = left.text_input(tr("me.col.lead"), iv.lead, key=f"me_form_iv_lead_{iv.id}")
        stage = right.selectbox(tr("me.xl.col.gmg_stage"), stages, index=stages.index(str(iv.gmg_stage)),
                                format_func=lambda s: tr(f"me.stage.{s}"), key=f"me_form_iv_stage_{iv.id}")
        partners = left.text_input(tr("me.xl.col.partners"), "; ".join(iv.partners), key=f"me_form_iv_partners_{iv.id}")
        funders = right.text_input(tr("me.xl.col.funders"), "; ".join(iv.funders), key=f"me_form_iv_funders_{iv.id}")
        ndp_goal = left.text_input(tr("me.xl.col.ndp_goal"), iv.ndp_goal, key=f"me_form_iv_ndp_{iv.id}")
        sdgs = right.text_input(tr("me.xl.col.sdg_targets"), "; ".join(iv.sdg_targets), key=f"me_form_iv_sdg_{iv.id}")
        scope = left.text_input(tr("me.xl.col.geographic_scope"), iv.geographic_scope, key=f"me_form_iv_scope_{iv.id}")
        areas = right.multiselect(tr("me.xl.col.scope_areas"), area_options(iv.country), default=iv.scope_areas,
                                  format_func=lambda c: area_label(c, lang), key=f"me_form_iv_areas_{iv.id}")
        lead_type = left.selectbox(tr("me.xl.col.lead_type"), list(OrgType), index=list(OrgType).index(iv.lead_type),
                                   format_func=lambda o: tr(f"lmap.org.{o}"), key=f"me_form_iv_lead_type_{iv.id}")
        currency = right.text_input(tr("me.col.currency"), iv.currency, max_chars=3, key=f"me_form_iv_currency_{iv.id}")
        start = left.date_input(tr("me.col.start"), iv.start, key=f"me_form_iv_start_{iv.id}")
        end = right.date_input(tr("me.col.end"), iv.end, key=f"me_form_iv_end_{iv.id}")
        planned = left.number_input(tr("me.budget.planned"), min_value=0.0, value=float(iv.budget_planned),
                                    step=1000.0, key=f"me_form_iv_planned_{iv.id}")
        disbursed = right.number_input(tr("me.budget.disbursed"), min_value=0.0, value=float(iv.budget_disbursed),
                                       step=1000.0, key=f"me_form_iv_disbursed_{iv.id}")
        save = st.form_submit_button(tr("me.form.iv.save"), type="primary", key=f"me_form_iv_save_{iv.id}")
    if not save:
        return
    try:
        changed = Intervention.model_validate(iv.model_dump() | {
            "title": title.strip(), "description": description.strip(), "sector": sector, "status": status,
            "lead": lead.strip(), "gmg_stage": stage, "partners": _list(partners), "funders": _list(funders),
            "ndp_goal": ndp_goal.strip(), "sdg_targets": _list(sdgs), "geographic_scope": scope.strip(),
            "scope_areas": areas, "lead_type": lead_type,
            "partner_types": iv.partner_types if len(_list(partners)) == len(iv.partners) else [],
            "currency": currency.strip().upper(), "start": start, "end": end, "budget_planned": planned,
            "budget_disbursed": disbursed})
        save_intervention(store, changed, user=user)
    except (MeError, PermissionDenied, ValidationError) as err:
        _refused(err)
        return
    _done(tr("me.form.iv.saved", id=plain(iv.id)))


# ---- baseline and targets -----------------------------------------------------------------------
def targets_form(store: Store, p: Portfolio, intervention_id: str, user: User) -> None:
    """Change an indicator's baseline, end target or milestones (reviewers); a reason is required and
    kept with the old and new values."""
    iv = p.intervention(intervention_id)
    indicators = p.indicators_of(intervention_id)
    if not indicators or not can(user, Action.EDIT_TARGETS, iv.country):
        return
    lang = current_lang()
    with st.expander(tr("me.form.targets.title")):
        chosen = st.selectbox(tr("me.form.indicator"), [i.id for i in indicators],
                              key=f"me_form_targets_indicator_{intervention_id}",
                              format_func=lambda i: p.indicator(i).name)
        ind = p.indicator(chosen)
        with st.form(key=f"me_form_targets_{ind.id}"):
            left, right = st.columns(2)
            baseline = left.number_input(tr("me.form.baseline_value"), value=float(ind.baseline_value),
                                         key=f"me_form_t_baseline_{ind.id}")
            baseline_date = right.date_input(tr("me.form.baseline_date"), ind.baseline_date,
                                             key=f"me_form_t_baseline_date_{ind.id}")
            end_target = left.number_input(tr("me.form.end_target"), value=float(ind.end_target),
                                           key=f"me_form_t_end_{ind.id}")
            end_date = right.date_input(tr("me.form.end_date"), ind.end_date, key=f"me_form_t_end_date_{ind.id}")
            milestones = []
            for k, m in enumerate(ind.milestones):
                milestones.append((m.due, left.number_input(
                    tr("me.form.milestone", date=format_date(m.due, lang)), value=float(m.target),
                    key=f"me_form_t_m{k}_{ind.id}")))
            new_due = right.date_input(tr("me.form.new_milestone_date"), value=None, key=f"me_form_t_new_due_{ind.id}")
            new_target = left.number_input(tr("me.form.new_milestone_target"), value=None, key=f"me_form_t_new_{ind.id}")
            reason = st.text_input(tr("me.form.reason"), key=f"me_form_t_reason_{ind.id}")
            save = st.form_submit_button(tr("me.form.targets.save"), type="primary", key=f"me_form_t_save_{ind.id}")
    if not save:
        return
    path = [Milestone(due=due, target=target) for due, target in milestones if target is not None]
    if new_due is not None and new_target is not None:
        path.append(Milestone(due=new_due, target=new_target))
    try:
        changed = change_targets(store, ind.id, user=user, reason=reason, baseline_value=baseline,
                                 baseline_date=baseline_date, end_target=end_target, end_date=end_date,
                                 milestones=path)
    except (MeError, PermissionDenied, ValidationError) as err:
        _refused(err)
        return
    if not changed:
        st.info(tr("me.form.targets.unchanged"))
        return
    _done(tr("me.form.targets.saved", n=len(changed)))


def forms(store: Store, p: Portfolio, intervention_id: str, user: User) -> None:
    """Everything one may change about an intervention, below its detail."""
    flash()
    st.divider()
    report_form(store, p, intervention_id, user)
    intervention_form(store, p.intervention(intervention_id), user)
    targets_form(store, p, intervention_id, user)

