"""Boundaries of subdivisions, offline: an admin uploads a country's official boundaries per level
(GeoJSON, TopoJSON or a zipped shapefile); they are checked (readable geometry, WGS84 lon/lat, every
feature's code known, no duplicates, size), simplified for display within a size budget, versioned
and audited in the store (table ``boundaries``). Maps draw from them with no outside request.

Default: Nepal's provinces (``data/boundaries/``, MIT, see its README), loaded at first start.
"""

from __future__ import annotations

from pathlib import Path

from mmicd import DATA_DIR
from mmicd.auth import SYSTEM
from mmicd.boundaries.check import (
    CodeList,
    CodeRow,
    check_features,
    codes_from_boundaries,
    detect_code_property,
)
from mmicd.boundaries.read import BoundaryRefused, read_boundaries
from mmicd.boundaries.repository import (
    Boundaries,
    boundary,
    countries_with_boundaries,
    current_boundaries,
    load_boundaries,
    make_current,
    versions,
)
from mmicd.boundaries.simplify import simplify_to_budget

__all__ = ["Boundaries", "BoundaryRefused", "CodeList", "CodeRow", "DEFAULTS", "boundary", "check_features",
           "codes_from_boundaries", "countries_with_boundaries", "current_boundaries", "detect_code_property",
           "ensure_default_boundaries", "load_boundaries", "make_current", "read_boundaries", "simplify_to_budget",
           "versions"]

BOUNDARY_DIR = DATA_DIR / "boundaries"
# (country, level, file, source, licence) of the boundaries shipped with the project
DEFAULTS = [
    ("NPL", 1, "NPL_1.geojson",
     "Aashish Manandhar, nepal-geojson (npm), from the Survey Department of Nepal's district shapes; "
     "simplified (scripts/build_boundaries.py)", "MIT (data/boundaries/README.md)"),
]

def ensure_default_boundaries(store, *, directory: Path = BOUNDARY_DIR) -> list[Boundaries]:
    """Load the shipped boundaries of each country and level that has none yet."""
    loaded = []
    for country, level, name, source, licence in DEFAULTS:
        if current_boundaries(store, country, level) is None:
            loaded.append(load_boundaries(store, directory / name, file_name=name, country=country, level=level,
                                          user=SYSTEM, code_property="code", source_name=source, licence=licence))
    return loaded
