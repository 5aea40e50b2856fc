"""The one translation layer: every user-facing string goes through :func:`t`, every number, amount
and date through the ``format_*`` functions below, all from CLDR (Babel) for the language's locale.

Catalogues are flat YAML files ``data/i18n/<lang>/<area>.yml`` (key -> text with ``{named}``
fields), one file per area of the app (core, ingest, indicators, me, ...) so that each area keeps its
own strings; a key defined in two files is an error.
The languages are the folders of ``data/i18n/``, each named after its CLDR locale (``en``, ``fr``,
``pt``, ``pt_BR``): a new language is a folder of catalogues, nothing in the code; its name in the
language picker, its plural rules, separators, currency and date patterns all come from CLDR.
A missing key raises in tests (see ``tests/test_i18n.py``); at run time it falls back to English,
then to the key itself, so that a user never sees a traceback for a missing label.

A text may hold ICU MessageFormat-style plural blocks, resolved by :func:`t` with the CLDR cardinal
rules of the language: ``{n, plural, =0 {no dataset} one {# dataset} other {# datasets}}`` (``#`` is
the field's value as passed; ``=N`` matches exactly; a missing category falls back to ``other``,
which every block must have). Other ``{field}``s may appear inside the branches.
"""

from __future__ import annotations

import copy
import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from string import Formatter

import yaml
from babel import Locale, UnknownLocaleError
from babel import dates as cldr_dates
from babel import numbers as cldr_numbers

from mmicd import DATA_DIR

I18N_DIR = DATA_DIR / "i18n"


class DuplicateKeyError(ValueError):
    pass


def languages() -> tuple[str, ...]:
    """The languages with a catalogue folder in ``data/i18n/``: English (the fallback) first, then by code."""
    return _languages(I18N_DIR)


@cache
def _languages(folder: Path) -> tuple[str, ...]:
    found = [p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("*.yml"))]
    for name in found:
        try:
            Locale.parse(name)
        except (UnknownLocaleError, ValueError) as exc:
            raise ValueError(f"{folder / name}: the folder of a language is named after its CLDR locale "
                             f"(en, fr, pt, pt_BR): {exc}") from exc
    return tuple(sorted(found, key=lambda name: (name != "en", name)))


def language_name(lang: str) -> str:
    """The language's name in itself, as a menu shows it (CLDR): English, Français, Español, Português."""
    name = Locale.parse(_locale(lang).language).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]  # CLDR's "uiListOrMenu" context: first letter capitalised


def catalogue(lang: str) -> dict[str, str]:
    return _catalogue(I18N_DIR, lang)


@cache
def _catalogue(folder: Path, lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((folder / lang).glob("*.yml")):
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        for key, text in data.items():
            if str(key) in merged:
                raise DuplicateKeyError(f"{path}: key '{key}' is already defined in another {lang} file")
            merged[str(key)] = str(text)
    return merged


def t(key: str, lang: str = "en", /, **fields: object) -> str:
    """Translate ``key`` into ``lang``, resolve its plural blocks and fill its ``{named}`` fields."""
    lang = lang if lang in languages() else "en"
    text = catalogue(lang).get(key)
    if text is None:
        lang, text = "en", catalogue("en").get(key, key)
    if not fields:
        return text
    message = parse_message(text)
    if message is not None:
        text = _resolve(message, lang, fields)
    return text.format(**fields)


# --- Plural blocks -------------------------------------------------------------------------------
# A parsed message is a list of str.format fragments and (field, {selector: message}) blocks; ``#``
# inside a branch is turned into ``{field}`` at parse time, so one str.format fills everything.

_PLURAL_HEAD = re.compile(r"\{\s*(\w+)\s*,\s*plural\s*,")
_SELECTOR = re.compile(r"\s*(=\d+(?:\.\d+)?|zero|one|two|few|many|other)\s*\{")
_BLOCK_END = re.compile(r"\s*\}")
_FIELD = re.compile(r"\{[^{}]*\}")
Message = list  # of str | tuple[str, dict[str, Message]]


class MessageSyntaxError(ValueError):
    pass


@cache
def parse_message(text: str) -> Message | None:
    """The plural blocks of ``text`` parsed (cached per text); ``None`` when it has none."""
    if "plural" not in text:
        return None
    message, end = _parse(text, 0, None)
    if end != len(text):
        raise MessageSyntaxError(f"unbalanced '}}' at {end} in {text!r}")
    return message if any(isinstance(part, tuple) for part in message) else None


def _parse(text: str, pos: int, arg: str | None) -> tuple[Message, int]:
    """Parse from ``pos`` up to the ``}`` closing a branch of ``arg``'s block (or the end)."""
    out: Message = []
    chunk: list[str] = []
    while pos < len(text):
        c = text[pos]
        if arg is None and text.startswith(("{{", "}}"), pos):  # str.format's escapes (outside branches)
            chunk.append(text[pos:pos + 2])
            pos += 2
        elif c == "}":
            if arg is None:
                break
            return [*out, "".join(chunk)], pos + 1
        elif c == "#" and arg is not None:
            chunk.append("{" + arg + "}")
            pos += 1
        elif c == "{" and (head := _PLURAL_HEAD.match(text, pos)):
            out.append("".join(chunk))
            chunk = []
            block, pos = _parse_block(text, head.end(), head.group(1))
            out.append(block)
        elif c == "{":
            if not (field := _FIELD.match(text, pos)):
                raise MessageSyntaxError(f"unclosed '{{' at {pos} in {text!r}")
            chunk.append(field.group())
            pos = field.end()
        else:
            chunk.append(c)
            pos += 1
    if arg is not None:
        raise MessageSyntaxError(f"unclosed plural branch of '{arg}' in {text!r}")
    return [*out, "".join(chunk)], pos


def _parse_block(text: str, pos: int, arg: str) -> tuple[tuple[str, dict[str, Message]], int]:
    branches: dict[str, Message] = {}
    while True:
        if end := _BLOCK_END.match(text, pos):
            break
        if not (selector := _SELECTOR.match(text, pos)):
            raise MessageSyntaxError(f"bad plural selector at {pos} in {text!r}")
        name = selector.group(1)
        name = f"={Decimal(name[1:]).normalize():f}" if name[0] == "=" else name
        if name in branches:
            raise MessageSyntaxError(f"plural selector '{name}' twice in {text!r}")
        branches[name], pos = _parse(text, selector.end(), arg)
    if "other" not in branches:
        raise MessageSyntaxError(f"plural block of '{arg}' has no 'other' in {text!r}")
    return (arg, branches), end.end()


def message_fields(text: str) -> set[str]:
    """The fields ``text`` uses: its ``{field}``s, its plural blocks' fields and the fields in their branches."""
    names: set[str] = set()

    def walk(message: Message) -> None:
        for part in message:
            if isinstance(part, str):
                names.update(re.match(r"\w*", f).group() for _, f, _, _ in Formatter().parse(part) if f)
            else:
                names.add(part[0])
                for branch in part[1].values():
                    walk(branch)

    walk(parse_message(text) or [text])
    return names


def _resolve(message: Message, lang: str, fields: dict[str, object]) -> str:
    """The str.format text of ``message`` with each plural block replaced by its chosen branch."""
    parts = []
    for part in message:
        if isinstance(part, str):
            parts.append(part)
            continue
        arg, branches = part
        number = plural_operand(fields[arg], lang)
        exact = None if number is None else branches.get(f"={number.normalize():f}")
        chosen = exact or branches.get(plural_category(number, lang)) or branches["other"]
        parts.append(_resolve(chosen, lang, fields))
    return "".join(parts)


# --- Numbers, amounts and dates (CLDR through Babel, for the language's locale) --------------------
@cache
def _locale(lang: str) -> Locale:
    """The CLDR locale of ``lang``: its catalogue's ``babel.locale`` (English is ``en_001``,
    international English as the UN writes it: "US$", "15 May 2026"), else the folder's name."""
    try:
        return Locale.parse(catalogue(lang).get("babel.locale") or lang)
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en_001")


@cache
def _pattern(lang: str, kind: str, decimals: int) -> cldr_numbers.NumberPattern:
    """The locale's own decimal, percent or currency pattern, with exactly ``decimals`` decimals."""
    locale = _locale(lang)
    formats = getattr(locale, f"{kind}_formats")  # decimal_formats, percent_formats, currency_formats
    pattern = copy.copy(formats["standard" if kind == "currency" else None])
    pattern.frac_prec = (decimals, decimals)
    return pattern


def _missing(value: object) -> bool:
    """None, NaN or infinite (Python, numpy or Decimal)."""
    try:
        return value is None or not math.isfinite(value)
    except TypeError:
        return False


def _decimal(value: float | int | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def plural_operand(value: object, lang: str = "en") -> Decimal | None:
    """The number a plural block selects on: ints and floats as they are, a string as written in
    ``lang`` (``"1,234"`` in English, ``"3,5"`` in French); ``None`` when it is not a number."""
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        return parse_number(value, lang)
    return None


_SPACES = re.compile("[ \u00a0\u202f]")


def parse_number(text: str, lang: str = "en") -> Decimal | None:
    """A number written with the separators of ``lang`` (CLDR; a space-like thousands separator may
    be typed as any space), its groups checked; ``None`` when ``text`` is not such a number."""
    locale = _locale(lang)
    text = text.strip()
    group = cldr_numbers.get_group_symbol(locale)
    if _SPACES.fullmatch(group):
        text = _SPACES.sub(group, text)
    try:
        number = cldr_numbers.parse_decimal(text, locale=locale, strict=True)
    except (cldr_numbers.NumberFormatError, InvalidOperation):
        return None
    return number if number.is_finite() else None


def plural_category(number: Decimal | None, lang: str) -> str:
    """The CLDR cardinal category (``one``, ``few``, ``many``, ``other``...) of ``number`` in ``lang``."""
    return "other" if number is None else _locale(lang).plural_form(number)


def format_number(value: float | int | None, lang: str = "en", decimals: int = 0) -> str:
    """A number with ``decimals`` decimals and the separators of ``lang``; ``None``/NaN gives '–'."""
    if _missing(value):
        return "–"
    return _pattern(lang, "decimal", decimals).apply(_decimal(value), _locale(lang))


def format_percent(value: float | None, lang: str = "en", decimals: int = 1) -> str:
    """A value in percent (18.8 for 18.8%) as ``lang`` writes a percentage: 18.8%, 18,8 %."""
    if _missing(value):
        return "–"
    return _pattern(lang, "percent", decimals).apply(_decimal(value).scaleb(-2), _locale(lang))


def format_compact(value: float | None, lang: str = "en", short: bool = False) -> str:
    """Large amounts in words (CLDR compact long forms, plural-aware): 15.8 million, 1,2 million,
    2,5 millions, 10,8 mil millones; ``short``: CLDR's short forms where space is scarce (10.8B,
    10,8 Md, 10,8 mil M); below a million the number in full."""
    if _missing(value):
        return "–"
    if abs(value) < 1_000_000:
        return format_number(value, lang, 0)
    return cldr_numbers.format_compact_decimal(_decimal(value), format_type="short" if short else "long",
                                               locale=_locale(lang), fraction_digits=1)


def format_currency(value: float | None, currency: str, lang: str = "en", decimals: int | None = None,
                    compact: bool = False, short: bool = False) -> str:
    """An amount in ``currency`` (ISO 4217) as ``lang`` writes it: $1,234.56, 1 234,56 $US, 1.234,56 US$;
    ``decimals``: the currency's own (2 for USD) unless given; ``compact``: a million and more in
    words ($10.8 billion, 10,8 milliards $US)."""
    if _missing(value):
        return "–"
    locale = _locale(lang)
    if compact and abs(value) >= 1_000_000:
        # the locale's currency pattern around the compact number: its symbol, its side, its sign
        shell = _pattern(lang, "currency", 0).apply(Decimal(-1 if value < 0 else 1), locale,
                                                    currency=currency, currency_digits=False)
        return shell.replace("1", format_compact(abs(value), lang, short), 1)
    return _pattern(lang, "currency", decimals or 0).apply(_decimal(value), locale, currency=currency,
                                                           currency_digits=decimals is None)


def format_value(value: float | None, unit: str, lang: str = "en", compact: bool = False,
                 fit: int | None = None) -> str:
    """A value as shown to users, by unit: ``percent``, ``points`` (percentage points), ``usd``
    (compact, e.g. US$10.8 billion) or a count of persons (in full, or compact). ``fit``: the most
    characters the place holds (a metric card); a longer compact form becomes CLDR's short one
    (2,6 mil millones US$ -> 2,6 mil M US$)."""
    text = _format_value(value, unit, lang, compact)
    if fit is not None and len(text) > fit and unit == "usd":
        return format_currency(value, "USD", lang, decimals=0, compact=True, short=True)
    if fit is not None and len(text) > fit and compact and unit not in ("percent", "points", "per_1000", "per_100000"):
        return format_compact(value, lang, short=True)
    return text


def _format_value(value: float | None, unit: str, lang: str, compact: bool) -> str:
    if _missing(value):
        return "–"
    if unit == "percent":
        return format_percent(value, lang)
    if unit == "points":
        return t("profile.unit.points_value", lang, n=format_number(value, lang, 1))
    if unit == "usd":
        return format_currency(value, "USD", lang, decimals=0, compact=True)
    if unit in ("per_1000", "per_100000"):
        return t(f"unit.{unit}_value", lang, n=format_number(value, lang, 1))
    return format_compact(value, lang) if compact else format_number(value, lang, 0)


def format_date(day: date | None, lang: str = "en") -> str:
    """A day as ``lang`` writes it in full: December 7, 2026; 7 décembre 2026; 7 de diciembre de 2026."""
    return "–" if day is None else cldr_dates.format_date(day, "long", locale=_locale(lang))


def format_month(day: date | None, lang: str = "en") -> str:
    """A month and its year: December 2026; décembre 2026; diciembre de 2026."""
    return "–" if day is None else cldr_dates.format_skeleton("yMMMM", day, locale=_locale(lang))


def format_period(start: date, end: date, lang: str = "en") -> str:
    """From one day to another, as ``lang`` writes an interval: Jul 1 – Sep 30, 2026; 1–31 juil. 2026."""
    return cldr_dates.format_interval(start, end, "yMMMMd", locale=_locale(lang))


def format_datetime(moment: datetime | None, lang: str = "en") -> str:
    """A moment in UTC, date and time, as ``lang`` writes it (CLDR long form, with the time zone)."""
    return "–" if moment is None else cldr_dates.format_datetime(moment, "long", tzinfo=UTC, locale=_locale(lang))


def plotly_separators(lang: str = "en") -> str:
    """Plotly's ``separators`` for ``lang``: its decimal mark, then its thousands separator."""
    locale = _locale(lang)
    return cldr_numbers.get_decimal_symbol(locale) + cldr_numbers.get_group_symbol(locale)
