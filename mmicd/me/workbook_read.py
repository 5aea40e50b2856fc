"""Import of a filled M&E workbook (:mod:`mmicd.me.workbook` layout) with every problem reported.

Import is a dry run first: :func:`read_workbook` collects every problem as an :class:`Issue` naming
sheet, row and column; :func:`import_workbook` stores nothing unless there is no error, and then
stores everything in one transaction.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from mmicd import subdivisions
from mmicd.auth import Action, User, require
from mmicd.engine import catalogue
from mmicd.i18n import t
from mmicd.issues import Issue, IssuesError, has_errors
from mmicd.me.linked import SELECTION_KEYS
from mmicd.me.model import (
    BreakdownValue,
    Indicator,
    Milestone,
    Report,
    ReportState,
    StageRecord,
    check_report,
    milestone_problems,
)
from mmicd.me.model import Intervention as InterventionModel
from mmicd.me.repository import (
    MeError,
    Portfolio,
    load_portfolio,
    target_differences,
    write_indicator,
    write_intervention,
    write_report,
    write_stage,
)
from mmicd.me.workbook import (
    DATE_COLUMNS,
    LIST_COLUMNS,
    LIST_SEPARATOR,
    NUMBER_COLUMNS,
    SHEETS,
    header,
    header_lookup,
)
from mmicd.store import Store


@dataclass
class ReadResult:
    portfolio: Portfolio
    reasons: dict[str, str] = field(default_factory=dict)  # indicator id -> change reason
    issues: list[Issue] = field(default_factory=list)
    rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (sheet, key) -> row, for messages


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_date(value: object) -> date | None | str:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return str(value)  # pydantic reports it


def cell_number(value: object) -> float | None | str:
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "").strip())
    except ValueError:
        return str(value)


def _convert(column: str, value: object) -> object:
    if column in DATE_COLUMNS:
        return cell_date(value)
    if column in NUMBER_COLUMNS:
        return cell_number(value)
    if column in LIST_COLUMNS:
        return [p.strip() for p in _text(value).replace(",", ";").split(";") if p.strip()]
    if column == "acted_at":
        text = _text(value)
        if not text:
            return None
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return text
    return _text(value)


def _sheet_rows(wb, sheet: str, file: str | None, issues: list[Issue], lang: str) -> list[tuple[int, dict]]:
    if sheet not in wb.sheetnames:
        issues.append(Issue("error", t("me.xl.issue.missing_sheet", lang, sheet=sheet), file=file, sheet=sheet))
        return []
    ws = wb[sheet]
    it = ws.iter_rows(values_only=True)
    head = next(it, None) or ()
    lookup = header_lookup(sheet)
    columns: list[str | None] = []
    for k, text in enumerate(head, start=1):
        code = lookup.get(_text(text).lower()) if text is not None else None
        if text is not None and code is None:
            issues.append(Issue("warning", t("me.xl.issue.unknown_column", lang, column=_text(text)), file=file,
                                sheet=sheet, row=1, column=get_column_letter(k), value=_text(text)))
        columns.append(code)
    required = {"id"} if sheet in ("interventions", "indicators") else {"indicator_id"} \
        if sheet in ("targets", "actuals") else {"country", "stage"}
    for code in sorted(required - set(columns)):
        issues.append(Issue("error", t("me.xl.issue.missing_column", lang, column=header(code, lang)), file=file,
                            sheet=sheet, row=1))
    if required - set(columns):
        return []
    out = []
    for r, values in enumerate(it, start=2):
        if values is None or all(v is None or _text(v) == "" for v in values):
            continue
        out.append((r, {c: _convert(c, v) for c, v in zip(columns, values, strict=False) if c is not None}))
    return out


def _validation_issues(err: ValidationError, file, sheet: str, row: int, lang: str,
                       rename: dict[str, str] | None = None) -> list[Issue]:
    issues = []
    for e in err.errors():
        loc = [str(x) for x in e.get("loc", ())]
        column = (rename or {}).get(loc[0], loc[0]) if loc else None
        value = e.get("input")
        message = t("me.xl.issue.invalid", lang, detail=e.get("msg", ""))
        issues.append(Issue("error", message, file=file, sheet=sheet, row=row,
                            column=header(column, lang) if column in SHEETS[sheet] else column,
                            value=None if isinstance(value, dict) else _text(value)))
    return issues


NATIONAL_WORDS = {"national", "nacional", "_t"}


def _local_level(values: dict, lang: str) -> list[tuple[str, str, str]]:
    """The geographic scope's subdivision names or codes resolved to codes within the intervention's
    country ("national" or the country code: the whole country), in place; (column, cell, message) of
    each one unknown or ambiguous, and of partner types that do not match the partners (both left out,
    so that the row's indicators and actuals are still checked)."""
    country = str(values.get("country", ""))
    problems, areas = [], []
    for text in values.get("scope_areas", []):
        if text.casefold() in NATIONAL_WORDS or text.upper() == country:
            areas.append(country)
            continue
        code = subdivisions.resolve_subdivision(text, country)
        if code is None:
            options = subdivisions.ambiguous(text, country) or subdivisions.suggestions(text, country)
            hint = t("lmap.me.did_you_mean", lang, names=", ".join(options)) if options else ""
            problems.append(("scope_areas", text, t("lmap.me.unknown_area", lang, name=text, country=country,
                                                     hint=hint)))
            continue
        areas.append(code)
    values["scope_areas"] = list(dict.fromkeys(areas))
    types = values.get("partner_types", [])
    if types and len(types) != len(values.get("partners", [])):
        problems.append(("partner_types", LIST_SEPARATOR.join(types), t(
            "lmap.me.partner_types", lang, types=len(types), partners=len(values.get("partners", [])))))
        values["partner_types"] = []
    return problems


# ---- one row to one object: shared by the import and the forms of the Interventions page -------------
# ``values`` are a row of the sheet as :func:`_convert` reads it (column code -> text, date, number or
# list); each returns the object (None if it cannot be built) and every problem found (column header and
# value named): any error refuses the row.
def intervention_from_values(values: dict, lang: str = "en", *, file: str | None = None,
                             row: int | None = None) -> tuple[InterventionModel | None, list[Issue]]:
    values = dict(values)
    if isinstance(values.get("illustrative"), str):
        values["illustrative"] = values["illustrative"].lower() in ("yes", "true", "1", "oui", "sí", "si")
    values = {k: v for k, v in values.items() if v not in ("", None) or k in ("description",)}
    issues = [Issue("error", message, file=file, sheet="interventions", row=row, column=header(column, lang),
                    value=value) for column, value, message in _local_level(values, lang)]
    try:
        iv = InterventionModel(**values)
    except ValidationError as err:
        return None, issues + _validation_issues(err, file, "interventions", row, lang)
    return iv, issues  # unknown areas left out: the row's indicators are still checked


def milestone_from_values(values: dict, lang: str = "en", *, file: str | None = None,
                          row: int | None = None) -> tuple[Milestone | None, list[Issue]]:
    try:
        return Milestone(due=values.get("due"), target=values.get("target")), []
    except ValidationError as err:
        return None, _validation_issues(err, file, "targets", row, lang)


def indicator_from_values(values: dict, milestones: list[Milestone], intervention: InterventionModel | None,
                          lang: str = "en", *, file: str | None = None,
                          row: int | None = None) -> tuple[Indicator | None, list[Issue]]:
    """An indicator with its milestones; the milestones' dates are checked against the baseline, the end
    date and the intervention's dates (each one named), then the model's rules apply."""
    values = {k: v for k, v in values.items() if v not in ("", None)}
    if isinstance(values.get("position"), float):
        values["position"] = int(values["position"])
    issues = [Issue("error", message, file=file, sheet="targets", column=header("due", lang), value=due.isoformat())
              for due, message in milestone_problems(milestones, values.get("baseline_date"),
                                                     values.get("end_date"), intervention, lang)]
    if issues:
        return None, issues
    try:
        return Indicator(**values, milestones=milestones), []
    except ValidationError as err:
        return None, _validation_issues(err, file, "indicators", row, lang)


def stage_from_values(values: dict, lang: str = "en", *, file: str | None = None,
                      row: int | None = None) -> tuple[StageRecord | None, list[Issue]]:
    values = {k: v for k, v in values.items() if v not in ("", None)}
    try:
        return StageRecord(**values), []
    except ValidationError as err:
        return None, _validation_issues(err, file, "stages", row, lang)


def read_workbook(data: bytes, *, lang: str = "en", file: str | None = None) -> ReadResult:
    """Parse a workbook into a portfolio, collecting every problem (nothing is stored)."""
    issues: list[Issue] = []
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # not an xlsx file at all
        return ReadResult(Portfolio(), issues=[Issue("error", t("me.xl.issue.not_xlsx", lang), file=file)])
    result = ReadResult(Portfolio(), issues=issues)
    p = result.portfolio

    def dup(sheet, key, row, column):
        if (sheet, key) in result.rows:
            issues.append(Issue("error", t("me.xl.issue.duplicate", lang, key=key, row=result.rows[(sheet, key)]),
                                file=file, sheet=sheet, row=row, column=header(column, lang), value=key))
            return True
        result.rows[(sheet, key)] = row
        return False

    for row, values in _sheet_rows(wb, "interventions", file, issues, lang):
        if dup("interventions", values.get("id", ""), row, "id"):
            continue
        iv, found = intervention_from_values(values, lang, file=file, row=row)
        issues.extend(found)
        if iv is not None:
            p.interventions.append(iv)
    iv_ids = {i.id for i in p.interventions}

    milestones: dict[str, list[Milestone]] = {}
    for row, values in _sheet_rows(wb, "targets", file, issues, lang):
        milestone, found = milestone_from_values(values, lang, file=file, row=row)
        issues.extend(found)
        if milestone is not None:
            milestones.setdefault(values.get("indicator_id", ""), []).append(milestone)
            result.rows[("targets", f"{values.get('indicator_id')}@{values.get('due')}")] = row

    failed: set[str] = set()  # ids of rows already reported: no second issue for what refers to them
    for row, values in _sheet_rows(wb, "indicators", file, issues, lang):
        reason = values.pop("change_reason", "")
        link_id = values.pop("link_indicator", "")
        selection = values.pop("link_selection", "")
        values = {k: v for k, v in values.items() if v not in ("", None)}
        if dup("indicators", values.get("id", ""), row, "id"):
            continue
        if link_id:
            if link_id not in catalogue():
                issues.append(Issue("error", t("me.xl.issue.unknown_link", lang, id=link_id), file=file,
                                    sheet="indicators", row=row, column=header("link_indicator", lang), value=link_id))
                failed.add(values.get("id", ""))
                continue
            pairs = [p_.split("=", 1) for p_ in selection.split(";") if "=" in p_]
            unknown = sorted({k.strip() for k, _ in pairs} - set(SELECTION_KEYS))
            if unknown:
                issues.append(Issue("error", t("me.xl.issue.unknown_selection", lang, keys=", ".join(unknown),
                                               allowed=", ".join(SELECTION_KEYS), n=len(unknown)), file=file, sheet="indicators",
                                    row=row, column=header("link_selection", lang), value=selection))
                failed.add(values.get("id", ""))
                continue
            values["link"] = {"indicator": link_id, "selection": {k.strip(): v.strip() for k, v in pairs}}
        ind, found = indicator_from_values(values, milestones.pop(values.get("id", ""), []),
                                           p.intervention(values.get("intervention_id")), lang, file=file, row=row)
        issues.extend(replace(i, row=result.rows.get(("targets", f"{values.get('id')}@{i.value}")))
                      if i.sheet == "targets" else i for i in found)  # a milestone: at its row of the targets sheet
        if ind is None:
            failed.add(values.get("id", ""))
            continue
        if ind.intervention_id not in iv_ids:
            issues.append(Issue("error", t("me.xl.issue.unknown_intervention", lang, id=ind.intervention_id),
                                file=file, sheet="indicators", row=row,
                                column=header("intervention_id", lang), value=ind.intervention_id))
            continue
        p.indicators.append(ind)
        if reason:
            result.reasons[ind.id] = reason
    for ind_id in set(milestones) - failed:
        key = next(k for k in result.rows if k[0] == "targets" and k[1].startswith(f"{ind_id}@"))
        issues.append(Issue("error", t("me.xl.issue.unknown_indicator", lang, id=ind_id), file=file,
                            sheet="targets", row=result.rows[key], column=header("indicator_id", lang), value=ind_id))

    indicators = {i.id: i for i in p.indicators}
    totals: dict[tuple, tuple[int, dict]] = {}
    parts: list[tuple[int, dict]] = []
    for row, values in _sheet_rows(wb, "actuals", file, issues, lang):
        sex, age = values.get("sex") or "_T", values.get("age") or "_T"
        values["sex"], values["age"] = sex, age
        if values.get("indicator_id") in failed:
            continue
        if values.get("indicator_id") not in indicators:
            issues.append(Issue("error", t("me.xl.issue.unknown_indicator", lang, id=values.get("indicator_id")),
                                file=file, sheet="actuals", row=row, column=header("indicator_id", lang),
                                value=values.get("indicator_id")))
            continue
        key = (values["indicator_id"], values.get("period_start"), values.get("period_end"))
        if sex == "_T" and age == "_T":
            if key in totals:
                issues.append(Issue("error", t("me.xl.issue.duplicate", lang, key=" ".join(map(str, key)),
                                                row=totals[key][0]), file=file, sheet="actuals", row=row))
                continue
            totals[key] = (row, values)
        else:
            parts.append((row, values))
    breakdowns: dict[tuple, list[BreakdownValue]] = {}
    for row, values in parts:
        key = (values["indicator_id"], values.get("period_start"), values.get("period_end"))
        if key not in totals:
            issues.append(Issue("error", t("me.xl.issue.part_without_total", lang), file=file, sheet="actuals",
                                row=row, column=header("sex", lang), value=values["sex"]))
            continue
        if values["sex"] not in ("F", "M", "_U", "_T"):
            issues.append(Issue("error", t("me.xl.issue.unknown_code", lang, code=values["sex"]), file=file,
                                sheet="actuals", row=row, column=header("sex", lang), value=values["sex"]))
            continue
        try:
            breakdowns.setdefault(key, []).append(BreakdownValue(
                sex=values["sex"], age=values["age"], value=values.get("value"), numerator=values.get("numerator"),
                denominator=values.get("denominator")))
        except ValidationError as err:
            issues.extend(_validation_issues(err, file, "actuals", row, lang))
    for key, (row, values) in totals.items():
        fields = {k: v for k, v in values.items() if k not in ("sex", "age") and v not in ("", None)}
        fields.setdefault("state", ReportState.DRAFT.value)
        try:
            rep = Report(**fields, breakdown=breakdowns.get(key, []))
        except ValidationError as err:
            issues.extend(_validation_issues(err, file, "actuals", row, lang))
            continue
        found = check_report(rep, indicators[rep.indicator_id], lang=lang, sheet="actuals", row=row, file=file)
        issues.extend(replace(i, column=header(i.column, lang)) if i.column in SHEETS["actuals"] else i
                      for i in found)
        p.reports.append(rep)

    for row, values in _sheet_rows(wb, "stages", file, issues, lang):
        stage, found = stage_from_values(values, lang, file=file, row=row)
        issues.extend(found)
        if stage is not None:
            p.stages.append(stage)
    return result


@dataclass
class ImportResult:
    issues: list[Issue]
    stored: bool
    counts: dict[str, int]
    countries: tuple[str, ...] = ()


def import_workbook(store: Store, data: bytes, *, user: User, lang: str = "en", file: str | None = None,
                    dry_run: bool = True) -> ImportResult:
    """Check a workbook against itself and the store; store it (one transaction) only if asked and error-free.

    Storing needs ``EDIT_TARGETS`` (reviewers), checked here before anything is written (a refused
    user gets :class:`mmicd.auth.PermissionDenied`); the dry run stores nothing and needs no role.
    """
    if not dry_run:
        require(user, Action.EDIT_TARGETS)
    actor = user.label
    result = read_workbook(data, lang=lang, file=file)
    issues = list(result.issues)
    p = result.portfolio
    existing = load_portfolio(store)
    for ind in p.indicators:
        old = existing.indicator(ind.id)
        if old is not None and target_differences(old, ind) and not result.reasons.get(ind.id, "").strip():
            issues.append(Issue("error", t("me.xl.issue.reason_required", lang, id=ind.id), file=file,
                                sheet="indicators", row=result.rows.get(("indicators", ind.id)),
                                column=header("change_reason", lang)))
    approved = {(r.indicator_id, r.period_start, r.period_end): r for r in existing.reports
                if r.state == ReportState.APPROVED}
    for rep in p.reports:
        old = approved.get((rep.indicator_id, rep.period_start, rep.period_end))
        if old is not None and old.model_dump(exclude={"id", "acted_at", "acted_by"}) != \
                rep.model_dump(exclude={"id", "acted_at", "acted_by"}):
            issues.append(Issue("error", t("me.xl.issue.approved_changed", lang, id=rep.indicator_id), file=file,
                                sheet="actuals", column=header("indicator_id", lang), value=rep.indicator_id))
    counts = {"interventions": len(p.interventions), "indicators": len(p.indicators), "actuals": len(p.reports),
              "stages": len(p.stages)}
    countries = tuple(sorted({iv.country for iv in p.interventions}))
    if dry_run or has_errors(issues):
        return ImportResult(issues, False, counts, countries)
    for country in sorted(set(countries) | {s.country for s in p.stages}):
        require(user, Action.EDIT_TARGETS, country)  # a reviewer limited to some countries stores only theirs
    try:
        with store.engine.begin() as conn:
            for iv in p.interventions:
                write_intervention(conn, iv, actor)
            for ind in p.indicators:
                write_indicator(conn, ind, actor, result.reasons.get(ind.id, ""))
            for rep in p.reports:
                write_report(conn, rep, actor, lang=lang, acted_at=rep.acted_at, acted_by=rep.acted_by or actor)
            for stage in p.stages:
                write_stage(conn, stage, actor)
    except MeError as err:
        return ImportResult([*issues, Issue("error", t(err.key, lang, **err.fields), file=file)], False, counts,
                            countries)
    except IssuesError as err:
        return ImportResult([*issues, *err.issues], False, counts, countries)
    return ImportResult(issues, True, counts, countries)
