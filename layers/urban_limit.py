"""The urban limit (límite urbano) of the Plan Regulador Comunal."""

from layers.base import Field, FieldType, GeometryKind, Theme, VectorLayer

LAYER = VectorLayer(
    name="urban_limit",
    title="Límite urbano",
    description="Área urbana normada por el Plan Regulador Comunal de San Antonio.",
    theme=Theme.PLAN_REGULADOR,
    geometry=GeometryKind.MULTIPOLYGON,
    fields=(
        Field("nombre", FieldType.TEXT, "Área urbana", required=True, source=("nom",)),
        Field("instrumento", FieldType.TEXT, "Instrumento", source=("instrum",)),
    ),
)
