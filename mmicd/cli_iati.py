"""``python -m mmicd iati --country ISO3 [--out FILE]``: the country's M&E portfolio as IATI 2.03
activities, the same file as the Interventions page's download (:func:`mmicd.me.iati.iati_xml`;
``SOURCE_DATE_EPOCH`` fixes the generation time).

The portfolio is public like the page (any signed-in account). Exit 2, nothing written, on an unknown
country or an export that cannot be made (reporting organisation, language or status; the message
says which).
"""

from __future__ import annotations

import sys
from pathlib import Path

from mmicd.i18n import t


def register(sub, lang: str) -> None:
    p = sub.add_parser("iati", help=t("iati.cli.help", lang), description=t("iati.cli.help", lang))
    p.add_argument("--country", required=True, help=t("iati.cli.country", lang))
    p.add_argument("--out", metavar="FILE", help=t("iati.cli.out", lang))
    p.set_defaults(func=run)


def run(args, lang: str) -> int:
    from mmicd import codes
    from mmicd.auth import Action, require
    from mmicd.me.iati import IatiError, export_portfolio, iati_xml

    require(args.actor, Action.VIEW_PUBLISHED)
    country = codes.resolve_area(args.country)
    if country is None:
        print(t("iati.cli.unknown_country", lang, country=args.country), file=sys.stderr)
        return 2
    portfolio = export_portfolio(args.store, country)
    try:
        data = iati_xml(portfolio)
    except IatiError as err:
        print(err.message(lang), file=sys.stderr)
        return 2
    if not args.out:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    out = Path(args.out)
    partial = out.with_name(out.name + ".part")
    try:
        partial.write_bytes(data)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    print(t("iati.cli.written", lang, n=len(portfolio.interventions), country=country, path=out), file=sys.stderr)
    return 0
