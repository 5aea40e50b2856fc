"""Simplifying boundaries for display within a size budget, keeping shared borders shared.

The features of one level form a coverage (neighbours share their borders); simplifying each one on
its own opens gaps and overlaps between neighbours. :func:`shapely.coverage_simplify` simplifies the
shared edges once, so neighbours still meet. The tolerance grows until the GeoJSON fits the budget;
coordinates are rounded to 5 decimals (about a metre).
"""

from __future__ import annotations

import json

import numpy as np
import shapely

BUDGET_BYTES = 300_000  # per level
FIRST_TOLERANCE = 0.0005  # degrees (about 50 m)
GROWTH = 1.6
MAX_STEPS = 25
DECIMALS = 5


def feature_collection(features: list[tuple[str, str, shapely.Geometry]]) -> str:
    """Compact GeoJSON: each feature's ``id`` and ``properties.code`` the code, ``properties.name``.

    Outer rings run clockwise, holes anticlockwise: plotly draws geojson with d3-geo, which reads a
    ring on the sphere and fills the whole globe but the subdivision when an outer ring runs
    anticlockwise (the RFC 7946 order most files use)."""
    parts = []
    for code, name, geometry in features:
        rounded = shapely.orient_polygons(shapely.transform(geometry, lambda xy: np.round(xy, DECIMALS)),
                                          exterior_cw=True)
        head = json.dumps({"type": "Feature", "id": code, "properties": {"code": code, "name": name}},
                          separators=(",", ":"), ensure_ascii=False)
        parts.append(f'{head[:-1]},"geometry":{shapely.to_geojson(rounded)}}}')
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


class OverBudget(ValueError):
    """Even the coarsest simplification tried does not fit the budget."""


def simplify_to_budget(features: list[tuple[str, str, shapely.Geometry]], budget: int = BUDGET_BYTES
                       ) -> tuple[str, float]:
    """The display GeoJSON within ``budget`` bytes (UTF-8) and the tolerance used (0: only rounded)."""
    text = feature_collection(features)
    if len(text.encode()) <= budget:
        return text, 0.0
    geometries = [g for _, _, g in features]
    tolerance = FIRST_TOLERANCE
    for _ in range(MAX_STEPS):
        simplified = shapely.coverage_simplify(geometries, tolerance)
        text = feature_collection([(c, n, g) for (c, n, _), g in zip(features, simplified, strict=True)])
        if len(text.encode()) <= budget:
            return text, tolerance
        tolerance *= GROWTH
    raise OverBudget(f"no simplification up to tolerance {tolerance:.3g} fits {budget} bytes")
