"""``python -m mmicd observations --dataset ID [--format csv|json] [--out FILE]``: the stored rows
of one dataset version, with their provenance (see :mod:`mmicd.dataset_export`).

A version is exported to the accounts that may download it on the Data sources page
(:func:`mmicd.dataset_export.may_export`: published ones for everybody, drafts and survey person
records within the account's countries). Without ``--out`` the file goes to standard output. Exit 2
when the version does not exist or the account may not read it (nothing written).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mmicd.i18n import t


def register(sub, lang: str) -> None:
    from mmicd.dataset_export import FORMATS

    p = sub.add_parser("observations", help=t("cli.observations.help", lang),
                       description=t("cli.observations.description", lang))
    p.add_argument("--dataset", required=True, metavar="ID", help=t("cli.observations.dataset", lang))
    p.add_argument("--format", choices=FORMATS, help=t("cli.observations.format", lang))
    p.add_argument("--out", metavar="FILE", help=t("cli.observations.out", lang))
    p.set_defaults(func=run)


def run(args, lang: str) -> int:
    from mmicd.dataset_export import FORMATS, may_export, write_export
    from mmicd.store import StoreError

    fmt = args.format or (Path(args.out).suffix.lower().lstrip(".") if args.out else "csv")
    if fmt not in FORMATS:
        fmt = "csv"
    raw = str(args.dataset).strip().lstrip("#")
    if not raw.isdigit():
        print(t("cli.observations.bad_id", lang, id=args.dataset), file=sys.stderr)
        return 2
    store, user = args.store, args.actor
    try:
        version = store.dataset(int(raw))
    except StoreError:
        print(t("cli.observations.unknown", lang, id=raw), file=sys.stderr)
        return 2
    if not may_export(user, version):
        print(t("cli.observations.denied", lang, id=version.id, status=t(f"status.{version.status.value}", lang),
                user=user.username, role=t(f"role.{user.role.value}", lang)), file=sys.stderr)
        return 2
    if not args.out:
        try:
            write_export(store, version, sys.stdout.buffer, fmt)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # the reader stopped early (`| head`): no error to report
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    out = Path(args.out)
    try:
        with open(out, "wb") as fh:
            rows = write_export(store, version, fh, fmt)
    except BaseException:
        out.unlink(missing_ok=True)  # never leave half a file behind
        raise
    print(t("cli.observations.written", lang, rows=rows, id=version.id, version=version.version,
            status=t(f"status.{version.status.value}", lang), path=out), file=sys.stderr)
    return 0
