"""Where a portfolio row is: coordinates (lon/lat, UTM 19S or WKT), an SII rol, or a street
address, located against the cadastre already loaded (``layers.parcels``); never online.

A row's location is taken from the first of these it has: a WKT geometry (lon/lat), a
longitude and latitude (WGS 84), an east and north (WGS 84 / UTM 19S, EPSG:32719), a rol
(the parcel's point on surface) or an address matched exactly, after normalising case,
accents, street words ("Av.", "avenida", "calle", "N°") and punctuation, to the cadastre's
``direccion``. An address matching no parcel is reported with the closest addresses
(trigram similarity); one matching several parcels is reported with their rols.

Every function returns geometries in the storage CRS (EPSG:32719) and, instead of raising,
a Spanish reason the row could not be placed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

import psycopg
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from gis.ingest.attributes import fold
from gis.portfolio.record import parse_number
from layers.base import STORAGE_SRID
from layers.parcels import normalize_rol

LOCATION_KEYS = ("wkt", "longitud", "latitud", "este", "norte", "x", "y", "rol", "direccion")
"""Columns of a portfolio file that can place a project."""
STREET_WORDS = frozenset({"av", "avda", "avenida", "calle", "pasaje", "pje", "psje", "n",
                          "no", "nro", "num", "numero"})
"""Words left out when comparing addresses: "Av. Chile N° 120" is "Chile 120"."""
SUGGESTIONS = 3


@cache
def sql_sections() -> dict[str, str]:
    """The named queries of ``gis/sql/portfolio_files.sql``."""
    text = files("gis").joinpath("sql/portfolio_files.sql").read_text(encoding="utf-8")
    parts = re.split(r"^-- name: (\w+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


@lru_cache(maxsize=2)
def _to_storage(epsg: int) -> Transformer:
    return Transformer.from_crs(epsg, STORAGE_SRID, always_xy=True)


def _transform(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    import numpy as np

    t = _to_storage(epsg)
    return shapely.transform(geom, lambda xy: np.column_stack(
        t.transform(xy[:, 0], xy[:, 1])))


def normalize_address(text: str) -> str:
    """An address reduced for comparison: no case, accents, punctuation or street words.

    >>> normalize_address("Avenida Barros Luco N° 1.234")
    'barros luco 1234'
    >>> normalize_address("AV. BARROS LUCO 1234")
    'barros luco 1234'
    """
    folded = fold(text)
    folded = re.sub(r"(?<=\d)\.(?=\d{3}\b)", "", folded)  # 1.234 → 1234
    words = re.sub(r"[^0-9a-z]+", " ", folded).split()
    return " ".join(w for w in words if w not in STREET_WORDS)


@dataclass
class Location:
    """A row's geometry (storage CRS) and how it was found, or why it could not be."""

    geometry: BaseGeometry | None = None
    how: str | None = None
    """The kind of location used: WKT, longitud y latitud, coordenadas UTM 19S, rol,
    dirección."""
    problem: str | None = None
    warnings: list[str] = field(default_factory=list)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip()) and not (
        isinstance(value, float) and math.isnan(value))


def has_location(values: Mapping[str, Any]) -> bool:
    """Whether a row gives any location value."""
    return any(_present(values.get(k)) for k in LOCATION_KEYS)


def _coordinate(raw: Any, what: str) -> float:
    """A coordinate cell: a number, or text with a decimal point or comma."""
    if isinstance(raw, bool):
        raise ValueError(f"la {what} debe ser un número")
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = str(raw).strip().replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"la {what} «{str(raw).strip()[:30]}» no es un número") from None
    if not math.isfinite(value):
        raise ValueError(f"la {what} no es un número finito")
    return value


def from_lonlat(lon_raw: Any, lat_raw: Any) -> Location:
    """A point from a longitude and a latitude in WGS 84 degrees."""
    try:
        lon, lat = _coordinate(lon_raw, "longitud"), _coordinate(lat_raw, "latitud")
    except ValueError as exc:
        return Location(problem=str(exc))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return Location(problem=f"las coordenadas ({lon:g}, {lat:g}) no son longitud y "
                                "latitud en grados; si son metros UTM, escríbalas en las "
                                "columnas Este y Norte")
    if -75 < lat < -66 and -34.5 < lon < -32.5:
        return Location(problem=f"la longitud ({lon:g}) y la latitud ({lat:g}) parecen "
                                "invertidas; en San Antonio la longitud es cercana a -71.6 y "
                                "la latitud a -33.6")
    return Location(_transform(shapely.Point(lon, lat), 4326), "longitud y latitud")


def from_utm(east_raw: Any, north_raw: Any) -> Location:
    """A point from an east and north in metres, WGS 84 / UTM 19S (EPSG:32719)."""
    try:
        east, north = parse_number(east_raw), parse_number(north_raw)
    except ValueError as exc:
        return Location(problem=f"coordenada UTM: {exc}")
    if not (100_000 <= east <= 900_000 and 1_000_000 <= north <= 10_000_000):
        return Location(problem=f"las coordenadas UTM (este {east:g}, norte {north:g}) no son "
                                "de la zona 19 sur; revise si están invertidas o en grados")
    return Location(shapely.Point(east, north), "coordenadas UTM 19S")


def from_xy(x_raw: Any, y_raw: Any) -> Location:
    """X/Y columns: degrees when they look like degrees, UTM 19S metres otherwise."""
    try:
        x = _coordinate(x_raw, "coordenada X")
    except ValueError as exc:
        return Location(problem=str(exc))
    return from_lonlat(x_raw, y_raw) if abs(x) <= 180 else from_utm(x_raw, y_raw)


def from_wkt(text: Any) -> Location:
    """A geometry from WKT in lon/lat (taken as UTM 19S, with a warning, if its coordinates
    are plainly metres)."""
    try:
        geom = shapely.from_wkt(str(text).strip())
    except (shapely.errors.GEOSException, ValueError):
        return Location(problem=f"el WKT «{str(text).strip()[:40]}…» no se puede leer "
                                "(ejemplo: POINT (-71.61 -33.59))")
    if geom is None or geom.is_empty:
        return Location(problem="el WKT está vacío")
    geom = shapely.force_2d(geom)
    coords = shapely.get_coordinates(geom)
    if ((abs(coords[:, 0]) <= 180) & (abs(coords[:, 1]) <= 90)).all():
        return Location(_transform(geom, 4326), "WKT")
    if ((coords[:, 0] > 100_000) & (coords[:, 1] > 1_000_000)).all():
        return Location(geom, "WKT", warnings=[
            "el WKT está en metros: se leyó como WGS 84 / UTM 19S (EPSG:32719)"])
    return Location(problem="el WKT mezcla coordenadas en grados y en metros")


class CadastreLocator:
    """Rols and addresses of the parcels loaded in ``layers.parcels``, looked up on demand
    (rols in batches, with the results kept)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self._rols: dict[str, BaseGeometry | None] = {}
        self._count: int | None = None

    @property
    def parcel_count(self) -> int:
        if self._count is None:
            row = self.conn.execute(sql_sections()["parcel_count"]).fetchone()
            self._count = int(row[0]) if row else 0
        return self._count

    def prefetch_rols(self, raw_rols: Iterable[Any]) -> None:
        """Fetch the parcels of many rols in one query."""
        normalised = (normalize_rol(str(r)) for r in raw_rols if _present(r))
        wanted = {r for r in normalised if r is not None} - set(self._rols)
        if not wanted:
            return
        found: dict[str, bytes] = dict(self.conn.execute(
            sql_sections()["parcels_by_rol"], {"roles": sorted(wanted)}).fetchall())
        for rol in wanted:
            self._rols[rol] = shapely.from_wkb(bytes(found[rol])) if rol in found else None

    def by_rol(self, raw: Any) -> Location:
        """The point on surface of the parcel with rol ``raw`` (any zero padding)."""
        text = str(raw).strip()
        rol = normalize_rol(text)
        if rol is None:
            return Location(problem=f"«{text[:30]}» no es un rol SII válido (manzana-predio, "
                                    "p. ej. 1999-54)")
        if self.parcel_count == 0:
            return Location(problem=f"no se puede ubicar el rol {text}: no hay catastro de "
                                    "predios cargado (capa «parcels»)")
        self.prefetch_rols([rol])
        geom = self._rols.get(rol)
        if geom is None:
            return Location(problem=f"el rol {text} no existe en el catastro de predios")
        return Location(geom, "rol")

    def by_address(self, raw: Any) -> Location:
        """The parcel whose address is ``raw`` (compared normalised; exactly one)."""
        text = " ".join(str(raw).split())[:200]
        wanted = normalize_address(text)
        numbers = re.findall(r"\d+", wanted)
        if not numbers:
            return Location(problem=f"la dirección «{text}» no tiene número; agregue el número "
                                    "de la calle o indique el rol o las coordenadas")
        if self.parcel_count == 0:
            return Location(problem=f"no se puede ubicar la dirección «{text}»: no hay "
                                    "catastro de predios cargado (capa «parcels»)")
        rows = self.conn.execute(sql_sections()["address_candidates"],
                                 {"like": f"%{numbers[-1]}%"}).fetchall()
        hits = [(rol, wkb) for rol, address, wkb in rows
                if address and normalize_address(address) == wanted]
        if len(hits) == 1:
            return Location(shapely.from_wkb(bytes(hits[0][1])), "dirección")
        if hits:
            rols = ", ".join(r for r, _ in hits[:5]) + (" …" if len(hits) > 5 else "")
            return Location(problem=f"la dirección «{text}» coincide con {len(hits)} predios "
                                    f"(roles {rols}); indique el rol")
        return Location(problem=f"no se encontró la dirección «{text}» en el catastro"
                                + self._suggest(text))

    def _suggest(self, text: str) -> str:
        rows = self.conn.execute(sql_sections()["address_suggestions"],
                                 {"text": text, "limit": SUGGESTIONS}).fetchall()
        if not rows:
            return "; indique el rol o las coordenadas"
        listed = ", ".join(f"«{address}» (rol {rol})" for address, rol in rows)
        return f"; ¿quiso decir {listed}? Corrija la dirección o indique el rol"


def locate(values: Mapping[str, Any], cadastre: CadastreLocator) -> Location | None:
    """The location a row gives (its first usable kind), or None when it gives none."""
    get = values.get
    if _present(get("wkt")):
        return from_wkt(get("wkt"))
    if _present(get("longitud")) or _present(get("latitud")):
        if not (_present(get("longitud")) and _present(get("latitud"))):
            return Location(problem="falta la longitud o la latitud (se necesitan ambas)")
        return from_lonlat(get("longitud"), get("latitud"))
    if _present(get("este")) or _present(get("norte")):
        if not (_present(get("este")) and _present(get("norte"))):
            return Location(problem="falta la coordenada este o norte (se necesitan ambas)")
        return from_utm(get("este"), get("norte"))
    if _present(get("x")) and _present(get("y")):
        return from_xy(get("x"), get("y"))
    if _present(get("rol")):
        return cadastre.by_rol(get("rol"))
    if _present(get("direccion")):
        return cadastre.by_address(get("direccion"))
    return None
