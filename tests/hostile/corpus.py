"""A corpus of hostile geospatial inputs, one named case per input and write path.

Write paths: ``ingest`` (``secplac ingest zoning ARCHIVO``: GeoJSON, Shapefile, GeoPackage,
zipped Shapefile), ``proyecto`` (the geometry of ``POST /proyectos``), ``propuesta`` (the
geometry of a zoning proposal's change, ``POST /propuestas/{id}/cambios``), ``adjunto``
(``POST /proyectos/{codigo}/adjuntos``) and ``planilla`` (``POST /proyectos/importar``).

Every case is refused (``expect="refused"``: a Spanish message matching ``message``,
nothing stored) except the few that the platform deliberately repairs and reports
(``expect="repaired"``: a Z coordinate, measures M, a spike, a folder in an attachment's
name). Builders are cheap except the 1,000,000-vertex polygon, built once with NumPy.

``build`` per path:

- ``ingest``: ``build(folder) -> Path`` writes the file to load into ``zoning``;
- ``proyecto`` / ``propuesta``: ``build() -> bytes``, the JSON text of the ``geometria``
  value, spliced into the request body as it is (so that it can be malformed JSON);
- ``adjunto`` / ``planilla``: ``build() -> (file name, content)``.
"""

from __future__ import annotations

import json
import sqlite3
import struct
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from tests.samples import ORIGIN, sample_zones

WRITE_PATHS = ("ingest", "proyecto", "propuesta", "adjunto", "planilla")
X, Y = ORIGIN
"""A point of San Antonio (UTM 19S), inside the comuna and its urban limit."""
MILLION = 1_000_000
BOMB_BYTES = 512 * 2**20
"""What each zip bomb expands to; it packs into about half a megabyte."""
TO_LONLAT = Transformer.from_crs(32719, 4326, always_xy=True)
ORIGIN_LONLAT = tuple(round(v, 6) for v in TO_LONLAT.transform(X, Y))


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    what: str
    expect: str
    """``refused`` or ``repaired``."""
    message: str
    """Regular expression the Spanish message (or the load report) must match."""
    build: Callable[..., Any]
    status: int | None = None
    """HTTP status of the answer (API paths)."""


# --- hostile geometries (UTM 19S) ---------------------------------------------------------

def bow_tie() -> shapely.Polygon:
    return shapely.Polygon([(X, Y), (X + 50, Y + 50), (X + 50, Y), (X, Y + 50), (X, Y)])


def self_crossing() -> shapely.Polygon:
    """A square whose ring dips below its own bottom edge, crossing it twice."""
    return shapely.Polygon([(X, Y), (X + 100, Y), (X + 100, Y + 100), (X + 60, Y + 100),
                            (X + 60, Y - 30), (X + 40, Y - 30), (X + 40, Y + 100),
                            (X, Y + 100), (X, Y)])


def spike() -> shapely.Polygon:
    """A square with a zero-width spike going out and back along the same line."""
    return shapely.Polygon([(X, Y), (X + 100, Y), (X + 100, Y + 100), (X + 50, Y + 100),
                            (X + 50, Y + 180), (X + 50, Y + 100), (X, Y + 100), (X, Y)])


@lru_cache(maxsize=1)
def million_vertices() -> np.ndarray:
    """The ring of a valid polygon (a circle of 250 m) with 1,000,000 vertices, closed."""
    angle = np.linspace(0, 2 * np.pi, MILLION, endpoint=False)
    ring = np.column_stack([X + 250 * np.cos(angle), Y + 250 * np.sin(angle)])
    return np.vstack([ring, ring[:1]])


def circle(vertices: int) -> shapely.Polygon:
    angle = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    return shapely.Polygon(np.column_stack([X + 250 * np.cos(angle), Y + 250 * np.sin(angle)]))


def lonlat(geom: shapely.Geometry) -> dict[str, Any]:
    """A UTM geometry as a GeoJSON geometry in longitude/latitude."""
    moved = shapely.transform(geom, lambda xy: np.column_stack(
        TO_LONLAT.transform(xy[:, 0], xy[:, 1])))
    data: dict[str, Any] = json.loads(shapely.to_geojson(moved))
    return data


def square_lonlat() -> list[list[float]]:
    return lonlat(shapely.box(X, Y, X + 60, Y + 60))["coordinates"][0]  # type: ignore[no-any-return]


def nested_collection(levels: int) -> dict[str, Any]:
    geom: dict[str, Any] = {"type": "Polygon", "coordinates": [square_lonlat()]}
    for _ in range(levels):
        geom = {"type": "GeometryCollection", "geometries": [geom]}
    return geom


def deep_arrays(levels: int = 100_000) -> bytes:
    """A Polygon whose coordinates are ``levels`` arrays nested in each other."""
    return b'{"type": "Polygon", "coordinates": ' + b"[" * levels + b"]" * levels + b"}"


def repeated_keys() -> bytes:
    """A geometry that says two different things: which ``type``, which coordinates?"""
    ring = json.dumps([square_lonlat()]).encode()
    return (b'{"type": "Polygon", "coordinates": ' + ring + b', "type": "Point", '
            b'"coordinates": [-71.6, -33.6]}')


def polygon_text(odd: str) -> bytes:
    """A GeoJSON polygon (lon/lat) with one longitude written as ``odd`` (``NaN``...)."""
    lon, lat = ORIGIN_LONLAT
    return (f'{{"type": "Polygon", "coordinates": [[[{lon}, {lat}], [{odd}, {lat}], '
            f'[{lon + 0.0005}, {lat + 0.0005}], [{lon}, {lat}]]]}}').encode()


def nan_polygon() -> shapely.Polygon:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN is the point
        return shapely.Polygon([(X, Y), (np.nan, Y), (X + 50, Y + 50), (X, Y)])


def point_text(*coordinates: str) -> bytes:
    """A GeoJSON point with coordinates written literally (``NaN``, ``1e999``...)."""
    return f'{{"type": "Point", "coordinates": [{", ".join(coordinates)}]}}'.encode()


def json_geometry(geom: shapely.Geometry) -> Callable[[], bytes]:
    return lambda: json.dumps(lonlat(geom)).encode()


@lru_cache(maxsize=1)
def circle_json(vertices: int = 150_000) -> bytes:
    """A valid polygon with more vertices than a drawn geometry may have (6 MB)."""
    return json.dumps(lonlat(circle(vertices))).encode()


@lru_cache(maxsize=1)
def million_vertex_json() -> bytes:
    """The 1,000,000-vertex polygon as GeoJSON in lon/lat (26 MB), written with NumPy:
    every vertex of San Antonio is ``[-71.ddddddd,-33.ddddddd]``, 26 bytes with the comma,
    so the text is a byte matrix whose digit columns are filled at once (``json.dumps``
    of a million pairs takes seconds)."""
    ring = million_vertices()
    lon, lat = TO_LONLAT.transform(ring[:, 0], ring[:, 1])
    assert ((lon > -72) & (lon < -71) & (lat > -34) & (lat < -33)).all()
    text = np.frombuffer(b"[-71.0000000,-33.0000000]," * len(lon), np.uint8).reshape(-1, 26)
    text = text.copy()
    for first, value in ((5, -lon - 71), (17, -lat - 33)):
        fraction = np.minimum(np.round(value * 1e7).astype(np.int64), 9_999_999)
        for k in range(7):
            text[:, first + k] = 48 + fraction // 10 ** (6 - k) % 10
    return (b'{"type": "Polygon", "coordinates": [[' + text.tobytes()[:-1] + b"]]}")


# --- ingest files ---------------------------------------------------------------------------

def zones_with(geometry: shapely.Geometry | Callable[[], shapely.Geometry] | None,
               fmt: str) -> Callable[[Path], Path]:
    """The three sample zones with the first one replaced by ``geometry``, as ``fmt``."""
    def build(folder: Path) -> Path:
        zones = sample_zones()
        if geometry is not None:
            zones.loc[0, "geometry"] = geometry() if callable(geometry) else geometry
        path = folder / f"zonas.{fmt}"
        if fmt == "geojson":
            zones.to_crs(4326).to_file(path)
        else:
            zones.to_file(path)
        return path
    return build


def geojson_with(first_geometry: bytes | Callable[[], bytes], *,
                 first_properties: bytes | None = None) -> Callable[[Path], Path]:
    """The sample zones as GeoJSON (lon/lat), written as text so that the first feature's
    geometry (and properties) can be anything, even invalid JSON."""
    def build(folder: Path) -> Path:
        geometry = first_geometry() if callable(first_geometry) else first_geometry
        data = json.loads(sample_zones().to_crs(4326).to_json())
        rest = [json.dumps(f).encode() for f in data["features"][1:]]
        properties = first_properties or json.dumps(data["features"][0]["properties"]).encode()
        first = (b'{"type": "Feature", "properties": ' + properties + b', "geometry": '
                 + geometry + b"}")
        path = folder / "zonas.geojson"
        path.write_bytes(b'{"type": "FeatureCollection", "features": ['
                         + b", ".join([first, *rest]) + b"]}")
        return path
    return build


def swapped_geojson(folder: Path) -> Path:
    def swap(feature: dict[str, Any]) -> dict[str, Any]:
        ring = feature["geometry"]["coordinates"][0]
        return {**feature, "geometry": {"type": "Polygon",
                                        "coordinates": [[[lat, lon] for lon, lat in ring]]}}
    data = json.loads(sample_zones().to_crs(4326).to_json())
    data["features"] = [swap(f) for f in data["features"]]
    path = folder / "zonas.geojson"
    path.write_text(json.dumps(data))
    return path


def measured_gpkg(folder: Path) -> Path:
    """A GeoPackage of the sample zones whose polygons carry measures (M): written as
    usual, then its geometry blobs replaced by ISO WKB PolygonM (pyogrio cannot write M)."""
    zones = sample_zones()
    path = folder / "zonas.gpkg"
    zones.to_file(path, SPATIAL_INDEX="NO")  # its triggers need SpatiaLite functions
    header = b"GP\x00\x01" + struct.pack("<i", 32719)  # GeoPackage blob, no envelope
    with sqlite3.connect(path) as db:
        table, column = db.execute("SELECT table_name, column_name FROM "
                                   "gpkg_geometry_columns").fetchone()
        for fid, geom in enumerate(zones.geometry, start=1):
            ring = list(geom.exterior.coords)
            wkt = "POLYGON M ((" + ", ".join(f"{x} {y} {i}" for i, (x, y) in
                                              enumerate(ring)) + "))"
            blob = header + shapely.to_wkb(shapely.from_wkt(wkt), flavor="iso")
            db.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE fid = ?',  # noqa: S608
                       (blob, fid))  # (names read from the GeoPackage's own catalog)
        db.execute("UPDATE gpkg_geometry_columns SET m = 1")
    return path


def million_vertex_gpkg(folder: Path) -> Path:
    return zones_with(shapely.Polygon(million_vertices()), "gpkg")(folder)


def shapefile_mismatch(shapes: int, rows: int, zipped: bool = False) -> Callable[[Path], Path]:
    """A Shapefile whose .dbf comes from an export with another number of features."""
    def build(folder: Path) -> Path:
        zones = sample_zones()
        zones.iloc[:shapes].to_file(folder / "zonas.shp")
        other = folder / "otra"
        other.mkdir()
        zones.iloc[:rows].to_file(other / "zonas.shp")
        (folder / "zonas.dbf").write_bytes((other / "zonas.dbf").read_bytes())
        if not zipped:
            return folder / "zonas.shp"
        archive = folder / "zonas.zip"
        members = {f"zonas/zonas{ext}": (folder / f"zonas{ext}").read_bytes()
                   for ext in (".shp", ".shx", ".dbf", ".prj")}
        archive.write_bytes(zip_archive(members))
        return archive
    return build


def traversal_zip(folder: Path) -> Path:
    """A zipped Shapefile whose members are named ``../../etc/passwd.*``."""
    zones_with(None, "shp")(folder)
    members = {f"../../etc/passwd{ext}": (folder / f"zonas{ext}").read_bytes()
               for ext in (".shp", ".shx", ".dbf", ".prj")}
    path = folder / "zonas.zip"
    path.write_bytes(zip_archive(members))
    return path


def bomb_shapefile_zip(folder: Path) -> Path:
    """A zipped Shapefile whose .shp is one polygon record of BOMB_BYTES (tens of millions
    of vertices, all zeros): half a megabyte that a reader would expand whole."""
    zones_with(None, "shp")(folder)
    points = (BOMB_BYTES - 100 - 8 - 44 - 4) // 16
    content = 44 + 4 + 16 * points
    total = 100 + 8 + content
    head = (struct.pack(">7i", 9994, 0, 0, 0, 0, 0, total // 2)
            + struct.pack("<2i4d4d", 1000, 5, X, Y, X, Y, 0, 0, 0, 0)
            + struct.pack(">2i", 1, content // 2)
            + struct.pack("<i4d2i", 5, 0.0, 0.0, 0.0, 0.0, 1, points) + struct.pack("<i", 0))
    shx = (struct.pack(">7i", 9994, 0, 0, 0, 0, 0, 54) + head[28:100]
           + struct.pack(">2i", 50, content // 2))
    dbf = _one_row_dbf(folder)
    members: dict[str, bytes | tuple[bytes, int]] = {
        "zonas.shp": (head, total), "zonas.shx": shx, "zonas.dbf": dbf,
        "zonas.prj": (folder / "zonas.prj").read_bytes()}
    path = folder / "bomba.zip"
    path.write_bytes(zip_archive(members))
    return path


def _one_row_dbf(folder: Path) -> bytes:
    zones = sample_zones().iloc[:1]
    other = folder / "una"
    other.mkdir()
    zones.to_file(other / "zonas.shp")
    return (other / "zonas.dbf").read_bytes()


# --- ZIP archives written by hand (names and sizes as a hostile sender wants them) ---------

def _deflated_zeros(prefix: bytes, size: int) -> tuple[bytes, int]:
    """Raw deflate of ``prefix`` followed by zeros up to ``size`` bytes, and its CRC-32.
    After a full flush the compressor starts afresh, so every 16 MiB of zeros compresses
    to the same bytes: the stream is made by repeating them (fast, whatever ``size``)."""
    block = 1 << 24
    zeros = bytes(block)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)]
    crc = zlib.crc32(prefix)
    left = size - len(prefix)
    whole, tail = divmod(left, block)
    if whole:
        packed = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
        out.append(packed * whole)
        for _ in range(whole):
            crc = zlib.crc32(zeros, crc)
    out.append(c.compress(bytes(tail)) + c.flush())
    return b"".join(out), zlib.crc32(bytes(tail), crc)


def zip_archive(members: dict[str, bytes | tuple[bytes, int]]) -> bytes:
    """A ZIP archive; a member given as ``(prefix, size)`` is ``prefix`` padded with zeros
    to ``size`` bytes, deflated (a zip bomb); the others are stored as they are."""
    local, central, offset = [], [], 0
    for name, content in members.items():
        raw = name.encode()
        if isinstance(content, tuple):
            data, crc = _deflated_zeros(*content)
            method, size = 8, content[1]
        else:
            data, crc, method, size = content, zlib.crc32(content), 0, len(content)
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc,
                             len(data), size, len(raw), 0)
        local.append(header + raw + data)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0,
                                   crc, len(data), size, len(raw), 0, 0, 0, 0, 0, offset)
                       + raw)
        offset += len(header) + len(raw) + len(data)
    directory = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central),
                      len(directory), offset, 0)
    return b"".join(local) + directory + end


def office_bomb(name: str, inner: str) -> Callable[[], tuple[str, bytes]]:
    """An Office document (``name``) whose part ``inner`` expands to BOMB_BYTES."""
    types = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
             b'package/2006/content-types"/>')
    return lambda: (name, zip_archive({"[Content_Types].xml": types,
                                       inner: (b"<?xml version='1.0'?>", BOMB_BYTES)}))


def pdf(size: int) -> bytes:
    return b"%PDF-1.4\n" + bytes(size - 9)


# --- the corpus -------------------------------------------------------------------------------

def _ingest_cases() -> list[Case]:
    c = [
        ("pajarita (GeoPackage)", "bow-tie polygon", "refused", "autointersección",
         zones_with(bow_tie(), "gpkg")),
        ("autointersección (Shapefile)", "ring crossing its own edge twice", "refused",
         "inválida que no se puede reparar", zones_with(self_crossing(), "shp")),
        ("espiga (GeoJSON)", "zero-width spike", "repaired", "reparada sin cambiar su forma",
         zones_with(spike(), "geojson")),
        ("1.000.000 de vértices (GeoPackage)", "one polygon of 1,000,000 vertices",
         "refused", "más de 250.000 vértices", million_vertex_gpkg),
        ("GeometryCollection anidada (GeoJSON)", "collection in a collection in a "
         "collection", "refused", "tipo de geometría GeometryCollection",
         geojson_with(lambda: json.dumps(nested_collection(3)).encode())),
        ("NaN (GeoJSON)", "NaN coordinate", "refused", "no finitas",
         geojson_with(polygon_text("NaN"))),
        ("NaN (GeoPackage)", "NaN coordinate in WKB", "refused", "no finitas",
         zones_with(nan_polygon, "gpkg")),
        ("infinito (GeoJSON)", "Infinity literal", "refused", "no finitas",
         geojson_with(polygon_text("Infinity"))),
        ("1e300 (GeoJSON)", "finite but impossible longitude", "refused",
         "fuera del rango de su sistema", geojson_with(polygon_text("1e300"))),
        ("latitud y longitud invertidas (GeoJSON)", "every feature as [lat, lon]", "refused",
         "latitud y longitud invertidas", swapped_geojson),
        ("3D con Z (GeoJSON)", "polygon with heights", "repaired", "coordenada Z",
         geojson_with(lambda: json.dumps({"type": "Polygon", "coordinates": [
             [[*p, 12.5] for p in square_lonlat()]]}).encode())),
        ("medidas M (GeoPackage)", "PolygonM", "repaired", "medidas M", measured_gpkg),
        ("claves repetidas (GeoJSON)", "two COD_ZONA in one feature", "refused",
         "repite la clave «COD_ZONA» en la entidad n.º 1",
         geojson_with(lambda: json.dumps(lonlat(shapely.box(X, Y, X + 60, Y + 60))).encode(),
                      first_properties=b'{"COD_ZONA": "ZH-1", "NOM_ZONA": "Uno", '
                      b'"TIPO_ZONA": "residencial", "COD_ZONA": "ZH-9"}')),
        ("claves repetidas en la geometría (GeoJSON)", "two types, two coordinates",
         "refused", "repite la clave «type»", geojson_with(repeated_keys)),
        ("100.000 arreglos anidados (GeoJSON)", "deep nesting", "refused",
         "no es un archivo de datos espaciales válido", geojson_with(deep_arrays)),
        ("bomba ZIP (Shapefile comprimido)", "a .shp of 512 MiB in 0.5 MB", "refused",
         "bomba ZIP", bomb_shapefile_zip),
        ("../../etc/passwd.shp en un ZIP", "path traversal inside the archive", "refused",
         "apunta fuera del archivo", traversal_zip),
        (".shp con 3 registros y .dbf con 2", "mismatched record counts", "refused",
         "tiene 3 geometrías .* y 2 filas", shapefile_mismatch(3, 2)),
        (".shp con 2 registros y .dbf con 3", "mismatched record counts", "refused",
         "tiene 2 geometrías .* y 3 filas", shapefile_mismatch(2, 3)),
        (".shp y .dbf distintos en un ZIP", "mismatched record counts, zipped", "refused",
         "tiene 3 geometrías .* y 1 filas", shapefile_mismatch(3, 1, zipped=True)),
    ]
    return [Case(f"ingest/{name}", "ingest", what, expect, message, build)
            for name, what, expect, message, build in c]


def _geometry_cases(path: str) -> list[Case]:
    """The hostile geometries of a project or of a proposal's change (same words)."""
    c = [
        ("pajarita", "bow-tie", 422, "se cruza a sí mismo", json_geometry(bow_tie())),
        ("autointersección", "ring crossing its own edge", 422, "se cruza a sí mismo",
         json_geometry(self_crossing())),
        ("espiga", "zero-width spike", 422, "se cruza a sí mismo", json_geometry(spike())),
        ("150.000 vértices", "over the vertex limit", 422, "el máximo es 100.000",
         circle_json),
        ("1.000.000 de vértices", "a 40 MB body", 413, "supera el máximo de 8 MB",
         million_vertex_json),
        ("GeometryCollection anidada", "collection of collections", 422,
         "GeometryCollection", lambda: json.dumps(nested_collection(3)).encode()),
        ("40 GeometryCollection anidadas", "deeply nested collections", 400,
         "anida arreglos u objetos", lambda: json.dumps(nested_collection(40)).encode()),
        ("NaN", "NaN literal", 422, "no finitas", lambda: point_text("NaN", "-33.59")),
        ("infinito", "1e999 (infinite once parsed)", 422, "no finitas",
         lambda: point_text("-71.61", "1e999")),
        ("latitud y longitud invertidas", "[lat, lon]", 422, "invertidas",
         lambda: point_text("-33.5910", "-71.6140")),
        ("cuatro dimensiones (ZM)", "[lon, lat, z, m]", 422, "no se puede leer como GeoJSON",
         lambda: point_text("-71.614", "-33.591", "10", "3")),
        ("claves repetidas", "two types and two coordinates", 400,
         "repite la clave «type» en «geometria»", repeated_keys),
        ("100.000 arreglos anidados", "deep nesting", 400, "anida arreglos u objetos a "
         "100.00[0-9] niveles", deep_arrays),
    ]
    cases = [Case(f"{path}/{name}", path, what, "refused", message, build, status)
             for name, what, status, message, build in c]
    if path == "proyecto":
        cases.append(Case("proyecto/3D con Z", path, "point with height", "repaired",
                          "", lambda: point_text(*map(str, ORIGIN_LONLAT), "35.5"), 201))
    return cases


def _file_cases() -> list[Case]:
    return [
        Case("adjunto/bomba ZIP (.docx)", "adjunto", "Word document of 512 MiB in 0.5 MB",
             "refused", "bomba ZIP", office_bomb("informe.docx", "word/document.xml"), 422),
        Case("adjunto/../../etc/passwd.pdf", "adjunto", "path traversal in the file name",
             "repaired", "passwd.pdf", lambda: ("../../etc/passwd.pdf", pdf(2000)), 201),
        Case("adjunto/30 MB", "adjunto", "body over the request limit", "refused",
             "supera el máximo de 25 MB", lambda: ("grande.pdf", pdf(30 * 2**20)), 413),
        Case("planilla/bomba ZIP (.xlsx)", "planilla", "workbook of 512 MiB in 0.5 MB",
             "refused", "bomba ZIP", office_bomb("cartera.xlsx", "xl/worksheets/sheet1.xml"),
             422),
    ]


CASES: list[Case] = (_ingest_cases() + _geometry_cases("proyecto")
                     + _geometry_cases("propuesta") + _file_cases())
assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"


def cases(path: str) -> list[Case]:
    """The cases of one write path."""
    assert path in WRITE_PATHS, path
    return [c for c in CASES if c.path == path]


def count() -> int:
    """How many hostile inputs the corpus holds ("inputs tried")."""
    return len(CASES)
