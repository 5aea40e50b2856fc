"""Settings from the environment, with embedded defaults (SQLite in a data folder, English)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mmicd import ROOT

LANGUAGES = ("en", "fr", "es")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    language: str
    default_country: str

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings(env: dict[str, str] | None = None) -> Settings:
    """Read ``MMICD_DATA_DIR``, ``MMICD_DATABASE_URL``, ``MMICD_LANG`` and ``MMICD_DEFAULT_COUNTRY``."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("MMICD_DATA_DIR") or ROOT / "var").expanduser().resolve()
    url = env.get("MMICD_DATABASE_URL") or f"sqlite:///{data_dir / 'mmicd.sqlite'}"
    lang = env.get("MMICD_LANG", "en").lower()
    if lang not in LANGUAGES:
        lang = "en"
    country = env.get("MMICD_DEFAULT_COUNTRY", "NPL").upper()
    return Settings(data_dir=data_dir, database_url=url, language=lang, default_country=country)
