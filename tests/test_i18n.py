"""Every user-facing string goes through one translation layer, complete in EN, FR and ES."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmicd.config import LANGUAGES
from mmicd.i18n import catalogue, format_number, format_percent, t
from mmicd.model import Kind, Status

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*ROOT.glob("mmicd/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]
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
        assert set(re.findall(r"{(\w+)}", catalogue(lang)[key])) == set(re.findall(r"{(\w+)}", text)), key


def test_translation_and_fallback():
    assert t("nav.overview", "fr") == "Vue d'ensemble"
    assert t("unit.million", "es", n="3,5") == "3,5 millones"
    assert t("no.such.key", "fr") == "no.such.key"


@pytest.mark.parametrize(
    ("lang", "number", "percent"),
    [("en", "15,762,457.5", "18.8%"), ("fr", "15\u202f762\u202f457,5", "18,8\u202f%"), ("es", "15.762.457,5", "18,8%")],
)
def test_numbers_are_formatted_for_the_language(lang, number, percent):
    assert format_number(15762457.5, lang, 1) == number
    assert format_percent(18.813, lang) == percent
