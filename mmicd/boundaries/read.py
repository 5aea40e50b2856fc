"""Reading a boundary file: GeoJSON, TopoJSON or a zipped shapefile, into features (properties and a
GeoJSON-like geometry), within bounds of size, feature count and vertex count.

Every refusal is a :class:`BoundaryRefused` with a translation key and its fields, so that the
admin reads the reason in their language; nothing here touches the store.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mmicd.i18n import format_number, t

MAX_BYTES = 50 * 1024 * 1024  # a boundary file larger than this is refused before it is read
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # the files inside a zipped shapefile, together
MAX_FEATURES = 20_000
MAX_VERTICES = 2_000_000  # 960,400 points (16.5 MB) are read, checked and simplified in about 16 s
WGS84_NAMES = ("wgs84", "wgs_1984", "wgs 84", "crs84", "epsg::4326", "epsg:4326")


class BoundaryRefused(ValueError):
    """A boundary file refused as a whole (format, size, coordinate system): ``message(lang)``."""

    def __init__(self, key: str, **fields: object):
        self.key, self.fields = key, fields
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        fields = {k: format_number(v, lang) if isinstance(v, int) and not isinstance(v, bool) else v
                  for k, v in self.fields.items()}
        return t(self.key, lang, **fields)


@dataclass
class RawFeature:
    number: int  # 1-based position in the file, for messages
    properties: dict
    geometry: dict | None  # GeoJSON geometry (lon/lat)


def _size(source: bytes | BinaryIO | Path) -> int:
    if isinstance(source, bytes | bytearray):
        return len(source)
    if isinstance(source, Path):
        return source.stat().st_size
    position = source.tell()
    size = source.seek(0, io.SEEK_END)
    source.seek(position)
    return size


def read_boundaries(source: bytes | BinaryIO | Path, file_name: str, *,
                    max_bytes: int = MAX_BYTES) -> list[RawFeature]:
    """The features of a GeoJSON (``.geojson``/``.json``), TopoJSON (``.topojson`` or a ``Topology``
    object) or zipped shapefile (``.zip``), in WGS84 lon/lat.

    The size is checked before anything is read; a projected coordinate system (a ``.prj`` or
    GeoJSON ``crs`` that is not WGS84) or coordinates outside ±180/±90 are refused with the reason.
    """
    size = _size(source)
    if size > max_bytes:
        raise BoundaryRefused("lmap.refused.too_large", mb=f"{size / 2**20:.0f}", limit=f"{max_bytes / 2**20:.0f}")
    if isinstance(source, Path):
        data = source.read_bytes()
    elif isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:  # an uploaded file, maybe read before
        source.seek(0)
        data = source.read()
    if data[:4] == b"PK\x03\x04" or file_name.lower().endswith(".zip"):
        features = _shapefile(data)
    else:
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BoundaryRefused("lmap.refused.unreadable", detail=str(exc)[:120]) from exc
        if not isinstance(doc, dict):
            raise BoundaryRefused("lmap.refused.unreadable", detail="not a JSON object")
        _check_declared_crs(doc.get("crs"))
        if doc.get("type") == "Topology":
            features = _topojson(doc)
        elif doc.get("type") == "FeatureCollection":
            features = [RawFeature(n, dict(f.get("properties") or {}), f.get("geometry"))
                        for n, f in enumerate(doc.get("features") or [], start=1) if isinstance(f, dict)]
        else:
            raise BoundaryRefused("lmap.refused.unreadable", detail=f"type {str(doc.get('type'))[:40]!r}")
    if not features:
        raise BoundaryRefused("lmap.refused.empty")
    if len(features) > MAX_FEATURES:
        raise BoundaryRefused("lmap.refused.too_many", n=len(features), limit=MAX_FEATURES)
    _check_coordinates(features)
    return features


def _check_declared_crs(crs: object) -> None:
    if not isinstance(crs, dict):
        return
    name = str((crs.get("properties") or {}).get("name", "")).lower()
    if name and not any(w in name for w in WGS84_NAMES):
        raise BoundaryRefused("lmap.refused.projected_crs", crs=name[:80])


def _positions(coords) -> list:
    """Every [x, y] position of a GeoJSON coordinates array, however deeply nested."""
    out, stack = [], [coords]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple) and item and isinstance(item[0], int | float):
            out.append(item)
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return out


def _geometry_positions(geometry: dict | None) -> list:
    if not isinstance(geometry, dict):
        return []
    if geometry.get("type") == "GeometryCollection":
        return [p for g in geometry.get("geometries") or [] for p in _geometry_positions(g)]
    return _positions(geometry.get("coordinates") or [])


def _check_coordinates(features: list[RawFeature]) -> None:
    total = 0
    for feature in features:
        positions = _geometry_positions(feature.geometry)
        total += len(positions)
        if total > MAX_VERTICES:
            raise BoundaryRefused("lmap.refused.too_many_vertices", limit=MAX_VERTICES)
        for position in positions:
            x, y = position[0], position[1]
            if not (-180 <= x <= 180 and -90 <= y <= 90):
                raise BoundaryRefused("lmap.refused.projected", feature=feature.number, x=f"{x:.0f}", y=f"{y:.0f}")


# ---- TopoJSON ---------------------------------------------------------------------------------
def _topojson(doc: dict) -> list[RawFeature]:
    """Decode a TopoJSON topology (quantised or not) into GeoJSON features of all its objects."""
    transform = doc.get("transform")
    arcs = []
    for arc in doc.get("arcs") or []:
        if transform:
            (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
            x = y = 0
            points = []
            for dx, dy, *_ in arc:
                x, y = x + dx, y + dy
                points.append([x * sx + tx, y * sy + ty])
        else:
            points = [list(p[:2]) for p in arc]
        arcs.append(points)

    def line(indexes: list[int]) -> list:
        points: list = []
        for index in indexes:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc if not points else arc[1:])
        return points

    def geometry(obj: dict) -> dict | None:
        kind = obj.get("type")
        if kind == "Polygon":
            return {"type": "Polygon", "coordinates": [line(r) for r in obj["arcs"]]}
        if kind == "MultiPolygon":
            return {"type": "MultiPolygon", "coordinates": [[line(r) for r in p] for p in obj["arcs"]]}
        if kind in ("Point", "MultiPoint", "LineString", "MultiLineString"):
            return {"type": kind, "coordinates": []}
        return None

    features: list[RawFeature] = []
    try:
        for obj in (doc.get("objects") or {}).values():
            members = obj.get("geometries", []) if obj.get("type") == "GeometryCollection" else [obj]
            for member in members:
                features.append(RawFeature(len(features) + 1, dict(member.get("properties") or {}),
                                           geometry(member)))
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise BoundaryRefused("lmap.refused.unreadable", detail=f"TopoJSON: {exc}"[:120]) from exc
    return features


# ---- zipped shapefile -------------------------------------------------------------------------
def _shapefile(data: bytes) -> list[RawFeature]:
    import shapefile  # pyshp

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BoundaryRefused("lmap.refused.unreadable", detail="not a zip file") from exc
    with archive:
        infos = archive.infolist()
        if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
            raise BoundaryRefused("lmap.refused.too_large", mb=f"{sum(i.file_size for i in infos) / 2**20:.0f}",
                                  limit=f"{MAX_UNZIPPED_BYTES / 2**20:.0f}")
        shps = [i.filename for i in infos if i.filename.lower().endswith(".shp") and "__MACOSX" not in i.filename]
        if len(shps) != 1:
            raise BoundaryRefused("lmap.refused.shapefile_count", n=len(shps))
        stem = shps[0][:-4]
        parts = {i.filename[len(stem):].lower(): i.filename for i in infos if i.filename.startswith(stem)}
        if ".dbf" not in parts:
            raise BoundaryRefused("lmap.refused.shapefile_part", part=".dbf")
        if ".prj" in parts:
            prj = archive.read(parts[".prj"]).decode("latin-1")
            if re.match(r"\s*PROJCS", prj, re.I) or not any(w in prj.lower() for w in WGS84_NAMES):
                name = re.search(r'^\s*\w+\["([^"]*)"', prj)
                raise BoundaryRefused("lmap.refused.projected_crs", crs=(name.group(1) if name else prj)[:80])
        encoding = "utf-8"
        if ".cpg" in parts:
            encoding = archive.read(parts[".cpg"]).decode("ascii", "ignore").strip() or encoding
        try:
            reader = shapefile.Reader(shp=io.BytesIO(archive.read(parts[".shp"])),
                                      dbf=io.BytesIO(archive.read(parts[".dbf"])),
                                      shx=io.BytesIO(archive.read(parts[".shx"])) if ".shx" in parts else None,
                                      encoding=encoding, encodingErrors="replace")
            if len(reader) > MAX_FEATURES:
                raise BoundaryRefused("lmap.refused.too_many", n=len(reader), limit=MAX_FEATURES)
            return [RawFeature(n, dict(record.record.as_dict()), record.shape.__geo_interface__
                               if record.shape.shapeType != shapefile.NULL else None)
                    for n, record in enumerate(reader.iterShapeRecords(), start=1)]
        except shapefile.ShapefileException as exc:
            raise BoundaryRefused("lmap.refused.unreadable", detail=f"shapefile: {exc}"[:120]) from exc
