"""Environmental risk: hazard zones (tsunami, flood, landslide, fire, wetland, pollution)."""

from layers.base import Category, Field, FieldType, GeometryKind, Style, Theme, VectorLayer
from layers.codes import HAZARD_LEVELS

HAZARD_TYPES = (
    "tsunami", "inundación", "remoción en masa", "incendio forestal (interfaz)",
    "humedal protegido", "contaminación portuaria",
)

LAYER = VectorLayer(
    name="hazard_zones",
    title="Zonas de riesgo ambiental",
    description="Áreas expuestas a amenazas naturales y ambientales, con su nivel.",
    theme=Theme.RIESGOS,
    geometry=GeometryKind.MULTIPOLYGON,
    style=Style(color="#fdae61", by="nivel", fill_opacity=0.45, label="tipo", categories=(
        Category("alto", "Nivel alto", "#d7191c"), Category("medio", "Nivel medio", "#fdae61"),
        Category("bajo", "Nivel bajo", "#ffffbf"))),
    fields=(
        Field("tipo", FieldType.TEXT, "Amenaza", required=True, choices=HAZARD_TYPES,
              source=("amenaza",)),
        Field("nivel", FieldType.TEXT, "Nivel", required=True, choices=HAZARD_LEVELS),
        Field("fuente_estudio", FieldType.TEXT, "Estudio de origen", source=("estudio",)),
    ),
)
