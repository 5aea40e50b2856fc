"""Command line: ``python -m mmicd [--lang LANG] [--user NAME] COMMAND``.

Every command acts as a named account (``--user`` or ``MMICD_USER``), signed in with its password
(``MMICD_PASSWORD``, or asked for when run in a terminal) exactly like on the sign-in page: same
lock-out, same audit trail, and the role's permissions of the pages. On a store without any account,
``MMICD_ADMIN_PASSWORD`` creates the first administrator (as the app's first start does).

Each command lives in a module with ``register(subparsers, lang)`` (adds its parser, sets
``func``) and a ``run(args, lang) -> int`` it points to; :data:`COMMAND_MODULES` lists them. ``main``
opens the store and signs in first: ``args.store`` and ``args.actor`` (a :class:`mmicd.auth.User`).
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import sys
from collections.abc import Mapping, Sequence

from mmicd.config import LANGUAGES, get_settings
from mmicd.i18n import t

COMMAND_MODULES = ["mmicd.cli_store", "mmicd.cli_indicators", "mmicd.cli_ingest", "mmicd.cli_profile",
                   "mmicd.cli_export", "mmicd.cli_iati", "mmicd.cli_inbox"]


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
    parser.add_argument("--user", metavar="NAME", default=os.environ.get("MMICD_USER"), help=t("cli.user", lang))
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


class Refused(Exception):
    """The command line does not act: ``key`` and ``fields`` make the translated message."""

    def __init__(self, key: str, **fields: object):
        self.key, self.fields = key, fields
        super().__init__(key)


def sign_in(store, username: str | None, lang: str, env: Mapping[str, str] | None = None):
    """The account the command acts as, signed in with its password (see the module's docstring)."""
    from mmicd.auth.accounts import SignInError, authenticate, ensure_admin, has_accounts

    env = os.environ if env is None else env
    if not has_accounts(store):
        if not env.get("MMICD_ADMIN_PASSWORD"):
            raise Refused("cli.auth.no_accounts")
        ensure_admin(store, env)
    if not username:
        raise Refused("cli.auth.no_user")
    password = env.get("MMICD_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise Refused("cli.auth.no_password", user=username)
        password = getpass.getpass(t("cli.auth.prompt", lang, user=username))
    try:
        return authenticate(store, username, password)
    except SignInError as err:
        raise Refused(f"auth.error.{err.reason}", minutes=err.minutes_left()) from None


def main(argv: Sequence[str] | None = None) -> int:
    from mmicd.auth import PermissionDenied

    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_from(argv)
    args = build_parser(lang if lang in LANGUAGES else "en").parse_args(argv)
    try:
        if getattr(args, "signed_in", True):  # ``store migrate`` acts as the database owner instead
            args.store = open_store()
            args.actor = sign_in(args.store, args.user, args.lang)
        return int(args.func(args, args.lang) or 0)
    except Refused as exc:
        print(t(exc.key, args.lang, **exc.fields), file=sys.stderr)
        return 2
    except PermissionDenied as exc:  # the role of the account does not allow the command: nothing changed
        key = "cli.auth.denied_country" if exc.country else "cli.auth.denied"
        print(t(key, args.lang, user=exc.user.username, role=t(f"role.{exc.user.role.value}", args.lang),
                country=exc.country), file=sys.stderr)
        return 2
    except Exception as exc:  # a user never sees a traceback; the message names the problem
        message = exc.message(args.lang) if callable(getattr(exc, "message", None)) else exc
        print(t("cli.error", args.lang, message=message), file=sys.stderr)
        return 1
