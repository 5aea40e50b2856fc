"""``python -m mmicd indicators``: compute the catalogue from the store and write it to stdout."""

from __future__ import annotations

import sys

from mmicd.i18n import t


def register(sub, lang: str) -> None:
    from mmicd.engine.export import FORMATS

    p = sub.add_parser("indicators", help=t("cli.indicators.help", lang), description=t("cli.indicators.help", lang))
    p.add_argument("--country", help=t("cli.indicators.country", lang))
    p.add_argument("--indicator", nargs="+", metavar="ID", help=t("cli.indicators.indicator", lang))
    p.add_argument("--year", help=t("cli.indicators.year", lang))
    p.add_argument("--format", choices=FORMATS, default="csv", help=t("cli.indicators.format", lang))
    p.add_argument("--include-drafts", action="store_true", help=t("cli.indicators.drafts", lang))
    p.set_defaults(func=run)


def run(args, lang: str) -> int:
    from mmicd import codes
    from mmicd.auth import Action, require
    from mmicd.engine import catalogue, compute
    from mmicd.engine.export import export, versions_of
    from mmicd.engine.inputs import WITH_DRAFTS
    from mmicd.workflow import visible_datasets

    country = None
    if args.country:
        country = codes.resolve_area(args.country)
        if country is None:
            print(t("cli.indicators.unknown_country", lang, country=args.country), file=sys.stderr)
            return 2
    known = catalogue()
    unknown = [i for i in args.indicator or [] if i not in known]
    if unknown:
        print(t("cli.indicators.unknown_indicator", lang, n=len(unknown), ids=", ".join(unknown), known=", ".join(known)),
              file=sys.stderr)
        return 2
    ids = None
    if args.include_drafts:  # the drafts the account may read (its countries'), with the published versions
        require(args.actor, Action.VIEW_DRAFTS, country)
        ids = [v.id for v in visible_datasets(args.store, args.actor) if v.status in WITH_DRAFTS]
    result = compute(args.store, country=country, indicators=args.indicator, year=args.year,
                     include_drafts=args.include_drafts, dataset_ids=ids)
    out = export(result.table, args.format, lang, versions_of(args.store, result.table))
    if isinstance(out, bytes):   # zips (SDMX-CSV with its structure, CSV with its data package)
        sys.stdout.flush()
        sys.stdout.buffer.write(out)
    else:
        sys.stdout.write(out)
    for issue in result.issues:
        if issue.level != "info":
            print(t("cli.indicators.issue", lang, file=issue.file or "", message=issue.message), file=sys.stderr)
    return 0
