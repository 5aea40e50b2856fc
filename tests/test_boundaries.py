"""Boundaries, offline: upload round trips (GeoJSON, TopoJSON, zipped shapefile), every refusal with
its message and nothing stored, simplification within the budget with areas and shared borders kept,
an office's own codes taken from a boundary file (the Philippines' PSGC)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
import shapefile
import shapely
from shapely.geometry import shape
from sqlalchemy import func, select

from mmicd.auth import PermissionDenied, Role, User
from mmicd.boundaries import (
    CodeList,
    codes_from_boundaries,
    current_boundaries,
    ensure_default_boundaries,
    load_boundaries,
    make_current,
    read_boundaries,
    simplify_to_budget,
    versions,
)
from mmicd.boundaries.check import check_features
from mmicd.boundaries.repository import boundaries
from mmicd.issues import IssuesError
from mmicd.store import Store
from mmicd.store.schema import audit
from tests.conftest import REFERENCE

SUBNATIONAL = REFERENCE / "subnational"
NEPAL = SUBNATIONAL / "boundaries-npl" / "nepal-with-provinces-acesmndr.geojson"
PHL = SUBNATIONAL / "boundaries-phl"
ADMIN = User("admin", Role.ADMIN, id=1)
WGS84_PRJ = ('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137,298.257223563]],'
             'PRIMEM["Greenwich",0],UNIT["Degree",0.017453292519943295]]')
UTM_PRJ = 'PROJCS["WGS_1984_UTM_Zone_45N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984"]],PROJECTION["Transverse_Mercator"]]'

needs_reference = pytest.mark.skipif(not NEPAL.is_file(), reason="../shared/reference not present")


def square(x: float, y: float, size: float = 1.0) -> list:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def geojson(*features: tuple[dict, dict]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": g} for p, g in features]}).encode()


def two_provinces(name2: str = "Gandaki", geometry2: dict | None = None) -> bytes:
    return geojson(({"name": "Bagmati"}, {"type": "Polygon", "coordinates": square(84, 27)}),
                   ({"name": name2}, geometry2 or {"type": "Polygon", "coordinates": square(85, 27)}))


def counts(store: Store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(boundaries)).scalar_one(),
                conn.execute(select(func.count()).select_from(audit)).scalar_one())


def areas(collection: dict) -> dict[str, float]:
    return {f["id"]: shape(f["geometry"]).area for f in collection["features"]}


@needs_reference
def test_geojson_round_trip_nepal_names_resolved_to_iso_codes(store):
    stored = load_boundaries(store, NEPAL.read_bytes(), file_name=NEPAL.name, country="NPL", level=1, user=ADMIN,
                             source_name="nepal-geojson", licence="MIT")
    assert stored.code_property == "name"  # detected: "Province No. 1" -> NP-P1 through the alias list
    assert stored.codes == [f"NP-P{n}" for n in range(1, 8)]
    assert stored.names()["NP-P1"] == "Koshi" and stored.names()["NP-P2"] == "Madhesh"
    # outer rings clockwise for plotly's d3-geo (the source's run anticlockwise: each would fill the globe)
    assert not any(p.exterior.is_ccw for g in map(shape, (f["geometry"] for f in stored.feature_collection()[
        "features"])) for p in shapely.get_parts(g))
    assert (stored.version, stored.current, len(stored.geojson.encode()) <= 300_000) == (1, True, True)
    original = {f"NP-P{f['properties']['id']}": shape(f["geometry"]).area
                for f in json.loads(NEPAL.read_text())["features"]}
    for code, area in areas(stored.feature_collection()).items():
        assert area == pytest.approx(original[code], rel=0.005)
    entry = store.audit(entity_type="boundaries", entity_id=stored.id)
    assert entry["action"].tolist() == ["boundaries_loaded"] and entry["actor"].tolist() == ["admin"]
    assert entry["detail"].iloc[0]["features"] == 7


def topology() -> dict:
    """Two 1°×1° squares sharing their middle edge, quantised (scale 0.5°, so a unit step = half a degree)."""
    return {"type": "Topology", "transform": {"scale": [0.5, 0.5], "translate": [84, 27]},
            "arcs": [[[2, 0], [0, 2]],                       # shared edge (85,27)->(85,28)
                     [[2, 2], [-2, 0], [0, -2], [2, 0]],     # west ring rest: (85,28)->(84,28)->(84,27)->(85,27)
                     [[2, 0], [2, 0], [0, 2], [-2, 0]]],     # east ring rest: (85,27)->(86,27)->(86,28)->(85,28)
            "objects": {"provinces": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "properties": {"iso": "NP-P3"}},
                {"type": "Polygon", "arcs": [[2, -1]], "properties": {"iso": "P4"}}]}}}


def test_topojson_round_trip_and_the_previous_version_kept(store):
    first = load_boundaries(store, two_provinces(), file_name="a.geojson", country="NPL", level=1, user=ADMIN)
    second = load_boundaries(store, json.dumps(topology()).encode(), file_name="p.topojson", country="NPL", level=1,
                             user=ADMIN)
    assert second.codes == ["NP-P3", "NP-P4"] and second.code_property == "iso"
    assert areas(second.feature_collection()) == {"NP-P3": pytest.approx(1.0), "NP-P4": pytest.approx(1.0)}
    west, east = (shape(f["geometry"]) for f in second.feature_collection()["features"])
    assert west.bounds == (84, 27, 85, 28) and east.bounds == (85, 27, 86, 28)
    assert (current_boundaries(store, "NPL", 1).id, second.version) == (second.id, 2)
    assert [v.version for v in versions(store, "NPL")] == [2, 1]
    # the earlier version is intact and can be made current again, audited
    back = make_current(store, first.id, user=ADMIN, reason="official file withdrawn")
    assert back.current and back.geojson == first.geojson
    assert current_boundaries(store, "NPL", 1).id == first.id
    assert store.audit(entity_type="boundaries", action="boundaries_current")["reason"].tolist() == \
        ["official file withdrawn"]


def zipped_shapefile(prj: str | None, records: list[tuple[str, list]]) -> bytes:
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON) as writer:
        writer.field("PROV_NAME", "C", size=40)
        for name, rings in records:
            writer.poly(rings)
            writer.record(name)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for ext, buffer in ((".shp", shp), (".shx", shx), (".dbf", dbf)):
            archive.writestr(f"provinces{ext}", buffer.getvalue())
        if prj is not None:
            archive.writestr("provinces.prj", prj)
    return out.getvalue()


def test_zipped_shapefile_round_trip(store):
    # shapefile rings run clockwise; a 2°×1° rectangle and a 1°×1° square
    data = zipped_shapefile(WGS84_PRJ, [("Karnali", [[[81, 28], [81, 29], [83, 29], [83, 28], [81, 28]]]),
                                        ("Sudurpashchim", [[[80, 28], [80, 29], [81, 29], [81, 28], [80, 28]]])])
    stored = load_boundaries(store, data, file_name="provinces.zip", country="NPL", level=1, user=ADMIN)
    assert stored.code_property == "PROV_NAME"
    assert areas(stored.feature_collection()) == {"NP-P6": pytest.approx(2.0), "NP-P7": pytest.approx(1.0)}


def refused(store: Store, data, lang: str = "en", **kwargs) -> list[str]:
    """The messages of a refused upload, checking that nothing was stored and the current version is intact."""
    before, current = counts(store), current_boundaries(store, "NPL", 1)
    with pytest.raises(IssuesError) as err:
        load_boundaries(store, data, file_name=kwargs.pop("file_name", "bad.geojson"), country="NPL", level=1,
                        user=ADMIN, lang=lang, **kwargs)
    assert counts(store) == before
    assert current_boundaries(store, "NPL", 1) == current
    return [i.message for i in err.value.issues if i.level == "error"]


def test_bad_input_refused_with_its_message_and_nothing_stored(store, tmp_path):
    kept = load_boundaries(store, two_provinces(), file_name="ok.geojson", country="NPL", level=1, user=ADMIN)
    # unknown code, with the close name suggested
    assert refused(store, two_provinces("Gandakki")) == [
        'Feature 2: "Gandakki" (property name) is not a subdivision of NPL at this level. Did you mean: Gandaki?']
    # two features with one code
    assert refused(store, two_provinces("Bagmati Province")) == ["Feature 2: NP-P3 is already the code of feature 1."]
    # a geometry that is no area at all (all points on one line) cannot be repaired
    line = {"type": "Polygon", "coordinates": [[[85, 27], [86, 27], [87, 27], [85, 27]]]}
    [message] = refused(store, two_provinces(geometry2=line))
    assert message == "Feature 2 (NP-P4): the geometry is invalid (Self-intersection[86 27]) and cannot be repaired."
    point = {"type": "Point", "coordinates": [85, 27]}
    assert refused(store, two_provinces(geometry2=point)) == [
        "Feature 2 (NP-P4): the geometry (Point) is not a polygon or cannot be read."]
    # projected coordinates (UTM metres), by their values and by a .prj
    utm = {"type": "Polygon", "coordinates": square(500000, 3000000, 1000)}
    assert refused(store, two_provinces(geometry2=utm)) == [
        "Feature 2 has coordinates (500000, 3000000) outside longitude ±180 / latitude ±90: the file is in a "
        "projected coordinate system. Re-project it to WGS84 longitude/latitude (EPSG:4326)."]
    shp = zipped_shapefile(UTM_PRJ, [("Karnali", [[[81, 28], [81, 29], [83, 29], [83, 28], [81, 28]]])])
    assert refused(store, shp, file_name="utm.zip") == [
        'The boundary file declares the coordinate system "WGS_1984_UTM_Zone_45N": only WGS84 longitude/latitude '
        "(EPSG:4326) is accepted. Re-project it first."]
    # a 200 MB file is refused from its size, before it is read (a sparse file: nothing is written)
    big = tmp_path / "big.geojson"
    with open(big, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)
    assert refused(store, big) == [
        "The boundary file is 200 MB: the limit is 50 MB. Simplify it (e.g. with mapshaper) or upload one level at a "
        "time."]

    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("read although too large")

    stream = Unreadable(b"x" * 2000)
    assert refused(store, stream, max_bytes=1000)[0].startswith("The boundary file is 0 MB: the limit is 0 MB.")
    # in the user's language
    assert refused(store, two_provinces("Gandakki"), lang="fr") == [
        "Entité 2 : « Gandakki » (propriété name) n'est pas une subdivision de NPL à ce niveau. "
        "Vouliez-vous dire : Gandaki ?"]
    assert refused(store, b"{not json", lang="es")[0].startswith("El archivo de límites no puede leerse")
    assert current_boundaries(store, "NPL", 1).geojson == kept.geojson


def test_only_admins_load_boundaries(store):
    analyst = User("ana", Role.ANALYST, id=2)
    with pytest.raises(PermissionDenied):
        load_boundaries(store, two_provinces(), file_name="a.geojson", country="NPL", level=1, user=analyst)
    assert counts(store) == (0, 0)


def test_a_self_intersecting_polygon_is_repaired_and_said_so(store):
    bowtie = {"type": "Polygon", "coordinates": [[[85, 27], [86, 28], [86, 27], [85, 28], [85, 27]]]}
    stored = load_boundaries(store, two_provinces(geometry2=bowtie), file_name="b.geojson", country="NPL", level=1,
                             user=ADMIN)
    assert stored.notes == ["Feature 2 (NP-P4): the geometry was invalid (Self-intersection[85.5 27.5]) and was "
                            "repaired.",
                            "5 subdivisions of the code list have no feature: NP-P1, NP-P2, NP-P5, NP-P6, NP-P7."]
    assert areas(stored.feature_collection())["NP-P4"] == pytest.approx(0.5)  # two triangles of 0.25


@needs_reference
def test_simplification_fits_the_budget_keeps_areas_and_shared_borders():
    checked = check_features(read_boundaries(NEPAL, NEPAL.name), CodeList("NPL", 1))
    assert checked.ok and len(checked.features) == 7
    original = {code: g.area for code, _, g in checked.features}
    for budget in (300_000, 60_000, 25_000):
        text, tolerance = simplify_to_budget(checked.features, budget)
        assert len(text.encode()) <= budget and tolerance > 0
        simplified = [shape(f["geometry"]) for f in json.loads(text)["features"]]
        for (code, _, _), geometry in zip(checked.features, simplified, strict=True):
            assert geometry.area == pytest.approx(original[code], rel=0.02)
        # neighbours still meet: no new overlap or gap opened along shared borders
        overlap = sum(g.area for g in simplified) - shapely.union_all(simplified).area
        assert abs(overlap) < 1e-3 * sum(original.values())
    coarse = simplify_to_budget(checked.features, 25_000)[0]
    assert coarse.count("[") < simplify_to_budget(checked.features, 300_000)[0].count("[")


@needs_reference
def test_philippine_psgc_codes_taken_from_the_boundary_files(store):
    regions_file = PHL / "country.0.001.json"
    regions = read_boundaries(regions_file, regions_file.name)
    rows = codes_from_boundaries(regions, code_property="adm1_psgc", name_property="adm1_en", level=1)
    assert len(rows) == 17 and ("1300000000", "National Capital Region (NCR)", "", 1) in rows
    level1 = load_boundaries(store, regions_file, file_name=regions_file.name, country="PHL", level=1, user=ADMIN,
                             codes=CodeList.from_rows("PHL", 1, rows))
    assert len(level1.codes) == 17 and level1.code_property == "adm1_psgc"
    # provinces: one file per region, merged into one upload of the level
    features = [f for path in sorted((PHL / "provdists-lowres").glob("*.json"))
                for f in json.loads(path.read_text())["features"]]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    provinces = codes_from_boundaries(read_boundaries(data, "provinces.json"), code_property="adm2_psgc",
                                      name_property="adm2_en", parent_property="adm1_psgc", level=2)
    assert len(provinces) == 88 and {r.parent for r in provinces} == set(level1.codes)
    assert ("102800000", "Ilocos Norte", "100000000", 2) in provinces
    level2 = load_boundaries(store, data, file_name="provinces.json", country="PHL", level=2, user=ADMIN,
                             codes=CodeList.from_rows("PHL", 2, provinces), code_property="adm2_psgc")
    assert len(level2.codes) == 88 and level2.names()["102800000"] == "Ilocos Norte"
    assert len(level2.geojson.encode()) <= 300_000


def test_an_uploaded_file_read_for_its_codes_is_read_again_whole(store):
    upload = io.BytesIO(two_provinces())
    rows = codes_from_boundaries(read_boundaries(upload, "up.geojson"), code_property="name", name_property="name",
                                 level=1)
    stored = load_boundaries(store, upload, file_name="up.geojson", country="NPL", level=1, user=ADMIN,
                             code_property="name", codes=CodeList.from_rows("NPL", 1, rows))
    assert stored.codes == ["Bagmati", "Gandaki"]  # the office's own codes, as the file writes them
    assert stored.sha256 == hashlib.sha256(two_provinces()).hexdigest()


def test_shipped_nepal_boundaries_loaded_once(store):
    [loaded] = ensure_default_boundaries(store)
    assert (loaded.country, loaded.level, loaded.codes[0], loaded.loaded_by) == ("NPL", 1, "NP-P1", "system")
    assert "MIT" in loaded.licence
    assert ensure_default_boundaries(store) == []
    notice = Path(__file__).resolve().parents[1].joinpath("data/boundaries/README.md").read_text(encoding="utf-8")
    assert "Copyright (c) 2018 Aashish Manandhar" in notice and "MIT License" in notice
