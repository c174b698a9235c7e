"""Port terminals of the Puerto San Antonio and the planned expansion area."""

from layers.base import Field, FieldType, GeometryKind, Style, Theme, VectorLayer, categories

LAYER = VectorLayer(
    name="port_terminals",
    title="Terminales portuarios",
    description="Terminales del Puerto San Antonio en operación y el área de expansión "
    "planificada (Puerto Exterior).",
    theme=Theme.PUERTO,
    geometry=GeometryKind.MULTIPOLYGON,
    style=Style(color="#4d5fa3", by="estado", outline="#1a237e", fill_opacity=0.5,
                label="nombre", categories=categories({
                    "en operación": "#4d5fa3", "planificado": "#9fa8da"})),
    search=("nombre",),
    fields=(
        Field("nombre", FieldType.TEXT, "Terminal", required=True, unique=True,
              source=("name",)),
        Field("tipo_carga", FieldType.TEXT, "Tipo de carga", source=("cargo",)),
        Field("estado", FieldType.TEXT, "Estado", required=True,
              choices=("en operación", "planificado"), source=("status",)),
    ),
)
