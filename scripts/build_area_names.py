"""Build ``data/codelists/area_names_pt.csv``: Portuguese names of the areas of
``data/codelists/areas.csv`` (ISO 3166 names translated by the iso-codes project, shipped with
pycountry), so that tables from Portuguese-speaking offices are read like the others.

Run: ``python scripts/build_area_names.py`` (needs pycountry from requirements-dev.txt). A name
that already names another area is left out (a name never points to two codes).
"""

from __future__ import annotations

import csv
import gettext
from pathlib import Path

import pycountry

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "codelists" / "area_names_pt.csv"


def main() -> None:
    import sys

    sys.path.insert(0, str(ROOT))
    from mmicd import codes

    with open(ROOT / "data" / "codelists" / "areas.csv", encoding="utf-8") as fh:
        known = {r["code"] for r in csv.DictReader(fh)}
    rows: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for lang in ("pt_BR", "pt"):
        tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for country in pycountry.countries:
            code = country.alpha_3
            if code not in known:
                continue
            for attr in ("name", "common_name"):
                english = getattr(country, attr, None)
                if not english:
                    continue
                name = tr.gettext(english)
                if name == english:
                    continue
                key = codes.normalise_name(name)
                owner = codes.resolve_area(name)
                if (owner is not None and owner != code) or seen.get(key, code) != code:
                    continue
                if key not in seen:
                    seen[key] = code
                    rows.append((code, name))
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        fh.write("# Portuguese names of areas (iso-codes translations via pycountry); built by "
                 "scripts/build_area_names.py\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["code", "alias", "relation"])
        for code, name in sorted(rows):
            w.writerow([code, name, "same"])
    print(f"{OUT.relative_to(ROOT)}: {len(rows)} names")


if __name__ == "__main__":
    main()
