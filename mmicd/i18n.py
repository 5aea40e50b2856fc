"""The one translation layer: every user-facing string goes through :func:`t`.

Catalogues are flat YAML files ``data/i18n/<lang>/<area>.yml`` (key -> text with ``{named}``
fields), one file per area of the app (core, ingest, indicators, me, ...) so that each area keeps its
own strings; a key defined in two files is an error.
A missing key raises in tests (see ``tests/test_i18n.py``); at run time it falls back to English,
then to the key itself, so that a user never sees a traceback for a missing label.

A text may hold ICU MessageFormat-style plural blocks, resolved by :func:`t` with the CLDR cardinal
rules of the language: ``{n, plural, =0 {no dataset} one {# dataset} other {# datasets}}`` (``#`` is
the field's value as passed; ``=N`` matches exactly; a missing category falls back to ``other``,
which every block must have). Other ``{field}``s may appear inside the branches.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import cache
from string import Formatter

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
    """Translate ``key`` into ``lang``, resolve its plural blocks and fill its ``{named}`` fields."""
    lang = lang if lang in LANGUAGES else "en"
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
        lang = lang if lang in _SEPARATORS else "en"
        if _number_pattern(lang).match(value.strip()):
            return Decimal(re.sub(_THOUSANDS[lang], "", value.strip()).replace(_SEPARATORS[lang][1], "."))
    return None


def plural_category(number: Decimal | None, lang: str) -> str:
    """The CLDR cardinal category (``one``, ``many``, ``other``) of ``number`` in ``lang``."""
    if number is None:
        return "other"
    n = abs(number)
    i = int(n)
    v = max(0, -n.as_tuple().exponent)
    if lang == "fr":
        if i in (0, 1):
            return "one"
    elif lang == "es":
        if n == 1:
            return "one"
    else:
        return "one" if i == 1 and v == 0 else "other"
    return "many" if i != 0 and i % 1_000_000 == 0 and v == 0 else "other"


# Separators as written in each language: 15,762,457.5 / 15 762 457,5 / 15.762.457,5
_SEPARATORS = {"en": (",", "."), "fr": ("\u202f", ","), "es": (".", ",")}
# Thousands separators accepted when reading a number back (French also: no-break and plain space)
_THOUSANDS = {"en": ",", "fr": "[\u202f\u00a0 ]", "es": r"\."}


@cache
def _number_pattern(lang: str) -> re.Pattern[str]:
    """A number as written in ``lang``: optional sign, digits grouped by threes or not, decimals."""
    thousands, decimal = _THOUSANDS[lang], re.escape(_SEPARATORS[lang][1])
    return re.compile(rf"[+-]?(?:\d{{1,3}}(?:{thousands}\d{{3}})+|\d+)(?:{decimal}\d+)?$")


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
