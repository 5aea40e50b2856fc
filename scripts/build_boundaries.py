"""Build data/boundaries/NPL_1.geojson: Nepal's seven provinces, ISO 3166-2 coded, simplified.

Source: ../shared/reference/subnational/boundaries-npl/nepal-with-provinces-acesmndr.geojson
(Acesmndr/nepal-geojson @ 0e084221686fba8a4a8c1590661367676e96e473, MIT). Its ``name`` property
("Province No. 1", "Bagmati", ...) is resolved to NP-P1...NP-P7 by mmicd.subdivisions (interim names
are aliases); the geometry is simplified with shared borders kept (mmicd.boundaries.simplify) to the
budget below. Usage: ``python scripts/build_boundaries.py [path to the reference file]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mmicd.boundaries import CodeList, check_features, read_boundaries, simplify_to_budget

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared/reference/subnational/boundaries-npl/nepal-with-provinces-acesmndr.geojson"
BUDGET = 150_000


def main(source: Path = SOURCE) -> None:
    checked = check_features(read_boundaries(source, source.name), CodeList("NPL", 1), code_property="name")
    if not checked.ok:
        raise SystemExit("\n".join(i.message for i in checked.issues))
    text, tolerance = simplify_to_budget(checked.features, BUDGET)
    out = ROOT / "data/boundaries/NPL_1.geojson"
    out.write_text(text + "\n", encoding="utf-8")
    print(f"{out}: {len(checked.features)} features, {len(text.encode()):,} bytes, tolerance {tolerance:g} degrees")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
