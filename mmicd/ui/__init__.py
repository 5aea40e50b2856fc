"""The Streamlit layer: the store as a shared resource, the shared sidebar filters, small renderers.

Only this package, ``pages/``, ``app.py`` and ``dashboard.py`` import Streamlit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import streamlit as st

from mmicd import codes
from mmicd.auth.accounts import ensure_admin
from mmicd.bootstrap import first_start
from mmicd.config import get_settings
from mmicd.engine import COUNTERPART_KINDS, read_inputs
from mmicd.i18n import language_name, languages, t
from mmicd.overview import KeyFigure, key_figures
from mmicd.store import Store

_SEED_LOCK = threading.Lock()


@dataclass(frozen=True)
class Filters:
    lang: str
    country: str
    year: str | None


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return Store(url)


def through_app() -> None:
    """Run every page under ``dashboard.py`` (its sidebar, and the navigation built for the user's role).

    Because the project has a ``pages/`` folder, Streamlit starts in its old multipage mode: until
    some session has run ``dashboard.py`` (whose ``st.navigation`` switches that mode off), a deep link
    such as ``/upload`` or ``/account`` — the first request after a restart, a bookmark — runs the
    page file on its own. Switch the old mode off and rerun: the rerun goes through ``dashboard.py`` to
    the same page. Called by :func:`store` and :func:`filters`, the first thing every page uses.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if not PagesManager.uses_pages_directory:
        return
    ctx = get_script_run_ctx()
    pages = ctx.pages_manager if ctx is not None else None
    if pages is not None and pages.intended_page_script_hash and not pages.intended_page_name:
        return  # chosen by hash alone (AppTest's switch_page): a rerun could not carry the page over
    PagesManager.uses_pages_directory = False
    st.rerun()  # keeps the URL's page name, which dashboard.py's navigation resolves


def store() -> Store:
    """The configured store, migrated; on first start, loaded by :func:`mmicd.bootstrap.first_start`."""
    through_app()
    settings = get_settings()
    s = _store(settings.database_url)
    if not st.session_state.get("_seeded"):
        with _SEED_LOCK:
            if s.is_empty():
                lang = current_lang()
                with st.status(t("seed.running", lang), expanded=True) as status:
                    bar = st.progress(0.0)

                    def progress(done: int, total: int, what: str) -> None:
                        bar.progress(done / max(total, 1), text=what)

                    first_start(s, progress=progress)
                    status.update(label=t("seed.done", lang), state="complete", expanded=False)
            ensure_admin(s)  # first start: the first admin (password from the environment or printed once)
        st.session_state["_seeded"] = True
    return s


def current_lang() -> str:
    lang = st.session_state.get("lang") or st.session_state.get("_keep_lang") or get_settings().language
    return lang if lang in languages() else "en"


def tr(key: str, /, **fields: object) -> str:
    """Translate into the language chosen in the sidebar."""
    return t(key, current_lang(), **fields)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _years(url: str, published: tuple[int, ...]) -> list[str]:
    return sorted({p[:4] for p in _store(url).periods(published)}, reverse=True)


def sidebar(s: Store) -> Filters:
    """Language, country and year, shared by every page.

    Streamlit may drop a widget's state when the page changes; each value is therefore also kept
    under ``_keep_<key>`` and restored before the widget is drawn, so a page switch never resets it.
    """
    settings = get_settings()
    with st.sidebar:
        lang = language_picker()
        options = codes.area_options(lang)
        _restore("country", options, settings.default_country if settings.default_country in options else options[0])
        st.selectbox(t("filter.country", lang), options=options, format_func=lambda c: codes.area_name(c, lang),
                     key="country", help=t("filter.country_help", lang), on_change=_keep, args=("country",))
        _keep("country")
        years = _years(s.url, s.published_ids())
        if years:
            _restore("year", years, years[0])
            st.selectbox(t("filter.year", lang), options=years, key="year", help=t("filter.year_help", lang),
                         on_change=_keep, args=("year",))
            _keep("year")
        st.caption(t("sidebar.about", lang))
    return filters()


def language_picker() -> str:
    """The language choice, labelled in every language and each language named in itself (CLDR), kept
    across pages; the language chosen."""
    langs = languages()
    _restore("lang", langs, get_settings().language)
    label = " / ".join(dict.fromkeys(t("babel.language", lang) for lang in langs))
    st.selectbox(label, options=list(langs), format_func=language_name, key="lang", on_change=_keep, args=("lang",))
    _keep("lang")
    return current_lang()


def _restore(key: str, options, default) -> None:
    """The widget's value: this session's, else the link's (``?lang=fr&country=SEN&year=2020``, so a
    bookmark, a shared link or a reload opens the same view), else ``default``."""
    value = st.session_state.get(key, st.session_state.get(f"_keep_{key}"))
    if value is None:
        linked = st.query_params.get(key)
        value = next((o for o in options if str(o) == linked), None)
    st.session_state[key] = value if value in options else default


def _keep(key: str) -> None:
    """Keep the value across pages (session) and in the address bar (the link of this view)."""
    st.session_state[f"_keep_{key}"] = st.session_state[key]
    st.query_params[key] = str(st.session_state[key])


def filters() -> Filters:
    through_app()
    state = st.session_state
    return Filters(lang=current_lang(),
                   country=state.get("country", state.get("_keep_country", get_settings().default_country)),
                   year=state.get("year", state.get("_keep_year")))


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _covering(url: str, published: tuple[int, ...], country: str) -> tuple[int, ...]:
    return _store(url).covering(country, published, COUNTERPART_KINDS)


def covering_ids(s: Store, country: str) -> tuple[int, ...]:
    """Published versions holding the country: the cache key of everything computed for it, so an
    upload for another country recomputes nothing here."""
    return _covering(s.url, s.published_ids(), country)


def synthetic_ids(s: Store, among: tuple[int, ...] | None = None) -> frozenset[int]:
    """Dataset versions that are synthetic demo data (loaded by the demo), of ``among`` or all:
    every figure drawn from them carries the SYNTHETIC marker."""
    from mmicd.demo import DEMO_ACTOR

    return frozenset(v.id for v in s.datasets() if v.loaded_by == DEMO_ACTOR and (among is None or v.id in among))


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _key_figures(url: str, covering: tuple[int, ...], country: str, year: str | None) -> dict[str, KeyFigure]:
    s = _store(url)
    inp = read_inputs(s, country, dataset_ids=covering, microdata=False)
    return key_figures(inp.own, inp.abroad, year, synthetic=synthetic_ids(s, covering))


def country_key_figures(s: Store, country: str, year: str | None) -> dict[str, KeyFigure]:
    """Key figures of a country from the engine, cached by the published versions holding it."""
    return _key_figures(s.url, covering_ids(s, country), country, year)
