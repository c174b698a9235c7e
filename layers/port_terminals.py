"""Port terminals of the Puerto San Antonio and the planned expansion area."""

from layers.base import Field, FieldType, GeometryKind, Theme, VectorLayer

LAYER = VectorLayer(
    name="port_terminals",
    title="Terminales portuarios",
    description="Terminales del Puerto San Antonio en operación y el área de expansión "
    "planificada (Puerto Exterior).",
    theme=Theme.PUERTO,
    geometry=GeometryKind.MULTIPOLYGON,
    fields=(
        Field("nombre", FieldType.TEXT, "Terminal", required=True, unique=True,
              source=("name",)),
        Field("tipo_carga", FieldType.TEXT, "Tipo de carga", source=("cargo",)),
        Field("estado", FieldType.TEXT, "Estado", required=True,
              choices=("en operación", "planificado"), source=("status",)),
    ),
)
