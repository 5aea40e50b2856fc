"""Build ``data/codelists/subdivisions.csv``: the ISO 3166-2 subdivisions of every country of
``data/codelists/areas.csv`` (from the iso-codes project, shipped with pycountry), the default code
list of the local level.

Run: ``python scripts/build_subdivisions.py`` (needs pycountry from requirements-dev.txt).

Columns: ``code`` (ISO 3166-2, e.g. ``NP-P1``), ``country`` (our ISO3 code), ``parent`` (the
subdivision it belongs to, empty at the first level), ``level`` (1 = directly below the country),
``type`` (ISO's category: Province, District…), ``name_en/fr/es`` (iso-codes translations; the ISO
name where none exists), ``name_local`` (ISO's name, which is the local form for most countries),
``aliases`` (``|``-separated: the name followed by the type, "Koshi Province", and hand-kept
additions in ``EXTRA_ALIASES``), ``valid_from``/``valid_to``
(ISO dates; empty = open). Names that are not unique within a country are left to their codes.
"""

from __future__ import annotations

import csv
import gettext
from pathlib import Path

import pycountry

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "codelists" / "subdivisions.csv"

# Names national tables use that ISO does not list. Nepal: the interim names of provinces 1 and 2
# (before 2023) and the numbers the 2015 constitution gave all seven.
EXTRA_ALIASES: dict[str, list[str]] = {
    "NP-P1": ["Province No. 1", "Province 1"],
    "NP-P2": ["Province No. 2", "Province 2", "Madhesh Pradesh"],
    "NP-P3": ["Province No. 3", "Province 3", "Bagmati Pradesh"],
    "NP-P4": ["Province No. 4", "Province 4"],
    "NP-P5": ["Province No. 5", "Province 5"],
    "NP-P6": ["Province No. 6", "Province 6"],
    "NP-P7": ["Province No. 7", "Province 7", "Sudurpaschim"],
}


def main() -> None:
    with open(ROOT / "data" / "codelists" / "areas.csv", encoding="utf-8") as fh:
        iso3 = {r["iso2"]: r["code"] for r in csv.DictReader(fh) if r["kind"] == "country" and r["iso2"]}
    translations = {lang: gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
                    for lang in ("fr", "es")}
    subs = sorted(pycountry.subdivisions, key=lambda s: s.code)
    by_code = {s.code: s for s in subs}

    def level(sub) -> int:
        depth = 1
        while sub.parent_code and sub.parent_code in by_code:
            sub, depth = by_code[sub.parent_code], depth + 1
        return depth

    rows = []
    for sub in subs:
        if sub.country_code not in iso3:
            continue
        rows.append({
            "code": sub.code, "country": iso3[sub.country_code], "parent": sub.parent_code or "",
            "level": level(sub), "type": sub.type, "name_en": sub.name,
            "name_fr": translations["fr"].gettext(sub.name), "name_es": translations["es"].gettext(sub.name),
            "name_local": sub.name, "aliases": "|".join(EXTRA_ALIASES.get(sub.code, []) + [f"{sub.name} {sub.type}"]),
            "valid_from": "", "valid_to": "",
        })
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{OUT.relative_to(ROOT)}: {len(rows)} subdivisions of {len({r['country'] for r in rows})} countries")


if __name__ == "__main__":
    main()
