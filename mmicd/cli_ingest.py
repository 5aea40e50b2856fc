"""``python -m mmicd ingest PATH...``: prepare (read, detect, map, validate) and commit uploads.

Exit 0 when stored (or storable with ``--dry-run``), 2 when an error blocked it (nothing stored).
Tables need an account that may upload for every country they hold (and review, with ``--publish``);
M&E portfolio workbooks one that may edit targets (reviewers); the audit trail names the account.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mmicd.i18n import t
from mmicd.issues import walk

KINDS = ["auto", "census", "stocks", "remittances", "lfs", "interventions", "population", "remittance_corridors",
         "flows", "refugees", "border_movements", "labour_migration", "border", "labour"]
BASIS = {"birth": "country of birth", "citizenship": "citizenship"}   # --basis -> DatasetMeta.basis


def register(sub, lang: str) -> None:
    p = sub.add_parser("ingest", help=t("cli.ingest.help", lang), description=t("cli.ingest.help", lang))
    p.add_argument("paths", nargs="+", metavar="PATH", help=t("cli.ingest.paths", lang))
    p.add_argument("--kind", choices=KINDS, default="auto", help=t("cli.ingest.kind", lang))
    p.add_argument("--country", help=t("cli.ingest.country", lang))
    p.add_argument("--source", help=t("cli.ingest.source", lang))
    p.add_argument("--edition", help=t("cli.ingest.edition", lang))
    p.add_argument("--mapping", metavar="FILE.yml", help=t("cli.ingest.mapping", lang))
    p.add_argument("--title", help=t("cli.ingest.title", lang))
    p.add_argument("--basis", choices=list(BASIS), help=t("cli.ingest.basis", lang))
    p.add_argument("--notes", help=t("cli.ingest.notes", lang))
    p.add_argument("--mode", choices=["replace", "add"], default="replace", help=t("cli.ingest.mode", lang))
    p.add_argument("--dry-run", action="store_true", help=t("cli.ingest.dry_run", lang))
    p.add_argument("--publish", action="store_true", help=t("cli.ingest.publish", lang))
    p.add_argument("--confirm-drop", action="store_true", help=t("cli.ingest.confirm_drop", lang))
    p.add_argument("--json", action="store_true", help=t("cli.ingest.json", lang))
    p.add_argument("--projections", action="store_true", help=t("cli.ingest.projections", lang))
    p.set_defaults(func=run_ingest)


def _report(prep, versions, ok: bool, drops=()) -> dict:
    ids = [v.id for v in versions] if versions else [None] * len(prep.datasets)
    out = {
        "status": "ok" if ok else "error",
        "datasets": [{"id": i, "kind": d.meta.kind.value, "layout": d.layout, "file": d.file, "rows": d.rows,
                      "countries": d.countries, "years": d.years} for i, d in zip(ids, prep.datasets, strict=False)],
        "issues": [_issue_dict(i) for i in prep.issues],
    }
    if drops:  # publishing drops (or would drop) more than the allowed share of a published series
        out["drops"] = [{**r.detail(), "file": r.label, "confirmation_needed": True,
                         "what_disappears": r.groups.to_dict("records")} for r in drops]
    return out


def _drop_reports(prep, store, mode: str) -> list:
    """The datasets of ``prep`` that would drop more than the allowed share of their published series."""
    from mmicd.guards import stored_frames_reports
    from mmicd.ingest import dataset_label, stored_items

    reports = stored_frames_reports(store, stored_items(prep, store, mode), [dataset_label(d) for d in prep.datasets])
    return [r for r in reports if r.needs_confirmation]


def _print_drops(reports, lang: str, key: str) -> None:
    from mmicd.guards import describe, group_lines

    for r in reports:
        print(t(key, lang, summary=describe(r, lang)) if key else describe(r, lang), file=sys.stderr)
        for line in group_lines(r, lang):
            print(line, file=sys.stderr)


def _issue_dict(i) -> dict:
    """An issue in the JSON report; ``check`` and ``consequences`` (the knock-on issues it causes,
    nested, same shape) were added to the original fields, which keep their names."""
    return {"level": i.level, "file": i.file, "sheet": i.sheet, "row": i.row, "column": i.column, "value": i.value,
            "message": i.message, "check": i.check, "consequences": [_issue_dict(c) for c in i.consequences]}


def _print_issues(issues, lang: str) -> None:
    """One line per issue; the consequences of an issue follow it, indented."""
    for depth, i in walk(issues):
        where = ", ".join(str(x) for x in (i.file, i.sheet, i.row and f"row {i.row}", i.column) if x)
        lead = f"    ↳ {t('ingest.consequence', lang)}: " if depth else ""
        print(f"{lead}{t(f'ingest.level.{i.level}', lang)}: {where}: {i.message}", file=sys.stderr)


def _error(args, lang: str, message: str) -> int:
    if args.json:
        print(json.dumps({"status": "error", "datasets": [], "issues": [
            {"level": "error", "file": None, "sheet": None, "row": None, "column": None, "value": None,
             "message": message, "check": None, "consequences": []}]}, ensure_ascii=False))
    else:
        print(message, file=sys.stderr)
    return 2


def run_ingest(args, lang: str) -> int:
    from mmicd.auth import Action, require
    from mmicd.guards import DropNotConfirmed, describe
    from mmicd.ingest import MappingProfile, Upload, commit, prepare
    from mmicd.issues import Issue

    uploads = []
    for raw in args.paths:
        path = Path(raw)
        if not path.is_file():
            return _error(args, lang, t("cli.ingest.no_file", lang, path=raw))
        uploads.append(Upload(path.name, path.read_bytes()))
    mapping = None
    if args.mapping:
        try:
            mapping = MappingProfile.from_yaml(Path(args.mapping).read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - reported as a message, never a traceback
            return _error(args, lang, t("cli.ingest.bad_mapping", lang, path=args.mapping,
                                        error=str(exc).splitlines()[0]))
    store, user = args.store, args.actor
    portfolios = [u for u in uploads if args.kind == "interventions" or (args.kind == "auto" and _is_portfolio(u))]
    if portfolios:
        if len(portfolios) != len(uploads):
            return _error(args, lang, t("cli.ingest.portfolio_alone", lang))
        return _run_portfolios(args, lang, store, portfolios)
    require(user, Action.UPLOAD)
    from mmicd.ingest import CheckStopped, run_check

    try:   # within the check's budget (MMICD_CHECK_SECONDS, MMICD_CHECK_MB), as on the upload page
        prep = run_check(lambda progress: prepare(
            uploads, kind=args.kind, country=args.country, source=args.source, edition=args.edition,
            mapping=mapping, store=store, lang=lang, title=args.title, basis=BASIS.get(args.basis or ""),
            notes=args.notes, projections=args.projections, progress=progress))
    except CheckStopped as stop:
        return _error(args, lang, stop.message(lang))
    ok = prep.ok and bool(prep.datasets)
    versions, drops, refused = [], [], False
    storing = ok and not args.dry_run
    if ok and (args.dry_run or not args.publish or args.confirm_drop):  # commit says it otherwise
        drops = _drop_reports(prep, store, args.mode)
        refused = bool(drops) and args.publish and not args.confirm_drop  # only in a dry run
    if storing:
        for d in prep.datasets:  # before anything is stored
            require(user, Action.UPLOAD, d.meta.scope)
            if args.publish:
                require(user, Action.REVIEW, d.meta.scope)
        try:
            versions = commit(prep, store, actor=user.label, mode=args.mode, publish=args.publish,
                              confirm_drop=args.confirm_drop, lang=lang)
        except DropNotConfirmed as exc:  # nothing stored
            drops, refused = exc.reports, True
    ok = ok and not refused
    if args.json:
        report = _report(prep, versions, ok, drops)
        if refused:
            report["issues"] += [{**_issue_dict(Issue("error", describe(r, lang), file=r.label)),
                                  "message": f"{describe(r, lang)} {t('cli.ingest.drop_refused', lang)}"}
                                 for r in drops]
        print(json.dumps(report, ensure_ascii=False, default=str))
    else:
        _print_issues(prep.issues, lang)
        if refused:
            _print_drops(drops, lang, "")
            print(t("cli.ingest.drop_refused", lang), file=sys.stderr)
        elif drops:
            _print_drops(drops, lang, "cli.ingest.drop_confirmed" if args.publish else "cli.ingest.drop_draft")
        for d in prep.datasets:
            print(t("cli.ingest.dataset", lang, file=d.file, layout=d.layout, kind=d.meta.kind.value, rows=d.rows,
                    countries=len(d.countries), years=f"{d.years[0]}–{d.years[-1]}" if d.years else "–"))
        errors = sum(1 for i in prep.issues if i.level == "error")
        if refused:
            pass
        elif not ok:
            print(t("cli.ingest.blocked", lang, n=max(errors, 1)), file=sys.stderr)
        elif args.dry_run:
            print(t("cli.ingest.storable", lang, n=len(prep.datasets)))
        else:
            print(t("cli.ingest.stored", lang, n=len(versions), ids=", ".join(str(v.id) for v in versions)))
    return 0 if ok else 2


# ---- M&E portfolio workbooks (interventions, indicators, targets, actuals) -------------------------------


def _is_portfolio(upload) -> bool:
    """An M&E portfolio workbook (the Interventions page's template or export)."""
    from mmicd.io.xlsx_head import sheet_names
    from mmicd.me.workbook import is_portfolio

    try:
        return is_portfolio(sheet_names(upload.data))
    except Exception:  # noqa: BLE001 - not an xlsx: the tables path reports it
        return False


def _run_portfolios(args, lang: str, store, uploads) -> int:
    """The M&E workbook import (same issues, same dry run, one transaction per file), reported like tables.

    Every file is checked before any is stored; storing needs a role that may edit targets."""
    from mmicd.me.workbook_read import import_workbook

    user = args.actor

    def run(dry_run: bool) -> list:
        return [import_workbook(store, u.data, user=user, lang=lang, file=u.name, dry_run=dry_run) for u in uploads]

    results = run(True)
    ok = not any(i.level == "error" for r in results for i in r.issues)
    stored = False
    if ok and not args.dry_run:
        results = run(False)
        stored = all(r.stored for r in results)
        ok = stored
    issues = [i for r in results for i in r.issues]
    datasets = [{"id": None, "kind": "interventions", "layout": "me_portfolio", "file": u.name,
                 "rows": sum(r.counts.values()), "countries": list(r.countries), "years": [], "counts": r.counts}
                for u, r in zip(uploads, results, strict=True)]
    if args.json:
        print(json.dumps({"status": "ok" if ok else "error", "datasets": datasets, "stored": stored,
                          "issues": [_issue_dict(i) for i in issues]}, ensure_ascii=False, default=str))
    else:
        _print_issues(issues, lang)
        for d in datasets:
            c = d["counts"]
            print(t("cli.ingest.portfolio", lang, file=d["file"], interventions=c["interventions"],
                    indicators=c["indicators"], actuals=c["actuals"], stages=c["stages"]))
        if not ok:
            print(t("cli.ingest.blocked", lang, n=max(sum(1 for i in issues if i.level == "error"), 1)),
                  file=sys.stderr)
        elif args.dry_run:
            print(t("cli.ingest.portfolio_storable", lang))
        else:
            print(t("cli.ingest.portfolio_stored", lang))
    return 0 if ok else 2
