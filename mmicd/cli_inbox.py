"""``python -m mmicd inbox send``: today's inbox digest to every account with an e-mail address, at
most once a day (:mod:`mmicd.mail`; for cron). Administrators only; exit 2 without an SMTP server."""

from __future__ import annotations

import sys
from datetime import date

from mmicd.i18n import t


def register(sub, lang: str) -> None:
    p = sub.add_parser("inbox", help=t("inbox.cli.help", lang), description=t("inbox.cli.help", lang))
    inner = p.add_subparsers(dest="inbox_command", required=True)
    inner.add_parser("send", help=t("inbox.cli.send", lang), description=t("inbox.cli.send", lang))
    p.set_defaults(func=run)


def run(args, lang: str) -> int:
    from mmicd.auth import Action, require
    from mmicd.mail import send_digests, smtp_settings

    require(args.actor, Action.MANAGE_USERS)
    smtp = smtp_settings()
    if smtp is None:
        print(t("inbox.cli.no_smtp", lang), file=sys.stderr)
        return 2
    sent, skipped = send_digests(args.store, smtp, date.today(), lang)
    print(t("inbox.cli.sent", lang, n=sent, skipped=skipped))
    return 0
