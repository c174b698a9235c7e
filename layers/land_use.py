"""Current land use (uso de suelo actual) of each area of the comuna."""

from layers.base import Field, FieldType, GeometryKind, Theme, VectorLayer

LAND_USES = (
    "residencial", "comercio", "mixto", "industria", "portuario", "bodegaje y logística",
    "equipamiento educación", "equipamiento salud", "equipamiento seguridad",
    "equipamiento deporte", "equipamiento culto y cultura", "equipamiento servicios",
    "área verde", "sitio eriazo", "infraestructura", "agrícola", "forestal", "humedal",
)

LAYER = VectorLayer(
    name="land_use",
    title="Uso de suelo actual",
    description="Uso actual predominante de cada manzana o área (levantamiento municipal).",
    theme=Theme.USO_DE_SUELO,
    geometry=GeometryKind.MULTIPOLYGON,
    fields=(
        Field("uso", FieldType.TEXT, "Uso actual", required=True, choices=LAND_USES,
              source=("uso_actual",)),
        Field("manzana", FieldType.TEXT, "Manzana SII", source=("mz",)),
        Field("fecha_levantamiento", FieldType.DATE, "Fecha de levantamiento",
              source=("fecha",)),
    ),
)
