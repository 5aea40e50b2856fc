"""Store commands: ``seed`` (load the international baseline, published: reviewers and admins),
``datasets`` (list the versions the account may see: published ones, and drafts in its scope) and
``store migrate`` (as the database owner, no account: the schema may not exist yet) /
``store import-microdata`` (admins)."""

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
    store = sub.add_parser("store", help=t("cli.store.help", lang), description=t("cli.store.help", lang))
    admin = store.add_subparsers(dest="store_command", required=True)
    migrate = admin.add_parser("migrate", help=t("cli.store.migrate.help", lang),
                               description=t("cli.store.migrate.help", lang))
    migrate.add_argument("--app-role", help=t("cli.store.app_role", lang))
    migrate.set_defaults(func=run_migrate, signed_in=False)  # the owner's database URL is the credential
    move = admin.add_parser("import-microdata", help=t("cli.store.import.help", lang),
                            description=t("cli.store.import.help", lang))
    move.set_defaults(func=run_import_microdata)


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


def run_migrate(args, lang: str) -> int:
    """Upgrade the schema as the tables' owner; on PostgreSQL grant the application role its rights."""
    from mmicd.cli import safe_url
    from mmicd.store import app_role_of, make_engine, migrate, schema_revision

    settings = get_settings()
    owner_url = settings.migration_database_url or settings.database_url
    role = args.app_role or app_role_of(settings.database_url, owner_url)
    engine = make_engine(owner_url)
    try:
        statements = migrate(engine, app_role=role)
        print(t("cli.store.migrated", lang, url=safe_url(owner_url), revision=schema_revision(engine)))
    finally:
        engine.dispose()
    if statements:
        print(t("cli.store.granted", lang, role=role, n=len(statements)))
    return 0


def run_import_microdata(args, lang: str) -> int:
    from mmicd.auth import Action, require

    require(args.actor, Action.MANAGE_USERS)  # an administrator's task
    moved, missing = args.store.import_microdata_files(actor=args.actor.username)
    print(t("cli.store.imported", lang, n=len(moved)))
    for error in missing:
        print(error.message(lang))
    return 1 if missing else 0
