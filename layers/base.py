"""What a layer is: its fields, geometry, theme and metadata, declared once.

A layer module builds one :class:`VectorLayer` or :class:`RasterLayer`. The declaration
drives the PostGIS table (``gis.schema``), the ingest mapping (``gis.ingest``) and, later,
the API schema and the map legend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

STORAGE_SRID = 32719
"""Every geometry is stored in WGS 84 / UTM zone 19S, metric and suited to central Chile."""


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    DATE = "date"
    BOOLEAN = "boolean"
    TEXT_LIST = "text_list"
    """Several codes in one value; in flat source files written as ``a; b; c``."""


class GeometryKind(StrEnum):
    """Geometry type a layer stores. Single parts are promoted to multi on ingest."""

    POINT = "Point"
    MULTIPOINT = "MultiPoint"
    MULTILINESTRING = "MultiLineString"
    MULTIPOLYGON = "MultiPolygon"
    ANY = "Geometry"
    """Points, lines or polygons (e.g. investment projects)."""


class Theme(StrEnum):
    """Themes of the planners' layer switcher."""

    PLAN_REGULADOR = "Plan Regulador"
    USO_DE_SUELO = "Uso de suelo"
    CATASTRO = "Catastro"
    PUERTO = "Puerto"
    RIESGOS = "Riesgos"
    INVERSION = "Inversión"
    TERRITORIO = "Territorio y población"


@dataclass(frozen=True)
class Field:
    """One attribute of a layer.

    ``source`` lists the column names this field is read from in incoming files, tried in
    order (case-insensitive) after the field's own name. ``choices`` restricts a text
    field (or each item of a list field) to known codes.
    """

    name: str
    type: FieldType
    title: str
    required: bool = False
    unique: bool = False
    source: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    description: str = ""
    normalize: Callable[[str], str | None] | None = None
    """Canonical form of a value, or None when the value is not valid."""
    normalize_hint: str | None = None

    def source_names(self) -> tuple[str, ...]:
        return (self.name, *self.source)


@dataclass(frozen=True)
class Provenance:
    """Default attribution of a layer's data, recorded with every load unless overridden."""

    source: str
    licence: str
    demo: bool = False


DEMO = Provenance(
    source="Datos de demostración generados por la plataforma (generador determinista, "
    "semilla fija); no son datos oficiales de la Municipalidad de San Antonio",
    licence="Sin restricciones (datos sintéticos)",
    demo=True,
)

CHILEMAPAS = Provenance(
    source="INE, Censo 2017 (cartografía de zonas censales y conteos); SUBDERE y BCN "
    "(división político-administrativa); vía paquete R chilemapas 0.3.0. Topología "
    "simplificada, sin precisión geodésica ni validez legal (DFL-83 de 1979)",
    licence="GPL-3 (chilemapas); datos públicos INE/SUBDERE/BCN",
)


@dataclass(frozen=True)
class VectorLayer:
    """A vector layer stored as one PostGIS table in the ``layers`` schema."""

    name: str
    title: str
    description: str
    theme: Theme
    geometry: GeometryKind
    fields: tuple[Field, ...]
    provenance: Provenance = DEMO
    kind: str = field(default="vector", init=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"layer {self.name}: duplicate field names")
        if any(n in ("fid", "geom") for n in names):
            raise ValueError(f"layer {self.name}: 'fid' and 'geom' are reserved")

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class RasterLayer:
    """A raster layer: GeoTIFF files in the data folder, registered in the catalog."""

    name: str
    title: str
    description: str
    theme: Theme
    unit: str
    band_title: str
    provenance: Provenance = DEMO
    nodata: float = -9999.0
    kind: str = field(default="raster", init=False)


Layer = VectorLayer | RasterLayer
