"""Every user-facing string goes through one translation layer, complete in EN, FR and ES."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmicd.config import LANGUAGES
from mmicd.i18n import (
    MessageSyntaxError,
    catalogue,
    format_number,
    format_percent,
    message_fields,
    parse_message,
    plural_category,
    plural_operand,
    t,
)
from mmicd.model import Kind, Status

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*ROOT.glob("mmicd/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py", ROOT / "dashboard.py"]
LITERAL_KEY = re.compile(r"""\b(?:t|tr)\(\s*["']([a-z_][\w.]*)["']""")
FSTRING_KEY = re.compile(r"""\b(?:t|tr)\(\s*f["']([a-z_][\w.]*)\{""")


def test_every_language_has_the_same_catalogue_files():
    from mmicd.i18n import I18N_DIR

    files = {lang: sorted(p.name for p in (I18N_DIR / lang).glob("*.yml")) for lang in LANGUAGES}
    assert files["en"] and all(names == files["en"] for names in files.values())


def test_all_languages_have_the_same_keys():
    english = set(catalogue("en"))
    for lang in LANGUAGES:
        assert set(catalogue(lang)) == english, f"{lang}: missing {english - set(catalogue(lang))}"


def test_every_key_used_in_the_code_exists():
    used = {m for path in SOURCES for m in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))}
    assert used, "the scan found no translated strings"
    missing = used - set(catalogue("en"))
    assert not missing


def test_dynamic_key_families_are_complete():
    prefixes = {m for path in SOURCES for m in FSTRING_KEY.findall(path.read_text(encoding="utf-8"))}
    assert {"figure.", "kind.", "status."} <= prefixes
    from mmicd.overview import FIGURE_IDS

    needed = {f"figure.{f}" for f in FIGURE_IDS} | {f"figure.{f}.help" for f in FIGURE_IDS}
    needed |= {f"kind.{k.value}" for k in Kind} | {f"status.{s.value}" for s in Status}
    from mmicd.auth import Role
    from mmicd.store.schema import audit, users

    needed |= {f"role.{r.value}" for r in Role}
    needed |= {f"audit.col.{c.name}" for c in audit.columns}
    needed |= {f"users.col.{c.name}" for c in users.columns if c.name != "password_hash"}
    needed |= {f"review.empty.{s.value}" for s in (Status.DRAFT, Status.SUBMITTED, Status.SUPERSEDED)}
    assert needed <= set(catalogue("en"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_fields_are_the_same_in_every_language(lang):
    for key, text in catalogue("en").items():
        assert message_fields(catalogue(lang)[key]) == message_fields(text), key


def test_message_fields_see_plural_fields_and_fields_inside_branches():
    assert message_fields("{a} {n, plural, one {# x {b}} other {# xs {c}}}") == {"a", "n", "b", "c"}
    # a one-word branch is text, not a field
    assert message_fields("{n, plural, one {minute} other {minutes}}") == {"n"}
    assert message_fields("{a} and {b}") == {"a", "b"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_plural_block_parses_and_has_other(lang):
    plural = {key: text for key, text in catalogue(lang).items() if re.search(r"{\s*\w+\s*,\s*plural\s*,", text)}
    assert len(plural) >= 40, "the catalogues lost their plural messages"
    for key, text in plural.items():
        message = parse_message(text)  # raises on a syntax error or a block without 'other'
        assert message is not None, key
        blocks = [part for part in message if isinstance(part, tuple)]
        assert blocks and all("other" in branches for _, branches in blocks), key



@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_message_writes_a_plural_as_s_in_brackets(lang):
    assert not [key for key, text in catalogue(lang).items() if re.search(r"\w\((s|x|es)\)", text)]


@pytest.mark.parametrize(
    "bad",
    ["{n, plural, one {# x}}",  # no 'other'
     "{n, plural, one {# x} other {# xs}",  # block not closed
     "{n, plural, one {# x other {# xs}}",  # branch not closed
     "{n, plural, few {# x} other {# xs} few {# y}}",  # selector twice
     "{n, plural, single {# x} other {# xs}}"],  # no such category
)
def test_bad_plural_blocks_are_refused(bad):
    with pytest.raises(MessageSyntaxError):
        parse_message(bad)


@pytest.mark.parametrize(
    ("lang", "value", "category"),
    [("en", 1, "one"), ("en", 0, "other"), ("en", 1.5, "other"), ("en", 2, "other"), ("en", "1.0", "other"),
     ("en", 1000000, "other"), ("en", "1,000", "other"), ("en", "1", "one"),
     ("fr", 0, "one"), ("fr", 1, "one"), ("fr", 1.5, "one"), ("fr", "1,5", "one"), ("fr", 2, "other"),
     ("fr", "3,5", "other"), ("fr", 1000000, "many"), ("fr", "1\u202f000\u202f000", "many"),
     ("fr", "2 000 000", "many"), ("fr", 1000000.5, "other"), ("fr", 1000001, "other"), ("fr", -1, "one"),
     ("es", 1, "one"), ("es", 0, "other"), ("es", 1.5, "other"), ("es", "1,0", "one"), ("es", 2, "other"),
     ("es", 1000000, "many"), ("es", 2000000, "many"), ("es", "2.000.000", "many"), ("es", "2.000.000,5", "other"),
     ("es", "abc", "other"), ("fr", "–", "other"), ("en", float("nan"), "other")],
)
def test_cldr_plural_categories(lang, value, category):
    assert plural_category(plural_operand(value, lang), lang) == category


def test_plural_blocks_in_messages(monkeypatch):
    from mmicd import i18n

    texts = {"x.n": "{n, plural, =0 {no dataset} one {# dataset} other {# datasets}} in {url}",
             "x.two": "{a, plural, one {# row} other {# rows}} and {b, plural, one {# key {k}} other {# keys {k}}}.",
             "x.fr": "{n, plural, one {# jeu} many {# de jeux} other {# jeux}}"}
    monkeypatch.setitem(i18n.catalogue("en"), "x.n", texts["x.n"])
    monkeypatch.setitem(i18n.catalogue("en"), "x.two", texts["x.two"])
    monkeypatch.setitem(i18n.catalogue("fr"), "x.fr", texts["x.fr"])
    assert t("x.n", "en", n=0, url="U") == "no dataset in U"
    assert t("x.n", "en", n=1, url="U") == "1 dataset in U"
    assert t("x.n", "en", n="1,234", url="U") == "1,234 datasets in U"  # the value as passed, chosen by its number
    assert t("x.n", "en", n=2.5, url="U") == "2.5 datasets in U"
    assert t("x.two", "en", a=1, b=3, k="K") == "1 row and 3 keys K."
    assert t("x.two", "en", a=7, b=1, k="K") == "7 rows and 1 key K."
    assert t("x.fr", "fr", n=0) == "0 jeu"
    assert t("x.fr", "fr", n="1\u202f000\u202f000") == "1\u202f000\u202f000 de jeux"
    assert t("x.fr", "fr", n=12) == "12 jeux"
    assert t("x.two", "fr", a=0, b=1, k="K") == "0 rows and 1 key K."  # missing in French: English text and rules
    # a missing category falls back to 'other' (English has no 'many')
    monkeypatch.setitem(i18n.catalogue("en"), "x.many", "{n, plural, one {# a} many {# b} other {# c}}")
    assert t("x.many", "en", n=1000000) == "1000000 c"


@pytest.mark.parametrize(
    ("lang", "one", "many"),
    [("en", "after 1 second,", "after 120 seconds,"),
     ("fr", "après 1 seconde,", "après 120 secondes,"),
     ("es", "después de 1 segundo,", "después de 120 segundos,")],
)
def test_real_plural_messages(lang, one, many):
    assert one in t("ingest.stopped.time", lang, file="a.csv", limit=1)
    assert many in t("ingest.stopped.time", lang, file="a.csv", limit=120)
    assert many.replace("120", "1\u202f000" if lang == "fr" else "1,000" if lang == "en" else "1.000") in t(
        "ingest.stopped.time", lang, file="a.csv", limit=format_number(1000, lang))


def test_real_plural_messages_agree_in_french_and_spanish():
    assert t("cli.seed.done", "fr", n=1, url="u") == "1 jeu de données chargé dans u."
    assert t("cli.seed.done", "fr", n=3, url="u") == "3 jeux de données chargés dans u."
    assert t("cli.seed.done", "es", n=1, url="u") == "1 conjunto de datos cargado en u."
    assert t("cli.seed.done", "es", n=0, url="u") == "0 conjuntos de datos cargados en u."
    assert t("cli.seed.done", "en", n=1, url="u") == "Loaded 1 dataset into u."
    assert t("cli.seed.done", "en", n=0, url="u") == "Loaded 0 datasets into u."
    assert t("auth.error.locked", "fr", minutes=1).endswith("Réessayez dans 1 minute.")
    assert t("auth.error.locked", "es", minutes=15).endswith("en 15 minutos.")
    assert t("upload.diff.counts", "fr", added="1", changed="0", removed="2") == (
        "1 valeur ajoutée, 0 modifiée, 2 absentes du nouveau fichier.")
    assert t("upload.confirm.done", "en", n="1", ids="#4").startswith("Stored 1 draft version: #4. Submit it ")
    assert t("upload.confirm.done", "es", n="2", ids="#4, #5").startswith("Se guardaron 2 versiones borrador: #4, #5. Envíelas")
    assert t("delta.points", "fr", n=format_number(1.5, "fr", 1)) == "1,5 point"
    assert t("delta.points", "en", n=format_number(1.5, "en", 1)) == "1.5 points"


def test_translation_and_fallback():
    assert t("nav.overview", "fr") == "Vue d'ensemble"
    assert t("no.such.key", "fr") == "no.such.key"


@pytest.mark.parametrize(
    ("lang", "number", "percent"),
    [("en", "15,762,457.5", "18.8%"), ("fr", "15\u202f762\u202f457,5", "18,8\u00a0%"), ("es", "15.762.457,5", "18,8\u00a0%")],
)
def test_numbers_are_formatted_for_the_language(lang, number, percent):
    assert format_number(15762457.5, lang, 1) == number
    assert format_percent(18.813, lang) == percent
