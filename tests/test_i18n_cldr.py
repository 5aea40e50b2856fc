"""Numbers, amounts, dates, plural rules and language names come from CLDR (Babel), not from tables
in the code; a fourth language is a folder of catalogues. Expected strings checked by hand against
CLDR (narrow no-break space U+202F groups French thousands, no-break space U+00A0 sits before % and
before a symbol written after the amount)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel import Locale

from mmicd import i18n
from mmicd.config import LANGUAGES, get_settings
from mmicd.i18n import (
    catalogue,
    format_compact,
    format_currency,
    format_date,
    format_datetime,
    format_month,
    format_number,
    format_percent,
    format_period,
    format_value,
    language_name,
    languages,
    plotly_separators,
    plural_category,
    plural_operand,
    t,
)

ROOT = Path(__file__).resolve().parents[1]
NNBSP, NBSP, THIN = "\u202f", "\u00a0", "\u2009"


@pytest.mark.parametrize(
    ("lang", "number", "two", "percent", "whole_percent"),
    [("en", "1,234,567.5", "3.00", "18.8%", "5%"),
     ("fr", f"1{NNBSP}234{NNBSP}567,5", "3,00", f"18,8{NBSP}%", f"5{NBSP}%"),
     ("es", "1.234.567,5", "3,00", f"18,8{NBSP}%", f"5{NBSP}%")],
)
def test_numbers_and_percentages(lang, number, two, percent, whole_percent):
    assert format_number(1234567.5, lang, 1) == number
    assert format_number(3, lang, 2) == two  # exactly the decimals asked for
    assert format_percent(18.813, lang) == percent
    assert format_percent(5, lang, 0) == whole_percent
    assert format_number(None, lang) == format_percent(float("nan"), lang) == "–"


@pytest.mark.parametrize(
    ("lang", "usd", "eur", "jpy", "whole", "negative_compact"),
    [("en", "US$1,234.56", "€1,234.56", "JP¥1,234", "US$1,234", "-US$471,060"),  # en_001: international
     ("fr", f"1{NNBSP}234,56{NBSP}$US", f"1{NNBSP}234,56{NBSP}€", f"1{NNBSP}234{NBSP}JPY", f"1{NNBSP}234{NBSP}$US",
      f"-471{NNBSP}060{NBSP}$US"),
     ("es", f"1.234,56{NBSP}US$", f"1.234,56{NBSP}€", f"1.234{NBSP}JPY", f"1.234{NBSP}US$", f"-471.060{NBSP}US$")],
)
def test_currencies(lang, usd, eur, jpy, whole, negative_compact):
    assert format_currency(1234.56, "USD", lang) == usd
    assert format_currency(1234.56, "EUR", lang) == eur
    assert format_currency(1234.5, "JPY", lang) == jpy  # the yen has no decimals (and 1234.5 rounds half to even)
    assert format_currency(1234.49, "USD", lang, 0) == whole
    assert format_currency(-471060, "USD", lang, 0, compact=True) == negative_compact  # below a million: in full


@pytest.mark.parametrize(
    ("lang", "one_point_two", "two_and_a_half", "one", "billions", "usd"),
    [("en", "1.2 million", "2.5 million", "1 million", "10.8 billion", "US$10.8 billion"),
     ("fr", "1,2 million", "2,5 millions", "1 million", "10,8 milliards", f"10,8 milliards{NBSP}$US"),
     ("es", "1,2 millones", "2,5 millones", "1 millón", "10,8 mil millones", f"10,8 mil millones{NBSP}US$")],
)
def test_compact_forms_agree_with_their_number(lang, one_point_two, two_and_a_half, one, billions, usd):
    assert format_compact(1.2e6, lang) == one_point_two  # French: 1,2 is singular ("million", not "millions")
    assert format_compact(2.5e6, lang) == two_and_a_half
    assert format_compact(1e6, lang) == one
    assert format_compact(10.8e9, lang) == billions
    assert format_value(10.8e9, "usd", lang) == usd
    assert format_value(-1.2e6, "usd", lang).startswith("-")
    assert format_compact(999_999, lang) == format_number(999_999, lang)  # below a million: in full


@pytest.mark.parametrize(
    ("lang", "day", "month", "moment", "period", "month_long"),
    [("en", "1 March 2026", "March 2026", "1 March 2026, 6:05:00\u202fpm UTC", f"1 Jul{THIN}–{THIN}30 Sept 2026",
      "1–31 Jul 2026"),
     ("fr", "1 mars 2026", "mars 2026", "1 mars 2026, 18:05:00 TU", f"1 juil.{THIN}–{THIN}30 sept. 2026",
      "1–31 juil. 2026"),
     ("es", "1 de marzo de 2026", "marzo de 2026", "1 de marzo de 2026, 18:05:00 UTC",
      f"1 de julio{THIN}–{THIN}30 de septiembre de 2026", "1–31 de julio de 2026")],
)
def test_dates(lang, day, month, moment, period, month_long):
    assert format_date(date(2026, 3, 1), lang) == day
    assert format_month(date(2026, 3, 1), lang) == month
    assert format_datetime(datetime(2026, 3, 1, 18, 5, tzinfo=UTC), lang) == moment
    assert format_date(None, lang) == "–"
    assert format_period(date(2026, 7, 1), date(2026, 9, 30), lang) == period
    assert format_period(date(2026, 7, 1), date(2026, 7, 31), lang) == month_long


@pytest.mark.parametrize(
    ("lang", "categories"),
    [("en", ["other", "one", "other", "other"]),
     ("fr", ["one", "one", "one", "other"]),  # French: 0 and 1.5 are singular
     ("es", ["other", "one", "other", "other"])],
)
def test_plural_categories_for_0_1_1_5_2(lang, categories):
    assert [plural_category(plural_operand(n, lang), lang) for n in (0, 1, 1.5, 2)] == categories


def test_language_names_and_chart_separators():
    assert [language_name(lang) for lang in ("en", "fr", "es")] == ["English", "Français", "Español"]
    assert [plotly_separators(lang) for lang in ("en", "fr", "es")] == [".,", f",{NNBSP}", ",."]
    assert languages() == LANGUAGES == ("en", "es", "fr")


# --- no hand-written tables ----------------------------------------------------------------------
CODE = [*ROOT.glob("mmicd/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py", ROOT / "dashboard.py"]
SHOWN = [p for p in CODE if re.match(r"(mmicd/(ui|profile|me)/|pages/|app\.py|mmicd/charts\.py)",
                                     p.relative_to(ROOT).as_posix())]


def test_no_table_keyed_by_language_in_the_code():
    """Separators, names or words per language belong to CLDR or to the catalogues, not to a dict."""
    keyed = [f"{p.relative_to(ROOT)}:{n}" for p in CODE
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"""["'](?:en|fr|es)["']\s*:""", line)]
    assert not keyed
    source = (ROOT / "mmicd/i18n.py").read_text(encoding="utf-8")
    assert not re.search(r"_SEPARATORS|_THOUSANDS|\\u202f\w*\"\s*,|lang == \"(?:en|fr|es)\"", source)


def test_no_hand_made_number_format_in_what_users_see():
    """Thousands separators (``{x:,}``), a % glued to a number (``{x}%``) or a date pattern in a page."""
    assert len(SHOWN) > 20, "the scan found no page code"
    found = [f"{p.relative_to(ROOT)}:{n}" for p in SHOWN
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"(?<!%)\{[\w.()\[\]'\"]+:,|\}%[\"' ]|strftime\(\"%d|%B", line)]
    assert not found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogues_hold_no_number_words_or_month_names(lang):
    """Magnitudes ('{n} millions'), currency templates ('US$ {amount}') and month names come from CLDR."""
    texts = catalogue(lang)
    assert not {k: v for k, v in texts.items()
                if re.search(r"\{\w+\}\s*(?:mil )?(?:million|millón|millones|milliard|billion|billones|trillion)", v)}
    assert not {k: v for k, v in texts.items() if re.search(r"(?:US\$|\$US)\s*\{|\}\s*(?:US\$|\$US)", v)}
    months = set(Locale.parse(lang).months["format"]["wide"].values())
    assert not {k for k, v in texts.items() if v.strip().lower() in months}


# --- a fourth language is a catalogue --------------------------------------------------------------
@pytest.fixture
def with_portuguese(tmp_path, monkeypatch):
    """The real catalogues plus a tiny Portuguese one in a temporary data/i18n/."""
    for lang in LANGUAGES:
        (tmp_path / lang).symlink_to(i18n.I18N_DIR / lang, target_is_directory=True)
    (tmp_path / "pt").mkdir()
    (tmp_path / "pt" / "core.yml").write_text(
        'nav.overview: "Visão geral"\n'
        'babel.language: "Idioma"\n'
        'x.files: "{n, plural, one {# ficheiro} many {# de ficheiros} other {# ficheiros}}"\n', encoding="utf-8")
    (tmp_path / "notes").mkdir()  # a folder without catalogues is not a language
    monkeypatch.setattr(i18n, "I18N_DIR", tmp_path)
    return tmp_path


def test_a_fourth_language_is_a_folder_of_catalogues(with_portuguese):
    assert languages() == ("en", "es", "fr", "pt")
    assert language_name("pt") == "Português"
    assert t("nav.overview", "pt") == "Visão geral"
    assert t("nav.data_sources", "pt") == "Data sources"  # not translated yet: English
    # Portuguese plural rules (0 and 1.5 singular, a million 'many') and separators, all from CLDR
    assert t("x.files", "pt", n=0) == "0 ficheiro"
    assert t("x.files", "pt", n=format_number(1.5, "pt", 1)) == "1,5 ficheiro"
    assert t("x.files", "pt", n=2) == "2 ficheiros"
    assert t("x.files", "pt", n=format_number(2_000_000, "pt")) == "2.000.000 de ficheiros"
    assert format_number(1234567.5, "pt", 1) == "1.234.567,5"
    assert format_compact(1.2e6, "pt") == "1,2 milhão"
    assert format_currency(1234.56, "USD", "pt") == f"US${NBSP}1.234,56"
    assert format_date(date(2026, 3, 1), "pt") == "1 de março de 2026"
    assert get_settings({"MMICD_LANG": "PT"}).language == "pt"
    assert get_settings({"MMICD_LANG": "xx"}).language == "en"


def test_a_folder_not_named_after_a_locale_is_refused(tmp_path, monkeypatch):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "core.yml").write_text('a: "A"\n', encoding="utf-8")
    (tmp_path / "portugues").mkdir()
    (tmp_path / "portugues" / "core.yml").write_text('a: "A"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "I18N_DIR", tmp_path)
    with pytest.raises(ValueError, match="portugues"):
        languages()


def _picker_page():
    from mmicd.ui import language_picker

    language_picker()


def test_the_language_picker_offers_the_new_language_in_its_own_name(with_portuguese):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_picker_page, default_timeout=60).run()
    box = at.selectbox(key="lang")
    assert box.label == "Language / Idioma / Langue"
    assert list(box.options) == ["English", "Español", "Français", "Português"]
    box.set_value("pt").run()
    assert at.selectbox(key="lang").value == "pt"
    assert not at.exception


@pytest.mark.parametrize(("lang", "fits"), [("en", "US$10.8 billion"), ("fr", f"10,8{NBSP}Md{NBSP}$US"),
                                            ("es", f"10,8{NBSP}mil{NBSP}M{NBSP}US$")])
def test_a_card_too_narrow_for_the_long_form_gets_cldr_short_form(lang, fits):
    """A metric card holds about 16 characters: "2,6 mil millones US$" was cut to "2,6 mil millones…"."""
    assert format_value(10.8e9, "usd", lang, fit=16) == fits
    assert len(format_value(10.8e9, "usd", lang, fit=16)) <= 16
    assert format_value(471_060, "usd", lang, fit=16) == format_value(471_060, "usd", lang)   # short already
    assert format_value(18.8, "percent", lang, fit=3) == format_value(18.8, "percent", lang)  # never a percent
