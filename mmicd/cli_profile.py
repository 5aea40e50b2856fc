"""``python -m mmicd profile --country ISO3 [--year YEAR] --out FILE``: export a country brief.

The suffix of FILE picks the format (.xlsx, .html, .pdf, .json); the brief is in the language of
``--lang`` and reads published data only.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mmicd.i18n import t


def register(sub, lang: str) -> None:
    p = sub.add_parser("profile", help=t("cli.profile.help", lang), description=t("cli.profile.help", lang))
    p.add_argument("--country", required=True, help=t("cli.profile.country", lang))
    p.add_argument("--year", help=t("cli.profile.year", lang))
    p.add_argument("--out", required=True, help=t("cli.profile.out", lang))
    p.set_defaults(func=run)


def run(args, lang: str) -> int:
    from mmicd import codes
    from mmicd.profile import profile_from_store
    from mmicd.profile.brief import MIME, export

    country = codes.resolve_area(args.country)
    if country is None:
        print(t("cli.profile.unknown_country", lang, country=args.country), file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.suffix.lower().lstrip(".") not in MIME:
        print(t("cli.profile.bad_suffix", lang, suffix=out.suffix or "''"), file=sys.stderr)
        return 2
    profile = profile_from_store(args.store, country, args.year, lang)
    export(profile, out)
    print(t("cli.profile.written", lang, country=profile.name, path=out))
    return 0
