"""Settings from the environment, with embedded defaults (SQLite in a data folder, English)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mmicd import ROOT
from mmicd.i18n import languages

LANGUAGES = languages()  # the folders of data/i18n/ when the app starts (mmicd.i18n.languages)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    language: str
    default_country: str
    check_seconds: float = 120.0     # a check of uploaded files stops past this (MMICD_CHECK_SECONDS)
    check_megabytes: float = 3072.0  # ... or when it has grown the server by this much (MMICD_CHECK_MB)
    migration_database_url: str | None = None  # the tables' owner, for migrations (MMICD_MIGRATION_DATABASE_URL)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings(env: dict[str, str] | None = None) -> Settings:
    """Read ``MMICD_DATA_DIR``, ``MMICD_DATABASE_URL``, ``MMICD_LANG``, ``MMICD_DEFAULT_COUNTRY`` and the
    budget of a check of uploaded files on the upload page, ``MMICD_CHECK_SECONDS`` (default 120) and
    ``MMICD_CHECK_MB`` (default 3072: memory the check may add to the server); and
    ``MMICD_MIGRATION_DATABASE_URL``, the role owning the tables, which upgrades the schema (default:
    ``MMICD_DATABASE_URL`` itself)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("MMICD_DATA_DIR") or ROOT / "var").expanduser().resolve()
    url = env.get("MMICD_DATABASE_URL") or f"sqlite:///{data_dir / 'mmicd.sqlite'}"
    lang = {name.lower(): name for name in languages()}.get(env.get("MMICD_LANG", "en").lower(), "en")
    country = env.get("MMICD_DEFAULT_COUNTRY", "NPL").upper()
    return Settings(data_dir=data_dir, database_url=url, language=lang, default_country=country,
                    check_seconds=_positive(env.get("MMICD_CHECK_SECONDS"), 120.0),
                    check_megabytes=_positive(env.get("MMICD_CHECK_MB"), 3072.0),
                    migration_database_url=env.get("MMICD_MIGRATION_DATABASE_URL") or None)


def _positive(text: str | None, default: float) -> float:
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if value > 0 else default
