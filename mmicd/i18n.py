"""The one translation layer: every user-facing string goes through :func:`t`.

Catalogues are flat YAML files ``data/i18n/<lang>/<area>.yml`` (key -> text with ``{named}``
fields), one file per area of the app (core, ingest, indicators, me, ...) so that each area keeps its
own strings; a key defined in two files is an error.
A missing key raises in tests (see ``tests/test_i18n.py``); at run time it falls back to English,
then to the key itself, so that a user never sees a traceback for a missing label.
"""

from __future__ import annotations

import math
from functools import cache

import yaml

from mmicd import DATA_DIR
from mmicd.config import LANGUAGES

I18N_DIR = DATA_DIR / "i18n"


class DuplicateKeyError(ValueError):
    pass


@cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((I18N_DIR / lang).glob("*.yml")):
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        for key, text in data.items():
            if str(key) in merged:
                raise DuplicateKeyError(f"{path}: key '{key}' is already defined in another {lang} file")
            merged[str(key)] = str(text)
    return merged


def t(key: str, lang: str = "en", /, **fields: object) -> str:
    """Translate ``key`` into ``lang`` and fill its ``{named}`` fields."""
    text = catalogue(lang if lang in LANGUAGES else "en").get(key)
    if text is None:
        text = catalogue("en").get(key, key)
    return text.format(**fields) if fields else text


# Separators as written in each language: 15,762,457.5 / 15 762 457,5 / 15.762.457,5
_SEPARATORS = {"en": (",", "."), "fr": ("\u202f", ","), "es": (".", ",")}


def format_number(value: float | int | None, lang: str = "en", decimals: int = 0) -> str:
    """Format a number with the thousands and decimal separators of ``lang``; ``None``/NaN gives '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    thousands, decimal = _SEPARATORS.get(lang, _SEPARATORS["en"])
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)


def format_percent(value: float | None, lang: str = "en", decimals: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sep = "\u202f" if lang == "fr" else ""
    return f"{format_number(value, lang, decimals)}{sep}%"


def format_compact(value: float | None, lang: str = "en") -> str:
    """Large amounts in words: 15.8 million, 41.2 billion (translated units)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    for power, key in ((12, "unit.trillion"), (9, "unit.billion"), (6, "unit.million")):
        if abs(value) >= 10**power:
            return t(key, lang, n=format_number(value / 10**power, lang, 1))
    return format_number(value, lang, 0)


def format_value(value: float | None, unit: str, lang: str = "en", compact: bool = False) -> str:
    """A value as shown to users, by unit: ``percent``, ``points`` (percentage points), ``usd``
    (compact, e.g. US$ 10.8 billion) or a count of persons (in full, or compact)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "percent":
        return format_percent(value, lang)
    if unit == "points":
        return t("profile.unit.points_value", lang, n=format_number(value, lang, 1))
    if unit == "usd":
        return t("unit.usd_amount", lang, amount=format_compact(value, lang))
    if unit in ("per_1000", "per_100000"):
        return t(f"unit.{unit}_value", lang, n=format_number(value, lang, 1))
    return format_compact(value, lang) if compact else format_number(value, lang, 0)
