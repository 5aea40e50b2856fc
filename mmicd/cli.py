"""Command line: ``python -m mmicd [--lang LANG] COMMAND``.

Commands: ``seed`` loads the international baseline; ``datasets`` lists dataset versions.
Later issues add ``ingest``, ``indicators`` and ``profile``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from mmicd.config import LANGUAGES, get_settings
from mmicd.i18n import t


def _lang_from(argv: Sequence[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return os.environ.get("MMICD_LANG", "en")


def build_parser(lang: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mmicd", description=t("cli.description", lang))
    parser.add_argument("--lang", choices=LANGUAGES, default=lang, help=t("cli.lang", lang))
    sub = parser.add_subparsers(dest="command", required=True)
    seed = sub.add_parser("seed", help=t("cli.seed.help", lang), description=t("cli.seed.help", lang))
    seed.add_argument("--force", action="store_true", help=t("cli.seed.force", lang))
    sub.add_parser("datasets", help=t("cli.datasets.help", lang), description=t("cli.datasets.help", lang))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_from(argv)
    args = build_parser(lang if lang in LANGUAGES else "en").parse_args(argv)
    lang = args.lang
    from mmicd.baseline import ensure_seeded, seed
    from mmicd.store import Store

    settings = get_settings()
    try:
        store = Store(settings.database_url)
        if args.command == "seed":
            loaded = seed(store) if args.force else ensure_seeded(store)
            key = "cli.seed.done" if loaded else "cli.seed.nothing"
            print(t(key, lang, n=len(loaded), url=_safe_url(settings.database_url)))
        elif args.command == "datasets":
            for v in store.datasets():
                print(f"{v.id}\t{v.kind.value}\t{v.source}\t{v.edition}\tv{v.version}\t{v.status.value}\t{v.rows}")
    except Exception as exc:  # a user never sees a traceback; the message names the problem
        print(t("cli.error", lang, message=exc), file=sys.stderr)
        return 1
    return 0


def _safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
