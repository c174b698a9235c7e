"""The urban limit (límite urbano) of the Plan Regulador Comunal."""

from layers.base import Field, FieldType, GeometryKind, Style, Theme, VectorLayer

LAYER = VectorLayer(
    name="urban_limit",
    title="Límite urbano",
    description="Área urbana normada por el Plan Regulador Comunal de San Antonio.",
    theme=Theme.PLAN_REGULADOR,
    geometry=GeometryKind.MULTIPOLYGON,
    style=Style(color="#000000", outline="#b71c1c", fill_opacity=0.0, line_width=2.5,
                dashed=True, label="nombre"),
    fields=(
        Field("nombre", FieldType.TEXT, "Área urbana", required=True, source=("nom",)),
        Field("instrumento", FieldType.TEXT, "Instrumento", source=("instrum",)),
    ),
)
