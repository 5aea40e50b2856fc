"""Command line: ``python -m mmicd [--lang LANG] COMMAND``.

Each command lives in a module with ``register(subparsers, lang)`` (adds its parser, sets
``func``) and a ``run(args, lang) -> int`` it points to; :data:`COMMAND_MODULES` lists them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from mmicd.config import LANGUAGES, get_settings
from mmicd.i18n import t

COMMAND_MODULES = ["mmicd.cli_store", "mmicd.cli_indicators", "mmicd.cli_ingest", "mmicd.cli_profile",
                   "mmicd.cli_export"]


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
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, lang)
    return parser


def open_store():
    """The configured store (migrated), for commands."""
    from mmicd.store import Store

    return Store(get_settings().database_url)


def safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_from(argv)
    args = build_parser(lang if lang in LANGUAGES else "en").parse_args(argv)
    try:
        return int(args.func(args, args.lang) or 0)
    except Exception as exc:  # a user never sees a traceback; the message names the problem
        print(t("cli.error", args.lang, message=exc), file=sys.stderr)
        return 1
