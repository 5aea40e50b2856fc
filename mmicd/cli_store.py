"""Store commands: ``seed`` (load the international baseline, published: reviewers and admins) and
``datasets`` (list the versions the account may see: published ones, and drafts in its scope)."""

from __future__ import annotations

from mmicd.config import get_settings
from mmicd.i18n import t


def register(sub, lang: str) -> None:
    seed = sub.add_parser("seed", help=t("cli.seed.help", lang), description=t("cli.seed.help", lang))
    seed.add_argument("--force", action="store_true", help=t("cli.seed.force", lang))
    seed.set_defaults(func=run_seed)
    datasets = sub.add_parser("datasets", help=t("cli.datasets.help", lang),
                              description=t("cli.datasets.help", lang))
    datasets.set_defaults(func=run_datasets)


def run_seed(args, lang: str) -> int:
    from mmicd.auth import Action, require
    from mmicd.baseline import ensure_seeded, seed
    from mmicd.cli import safe_url

    require(args.actor, Action.REVIEW)  # the baseline is stored published
    store = args.store
    loaded = seed(store) if args.force else ensure_seeded(store)
    key = "cli.seed.done" if loaded else "cli.seed.nothing"
    print(t(key, lang, n=len(loaded), url=safe_url(get_settings().database_url)))
    return 0


def run_datasets(args, lang: str) -> int:
    from mmicd.workflow import visible_datasets

    for v in visible_datasets(args.store, args.actor):
        print(f"{v.id}\t{v.kind.value}\t{v.source}\t{v.edition}\tv{v.version}\t{v.status.value}\t{v.rows}")
    return 0
