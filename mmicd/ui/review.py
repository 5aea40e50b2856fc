"""Renderers of the review page; every action goes through mmicd.workflow or the M&E repository
(roles checked there). What the reviewer compares is computed in :mod:`mmicd.review_diff`."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from mmicd import charts, codes, review_diff, workflow
from mmicd.auth import Action, PermissionDenied, User, can
from mmicd.guards import DropNotConfirmed
from mmicd.i18n import format_number, format_percent, plotly_separators
from mmicd.me.progress import explain, format_date, format_value, status_label
from mmicd.me.repository import MeError, load_portfolio, set_report_state
from mmicd.model import DIMENSION_CODELISTS, DatasetVersion, Form, Status
from mmicd.profile.charts import PLOTLY_CONFIG
from mmicd.store import SeriesChanged, Store
from mmicd.ui import current_lang, tr
from mmicd.ui import guards as ui_guards
from mmicd.ui.components import plain
from mmicd.ui.me_common import today

PREVIEW_ROWS = 200
DIFF_ROWS = 1000  # rows of the difference shown (the largest first); a caption says when there are more


def reviewable(store: Store, user: User) -> list[DatasetVersion]:
    """Drafts, submitted and superseded versions the user may see (published ones are on Data sources)."""
    return [v for v in workflow.visible_datasets(store, user) if v.status != Status.PUBLISHED]


def linked_index(options: list, param: str) -> int:
    """The position of the option the link names (``review?dataset=12``, from the inbox), else 0."""
    wanted = st.query_params.get(param)
    return next((i for i, o in enumerate(options) if str(o) == wanted), 0)


def pick(rows: list[DatasetVersion], key: str) -> DatasetVersion:
    ids = [v.id for v in rows]
    chosen = st.selectbox(
        tr("review.pick"), options=ids, key=key, index=linked_index(ids, "dataset"),
        format_func=lambda i: next(f"#{v.id} · {v.source} {v.edition} · v{v.version}" for v in rows if v.id == i),
    )
    version = next(v for v in rows if v.id == chosen)
    if version.status_note:
        st.warning(tr("review.note", note=plain(version.status_note), who=plain(version.status_changed_by or "–")))
    return version


def preview(store: Store, version: DatasetVersion) -> None:
    with st.expander(tr("review.preview", n=PREVIEW_ROWS)):
        if version.form == Form.MICRODATA:
            frame = store.microdata(version.id).head(PREVIEW_ROWS)
        else:
            frame = store.observations(dataset_ids=[version.id], status=None, breakdown=None).head(PREVIEW_ROWS)
        st.dataframe(frame, hide_index=True, width="stretch")


def _act(action, *args, **kwargs) -> None:
    """Run a workflow step and report its outcome in the user's language."""
    try:
        done = action(*args, **kwargs)
    except PermissionDenied:
        st.error(tr("auth.error.forbidden"))
        return
    except DropNotConfirmed:
        st.error(tr("guards.drop.refused"))
        return
    except SeriesChanged:
        st.error(tr("guards.series_changed"))
        return
    except workflow.TransitionError as err:
        st.error(tr(f"review.error.{err.reason}"))
        return
    st.success(tr("review.done", id=done.id, status=tr(f"status.{done.status.value}")))


def _drops(store: Store, version: DatasetVersion):
    """What publishing the version would drop of its series' published version, shown when it is
    more than the allowed share (publishing it then needs the confirmation box)."""
    report = ui_guards.version_report(store, version)
    if report.needs_confirmation:
        ui_guards.drop_panel(report, key=f"drops_{version.id}")
    return report


def submit_form(store: Store, user: User, version: DatasetVersion) -> None:
    if _drops(store, version).needs_confirmation:
        st.caption(tr("guards.drop.submit_note"))
    if st.button(tr("review.submit"), key=f"submit_{version.id}", type="primary"):
        _act(workflow.submit, store, user, version.id)


def decide_form(store: Store, user: User, version: DatasetVersion) -> None:
    report = _drops(store, version)
    with st.form(f"decide_{version.id}"):
        note = st.text_area(tr("review.note_label"), help=tr("review.note_help"))
        confirmed = ui_guards.confirm_box(report, key=f"confirm_drop_{version.id}")
        publish, back = st.columns(2)
        do_publish = publish.form_submit_button(tr("review.publish"), type="primary")
        do_return = back.form_submit_button(tr("review.return"))
    if do_publish:
        _act(workflow.publish, store, user, version.id, note, confirm_drop=confirmed)
    elif do_return:
        _act(workflow.return_to_draft, store, user, version.id, note)


def republish_form(store: Store, user: User, version: DatasetVersion) -> None:
    report = _drops(store, version)
    with st.form(f"republish_{version.id}"):
        note = st.text_input(tr("review.republish_reason"))
        confirmed = ui_guards.confirm_box(report, key=f"confirm_drop_re_{version.id}")
        if st.form_submit_button(tr("review.republish")):
            _act(workflow.publish, store, user, version.id, note, confirm_drop=confirmed)


# ---- what the reviewer compares ---------------------------------------------------------------
@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def _comparison(url: str, dataset_id: int, status: str, published: tuple[int, ...]):
    """Diff, chart data and baseline of a version, cached by its state and the published versions
    (those of its series and the baseline's among them)."""
    from mmicd.ui import _store

    s = _store(url)
    version = s.dataset(dataset_id)
    diff = review_diff.version_diff(s, version)
    chart = review_diff.chart_frame(s, version, diff.published if diff else None)
    return diff, chart, review_diff.baseline_beside(s, version)


def number(value: float | None, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    whole = abs(value) >= 100 or float(value).is_integer()
    return format_number(value, lang, 0 if whole else 2)


def signed_percent(value: float | None, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = format_percent(abs(value), lang, 1)
    return text if round(value, 1) == 0 else ("+" if value > 0 else "−") + text


def detail_text(row: pd.Series, lang: str) -> str:
    """The dimensions of a key other than measure, area and period, as labels ("Female · 15-19")."""
    parts = []
    for dim in review_diff.DETAIL_DIMS:
        code = str(row[dim])
        if code in ("_T", ""):
            continue
        listname = DIMENSION_CODELISTS.get(dim)
        if dim == "counterpart_area":
            parts.append(codes.area_name(code, lang))
        else:
            parts.append(codes.label(listname, code, lang) if listname else code)
    return " · ".join(parts) or tr("rv.total")


def _key_columns(frame: pd.DataFrame, lang: str) -> dict[str, list]:
    return {
        tr("rv.col.measure"): [codes.label("measure", m, lang) for m in frame["measure"]],
        tr("rv.col.area"): [codes.area_name(a, lang) for a in frame["ref_area"]],
        tr("rv.col.detail"): [detail_text(r, lang) for _, r in frame.iterrows()],
        tr("rv.col.year"): frame["time_period"].astype(str).tolist(),
    }


def diff_table(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        tr("rv.col.change"): [tr(f"rv.change.{c}") for c in rows["change"]],
        **_key_columns(rows, lang),
        tr("rv.col.old"): [number(v, lang) for v in rows["old"]],
        tr("rv.col.new"): [number(v, lang) for v in rows["new"]],
        tr("rv.col.delta"): [("+" if v > 0 else "") + number(v, lang) for v in rows["delta"]],
        tr("rv.col.pct"): [signed_percent(v, lang) for v in rows["pct"]],
    })


def baseline_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        **_key_columns(frame, lang),
        tr("rv.col.national"): [number(v, lang) for v in frame["national"]],
        tr("rv.col.baseline"): [tr("rv.cmp.cell", value=number(v, lang), year=y)
                                for v, y in zip(frame["baseline"], frame["baseline_year"], strict=True)],
        tr("rv.col.source"): frame["baseline_source"].tolist(),
        tr("rv.col.pct_baseline"): [signed_percent(v, lang) for v in frame["pct"]],
    })


def details(store: Store, version: DatasetVersion) -> None:
    """Everything the reviewer compares: notes, validation report, change, chart, baseline."""
    lang = current_lang()
    about, checks, changes, against = st.tabs([tr("rv.tab.notes"), tr("rv.tab.validation"), tr("rv.tab.changes"),
                                               tr("rv.tab.baseline")])
    with about:
        st.markdown(f"**{tr('rv.notes')}**")
        st.text(version.notes or tr("rv.no_notes"))
        st.caption(tr("rv.loaded", who=plain(version.loaded_by), when=version.created_at.strftime("%Y-%m-%d %H:%M"),
                      title=plain(version.title or "–"), basis=plain(version.basis or "–")))
    with checks:
        validation(store, version)
    if version.form == Form.MICRODATA:
        for tab in (changes, against):
            tab.info(tr("rv.microdata"))
        return
    diff, chart, baseline = _comparison(store.url, version.id, version.status.value, store.published_ids())
    with changes:
        change_panel(diff, chart, lang, key=f"rv_series_{version.id}")
    with against:
        if baseline.empty:
            st.info(tr("rv.no_baseline"))
        else:
            st.caption(tr("rv.baseline_caption"))
            st.dataframe(baseline_table(baseline, lang), hide_index=True, width="stretch")


def validation(store: Store, version: DatasetVersion) -> None:
    found, kept = review_diff.validation_report(store, version.id)
    if not kept:
        st.info(tr("rv.validation.not_kept"))
    elif not found:
        st.success(tr("rv.validation.clean"))
    else:
        st.warning(tr("rv.validation.count", n=len(found)))
        st.dataframe(pd.DataFrame({
            tr("rv.col.level"): [tr(f"rv.level.{i['level']}") for i in found],
            tr("rv.col.message"): [i["message"] for i in found],
            tr("rv.col.sheet"): [i.get("sheet") or "" for i in found],
            tr("rv.col.row"): [str(i["row"]) if i.get("row") is not None else "" for i in found],
            tr("rv.col.column"): [i.get("column") or "" for i in found],
            tr("rv.col.value"): [i.get("value") or "" for i in found],
        }), hide_index=True, width="stretch")


def change_panel(diff: review_diff.Diff, chart: pd.DataFrame, lang: str, key: str) -> None:
    p = diff.published
    counts = {c: format_number(diff.count(c), lang) for c in (review_diff.ADDED, review_diff.CHANGED,
                                                              review_diff.REMOVED)}
    if p is None:
        st.info(tr("rv.first_version", added=counts["added"]))
    else:
        st.markdown(tr("rv.summary", id=p.id, version=p.version, unchanged=format_number(diff.unchanged, lang),
                       **counts))
    if not diff.rows.empty:
        if len(diff.rows) > DIFF_ROWS:
            st.caption(tr("rv.diff_cut", shown=format_number(DIFF_ROWS, lang), n=format_number(len(diff.rows), lang)))
        st.dataframe(diff_table(diff.rows.head(DIFF_ROWS), lang), hide_index=True, width="stretch")
    if chart.empty:
        return
    series = chart[["measure", "ref_area", "migrant_status"]].drop_duplicates().itertuples(index=False)
    options = [tuple(s) for s in series]
    label = lambda s: " · ".join([codes.label("measure", s[0], lang), codes.area_name(s[1], lang)]  # noqa: E731
                                 + ([codes.label("migrant_status", s[2], lang)] if s[2] != "_T" else []))
    chosen = st.selectbox(tr("rv.chart_series"), options, format_func=label, key=key) if len(options) > 1 \
        else options[0]
    shown = chart.loc[(chart[["measure", "ref_area", "migrant_status"]] == list(chosen)).all(axis=1)]
    figure = go.Figure()
    for which, dash in (("published", "dot"), ("new", "solid")):
        part = shown.loc[shown["which"] == which]
        if not part.empty:
            figure.add_scatter(x=part["time_period"], y=part["value"], mode="lines+markers", name=tr(f"rv.{which}"),
                               line={"dash": dash})
    figure.update_layout(title=charts.label_text(label(chosen)), height=320, margin={"t": 40, "b": 30},
                         separators=plotly_separators(lang), xaxis={"type": "category"},
                         legend={"orientation": "h", "y": 1.1})
    st.plotly_chart(figure, width="stretch", key=f"{key}_chart", config=PLOTLY_CONFIG)


# ---- M&E progress reports -----------------------------------------------------------------------
def me_reports(store: Store, user: User) -> None:
    """Submitted progress reports the user may see: previous periods, target, the status approving
    would produce; reviewers approve or return with a note (checked again by the repository)."""
    lang = current_lang()
    p = load_portfolio(store)
    country = {i.id: p.intervention(i.intervention_id).country for i in p.indicators}
    pending = [r for r in p.reports if r.state == "submitted" and can(user, Action.VIEW_DRAFTS, country[r.indicator_id])]
    flash = st.session_state.pop("_rv_me_flash", None)
    if flash:
        st.success(tr(flash))
    if not pending:
        st.info(tr("rv.me.empty"))
        return
    names = {i.id: i.name for i in p.indicators}
    ids = [r.id for r in pending]
    chosen = st.selectbox(tr("me.review.report"), ids, key="rv_me_report", index=linked_index(ids, "report"),
                          format_func=lambda rid: next(
                              f"{names[r.indicator_id]} · {format_date(r.period_start, lang)} – "
                              f"{format_date(r.period_end, lang)}" for r in pending if r.id == rid))
    review = review_diff.report_review(p, chosen, today())
    ind, report, unit = review.indicator, review.report, review.indicator.unit
    st.markdown(f"**{plain(ind.name)}** · {plain(review.intervention.title if review.intervention else '')}")
    left, middle, right = st.columns(3)
    left.metric(tr("rv.me.reported"), format_value(report.value, unit, lang))
    middle.metric(tr("rv.me.target"), format_value(review.if_approved.target or ind.end_target, unit, lang),
                  help=tr("rv.me.target_help", baseline=format_value(ind.baseline_value, unit, lang),
                          end=format_value(ind.end_target, unit, lang), date=format_date(ind.end_date, lang)))
    right.metric(tr("rv.me.status_after"), status_label(review.if_approved.status, lang),
                 delta=tr("rv.me.status_now", status=status_label(review.now.status, lang)), delta_color="off",
                 delta_arrow="off")
    st.caption(plain(explain(review.if_approved, ind, lang)))
    for field in ("comment", "evidence", "justification"):
        if getattr(report, field):
            st.markdown(f"**{tr(f'rv.me.{field}')}**")
            st.text(getattr(report, field))
    st.markdown(f"**{tr('rv.me.previous')}**")
    if review.previous:
        st.dataframe(pd.DataFrame({
            tr("rv.me.period"): [f"{format_date(r.period_start, lang)} – {format_date(r.period_end, lang)}"
                                 for r in review.previous],
            tr("rv.me.value"): [format_value(r.value, unit, lang) for r in review.previous],
            tr("rv.me.state"): [tr(f"me.report_state.{r.state}") for r in review.previous],
            tr("rv.me.by"): [r.acted_by or "–" for r in review.previous],
        }), hide_index=True, width="stretch")
    else:
        st.caption(tr("rv.me.no_previous"))
    if not can(user, Action.REVIEW, country[report.indicator_id]):
        st.caption(tr("rv.me.need_role"))
        return
    with st.form(f"rv_me_decide_{chosen}"):
        note = st.text_area(tr("review.note_label"), help=tr("review.note_help"))
        yes, no = st.columns(2)
        approve = yes.form_submit_button(tr("me.review.approve"), type="primary")
        send_back = no.form_submit_button(tr("me.review.return"))
    if approve or send_back:
        try:
            set_report_state(store, chosen, "approved" if approve else "returned", user=user, note=note)
        except MeError as err:
            st.error(tr(err.key, **{k: plain(v) for k, v in err.fields.items()}))
            return
        except PermissionDenied:
            st.error(tr("auth.error.forbidden"))
            return
        st.session_state["_rv_me_flash"] = "me.review.done_approved" if approve else "me.review.done_returned"
        st.rerun()
