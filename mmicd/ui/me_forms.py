"""What changes the M&E framework from the Interventions page: the Excel import, the review of reports,
and the forms to enter a progress report, create or edit an intervention, add or edit an indicator with
its milestones, change a baseline or target, and record a GMG stage with its evidence.

Every write goes through :mod:`mmicd.me.repository` (or the importer), which checks the user's role on
the server and validates exactly as the Excel path does; the forms only show what the user may do and
translate what comes back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from mmicd import subdivisions
from mmicd.auth import Action, PermissionDenied, User, can
from mmicd.i18n import format_number, format_period, language_name, t
from mmicd.issues import IssuesError
from mmicd.me.config import me_config
from mmicd.me.model import (
    DISAGGREGATIONS,
    FREQUENCY_MONTHS,
    BreakdownValue,
    Direction,
    Frequency,
    GmgStage,
    Indicator,
    Intervention,
    InterventionStatus,
    Level,
    Milestone,
    OrgType,
    PeriodRule,
    Report,
    ReportState,
    StageStatus,
    Unit,
    languages,
    sector_codes,
    sector_name,
)
from mmicd.me.progress import add_months, format_date, reporting_periods
from mmicd.me.repository import (
    MeError,
    Portfolio,
    change_targets,
    record_report,
    save_indicator,
    save_intervention,
    save_stage,
    set_report_state,
)
from mmicd.me.workbook_read import (
    cell_date,
    cell_number,
    indicator_from_values,
    intervention_from_values,
    milestone_from_values,
    stage_from_values,
)
from mmicd.store import Store
from mmicd.ui import current_lang, tr
from mmicd.ui.components import plain
from mmicd.ui.me_common import issues_frame, today, wide_columns
from mmicd.ui.me_local import area_options

FLASH = "_me_forms_flash"
DATES = {"min_value": date(1990, 1, 1), "max_value": date(2100, 12, 31)}  # not only ten years around today


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


def _show_issues(issues: list) -> None:
    """Problems found by the import's own checks, each naming the field and the value given."""
    for issue in issues:
        text = tr("forms.issue.value", message=issue.message, value=issue.value) \
            if issue.value not in (None, "") else issue.message
        st.error(plain(tr("forms.issue.field", field=issue.column, message=text) if issue.column else text))


def _labels(prefix: str, lang: str):
    """The label of a code in ``lang`` (fixed when the page runs, so that the options keep their labels)."""
    return lambda code: t(f"{prefix}.{code}", lang)


def _area_labels(lang: str):
    return lambda code: subdivisions.subdivision_name(code, lang) if subdivisions.is_subdivision(code) \
        else t("lmap.me.national", lang)


def _reason(key: str) -> str:
    return st.text_input(tr("forms.reason"), key=key, help=tr("forms.reason_help"))


def _reason_given(reason: str) -> bool:
    """Every change needs its reason (as the import's change_reason); without one, say so."""
    if not reason.strip():
        st.error(tr("forms.error.reason", field=tr("forms.reason")))
        return False
    return True


def _intervention_inputs(iv: Intervention | None, country: str, key: str) -> dict:
    """The workbook's intervention columns as inputs (inside a form), prefilled from ``iv``; returns the
    row as the import reads it (column code -> value)."""
    lang = current_lang()
    sectors = sorted(sector_codes())
    statuses = [s.value for s in InterventionStatus]
    stages = [s.value for s in GmgStage]
    org_types = [o.value for o in OrgType]
    langs = sorted(languages())
    values = {"country": country}
    if iv is None:
        values["id"] = st.text_input(tr("me.xl.col.id"), key=f"{key}_id", help=tr("forms.iv.id_help"))
    values["title"] = st.text_input(tr("me.xl.col.title"), iv.title if iv else "", key=f"{key}_title")
    values["description"] = st.text_area(tr("me.xl.col.description"), iv.description if iv else "",
                                         key=f"{key}_description")
    left, right = st.columns(2)
    values["sector"] = left.selectbox(tr("me.xl.col.sector"), sectors, index=sectors.index(iv.sector) if iv else 0,
                                      format_func=lambda c: sector_name(c, lang), key=f"{key}_sector")
    values["status"] = right.selectbox(tr("me.xl.col.status"), statuses,
                                       index=statuses.index(str(iv.status)) if iv else 0,
                                       format_func=_labels("me.iv_status", lang), key=f"{key}_status")
    values["lead"] = left.text_input(tr("me.xl.col.lead"), iv.lead if iv else "", key=f"{key}_lead")
    values["lead_type"] = right.selectbox(tr("me.xl.col.lead_type"), org_types,
                                          index=org_types.index(str(iv.lead_type)) if iv else 0,
                                          format_func=_labels("lmap.org", lang), key=f"{key}_lead_type")
    values["partners"] = _list(left.text_input(tr("me.xl.col.partners"), "; ".join(iv.partners) if iv else "",
                                               key=f"{key}_partners", help=tr("forms.list_help")))
    values["partner_types"] = _list(right.text_input(
        tr("me.xl.col.partner_types"), "; ".join(map(str, iv.partner_types)) if iv else "", key=f"{key}_partner_types",
        help=tr("forms.iv.partner_types_help", codes=", ".join(org_types))))
    values["funders"] = _list(left.text_input(tr("me.xl.col.funders"), "; ".join(iv.funders) if iv else "",
                                              key=f"{key}_funders", help=tr("forms.list_help")))
    values["gmg_stage"] = right.selectbox(tr("me.xl.col.gmg_stage"), stages,
                                          index=stages.index(str(iv.gmg_stage)) if iv else stages.index("implementation"),
                                          format_func=_labels("me.stage", lang), key=f"{key}_stage")
    values["ndp_goal"] = left.text_input(tr("me.xl.col.ndp_goal"), iv.ndp_goal if iv else "", key=f"{key}_ndp")
    values["sdg_targets"] = _list(right.text_input(tr("me.xl.col.sdg_targets"),
                                                   "; ".join(iv.sdg_targets) if iv else "", key=f"{key}_sdg"))
    values["geographic_scope"] = left.text_input(tr("me.xl.col.geographic_scope"),
                                                 iv.geographic_scope if iv else "", key=f"{key}_scope")
    values["scope_areas"] = right.multiselect(tr("me.xl.col.scope_areas"), area_options(country),
                                              default=iv.scope_areas if iv else [],
                                              format_func=_area_labels(lang), key=f"{key}_areas")
    values["start"] = left.date_input(tr("me.xl.col.start"), iv.start if iv else None, **DATES, key=f"{key}_start")
    values["end"] = right.date_input(tr("me.xl.col.end"), iv.end if iv else None, **DATES, key=f"{key}_end")
    for column, side in (("actual_start", left), ("actual_end", right)):  # when recorded; IATI's actual dates
        values[column] = side.date_input(tr(f"me.xl.col.{column}"), getattr(iv, column) if iv else None, **DATES,
                                         key=f"{key}_{column}", help=tr(f"me.xl.help.{column}"))
    values["budget_planned"] = left.number_input(tr("me.xl.col.budget_planned"), min_value=0.0,
                                                 value=float(iv.budget_planned) if iv else 0.0, step=1000.0,
                                                 key=f"{key}_planned")
    values["budget_disbursed"] = right.number_input(tr("me.xl.col.budget_disbursed"), min_value=0.0,
                                                    value=float(iv.budget_disbursed) if iv else 0.0, step=1000.0,
                                                    key=f"{key}_disbursed")
    values["currency"] = left.text_input(tr("me.xl.col.currency"), iv.currency if iv else "USD", max_chars=3,
                                         key=f"{key}_currency").strip().upper()
    values["language"] = right.selectbox(tr("me.xl.col.language"), langs,
                                         index=langs.index(iv.language if iv else lang if lang in langs else "en"),
                                         format_func=lambda c: f"{c} · {language_label(c)}", key=f"{key}_language")
    if iv is not None:
        values["illustrative"] = iv.illustrative
    return {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}


def language_label(code: str) -> str:
    try:
        return language_name(code)
    except Exception:  # a code CLDR does not name
        return code


def _store_intervention(store: Store, values: dict, user: User, reason: str, key: str, create: bool = False) -> bool:
    """Check the row as the import does, then store it (role and country checked on the server)."""
    if not _reason_given(reason):
        return False
    iv, issues = intervention_from_values(values, current_lang())
    if iv is None or issues:
        _show_issues(issues)
        return False
    try:
        save_intervention(store, iv, user=user, reason=reason, create=create)
    except (MeError, PermissionDenied, ValidationError) as err:
        _refused(err)
        return False
    _done(tr(key, id=plain(iv.id)))
    return True


def new_intervention_form(store: Store, country: str, user: User) -> None:
    """Create an intervention of the country (reviewers of the country), with every column of the workbook."""
    if not can(user, Action.EDIT_TARGETS, country):
        return
    with st.expander(tr("forms.iv.new")), st.form(key="forms_new_iv"):
        values = _intervention_inputs(None, country, "forms_new_iv")
        reason = _reason("forms_new_iv_reason")
        save = st.form_submit_button(tr("forms.iv.create"), type="primary", key="forms_new_iv_save")
    if save:
        _store_intervention(store, values, user, reason, "forms.iv.created", create=True)


def intervention_form(store: Store, iv: Intervention, user: User) -> None:
    """Edit an intervention's fields (reviewers of its country), validated as the Excel import validates them."""
    if not can(user, Action.EDIT_TARGETS, iv.country):
        return
    key = f"me_form_iv_{iv.id}"
    with st.expander(tr("me.form.iv.title")), st.form(key=key):
        values = _intervention_inputs(iv, iv.country, key)
        reason = _reason(f"{key}_reason")
        save = st.form_submit_button(tr("me.form.iv.save"), type="primary", key=f"{key}_save")
    if save:
        _store_intervention(store, values | {"id": iv.id}, user, reason, "me.form.iv.saved")


# ---- results-framework indicators --------------------------------------------------------------
NEW = "_new"


def _milestone_text(ind: Indicator | None) -> str:
    return "\n".join(f"{m.due.isoformat()}; {m.target:g}" for m in ind.milestones) if ind else ""


def parse_milestones(text: str, lang: str) -> tuple[list[Milestone], list]:
    """Lines "date; target" (ISO date) into milestones, read as the import reads its targets sheet."""
    milestones, issues = [], []
    for row, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        due, _, target = line.partition(";")
        milestone, found = milestone_from_values({"due": cell_date(due), "target": cell_number(target)}, lang, row=row)
        issues.extend(replace(i, column=tr("forms.ind.milestone_line", line=row)) for i in found)
        if milestone is not None:
            milestones.append(milestone)
    return milestones, issues


def indicator_form(store: Store, p: Portfolio, intervention_id: str, user: User) -> None:
    """Add an indicator to the intervention's results framework, or edit one, with its milestones;
    checked by the import's own rules (the milestones inside the intervention's dates)."""
    iv = p.intervention(intervention_id)
    if not can(user, Action.EDIT_TARGETS, iv.country):
        return
    lang = current_lang()
    indicators = p.indicators_of(intervention_id)
    with st.expander(tr("forms.ind.title")):
        chosen = st.selectbox(tr("forms.ind.which"), [NEW, *[i.id for i in indicators]],
                              key=f"forms_ind_which_{intervention_id}",
                              format_func=lambda i: t("forms.ind.new", lang) if i == NEW else p.indicator(i).name)
        ind = None if chosen == NEW else p.indicator(chosen)
        key = f"forms_ind_{intervention_id}_{chosen}"
        levels, units, directions = [x.value for x in Level], [x.value for x in Unit], [x.value for x in Direction]
        rules, frequencies = [x.value for x in PeriodRule], [x.value for x in Frequency]
        with st.form(key=key):
            values = {"intervention_id": intervention_id}
            values["id"] = ind.id if ind else st.text_input(tr("me.xl.col.id"), key=f"{key}_id").strip()
            values["name"] = st.text_input(tr("me.xl.col.name"), ind.name if ind else "", key=f"{key}_name").strip()
            left, right = st.columns(2)
            values["level"] = left.selectbox(tr("me.xl.col.level"), levels,
                                             index=levels.index(str(ind.level)) if ind else 0,
                                             format_func=_labels("me.level", lang), key=f"{key}_level")
            values["unit"] = right.selectbox(tr("me.xl.col.unit"), units, index=units.index(str(ind.unit)) if ind else 0,
                                             format_func=_labels("forms.unit", lang), key=f"{key}_unit")
            values["direction"] = left.selectbox(tr("me.xl.col.direction"), directions,
                                                 index=directions.index(str(ind.direction)) if ind else 0,
                                                 format_func=_labels("forms.direction", lang), key=f"{key}_direction")
            values["period_rule"] = right.selectbox(tr("me.xl.col.period_rule"), rules,
                                                    index=rules.index(str(ind.period_rule)) if ind else rules.index("latest"),
                                                    format_func=_labels("me.period_rule", lang), key=f"{key}_rule")
            values["baseline_value"] = left.number_input(tr("me.xl.col.baseline_value"),
                                                         value=float(ind.baseline_value) if ind else None,
                                                         key=f"{key}_baseline")
            values["baseline_date"] = right.date_input(tr("me.xl.col.baseline_date"), ind.baseline_date if ind else None,
                                                       **DATES, key=f"{key}_baseline_date")
            values["end_target"] = left.number_input(tr("me.xl.col.end_target"),
                                                     value=float(ind.end_target) if ind else None, key=f"{key}_end")
            values["end_date"] = right.date_input(tr("me.xl.col.end_date"), ind.end_date if ind else iv.end,
                                                  **DATES, key=f"{key}_end_date")
            values["frequency"] = left.selectbox(tr("me.xl.col.frequency"), frequencies,
                                                 index=frequencies.index(str(ind.frequency)) if ind else
                                                 frequencies.index("annual"),
                                                 format_func=_labels("me.frequency", lang), key=f"{key}_frequency")
            values["disaggregation"] = right.multiselect(tr("me.xl.col.disaggregation"), list(DISAGGREGATIONS),
                                                         default=ind.disaggregation if ind else [],
                                                         format_func=_labels("me.dim", lang), key=f"{key}_dis")
            values["data_source"] = left.text_input(tr("me.xl.col.data_source"), ind.data_source if ind else "",
                                                    key=f"{key}_source").strip()
            values["responsible"] = right.text_input(tr("me.xl.col.responsible"), ind.responsible if ind else "",
                                                     key=f"{key}_responsible").strip()
            milestones = st.text_area(tr("forms.ind.milestones"), _milestone_text(ind), key=f"{key}_milestones",
                                      help=tr("forms.ind.milestones_help"), placeholder="2026-12-31; 500")
            reason = _reason(f"{key}_reason")
            save = st.form_submit_button(tr("forms.ind.save"), type="primary", key=f"{key}_save")
    if not save:
        return
    if not _reason_given(reason):
        return
    if ind is not None:
        values |= {"position": ind.position, "link": ind.link}
    else:
        values["position"] = len(indicators) + 1
    path, issues = parse_milestones(milestones, lang)
    changed, found = indicator_from_values(values, path, iv, lang) if not issues else (None, [])
    if changed is None:
        _show_issues(issues + found)
        return
    try:
        save_indicator(store, changed, user=user, reason=reason, create=ind is None)
    except (MeError, PermissionDenied, ValidationError) as err:
        _refused(err)
        return
    _done(tr("forms.ind.saved", id=plain(changed.id)))


# ---- GMG stages -----------------------------------------------------------------------------------
def stage_form(store: Store, p: Portfolio, country: str, user: User) -> None:
    """Where the country stands in each GMG stage, with its evidence (shown as plain text, a link too),
    and the form to record a stage (reviewers of the country)."""
    lang = current_lang()
    records = sorted(p.stages, key=lambda s: list(GmgStage).index(s.stage))  # in the cycle's order
    if records:
        st.dataframe(pd.DataFrame({
            tr("me.col.stage"): [f"{list(GmgStage).index(s.stage) + 1}. {tr(f'me.stage.{s.stage}')}" for s in records],
            tr("me.col.stage_status"): [tr(f"me.stage_status.{s.status}") for s in records],
            tr("me.col.start"): [format_date(s.start, lang) if s.start else "–" for s in records],
            tr("me.col.end"): [format_date(s.end, lang) if s.end else "–" for s in records],
            tr("me.col.evidence"): [s.evidence for s in records],
            tr("me.xl.col.note"): [s.note for s in records]}),
            hide_index=True, width="stretch", key="forms_stages_table")
    if not can(user, Action.EDIT_TARGETS, country):
        return
    stages, statuses = [s.value for s in GmgStage], [s.value for s in StageStatus]
    chosen = st.selectbox(tr("me.xl.col.stage"), stages, format_func=_labels("me.stage", lang),
                          key="forms_stage_which")
    old = next((s for s in p.stages if str(s.stage) == chosen), None)
    key = f"forms_stage_{chosen}"
    with st.form(key=key):
        left, right = st.columns(2)
        values = {"country": country, "stage": chosen}
        values["status"] = left.selectbox(tr("me.xl.col.status"), statuses,
                                          index=statuses.index(str(old.status)) if old else 0,
                                          format_func=_labels("me.stage_status", lang), key=f"{key}_status")
        values["start"] = right.date_input(tr("me.xl.col.start"), old.start if old else None, **DATES, key=f"{key}_start")
        values["end"] = left.date_input(tr("me.xl.col.end"), old.end if old else None, **DATES, key=f"{key}_end")
        values["evidence"] = right.text_input(tr("me.xl.col.evidence"), old.evidence if old else "",
                                              key=f"{key}_evidence", help=tr("forms.stage.evidence_help")).strip()
        values["note"] = st.text_input(tr("me.xl.col.note"), old.note if old else "", key=f"{key}_note").strip()
        reason = _reason(f"{key}_reason")
        save = st.form_submit_button(tr("forms.stage.save"), type="primary", key=f"{key}_save")
    if not save:
        return
    if not _reason_given(reason):
        return
    stage, issues = stage_from_values(values, lang)
    if stage is None:
        _show_issues(issues)
        return
    try:
        save_stage(store, stage, user=user, reason=reason)
    except (MeError, PermissionDenied, ValidationError) as err:
        _refused(err)
        return
    _done(tr("forms.stage.saved", stage=tr(f"me.stage.{chosen}")))


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
    st.divider()
    report_form(store, p, intervention_id, user)
    intervention_form(store, p.intervention(intervention_id), user)
    indicator_form(store, p, intervention_id, user)
    targets_form(store, p, intervention_id, user)

