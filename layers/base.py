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
    labels: tuple[tuple[str, str], ...] = ()
    """Spanish meaning of each code of ``choices`` (e.g. SII destino «H» → habitacional)."""

    def source_names(self) -> tuple[str, ...]:
        return (self.name, *self.source)


@dataclass(frozen=True)
class Category:
    """One value of a styled field, with its Spanish legend label and its colour."""

    value: str
    label: str
    color: str


@dataclass(frozen=True)
class Style:
    """How a vector layer is drawn on every map (MapLibre, folium) and shown in its legend.

    ``by`` names the field whose value picks the colour among ``categories``; features
    with another value take ``color``. ``min_zoom`` hides dense layers at small scales.
    """

    color: str
    by: str | None = None
    categories: tuple[Category, ...] = ()
    fill_opacity: float = 0.55
    outline: str | None = None
    line_width: float = 1.5
    dashed: bool = False
    min_zoom: int = 0
    label: str | None = None
    """Field that names a feature (popup title, search result)."""


def categories(pairs: dict[str, str], labels: dict[str, str] | None = None,
               ) -> tuple[Category, ...]:
    """Categories from ``{value: colour}``; labels default to the value itself."""
    return tuple(Category(v, (labels or {}).get(v, v[:1].upper() + v[1:]), c)
                 for v, c in pairs.items())


@dataclass(frozen=True)
class ColorStop:
    """A raster colour ramp stop: values at or above ``value`` (until the next) blend here."""

    value: float
    color: str


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
    style: Style
    provenance: Provenance = DEMO
    search: tuple[str, ...] = ()
    """Text fields a planner can search by (rol, dirección, código, nombre)."""
    kind: str = field(default="vector", init=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"layer {self.name}: duplicate field names")
        if any(n in ("fid", "geom") for n in names):
            raise ValueError(f"layer {self.name}: 'fid' and 'geom' are reserved")
        for ref in (self.style.by, self.style.label, *self.search):
            if ref is not None and ref not in names:
                raise ValueError(f"layer {self.name}: style/search names unknown field {ref}")

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
    ramp: tuple[ColorStop, ...]
    """Colour ramp of the rendered tiles and the legend, lowest value first."""
    provenance: Provenance = DEMO
    nodata: float = -9999.0
    kind: str = field(default="raster", init=False)


Layer = VectorLayer | RasterLayer
