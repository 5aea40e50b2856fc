"""Rebuild the project's derived reference tables from the raw public files.

Usage::

    .venv/bin/python scripts/build_reference.py [--reference-dir ../shared/reference] [--out-dir .]

Reads the raw files described in ``<reference-dir>/README.md`` (never copied into the project)
and writes, deterministically (same inputs -> byte-identical outputs):

* ``data/codelists/areas.csv``                 -- countries, territories and aggregates
* ``data/reference/undesa_ims2020.csv.gz``     -- UN DESA International Migrant Stock 2020
* ``data/reference/undesa_ims2020_refugees.csv.gz`` -- its Table 6: refugees and asylum seekers
* ``data/reference/unhcr_solutions.csv.gz``    -- UNHCR Refugee Data Finder: returns, resettlement, naturalisation
* ``data/reference/wpp2024_population.csv.gz`` -- UN WPP 2024 population by sex and 5-year age
* ``data/reference/wdi.csv.gz``                -- World Bank WDI remittances, GDP, net migration
* ``data/reference/knomad_brm2021.csv.gz``     -- KNOMAD bilateral remittance matrix 2021
* ``data/reference/datasets.yml``              -- one entry per table, read by the app's seeder

Name-matching rule (the app resolves user-supplied area names with the same rule; see
:func:`normalise_name`): drop footnote markers (``*``, ``†``, ``‡``, trailing ``(1)``/``[1]``/
superscript digits), NFKD-decompose and drop combining marks (accents), typographic apostrophe
to ``'``, casefold, collapse runs of whitespace to one space, strip.  Every ``name_en``, ``name_fr``, ``name_es`` and ``|``-separated alias in
areas.csv is unique after this normalisation (a name never points to two codes).
"""

from __future__ import annotations

import argparse
import gettext
import gzip
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pycountry

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE_DIR = REPO.parent / "shared" / "reference"

COLUMNS = [
    "measure", "ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area",
    "labour_status", "value", "unit_measure", "unit_mult", "obs_status",
]
KEY = COLUMNS[:8]
AREA_COLUMNS = ["code", "kind", "iso2", "m49", "name_en", "name_fr", "name_es", "aliases"]

IMS_FILE = "undesa-ims2020/undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
IMS_ORIGIN_FILE = "iom-gdidata/undesa_stocks_2020.csv"
WPP_FILE = "wpp2024/popAge5dt.csv"
UNLOC_FILE = "wpp2024/UNlocations.txt"
WDI_FILE = "iom-gdidata/wdi.csv"
BRM_FILE = "knomad-brm2021/bilateral_remittance_matrix_2021.xlsx"
BMM_FILE = "knomad-brm2021/bilateral_migration_matrix_2021_latest.xlsx"
UNHCR_SOLUTIONS_FILE = "layouts/unhcr-datafinder-csv/solutions.csv"

AGES = [f"Y{a}T{a + 4}" for a in range(0, 100, 5)] + ["Y_GE100", "_T"]
AGE_ORDER = {a: i for i, a in enumerate(AGES)}
SEX_ORDER = {"_T": 0, "M": 1, "F": 2}

# ---------------------------------------------------------------------------------------------
# Name normalisation
# ---------------------------------------------------------------------------------------------
_FOOTNOTE_TAIL = re.compile(r"(?:[\s*\u2020\u2021\u00b9\u00b2\u00b3\u2070-\u2079]|\(\d+\)|\[\d+\])+$")


def normalise_name(name: str) -> str:
    """Matching key for an area name (the app's ``mmicd.codes.normalise_name`` follows the same rule).

    1. drop footnote markers: ``*``, ``†``, ``‡`` and trailing ``(12)``, ``[12]`` or superscript digits;
    2. NFKD-decompose and drop combining marks (accents): ``Côte`` -> ``Cote``;
    3. typographic apostrophe ``’`` -> ``'``, no-break space -> space;
    4. casefold, collapse runs of white space to one space, strip.
    """
    s = re.sub(r"[*\u2020\u2021]", "", str(name))
    s = _FOOTNOTE_TAIL.sub("", s)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("\u2019", "'").replace("\u00a0", " ").casefold()
    return re.sub(r"\s+", " ", s).strip()


# ---------------------------------------------------------------------------------------------
# Area code list: hand-curated pieces (everything else comes from pycountry and the raw files)
# ---------------------------------------------------------------------------------------------
# English display names where pycountry's short/common name is not the best choice.
EN_OVERRIDES = {
    "COD": "Democratic Republic of the Congo",
    "FSM": "Micronesia (Federated States of)",
    "PSE": "State of Palestine",
    "VGB": "British Virgin Islands",
    "VIR": "United States Virgin Islands",
    "SHN": "Saint Helena",
    "VAT": "Holy See",
    "BES": "Bonaire, Sint Eustatius and Saba",
}

# French / Spanish display names where the iso-codes translation is an inverted list form
# ("Iran, République islamique d'"); the inverted form stays an alias.
FR_OVERRIDES = {
    "ALA": "Îles Åland", "CCK": "Îles Cocos (Keeling)", "CXR": "Île Christmas",
    "FLK": "Îles Malouines (Falkland)", "FSM": "Micronésie (États fédérés de)", "IRN": "Iran",
    "LAO": "Laos", "PSE": "État de Palestine", "REU": "La Réunion", "RUS": "Russie",
    "SHN": "Sainte-Hélène", "SLB": "Îles Salomon", "VIR": "Îles Vierges des États-Unis",
}
ES_OVERRIDES = {
    "BOL": "Bolivia", "CIV": "Côte d'Ivoire", "COD": "República Democrática del Congo", "COM": "Comoras",
    "FSM": "Micronesia (Estados Federados de)", "PSE": "Estado de Palestina", "SHN": "Santa Elena",
    "TZA": "Tanzania", "VEN": "Venezuela", "VGB": "Islas Vírgenes Británicas",
    "VIR": "Islas Vírgenes de los Estados Unidos",
}

# Areas in the data that ISO 3166-1 does not list.
EXTRA_AREAS = [
    # code, kind, iso2, m49, name_en, name_fr, name_es
    ("XKX", "country", "XK", 412, "Kosovo", "Kosovo", "Kosovo"),
    ("CHI", "country", "", 830, "Channel Islands", "Îles Anglo-Normandes", "Islas del Canal"),
    ("ANT", "country", "AN", 530, "Netherlands Antilles (former)", "Antilles néerlandaises (anciennes)",
     "Antillas Neerlandesas (antiguas)"),
    ("OOO", "other", "", None, "Other / unknown origin", "Autre / origine inconnue",
     "Otro / origen desconocido"),
]

# Codes used by a source for an area that areas.csv lists under another code.
# gdidata codes the UN DESA area "Channel Islands" (M49 830) as XCX; the World Bank uses CHI.
# (Checked in build_undesa_ims: XCX as destination equals the workbook's Channel Islands row.)
CODE_SYNONYMS = {"XCX": "CHI"}

# Aggregates published under two M49 codes for the same set of countries. The build checks the
# membership/values are identical before merging (see check_aggregate_synonyms).
#   947 / 921: SDG regions "Sub-Saharan Africa" / "Central and Southern Asia" as numbered in IMS 2020;
#              WPP 2024 numbers the same regions 1834 / 1831.
#   1830: SDG region "Latin America and the Caribbean" = geographic region 904 (same 33 countries + territories).
#   1836: SDG region "Australia/New Zealand" = geographic subregion 927.
M49_SYNONYMS = {947: 1834, 921: 1831, 1830: 904, 1836: 927}

INCOME_GROUPS = {1500, 1501, 1502, 1503, 1517, 1518, 1859, 5503, 5504}
OTHER_AGGREGATES = {901, 902, 934, 941, 948, 1636, 1637, 2087, 2088, 2089, 2090, 2091, 2092, 2093}

# French and Spanish names of aggregates (UN terminology); English used where none is given.
AGGREGATE_FR_ES = {
    900: ("Monde", "Mundo"),
    903: ("Afrique", "África"),
    935: ("Asie", "Asia"),
    908: ("Europe", "Europa"),
    909: ("Océanie", "Oceanía"),
    904: ("Amérique latine et Caraïbes", "América Latina y el Caribe"),
    905: ("Amérique du Nord", "América del Norte"),
    5505: ("Amériques", "Américas"),
    910: ("Afrique de l'Est", "África oriental"),
    911: ("Afrique centrale", "África central"),
    912: ("Afrique du Nord", "África septentrional"),
    913: ("Afrique australe", "África meridional"),
    914: ("Afrique de l'Ouest", "África occidental"),
    906: ("Asie de l'Est", "Asia oriental"),
    5500: ("Asie centrale", "Asia central"),
    5501: ("Asie du Sud", "Asia meridional"),
    920: ("Asie du Sud-Est", "Asia sudoriental"),
    922: ("Asie de l'Ouest", "Asia occidental"),
    923: ("Europe de l'Est", "Europa oriental"),
    924: ("Europe du Nord", "Europa septentrional"),
    925: ("Europe du Sud", "Europa meridional"),
    926: ("Europe de l'Ouest", "Europa occidental"),
    915: ("Caraïbes", "Caribe"),
    916: ("Amérique centrale", "Centroamérica"),
    931: ("Amérique du Sud", "América del Sur"),
    927: ("Australie et Nouvelle-Zélande", "Australia y Nueva Zelandia"),
    928: ("Mélanésie", "Melanesia"),
    954: ("Micronésie (région)", "Micronesia (región)"),
    957: ("Polynésie", "Polinesia"),
    1834: ("Afrique subsaharienne", "África subsahariana"),
    1833: ("Afrique du Nord et Asie de l'Ouest", "África septentrional y Asia occidental"),
    1831: ("Asie centrale et Asie du Sud", "Asia central y meridional"),
    1832: ("Asie de l'Est et du Sud-Est", "Asia oriental y sudoriental"),
    1835: ("Océanie (hors Australie et Nouvelle-Zélande)", "Oceanía (excepto Australia y Nueva Zelandia)"),
    1829: ("Europe et Amérique du Nord", "Europa y América septentrional"),
    5502: ("Europe, Amérique du Nord, Australie et Nouvelle-Zélande",
           "Europa, América septentrional, Australia y Nueva Zelandia"),
    901: ("Régions plus développées", "Regiones más desarrolladas"),
    902: ("Régions moins développées", "Regiones menos desarrolladas"),
    934: ("Régions moins développées, hors pays les moins avancés",
          "Regiones menos desarrolladas, excluidos los países menos adelantados"),
    941: ("Pays les moins avancés", "Países menos adelantados"),
    948: ("Régions moins développées, hors Chine", "Regiones menos desarrolladas, excluida China"),
    1636: ("Pays en développement sans littoral (PDSL)", "Países en desarrollo sin litoral (PDSL)"),
    1637: ("Petits États insulaires en développement (PEID)",
           "Pequeños Estados insulares en desarrollo (PEID)"),
    1500: ("Pays à faible revenu", "Países de ingreso bajo"),
    1501: ("Pays à revenu intermédiaire de la tranche inférieure", "Países de ingreso mediano bajo"),
    1502: ("Pays à revenu intermédiaire de la tranche supérieure", "Países de ingreso mediano alto"),
    1503: ("Pays à revenu élevé", "Países de ingreso alto"),
    1517: ("Pays à revenu intermédiaire", "Países de ingreso mediano"),
    1518: ("Pays sans groupe de revenu", "Países sin grupo de ingreso"),
    1859: ("Pays à revenu faible et intermédiaire", "Países de ingreso bajo y mediano"),
    5503: ("Pays à revenu élevé et intermédiaire supérieur", "Países de ingreso alto y mediano alto"),
    5504: ("Pays à revenu faible et intermédiaire inférieur", "Países de ingreso bajo y mediano bajo"),
}

# Common variants and other publishers' spellings not found in the raw files or pycountry.
EXTRA_ALIASES = {
    "TUR": ["Turkey", "Türkiye", "Turkiye", "Turquie", "Turquía"],
    "CIV": ["Côte d'Ivoire", "Cote d'Ivoire", "Ivory Coast", "Côte-d'Ivoire", "Costa de Marfil"],
    "CZE": ["Czechia", "Czech Republic"],
    "VNM": ["Viet Nam", "Vietnam"],
    "USA": ["United States of America", "United States", "USA", "US", "U.S.", "U.S.A."],
    "GBR": ["United Kingdom", "UK", "U.K.", "Great Britain", "Britain"],
    "RUS": ["Russian Federation", "Russia"],
    "KOR": ["Republic of Korea", "South Korea", "Korea, South"],
    "PRK": ["Democratic People's Republic of Korea", "North Korea", "Korea, North"],
    "BOL": ["Bolivia (Plurinational State of)", "Bolivia"],
    "IRN": ["Iran (Islamic Republic of)", "Iran"],
    "VEN": ["Venezuela (Bolivarian Republic of)", "Venezuela"],
    "HKG": ["China, Hong Kong SAR", "Hong Kong SAR", "Hong Kong, China"],
    "MAC": ["China, Macao SAR", "Macao SAR", "Macau"],
    "SWZ": ["Eswatini", "Swaziland"],
    "MKD": ["North Macedonia", "Macedonia", "The former Yugoslav Republic of Macedonia", "FYR Macedonia"],
    "CPV": ["Cabo Verde", "Cape Verde"],
    "TZA": ["United Republic of Tanzania", "Tanzania"],
    "SYR": ["Syrian Arab Republic", "Syria"],
    "LAO": ["Lao People's Democratic Republic", "Lao PDR", "Laos"],
    "MDA": ["Republic of Moldova", "Moldova"],
    "COD": ["DR Congo", "DRC", "Congo, Democratic Republic of the", "Congo (Kinshasa)"],
    "COG": ["Republic of the Congo", "Congo (Brazzaville)", "Congo, Republic of the"],
    "PSE": ["State of Palestine", "Palestine", "Occupied Palestinian Territory"],
    "MMR": ["Burma"],
    "TWN": ["China, Taiwan Province of China", "Taiwan"],
    "XKX": ["Kosovo (under UNSC res. 1244)", "Kosovo (under UNSCR 1244)"],
    "CHI": ["XCX"],
    "ANT": ["Netherlands Antilles", "Antilles néerlandaises", "Antillas Neerlandesas"],
    "OOO": ["Other", "Unknown", "Other and unknown", "Other North", "Other South"],
    "NLD": ["Holland", "Netherlands (Kingdom of the)"],
    "BHS": ["Bahamas, The"],
    "FSM": ["Micronesia (Fed. States of)"],
    "CUW": ["Curacao"],
}

# World Bank country names (KNOMAD matrices) that neither the UN files nor pycountry spell the same.
WORLD_BANK_NAMES = {
    "Yemen, Rep.": "YEM", "Egypt, Arab Rep.": "EGY", "Korea, Rep.": "KOR", "Korea, Dem. Rep.": "PRK",
    "Korea, Dem. People's Rep.": "PRK", "Congo, Dem. Rep.": "COD", "Congo, Rep.": "COG",
    "Gambia, The": "GMB", "Turkiye": "TUR", "Iran, Islamic Rep.": "IRN", "Venezuela, RB": "VEN",
    "Lao PDR": "LAO", "Kyrgyz Republic": "KGZ", "Slovak Republic": "SVK", "Hong Kong SAR, China": "HKG",
    "Macao SAR, China": "MAC", "Micronesia, Fed. Sts.": "FSM", "St. Kitts and Nevis": "KNA",
    "St. Lucia": "LCA", "St. Vincent and the Grenadines": "VCT", "St. Martin (French part)": "MAF",
    "Virgin Islands (U.S.)": "VIR", "British Virgin Islands": "VGB", "West Bank and Gaza": "PSE",
    "Bahamas, The": "BHS", "Syrian Arab Republic": "SYR", "Taiwan, China": "TWN", "Cabo Verde": "CPV",
    "Russian Federation": "RUS", "Kosovo": "XKX", "Channel Islands": "CHI", "Curacao": "CUW",
    "Sint Maarten (Dutch part)": "SXM", "Czech Republic": "CZE", "Swaziland": "SWZ",
    "Macedonia, FYR": "MKD", "North Macedonia": "MKD", "Turkey": "TUR", "Eswatini": "SWZ",
    "St. Helena": "SHN", "Faeroe Islands": "FRO", "Vietnam": "VNM", "Viet Nam": "VNM",
    "Tanzania": "TZA", "Bolivia": "BOL", "Moldova": "MDA", "GuineaBissau": "GNB", "TimorLeste": "TLS",
}
# KNOMAD rows/columns that are not areas: residual partner groups ("Other North"/"Other South",
# mapped to OOO alias) and the WORLD total (an alias of WLD).


def _translations(lang: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def country_rows() -> list[dict]:
    """ISO 3166-1 countries from pycountry, with French/Spanish names from its translations."""
    fr, es = _translations("fr"), _translations("es")
    rows = []
    for c in pycountry.countries:
        common = getattr(c, "common_name", None)
        official = getattr(c, "official_name", None)
        name_en = EN_OVERRIDES.get(c.alpha_3) or common or c.name
        msgid = common or c.name
        name_fr = fr.gettext(msgid) if fr.gettext(msgid) != msgid or not common else fr.gettext(c.name)
        name_es = es.gettext(msgid) if es.gettext(msgid) != msgid or not common else es.gettext(c.name)
        alias = [c.name, common, official, name_en, name_fr, name_es]
        name_fr = FR_OVERRIDES.get(c.alpha_3, name_fr)
        name_es = ES_OVERRIDES.get(c.alpha_3, name_es)
        for tr in (fr, es):
            alias += [tr.gettext(x) for x in (c.name, common, official) if x]
        rows.append({
            "code": c.alpha_3, "kind": "country", "iso2": c.alpha_2, "m49": int(c.numeric),
            "name_en": name_en, "name_fr": name_fr, "name_es": name_es,
            "_aliases": [a for a in alias if a],
        })
    for code, kind, iso2, m49, en, fr_name, es_name in EXTRA_AREAS:
        rows.append({"code": code, "kind": kind, "iso2": iso2, "m49": m49, "name_en": en,
                     "name_fr": fr_name, "name_es": es_name, "_aliases": []})
    return rows


def read_unlocations(ref: Path) -> pd.DataFrame:
    return pd.read_csv(ref / UNLOC_FILE, sep="\t", encoding="utf-8")


def read_ims_table(ref: Path, sheet: str) -> pd.DataFrame:
    """One IMS 2020 workbook table: area columns + 21 value columns (both sexes, males, females)."""
    raw = pd.read_excel(ref / IMS_FILE, sheet_name=sheet, header=None, engine="calamine")
    body = raw.iloc[11:].reset_index(drop=True)
    years = [int(y) for y in raw.iloc[10, 5:26]]
    assert years == [1990, 1995, 2000, 2005, 2010, 2015, 2020] * 3, years
    out = pd.DataFrame({
        "name": body[1].astype(str).str.strip(),
        "m49": body[3].astype(int),
        "type_of_data": body[4],
    })
    for i, sex in enumerate(["_T", "M", "F"]):
        for j, year in enumerate(years[:7]):
            out[f"{sex}|{year}"] = body[5 + 7 * i + j]
    assert len(out) == 283 and out.name.iloc[0] == "WORLD", (len(out), out.name.iloc[0])
    return out


def classify_aggregate(m49: int, location_type: int | None) -> str:
    if m49 == 900:
        return "world"
    if m49 in INCOME_GROUPS:
        return "income_group"
    if m49 in OTHER_AGGREGATES:
        return "other_aggregate"
    return "region"


def aggregate_rows(unloc: pd.DataFrame, ims: pd.DataFrame, country_m49: set[int]) -> list[dict]:
    """Every aggregate in UNlocations.txt and the IMS 2020 workbook (merged per M49_SYNONYMS)."""
    names: dict[int, list[str]] = {}
    ltype: dict[int, int] = {}
    for r in unloc[unloc.location_type != 4].itertuples():
        m49 = M49_SYNONYMS.get(r.country_code, r.country_code)
        names.setdefault(m49, []).append(r.name)
        ltype.setdefault(m49, r.location_type)
    for r in ims[~ims.m49.isin(country_m49)].itertuples():
        m49 = M49_SYNONYMS.get(r.m49, r.m49)
        names.setdefault(m49, []).append(r.name)
    rows = []
    for m49, nm in sorted(names.items()):
        code = "WLD" if m49 == 900 else f"A{m49}"
        name_en = nm[0]
        fr_name, es_name = AGGREGATE_FR_ES.get(m49, (name_en, name_en))
        rows.append({"code": code, "kind": classify_aggregate(m49, ltype.get(m49)), "iso2": "",
                     "m49": m49, "name_en": name_en, "name_fr": fr_name, "name_es": es_name,
                     "_aliases": nm + (["World", "WORLD"] if m49 == 900 else [])})
    return rows


def knomad_names(ref: Path) -> list[str]:
    """Every area name on either axis of the two KNOMAD matrices."""
    found = []
    for fname in (BRM_FILE, BMM_FILE):
        book = pd.read_excel(ref / fname, sheet_name=None, header=None, engine="calamine")
        for raw in book.values():
            across = [str(x).strip() for x in raw.iloc[1, 1:] if pd.notna(x)]
            down = _matrix_row_names(raw)
            found += across + down
    return sorted(set(found))


def _matrix_row_names(raw: pd.DataFrame) -> list[str]:
    names = []
    for x in raw.iloc[2:, 0]:
        if pd.isna(x):
            break
        names.append(str(x).strip())
    return names


def add_alias(index: dict[str, str], code: str, name: str) -> bool:
    """Register `name` for `code`; raise on a name already taken by another code."""
    key = normalise_name(name)
    if not key:
        return False
    other = index.get(key)
    if other is not None and other != code:
        raise ValueError(f"ambiguous area name {name!r}: {other} and {code}")
    index[key] = code
    return other is None


def build_areas(ref: Path) -> tuple[pd.DataFrame, list[str]]:
    """Area code list with names and aliases; returns (table, unmapped source names)."""
    unloc = read_unlocations(ref)
    ims = read_ims_table(ref, "Table 1")
    countries = country_rows()
    by_m49 = {r["m49"]: r for r in countries if r["m49"] is not None}
    check_aggregate_synonyms(unloc, ims, set(by_m49))
    for r in unloc[unloc.location_type == 4].itertuples():
        by_m49[r.country_code]["_aliases"].append(r.name)
    for r in ims[ims.m49.isin(set(by_m49))].itertuples():
        by_m49[r.m49]["_aliases"].append(r.name)
    rows = countries + aggregate_rows(unloc, ims, set(by_m49))
    by_code = {r["code"]: r for r in rows}
    for code, extra in EXTRA_ALIASES.items():
        by_code[code]["_aliases"] += extra
    for name, code in WORLD_BANK_NAMES.items():
        by_code[code]["_aliases"].append(name)

    index: dict[str, str] = {}
    for r in rows:  # display names first: they win over nothing, but must not collide either
        for name in (r["name_en"], r["name_fr"], r["name_es"]):
            add_alias(index, r["code"], name)
    for r in rows:
        kept, seen = [], {normalise_name(n) for n in (r["name_en"], r["name_fr"], r["name_es"])}
        for name in r["_aliases"]:
            name = _FOOTNOTE_TAIL.sub("", name).strip()
            key = normalise_name(name)
            if key in seen:
                continue
            add_alias(index, r["code"], name)
            seen.add(key)
            kept.append(name)
        r["aliases"] = "|".join(kept)
    unmapped = [n for n in knomad_names(ref) if normalise_name(n) not in index]
    table = pd.DataFrame(rows)[AREA_COLUMNS]
    table["m49"] = table["m49"].astype("Int64")
    kind_order = {"world": 0, "region": 1, "income_group": 2, "other_aggregate": 3, "country": 4, "other": 5}
    table = table.sort_values(["kind", "code"], key=lambda s: s.map(kind_order) if s.name == "kind" else s)
    return table.reset_index(drop=True), unmapped


def check_aggregate_synonyms(unloc: pd.DataFrame, ims: pd.DataFrame, country_m49: set[int]) -> None:
    """Refuse to merge two aggregate codes unless they cover the same countries."""
    countries = unloc[unloc.location_type == 4]

    def members(code: int) -> set[int]:
        col = f"agcode_{code}000"
        if col in countries:
            return set(countries.loc[countries[col] == code, "country_code"])
        return set(countries.loc[(countries.reg_code == code) | (countries.area_code == code), "country_code"])

    for old, new in M49_SYNONYMS.items():
        if old in set(unloc.country_code):  # both codes in WPP: same membership
            assert members(old) == members(new), (old, new)
        else:  # IMS-only code: its Table 1 values equal the sum of WPP `new` members
            agg = ims[ims.m49 == old].iloc[0]
            part = ims[ims.m49.isin(members(new) & country_m49)]
            for col in [c for c in ims.columns if "|" in c]:
                total = pd.to_numeric(part[col], errors="coerce").sum()
                assert total == agg[col], (old, new, col, total, agg[col])


# ---------------------------------------------------------------------------------------------
# Observation tables
# ---------------------------------------------------------------------------------------------
def code_for_m49(areas: pd.DataFrame) -> dict[int, str]:
    table = {int(m): c for m, c in zip(areas.m49, areas.code, strict=True) if pd.notna(m)}
    for old, new in M49_SYNONYMS.items():
        table[old] = table[new]
    return table


def observations(**cols) -> pd.DataFrame:
    """A frame in the common layout; scalars broadcast."""
    n = max(len(v) for v in cols.values() if not isinstance(v, (str, int, float)))
    defaults = {"age": "_T", "migrant_status": "_T", "counterpart_area": "_T", "labour_status": "_T",
                "obs_status": "A"}
    frame = {c: cols.get(c, defaults.get(c)) for c in COLUMNS}
    df = pd.DataFrame({c: (v if not isinstance(v, (str, int, float)) else [v] * n) for c, v in frame.items()})
    df["time_period"] = df["time_period"].astype(str)
    return df


def ims_long(table: pd.DataFrame, to_code: dict[int, str], scale: int) -> pd.DataFrame:
    value_cols = [c for c in table.columns if "|" in c]
    long = table.melt(id_vars=["m49"], value_vars=value_cols, var_name="k", value_name="value")
    long = long[long.value.map(lambda v: isinstance(v, (int, float)) and pd.notna(v))]
    bad = set(table[value_cols].stack().map(lambda v: v if isinstance(v, str) else None).dropna()) - {".."}
    assert not bad, f"unexpected symbols in the IMS workbook: {bad}"  # only '..' (not available) occurs
    long[["sex", "year"]] = long.k.str.split("|", expand=True)
    long["ref_area"] = long.m49.map(to_code)
    long["value"] = long.value.astype(float) * scale
    # the workbook repeats "Australia and New Zealand" (927) as SDG region and as subregion,
    # and Latin America and the Caribbean under 1830 and 904: identical rows, keep one.
    long = long.drop_duplicates(["ref_area", "sex", "year", "value"])
    assert not long.duplicated(["ref_area", "sex", "year"]).any()
    return long


def build_undesa_ims(ref: Path, areas: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """IMS 2020: Table 1 stock and Table 2 population by destination, plus origin detail."""
    to_code = code_for_m49(areas)
    t1 = ims_long(read_ims_table(ref, "Table 1"), to_code, 1)
    t2 = ims_long(read_ims_table(ref, "Table 2"), to_code, 1000)
    stock = observations(measure="POP", ref_area=t1.ref_area.values, time_period=t1.year.values,
                         sex=t1.sex.values, migrant_status="MS_MIGRANT", value=t1.value.values,
                         unit_measure="PS", unit_mult=0)
    pop = observations(measure="POP", ref_area=t2.ref_area.values, time_period=t2.year.values,
                       sex=t2.sex.values, value=t2.value.round(3).values, unit_measure="PS", unit_mult=3)

    od = pd.read_csv(ref / IMS_ORIGIN_FILE, keep_default_na=False, dtype={"geo": str, "from": str})
    od["geo"] = od.geo.replace(CODE_SYNONYMS)
    od["from"] = od["from"].replace(CODE_SYNONYMS)
    od["sex"] = od.sex.map({"female": "F", "male": "M"})
    assert od.sex.notna().all()
    both = od.pivot_table(index=["geo", "t", "from"], columns="sex", values="n", aggfunc="sum")
    both = both.dropna().sum(axis=1).rename("n").reset_index().assign(sex="_T")
    od = pd.concat([od[["geo", "t", "from", "sex", "n"]], both[["geo", "t", "from", "sex", "n"]]])
    origin = observations(measure="POP", ref_area=od.geo.values, time_period=od.t.values, sex=od.sex.values,
                          migrant_status="MS_MIGRANT", counterpart_area=od["from"].values,
                          value=od.n.astype(float).values, unit_measure="PS", unit_mult=0)
    origin = drop_placeholder_zeros(origin, stock)
    mismatches = origin_sum_mismatches(stock, origin)
    return pd.concat([stock, pop, origin], ignore_index=True), mismatches


REFUGEE_SHEET = "Table 6"
REFUGEE_YEARS = [1990, 1995, 2000, 2005, 2010, 2015, 2020]
# Table 6 symbols (Notes sheet of the workbook): '~' protected for privacy, the number (or the number
# used to derive the percentage) is under five; '..' not available or not reported separately.
REFUGEE_SYMBOLS = {"~", ".."}


def read_refugee_table(ref: Path) -> pd.DataFrame:
    """IMS 2020 Table 6: refugees and asylum seekers at mid-year (both sexes) in columns 5-11, the same
    as a percentage of the international migrant stock in 12-18, annual rates of change in 19-24."""
    raw = pd.read_excel(ref / IMS_FILE, sheet_name=REFUGEE_SHEET, header=None, engine="calamine")
    title = str(raw.iat[2, 4])
    assert title.startswith("Table 6: Estimated refugee stock (including asylum seekers) at mid-year"), title
    assert str(raw.iat[7, 5]).startswith("Refugee and asylum seekers at mid-year"), raw.iat[7, 5]
    assert str(raw.iat[7, 12]).startswith("Refugee and asylum seekers as a percentage of the international"), \
        raw.iat[7, 12]
    assert [int(y) for y in raw.iloc[10, 5:19]] == REFUGEE_YEARS * 2, list(raw.iloc[10, 5:19])
    body = raw.iloc[11:].reset_index(drop=True)
    out = pd.DataFrame({"name": body[1].astype(str).str.strip(), "m49": body[3].astype(int)})
    for j, year in enumerate(REFUGEE_YEARS):
        out[f"REFUG|{year}"] = body[5 + j]
        out[f"REFUG_SHARE|{year}"] = body[12 + j]
    assert len(out) == 283 and out.name.iloc[0] == "WORLD", (len(out), out.name.iloc[0])
    return out


def build_undesa_refugees(ref: Path, areas: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """IMS 2020 Table 6: refugees and asylum seekers (``REFUG``, persons) and their share of the
    international migrant stock (``REFUG_SHARE``, %, as published), every area row, 1990-2020.
    Cells with a symbol are not shipped; their counts come back (``~`` under five, ``..`` n/a)."""
    table = read_refugee_table(ref)
    value_cols = [c for c in table.columns if "|" in c]
    long = table.melt(id_vars=["m49"], value_vars=value_cols, var_name="k", value_name="value")
    text = long.value.map(lambda v: v if isinstance(v, str) else None)
    bad = set(text.dropna()) - REFUGEE_SYMBOLS
    assert not bad, f"unexpected symbols in IMS 2020 Table 6: {bad}"
    long[["measure", "year"]] = long.k.str.split("|", expand=True)
    # '..' only for the State of Palestine's percentages (its refugees are not in its migrant stock)
    assert set(long.m49[text == ".."]) <= {275} and not ((text == "..") & (long.measure == "REFUG")).any()
    omitted = {f"{m} {s}": int(((long.measure == m) & (text == s)).sum())
               for m in ("REFUG", "REFUG_SHARE") for s in sorted(REFUGEE_SYMBOLS)}
    long = long[text.isna() & long.value.notna()].copy()
    long["ref_area"] = long.m49.map(code_for_m49(areas))
    assert long.ref_area.notna().all(), sorted(set(long.m49[long.ref_area.isna()]))
    long["value"] = long.value.astype(float)
    # the workbook repeats two aggregates under two codes (see ims_long): identical rows, keep one
    long = long.drop_duplicates(["ref_area", "measure", "year", "value"])
    assert not long.duplicated(["ref_area", "measure", "year"]).any()
    counts = long.measure == "REFUG"
    assert (long.value[counts] == long.value[counts].round()).all(), "refugee counts are whole persons"
    unit = long.measure.map({"REFUG": "PS", "REFUG_SHARE": "PT"})
    return observations(measure=long.measure.values, ref_area=long.ref_area.values, time_period=long.year.values,
                        sex="_T", value=long.value.values, unit_measure=unit.values, unit_mult=0), omitted


# UNHCR Refugee Data Finder "Solutions" export: column -> (measure, the area that reports it). Returns
# are reported by the country of origin they return to (partner: the country of asylum they leave;
# for returned IDPs the same country), resettlement and naturalisation by the country of asylum
# (partner: the origin) -- the orientation the upload gives the same file (README, "Areas").
UNHCR_SOLUTIONS = {
    "Returned refugees": ("RET_REFUG", "origin"),
    "Returned IDPss": ("RET_IDP", "origin"),        # sic, as exported
    "Resettlement arrivals": ("RESETTLE", "asylum"),
    "Naturalisation": ("NATURAL", "asylum"),
}
# UNHCR origin codes that are no ISO country: unknown, stateless, Tibetan -> other / unknown origin
UNHCR_OTHER_ORIGINS = {"UNK", "XXA", "TIB"}


def read_unhcr_preamble(ref: Path) -> tuple[dict[str, str], int]:
    """The export's preamble (``key: value`` lines before the header) and the header's line index."""
    import csv

    lines = (ref / UNHCR_SOLUTIONS_FILE).read_text(encoding="utf-8").splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("Year,"))
    meta = {}
    for row in csv.reader(lines[:head]):
        if row and row[0].strip():
            meta.setdefault(row[0].strip().rstrip(":"), row[1].strip() if len(row) > 1 else "")
    return meta, head


def build_unhcr_solutions(ref: Path, areas: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, object]]:
    """UNHCR solutions 2015-2023 by origin x asylum: returned refugees and IDPs, resettlement arrivals,
    naturalisations. '-' (no value) cells are not shipped; UNK/XXA/TIB origins are summed into OOO."""
    meta, head = read_unhcr_preamble(ref)
    assert meta.get("Usage licence") == "https://creativecommons.org/licenses/by/4.0/", meta
    assert meta.get("Origin") == "all" and meta.get("Country of asylum") == "all", meta
    raw = pd.read_csv(ref / UNHCR_SOLUTIONS_FILE, skiprows=head, dtype=str, keep_default_na=False)
    n_lines = len((ref / UNHCR_SOLUTIONS_FILE).read_text(encoding="utf-8").splitlines())
    assert len(raw) == n_lines - head - 1, "a line of the UNHCR export was not read as one row"
    assert list(raw.columns[5:]) == list(UNHCR_SOLUTIONS), list(raw.columns)
    code = {c: ("OOO" if c in UNHCR_OTHER_ORIGINS else c) for c in
            set(raw["Country of origin (ISO)"]) | set(raw["Country of asylum (ISO)"])}
    assert set(code.values()) <= set(areas.code), sorted(set(code.values()) - set(areas.code))
    origin, asylum = raw["Country of origin (ISO)"].map(code), raw["Country of asylum (ISO)"].map(code)
    parts, symbols = [], {}
    for column, (measure, reports) in UNHCR_SOLUTIONS.items():
        text = raw[column].str.strip()
        symbols[measure] = int((text == "-").sum())
        bad = set(text[~text.str.fullmatch(r"\d+") & (text != "-")])
        assert not bad, f"unexpected cells in {column}: {sorted(bad)[:5]}"
        keep = text != "-"
        ref_area, partner = (origin, asylum) if reports == "origin" else (asylum, origin)
        # resettlement and naturalisation are reported by a country (UNK/XXA/TIB occur there only as origins;
        # one return of stateless refugees has OOO as its "origin" that reports, as the upload reads it too)
        assert reports == "origin" or (ref_area[keep] != "OOO").all(), f"{column}: a figure reported by no country"
        parts.append(pd.DataFrame({"measure": measure, "ref_area": ref_area[keep], "counterpart_area": partner[keep],
                                   "time_period": raw["Year"][keep], "value": text[keep].astype("int64")}))
    long = pd.concat(parts, ignore_index=True)
    merged = len(long)
    long = long.groupby(["measure", "ref_area", "counterpart_area", "time_period"], as_index=False)["value"].sum()
    report = {"extracted": meta.get("Date extracted", ""), "no_value": symbols, "summed_into_other": merged - len(long),
              "years": f"{long.time_period.min()}-{long.time_period.max()}"}
    return observations(measure=long.measure.values, ref_area=long.ref_area.values, time_period=long.time_period.values,
                        sex="_T", counterpart_area=long.counterpart_area.values, value=long.value.astype(float).values,
                        unit_measure="PS", unit_mult=0), report


def unhcr_notes(report: dict) -> str:
    n = report["no_value"]
    return (f"UNHCR Refugee Data Finder export 'Solutions' (solution types RET, RDP, RST, NAT; all origins, all "
            f"countries of asylum), extracted {report['extracted']}, years {report['years']}. Returns are reported by "
            f"the country of origin (partner: the country of asylum left; returned IDPs: the same country), "
            f"resettlement and naturalisation by the country of asylum (partner: the origin). Cells '-' (no value) "
            f"are not shipped (returned refugees {n['RET_REFUG']}, returned IDPs {n['RET_IDP']}, resettlement "
            f"{n['RESETTLE']}, naturalisation {n['NATURAL']}); origins unknown (UNK), stateless (XXA) and Tibetan "
            f"(TIB) are summed into other / unknown origin (OOO; {report['summed_into_other']} values merged). "
            f"UNHCR: 'Some data presented may differ from statistics published previously due to retroactive "
            f"changes or the inclusion of previously unavailable data.'")


def drop_placeholder_zeros(origin: pd.DataFrame, stock: pd.DataFrame) -> pd.DataFrame:
    """Drop origin rows for destination-years the workbook marks `..` (not available).

    gdidata writes n=0 for every origin there (CUW, SXM, MNE, SSD before they were reported
    separately); those zeros are placeholders, not true zeros, so they are not shipped.
    """
    have_total = stock.loc[stock.sex == "_T", ["ref_area", "time_period"]].assign(_has=True)
    orphan = origin[["ref_area", "time_period"]].merge(have_total, how="left")["_has"].isna().to_numpy()
    assert (origin.loc[orphan, "value"] == 0).all(), "non-zero origin data where the workbook has no total"
    return origin[~orphan]


def origin_sum_mismatches(stock: pd.DataFrame, origin: pd.DataFrame) -> list[str]:
    """Destination x sex x year where the sum over origins differs from the Table 1 total."""
    keys = ["ref_area", "time_period", "sex"]
    both = origin[origin.sex != "_T"].assign(sex="_T")  # F + M over all origins vs the both-sexes total
    sums = pd.concat([origin[origin.sex != "_T"], both]).groupby(keys).value.sum()
    totals = stock.set_index(keys).value
    joined = pd.concat([sums.rename("origins"), totals.rename("total")], axis=1, join="inner")
    off = joined[(joined.origins - joined.total).abs() > 0.5]
    return [f"{a} {t} {s}: origins {o:,.0f} vs total {v:,.0f}" for (a, t, s), (o, v) in off.iterrows()]


WPP_AGES = {f"{a}-{a + 4}": f"Y{a}T{a + 4}" for a in range(0, 100, 5)} | {"100+": "Y_GE100"}


def build_wpp(ref: Path, areas: pd.DataFrame) -> pd.DataFrame:
    """WPP 2024 population by sex and 5-year age (plus age total), 1990-2020, in persons."""
    to_code = code_for_m49(areas)
    raw = pd.read_csv(ref / WPP_FILE)
    raw = raw[raw.year.between(1990, 2020)].copy()
    raw["ref_area"] = raw.country_code.map(to_code)
    assert raw.ref_area.notna().all(), sorted(set(raw.country_code[raw.ref_area.isna()]))
    raw["age"] = raw.age.map(WPP_AGES)
    assert raw.age.notna().all()
    long = raw.melt(id_vars=["ref_area", "country_code", "year", "age"], value_vars=["pop", "popM", "popF"],
                    var_name="sex", value_name="value")
    long["sex"] = long.sex.map({"pop": "_T", "popM": "M", "popF": "F"})
    totals = long.groupby(["ref_area", "country_code", "year", "sex"], as_index=False).value.sum()
    long = pd.concat([long, totals.assign(age="_T")], ignore_index=True)
    long["value"] = (long.value * 1000).round(3)
    # merged synonym codes (1830 = 904, 1836 = 927) carry the same figures; keep the canonical code
    canonical = set(M49_SYNONYMS.values())
    dup = long[long.country_code.isin(M49_SYNONYMS)]
    keep = long[~long.country_code.isin(M49_SYNONYMS)]
    check = dup.merge(keep[keep.country_code.isin(canonical)], on=["ref_area", "year", "sex", "age"])
    assert ((check.value_x - check.value_y).abs() <= 1).all(), "synonym aggregates differ in WPP"
    return observations(measure="POP", ref_area=keep.ref_area.values, time_period=keep.year.values,
                        sex=keep.sex.values, age=keep.age.values, value=keep.value.values,
                        unit_measure="PS", unit_mult=3)


WDI_VARS = {  # var -> (measure, unit_measure)
    "remin": ("REM_IN", "USD"),
    "remout": ("REM_OUT", "USD"),
    "gdp": ("GDP", "USD"),
    "nmig": ("NET_MIG", "PS"),
}


def build_wdi(ref: Path, areas: pd.DataFrame) -> pd.DataFrame:
    """World Bank WDI (via gdidata): remittances in/out and GDP in current US$, net migration."""
    raw = pd.read_csv(ref / WDI_FILE, keep_default_na=False)
    raw = raw[raw["var"].isin(WDI_VARS) & (raw.t >= 1990)]
    raw = raw[pd.to_numeric(raw.v, errors="coerce").notna()]
    raw["geo"] = raw.geo.replace(CODE_SYNONYMS)
    assert set(raw.geo) <= set(areas.code), sorted(set(raw.geo) - set(areas.code))
    measure = raw["var"].map(lambda v: WDI_VARS[v][0])
    unit = raw["var"].map(lambda v: WDI_VARS[v][1])
    return observations(measure=measure.values, ref_area=raw.geo.values, time_period=raw.t.values, sex="_T",
                        value=raw.v.astype(float).values, unit_measure=unit.values, unit_mult=0)


def build_knomad(ref: Path, areas: pd.DataFrame) -> pd.DataFrame:
    """KNOMAD bilateral remittance matrix 2021 (US$ million in the source), modelled estimates."""
    raw = pd.read_excel(ref / BRM_FILE, sheet_name="FINAL BRM 2021 ", header=None, engine="calamine")
    index = area_index(areas)
    receivers = [str(x).strip() for x in raw.iloc[1, 1:]]
    senders = _matrix_row_names(raw)
    rows = []
    for i, sender in enumerate(senders):
        for j, receiver in enumerate(receivers):
            v = raw.iat[2 + i, 1 + j]
            if not isinstance(v, (int, float)) or pd.isna(v):
                continue
            rows.append((index[normalise_name(receiver)], index[normalise_name(sender)], float(v)))
    df = pd.DataFrame(rows, columns=["to", "from", "v"])
    return observations(measure="REM_IN", ref_area=df["to"].values, time_period=2021, sex="_T",
                        counterpart_area=df["from"].values, value=(df.v * 1e6).round(3).values,
                        unit_measure="USD", unit_mult=6, obs_status="E")


def area_index(areas: pd.DataFrame) -> dict[str, str]:
    """Normalised name -> code over name_en/fr/es and aliases."""
    out = {}
    for r in areas.itertuples():
        for name in [r.name_en, r.name_fr, r.name_es, *str(r.aliases or "").split("|")]:
            if name and name != "nan":
                out[normalise_name(name)] = r.code
    return out


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------
def format_values(values: pd.Series, decimals: int | None = 3) -> pd.Series:
    """Numbers as text: integers without a decimal point, others rounded to ``decimals`` (None: as
    stored in the source, the shortest text that reads back to the same float)."""
    v = values.astype(float)
    v = v.round(decimals) if decimals is not None else v
    whole = v == v.round(0)
    out = pd.Series("", index=v.index, dtype=object)
    out[whole] = v[whole].astype("int64").astype(str)
    out[~whole] = v[~whole].map(repr)
    out[v.isna()] = ""
    return out


def to_csv_bytes(df: pd.DataFrame, decimals: int | None = 3) -> bytes:
    df = df.copy()
    df["value"] = format_values(df["value"], decimals)
    df["_sex"] = df["sex"].map(SEX_ORDER)
    df["_age"] = df["age"].map(AGE_ORDER)
    df = df.sort_values(
        ["measure", "ref_area", "counterpart_area", "migrant_status", "time_period", "_sex", "_age"],
        kind="mergesort",
    )
    assert not df.duplicated(KEY).any(), df[df.duplicated(KEY, keep=False)].head()
    return df[COLUMNS].to_csv(index=False, lineterminator="\n").encode("utf-8")


def write_gzip(path: Path, data: bytes) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    path.write_bytes(buf.getvalue())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PROVENANCE = {
    IMS_FILE: "guyabel/stepladderChapter data_raw/ (commit be0164e3)",
    IMS_ORIGIN_FILE: "iom/gdidata data/undesa_stocks_2020.rda (commit 1c27ae4b), converted to CSV",
    WPP_FILE: "PPgp/wpp2024 (commit 33717a39)",
    UNLOC_FILE: "PPgp/wpp2024 (commit b27df7a9)",
    WDI_FILE: "iom/gdidata data/wdi.rda (commit 1267fd37), converted to CSV",
    BRM_FILE: "artemdsmirnov/International-Payment-System-Go-to-Market-Strategy-and-Pricing-Points (commit 381b1ca0)",
    UNHCR_SOLUTIONS_FILE: "enadol/skmigration solutions.csv (commit 231c5517)",
}

DATASETS = [
    {
        "file": "undesa_ims2020.csv.gz", "kind": "migrant_stock",
        "source": "UN DESA, International Migrant Stock", "edition": "2020",
        "title": "International migrant stock by destination, origin and sex, and total population, 1990-2020",
        "basis": "country of birth (or citizenship where birth data are missing; see type of data)",
        "licence": "CC BY 3.0 IGO",
        "url": "",
        "raw": [IMS_FILE, IMS_ORIGIN_FILE],
    },
    {
        "file": "undesa_ims2020_refugees.csv.gz", "kind": "refugees",
        "source": "UN DESA, International Migrant Stock", "edition": "2020",
        "title": "Estimated refugee stock (including asylum seekers) at mid-year by destination, 1990-2020 "
                 "(IMS 2020, Table 6)",
        "basis": "refugees, persons in refugee-like situations and asylum seekers (and Venezuelans displaced "
                 "abroad) as reported by UNHCR and, where appropriate, UNRWA; mid-year (1 July), both sexes",
        "licence": "CC BY 3.0 IGO",
        "url": "",
        "raw": [IMS_FILE],
    },
    {
        "file": "unhcr_solutions.csv.gz", "kind": "refugees",
        "source": "UNHCR, Refugee Data Finder", "edition": "19/07/2024",
        "title": "Solutions: returned refugees and IDPs, resettlement arrivals, naturalisations by origin and "
                 "country of asylum, 2015-2023",
        "basis": "refugees and IDPs under UNHCR's mandate; calendar-year flows",
        "licence": "CC BY 4.0 (stated in the export)",
        "url": "https://www.unhcr.org/refugee-statistics/download/?url=C70gnF",
        "raw": [UNHCR_SOLUTIONS_FILE],
    },
    {
        "file": "wpp2024_population.csv.gz", "kind": "population",
        "source": "UN DESA, World Population Prospects", "edition": "2024",
        "title": "Population by sex and five-year age group, 1990-2020",
        "basis": "de facto population at 1 July", "licence": "CC BY 3.0 IGO",
        "url": "", "raw": [WPP_FILE, UNLOC_FILE],
    },
    {
        "file": "wdi.csv.gz", "kind": "remittances",
        "source": "World Bank, World Development Indicators", "edition": "gdidata 1267fd37",
        "title": "Personal remittances received and paid, GDP (current US$) and net migration, 1990-2023",
        "basis": "balance of payments (remittances), national accounts (GDP), UN WPP (net migration)",
        "licence": "CC BY 4.0 (World Bank WDI); gdidata package MIT", "url": "",
        "raw": [WDI_FILE],
    },
    {
        "file": "knomad_brm2021.csv.gz", "kind": "remittance_corridors",
        "source": "KNOMAD/World Bank, Bilateral Remittance Matrix", "edition": "2021",
        "title": "Bilateral remittance estimates by receiving and sending country, 2021 (modelled)",
        "basis": "modelled: migrant stocks x host and origin incomes", "licence": "none stated; cite KNOMAD/World Bank",
        "url": "", "raw": [BRM_FILE],
    },
]


def _yaml_str(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def datasets_yaml(ref: Path, rows: dict[str, int], notes: dict[str, str] | None = None) -> str:
    out = ["# Generated by scripts/build_reference.py: one published dataset version per file.", ""]
    for d in DATASETS:
        out.append(f"- file: {d['file']}")
        for k in ("kind", "source", "edition", "title", "basis", "licence", "url"):
            out.append(f"  {k}: {_yaml_str(d[k]) if k != 'kind' else d[k]}")
        if (notes or {}).get(d["file"]):
            out.append(f"  notes: {_yaml_str(notes[d['file']])}")
        out.append(f"  provenance: {_yaml_str('; '.join(f'{r}: {PROVENANCE[r]}' for r in d['raw']))}")
        out.append("  raw_sha256:")
        for r in d["raw"]:
            out.append(f"    {Path(r).name}: {sha256(ref / r)}")
        out.append(f"  rows: {rows[d['file']]}")
    return "\n".join(out) + "\n"


def refugee_notes(omitted: dict[str, int]) -> str:
    """What the refugee table leaves out, said on the stored dataset."""
    return (f"Not shipped: cells marked '~' in Table 6 (protected for privacy: the number, or the number used to "
            f"derive the percentage, is under five; {omitted['REFUG ~']} counts, {omitted['REFUG_SHARE ~']} "
            f"percentages) and '..' (not available; {omitted['REFUG_SHARE ..']} percentages, State of Palestine, "
            f"whose refugees are not part of its foreign-born migrant stock). Neither is zero. "
            f"Annual rates of change (Table 6, last six columns) are not shipped: they follow from the counts.")


def build(ref: Path, out: Path, verbose: bool = True) -> dict:
    (out / "data" / "codelists").mkdir(parents=True, exist_ok=True)
    (out / "data" / "reference").mkdir(parents=True, exist_ok=True)
    areas, unmapped = build_areas(ref)
    areas.to_csv(out / "data" / "codelists" / "areas.csv", index=False, lineterminator="\n", encoding="utf-8")

    ims, mismatches = build_undesa_ims(ref, areas)
    refugees, omitted = build_undesa_refugees(ref, areas)
    solutions, unhcr = build_unhcr_solutions(ref, areas)
    tables = {
        "undesa_ims2020.csv.gz": ims,
        "undesa_ims2020_refugees.csv.gz": refugees,
        "unhcr_solutions.csv.gz": solutions,
        "wpp2024_population.csv.gz": build_wpp(ref, areas),
        "wdi.csv.gz": build_wdi(ref, areas),
        "knomad_brm2021.csv.gz": build_knomad(ref, areas),
    }
    rows = {}
    for name, df in tables.items():
        assert set(df.ref_area) | set(df.counterpart_area) <= set(areas.code) | {"_T"}, name
        # published percentages are kept as stored (Table 6); other tables round to 3 decimals
        decimals = None if name == "undesa_ims2020_refugees.csv.gz" else 3
        write_gzip(out / "data" / "reference" / name, to_csv_bytes(df, decimals))
        rows[name] = len(df)
    notes = {"undesa_ims2020_refugees.csv.gz": refugee_notes(omitted), "unhcr_solutions.csv.gz": unhcr_notes(unhcr)}
    (out / "data" / "reference" / "datasets.yml").write_text(datasets_yaml(ref, rows, notes), encoding="utf-8")
    report = {"areas": len(areas), "rows": rows, "unmapped_names": unmapped, "origin_mismatches": mismatches,
              "refugee_cells_omitted": omitted, "unhcr_solutions": unhcr}
    if verbose:
        print(f"areas.csv: {len(areas)} rows")
        for name, n in rows.items():
            print(f"{name}: {n} rows, {(out / 'data' / 'reference' / name).stat().st_size:,} bytes")
        print("KNOMAD names not mapped:", unmapped or "none")
        print(f"origin sums differing from Table 1 totals: {len(mismatches)}")
        for m in mismatches:
            print("  ", m)
    return report


def main(argv: Iterable[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reference-dir", type=Path, default=DEFAULT_REFERENCE_DIR)
    p.add_argument("--out-dir", type=Path, default=REPO, help="project root to write data/ into")
    a = p.parse_args(argv)
    build(a.reference_dir.resolve(), a.out_dir.resolve())


if __name__ == "__main__":
    main()
